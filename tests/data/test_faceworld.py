"""FaceWorld ground truth checked against itself and against independent re-computation, not just shapes."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from facezoo.data.faceworld import (
    ALL_KEYS, EXPRESSION_PRESETS, EXPRESSIONS, FACE_CLASSES, FAST_KEYS, OCCLUDERS, PARAM_SLICES, SEMANTIC_CLASSES,
    FaceWorld, FaceWorldRenderer, FaceWorldStream, render_batch, sample_scenes, shade, split_identities,
)
from facezoo.face.render import MeshRenderer, vertex_normals

SIZE = 64


@pytest.fixture(scope="module")
def ds():
    return FaceWorld(split="train", size=SIZE, seed=0, num_identities=8, samples_per_identity=3, occluder_prob=0.5)


@pytest.fixture(scope="module")
def batch(ds):
    return ds.get_batch(list(range(len(ds))))


def test_splits_are_disjoint_deterministic_and_sized():
    tr, va, te = (split_identities(s) for s in ("train", "val", "test"))
    assert (len(tr), len(va), len(te)) == (8000, 1000, 1000)
    assert not (set(tr) & set(va)) and not (set(tr) & set(te)) and not (set(va) & set(te))
    assert np.array_equal(tr, split_identities("train"))
    with pytest.raises(ValueError, match="split"):
        split_identities("dev")


def test_indexing_keys_shapes_and_ranges(ds, batch):
    assert len(ds) == 8 * 3
    ids = split_identities("train")[:8]
    s = ds[7]
    assert set(s) == set(ALL_KEYS)
    assert s["identity"].item() == ids[7 // 3] and s["identity_index"].item() == 7 // 3
    t = 128
    shapes = {"image": (3, SIZE, SIZE), "face_mask": (1, SIZE, SIZE), "occluder_mask": (1, SIZE, SIZE),
              "semantic": (SIZE, SIZE), "landmarks": (68, 2), "landmarks_3d": (68, 3), "uv_texture": (3, t, t),
              "uv_visibility": (1, t, t), "frontal": (3, SIZE, SIZE), "second_view": (3, SIZE, SIZE),
              "second_pose": (3,), "sketch": (1, SIZE, SIZE), "lowres": (3, 32, 32), "pose": (3,)}
    for k, shape in shapes.items():
        assert tuple(s[k].shape) == shape, k
    assert s["semantic"].dtype == torch.int64 and s["identity"].dtype == torch.int64
    assert s["id_coeffs"].numel() >= 20 and s["exp_coeffs"].numel() >= 8
    for k in ("image", "frontal", "second_view", "uv_texture", "lowres"):
        assert 0 <= s[k].min() and s[k].max() <= 1
    for k in ("face_mask", "occluder_mask", "uv_visibility", "sketch"):
        assert set(s[k].unique().tolist()) <= {0.0, 1.0}
    # params is the documented concatenation
    for name in ("id", "exp", "pose", "light", "albedo", "camera"):
        key = {"id": "id_coeffs", "exp": "exp_coeffs", "albedo": "albedo_coeffs"}.get(name, name)
        assert torch.equal(batch["params"][:, PARAM_SLICES[name]], batch[key])
    assert (batch["pose"].abs() <= torch.tensor([90, 30, 20]) * math.pi / 180 + 1e-6).all()
    with pytest.raises(IndexError):
        ds.get_batch([len(ds)])


def test_same_seed_gives_bit_identical_samples(ds):
    a, b = ds[5], FaceWorld(split="train", size=SIZE, seed=0, num_identities=8, samples_per_identity=3,
                            occluder_prob=0.5)[5]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    c = FaceWorld(split="train", size=SIZE, seed=1, num_identities=8, samples_per_identity=3, occluder_prob=0.5)[5]
    assert not torch.equal(a["image"], c["image"])
    assert torch.equal(a["id_coeffs"], c["id_coeffs"])  # identity does not depend on the scene seed


def test_fast_keys_render_only_those(ds):
    fast = FaceWorld(split="train", size=SIZE, seed=0, num_identities=8, samples_per_identity=3, occluder_prob=0.5,
                     keys=FAST_KEYS)[5]
    assert tuple(fast) == FAST_KEYS
    # the full set renders three views in one batch, so only the last float bits may differ
    assert torch.allclose(fast["image"], ds[5]["image"], atol=1e-5)


def test_masks_agree_with_each_other(batch):
    sem, face, occ = batch["semantic"], batch["face_mask"][:, 0].bool(), batch["occluder_mask"][:, 0].bool()
    in_face_classes = torch.zeros_like(face)
    for c in FACE_CLASSES:
        in_face_classes |= sem == c
    assert torch.equal(face, in_face_classes)
    assert not (face & occ).any()
    occ_classes = (sem == SEMANTIC_CLASSES.index("eye_g")) | (sem == SEMANTIC_CLASSES.index("occluder"))
    assert torch.equal(occ, occ_classes)
    has_occ = batch["occluder_mask"].flatten(1).sum(1) > 0
    assert has_occ.any() and (~has_occ).any()
    # the sketch is the boundary of the label map: non-empty, sparse, and never inside a uniform region
    edges = batch["sketch"][:, 0].bool()
    assert edges.any() and edges.float().mean() < 0.2
    same_right = torch.zeros_like(edges)
    same_right[:, :, :-1] = sem[:, :, :-1] == sem[:, :, 1:]
    same_down = torch.zeros_like(edges)
    same_down[:, :-1] = sem[:, :-1] == sem[:, 1:]
    assert not (edges & same_right & same_down).any()
    assert torch.allclose(batch["lowres"], F.interpolate(batch["image"], size=(32, 32), mode="area"))


def test_landmarks_fall_on_the_rendered_face():
    ds = FaceWorld(split="val", size=SIZE, seed=3, num_identities=12, samples_per_identity=2, occluder_prob=0.0,
                   keys=("face_mask", "landmarks", "pose"))
    out = ds.get_batch(list(range(len(ds))))
    near_frontal = out["pose"][:, 0].abs() < 30 * math.pi / 180
    assert near_frontal.sum() >= 8
    face = F.max_pool2d(out["face_mask"], 3, 1, 1)[:, 0].bool()  # one pixel of slack for boundary points
    lm = out["landmarks"]
    x = lm[..., 0].floor().long().clamp(0, SIZE - 1)
    y = lm[..., 1].floor().long().clamp(0, SIZE - 1)
    hit = face[torch.arange(lm.shape[0]).view(-1, 1), y, x]
    inner = hit[near_frontal][:, 17:]  # brows, nose, eyes, mouth
    contour = hit[near_frontal][:, :17]
    assert inner.float().mean() == 1.0
    assert contour.float().mean() > 0.9


def test_frontal_is_zero_pose_neutral_render(ds):
    scene = ds.scenes([4, 5])
    out = ds.renderer.render(scene, ("frontal", "image"))
    edited = {k: v.clone() for k, v in scene.items()}
    edited["pose"].zero_()
    edited["exp_coeffs"].zero_()
    edited["occluder"].fill_(-1)
    direct = ds.renderer.render(edited, ("image",))["image"]
    assert torch.allclose(out["frontal"], direct, atol=1e-6)
    # frontal does not depend on the sample's pose or expression
    other = {k: v.clone() for k, v in scene.items()}
    other["pose"] = torch.tensor([[0.7, 0.2, -0.1], [-0.5, 0.1, 0.2]])
    other["exp_coeffs"] = torch.from_numpy(EXPRESSION_PRESETS[[7, 5]]).float()
    assert torch.allclose(ds.renderer.render(other, ("frontal",))["frontal"], out["frontal"], atol=1e-6)
    # and it is a frontal view: the mirrored head silhouette nearly coincides with itself
    frontal_sem = ds.renderer.render(edited, ("semantic",))["semantic"]
    head = frontal_sem > 0
    iou = (head & head.flip(-1)).sum() / (head | head.flip(-1)).sum()
    assert iou > 0.9


def test_rerendering_the_uv_texture_reproduces_the_image(ds):
    """Independent re-render from the ground truth (shape/pose/camera parameters, uv_texture, light) with the
    generic rasterizer and area-weighted normals. Tolerance: mean abs error < 0.01 and 99% of pixels within 0.05
    on head pixels away from silhouettes and occluders (the dataset uses grid normals and 2x supersampling)."""
    s = ds.get_batch([0, 4, 9, 13])
    r = ds.renderer
    model = r.model
    hr = SIZE * r.ss
    scene = ds.scenes([0, 4, 9, 13])
    extras = {}
    r.painter(scene, with_labels=False, extras=extras)
    hair = r.hair_offsets(extras["hair"], s["albedo_coeffs"])
    verts = r.camera_vertices(s["id_coeffs"], s["exp_coeffs"], s["pose"], hair)
    rigid = model.transform(model.vertices(s["id_coeffs"], s["exp_coeffs"]), s["pose"])
    # everything from the jaw up that is not under hair follows the documented rigid pose of the linear model
    head = (model.mean_shape[:, 1] > -0.95) & (hair.norm(dim=-1) == 0).all(0)
    assert head.sum() > 1000
    assert torch.allclose(verts[:, head], rigid[:, head], atol=1e-5)
    assert torch.allclose(s["landmarks_3d"], model.landmarks(rigid), atol=1e-5)
    ndc = r.project(verts, s["camera"])
    mr = MeshRenderer(hr)
    frags = mr.rasterize(ndc, model.triangles)
    uv = mr.interpolate(frags, model.uv_coords, model.triangles)
    normals = mr.interpolate(frags, vertex_normals(verts, model.triangles), model.triangles)
    normals = F.normalize(normals.permute(0, 3, 1, 2), dim=1)
    albedo = mr.sample_texture(s["uv_texture"], uv)
    rgb = F.avg_pool2d(shade(albedo, normals, s["light"]).clamp(0, 1), r.ss)
    head = F.avg_pool2d(frags.mask.unsqueeze(1).float(), r.ss) == 1
    valid = -F.max_pool2d(-head.float(), 3, 1, 1) * (1 - F.max_pool2d(s["occluder_mask"], 3, 1, 1))
    valid = valid.bool().expand(-1, 3, -1, -1)
    err = (rgb - s["image"]).abs()[valid]
    assert valid.sum() > 4 * 3 * 300
    assert err.mean() < 0.01
    assert torch.quantile(err, 0.99) < 0.05


def test_uv_visibility_follows_the_pose():
    renderer = FaceWorldRenderer(SIZE)
    scene = sample_scenes([3, 3], [(0, 1), (0, 1)], 0.0, 0.0)
    scene["pose"] = torch.tensor([[0.0, 0.0, 0.0], [1.2, 0.0, 0.0]])
    vis = renderer.render(scene, ("uv_visibility",))["uv_visibility"][:, 0]
    t = vis.shape[-1]
    centre, back = vis[:, :, t // 2 - 4: t // 2 + 4], vis[:, :, :4]
    # facing the camera, the face (middle of the UV map) is visible and the back of the head (u ~ 0) is not
    assert centre[0, t // 3: 2 * t // 3].mean() > 0.8
    assert back[0].sum() == 0
    # turned by +69 degrees (nose to +x), the subject's right side (x < 0, u < 0.5) turns towards the camera
    # and the left side (u > 0.5) away from it
    right_side, left_side = vis[1, :, : t // 2].mean(), vis[1, :, t // 2:].mean()
    assert right_side > 4 * left_side


def test_expressions_follow_their_presets(batch):
    presets = torch.from_numpy(EXPRESSION_PRESETS).float()
    for e, label in zip(batch["exp_coeffs"], batch["expression"]):
        if label == 0:
            assert e.abs().max() < 0.25
        else:
            sims = F.cosine_similarity(e.unsqueeze(0), presets[1:], dim=1)
            assert sims.argmax().item() + 1 == label.item()
    assert len(EXPRESSIONS) == 8 and EXPRESSIONS[0] == "neutral"


def test_identities_are_distinct():
    scene = sample_scenes(list(range(40)), [(0, 0)] * 40, 0.0, 0.0)
    scene["exp_coeffs"].zero_()
    img = render_batch(scene, size=32, keys=("image",))["image"].flatten(1)
    dist = torch.cdist(img, img) + torch.eye(40) * 1e3
    # same scene, different identities: every pair differs clearly (RMS difference over 0.03 per value)
    assert (dist.min() / math.sqrt(img.shape[1])) > 0.03
    coeffs = torch.cat([scene["id_coeffs"], scene["albedo_coeffs"]], 1)
    assert torch.unique(coeffs, dim=0).shape[0] == 40


def test_stream_is_reproducible_resumable_and_sharded(monkeypatch):
    kw = dict(split="train", size=32, batch_size=4, seed=7, keys=("image", "identity"), num_batches=4)
    first = list(FaceWorldStream(**kw))
    again = list(FaceWorldStream(**kw))
    assert len(first) == 4
    for a, b in zip(first, again):
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["identity"], b["identity"])
    resumed = list(FaceWorldStream(start_batch=2, **kw))
    assert len(resumed) == 2 and torch.equal(resumed[0]["image"], first[2]["image"])
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    rank1 = list(FaceWorldStream(**kw))
    assert len(rank1) == 2
    assert torch.equal(rank1[0]["image"], first[1]["image"]) and torch.equal(rank1[1]["image"], first[3]["image"])
    assert not torch.equal(first[0]["image"], first[1]["image"])
    train = set(split_identities("train").tolist())
    assert all(int(i) in train for b in first for i in b["identity"])


def test_occluders_cover_their_kind_and_glasses_keep_the_eyes():
    renderer = FaceWorldRenderer(SIZE)
    n = len(OCCLUDERS)
    scene = sample_scenes([11] * n, [(0, 2)] * n, 0.0, 0.0)
    scene["pose"].zero_()
    scene["occluder"] = torch.arange(n)
    out = renderer.render(scene, ("occluder_mask", "semantic"))
    area = out["occluder_mask"].flatten(1).mean(1)
    assert (area > 0.002).all()
    eyes = (out["semantic"] == SEMANTIC_CLASSES.index("l_eye")) | (out["semantic"] == SEMANTIC_CLASSES.index("r_eye"))
    assert eyes[OCCLUDERS.index("clear_glasses")].sum() > 4  # visible behind the lenses
    assert eyes[OCCLUDERS.index("sunglasses")].sum() == 0


def test_export_cli_writes_a_face_folder_that_reads_back(tmp_path):
    from facezoo.data.faceworld.__main__ import main
    from facezoo.data.folder import FaceFolderDataset

    out = tmp_path / "fw"
    main(["export", "--num", "3", "--size", "32", "--out", str(out), "--split", "val", "--seed", "2",
          "--samples-per-identity", "2", "--batch-size", "2"])
    folder = FaceFolderDataset(str(out))
    assert len(folder) == 3 and folder.meta["source"] == "faceworld"
    assert folder.meta["semantic_classes"] == list(SEMANTIC_CLASSES)
    ref = FaceWorld(split="val", size=32, seed=2, samples_per_identity=2, occluder_prob=0.3)
    for i in range(3):
        got, want = folder[i], ref[i]
        assert set(got) == set(want)
        for k in want:
            assert got[k].shape == want[k].shape and got[k].dtype == want[k].dtype, k
        assert (got["image"] - want["image"]).abs().max() <= 1 / 255 + 1e-4  # 8-bit PNG
        assert torch.equal(got["semantic"], want["semantic"]) and torch.equal(got["identity"], want["identity"])
        assert torch.equal(got["face_mask"], want["face_mask"])
        assert torch.allclose(got["params"], want["params"])
    subset = FaceFolderDataset(str(out), keys=("image", "landmarks"))
    assert tuple(subset[0]) == ("image", "landmarks")
    with pytest.raises(KeyError):
        FaceFolderDataset(str(out), keys=("depth",))
    with pytest.raises(FileNotFoundError):
        FaceFolderDataset(str(tmp_path / "nothing"))
