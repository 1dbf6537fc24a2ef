"""Image grids and tracker logging that work the same with or without a tracker configured."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image


def image_grid(images: torch.Tensor, nrow: Optional[int] = None, padding: int = 2, value_range=(0.0, 1.0)) -> np.ndarray:
    """Tile a batch ``(N, C, H, W)`` (C = 1 or 3) into one ``(H', W', 3)`` uint8 image.

    Args:
        images (`torch.Tensor`): the batch; values in `value_range` are mapped to 0..255 (clamped).
        nrow (`int`, *optional*): images per row (default: ceil(sqrt(N))).
        padding (`int`, *optional*, defaults to 2): black pixels between tiles.
        value_range (`tuple`, *optional*, defaults to (0, 1)): what black and white are, e.g. (-1, 1) for tanh outputs.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"image_grid expects (N, 1|3, H, W), got {tuple(images.shape)}")
    low, high = value_range
    x = ((images.detach().float().cpu() - low) / (high - low)).clamp(0, 1)
    x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
    n, _, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    grid = torch.zeros(3, ncol * (h + padding) + padding, nrow * (w + padding) + padding)
    for i in range(n):
        r, c = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def log_image_grid(accelerator, name: str, images: torch.Tensor, step: int, folder: Optional[Path] = None, **grid_kwargs) -> np.ndarray:
    """Send a grid of `images` to the TensorBoard tracker (when one runs) and save it as PNG under `folder`.

    Only the main process writes; returns the grid.
    """
    grid = image_grid(images, **grid_kwargs)
    if not accelerator.is_main_process:
        return grid
    for tracker in accelerator.trackers:
        if tracker.name == "tensorboard":
            tracker.log_images({name: grid[None]}, step=step, dataformats="NHWC")
    if folder is not None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid).save(folder / f"{name.replace('/', '_')}-{step:07d}.png")
    return grid
