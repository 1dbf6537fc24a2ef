"""A batched, pure-PyTorch triangle-mesh rasterizer shared by FaceWorld, the 3DMM regressor and later methods.

Why our own: pytorch3d (the usual choice) ships no wheel for our torch build and compiling it needs a CUDA/C++
toolchain we cannot count on, nvdiffrast needs a GPU. This file is plain torch (no custom ops), fast enough on two
CPU cores for a few hundred 128x128 faces per second (see ``bench/faceworld.py``). If ``pytorch3d`` happens to import,
``MeshRenderer(..., backend="pytorch3d")`` rasterizes with it instead; everything after rasterization is shared.

Conventions
-----------
* Vertices come in normalised device coordinates ``(B, V, 3)``: ``x`` to the right and ``y`` up, both in ``[-1, 1]``
  across the image, and ``z`` a depth where **smaller is nearer**. All meshes of a batch share one ``faces (F, 3)``.
* Front faces wind counter-clockwise on screen (x right, y up); back faces are culled unless asked otherwise.
* Pixel ``(row i, column j)`` has its centre at pixel coordinates ``(j + 0.5, i + 0.5)``; ``x_pix = (x_ndc + 1) W / 2``
  and ``y_pix = (1 - y_ndc) H / 2``.
* Barycentric weights are screen-space (affine). With the long focal lengths used here the error against
  perspective-correct interpolation is far below a texel.
* UV: ``u`` runs along the texture width and ``v`` down its rows, both in ``[0, 1]``.

Algorithm (from /work/shared/PERF_NOTES.md, the fastest of the strategies measured there): every front-facing triangle
enumerates the pixel centres of its clipped bounding box, an edge-function test keeps those inside, and a single
``scatter_reduce(amin)`` over a packed int64 key (quantised depth in the high bits, face index in the low bits)
resolves visibility. Barycentrics of the winning faces are then recomputed from the vertex positions with autograd
enabled, so gradients reach vertex positions, attributes and textures (not silhouettes: coverage is discrete).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F

__all__ = ["Fragments", "MeshRenderer", "vertex_normals", "ndc_to_pixels", "sh_basis", "lambert_shading"]

_EMPTY_KEY = torch.iinfo(torch.int64).max
_DEPTH_LEVELS = 2**31 - 2  # quantised depth fits above a 32-bit face index inside one int64


@dataclass
class Fragments:
    """Per-pixel result of :meth:`MeshRenderer.rasterize` (the nearest face only).

    Args:
        face_idx (`torch.LongTensor` of shape `(B, H, W)`): index into ``faces`` of the visible triangle, ``-1`` where empty.
        bary (`torch.FloatTensor` of shape `(B, H, W, 3)`): barycentric weights of the pixel centre (zero where empty).
        depth (`torch.FloatTensor` of shape `(B, H, W)`): interpolated ``z`` (zero where empty).
        mask (`torch.BoolTensor` of shape `(B, H, W)`): covered pixels.
        pix (`torch.LongTensor` of shape `(N,)`): flat indices ``b*H*W + i*W + j`` of the covered pixels; the sparse
            form used by :meth:`MeshRenderer.interpolate` so work is only done where something is visible.
        pix_face (`torch.LongTensor` of shape `(N,)`): face index of each covered pixel.
        pix_bary (`torch.FloatTensor` of shape `(N, 3)`): barycentrics of each covered pixel.
    """

    face_idx: torch.Tensor
    bary: torch.Tensor
    depth: torch.Tensor
    mask: torch.Tensor
    pix: torch.Tensor
    pix_face: torch.Tensor
    pix_bary: torch.Tensor


def ndc_to_pixels(xy: torch.Tensor, image_size: Union[int, Tuple[int, int]]) -> torch.Tensor:
    """Map NDC ``(..., 2)`` points to pixel coordinates ``(x, y)`` with pixel centres at ``+0.5``."""
    h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
    return torch.stack([(xy[..., 0] + 1) * (0.5 * w), (1 - xy[..., 1]) * (0.5 * h)], dim=-1)


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Written out: torch.linalg.cross on a size-3 last dim is several times slower on CPU (PERF_NOTES).
    ax, ay, az = a.unbind(-1)
    bx, by, bz = b.unbind(-1)
    return torch.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], dim=-1)


def vertex_normals(verts: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals of ``verts (B, V, 3)`` for counter-clockwise ``faces (F, 3)``."""
    b, v, _ = verts.shape
    v0, v1, v2 = verts[:, faces[:, 0]], verts[:, faces[:, 1]], verts[:, faces[:, 2]]
    fn = _cross(v1 - v0, v2 - v0)  # length = 2 * area, so the sum below is area weighted
    normals = torch.zeros_like(verts)
    for k in range(3):
        normals.index_add_(1, faces[:, k], fn)
    return F.normalize(normals, dim=-1, eps=1e-12)


