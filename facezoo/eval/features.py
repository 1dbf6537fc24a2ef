"""Distribution and perceptual metrics on the features of a network the caller passes in.

facezoo ships no Inception or VGG weights (nothing is downloaded at run time), so these metrics run on
features of our own offline networks — typically the shipped IdentityNet embedding or face-parser feature
maps — given as a callable. The resulting Fréchet distance is NOT comparable with Inception-based FID
numbers in papers, and the perceptual distance is NOT LPIPS: compare them only between models measured
with the same feature network, and always state which one was used.
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Sequence, Union

import numpy as np
import torch

from facezoo.eval._arrays import ArrayLike, as_float64, batched_images, reduce, same_shape

FeatureFn = Callable[[torch.Tensor], Union[torch.Tensor, Sequence[torch.Tensor]]]


@torch.no_grad()
def extract_features(images: ArrayLike, feature_fn: FeatureFn, batch_size: int = 32) -> np.ndarray:
    """Run `feature_fn` over ``(N, C, H, W)`` images in batches → ``(N, D)`` float64 features (flattened)."""
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    if x.ndim != 4:
        raise ValueError(f"`images` must be (N, C, H, W), got shape {tuple(x.shape)}")
    out = [torch.as_tensor(feature_fn(x[i : i + batch_size])).flatten(1).double().cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(features_a: ArrayLike, features_b: ArrayLike) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(N, D)`` and ``(M, D)``:
    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with unbiased covariances.

    ``Tr((S_a S_b)^(1/2))`` is computed as the sum of the square roots of the eigenvalues of the symmetric
    ``S_a^(1/2) S_b S_a^(1/2)`` (same spectrum), which stays exact when the covariances are singular (fewer
    samples than dimensions) without the reference FID code's ``eps`` offset. See the module docstring: not
    comparable with Inception FID.
    """
    a, b = as_float64(features_a, "features_a", (2,)).numpy(), as_float64(features_b, "features_b", (2,)).numpy()
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must share their dimension, got {a.shape[1]} and {b.shape[1]}")
    if min(len(a), len(b)) < 2:
        raise ValueError("each feature set needs at least 2 samples to estimate a covariance")
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum()
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt)


def feature_frechet_distance(
    images_a: ArrayLike, images_b: ArrayLike, feature_fn: FeatureFn, batch_size: int = 32
) -> float:
    """`frechet_distance` between the `feature_fn` features of two image sets ``(N, C, H, W)``."""
    return frechet_distance(
        extract_features(images_a, feature_fn, batch_size), extract_features(images_b, feature_fn, batch_size)
    )


def _as_maps(features) -> List[torch.Tensor]:
    maps = [features] if isinstance(features, torch.Tensor) else list(features)
    out = []
    for f in maps:
        f = f.double()
        out.append(f[:, :, None, None] if f.ndim == 2 else f)
    return out


@torch.no_grad()
def perceptual_distance(
    x: ArrayLike,
    y: ArrayLike,
    feature_fn: FeatureFn,
    layer_weights: Optional[Iterable[float]] = None,
    reduction: str = "mean",
    eps: float = 1e-10,
):
    """LPIPS-style distance on the features of `feature_fn` (a learned network's layers, not LPIPS's weights).

    `feature_fn` maps images ``(B, C, H, W)`` to one feature tensor or a list of them (``(B, K, h, w)`` maps or
    ``(B, K)`` vectors). Each feature is unit-normalised over its channels; the distance is the squared
    difference summed over channels, averaged over positions, and summed over layers with `layer_weights`
    (default: the mean over layers). 0 for identical images; at most 4 per layer.
    """
    tx, ty = batched_images(x, "x"), batched_images(y, "y")
    same_shape(tx, ty, "`x` and `y`")
    # Networks run in float32; only the metric arithmetic is float64.
    fx, fy = _as_maps(feature_fn(tx.float())), _as_maps(feature_fn(ty.float()))
    weights = list(layer_weights) if layer_weights is not None else [1.0 / len(fx)] * len(fx)
    if len(weights) != len(fx):
        raise ValueError(f"`layer_weights` has {len(weights)} entries for {len(fx)} feature layers")
    total = torch.zeros(tx.shape[0], dtype=torch.float64)
    for w, a, b in zip(weights, fx, fy):
        a = a / (a.norm(dim=1, keepdim=True) + eps)
        b = b / (b.norm(dim=1, keepdim=True) + eps)
        total += w * ((a - b) ** 2).sum(1).flatten(1).mean(1)
    return reduce(total, reduction)


def diversity_score(features: ArrayLike) -> float:
    """FaceFeat-GAN's diversity: the average, over entries, of the variance of each entry of generated feature
    vectors ``(N, D)`` (population variance over the N samples). Higher means more diverse."""
    f = as_float64(features, "features", (2,))
    if f.shape[0] < 2:
        raise ValueError("`features` needs at least 2 samples")
    return float(f.var(dim=0, unbiased=False).mean())


__all__ = [
    "extract_features",
    "frechet_distance",
    "feature_frechet_distance",
    "perceptual_distance",
    "diversity_score",
]
