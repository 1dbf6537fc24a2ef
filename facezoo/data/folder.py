"""The one exported face-folder format shared by FaceWorld exports and the real-dataset loaders.

Layout of a folder ``root``::

    root/meta.json              {"format": "facezoo-faces", "version": 1, "num_samples": N, "size": S,
                                 "keys": [...], "scaled_uint8": [...], "source": "...", ...extra metadata}
    root/images/000000.png      key "image": RGB, S x S, 8 bit
    root/gt/000000.npz          every other key of the sample, one array each (optional per sample)

Arrays named in ``meta["scaled_uint8"]`` (image-like maps in [0, 1]: masks, views, textures, sketches) are stored
as ``uint8 = round(255 * x)`` in ``(C, H, W)`` layout and read back as float32 ``x``; everything else keeps its dtype
(float32 parameters, int64 labels such as ``semantic``, ``identity``, ``expression``). A sample read back is a dict
of torch tensors with the same keys, shapes and dtypes as a :class:`facezoo.data.faceworld.FaceWorld` sample.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Iterable, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

__all__ = ["FORMAT_NAME", "FaceFolderWriter", "FaceFolderDataset"]

FORMAT_NAME = "facezoo-faces"
FORMAT_VERSION = 1
# Keys stored as scaled uint8 when present (float maps in [0, 1]).
SCALED_KEYS = ("face_mask", "occluder_mask", "uv_texture", "uv_visibility", "frontal", "second_view", "sketch", "lowres")


def _name(index: int) -> str:
    return f"{index:06d}"


class FaceFolderWriter:
    """Writes samples (dicts of tensors/arrays, one sample each, ``image`` required) into a face folder.

    Args:
        root (`str`): output folder (created).
        meta (`dict`, *optional*): extra JSON-serialisable metadata stored in ``meta.json`` (e.g. class names).

    Example:
        >>> with FaceFolderWriter("out", meta={"source": "faceworld"}) as w:
        ...     w.write(sample)
    """

    def __init__(self, root: str, meta: Optional[dict] = None):
        self.root = os.path.abspath(root)
        os.makedirs(os.path.join(self.root, "images"), exist_ok=True)
        os.makedirs(os.path.join(self.root, "gt"), exist_ok=True)
        self.meta = dict(meta or {})
        self.count = 0
        self.keys: Optional[list] = None
        self.size: Optional[int] = None

    def write(self, sample: Dict[str, object]) -> int:
        """Write one sample; returns its index."""
        if "image" not in sample:
            raise ValueError("a face-folder sample needs an 'image'")
        arrays = {k: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)) for k, v in sample.items()}
        image = arrays.pop("image")
        if image.ndim != 3 or image.shape[0] != 3:
            raise ValueError(f"'image' must be (3, H, W) in [0, 1], got {image.shape}")
        png = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)
        name = _name(self.count)
        Image.fromarray(png).save(os.path.join(self.root, "images", name + ".png"))
        stored = {}
        for k, v in arrays.items():
            if k in SCALED_KEYS:
                stored[k] = (np.clip(v, 0, 1) * 255 + 0.5).astype(np.uint8)
            else:
                stored[k] = v
        if stored:
            np.savez_compressed(os.path.join(self.root, "gt", name + ".npz"), **stored)
        if self.keys is None:
            self.keys = ["image"] + sorted(arrays)
            self.size = int(image.shape[-1])
        self.count += 1
        return self.count - 1

    def close(self) -> None:
        """Write ``meta.json`` (call once all samples are written)."""
        meta = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "num_samples": self.count, "size": self.size,
            "keys": self.keys or [], "scaled_uint8": [k for k in SCALED_KEYS if k in (self.keys or [])],
        }
        meta.update(self.meta)
        with open(os.path.join(self.root, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2)

    def __enter__(self) -> "FaceFolderWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FaceFolderDataset(Dataset):
    """Reads a face folder written by :class:`FaceFolderWriter` (FaceWorld export or a real-dataset converter).

    Args:
        root (`str`): the folder.
        keys (`Sequence[str]`, *optional*): subset of keys to load (all by default).
    """

    def __init__(self, root: str, keys: Optional[Sequence[str]] = None):
        self.root = root
        path = os.path.join(root, "meta.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{root} is not a face folder: no meta.json")
        with open(path) as f:
            self.meta = json.load(f)
        if self.meta.get("format") != FORMAT_NAME:
            raise ValueError(f"{root}: unknown format {self.meta.get('format')!r}, expected {FORMAT_NAME!r}")
        self.keys = tuple(keys) if keys is not None else tuple(self.meta["keys"])
        missing = set(self.keys) - set(self.meta["keys"])
        if missing:
            raise KeyError(f"{root} has no keys {sorted(missing)}; it has {self.meta['keys']}")
        self.scaled = set(self.meta.get("scaled_uint8", []))

    def __len__(self) -> int:
        return int(self.meta["num_samples"])

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        name = _name(index)
        out: Dict[str, torch.Tensor] = {}
        if "image" in self.keys:
            img = np.asarray(Image.open(os.path.join(self.root, "images", name + ".png")).convert("RGB"))
            out["image"] = torch.from_numpy(img.transpose(2, 0, 1).astype(np.float32) / 255.0)
        rest = [k for k in self.keys if k != "image"]
        if rest:
            with np.load(os.path.join(self.root, "gt", name + ".npz")) as gt:
                for k in rest:
                    v = gt[k]
                    out[k] = torch.from_numpy(v.astype(np.float32) / 255.0) if k in self.scaled else torch.from_numpy(v)
        return {k: out[k] for k in self.keys}

    @staticmethod
    def write(root: str, samples: Iterable[Dict[str, object]], meta: Optional[dict] = None) -> int:
        """Convenience: write all ``samples`` to ``root``; returns how many."""
        with FaceFolderWriter(root, meta) as w:
            for s in samples:
                w.write(s)
        return w.count
