"""Every endpoint of the hub, called over HTTP with gradio_client: valid inputs give images of the right size and
the right content; every kind of bad input gives its message, and the app keeps serving."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import torch

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from spaces.display import enlarge  # noqa: E402

TINY = 16  # image size of the tiny pipeline
SHOWN = 256  # faces are shown enlarged 16x (whole-factor nearest neighbour, see spaces.display)


def _shown(image) -> np.ndarray:
    """What the hub shows for a model output: the same enlargement, so comparisons stay pixel for pixel."""
    return np.asarray(enlarge(np.asarray(image)))


@pytest.fixture(scope="module")
def client(hub_url):
    return Client(hub_url, verbose=False)


def _img(path) -> np.ndarray:
    with PIL.Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _gallery(result) -> list:
    return [_img(item["image"]) for item in result]


def test_every_event_has_an_api_name(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert names == {"/synthesize", "/frontalize", "/interpolate", "/sweep", "/scrub", "/render_faceworld"}


def test_synthesize_faceworld_crop_matches_the_pipeline(client, hub_context):
    face = hub_context.examples.faceworld[0]
    gallery, aligned, status = client.predict(handle_file(face), "auto", 20, -10, "happiness", False, 3, 3,
                                              api_name="/synthesize")
    images = _gallery(gallery)
    assert [im.shape for im in images] == [(SHOWN, SHOWN, 3)] * 3
    # A small square FaceWorld crop skips detection: the model sees the file itself (shown 4x: 64 → 256 px).
    np.testing.assert_array_equal(_img(aligned), _shown(_img(face)))
    assert "aligned face crop" in status
    # Same result as calling the pipeline directly with the same features (PNG transport is lossless).
    pipe = hub_context.models.pipeline("facefeat")
    f1 = pipe.pose_expression_feature(yaw=20, pitch=-10, expression="happiness")
    ref = pipe(identity_image=_img(face), num_images_per_identity=3, generator=torch.Generator().manual_seed(3),
               pose_expression_features=f1).images
    for got, want in zip(images, ref):
        np.testing.assert_array_equal(got, _shown(want))
        np.testing.assert_array_equal(got[::16, ::16], np.asarray(want))  # every model pixel, none invented


def test_synthesize_seed_controls_sampled_poses(client, hub_context):
    face = handle_file(hub_context.examples.faceworld[1])
    a = _gallery(client.predict(face, "aligned crop", 0, 0, "neutral", True, 5, 2, api_name="/synthesize")[0])
    b = _gallery(client.predict(face, "aligned crop", 0, 0, "neutral", True, 5, 2, api_name="/synthesize")[0])
    c = _gallery(client.predict(face, "aligned crop", 0, 0, "neutral", True, 6, 2, api_name="/synthesize")[0])
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
    assert np.abs(np.stack(a).astype(int) - np.stack(c)).max() > 0


def test_synthesize_real_photo_is_detected_and_aligned(client, hub_context):
    from spaces.faces import ALIGN_SIZE

    gallery, aligned, status = client.predict(handle_file(hub_context.examples.photos[0]), "auto", 0, 0, "neutral",
                                              False, 0, 1, api_name="/synthesize")
    assert _gallery(gallery)[0].shape == (SHOWN, SHOWN, 3)
    assert _img(aligned).shape == (ALIGN_SIZE, ALIGN_SIZE, 3)  # already large: shown as it is
    assert "face found" in status


def test_frontalize_photo_pastes_back_only_inside_the_face(client, hub_context):
    photo_path = hub_context.examples.photos[0]
    frontal, pasted, status = client.predict(handle_file(photo_path), "auto", "neutral", api_name="/frontalize")
    assert _img(frontal).shape == (SHOWN, SHOWN, 3)
    photo, out = _img(photo_path), _img(pasted)
    assert out.shape == photo.shape
    changed = np.argwhere((out != photo).any(-1))
    assert len(changed) > 100
    # The astronaut's face box is about (175, 76)-(265, 166): changes stay around it, the rest is bit-exact.
    (y0, x0), (y1, x1) = changed.min(0), changed.max(0)
    assert 120 < x0 and x1 < 320 and 20 < y0 and y1 < 230, (x0, y0, x1, y1)
    assert "pasted back" in status


def test_frontalize_crop_has_no_paste_back(client, hub_context):
    frontal, pasted, _ = client.predict(handle_file(hub_context.examples.faceworld[2]), "auto", "neutral",
                                        api_name="/frontalize")
    assert _img(frontal).shape == (SHOWN, SHOWN, 3)
    assert pasted is None


def test_interpolate_strip_gif_and_scrub(client, hub_context):
    fw = hub_context.examples.faceworld
    gallery, gif, slider, frame, status = client.predict(handle_file(fw[0]), handle_file(fw[1]), "auto",
                                                         "identity (A → B)", 5, 0, 10, api_name="/interpolate")
    frames = _gallery(gallery)
    assert [f.shape for f in frames] == [(SHOWN, SHOWN, 3)] * 5
    pipe = hub_context.models.pipeline("facefeat")
    ref = pipe.interpolate(_img(fw[0]), _img(fw[1]), steps=5, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(np.stack(frames), np.stack([_shown(r) for r in ref]))
    with PIL.Image.open(gif) as im:
        assert im.size == (SHOWN, SHOWN) and im.n_frames == 8  # 5 forward + 3 back, a seamless loop
        assert im.info["duration"] == 100
    assert slider["maximum"] == 4
    # The scrubber reads this session's strip from gr.State.
    np.testing.assert_array_equal(_img(client.predict(3, api_name="/scrub")), frames[3])


@pytest.mark.parametrize("feature", ["pose & expression (A's → B's)", "light & background (A's → B's)"])
def test_interpolate_other_features(client, hub_context, feature):
    fw = hub_context.examples.faceworld
    gallery = client.predict(handle_file(fw[2]), handle_file(fw[3]), "auto", feature, 3, 0, 8, api_name="/interpolate")[0]
    frames = _gallery(gallery)
    assert len(frames) == 3 and frames[0].shape == (SHOWN, SHOWN, 3)


def test_sweep_one_identity(client, hub_context):
    face = hub_context.examples.faceworld[0]
    gallery, gif, slider, frame, status = client.predict(handle_file(face), "auto", -30, 30, 0, 0, "neutral",
                                                         "happiness", 4, 8, api_name="/sweep")
    frames = _gallery(gallery)
    assert len(frames) == 4
    pipe = hub_context.models.pipeline("facefeat")
    enc = pipe.encode(_img(face))
    for k, (yaw, exp) in {0: (-30, "neutral"), 3: (30, "happiness")}.items():
        want = pipe(identity_embedding=enc.identity, general_features=enc.general,
                    pose_expression_features=pipe.pose_expression_feature(yaw=yaw, expression=exp)).images[0]
        np.testing.assert_allclose(frames[k].astype(int), _shown(want).astype(int), atol=1)


def test_render_faceworld_matches_the_world(client, hub_context):
    from spaces.world import FaceWorldScene

    image, status = client.predict(5, 30, -10, "surprise", "medical_mask", 2, api_name="/render_faceworld")
    want = hub_context.world.render_one(FaceWorldScene(5, 30.0, -10.0, "surprise", "medical_mask", 2))
    assert want.shape == (64, 64, 3) and _img(image).shape == (SHOWN, SHOWN, 3)
    np.testing.assert_array_equal(_img(image), _shown(want))
    assert "medical_mask" in status


def test_a_shown_faceworld_face_is_used_as_its_crop(client, hub_context):
    """Sending (or downloading and re-uploading) an enlarged face gives the model the 64 px crop, not a photo search."""
    from spaces.world import FaceWorldScene

    image, _ = client.predict(7, 20, 0, "happiness", "none", 1, api_name="/render_faceworld")
    gallery, aligned, status = client.predict(handle_file(image), "auto", 0, 0, "neutral", False, 2, 1,
                                              api_name="/synthesize")
    assert "aligned face crop (64x64)" in status
    crop = hub_context.world.render_one(FaceWorldScene(7, 20.0, 0.0, "happiness", "none", 1))
    np.testing.assert_array_equal(_img(aligned), _shown(crop))
    pipe = hub_context.models.pipeline("facefeat")
    want = pipe(identity_image=crop, generator=torch.Generator().manual_seed(2),
                pose_expression_features=pipe.pose_expression_feature(yaw=0, pitch=0, expression="neutral")).images[0]
    np.testing.assert_array_equal(_gallery(gallery)[0], _shown(want))


# ------------------------------------------------------------------------------------------------------ bad input
def _error(client, *args, api_name="/synthesize") -> str:
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    return str(info.value)


def _synth_args(image):
    return (image, "auto", 0, 0, "neutral", False, 0, 1)


def test_missing_image(client):
    assert "No identity image given" in _error(client, *_synth_args(None))


def test_not_an_image(client, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is text, not a picture")
    assert "notes.png' is not a readable image file" in _error(client, *_synth_args(handle_file(str(path))))


def test_corrupt_image(client, tmp_path, hub_context):
    data = open(hub_context.examples.photos[0], "rb").read()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 3])  # a truncated upload
    assert "cut.png' is not a readable image file" in _error(client, *_synth_args(handle_file(str(path))))


def test_image_with_too_many_pixels(client, tmp_path):
    path = tmp_path / "huge.png"
    PIL.Image.new("L", (8000, 6000)).save(path)  # 48 Mpx in a few kB: refused before decoding
    assert "larger than the 40000000 pixel limit" in _error(client, *_synth_args(handle_file(str(path))))


def test_file_over_the_upload_limit(client, tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(np.random.default_rng(0).bytes(11 * 1024 * 1024))
    with pytest.raises(Exception, match="(?i)too large|exceeds|maximum"):
        client.predict(*_synth_args(handle_file(str(path))), api_name="/synthesize")


def test_no_face_found(client, tmp_path):
    path = tmp_path / "wall.png"
    PIL.Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(path)
    assert "No face was found" in _error(client, *_synth_args(handle_file(str(path))))
    # Forcing photo mode on a small square image searches it for a face too.
    assert "No face was found" in _error(client, handle_file(str(path)), "photo", "neutral", api_name="/frontalize")


def test_bad_settings(client, hub_context):
    face = handle_file(hub_context.examples.faceworld[0])
    assert "unknown expression 'rage'" in _error(client, face, "auto", 0, 0, "rage", False, 0, 1)
    fw = hub_context.examples.faceworld
    msg = _error(client, handle_file(fw[0]), None, "auto", "identity (A → B)", 4, 0, 8, api_name="/interpolate")
    assert "No face B given" in msg
    # Sliders check their bounds in gradio before the app runs; the message still says what is wrong.
    assert "greater than maximum value 999" in _error(client, 5000, 0, 0, "neutral", "none", 0, api_name="/render_faceworld")
    assert "hat is not in the list of choices" in _error(client, 5, 0, 0, "neutral", "hat", 0, api_name="/render_faceworld")


def test_app_keeps_serving_after_errors(client, hub_context):
    _error(client, *_synth_args(None))
    gallery = client.predict(*_synth_args(handle_file(hub_context.examples.faceworld[0])), api_name="/synthesize")[0]
    assert len(gallery) == 1
