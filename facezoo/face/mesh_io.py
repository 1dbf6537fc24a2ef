"""Textured mesh export: Wavefront ``.obj`` + ``.mtl`` + texture ``.png`` (what Blender, MeshLab and three.js read).

facezoo's UV convention is ``u`` along the texture width and ``v`` down its rows (`facezoo.face.render`); OBJ's ``vt``
has ``v`` going up, so it is written as ``1 - v``. UVs are per vertex, so each face corner uses the same index for
``v`` and ``vt``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import PIL.Image
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]


def _np(x: Optional[ArrayLike]) -> Optional[np.ndarray]:
    if x is None:
        return None
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _texture_to_uint8(texture: ArrayLike) -> np.ndarray:
    """``(3, T, T)`` / ``(T, T, 3)`` float in ``[0, 1]`` or ``uint8`` → ``(T, T, 3)`` ``uint8``."""
    tex = _np(texture)
    if tex.ndim == 3 and tex.shape[0] in (1, 3) and tex.shape[-1] not in (1, 3):
        tex = tex.transpose(1, 2, 0)
    if tex.ndim != 3 or tex.shape[-1] not in (1, 3):
        raise ValueError(f"texture must be (3, T, T) or (T, T, 3), got {tex.shape}")
    if tex.dtype != np.uint8:
        tex = (np.clip(tex.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.repeat(tex, 3, axis=-1) if tex.shape[-1] == 1 else tex


def save_obj(
    path: Union[str, os.PathLike],
    vertices: ArrayLike,
    faces: ArrayLike,
    uv: Optional[ArrayLike] = None,
    texture: Optional[ArrayLike] = None,
    vertex_colors: Optional[ArrayLike] = None,
) -> Path:
    """Write a mesh as ``<path>.obj`` (+ ``<stem>.mtl`` and ``<stem>.png`` when a texture is given).

    Args:
        path (`str`): the ``.obj`` file to write (its folder is created).
        vertices (`(V, 3)`): positions.
        faces (`(F, 3)`): 0-based triangle indices.
        uv (`(V, 2)`, *optional*): per-vertex texture coordinates, facezoo convention (v down the rows).
        texture (`(3, T, T)` or `(T, T, 3)`, *optional*): the texture image (float in [0, 1] or uint8); needs `uv`.
        vertex_colors (`(V, 3)`, *optional*): per-vertex RGB in [0, 1], written as the ``v x y z r g b`` extension.

    Returns:
        `Path`: the ``.obj`` file.
    """
    path = Path(path)
    if path.suffix.lower() != ".obj":
        raise ValueError(f"path must end in .obj, got {path.name}")
    verts, tris = _np(vertices).astype(np.float64), _np(faces).astype(np.int64)
    if verts.ndim != 2 or verts.shape[1] != 3 or tris.ndim != 2 or tris.shape[1] != 3:
        raise ValueError(f"expected vertices (V, 3) and faces (F, 3), got {verts.shape} and {tris.shape}")
    if tris.size and (tris.min() < 0 or tris.max() >= len(verts)):
        raise ValueError(f"face indices must be in [0, {len(verts)}), got {tris.min()}..{tris.max()}")
    uv = _np(uv)
    if texture is not None and uv is None:
        raise ValueError("a texture needs per-vertex uv coordinates")
    if uv is not None and uv.shape != (len(verts), 2):
        raise ValueError(f"uv must be (V={len(verts)}, 2), got {uv.shape}")
    colors = _np(vertex_colors)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# written by facezoo"]
    if texture is not None:
        PIL.Image.fromarray(_texture_to_uint8(texture)).save(path.with_suffix(".png"))
        path.with_suffix(".mtl").write_text(
            f"newmtl face\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nd 1\nillum 1\nmap_Kd {path.with_suffix('.png').name}\n"
        )
        lines += [f"mtllib {path.with_suffix('.mtl').name}", "usemtl face"]
    if colors is not None:
        lines += [f"v {x:.6f} {y:.6f} {z:.6f} {r:.4f} {g:.4f} {b:.4f}" for (x, y, z), (r, g, b) in zip(verts, colors)]
    else:
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in verts]
    if uv is not None:
        lines += [f"vt {u:.6f} {1.0 - v:.6f}" for u, v in uv]
        lines += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in tris + 1]
    else:
        lines += [f"f {a} {b} {c}" for a, b, c in tris + 1]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class ObjMesh:
    """A mesh read back by `load_obj`: ``vertices (V, 3)``, ``faces (F, 3)`` 0-based, ``uv (V, 2)`` or None (facezoo
    convention), ``texture (T, T, 3) uint8`` or None."""

    vertices: np.ndarray
    faces: np.ndarray
    uv: Optional[np.ndarray]
    texture: Optional[np.ndarray]


def load_obj(path: Union[str, os.PathLike]) -> ObjMesh:
    """Read an ``.obj`` written by `save_obj` (triangles, per-vertex UVs, one ``map_Kd`` texture)."""
    path = Path(path)
    verts, uvs, faces, face_uv, mtl = [], [], [], [], None
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v":
            verts.append([float(p) for p in parts[1:4]])
        elif parts[0] == "vt":
            uvs.append([float(parts[1]), 1.0 - float(parts[2])])
        elif parts[0] == "f":
            corners = [p.split("/") for p in parts[1:4]]
            faces.append([int(c[0]) - 1 for c in corners])
            if len(corners[0]) > 1 and corners[0][1]:
                face_uv.append([int(c[1]) - 1 for c in corners])
        elif parts[0] == "mtllib":
            mtl = path.parent / parts[1]
    faces_np = np.array(faces, dtype=np.int64).reshape(-1, 3)
    uv = None
    if uvs:
        uv = np.zeros((len(verts), 2))
        uv[faces_np.reshape(-1)] = np.array(uvs)[np.array(face_uv).reshape(-1)]
    texture = None
    if mtl is not None and mtl.is_file():
        for line in mtl.read_text().splitlines():
            if line.startswith("map_Kd"):
                with PIL.Image.open(mtl.parent / line.split(maxsplit=1)[1].strip()) as img:
                    texture = np.asarray(img.convert("RGB")).copy()
    return ObjMesh(vertices=np.array(verts, dtype=np.float64).reshape(-1, 3), faces=faces_np, uv=uv, texture=texture)
