"""Input coercion: every accepted form gives the same tensor; every rejected form names the argument."""

import io

import numpy as np
import PIL.Image
import pytest
import torch

from facezoo.utils.images import load_image, postprocess, to_image_tensor


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)


def test_pil_numpy_torch_agree(rgb):
    ref = torch.from_numpy(rgb).permute(2, 0, 1).float()[None] / 255.0
    for item in (PIL.Image.fromarray(rgb), rgb, rgb.astype(np.float32) / 255.0, torch.from_numpy(rgb).permute(2, 0, 1)):
        out = to_image_tensor(item)
        assert out.shape == (1, 3, 12, 10) and out.dtype == torch.float32
        torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)


def test_batches_and_lists(rgb):
    batch = np.stack([rgb, rgb[::-1]])
    assert to_image_tensor(batch).shape == (2, 3, 12, 10)
    assert to_image_tensor([rgb, PIL.Image.fromarray(rgb)]).shape == (2, 3, 12, 10)
    assert to_image_tensor(torch.from_numpy(batch).permute(0, 3, 1, 2)).shape == (2, 3, 12, 10)


def test_gray_and_rgba(rgb):
    gray = to_image_tensor(PIL.Image.fromarray(rgb).convert("L"))
    assert gray.shape == (1, 3, 12, 10) and torch.equal(gray[:, 0], gray[:, 1])
    rgba = np.dstack([rgb, np.zeros((12, 10), np.uint8)])  # fully transparent → white
    assert torch.allclose(to_image_tensor(PIL.Image.fromarray(rgba, "RGBA")), torch.ones(1, 3, 12, 10))
    assert torch.allclose(to_image_tensor(rgba), torch.ones(1, 3, 12, 10))


def test_exif_orientation_is_applied(tmp_path, rgb):
    img = PIL.Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif, quality=100)
    assert to_image_tensor(str(path)).shape == (1, 3, 10, 12)


def test_resize(rgb):
    assert to_image_tensor([rgb, rgb[:6]], size=8).shape == (2, 3, 8, 8)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("not an image at all", "no such image file"),
        (np.zeros((4, 4, 2), np.uint8), "2 channels"),
        (np.zeros((4, 4, 3), np.int64), "dtype int64"),
        (np.full((4, 4, 3), 3.0, np.float32), "values in"),
        (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
        (torch.zeros(1, 1, 1, 1, 1), "shape"),
        ({"image": 1}, "is a dict"),
        ([], "empty list"),
        (PIL.Image.new("I", (4, 4)), "mode 'I'"),
    ],
)
def test_bad_inputs_name_the_argument(bad, message):
    with pytest.raises(ValueError, match=message) as err:
        to_image_tensor(bad, name="identity_image")
    assert "identity_image" in str(err.value)


def test_mixed_sizes_without_size_are_refused(rgb):
    with pytest.raises(ValueError, match="share one size"):
        to_image_tensor([rgb, rgb[:6]])


def test_corrupt_file(tmp_path):
    path = tmp_path / "broken.png"
    buf = io.BytesIO()
    PIL.Image.new("RGB", (8, 8)).save(buf, "PNG")
    path.write_bytes(buf.getvalue()[:30])
    with pytest.raises(ValueError, match="not a readable image"):
        load_image(path)


def test_postprocess_types():
    x = torch.linspace(-1, 1, 2 * 3 * 4 * 4).view(2, 3, 4, 4)
    pt = postprocess(x, "pt")
    assert pt.min() == 0 and pt.max() == 1
    npy = postprocess(x, "np")
    assert npy.shape == (2, 4, 4, 3) and np.allclose(npy, pt.permute(0, 2, 3, 1).numpy())
    pil = postprocess(x, "pil")
    assert len(pil) == 2 and pil[0].size == (4, 4)
    assert np.abs(np.asarray(pil[1]) / 255.0 - npy[1]).max() <= 0.5 / 255 + 1e-6
    with pytest.raises(ValueError, match="output_type"):
        postprocess(x, "jpg")
