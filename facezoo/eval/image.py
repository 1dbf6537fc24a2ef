"""Pixel metrics between two image batches: L1, PSNR and SSIM, each with an optional mask.

Images are ``(B, C, H, W)`` or ``(C, H, W)``, torch or numpy, with values in ``[0, data_range]`` (facezoo
pipelines return ``[0, 1]`` with ``output_type="pt"``, so ``data_range=1.0`` is the default). A mask is
``(H, W)``, ``(B, H, W)``, ``(B, 1, H, W)`` or ``(B, C, H, W)`` of weights in ``[0, 1]``; masked metrics
average over the pixels where it is non-zero (e.g. the face region of a parsing map). Each image gets its own
value; ``reduction="mean"`` averages them into a float, ``"none"`` returns them as a ``(B,)`` array.

PSNR and SSIM follow scikit-image's ``peak_signal_noise_ratio`` and ``structural_similarity`` (default
arguments, ``channel_axis`` over C) and agree with them to float64 precision on a single image.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from facezoo.eval._arrays import ArrayLike, batched_images, batched_mask, reduce, same_shape


def _pair(x: ArrayLike, y: ArrayLike):
    tx, ty = batched_images(x, "x"), batched_images(y, "y")
    same_shape(tx, ty, "`x` and `y`")
    return tx, ty


def _masked_mean(values: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """Per-image mean of ``(B, ...)`` values, weighted by `mask` when given."""
    if mask is None:
        return values.flatten(1).mean(1)
    weight = mask.flatten(1).sum(1)
    if (weight <= 0).any():
        raise ValueError("`mask` selects no pixel in at least one image")
    return (values * mask).flatten(1).sum(1) / weight


def l1(x: ArrayLike, y: ArrayLike, mask: Optional[ArrayLike] = None, reduction: str = "mean"):
    """Mean absolute difference per image (over the masked pixels and all channels)."""
    tx, ty = _pair(x, y)
    m = batched_mask(mask, tx) if mask is not None else None
    return reduce(_masked_mean((tx - ty).abs(), m), reduction)


def psnr(
    x: ArrayLike, y: ArrayLike, data_range: float = 1.0, mask: Optional[ArrayLike] = None, reduction: str = "mean"
):
    """Peak signal-to-noise ratio per image, ``10 log10(data_range^2 / MSE)`` in dB (``inf`` for identical images)."""
    tx, ty = _pair(x, y)
    m = batched_mask(mask, tx) if mask is not None else None
    mse = _masked_mean((tx - ty) ** 2, m)
    return reduce(10.0 * torch.log10(data_range**2 / mse), reduction)


def _window(win_size: int, gaussian: bool, sigma: float) -> torch.Tensor:
    if gaussian:
        r = torch.arange(win_size, dtype=torch.float64) - (win_size - 1) / 2
        g = torch.exp(-0.5 * (r / sigma) ** 2)
        g = g / g.sum()
    else:
        g = torch.full((win_size,), 1.0 / win_size, dtype=torch.float64)
    return g[:, None] * g[None, :]


def ssim_map(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = 1.0,
    win_size: Optional[int] = None,
    gaussian_weights: bool = False,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """The local SSIM of each channel, ``(B, C, H - win + 1, W - win + 1)``: scikit-image's full SSIM map with the
    ``(win - 1) / 2`` border that it excludes from the mean already cropped.

    As in scikit-image: a 7x7 uniform window with sample covariances by default; with ``gaussian_weights=True``
    a Gaussian window of ``sigma`` truncated at 3.5 sigma (11x11 for sigma 1.5) and population covariances.
    """
    tx, ty = _pair(x, y)
    if win_size is None:
        win_size = 2 * int(3.5 * sigma + 0.5) + 1 if gaussian_weights else 7
    if win_size % 2 == 0 or win_size > min(tx.shape[-2:]):
        raise ValueError(f"`win_size` must be odd and at most the image side {min(tx.shape[-2:])}, got {win_size}")
    c = tx.shape[1]
    kernel = _window(win_size, gaussian_weights, sigma).expand(c, 1, win_size, win_size)

    def local_mean(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel, groups=c)

    n = win_size * win_size
    cov_norm = 1.0 if gaussian_weights else n / (n - 1.0)
    ux, uy = local_mean(tx), local_mean(ty)
    vx = cov_norm * (local_mean(tx * tx) - ux * ux)
    vy = cov_norm * (local_mean(ty * ty) - uy * uy)
    vxy = cov_norm * (local_mean(tx * ty) - ux * uy)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    return ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))


def ssim(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = 1.0,
    mask: Optional[ArrayLike] = None,
    reduction: str = "mean",
    win_size: Optional[int] = None,
    gaussian_weights: bool = False,
    sigma: float = 1.5,
):
    """Mean structural similarity per image (see `ssim_map` for the window options).

    With a mask, the SSIM map is averaged over the windows whose centre pixel is in the mask (the mask is
    cropped by the same border as the map).
    """
    tx, _ = _pair(x, y)
    smap = ssim_map(x, y, data_range, win_size, gaussian_weights, sigma)
    m = None
    if mask is not None:
        pad_h, pad_w = (tx.shape[-2] - smap.shape[-2]) // 2, (tx.shape[-1] - smap.shape[-1]) // 2
        full = batched_mask(mask, tx)
        m = full[..., pad_h : pad_h + smap.shape[-2], pad_w : pad_w + smap.shape[-1]]
    return reduce(_masked_mean(smap, m), reduction)


__all__ = ["l1", "psnr", "ssim", "ssim_map"]
