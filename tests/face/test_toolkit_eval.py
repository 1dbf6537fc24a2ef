"""facezoo/eval/toolkit.py: the helpers behind `python -m facezoo.eval toolkit`."""

import numpy as np
import pytest
import torch

from facezoo.eval.toolkit import (
    FaceWorldProjector,
    all_pairs,
    as_float_images,
    detection_on_photos,
    param_errors,
    render_faceworld,
    verification_metrics,
)


def test_all_pairs_counts_and_labels():
    emb = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    scores, genuine = all_pairs(emb, torch.tensor([0, 0, 1, 1]))
    assert len(scores) == 6 and genuine.tolist() == [1, 0, 0, 0, 0, 1]
    assert scores[0] == pytest.approx(1.0 / np.sqrt(1.01))


def test_verification_metrics_perfect_and_random():
    torch.manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(30, 64), dim=-1)
    labels = torch.arange(30).repeat_interleave(4)
    tight = centres[labels] + 0.01 * torch.randn(120, 64)
    m = verification_metrics(tight, labels)
    assert m["roc_auc"] == 1.0 and m["tar_at_far_1e-3"] == 1.0
    assert m["genuine_pairs"] == 30 * 6 and m["impostor_pairs"] == 120 * 119 // 2 - 180
    noise = verification_metrics(torch.randn(120, 64), labels)
    assert 0.35 < noise["roc_auc"] < 0.65 and noise["tar_at_far_1e-3"] < 0.05


def test_render_faceworld_cache_round_trip(tmp_path):
    path = tmp_path / "cache.safetensors"
    a = render_faceworld("test", 32, 2, 2, 1, ("image", "identity", "params"), cache_path=str(path))
    assert a["image"].dtype == torch.uint8 and a["image"].shape == (4, 3, 32, 32)
    assert a["identity"][0] == a["identity"][1] != a["identity"][2]
    b = render_faceworld("test", 32, 2, 2, 1, ("image", "identity", "params"), cache_path=str(path))
    torch.testing.assert_close(a["params"], b["params"])
    torch.testing.assert_close(as_float_images(a["image"]), a["image"].float() / 255)
    # Other arguments: the stale cache is not reused.
    c = render_faceworld("test", 32, 2, 2, 2, ("image", "identity", "params"), cache_path=str(path))
    assert not torch.equal(c["params"], a["params"])


def test_projector_reproduces_faceworld_landmarks_and_render():
    data = render_faceworld("test", 32, 3, 1, 1, ("image", "params", "landmarks"))
    projector = FaceWorldProjector(32)
    torch.testing.assert_close(projector.landmarks(data["params"]), data["landmarks"], atol=1e-3, rtol=0)
    # Moving the yaw moves the landmarks, and gradients reach the coefficients.
    params = data["params"].clone().requires_grad_(True)
    moved = params.detach().clone()
    moved[:, projector.slices["pose"].start] += 0.3
    assert (projector.landmarks(moved) - data["landmarks"]).abs().max() > 1.0
    projector.landmarks(params).sum().backward()
    assert params.grad[:, projector.slices["pose"]].abs().sum() > 0


def test_param_errors_degrees():
    slices = {"id": slice(0, 2), "pose": slice(2, 5)}
    pred = torch.zeros(1, 5)
    target = torch.tensor([[1.0, -1.0, np.pi / 180, 0.0, 0.0]])
    e = param_errors(pred, target, slices)
    assert e["id_mae"] == 1.0 and e["pose_mae_deg"] == pytest.approx(1.0 / 3, abs=1e-3)


def test_detection_on_packaged_photo_and_blank():
    from facezoo.assets import load_photo

    out = detection_on_photos({"astronaut": load_photo("astronaut"), "blank": np.full((200, 200, 3), 90, np.uint8)})
    assert out["astronaut"]["hit"] == 1.0 and out["astronaut"]["arcface_fit_px"] < 6
    assert out["astronaut"]["paste_back_mae"] < 4
    assert out["blank"]["faces"] == 0 and out["blank"]["hit"] == 0.0 and out["blank"]["scores"] == ""
