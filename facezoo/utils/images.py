"""Image input coercion and output conversion shared by every facezoo pipeline.

Pipelines accept PIL images, numpy arrays, torch tensors or file paths, one image or a batch. Everything is
validated here, once, and turned into a float tensor ``(B, 3, H, W)`` in ``[0, 1]``; every failure is a
``ValueError`` that names the argument and the form that was expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import PIL.Image
import PIL.ImageOps
import torch
import torch.nn.functional as F

ImageInput = Union[PIL.Image.Image, np.ndarray, torch.Tensor, str, os.PathLike, Sequence[Any]]

EXPECTED_FORM = (
    "a PIL image (RGB, RGBA, L, LA or P), a numpy array HxW, HxWxC or NxHxWxC (C in 1, 3, 4; uint8 in [0, 255] "
    "or float in [0, 1]), a torch tensor CxHxW or NxCxHxW (same value ranges), an image file path, or a list of these"
)
_PIL_MODES = {"RGB", "RGBA", "L", "LA", "P"}
#: Uploads larger than this many pixels are refused rather than decoded (a decompression-bomb guard).
MAX_PIXELS = 40_000_000


def _bad(name: str, what: str) -> ValueError:
    return ValueError(f"`{name}` {what}; expected {EXPECTED_FORM}.")


def load_image(path: Union[str, os.PathLike], name: str = "image") -> PIL.Image.Image:
    """Open an image file, apply its EXIF orientation and return it as an RGB PIL image.

    Raises `ValueError` for a missing file, a file that is not an image, a corrupt image or one with more than
    `MAX_PIXELS` pixels.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"`{name}`: no such image file: {str(path)!r}")
    try:
        with PIL.Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValueError(
                    f"`{name}`: image {path.name} is {img.width}x{img.height}, larger than the {MAX_PIXELS} pixel limit"
                )
            img.load()
            return _pil_to_rgb(img, name)
    except ValueError:
        raise
    except (OSError, PIL.Image.DecompressionBombError, SyntaxError) as err:
        raise ValueError(f"`{name}`: {str(path)!r} is not a readable image file ({err})") from err


def _pil_to_rgb(img: PIL.Image.Image, name: str) -> PIL.Image.Image:
    if img.mode not in _PIL_MODES:
        raise _bad(name, f"is a PIL image in mode {img.mode!r}")
    img = PIL.ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        # Transparent pixels become white, the usual background of a cut-out portrait.
        background = PIL.Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = PIL.Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def _array_to_chw(arr: np.ndarray, name: str, channels_last: bool) -> torch.Tensor:
    """One image array (HxW, HxWxC or CxHxW) → float tensor 3xHxW in [0, 1]."""
    if arr.dtype == np.uint8:
        data = arr.astype(np.float32) / 255.0
    elif np.issubdtype(arr.dtype, np.floating):
        data = arr.astype(np.float32)
        if not np.isfinite(data).all():
            raise _bad(name, "contains NaN or infinite values")
        if data.min() < -1e-3 or data.max() > 1.0 + 1e-3:
            raise _bad(name, f"is a float image with values in [{data.min():.3g}, {data.max():.3g}]")
        data = np.clip(data, 0.0, 1.0)
    else:
        raise _bad(name, f"has dtype {arr.dtype}")
    if data.ndim == 2:
        data = data[None] if not channels_last else data[..., None]
    if channels_last:
        data = np.moveaxis(data, -1, 0)
    c = data.shape[0]
    if c not in (1, 3, 4):
        raise _bad(name, f"has {c} channels")
    if c == 1:
        data = np.repeat(data, 3, axis=0)
    elif c == 4:
        alpha = data[3:4]
        data = data[:3] * alpha + (1.0 - alpha)
    return torch.from_numpy(np.ascontiguousarray(data))


