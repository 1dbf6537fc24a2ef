"""`python -m facezoo.eval facefeat` on tiny pipelines: the report's tables, ablation rows and direction checks."""

import argparse

import numpy as np
import pytest
import torch

import facezoo
from facezoo.eval import facefeat as ev
from facezoo.utils.testing import make_tiny_facefeat

pytestmark = pytest.mark.skipif(not facezoo.list_models("identitynet_eval.*"), reason="evaluation recogniser not shipped")


def test_verification_pairs_are_balanced_and_labelled():
    labels = np.array([0, 0, 1, 1, 2, 2, 3])
    pairs, same = ev.verification_pairs(labels, np.random.default_rng(0), 50)
    assert pairs.shape == (100, 2) and same.sum() == 50
    assert np.all((labels[pairs[:, 0]] == labels[pairs[:, 1]]) == same.astype(bool))
    assert np.all(pairs[:, 0] != pairs[:, 1])


def test_quick_report_with_ablations(tmp_path, monkeypatch):
    main_folder = tmp_path / "main"
    make_tiny_facefeat(seed=0).save_pretrained(main_folder)
    for name, seed in (("none", 1), ("no_phi_f", 2)):
        make_tiny_facefeat(seed=seed).save_pretrained(tmp_path / "runs" / f"facefeat_ablation_{name}")
    monkeypatch.setenv("FACEZOO_ABLATION_DIR", str(tmp_path / "runs"))
    args = argparse.Namespace(quick=True, seed=0, data={}, assets=tmp_path / "assets", model=str(main_folder))
    report = ev.main(args)
    md = report.to_markdown()
    for title in ("Table 1 analogue", "Table 3 analogue", "Table 4 analogue", "Pose / expression control"):
        assert title in md
    assert "97.62 ± 0.78" in md and "0.693" in md  # the paper's numbers stand next to ours
    assert "| ours | (b) w/o φ^f |" in md and "| ours | (e) full model |" in md
    assert "| ours | (a) w/o φ_id |" not in md
    assert "no_phi_id" in md  # the missing runs are named, with the command that trains them
    checks = {name: matches for name, _, _, matches in report.direction_checks}
    assert set(checks) == {"(b) w/o φ^f similarity", "(b) w/o φ^f diversity"}
    assert (tmp_path / "assets" / "real_vs_generated.png").is_file()


def test_similarity_is_the_mean_cosine_of_judge_features(tmp_path):
    pipe = make_tiny_facefeat()
    judge = facezoo.IdentityNet.from_pretrained(ev.EVAL_RECOGNISER).eval()
    real, labels = ev.test_faces(4, 2, 16, seed=0)
    res = ev.evaluate_model(pipe, judge, real, labels, seed=0, num_pairs=10)
    with torch.no_grad():
        a = judge(real).normalized
        b = judge(res["fake"]).normalized
    assert res["similarity"] == pytest.approx(float((a * b).sum(1).mean()), abs=1e-5)
