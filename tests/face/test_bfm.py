"""BFM 2009 / 2017 loaders, tested on tiny files written here in the official layouts."""

import numpy as np
import pytest
import torch

from facezoo.face.bfm import load_bfm, load_bfm2009

# A 4-vertex "face" (a pyramid seen from +z), two triangles, wound clockwise from the front on purpose.
MEAN = np.array([[0, 0, 10], [10, 0, 0], [0, 10, 0], [-10, -10, 0]], dtype=np.float64)
TRIS = np.array([[0, 2, 1], [0, 3, 2]])  # clockwise seen from +z


def _random_model(rng, v=4, k_id=3, k_exp=2, k_tex=3):
    def orthonormal(k):
        q, _ = np.linalg.qr(rng.normal(size=(3 * v, k)))
        return q

    return dict(shape_pc=orthonormal(k_id), shape_std=rng.uniform(1, 3, k_id), exp_pc=orthonormal(k_exp),
                exp_std=rng.uniform(0.5, 1, k_exp), tex_mean=rng.uniform(50, 200, 3 * v), tex_pc=orthonormal(k_tex),
                tex_std=rng.uniform(5, 10, k_tex))


def test_bfm2009_round_trip(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    p = _random_model(rng)
    savemat(tmp_path / "01_MorphableModel.mat", {
        "shapeMU": MEAN.reshape(-1, 1) * 1000, "shapePC": p["shape_pc"], "shapeEV": p["shape_std"][:, None] * 1000,
        "texMU": p["tex_mean"][:, None], "texPC": p["tex_pc"], "texEV": p["tex_std"][:, None],
        "tl": TRIS + 1, "segbin": np.zeros((4, 4)),
    })
    loaded = load_bfm(tmp_path / "01_MorphableModel.mat")  # default scale 1e-3: micrometres to millimetres
    m = loaded.model
    assert loaded.source == "bfm2009" and m.num_vertices == 4 and m.num_id == 3 and m.num_exp == 0
    torch.testing.assert_close(m.mean_shape, torch.tensor(MEAN, dtype=torch.float32))
    # Coefficients are in standard deviations: vertices = mean + sum_k c_k * std_k * pc_k.
    c = torch.tensor([[0.5, -1.0, 2.0]])
    expected = MEAN.reshape(-1) + p["shape_pc"] @ (c[0].numpy() * p["shape_std"])
    torch.testing.assert_close(m.vertices(c)[0], torch.tensor(expected.reshape(4, 3), dtype=torch.float32), atol=1e-4, rtol=1e-5)
    # 1-based MATLAB triangles become 0-based and are re-wound counter-clockwise from the front (+z normals).
    tris = m.triangles
    assert sorted(map(sorted, tris.tolist())) == sorted(map(sorted, TRIS.tolist()))
    verts = m.mean_shape
    normals = torch.linalg.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]], dim=-1)
    assert (normals[:, 2] > 0).all()
    # Albedo in [0, 1].
    torch.testing.assert_close(loaded.albedo(torch.zeros(1, 3))[0],
                               torch.tensor(p["tex_mean"].reshape(4, 3) / 255, dtype=torch.float32))
    truncated = load_bfm2009(tmp_path / "01_MorphableModel.mat", num_id=2, num_tex=1)
    assert truncated.model.num_id == 2 and truncated.albedo_basis.shape == (4, 3, 1)


def test_bfm2017_round_trip(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(1)
    p = _random_model(rng)
    with h5py.File(tmp_path / "model2017-1_bfm_nomouth.h5", "w") as f:
        for name, mean, pc, std in (("shape", MEAN.reshape(-1), p["shape_pc"], p["shape_std"]),
                                    ("expression", np.zeros(12), p["exp_pc"], p["exp_std"]),
                                    ("color", p["tex_mean"] / 255, p["tex_pc"], p["tex_std"] / 255)):
            g = f.create_group(f"{name}/model")
            g["mean"], g["pcaBasis"], g["pcaVariance"] = mean, pc, std**2
        f["shape/representer/cells"] = TRIS.T
        f["shape/representer/points"] = MEAN.T
    loaded = load_bfm(tmp_path / "model2017-1_bfm_nomouth.h5")
    m = loaded.model
    assert loaded.source == "bfm2017" and (m.num_id, m.num_exp) == (3, 2)
    e = torch.tensor([[1.0, -0.5]])
    expected = MEAN.reshape(-1) + p["exp_pc"] @ (e[0].numpy() * p["exp_std"])
    torch.testing.assert_close(m.vertices(torch.zeros(1, 3), e)[0],
                               torch.tensor(expected.reshape(4, 3), dtype=torch.float32), atol=1e-5, rtol=1e-5)
    t = torch.tensor([[1.0, 0.0, 0.0]])
    expected_tex = (p["tex_mean"] + p["tex_pc"][:, 0] * p["tex_std"][0]) / 255
    torch.testing.assert_close(loaded.albedo(t)[0], torch.tensor(expected_tex.reshape(4, 3), dtype=torch.float32),
                               atol=1e-5, rtol=1e-5)


def test_bfm_errors(tmp_path):
    from scipy.io import savemat

    with pytest.raises(FileNotFoundError, match="no BFM 2009 file"):
        load_bfm(tmp_path / "missing.mat")
    savemat(tmp_path / "bad.mat", {"shapeMU": np.zeros((3, 1))})
    with pytest.raises(ValueError, match="missing"):
        load_bfm(tmp_path / "bad.mat")
    with pytest.raises(ValueError, match="unknown BFM file type"):
        load_bfm(tmp_path / "model.obj")