def sh_basis(normals: torch.Tensor) -> torch.Tensor:
    """The 9 real spherical-harmonics basis functions (bands 0-2, with the Lambertian kernel folded in, as in
    Ramamoorthi & Hanrahan 2001) of unit normals ``(..., 3)`` -> ``(..., 9)``."""
    x, y, z = normals.unbind(-1)
    c0, c1, c2 = math.pi * 0.282095, (2 * math.pi / 3) * 0.488603, (math.pi / 4) * 1.092548
    return torch.stack(
        [
            torch.full_like(x, c0),
            c1 * y, c1 * z, c1 * x,
            c2 * x * y, c2 * y * z, (math.pi / 4) * 0.315392 * (3 * z * z - 1), c2 * x * z,
            (math.pi / 4) * 0.546274 * (x * x - y * y),
        ],
        dim=-1,
    )


def lambert_shading(
    normals: torch.Tensor, ambient: torch.Tensor, direction: torch.Tensor, color: torch.Tensor
) -> torch.Tensor:
    """Ambient + one directional light: ``ambient + color * max(0, n . l)``.

    Args:
        normals (`torch.FloatTensor` of shape `(B, ..., 3)`): unit normals (camera space).
        ambient, color (`torch.FloatTensor` of shape `(B, 3)`): RGB intensities.
        direction (`torch.FloatTensor` of shape `(B, 3)`): unit vector towards the light.
    Returns: `(B, ..., 3)` RGB irradiance.
    """
    shape = (normals.shape[0],) + (1,) * (normals.dim() - 2) + (3,)
    ndotl = (normals * direction.view(shape)).sum(-1, keepdim=True).clamp_min(0)
    return ambient.view(shape) + color.view(shape) * ndotl


