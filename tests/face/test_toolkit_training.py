"""Short real runs of train/identity.py, train/recon3d.py and train/parser.py: they train, checkpoint, export a
loadable model folder with a model card, and report FaceWorld test metrics."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from facezoo.face.identity_net import IdentityNet
from facezoo.face.parser import FaceParser
from facezoo.face.regressor import Recon3DRegressor
from facezoo.utils.hub import read_model_card

ROOT = Path(__file__).resolve().parents[2]
COMMON = ["--report_to", "none", "--num_identities", "4", "--samples_per_identity", "2", "--train_batch_size", "4",
          "--max_train_steps", "3", "--checkpointing_steps", "2", "--eval_identities", "6", "--logging_steps", "1"]


def _run(script, tmp_path, *extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, str(ROOT / "train" / script), "--output_dir", str(tmp_path / "run"),
           "--cache_path", str(tmp_path / "cache.safetensors"), *COMMON, *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "run"
    assert (run / "checkpoint-2" / "training_state.json").is_file()
    assert json.loads((run / "checkpoint-2" / "training_state.json").read_text())["global_step"] == 2
    assert (tmp_path / "cache.safetensors").is_file()
    card = read_model_card(run / "model")
    assert card["steps"] == 3 and script in card["training_command"]
    return run / "model", card


@pytest.mark.parametrize("config", ["identity", "recon3d", "parser"])
def test_configs_parse(config):
    sys.path.insert(0, str(ROOT / "train"))
    try:
        module = __import__(config)
        args = module.build_args(["--config", str(ROOT / "train" / "configs" / f"{config}.yaml")])
    finally:
        sys.path.pop(0)
        sys.modules.pop(config, None)
    assert args.resolution == 64 and args.max_train_steps >= 500 and args.num_threads == 1


def test_train_identity_short_run(tmp_path):
    folder, card = _run("identity.py", tmp_path, "--widths", "16", "32", "--blocks", "1", "1", "--embedding_dim", "32")
    net = IdentityNet.from_pretrained(folder).eval()
    assert net.config.embedding_dim == 32 and list(net.config.widths) == [16, 32]
    assert 0.0 <= card["metrics"]["roc_auc"] <= 1.0 and card["metrics"]["genuine_pairs"] == 6 * (4 * 3 // 2)  # 6 identities x 4 renders
    with torch.no_grad():
        out = net(torch.rand(2, 3, 64, 64))
    torch.testing.assert_close(out.normalized.norm(dim=-1), torch.ones(2))


def test_train_recon3d_short_run(tmp_path):
    folder, card = _run("recon3d.py", tmp_path, "--widths", "16", "32", "--blocks", "1", "1")
    reg = Recon3DRegressor.from_pretrained(folder).eval()
    from facezoo.data.faceworld import PARAM_SLICES

    assert reg.param_slices() == dict(PARAM_SLICES)
    # The stored normalisation is the training data's: not the identity transform.
    assert not torch.allclose(reg.param_std, torch.ones_like(reg.param_std))
    # Projecting the true coefficients reproduces FaceWorld's landmarks: the projector matches the renderer.
    assert card["metrics"]["landmark_nme_pct_gt_params"] < 0.01
    assert card["metrics"]["landmark_nme_pct"] > 0


def test_train_parser_short_run(tmp_path):
    folder, card = _run("parser.py", tmp_path, "--widths", "16", "32")
    parser = FaceParser.from_pretrained(folder).eval()
    from facezoo.data.faceworld import FACE_CLASSES, SEMANTIC_CLASSES

    assert parser.config.num_classes == len(SEMANTIC_CLASSES)
    assert tuple(parser.config.face_classes) == tuple(FACE_CLASSES)
    assert 0.0 <= card["metrics"]["face_mask_iou"] <= 1.0
