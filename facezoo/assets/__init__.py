"""Small real photos shipped with facezoo (see ``LICENSE_ASSETS.md``), used by tests and the toolkit evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np
import PIL.Image

_HERE = Path(__file__).resolve().parent

#: name → file of every packaged photo (all public domain).
PHOTOS: Dict[str, str] = {"astronaut": "astronaut.png"}


def photo_path(name: str = "astronaut") -> Path:
    """The file of a packaged photo; `ValueError` listing the names when `name` is unknown."""
    if name not in PHOTOS:
        raise ValueError(f"unknown packaged photo {name!r}; available: {sorted(PHOTOS)}")
    return _HERE / PHOTOS[name]


def load_photo(name: str = "astronaut") -> np.ndarray:
    """A packaged photo as an RGB ``uint8`` array ``(H, W, 3)``."""
    with PIL.Image.open(photo_path(name)) as img:
        return np.asarray(img.convert("RGB")).copy()
