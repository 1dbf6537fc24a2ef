"""Faces on screen: model outputs (64 px) enlarged to a readable size, and enlarged faces read back as model crops.

Browsers show an image at its own pixel size, so a 64 px face is a stamp in a 300 px box. The hub enlarges every
face it shows by a whole factor with nearest-neighbour sampling: each model pixel becomes a ``k x k`` block, nothing is
invented or smoothed, and `shrink_enlarged` recovers the model's image exactly. That keeps results comparable pixel
for pixel with direct pipeline calls, and a face sent from one tab to another (or downloaded and uploaded again) is
still recognised as an aligned crop in ``"auto"`` input mode rather than searched for as a photo.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import PIL.Image

#: Faces are shown at least this large (the enlargement factor is the smallest whole number that reaches it).
DISPLAY_SIZE = 256


def display_factor(side: int, target: int = DISPLAY_SIZE) -> int:
    """The whole enlargement factor for an image whose longest side is `side` (1 for images already large)."""
    if side < 1:
        raise ValueError(f"image side must be positive, got {side}")
    return max(1, math.ceil(target / side))


def enlarge(image: Any, target: int = DISPLAY_SIZE) -> PIL.Image.Image:
    """`image` (PIL or ``uint8`` array ``(H, W, 3)``) enlarged `display_factor` times with nearest-neighbour sampling."""
    pil = image if isinstance(image, PIL.Image.Image) else PIL.Image.fromarray(np.asarray(image))
    k = display_factor(max(pil.size), target)
    return pil if k == 1 else pil.resize((pil.width * k, pil.height * k), PIL.Image.Resampling.NEAREST)


def shrink_enlarged(rgb: np.ndarray, target: int = DISPLAY_SIZE) -> np.ndarray:
    """Undo `enlarge` on a square ``(S, S, C)`` array: the ``S / k`` px image when `rgb` is exactly its ``k``-times
    enlargement (with ``k = display_factor(S / k)``), else `rgb` unchanged. The largest matching factor wins."""
    h, w = rgb.shape[:2]
    if h != w:
        return rgb
    for k in range(h // 2, 1, -1):
        if h % k or display_factor(h // k, target) != k:
            continue
        small = rgb[::k, ::k]
        if np.array_equal(np.repeat(np.repeat(small, k, 0), k, 1), rgb):
            return np.ascontiguousarray(small)
    return rgb


__all__ = ["DISPLAY_SIZE", "display_factor", "enlarge", "shrink_enlarged"]
