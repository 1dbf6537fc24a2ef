"""The real-photo path: reading uploads, aligned-crop detection, alignment to FaceWorld's framing, paste-back."""

from __future__ import annotations

import base64
import io

import numpy as np
import PIL.Image
import pytest

from facezoo.assets import load_photo
from facezoo.face.alignment import face_template, transform_points, umeyama_similarity
from facezoo.face.detection import DlibFaceDetector, FaceDetection, NoFaceFoundError
from spaces.faces import (ALIGN_SIZE, DETECT_MAX_SIDE, FACEWORLD_MARGIN, FaceAligner, NoImageError,
                          face_ellipse_mask, is_aligned_crop, read_image)


def test_read_image_forms(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    PIL.Image.fromarray(rgb).save(path)
    buf = io.BytesIO()
    PIL.Image.fromarray(rgb).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    for value in (str(path), {"path": str(path)}, {"path": None, "url": url}, PIL.Image.fromarray(rgb), rgb):
        np.testing.assert_array_equal(read_image(value), rgb)
    for empty in (None, {"path": None, "url": None}):
        with pytest.raises(NoImageError, match="No face B given"):
            read_image(empty, "face B")


def test_aligned_crop_modes():
    small, photo = np.zeros((64, 64, 3), np.uint8), np.zeros((480, 640, 3), np.uint8)
    assert is_aligned_crop(small) and not is_aligned_crop(photo)
    assert not is_aligned_crop(np.zeros((129, 129, 3), np.uint8))
    assert is_aligned_crop(photo, "aligned crop") and not is_aligned_crop(small, "photo")
    with pytest.raises(ValueError, match="input type"):
        is_aligned_crop(small, "maybe")


def test_margin_matches_faceworld_framing():
    """The measured margin maps the ArcFace template onto the mean keypoints of frontal FaceWorld faces, which an
    independent fit on other faces (the validation split's first identities, other scenes) agrees with."""
    import torch

    from facezoo.data.faceworld.world import render_batch, sample_scenes, split_identities
    from facezoo.face.detection import five_points_from_68
    from spaces.world import FaceWorldBrowser

    margin = FaceWorldBrowser(64).alignment_margin()
    ids = [int(i) for i in split_identities("val")[:32]]
    scene = sample_scenes(ids, [(5, 2, i) for i in range(32)])
    scene["pose"].zero_()
    scene["exp_coeffs"].zero_()
    scene["camera"] = torch.tensor([[1.0, 0.0, 0.0]]).repeat(32, 1)
    mean = np.stack([five_points_from_68(lm) for lm in render_batch(scene, 64, keys=("landmarks",))["landmarks"].numpy()]).mean(0)
    template = face_template(64, margin)
    # Same size: the spread of the five points matches within 5%. Same place within 3.5 px at 64 px: FaceWorld's
    # faces sit ~2.5 px above the ArcFace template's centre, an offset a margin alone cannot express.
    spread = lambda p: np.linalg.norm(p - p.mean(0), axis=1).mean()  # noqa: E731
    assert abs(spread(template) / spread(mean) - 1) < 0.05
    assert np.abs(template - mean).max() < 3.5
    assert abs(margin - FACEWORLD_MARGIN) < 0.1, "FaceWorld's framing moved: update FACEWORLD_MARGIN"


def test_photo_alignment_puts_keypoints_on_the_template():
    photo = load_photo("astronaut")
    face = FaceAligner().prepare(photo, "auto")
    assert face.from_photo and face.crop.shape == (ALIGN_SIZE, ALIGN_SIZE, 3)
    keypoints = DlibFaceDetector().detect_largest(photo).keypoints
    landed = transform_points(keypoints, face.aligned.matrix)
    template = face_template(ALIGN_SIZE, FACEWORLD_MARGIN)
    # A least-squares similarity puts the centroids together exactly; single points miss by the face's proportions.
    np.testing.assert_allclose(landed.mean(0), template.mean(0), atol=0.5)
    assert np.abs(landed - template).max() < 8.0


def test_large_photos_are_searched_downscaled():
    """The detector sees at most DETECT_MAX_SIDE pixels; keypoints come back in full-resolution coordinates."""
    seen = []
    true_kp = np.array([[1000, 800], [1200, 800], [1100, 950], [1020, 1050], [1180, 1050]], np.float32)

    class Fake:
        def detect_largest(self, rgb, name=None):
            seen.append(rgb.shape)
            s = rgb.shape[1] / 3000
            return FaceDetection(box=np.array([900, 700, 1300, 1100], np.float32) * s, score=1.0,
                                 landmarks=true_kp * s, keypoints=true_kp * s)

    face = FaceAligner(detector_factory=Fake).prepare(np.zeros((2000, 3000, 3), np.uint8), "auto")
    assert max(seen[0][:2]) == DETECT_MAX_SIDE
    want = umeyama_similarity(true_kp, face_template(ALIGN_SIZE, FACEWORLD_MARGIN))
    np.testing.assert_allclose(face.aligned.matrix, want, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(face.box, [900, 700, 1300, 1100], atol=1e-3)


def test_no_face_found():
    with pytest.raises(NoFaceFoundError, match="No face was found in wall"):
        FaceAligner().prepare(np.full((200, 300, 3), 90, np.uint8), "auto", name="wall")


def test_paste_back_changes_only_the_face_ellipse():
    photo = load_photo("astronaut")
    aligner = FaceAligner()
    face = aligner.prepare(photo)
    out = aligner.paste(face, np.zeros((64, 64, 3), np.uint8))
    mask = face_ellipse_mask(ALIGN_SIZE)
    # Photo pixels whose crop position lies outside the blurred ellipse are exactly the original.
    yy, xx = np.mgrid[0 : photo.shape[0], 0 : photo.shape[1]]
    crop_xy = transform_points(np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32), face.aligned.matrix)
    inside = (crop_xy >= 0).all(1) & (crop_xy < ALIGN_SIZE - 1).all(1)
    m = np.zeros(len(crop_xy), np.float32)
    ci = crop_xy[inside].round().astype(int)
    m[inside] = mask[ci[:, 1], ci[:, 0]]
    outside = (m == 0).reshape(photo.shape[:2])
    np.testing.assert_array_equal(out[outside], photo[outside])
    centre = (m > 0.99).reshape(photo.shape[:2])
    assert centre.sum() > 1000 and out[centre].max() <= 4  # the pasted black face, not the photo
    # A crop input has no photo: the result is returned as it is.
    crop = aligner.prepare(np.zeros((64, 64, 3), np.uint8))
    assert aligner.paste(crop, np.ones((64, 64, 3), np.uint8)).shape == (64, 64, 3)


def test_ellipse_mask_shape():
    mask = face_ellipse_mask(256)
    assert mask.shape == (256, 256) and 0 <= mask.min() and mask.max() <= 1
    assert mask[0, 0] == 0 and mask[255, 255] == 0
    t = face_template(256, FACEWORLD_MARGIN)
    assert all(mask[int(y), int(x)] > 0.99 for x, y in t)  # every keypoint is well inside the pasted region