class MeshRenderer:
    """Rasterize batches of same-topology triangle meshes and interpolate / texture / shade them.

    Args:
        image_size (`int` or `(H, W)`): output resolution.
        cull_backfaces (`bool`, *optional*, defaults to `True`): skip clockwise (back-facing) triangles; halves the work
            on closed meshes and is required for meshes that are not closed from behind.
        backend (`str`, *optional*, defaults to `"torch"`): `"torch"` (this file) or `"pytorch3d"` when it imports.

    Example:
        >>> r = MeshRenderer(64)
        >>> frags = r.rasterize(verts_ndc, faces)            # verts_ndc (B, V, 3)
        >>> uv = r.interpolate(frags, uv_coords, faces)       # (B, 64, 64, 2)
        >>> rgb = r.sample_texture(texture, uv, frags.mask)  # (B, 3, 64, 64)
    """

    def __init__(self, image_size: Union[int, Tuple[int, int]], cull_backfaces: bool = True, backend: str = "torch"):
        self.height, self.width = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        self.cull_backfaces = cull_backfaces
        if backend not in ("torch", "pytorch3d"):
            raise ValueError(f"backend must be 'torch' or 'pytorch3d', got {backend!r}")
        if backend == "pytorch3d":
            try:
                import pytorch3d  # noqa: F401
            except ImportError as err:
                raise ImportError("backend='pytorch3d' needs the optional `pytorch3d` package (extra `3d`)") from err
        self.backend = backend

    # ------------------------------------------------------------------ rasterization
    def _edge_coefficients(self, x: torch.Tensor, y: torch.Tensor, faces: torch.Tensor):
        """Per-face affine edge functions so that ``w_k = a_k * px + b_k * py + c_k`` (already divided by the
        signed area, so the three weights sum to one). ``x, y`` are pixel coordinates ``(B, V)``."""
        i0, i1, i2 = faces[:, 0], faces[:, 1], faces[:, 2]
        x0, x1, x2 = x[:, i0], x[:, i1], x[:, i2]
        y0, y1, y2 = y[:, i0], y[:, i1], y[:, i2]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        coeffs = []
        for (xa, ya), (xb, yb) in (((x1, y1), (x2, y2)), ((x2, y2), (x0, y0)), ((x0, y0), (x1, y1))):
            coeffs.append(((ya - yb), (xb - xa), (xa * yb - xb * ya)))
        return area, coeffs, (x0, x1, x2), (y0, y1, y2)

    def rasterize(self, verts_ndc: torch.Tensor, faces: torch.Tensor) -> Fragments:
        """Z-buffered coverage of ``verts_ndc (B, V, 3)`` with shared ``faces (F, 3)`` (long)."""
        if verts_ndc.dim() != 3 or verts_ndc.shape[-1] != 3:
            raise ValueError(f"verts_ndc must be (B, V, 3), got {tuple(verts_ndc.shape)}")
        if self.backend == "pytorch3d":
            pix, pix_face = self._coverage_pytorch3d(verts_ndc, faces)
        else:
            pix, pix_face = self._coverage_torch(verts_ndc, faces)
        return self._fragments(verts_ndc, faces, pix, pix_face)

    def _coverage_torch(self, verts_ndc: torch.Tensor, faces: torch.Tensor):
        b, v, _ = verts_ndc.shape
        nf = faces.shape[0]
        h, w = self.height, self.width
        with torch.no_grad():
            verts = verts_ndc.detach()
            x = (verts[..., 0] + 1) * (0.5 * w) - 0.5  # pixel centre j sits at x = j
            y = (1 - verts[..., 1]) * (0.5 * h) - 0.5
            z = verts[..., 2]
            area, coeffs, xs, ys = self._edge_coefficients(x, y, faces)
            # y points down in pixel space, so counter-clockwise in NDC means negative area here.
            keep = area < 0 if self.cull_backfaces else area != 0
            xmin = torch.minimum(torch.minimum(xs[0], xs[1]), xs[2]).ceil()
            xmax = torch.maximum(torch.maximum(xs[0], xs[1]), xs[2]).floor()
            ymin = torch.minimum(torch.minimum(ys[0], ys[1]), ys[2]).ceil()
            ymax = torch.maximum(torch.maximum(ys[0], ys[1]), ys[2]).floor()
            keep &= (xmax >= 0) & (xmin <= w - 1) & (ymax >= 0) & (ymin <= h - 1) & (xmax >= xmin) & (ymax >= ymin)
            sel = keep.reshape(-1).nonzero().squeeze(1)  # flat (b * F + f)
            if sel.numel() == 0:
                empty = torch.zeros(0, dtype=torch.long, device=verts.device)
                return empty, empty
            xmin = xmin.reshape(-1)[sel].clamp(0, w - 1).long()
            xmax = xmax.reshape(-1)[sel].clamp(0, w - 1).long()
            ymin = ymin.reshape(-1)[sel].clamp(0, h - 1).long()
            ymax = ymax.reshape(-1)[sel].clamp(0, h - 1).long()
            bw = xmax - xmin + 1
            count = bw * (ymax - ymin + 1)
            # Enumerate every pixel of every bounding box without a Python loop.
            tri = torch.repeat_interleave(torch.arange(sel.numel(), device=verts.device), count)
            start = torch.cumsum(count, 0) - count
            local = torch.arange(tri.numel(), device=verts.device) - start[tri]
            bw_t = bw[tri]
            px = xmin[tri] + local % bw_t
            py = ymin[tri] + local // bw_t
            pxf, pyf = px.to(x.dtype), py.to(x.dtype)
            inv_area = (1.0 / area.reshape(-1)[sel])[tri]
            inside = None
            weights = []
            for a_k, b_k, c_k in coeffs:
                wk = (a_k.reshape(-1)[sel][tri] * pxf + b_k.reshape(-1)[sel][tri] * pyf + c_k.reshape(-1)[sel][tri]) * inv_area
                weights.append(wk)
                inside = wk >= 0 if inside is None else inside & (wk >= 0)
            idx = inside.nonzero().squeeze(1)
            tri, px, py = tri[idx], px[idx], py[idx]
            flat_face = sel[tri]
            zf = [z[:, faces[:, k]].reshape(-1)[flat_face] for k in range(3)]
            depth = weights[0][idx] * zf[0] + weights[1][idx] * zf[1] + weights[2][idx] * zf[2]
            zlo, zhi = depth.min(), depth.max()
            q = ((depth - zlo) * (_DEPTH_LEVELS / (zhi - zlo).clamp_min(1e-12))).long()
            key = (q << 32) | (flat_face % nf)
            bidx = flat_face // nf
            pixel = bidx * (h * w) + py * w + px
            zbuf = torch.full((b * h * w,), _EMPTY_KEY, dtype=torch.long, device=verts.device)
            zbuf.scatter_reduce_(0, pixel, key, reduce="amin", include_self=True)
            pix = (zbuf != _EMPTY_KEY).nonzero().squeeze(1)
            pix_face = zbuf[pix] & 0xFFFFFFFF
        return pix, pix_face

    def _coverage_pytorch3d(self, verts_ndc: torch.Tensor, faces: torch.Tensor):  # pragma: no cover - optional
        from pytorch3d.renderer.mesh.rasterize_meshes import rasterize_meshes
        from pytorch3d.structures import Meshes

        # pytorch3d's NDC has +x pointing left; its culling expects the same winding as ours after that flip.
        v = verts_ndc.detach() * torch.tensor([-1.0, 1.0, 1.0], device=verts_ndc.device)
        meshes = Meshes(verts=list(v), faces=[faces] * v.shape[0])
        p2f, _, _, _ = rasterize_meshes(
            meshes, image_size=(self.height, self.width), faces_per_pixel=1, cull_backfaces=self.cull_backfaces
        )
        p2f = p2f[..., 0].reshape(-1)
        pix = (p2f >= 0).nonzero().squeeze(1)
        return pix, p2f[pix] % faces.shape[0]

    def _fragments(self, verts_ndc, faces, pix, pix_face) -> Fragments:
        b = verts_ndc.shape[0]
        h, w = self.height, self.width
        nv = verts_ndc.shape[1]
        # Recompute barycentrics of the winners from the (possibly grad-requiring) vertices.
        bidx = pix // (h * w)
        rem = pix % (h * w)
        px = (rem % w).to(verts_ndc.dtype)
        py = (rem // w).to(verts_ndc.dtype)
        flat = verts_ndc.reshape(b * nv, 3)
        corners = [flat[bidx * nv + faces[pix_face, k]] for k in range(3)]
        xs = [(c[:, 0] + 1) * (0.5 * w) - 0.5 for c in corners]
        ys = [(1 - c[:, 1]) * (0.5 * h) - 0.5 for c in corners]
        area = (xs[1] - xs[0]) * (ys[2] - ys[0]) - (xs[2] - xs[0]) * (ys[1] - ys[0])
        ws = []
        for (xa, ya), (xb, yb) in (((xs[1], ys[1]), (xs[2], ys[2])), ((xs[2], ys[2]), (xs[0], ys[0])),
                                   ((xs[0], ys[0]), (xs[1], ys[1]))):
            ws.append(((ya - yb) * px + (xb - xa) * py + (xa * yb - xb * ya)) / area)
        pix_bary = torch.stack(ws, dim=-1)
        depth_sparse = ws[0] * corners[0][:, 2] + ws[1] * corners[1][:, 2] + ws[2] * corners[2][:, 2]
        n = b * h * w
        face_idx = torch.full((n,), -1, dtype=torch.long, device=verts_ndc.device)
        face_idx[pix] = pix_face
        bary = torch.zeros(n, 3, dtype=verts_ndc.dtype, device=verts_ndc.device).index_put((pix,), pix_bary)
        depth = torch.zeros(n, dtype=verts_ndc.dtype, device=verts_ndc.device).index_put((pix,), depth_sparse)
        return Fragments(
            face_idx=face_idx.view(b, h, w),
            bary=bary.view(b, h, w, 3),
            depth=depth.view(b, h, w),
            mask=(face_idx >= 0).view(b, h, w),
            pix=pix,
            pix_face=pix_face,
            pix_bary=pix_bary,
        )

    # ------------------------------------------------------------------ attributes
    def interpolate_sparse(self, fragments: Fragments, attrs: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """Barycentric interpolation of per-vertex ``attrs`` ((V, C) shared or (B, V, C)) at the covered pixels
        only -> ``(N, C)`` in the order of ``fragments.pix``."""
        b, h, w = fragments.mask.shape
        vid = [faces[fragments.pix_face, k] for k in range(3)]
        if attrs.dim() == 2:
            vals = [attrs[i] for i in vid]
        else:
            nv = attrs.shape[1]
            flat = attrs.reshape(-1, attrs.shape[-1])
            base = (fragments.pix // (h * w)) * nv
            vals = [flat[base + i] for i in vid]
        bw = fragments.pix_bary
        return vals[0] * bw[:, 0:1] + vals[1] * bw[:, 1:2] + vals[2] * bw[:, 2:3]

    def scatter(self, fragments: Fragments, values: torch.Tensor, background: float = 0.0) -> torch.Tensor:
        """Place sparse per-pixel ``values (N, C)`` into a dense ``(B, H, W, C)`` image."""
        b, h, w = fragments.mask.shape
        out = values.new_full((b * h * w, values.shape[-1]), background)
        out = out.index_put((fragments.pix,), values)
        return out.view(b, h, w, values.shape[-1])

    def interpolate(self, fragments: Fragments, attrs: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """Dense barycentric interpolation -> ``(B, H, W, C)`` (zeros where no face is visible)."""
        return self.scatter(fragments, self.interpolate_sparse(fragments, attrs, faces))

    @staticmethod
    def sample_texture(
        texture: torch.Tensor, uv: torch.Tensor, mask: Optional[torch.Tensor] = None, mode: str = "bilinear"
    ) -> torch.Tensor:
        """Bilinearly sample ``texture (B, C, T, T)`` at ``uv (B, H, W, 2)`` -> ``(B, C, H, W)``; zero outside ``mask``."""
        grid = uv * 2 - 1  # align_corners=False: texel centres at (i + 0.5) / T
        out = F.grid_sample(texture, grid, mode=mode, padding_mode="border", align_corners=False)
        if mask is not None:
            out = out * mask.unsqueeze(1).to(out.dtype)
        return out
