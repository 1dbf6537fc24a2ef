import numpy as np
import pytest
import torch

from facezoo.face.mesh_io import load_obj, save_obj


def test_textured_obj_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    verts = torch.tensor(rng.normal(size=(5, 3)), dtype=torch.float32)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3], [3, 4, 0]])
    uv = torch.tensor(rng.uniform(size=(5, 2)), dtype=torch.float32)
    texture = torch.rand(3, 8, 8)
    path = save_obj(tmp_path / "mesh" / "face.obj", verts, faces, uv=uv, texture=texture)
    assert path.is_file() and (tmp_path / "mesh" / "face.mtl").is_file() and (tmp_path / "mesh" / "face.png").is_file()
    text = path.read_text()
    assert "mtllib face.mtl" in text and "f 1/1 2/2 3/3" in text
    # OBJ's v axis points up: the first vertex's vt is (u, 1 - v).
    first_vt = [line for line in text.splitlines() if line.startswith("vt ")][0].split()
    assert float(first_vt[2]) == pytest.approx(1.0 - float(uv[0, 1]), abs=1e-5)
    mesh = load_obj(path)
    np.testing.assert_allclose(mesh.vertices, verts.numpy(), atol=1e-5)
    np.testing.assert_array_equal(mesh.faces, faces.numpy())
    np.testing.assert_allclose(mesh.uv, uv.numpy(), atol=1e-5)
    np.testing.assert_array_equal(mesh.texture, (texture.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))


def test_untextured_obj_with_vertex_colors(tmp_path):
    verts = np.eye(3)
    path = save_obj(tmp_path / "tri.obj", verts, np.array([[0, 1, 2]]), vertex_colors=np.full((3, 3), 0.5))
    assert not (tmp_path / "tri.mtl").exists()
    assert "v 1.000000 0.000000 0.000000 0.5000 0.5000 0.5000" in path.read_text()
    mesh = load_obj(path)
    assert mesh.uv is None and mesh.texture is None
    np.testing.assert_allclose(mesh.vertices, verts)


def test_obj_errors(tmp_path):
    with pytest.raises(ValueError, match="needs per-vertex uv"):
        save_obj(tmp_path / "a.obj", np.eye(3), np.array([[0, 1, 2]]), texture=np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="face indices"):
        save_obj(tmp_path / "a.obj", np.eye(3), np.array([[0, 1, 3]]))
    with pytest.raises(ValueError, match=".obj"):
        save_obj(tmp_path / "a.ply", np.eye(3), np.array([[0, 1, 2]]))


def test_faceworld_head_exports_with_its_texture(tmp_path):
    from facezoo.data.faceworld import FaceWorld

    ds = FaceWorld("test", 32, num_identities=1, samples_per_identity=1, keys=("uv_texture", "id_coeffs", "exp_coeffs"))
    sample = ds.get_batch([0])
    model = ds.renderer.model
    verts = model.vertices(sample["id_coeffs"], sample["exp_coeffs"])[0]
    path = save_obj(tmp_path / "head.obj", verts, model.triangles, uv=model.uv_coords, texture=sample["uv_texture"][0])
    mesh = load_obj(path)
    assert mesh.faces.shape == tuple(model.triangles.shape) and mesh.texture.shape[:2] == sample["uv_texture"].shape[-2:]
    np.testing.assert_allclose(mesh.vertices, verts.numpy(), atol=1e-5)
    used = np.unique(mesh.faces)
    np.testing.assert_allclose(mesh.uv[used], model.uv_coords.numpy()[used], atol=1e-5)
