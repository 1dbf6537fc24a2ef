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
``scatter_reduce(amin)`` over a packed int64 key (the order-preserving bits of the float32 depth in the high 32 bits,
the face index in the low 31) resolves visibility. Barycentrics of the winning faces are then recomputed from the vertex positions with autograd
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


def _ordered_bits(depth: torch.Tensor) -> torch.Tensor:
    """Map float32 depths to int64 keys in [0, 2^32) with the same order (the usual sign-flip trick), so the
    z-test of a pixel never depends on the other meshes of the batch."""
    i = depth.float().contiguous().view(torch.int32).long()
    return torch.where(i >= 0, i, -(2**31) - 1 - i) + 2**31


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
    # (V, B, 3) layout: gathering and adding whole rows is much faster on CPU than indexing dim 1 (PERF_NOTES).
    vt = verts.transpose(0, 1)
    v0, v1, v2 = vt[faces[:, 0]], vt[faces[:, 1]], vt[faces[:, 2]]
    fn = _cross(v1 - v0, v2 - v0)  # (F, B, 3); length = 2 * area, so the sum below is area weighted
    normals = verts.new_zeros(v, b, 3)
    for k in range(3):
        normals = normals.index_add(0, faces[:, k], fn)
    return F.normalize(normals.transpose(0, 1), dim=-1, eps=1e-12)


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
    def rasterize(self, verts_ndc: torch.Tensor, faces: torch.Tensor) -> Fragments:
        """Z-buffered coverage of ``verts_ndc (B, V, 3)`` with shared ``faces (F, 3)`` (long)."""
        if verts_ndc.dim() != 3 or verts_ndc.shape[-1] != 3:
            raise ValueError(f"verts_ndc must be (B, V, 3), got {tuple(verts_ndc.shape)}")
        if faces.dim() != 2 or faces.shape[-1] != 3:
            raise ValueError(f"faces must be (F, 3), got {tuple(faces.shape)}")
        if self.backend == "pytorch3d":
            pix, pix_face = self._coverage_pytorch3d(verts_ndc, faces)
        else:
            pix, pix_face = self._coverage_torch(verts_ndc, faces)
        return self._fragments(verts_ndc, faces, pix, pix_face)

    def _coverage_torch(self, verts_ndc: torch.Tensor, faces: torch.Tensor):
        b = verts_ndc.shape[0]
        h, w = self.height, self.width
        with torch.no_grad():
            # (V, B) layout: gathering rows by vertex index is several times faster than indexing dim 1; every
            # per-triangle array below is (F, B) flattened as f * B + batch.
            vt = verts_ndc.detach().transpose(0, 1)
            x = (vt[..., 0] + 1) * (0.5 * w) - 0.5  # pixel centre j sits at x = j
            y = (1 - vt[..., 1]) * (0.5 * h) - 0.5
            z = vt[..., 2]
            x0, x1, x2 = x[faces[:, 0]], x[faces[:, 1]], x[faces[:, 2]]
            y0, y1, y2 = y[faces[:, 0]], y[faces[:, 1]], y[faces[:, 2]]
            area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
            # y points down in pixel space, so counter-clockwise in NDC means negative area here.
            keep = area < 0 if self.cull_backfaces else area != 0
            xmin = torch.minimum(torch.minimum(x0, x1), x2).ceil_()
            xmax = torch.maximum(torch.maximum(x0, x1), x2).floor_()
            ymin = torch.minimum(torch.minimum(y0, y1), y2).ceil_()
            ymax = torch.maximum(torch.maximum(y0, y1), y2).floor_()
            keep &= (xmax >= 0) & (xmin <= w - 1) & (ymax >= 0) & (ymin <= h - 1) & (xmax >= xmin) & (ymax >= ymin)
            sel = keep.view(-1).nonzero().squeeze(1)
            if sel.numel() == 0:
                empty = torch.zeros(0, dtype=torch.long, device=vt.device)
                return empty, empty
            g = lambda t: t.reshape(-1)[sel]  # noqa: E731  (per selected triangle)
            xs, ys, zs = [g(x0), g(x1), g(x2)], [g(y0), g(y1), g(y2)], [g(z[faces[:, k]]) for k in range(3)]
            inv_area = 1.0 / g(area)
            # edge functions w_k = a_k px + b_k py + c_k, already divided by the area so that they sum to one
            coef = []
            for (xa, ya), (xb, yb) in (((xs[1], ys[1]), (xs[2], ys[2])), ((xs[2], ys[2]), (xs[0], ys[0])),
                                       ((xs[0], ys[0]), (xs[1], ys[1]))):
                coef.append(((ya - yb) * inv_area, (xb - xa) * inv_area, (xa * yb - xb * ya) * inv_area))
            xlo = g(xmin).clamp_(0, w - 1)
            ylo = g(ymin).clamp_(0, h - 1)
            bw = g(xmax).clamp_(0, w - 1) - xlo + 1
            count = (bw * (g(ymax).clamp_(0, h - 1) - ylo + 1)).long()
            # Enumerate every pixel of every bounding box without a Python loop. The offsets are small exact
            # integers, so float32 arithmetic (much faster than int64 division on CPU) is exact below 2^24.
            tri = torch.repeat_interleave(torch.arange(sel.numel(), device=vt.device), count)
            start = (torch.cumsum(count, 0) - count)
            if tri.numel() < 2**24:
                local = torch.arange(tri.numel(), device=vt.device, dtype=torch.float32) - start.float()[tri]
                bw_t = bw[tri]
                row = torch.floor((local + 0.5) / bw_t)
                px = xlo[tri] + (local - row * bw_t)
                py = ylo[tri] + row
            else:
                local = torch.arange(tri.numel(), device=vt.device) - start[tri]
                bw_t = bw.long()[tri]
                px = (xlo.long()[tri] + local % bw_t).to(x.dtype)
                py = (ylo.long()[tri] + local // bw_t).to(x.dtype)
            w0 = coef[0][0][tri] * px + coef[0][1][tri] * py + coef[0][2][tri]
            w1 = coef[1][0][tri] * px + coef[1][1][tri] * py + coef[1][2][tri]
            inside = (w0 >= 0) & (w1 >= 0) & (w0 + w1 <= 1)
            idx = inside.nonzero().squeeze(1)
            tri, px, py, w0, w1 = tri[idx], px[idx], py[idx], w0[idx], w1[idx]
            depth = w0 * zs[0][tri] + w1 * zs[1][tri] + (1 - w0 - w1) * zs[2][tri]
            flat = sel[tri]  # f * B + batch
            face, bidx = flat // b, flat % b
            key = (_ordered_bits(depth) << 31) | face
            pixel = bidx * (h * w) + py.long() * w + px.long()
            zbuf = torch.full((b * h * w,), _EMPTY_KEY, dtype=torch.long, device=vt.device)
            zbuf.scatter_reduce_(0, pixel, key, reduce="amin", include_self=True)
            pix = (zbuf != _EMPTY_KEY).nonzero().squeeze(1)
            pix_face = zbuf[pix] & 0x7FFFFFFF
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
        # Corner offsets from the pixel centre keep the products small (no cancellation on tiny triangles), and
        # normalising by the sum of the three sub-areas makes the weights sum to one to within rounding.
        dx = [(c[:, 0] + 1) * (0.5 * w) - 0.5 - px for c in corners]
        dy = [(1 - c[:, 1]) * (0.5 * h) - 0.5 - py for c in corners]
        n0 = dx[1] * dy[2] - dx[2] * dy[1]
        n1 = dx[2] * dy[0] - dx[0] * dy[2]
        n2 = dx[0] * dy[1] - dx[1] * dy[0]
        total = n0 + n1 + n2
        total = torch.where(total.abs() < 1e-12, torch.full_like(total, 1e-12), total)
        ws = [n0 / total, n1 / total, n2 / total]
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
    def sample_texture_sparse(texture: torch.Tensor, uv: torch.Tensor, batch_index: torch.Tensor) -> torch.Tensor:
        """Bilinear lookup of ``texture (B, C, T, T')`` at ``uv (N, 2)`` for points of image ``batch_index (N,)`` ->
        ``(N, C)``; the same values as :meth:`sample_texture` (border padding, texel centres at (i + 0.5) / T) but
        only where asked, e.g. at ``fragments.pix``."""
        b, c, th, tw = texture.shape
        flat = texture.permute(0, 2, 3, 1).reshape(b * th * tw, c)
        x = (uv[:, 0] * tw - 0.5).clamp(0, tw - 1)
        y = (uv[:, 1] * th - 0.5).clamp(0, th - 1)
        x0 = x.floor().clamp(max=tw - 2) if tw > 1 else x.floor()
        y0 = y.floor().clamp(max=th - 2) if th > 1 else y.floor()
        fx, fy = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)
        base = batch_index * (th * tw) + y0.long() * tw + x0.long()
        dx = 1 if tw > 1 else 0
        dy = tw if th > 1 else 0
        top = flat[base] * (1 - fx) + flat[base + dx] * fx
        bottom = flat[base + dy] * (1 - fx) + flat[base + dy + dx] * fx
        return top * (1 - fy) + bottom * fy

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
