"""A linear 3D morphable model (3DMM): mean shape + identity and expression bases over one fixed triangle mesh.

The constructor only takes tensors so that any source can build one: FaceWorld's procedural head
(``facezoo.data.faceworld.mesh``) or a BFM 2009/2017 file (``facezoo.face.bfm``).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

__all__ = ["MorphableModel", "rotation_matrix"]


def rotation_matrix(pose: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``(B, 3, 3)`` from ``pose (B, 3)`` = (yaw, pitch, roll) in radians.

    Axes: x right, y up, z towards the camera. Yaw turns about y (positive moves the nose towards +x, image right),
    pitch about x (positive looks up), roll about z (positive tilts the head counter-clockwise on screen).
    Applied as ``R = R_roll @ R_yaw @ R_pitch``.
    """
    yaw, pitch, roll = pose.unbind(-1)
    cy, sy = torch.cos(yaw), torch.sin(yaw)
    cp, sp = torch.cos(pitch), torch.sin(pitch)
    cr, sr = torch.cos(roll), torch.sin(roll)
    one, zero = torch.ones_like(yaw), torch.zeros_like(yaw)
    r_yaw = torch.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).view(-1, 3, 3)
    # Positive pitch raises the nose (+y): rotate z towards +y.
    r_pitch = torch.stack([one, zero, zero, zero, cp, sp, zero, -sp, cp], -1).view(-1, 3, 3)
    r_roll = torch.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).view(-1, 3, 3)
    return r_roll @ r_yaw @ r_pitch


class MorphableModel(nn.Module):
    """Linear shape model ``S = mean + B_id @ id + B_exp @ exp`` on a fixed topology.

    Args:
        mean_shape (`torch.FloatTensor` of shape `(V, 3)`): mean vertex positions.
        id_basis (`torch.FloatTensor` of shape `(V, 3, K_id)`): identity displacement modes (per unit coefficient).
        exp_basis (`torch.FloatTensor` of shape `(V, 3, K_exp)`): expression blendshapes (per unit weight).
        triangles (`torch.LongTensor` of shape `(F, 3)`): counter-clockwise seen from outside.
        uv_coords (`torch.FloatTensor` of shape `(V, 2)`, *optional*): texture coordinates ``(u, v)`` in ``[0, 1]``.
        regions (`torch.LongTensor` of shape `(V,)`, *optional*): per-vertex region labels, names in `region_names`.
        landmark_indices (`torch.LongTensor` of shape `(68,)`, *optional*): vertices of the iBUG-68 landmarks.
        region_names (`Sequence[str]`, *optional*): names of the region ids.
        id_names, exp_names (`Sequence[str]`, *optional*): names of the modes, for documentation and UIs.
    """

    def __init__(
        self,
        mean_shape: torch.Tensor,
        id_basis: torch.Tensor,
        exp_basis: torch.Tensor,
        triangles: torch.Tensor,
        uv_coords: Optional[torch.Tensor] = None,
        regions: Optional[torch.Tensor] = None,
        landmark_indices: Optional[torch.Tensor] = None,
        region_names: Sequence[str] = (),
        id_names: Sequence[str] = (),
        exp_names: Sequence[str] = (),
    ):
        super().__init__()
        v = mean_shape.shape[0]
        if mean_shape.shape != (v, 3):
            raise ValueError(f"mean_shape must be (V, 3), got {tuple(mean_shape.shape)}")
        for name, basis in (("id_basis", id_basis), ("exp_basis", exp_basis)):
            if basis.dim() != 3 or basis.shape[:2] != (v, 3):
                raise ValueError(f"{name} must be (V={v}, 3, K), got {tuple(basis.shape)}")
        if triangles.dim() != 2 or triangles.shape[1] != 3:
            raise ValueError(f"triangles must be (F, 3), got {tuple(triangles.shape)}")
        self.register_buffer("mean_shape", mean_shape.float())
        # Stored flattened (3V, K) so vertices() is one matmul.
        self.register_buffer("id_basis", id_basis.float().reshape(3 * v, -1))
        self.register_buffer("exp_basis", exp_basis.float().reshape(3 * v, -1))
        self.register_buffer("triangles", triangles.long())
        self.register_buffer("uv_coords", uv_coords.float() if uv_coords is not None else torch.zeros(v, 2))
        self.register_buffer("regions", regions.long() if regions is not None else torch.zeros(v, dtype=torch.long))
        lm = landmark_indices.long() if landmark_indices is not None else torch.zeros(0, dtype=torch.long)
        self.register_buffer("landmark_indices", lm)
        self.region_names = tuple(region_names)
        self.id_names = tuple(id_names)
        self.exp_names = tuple(exp_names)

    @property
    def num_vertices(self) -> int:
        return self.mean_shape.shape[0]

    @property
    def num_id(self) -> int:
        return self.id_basis.shape[1]

    @property
    def num_exp(self) -> int:
        return self.exp_basis.shape[1]

    def vertices(self, id_coeffs: torch.Tensor, exp_coeffs: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Model-space vertices ``(B, V, 3)`` for ``id_coeffs (B, K_id)`` and ``exp_coeffs (B, K_exp)`` (zeros if None)."""
        offsets = id_coeffs @ self.id_basis.T
        if exp_coeffs is not None:
            offsets = offsets + exp_coeffs @ self.exp_basis.T
        return self.mean_shape + offsets.view(id_coeffs.shape[0], -1, 3)

    @staticmethod
    def transform(
        verts: torch.Tensor,
        pose: torch.Tensor,
        scale: Optional[torch.Tensor] = None,
        translation: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Rigid(+scale) transform: ``scale * R(pose) @ v + translation`` for ``verts (B, V, 3)``, ``pose (B, 3)``
        yaw/pitch/roll radians (see :func:`rotation_matrix`), ``scale (B,)`` and ``translation (B, 3)``."""
        out = verts @ rotation_matrix(pose).transpose(1, 2)
        if scale is not None:
            out = out * scale.view(-1, 1, 1)
        if translation is not None:
            out = out + translation.view(-1, 1, 3)
        return out

    def landmarks(self, verts: torch.Tensor) -> torch.Tensor:
        """The 68 landmark points ``(B, 68, 3)`` of ``verts (B, V, 3)``."""
        return verts[:, self.landmark_indices]
