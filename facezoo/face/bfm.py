"""Load a user's Basel Face Model (BFM 2009 ``.mat`` or BFM 2017 ``.h5``) into a `MorphableModel`.

The BFM files cannot be redistributed (registration with the University of Basel is required), so facezoo ships
none; these loaders read the official files as downloaded:

* BFM 2009, ``01_MorphableModel.mat``: ``shapeMU (3V, 1)``, ``shapePC (3V, K)``, ``shapeEV (K, 1)`` (standard
  deviations), ``texMU``, ``texPC``, ``texEV`` (0-255 colours), ``tl (F, 3)`` 1-based triangles. No expression model.
* BFM 2017, ``model2017-1_bfm_nomouth.h5`` and relatives: groups ``shape``, ``expression``, ``color``, each with
  ``model/mean (3V,)``, ``model/pcaBasis (3V, K)``, ``model/pcaVariance (K,)``, and ``shape/representer/cells
  (3, F)`` 0-based triangles.

Bases are multiplied by the standard deviations, so coefficients are in units of standard deviations (``N(0, 1)``
under the model's prior), as FaceWorld's coefficients are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

from facezoo.face.morphable import MorphableModel


@dataclass
class LoadedMorphableModel:
    """A shape model plus the linear albedo model that BFM files also hold.

    Attributes:
        model (`MorphableModel`): mean shape, identity and expression bases, triangles.
        albedo_mean (`torch.Tensor` of shape `(V, 3)`): mean per-vertex albedo in ``[0, 1]``.
        albedo_basis (`torch.Tensor` of shape `(V, 3, K_tex)`): albedo modes per standard deviation.
        source (`str`): ``"bfm2009"`` or ``"bfm2017"``.
    """

    model: MorphableModel
    albedo_mean: torch.Tensor
    albedo_basis: torch.Tensor
    source: str

    def albedo(self, coeffs: torch.Tensor) -> torch.Tensor:
        """Per-vertex albedo ``(B, V, 3)`` for coefficients ``(B, K_tex)``."""
        v = self.albedo_mean.shape[0]
        return self.albedo_mean + (coeffs @ self.albedo_basis.reshape(3 * v, -1).T).view(coeffs.shape[0], v, 3)


def _basis(pc: np.ndarray, std: np.ndarray, count: Optional[int]) -> torch.Tensor:
    """``(3V, K)`` orthonormal PCs times standard deviations → ``(V, 3, K)``, truncated to the first `count` modes."""
    pc = np.asarray(pc, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64).reshape(-1)
    if count is not None:
        pc, std = pc[:, :count], std[:count]
    if pc.shape[1] != std.shape[0]:
        raise ValueError(f"a basis has {pc.shape[1]} components but {std.shape[0]} standard deviations")
    return torch.from_numpy((pc * std[None]).astype(np.float32)).view(-1, 3, pc.shape[1])


def _orient_front(mean: torch.Tensor, triangles: torch.Tensor) -> torch.Tensor:
    """Make triangles counter-clockwise seen from the front (+z, where BFM faces look), as `MorphableModel` expects.

    A face mesh is open, so the test is on the summed normals: they must point towards the camera.
    """
    a, b, c = mean[triangles[:, 0]], mean[triangles[:, 1]], mean[triangles[:, 2]]
    if torch.linalg.cross(b - a, c - a, dim=-1)[:, 2].sum() < 0:
        return triangles[:, [0, 2, 1]]
    return triangles


def _build(shape_mean, shape_pc, shape_std, exp_pc, exp_std, tex_mean, tex_pc, tex_std, triangles, scale,
           num_id, num_exp, num_tex, tex_range, source) -> LoadedMorphableModel:
    mean = torch.from_numpy(np.asarray(shape_mean, dtype=np.float32).reshape(-1, 3)) * scale
    id_basis = _basis(shape_pc, shape_std, num_id) * scale
    if exp_pc is not None:
        exp_basis = _basis(exp_pc, exp_std, num_exp) * scale
    else:
        exp_basis = torch.zeros(mean.shape[0], 3, 0)
    triangles = torch.from_numpy(np.asarray(triangles, dtype=np.int64))
    if triangles.min() < 0 or triangles.max() >= mean.shape[0]:
        raise ValueError(f"triangle indices span {int(triangles.min())}..{int(triangles.max())} but there are {mean.shape[0]} vertices")
    model = MorphableModel(mean, id_basis, exp_basis, _orient_front(mean, triangles))
    albedo_mean = torch.from_numpy(np.asarray(tex_mean, dtype=np.float32).reshape(-1, 3)) / tex_range
    albedo_basis = _basis(tex_pc, tex_std, num_tex) / tex_range
    return LoadedMorphableModel(model=model, albedo_mean=albedo_mean, albedo_basis=albedo_basis, source=source)


def load_bfm2009(path: Union[str, os.PathLike], scale: float = 1e-3, num_id: Optional[int] = None,
                 num_tex: Optional[int] = None) -> LoadedMorphableModel:
    """Read BFM 2009's ``01_MorphableModel.mat``.

    Args:
        path (`str`): the ``.mat`` file.
        scale (`float`, *optional*, defaults to 1e-3): multiplies coordinates (BFM 2009 is in micrometres; 1e-3 gives
            millimetres).
        num_id, num_tex (`int`, *optional*): keep only the first modes (Deng et al. use 80 of 199).
    """
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no BFM 2009 file at {path} (download 01_MorphableModel.mat from the University of Basel)")
    m = loadmat(str(path))
    missing = [k for k in ("shapeMU", "shapePC", "shapeEV", "texMU", "texPC", "texEV", "tl") if k not in m]
    if missing:
        raise ValueError(f"{path.name} is not a BFM 2009 model file: missing {missing}")
    return _build(m["shapeMU"], m["shapePC"], m["shapeEV"], None, None, m["texMU"], m["texPC"], m["texEV"],
                  np.asarray(m["tl"]) - 1, scale, num_id, None, num_tex, 255.0, "bfm2009")


def load_bfm2017(path: Union[str, os.PathLike], scale: float = 1.0, num_id: Optional[int] = None,
                 num_exp: Optional[int] = None, num_tex: Optional[int] = None) -> LoadedMorphableModel:
    """Read a BFM 2017 ``.h5`` file (needs ``h5py``, in the ``face`` extra).

    Args:
        path (`str`): the ``.h5`` file.
        scale (`float`, *optional*, defaults to 1.0): multiplies coordinates (BFM 2017 is in millimetres).
        num_id, num_exp, num_tex (`int`, *optional*): keep only the first modes.
    """
    try:
        import h5py
    except ImportError as err:  # pragma: no cover - h5py is in the face extra
        raise ImportError("reading BFM 2017 needs h5py: pip install 'facezoo[face]'") from err
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no BFM 2017 file at {path} (download it from the University of Basel)")
    with h5py.File(path, "r") as f:
        try:
            def group(name):
                g = f[name]["model"]
                return g["mean"][()], g["pcaBasis"][()], np.sqrt(np.maximum(g["pcaVariance"][()], 0.0))

            shape_mean, shape_pc, shape_std = group("shape")
            exp_pc = exp_std = None
            if "expression" in f:
                _, exp_pc, exp_std = group("expression")
            tex_mean, tex_pc, tex_std = group("color")
            cells = f["shape"]["representer"]["cells"][()]
        except KeyError as err:
            raise ValueError(f"{path.name} is not a BFM 2017 model file: missing {err}") from err
    tex_range = 255.0 if float(np.max(tex_mean)) > 2.0 else 1.0  # 2017 colours are in [0, 1]
    return _build(shape_mean, shape_pc, shape_std, exp_pc, exp_std, tex_mean, tex_pc, tex_std, np.asarray(cells).T,
                  scale, num_id, num_exp, num_tex, tex_range, "bfm2017")


def load_bfm(path: Union[str, os.PathLike], **kwargs) -> LoadedMorphableModel:
    """Load BFM 2009 (``.mat``) or BFM 2017 (``.h5``), chosen by the file suffix; `kwargs` go to the loader."""
    suffix = Path(path).suffix.lower()
    if suffix == ".mat":
        return load_bfm2009(path, **kwargs)
    if suffix in (".h5", ".hdf5"):
        return load_bfm2017(path, **kwargs)
    raise ValueError(f"unknown BFM file type {suffix!r}: expected BFM 2009 '.mat' or BFM 2017 '.h5'")
