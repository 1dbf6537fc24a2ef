"""MeshRenderer and MorphableModel against independent references (float64 brute force, hand-computed values)."""

import math

import pytest
import torch

from facezoo.face.morphable import MorphableModel, rotation_matrix
from facezoo.face.render import MeshRenderer, lambert_shading, ndc_to_pixels, sh_basis, vertex_normals


def _random_mesh(seed, b=2, nf=12, depth_spread=1.0):
    g = torch.Generator().manual_seed(seed)
    verts = torch.rand(b, nf * 3, 3, generator=g) * 2 - 1
    verts[..., 2] = 2 + torch.rand(b, nf * 3, generator=g) * depth_spread
    faces = torch.arange(nf * 3).view(nf, 3)
    return verts, faces


def _brute_force(verts, faces, size, cull=True):
    """float64 reference: test every pixel centre against every triangle, keep the nearest."""
    v = verts.double()
    b = v.shape[0]
    out = torch.full((b, size, size), -1, dtype=torch.long)
    tie = torch.zeros((b, size, size), dtype=torch.bool)
    for bi in range(b):
        best = torch.full((size, size), math.inf, dtype=torch.float64)
        for fi, (i0, i1, i2) in enumerate(faces.tolist()):
            p = [ndc_to_pixels(v[bi, i, :2], size) - 0.5 for i in (i0, i1, i2)]
            area = (p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[2][0] - p[0][0]) * (p[1][1] - p[0][1])
            if area == 0 or (cull and area > 0):
                continue
            ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64),
                                    indexing="ij")
            w = []
            for a, c in ((1, 2), (2, 0), (0, 1)):
                w.append(((p[a][0] - xs) * (p[c][1] - ys) - (p[c][0] - xs) * (p[a][1] - ys)) / area)
            inside = (w[0] >= 0) & (w[1] >= 0) & (w[2] >= 0)
            near_edge = inside & ((w[0].abs() < 1e-4) | (w[1].abs() < 1e-4) | (w[2].abs() < 1e-4))
            z = w[0] * v[bi, i0, 2] + w[1] * v[bi, i1, 2] + w[2] * v[bi, i2, 2]
            win = inside & (z < best)
            tie[bi] |= near_edge
            best = torch.where(win, z, best)
            out[bi][win] = fi
    return out, tie


@pytest.mark.parametrize("cull", [True, False])
def test_coverage_matches_brute_force(cull):
    verts, faces = _random_mesh(0, b=2, nf=12)
    frags = MeshRenderer(24, cull_backfaces=cull).rasterize(verts, faces)
    ref, tie = _brute_force(verts, faces, 24, cull=cull)
    ok = ~tie
    assert (frags.face_idx[ok] == ref[ok]).all()
    assert (ref >= 0).float().mean() > 0.2  # the test mesh does cover a good part of the image
    assert torch.equal(frags.mask, frags.face_idx >= 0)


def test_zbuffer_keeps_nearest_regardless_of_order():
    # two screen-filling counter-clockwise triangles at depths 3 (near) and 5 (far)
    tri = torch.tensor([[-1.0, -1.0], [3.0, -1.0], [-1.0, 3.0]])
    near = torch.cat([tri, torch.full((3, 1), 3.0)], 1)
    far = torch.cat([tri, torch.full((3, 1), 5.0)], 1)
    r = MeshRenderer(8)
    for order in ((near, far), (far, near)):
        verts = torch.cat(order).unsqueeze(0)
        faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
        frags = r.rasterize(verts, faces)
        expected = 0 if order[0] is near else 1
        assert frags.mask.all()
        assert (frags.face_idx == expected).all()
        assert torch.allclose(frags.depth, torch.full_like(frags.depth, 3.0))


def test_backfaces_are_culled():
    verts = torch.tensor([[[-1.0, -1.0, 1.0], [1.0, -1.0, 1.0], [0.0, 1.0, 1.0]]])
    ccw = torch.tensor([[0, 1, 2]])
    cw = torch.tensor([[0, 2, 1]])
    assert MeshRenderer(16).rasterize(verts, ccw).mask.any()
    assert not MeshRenderer(16).rasterize(verts, cw).mask.any()
    assert MeshRenderer(16, cull_backfaces=False).rasterize(verts, cw).mask.any()


def test_barycentrics_sum_to_one_and_interpolate_positions_exactly():
    verts, faces = _random_mesh(1, b=3, nf=20)
    r = MeshRenderer(32)
    frags = r.rasterize(verts, faces)
    s = frags.bary.sum(-1)[frags.mask]
    assert torch.allclose(s, torch.ones_like(s), atol=1e-5)
    assert (frags.bary[frags.mask] > -1e-4).all()
    # interpolating the NDC positions themselves must give back the pixel centres (screen-space interpolation)
    xy = r.interpolate(frags, verts[..., :2], faces)
    centres = (torch.arange(32, dtype=torch.float32) + 0.5) / 32 * 2 - 1
    gy, gx = torch.meshgrid(-centres, centres, indexing="ij")
    ref = torch.stack([gx, gy], -1).expand(3, -1, -1, -1)
    assert torch.allclose(xy[frags.mask], ref[frags.mask], atol=1e-4)
    assert (xy[~frags.mask] == 0).all()


def test_gradients_reach_vertices_and_attributes():
    verts, faces = _random_mesh(2, b=1, nf=6)
    verts.requires_grad_(True)
    colours = torch.rand(1, verts.shape[1], 3, requires_grad=True)
    r = MeshRenderer(16)
    frags = r.rasterize(verts, faces)
    img = r.interpolate(frags, colours, faces)
    img.sum().backward()
    assert colours.grad.abs().sum() > 0
    # the sum of colours is invariant to moving vertices inside a fixed coverage only if colours are constant;
    # with random colours the gradient to positions is non-zero
    assert verts.grad[..., :2].abs().sum() > 0


