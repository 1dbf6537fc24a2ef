"""Segmentation scores from label maps: per-class precision and IoU, their means, and pixel accuracy.

Predictions and targets are integer label maps of the same shape, e.g. ``(B, H, W)`` (take the ``argmax``
over classes of a parser's logits first). Pixels whose target equals `ignore_index` are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from facezoo.eval._arrays import ArrayLike, as_long, same_shape


def confusion_matrix(pred: ArrayLike, target: ArrayLike, num_classes: int, ignore_index: Optional[int] = None) -> np.ndarray:
    """``(K, K)`` counts, row = target class, column = predicted class."""
    p, t = as_long(pred, "pred"), as_long(target, "target")
    same_shape(p, t, "`pred` and `target`")
    keep = torch.ones_like(t, dtype=torch.bool) if ignore_index is None else t != ignore_index
    p, t = p[keep], t[keep]
    for name, labels in (("pred", p), ("target", t)):
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"`{name}` has labels outside [0, {num_classes - 1}]")
    return torch.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes).numpy()


@dataclass
class SegmentationScores:
    """Per-class ``precision`` and ``iou`` ``(K,)`` (NaN for a class absent from both prediction and target,
    or never predicted for precision), their means over the classes that have a value, and pixel accuracy."""

    precision: np.ndarray
    iou: np.ndarray
    mean_precision: float
    mean_iou: float
    pixel_accuracy: float


def segmentation_scores(
    pred: ArrayLike, target: ArrayLike, num_classes: int, ignore_index: Optional[int] = None
) -> SegmentationScores:
    """Precision ``TP / (TP + FP)`` and IoU ``TP / (TP + FP + FN)`` per class, accumulated over the whole batch."""
    cm = confusion_matrix(pred, target, num_classes, ignore_index).astype(np.float64)
    tp = np.diag(cm)
    predicted, actual = cm.sum(0), cm.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        union = predicted + actual - tp
        iou = np.where(union > 0, tp / union, np.nan)
    total = cm.sum()
    return SegmentationScores(
        precision=precision,
        iou=iou,
        mean_precision=float(np.nanmean(precision)) if np.isfinite(precision).any() else float("nan"),
        mean_iou=float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan"),
        pixel_accuracy=float(tp.sum() / total) if total else float("nan"),
    )


__all__ = ["confusion_matrix", "SegmentationScores", "segmentation_scores"]
