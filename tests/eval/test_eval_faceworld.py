"""`python -m facezoo.eval faceworld`: the helpers against hand-computed values, and a quick run of the report."""

import argparse
import math

import numpy as np
import PIL.Image
import pytest
import torch

from facezoo.data.faceworld import OCCLUDERS, FaceWorld
from facezoo.eval import faceworld as fw
from facezoo.face.identity_net import IdentityNet

TINY = fw.Settings(gt_samples=len(OCCLUDERS), identities=6, speed_sizes=(32,), speed_batch=2, speed_repeats=1,
                   sheet_samples=2, size=32)


def test_probe_verification_counts_and_perfect_separation():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(8, 16))
    # probes equal to their references (scaled: cosine ignores length) → every genuine pair scores 1
    out = fw.probe_verification(ref, 3.0 * ref, seed=1)
    assert out["genuine_pairs"] == 8 and out["impostor_pairs"] == 56
    assert out["roc_auc"] == 1.0 and out["tar_at_far_1e-3"] == 1.0 and out["accuracy"] == 1.0
    assert out["genuine_cos"] == pytest.approx(1.0)
    sims = ref @ ref.T / np.outer(np.linalg.norm(ref, axis=1), np.linalg.norm(ref, axis=1))
    assert out["impostor_cos"] == pytest.approx(sims[~np.eye(8, dtype=bool)].mean())
    with pytest.raises(ValueError, match="same number"):
        fw.probe_verification(ref, ref[:5])


def test_probe_verification_hand_computed_auc():
    # 2 identities in 2-D: genuine cosines 1 and 0, impostor cosines 0 and -1 (see the vectors) →
    # genuine beats impostor in 1 (1>0) + 1 (1>-1) + 0.5 (0=0) + 1 (0>-1) of 4 comparisons
    ref = np.array([[1.0, 0.0], [0.0, 1.0]])
    probe = np.array([[1.0, 0.0], [-1.0, 0.0]])
    out = fw.probe_verification(ref, probe, n_folds=2)
    assert out["roc_auc"] == pytest.approx(3.5 / 4)
    assert out["genuine_cos"] == pytest.approx(0.5) and out["impostor_cos"] == pytest.approx(-0.5)
    # FAR = 0 needs a threshold above the impostor at 0, which accepts only the genuine pair at 1: TAR 1/2
    assert out["tar_at_far_1e-3"] == pytest.approx(0.5)


def test_landmark_hits_on_a_hand_drawn_mask():
    mask = torch.zeros(1, 1, 8, 8)
    mask[0, 0, 2:4, 2:4] = 1  # rows 2-3, cols 2-3
    lm = torch.tensor([[[2.5, 2.5], [4.9, 3.0], [5.0, 3.0], [0.5, 0.5], [3.5, 1.2]]])  # (x, y)
    hits = fw.landmark_hits(lm, mask)
    # inside; one pixel right of the mask (dilation); two pixels right; far away; one row above
    assert hits.tolist() == [[True, True, False, False, True]]


def test_rerender_matches_the_image_and_detects_a_wrong_texture():
    ds = FaceWorld(split="test", size=32, seed=2, num_identities=3, samples_per_identity=1, occluder_prob=0.5)
    scene = ds.scenes([0, 1, 2])
    sample = ds.renderer.render(scene, "all")
    rgb, valid = fw.rerender_uv_texture(ds.renderer, scene, sample)
    assert rgb.shape == sample["image"].shape and valid.shape == (3, 1, 32, 32)
    assert valid.sum() > 3 * 60
    assert not (valid.bool() & (sample["occluder_mask"] > 0)).any()
    err = ((rgb - sample["image"]).abs() * valid).sum() / (3 * valid.sum())
    assert err < 0.01
    # the texture of another identity must not reproduce the image
    wrong = dict(sample, uv_texture=sample["uv_texture"].roll(1, 0))
    rgb_wrong, _ = fw.rerender_uv_texture(ds.renderer, scene, wrong)
    err_wrong = ((rgb_wrong - sample["image"]).abs() * valid).sum() / (3 * valid.sum())
    assert err_wrong > 5 * err