def _one_to_tensor(item: Any, name: str) -> torch.Tensor:
    if isinstance(item, (str, os.PathLike)):
        item = load_image(item, name)
    if isinstance(item, PIL.Image.Image):
        if item.width * item.height > MAX_PIXELS:
            raise ValueError(f"`{name}`: image is {item.width}x{item.height}, larger than the {MAX_PIXELS} pixel limit")
        return _array_to_chw(np.asarray(_pil_to_rgb(item, name)), name, channels_last=True)
    if isinstance(item, np.ndarray):
        if item.ndim not in (2, 3):
            raise _bad(name, f"is a numpy array with shape {item.shape}")
        return _array_to_chw(item, name, channels_last=True)
    if isinstance(item, torch.Tensor):
        if item.ndim not in (2, 3):
            raise _bad(name, f"is a tensor with shape {tuple(item.shape)}")
        arr = item.detach().cpu()
        arr = arr.float().numpy() if arr.dtype in (torch.bfloat16, torch.float16) else arr.numpy()
        return _array_to_chw(arr, name, channels_last=False)
    raise _bad(name, f"is a {type(item).__name__}")


def _split_batch(images: Any, name: str) -> List[Any]:
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return list(images)
    if isinstance(images, torch.Tensor) and images.ndim == 4:
        return list(images.unbind(0))
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise _bad(name, "is an empty list")
        return list(images)
    return [images]


def to_image_tensor(
    images: ImageInput,
    name: str = "image",
    size: Optional[Union[int, Tuple[int, int]]] = None,
) -> torch.Tensor:
    """Coerce `images` into a float32 tensor ``(B, 3, H, W)`` with values in ``[0, 1]``.

    Args:
        images: one image or a batch, in any of the forms listed in `EXPECTED_FORM`.
        name (`str`, *optional*, defaults to ``"image"``): the argument name used in error messages.
        size (`int` or `(H, W)`, *optional*): resize every image to this size (area-preserving antialias).
            Without it, all images of a batch must share one size.
    """
    items = _split_batch(images, name)
    tensors = [_one_to_tensor(item, f"{name}[{i}]" if len(items) > 1 else name) for i, item in enumerate(items)]
    if size is not None:
        hw = (size, size) if isinstance(size, int) else tuple(size)
        tensors = [resize(t[None], hw)[0] if tuple(t.shape[-2:]) != hw else t for t in tensors]
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"`{name}`: images of one batch must share one size, got {sorted(shapes)}")
    return torch.stack(tensors, 0)


def resize(x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a ``(B, C, H, W)`` tensor with antialiasing when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def to_model_range(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] → [-1, 1], the range every facezoo network takes and returns."""
    return x * 2.0 - 1.0


def from_model_range(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] → [0, 1], clamped."""
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


def tensor_to_pil(x: torch.Tensor) -> List[PIL.Image.Image]:
    """``(B, 3, H, W)`` in [0, 1] → list of RGB PIL images."""
    arr = (x.detach().float().cpu().permute(0, 2, 3, 1).numpy() * 255.0).round().astype(np.uint8)
    return [PIL.Image.fromarray(a) for a in arr]


OUTPUT_TYPES = ("pil", "np", "pt")


def check_output_type(output_type: str) -> None:
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"`output_type` must be one of {OUTPUT_TYPES}, got {output_type!r}")


def postprocess(x: torch.Tensor, output_type: str = "pil"):
    """Network output in [-1, 1] ``(B, 3, H, W)`` → the requested `output_type`.

    ``"pt"``: tensor in [0, 1], ``(B, 3, H, W)``, in the network's dtype; ``"np"``: float32 array in [0, 1], ``(B, H, W, 3)``;
    ``"pil"``: list of RGB PIL images.
    """
    check_output_type(output_type)
    img = from_model_range(x)
    if output_type == "pt":
        return img
    if output_type == "np":
        return img.float().cpu().permute(0, 2, 3, 1).numpy()
    return tensor_to_pil(img)


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """Tile ``(B, C, H, W)`` images into one ``(C, H', W')`` grid (torchvision's ``make_grid``, which we do not use)."""
    b, c, h, w = images.shape
    nrow = max(1, min(nrow, b))
    ncol = (b + nrow - 1) // nrow
    grid = images.new_full((c, ncol * (h + padding) + padding, nrow * (w + padding) + padding), pad_value)
    for i in range(b):
        r, col = divmod(i, nrow)
        y, x = r * (h + padding) + padding, col * (w + padding) + padding
        grid[:, y : y + h, x : x + w] = images[i]
    return grid
