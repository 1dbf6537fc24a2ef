"""Pixel metrics: hand-computed values and scikit-image's references, with and without masks."""

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from facezoo.eval.metrics import l1, psnr, ssim, ssim_map


def _pair(seed=0, shape=(3, 24, 20)):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    b = np.clip(a + 0.1 * rng.standard_normal(shape), 0, 1)
    return a, b


def test_l1_and_psnr_by_hand():
    x = torch.zeros(1, 1, 2, 2)
    y = torch.tensor([[[[0.1, 0.2], [0.3, 0.4]]]])
    assert l1(x, y) == pytest.approx(0.25)
    mse = (0.01 + 0.04 + 0.09 + 0.16) / 4
    assert psnr(x, y) == pytest.approx(10 * math.log10(1 / mse))
    assert psnr(x, y, data_range=255.0) == pytest.approx(10 * math.log10(255**2 / mse))
    mask = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert l1(x, y, mask=mask) == pytest.approx(0.25)  # (0.1 + 0.4) / 2
    assert psnr(x, y, mask=mask) == pytest.approx(10 * math.log10(1 / ((0.01 + 0.16) / 2)))
    assert psnr(y, y) == math.inf


def test_reduction_none_is_per_image():
    x = torch.zeros(2, 3, 4, 4)
    y = torch.stack([torch.full((3, 4, 4), 0.5), torch.full((3, 4, 4), 0.25)])
    np.testing.assert_allclose(l1(x, y, reduction="none"), [0.5, 0.25])
    assert l1(x, y) == pytest.approx(0.375)
    with pytest.raises(ValueError, match="reduction"):
        l1(x, y, reduction="sum")


def test_psnr_matches_skimage():
    a, b = _pair()
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0), rel=1e-12)


@pytest.mark.parametrize("gaussian", [False, True])
def test_ssim_matches_skimage(gaussian):
    a, b = _pair(1)
    ref = structural_similarity(
        a, b, data_range=1.0, channel_axis=0, gaussian_weights=gaussian, sigma=1.5, use_sample_covariance=not gaussian
    )
    assert ssim(a, b, gaussian_weights=gaussian) == pytest.approx(ref, abs=1e-10)
    # torch batch of two, per-image
    t = torch.from_numpy(np.stack([a, b]))
    per = ssim(t, torch.from_numpy(np.stack([b, b])), reduction="none", gaussian_weights=gaussian)
    assert per[0] == pytest.approx(ref, abs=1e-10) and per[1] == pytest.approx(1.0)


def test_masked_ssim_matches_skimage_full_map():
    a, b = _pair(2, shape=(1, 20, 20))
    _, full = structural_similarity(a[0], b[0], data_range=1.0, full=True)
    mask = np.zeros((20, 20), bool)
    mask[5:15, 2:12] = True
    pad = 3
    expected = full[pad:-pad, pad:-pad][mask[pad:-pad, pad:-pad]].mean()
    assert ssim(a, b, mask=mask) == pytest.approx(expected, abs=1e-10)
    assert ssim_map(a, b).shape == (1, 1, 14, 14)


def test_image_metric_errors():
    a = np.zeros((3, 8, 8))
    with pytest.raises(ValueError, match="same shape"):
        l1(a, np.zeros((3, 8, 9)))
    with pytest.raises(ValueError, match="selects no pixel"):
        psnr(a, a + 0.1, mask=np.zeros((8, 8)))
    with pytest.raises(ValueError, match="win_size"):
        ssim(np.zeros((1, 5, 5)), np.zeros((1, 5, 5)))