def test_sample_texture_hits_texel_centres():
    tex = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    i, j = 2, 1
    uv = torch.tensor([(j + 0.5) / 4, (i + 0.5) / 4]).view(1, 1, 1, 2).expand(2, 1, 1, 2)
    out = MeshRenderer.sample_texture(tex, uv)
    assert torch.allclose(out[:, :, 0, 0], tex[:, :, i, j])


def test_vertex_normals_of_a_sphere_point_outwards():
    # UV sphere, counter-clockwise seen from outside
    n_lat, n_lon = 16, 24
    lat = torch.linspace(-math.pi / 2 + 0.1, math.pi / 2 - 0.1, n_lat)
    lon = torch.linspace(0, 2 * math.pi, n_lon + 1)[:-1]
    la, lo = torch.meshgrid(lat, lon, indexing="ij")
    pts = torch.stack([la.cos() * lo.sin(), la.sin(), la.cos() * lo.cos()], -1).view(-1, 3)
    faces = []
    for a in range(n_lat - 1):
        for o in range(n_lon):
            p00, p01 = a * n_lon + o, a * n_lon + (o + 1) % n_lon
            p10, p11 = (a + 1) * n_lon + o, (a + 1) * n_lon + (o + 1) % n_lon
            faces += [[p00, p01, p11], [p00, p11, p10]]
    faces = torch.tensor(faces)
    n = vertex_normals(pts.unsqueeze(0) * 2.0, faces)[0]
    cos = (n * pts).sum(-1)
    assert cos.min() > 0.97


def test_lambert_and_sh_by_hand():
    n = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]).view(1, 2, 3)
    amb = torch.tensor([[0.1, 0.2, 0.3]])
    d = torch.tensor([[0.0, 0.6, 0.8]])
    col = torch.tensor([[1.0, 1.0, 0.5]])
    out = lambert_shading(n, amb, d, col)
    assert torch.allclose(out[0, 0], torch.tensor([0.1 + 0.8, 0.2 + 0.8, 0.3 + 0.4]))
    assert torch.allclose(out[0, 1], amb[0])
    basis = sh_basis(torch.tensor([0.0, 0.0, 1.0]))
    assert basis.shape == (9,)
    assert math.isclose(basis[0].item(), math.pi * 0.282095, rel_tol=1e-6)
    assert basis[1] == 0 and basis[3] == 0 and basis[2] > 0


def _tiny_model():
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(5, 3, generator=g)
    return MorphableModel(mean, torch.randn(5, 3, 4, generator=g), torch.randn(5, 3, 2, generator=g),
                          torch.tensor([[0, 1, 2], [2, 3, 4]]), landmark_indices=torch.tensor([4, 0]))


def test_morphable_model_is_linear_and_rotates():
    m = _tiny_model()
    a, e = torch.randn(3, 4), torch.randn(3, 2)
    v = m.vertices(a, e)
    ref = m.mean_shape + torch.einsum("vck,bk->bvc", m.id_basis.view(5, 3, 4), a) + torch.einsum(
        "vck,bk->bvc", m.exp_basis.view(5, 3, 2), e)
    assert torch.allclose(v, ref, atol=1e-5)
    assert torch.allclose(m.vertices(torch.zeros(1, 4))[0], m.mean_shape)
    # yaw +90 deg turns the +z axis (the nose) to +x; pitch +90 turns it to +y; roll +90 turns +x to +y
    z = torch.tensor([[[0.0, 0.0, 1.0]]])
    for pose, want in (((math.pi / 2, 0, 0), (1, 0, 0)), ((0, math.pi / 2, 0), (0, 1, 0))):
        out = m.transform(z, torch.tensor([pose]))
        assert torch.allclose(out, torch.tensor([[want]], dtype=torch.float32), atol=1e-6)
    out = m.transform(torch.tensor([[[1.0, 0.0, 0.0]]]), torch.tensor([[0, 0, math.pi / 2]]))
    assert torch.allclose(out, torch.tensor([[[0.0, 1.0, 0.0]]]), atol=1e-6)
    r = rotation_matrix(torch.randn(4, 3))
    assert torch.allclose(r @ r.transpose(1, 2), torch.eye(3).expand(4, 3, 3), atol=1e-5)
    assert torch.equal(m.landmarks(v), v[:, [4, 0]])


def test_morphable_model_rejects_bad_shapes():
    with pytest.raises(ValueError, match="id_basis"):
        MorphableModel(torch.zeros(5, 3), torch.zeros(4, 3, 2), torch.zeros(5, 3, 1), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="verts_ndc"):
        MeshRenderer(8).rasterize(torch.zeros(3, 3), torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="backend"):
        MeshRenderer(8, backend="opengl")


def test_sparse_texture_lookup_matches_grid_sample():
    g = torch.Generator().manual_seed(4)
    tex = torch.rand(3, 4, 16, 12, generator=g)
    uv = torch.rand(3, 5, 7, 2, generator=g) * 1.2 - 0.1  # includes points beyond the border
    dense = MeshRenderer.sample_texture(tex, uv)  # (3, 4, 5, 7)
    bidx = torch.arange(3).view(3, 1, 1).expand(3, 5, 7).reshape(-1)
    sparse = MeshRenderer.sample_texture_sparse(tex, uv.reshape(-1, 2), bidx)
    assert torch.allclose(sparse, dense.permute(0, 2, 3, 1).reshape(-1, 4), atol=1e-5)
