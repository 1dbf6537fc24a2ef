"""Detection, alignment and paste-back on the packaged real photo (dlib models from face-recognition-models)."""

import numpy as np
import pytest
import torch

from facezoo.assets import load_photo, photo_path
from facezoo.face.alignment import (
    ARCFACE_TEMPLATE_112,
    align_face,
    face_template,
    invert_affine,
    transform_points,
    umeyama_similarity,
    warp_tensor,
)
from facezoo.face.detection import (
    DlibFaceDetector,
    NoFaceFoundError,
    dlib_model_path,
    five_points_from_68,
)
from facezoo.face.paste import feathered_mask, paste_back


@pytest.fixture(scope="module")
def photo():
    return load_photo("astronaut")


@pytest.fixture(scope="module")
def face(photo):
    return DlibFaceDetector().detect_largest(photo)


def test_model_files_are_found():
    for role in ("landmarks_68", "landmarks_5", "descriptor"):
        assert dlib_model_path(role).stat().st_size > 1e5
    with pytest.raises(ValueError, match="unknown dlib model"):
        dlib_model_path("nope")


def test_astronaut_face_detected_with_plausible_landmarks(photo, face):
    x0, y0, x1, y1 = face.box
    # Eileen Collins' face sits in the upper middle of the 512x512 photo, about 90 px wide.
    assert 150 < x0 < x1 < 290 and 50 < y0 < y1 < 200 and 60 < x1 - x0 < 140
    assert face.landmarks.shape == (68, 2)
    left_eye, right_eye, nose, mouth_l, mouth_r = face.keypoints
    assert left_eye[0] < nose[0] < right_eye[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])
    inside = (face.landmarks[:, 0] > x0 - 15) & (face.landmarks[:, 0] < x1 + 15)
    assert inside.all()
    # The same photo as a path and as a float tensor gives the same detection.
    again = DlibFaceDetector().detect_largest(photo_path("astronaut"))
    np.testing.assert_allclose(again.keypoints, face.keypoints)
    as_tensor = torch.from_numpy(photo).permute(2, 0, 1).float() / 255
    np.testing.assert_allclose(DlibFaceDetector().detect_largest(as_tensor).keypoints, face.keypoints)


def test_five_point_predictor_agrees_on_eyes(photo, face):
    five = DlibFaceDetector(landmarks="5").detect_largest(photo)
    assert np.isnan(five.keypoints[3:]).all()
    np.testing.assert_allclose(five.keypoints[:2], face.keypoints[:2], atol=4.0)


def test_no_face_raises_clear_error():
    with pytest.raises(NoFaceFoundError, match="No face was found") as info:
        DlibFaceDetector().detect_largest(np.full((120, 160, 3), 128, np.uint8))
    assert isinstance(info.value, ValueError)
    assert DlibFaceDetector().detect(np.zeros((64, 64, 3), np.uint8)) == []


def test_five_points_from_68_indices():
    pts = np.arange(136, dtype=np.float32).reshape(68, 2)
    five = five_points_from_68(pts)
    np.testing.assert_allclose(five[0], pts[36:42].mean(0))
    np.testing.assert_allclose(five[2], pts[30])
    np.testing.assert_allclose(five[4], pts[54])


def test_umeyama_recovers_known_similarity():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ (scale * rot).T + shift
    m = umeyama_similarity(src, dst)
    np.testing.assert_allclose(m[:, :2], scale * rot, atol=1e-4)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-3)
    # NaN rows are ignored; a matrix and its inverse compose to the identity.
    src_nan = src.copy()
    src_nan[3] = np.nan
    np.testing.assert_allclose(umeyama_similarity(src_nan, dst), m, atol=1e-3)
    np.testing.assert_allclose(transform_points(transform_points(src, m), invert_affine(m)), src, atol=1e-3)


def test_template_scales_and_margins():
    np.testing.assert_allclose(face_template(112), ARCFACE_TEMPLATE_112, atol=1e-4)
    np.testing.assert_allclose(face_template(224), ARCFACE_TEMPLATE_112 * 2, atol=1e-4)
    wide = face_template(112, margin=1.0)
    np.testing.assert_allclose(wide - 56, (ARCFACE_TEMPLATE_112 - 56) / 2, atol=1e-4)


@pytest.mark.parametrize("size,margin", [(112, 0.0), (64, 0.5), (128, 0.5), (256, 0.5)])
def test_align_puts_keypoints_on_template(photo, face, size, margin):
    aligned = align_face(photo, face.keypoints, size=size, margin=margin)
    assert aligned.crop.shape == (size, size, 3) and aligned.crop.dtype == np.uint8
    moved = transform_points(face.keypoints, aligned.matrix)
    # Five real keypoints never fit a rigid template exactly; the fit error stays a few % of the crop.
    assert np.abs(moved - face_template(size, margin)).max() < 0.06 * size
    # The crop is mostly skin: its centre is brighter and redder than blue.
    centre = aligned.crop[size // 3: 2 * size // 3, size // 3: 2 * size // 3].reshape(-1, 3).mean(0)
    assert centre[0] > centre[2] + 20


def test_warp_tensor_matches_cv2_and_is_differentiable(photo, face):
    aligned = align_face(photo, face.keypoints, size=112)
    image = (torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255).requires_grad_(True)
    warped = warp_tensor(image, torch.from_numpy(aligned.matrix)[None], (112, 112))
    reference = torch.from_numpy(aligned.crop).permute(2, 0, 1)[None].float() / 255
    assert (warped - reference).abs().max() < 0.01
    warped.mean().backward()
    assert image.grad.abs().sum() > 0


def test_feathered_mask_profile():
    m = feathered_mask(100, feather=0.1, inset=0.02)
    assert m[50, 50] == 1.0 and m[0, 50] == 0.0 and m[1, 50] == 0.0
    assert 0 < m[6, 50] < 1 and m[13, 50] == 1.0
    np.testing.assert_allclose(m, m.T)
    np.testing.assert_allclose(m, m[::-1, ::-1], atol=1e-6)


def test_paste_back_round_trip_and_locality(photo, face):
    aligned = align_face(photo, face.keypoints, size=256, margin=0.5)
    same = paste_back(photo, aligned.crop, aligned)
    assert same.shape == photo.shape and same.dtype == np.uint8
    diff = np.abs(same.astype(int) - photo.astype(int)).max(-1)
    # Re-pasting the unedited crop only blurs by two resamplings.
    x0, y0, x1, y1 = face.box.astype(int)
    assert diff[y0:y1, x0:x1].mean() < 4
    # Pixels the crop's square does not reach are untouched, bit for bit.
    corners = np.array([[0, 0], [255, 0], [255, 255], [0, 255]], np.float32)
    quad = transform_points(corners, aligned.inverse)
    outside = np.ones(photo.shape[:2], bool)
    import cv2

    cv2.fillConvexPoly(outside.view(np.uint8), quad.astype(np.int32), 0)
    assert diff[outside].max() == 0

    edited = paste_back(photo, 255 - aligned.crop, aligned, feather=0.1)
    changed = np.abs(edited.astype(int) - photo.astype(int)).max(-1)
    cx, cy = (face.keypoints[2]).astype(int)
    assert changed[cy, cx] > 100  # the face itself is replaced
    assert changed[outside].max() == 0
    # A crop-space mask restricts the paste: an all-zero mask changes nothing.
    np.testing.assert_array_equal(paste_back(photo, 255 - aligned.crop, aligned, mask=np.zeros((256, 256))), photo)
    with pytest.raises(ValueError, match="aligned in a"):
        paste_back(photo[:100], aligned.crop, aligned)
