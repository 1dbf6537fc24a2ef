"""Landmark error: normalised mean error (NME) of predicted face landmarks.

Landmarks are ``(B, P, 2)`` or ``(P, 2)`` pixel coordinates (x, y), torch or numpy. For the 68-point
(iBUG 300-W) convention the inter-ocular distance is measured between the outer eye corners, points 36 and 45
(0-based); other layouts pass their own `eye_indices`.
"""

from __future__ import annotations

from typing import Tuple

import torch

from facezoo.eval._arrays import ArrayLike, as_float64, reduce, same_shape

OUTER_EYE_CORNERS_68 = (36, 45)


def normalizing_distance(target: torch.Tensor, normalization: str, eye_indices: Tuple[int, int]) -> torch.Tensor:
    """Per-face normaliser from the ground-truth landmarks ``(B, P, 2)``.

    ``"inter_ocular"``: distance between the two `eye_indices` points. ``"bbox"``: ``sqrt(w * h)`` of the
    ground-truth landmarks' bounding box (the bounding-box normalisation of Bulat & Tzimiropoulos, 2017).
    """
    if normalization == "inter_ocular":
        i, j = eye_indices
        if max(i, j) >= target.shape[1]:
            raise ValueError(f"`eye_indices` {eye_indices} out of range for {target.shape[1]} landmarks")
        return (target[:, i] - target[:, j]).norm(dim=-1)
    if normalization == "bbox":
        size = target.amax(dim=1) - target.amin(dim=1)
        return (size[:, 0] * size[:, 1]).sqrt()
    raise ValueError(f"`normalization` must be 'inter_ocular' or 'bbox', got {normalization!r}")


def landmark_nme(
    pred: ArrayLike,
    target: ArrayLike,
    normalization: str = "inter_ocular",
    eye_indices: Tuple[int, int] = OUTER_EYE_CORNERS_68,
    reduction: str = "mean",
):
    """Mean point-to-point Euclidean error of each face divided by its normaliser (see `normalizing_distance`).

    Returns a fraction (multiply by 100 for the usual percent figures).
    """
    p, t = as_float64(pred, "pred", (2, 3)), as_float64(target, "target", (2, 3))
    same_shape(p, t, "`pred` and `target`")
    if p.ndim == 2:
        p, t = p[None], t[None]
    if p.shape[-1] != 2:
        raise ValueError(f"landmarks must be (B, P, 2) coordinates, got shape {tuple(p.shape)}")
    d = normalizing_distance(t, normalization, eye_indices)
    if (d <= 0).any():
        raise ValueError("a ground-truth face has a zero normalising distance")
    return reduce((p - t).norm(dim=-1).mean(dim=1) / d, reduction)


__all__ = ["OUTER_EYE_CORNERS_68", "normalizing_distance", "landmark_nme"]
