"""Feature metrics: Fréchet distance, perceptual distance and diversity against closed-form values."""

import numpy as np
import pytest
import torch

from facezoo.eval.metrics import (
    diversity_score,
    extract_features,
    feature_frechet_distance,
    frechet_distance,
    perceptual_distance,
)


def test_frechet_distance_closed_form():
    # Equal unbiased covariances → only the squared mean difference remains.
    a = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    b = a + np.array([3.0, 4.0])
    assert frechet_distance(a, b) == pytest.approx(25.0, abs=1e-9)
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2 with unbiased variances 1 and 4 (std 1, 2).
    x = np.array([[-1.0], [0.0], [1.0]])  # mean 0, var 1
    y = np.array([[3.0], [5.0], [7.0]])  # mean 5, var 4
    assert frechet_distance(x, y) == pytest.approx(25.0 + 1.0, abs=1e-9)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((500, 3))
    assert frechet_distance(u, u) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="dimension"):
        frechet_distance(u, u[:, :2])


def test_frechet_matches_scipy_sqrtm_on_full_covariances():
    # Independent route: the reference FID formula with scipy's matrix square root of S_a S_b.
    import scipy.linalg

    rng = np.random.default_rng(1)
    u = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 4))
    v = rng.standard_normal((200, 4)) @ rng.standard_normal((4, 4)) + 1.0
    ca, cb = np.cov(u, rowvar=False), np.cov(v, rowvar=False)
    ref = np.sum((u.mean(0) - v.mean(0)) ** 2) + np.trace(ca + cb - 2 * np.real(scipy.linalg.sqrtm(ca @ cb)))
    assert frechet_distance(u, v) == pytest.approx(ref, rel=1e-8)
    # Singular covariances (fewer samples than dimensions) stay finite and non-negative.
    assert 0.0 <= frechet_distance(u[:3], v[:3]) < np.inf


def test_frechet_diagonal_covariances():
    a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0], [0.0, -3.0]])  # var x = 2/3, var y = 6
    b = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # var x = 8/3, var y = 2/3
    expected = (np.sqrt(2 / 3) - np.sqrt(8 / 3)) ** 2 + (np.sqrt(6) - np.sqrt(2 / 3)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, abs=1e-9)


def test_feature_frechet_uses_the_callable_in_batches():
    calls = []

    def feature_fn(x):
        calls.append(len(x))
        return x.mean(dim=(2, 3))

    imgs_a = torch.zeros(5, 2, 4, 4)
    imgs_a[:, 0] = torch.arange(5.0)[:, None, None]
    imgs_b = imgs_a + 1.0
    assert calls == []
    feats = extract_features(imgs_a, feature_fn, batch_size=2)
    assert calls == [2, 2, 1] and feats.shape == (5, 2)
    # shift by 1 in both feature dims, same covariance → 2
    assert feature_frechet_distance(imgs_a, imgs_b, feature_fn, batch_size=2) == pytest.approx(2.0, abs=1e-9)


def test_perceptual_distance_by_hand():
    # Identity "network": features = the image itself, one layer. Pixel vectors over 2 channels.
    x = torch.zeros(1, 2, 1, 2)
    y = torch.zeros(1, 2, 1, 2)
    x[0, :, 0, 0] = torch.tensor([1.0, 0.0])
    y[0, :, 0, 0] = torch.tensor([0.0, 1.0])  # orthogonal → |a-b|^2 = 2
    x[0, :, 0, 1] = torch.tensor([2.0, 0.0])
    y[0, :, 0, 1] = torch.tensor([5.0, 0.0])  # same direction → 0
    assert perceptual_distance(x, y, lambda t: t) == pytest.approx(1.0)
    assert perceptual_distance(x, x, lambda t: t) == 0.0
    # Two layers, weights 1 and 3: second layer is a (B, K) vector (spatial mean)
    fn = lambda t: [t, t.mean(dim=(2, 3))]  # noqa: E731
    # layer 2: means (1.5, 0) vs (2.5, 0.5) → unit (1,0) vs (0.98058, 0.19612) → |d|^2 = 2 - 2*0.98058
    d2 = 2 - 2 * 2.5 / np.hypot(2.5, 0.5)
    assert perceptual_distance(x, y, fn, layer_weights=[1.0, 3.0]) == pytest.approx(1.0 + 3 * d2)
    with pytest.raises(ValueError, match="layer_weights"):
        perceptual_distance(x, y, fn, layer_weights=[1.0])


def test_diversity_score_by_hand():
    f = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    # var of column 0 = 8/3 (population), column 1 = 0 → mean 4/3
    assert diversity_score(f) == pytest.approx(4 / 3)
    assert diversity_score(torch.ones(4, 3)) == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        diversity_score(np.ones((1, 3)))
