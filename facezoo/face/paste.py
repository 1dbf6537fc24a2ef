"""Paste an edited face crop back into its photo with a feathered mask (the inverse of `align_face`).

The crop is warped back with the inverse similarity; a soft mask (1 in the middle of the crop, falling to 0 over a
feather band at its border) is warped the same way, so the edit blends into the photo without a visible seam and
pixels outside the face's square stay exactly the original.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from facezoo.face.alignment import AlignedFace


def feathered_mask(size: int, feather: float = 0.1, inset: float = 0.02) -> np.ndarray:
    """A ``(size, size)`` float32 mask in ``[0, 1]``: 1 inside, a smooth ramp of width ``feather * size`` at the edge.

    Args:
        size (`int`): side of the crop.
        feather (`float`, *optional*, defaults to 0.1): ramp width as a fraction of the crop.
        inset (`float`, *optional*, defaults to 0.02): zero band at the very border, so bilinear resampling of the
            crop edge (which mixes in border-replicated pixels) never shows.
    """
    if not 0 <= feather < 0.5 or not 0 <= inset < 0.5:
        raise ValueError(f"feather and inset must be in [0, 0.5), got {feather}, {inset}")
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size
    # Distance to the nearest border, in crop fractions, then a smoothstep ramp from `inset` to `inset + feather`.
    dist = np.minimum(coords, 1.0 - coords)
    dist = np.minimum(dist[:, None], dist[None, :])
    if feather == 0:
        return (dist >= inset).astype(np.float32)
    t = np.clip((dist - inset) / feather, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def paste_back(
    image: np.ndarray,
    crop: np.ndarray,
    aligned: AlignedFace,
    mask: Optional[np.ndarray] = None,
    feather: float = 0.1,
) -> np.ndarray:
    """Blend `crop` (an edited version of ``aligned.crop``) back into `image`.

    Args:
        image (`np.ndarray` of shape `(H, W, C)`): the original photo (``uint8`` or float).
        crop (`np.ndarray` of shape `(S, S, C)`): the crop to paste; any size (resized to ``aligned.size``).
        aligned (`AlignedFace`): what `align_face` returned for `image`.
        mask (`np.ndarray` of shape `(S, S)`, *optional*): where to paste, in crop space (e.g. a face parser's mask);
            multiplied with the feathered border mask.
        feather (`float`, *optional*, defaults to 0.1): width of the soft border, as a fraction of the crop.

    Returns:
        `np.ndarray`: the photo with the face replaced, same shape and dtype as `image`.
    """
    image = np.asarray(image)
    if tuple(image.shape[:2]) != tuple(aligned.image_size):
        raise ValueError(f"image is {image.shape[:2]} but the face was aligned in a {aligned.image_size} image")
    size = aligned.size
    crop = np.asarray(crop)
    if crop.shape[:2] != (size, size):
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR)
    soft = feathered_mask(size, feather)
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float32)
        if mask.shape != (size, size):
            mask = cv2.resize(mask, (size, size), interpolation=cv2.INTER_LINEAR)
        soft = soft * np.clip(mask, 0.0, 1.0)
    h, w = aligned.image_size
    back = cv2.warpAffine(crop.astype(np.float32), aligned.inverse, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(soft, aligned.inverse, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=0.0)
    if back.ndim == 2:
        back = back[..., None]
    alpha = alpha[..., None]
    out = alpha * back.reshape(h, w, -1) + (1.0 - alpha) * image.astype(np.float32).reshape(h, w, -1)
    out = out.reshape(image.shape)
    if image.dtype == np.uint8:
        # Keep untouched pixels bit-exact: float round trip of uint8 values is exact, and rounding does the rest.
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return out.astype(image.dtype)
