"""Input coercion shared by the metric modules: torch tensors or numpy arrays in, float64 tensors out.

Metrics compute in float64 so that they agree with scikit-image/scipy references to ~1e-10 and so that
accumulating over a large evaluation set does not lose precision.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence[float]]


def as_float64(x: ArrayLike, name: str, ndims: Sequence[int] = ()) -> torch.Tensor:
    """`x` as a float64 CPU tensor, raising a `ValueError` naming `name` when its rank is not in `ndims`."""
    if isinstance(x, torch.Tensor):
        t = x.detach().to("cpu", torch.float64)
    else:
        try:
            t = torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError) as err:
            raise ValueError(f"`{name}` must be a torch tensor or numpy array of numbers ({err})") from err
    if ndims and t.ndim not in ndims:
        raise ValueError(f"`{name}` must have {' or '.join(map(str, ndims))} dimensions, got shape {tuple(t.shape)}")
    return t


def as_long(x: ArrayLike, name: str) -> torch.Tensor:
    """`x` as an int64 CPU tensor (label maps, identity labels)."""
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.is_floating_point() or t.is_complex():
        raise ValueError(f"`{name}` must hold integer labels, got dtype {t.dtype}")
    return t.long()


def same_shape(a: torch.Tensor, b: torch.Tensor, names: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def batched_images(x: ArrayLike, name: str) -> torch.Tensor:
    """An image ``(C, H, W)`` or a batch ``(B, C, H, W)`` → float64 ``(B, C, H, W)``."""
    t = as_float64(x, name, (3, 4))
    return t[None] if t.ndim == 3 else t


def batched_mask(mask: ArrayLike, like: torch.Tensor, name: str = "mask") -> torch.Tensor:
    """A mask ``(H, W)``, ``(B, H, W)``, ``(B, 1, H, W)`` or ``(B, C, H, W)`` broadcast to `like` ``(B, C, H, W)``.

    Masks are weights in [0, 1] (a boolean mask is the common case); 1 means "this pixel counts".
    """
    m = as_float64(mask, name, (2, 3, 4))
    if m.ndim == 2:
        m = m[None, None]
    elif m.ndim == 3:
        m = m[:, None] if m.shape[0] == like.shape[0] and m.shape[1:] == like.shape[2:] else m[None]
    try:
        return m.expand_as(like)
    except RuntimeError as err:
        raise ValueError(f"`{name}` of shape {tuple(mask.shape)} does not broadcast to images {tuple(like.shape)}") from err


def reduce(values: torch.Tensor, reduction: str):
    """``"mean"`` → a Python float; ``"none"`` → a numpy array with one value per item."""
    if reduction == "mean":
        return float(values.mean())
    if reduction == "none":
        return values.numpy()
    raise ValueError(f"`reduction` must be 'mean' or 'none', got {reduction!r}")