def test_ground_truth_consistency_and_coverage_figures():
    ds = FaceWorld(split="test", size=32, seed=0, num_identities=2, samples_per_identity=len(OCCLUDERS))
    scene = ds.scenes(list(range(len(OCCLUDERS))))
    scene["pose"][:, 0] = 0.0
    occluded_scene = dict(scene, occluder=torch.arange(len(OCCLUDERS)))
    occluded = ds.renderer.render(occluded_scene, "all")
    clean = ds.renderer.render(dict(scene, occluder=torch.full_like(scene["occluder"], -1)), "all")
    m = fw.ground_truth_consistency(occluded, occluded_scene, ds.renderer)
    assert m["samples"] == m["near_frontal"] == len(OCCLUDERS)
    assert m["inner_lm_hit"] == 1.0 and m["face_iou"] == 1.0 and m["occluder_iou"] == 1.0
    assert m["rerender_psnr"] > 30 and m["rerender_l1"] < 0.02
    occluded["_occluder"] = occluded_scene["occluder"]
    rows = fw.occluder_coverage(occluded, clean)
    assert [r[0] for r in rows] == list(OCCLUDERS) and all(r[1] == 1 for r in rows)
    k = OCCLUDERS.index("medical_mask")
    expected = float((occluded["occluder_mask"][k] * clean["face_mask"][k]).sum() / clean["face_mask"][k].sum())
    assert rows[k][3] == pytest.approx(expected) and rows[k][2] == pytest.approx(float(occluded["occluder_mask"][k].mean()))
    # a medical mask hides more of the face than the frames of clear glasses
    assert rows[k][3] > rows[OCCLUDERS.index("clear_glasses")][3]


def test_condition_scenes_follow_their_definition():
    scenes = fw.condition_scenes([5, 6, 7, 8], seed=3)
    assert list(scenes) == ["reference", *fw.CONDITIONS]
    for name, s in scenes.items():
        assert s["identity"].tolist() == [5, 6, 7, 8]
        yaw = s["pose"][:, 0].abs()
        if name.startswith("profile"):
            assert (yaw > 45 * fw.DEG).all()
        else:
            assert (yaw < 10 * fw.DEG).all()
        assert ((s["occluder"] >= 0) == (name == "occluder")).all()
        assert ((s["expression"] > 0) == (name == "expression")).all()
    # every render draws its own light: the two frontal-neutral renders are not the same picture
    assert not torch.equal(scenes["reference"]["light"], scenes["frontal-neutral"]["light"])


def test_render_speed_restores_threads():
    before = torch.get_num_threads()
    rate = fw.render_speed(32, ("image",), batch_size=2, repeats=1)
    assert rate > 0 and math.isfinite(rate)
    assert torch.get_num_threads() == before


def test_quick_report_with_a_tiny_random_recogniser(tmp_path):
    torch.manual_seed(0)
    net = IdentityNet(sample_size=32, widths=(8, 8), blocks=(1, 1), head_channels=4, embedding_dim=16).eval()
    args = argparse.Namespace(quick=True, seed=0, assets=tmp_path, data={})
    report = fw.main(args, recognisers={"tiny": net}, settings=TINY)
    md = report.to_markdown()
    for title in ("Ground-truth consistency", "Occluder coverage per kind", "Identity distinctness",
                  "Render speed (1 thread)"):
        assert f"### {title}" in md
    assert "Quick run" in md
    rows = [line for line in md.splitlines() if line.startswith("| tiny |")]
    assert [r.split(" | ")[1] for r in rows] == list(fw.CONDITIONS)
    assert "6 genuine and 30 impostor pairs" in md
    sheet = PIL.Image.open(tmp_path / "contact_sheet.png")
    # 2 rows x 3 columns of 32 px cells with 2 px padding, upscaled 2x
    assert sheet.size == (2 * (3 * 34 + 2), 2 * (2 * 34 + 2))


def test_missing_recogniser_becomes_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(fw, "_load_recogniser", lambda name: (None, "no weights here"))
    tiny = fw.Settings(gt_samples=2, identities=3, speed_sizes=(32,), speed_batch=2, speed_repeats=1,
                       sheet_samples=1, size=32)
    md = fw.main(argparse.Namespace(quick=True, seed=1, assets=None, data={}), settings=tiny).to_markdown()
    assert "`identitynet_eval.faceworld_64` is not available (no weights here)" in md
    assert "### Identity distinctness\n" in md and "TAR @ FAR" not in md
