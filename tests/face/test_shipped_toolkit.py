"""The shipped toolkit weights: they load by name, are small, carry a complete model card, and do their job on
FaceWorld test identities that training never saw."""

from pathlib import Path

import pytest
import torch

from facezoo.checkpoints import NAMED_WEIGHTS, list_models, named_weight_path
from facezoo.eval.toolkit import as_float_images, parser_metrics, recon3d_metrics, render_faceworld, verification_metrics
from facezoo.face.identity import IdentityNetEncoder
from facezoo.face.identity_net import IdentityNet
from facezoo.face.parser import FaceParser
from facezoo.face.regressor import Recon3DRegressor
from facezoo.utils.hub import read_model_card

SHIPPED = {
    "identitynet.faceworld_64": IdentityNet,
    "identitynet_eval.faceworld_64": IdentityNet,
    "recon3d.faceworld_64": Recon3DRegressor,
    "faceparser.faceworld_64": FaceParser,
}


@pytest.fixture(scope="module")
def test_renders():
    return render_faceworld("test", 64, 24, 3, 7, ("image", "identity", "params", "landmarks", "semantic", "face_mask"))


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_named_weight_is_shipped_small_and_documented(name):
    assert NAMED_WEIGHTS[name]["kind"] == "model" and name in list_models()
    folder = Path(named_weight_path(name))
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 5e6, f"{name} is {size / 1e6:.1f} MB"
    assert not [p for p in folder.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".ckpt")]
    card = read_model_card(folder)
    assert card["training_command"].startswith("python train/") and card["steps"] >= 300
    assert card["wall_time"].endswith(" s") and card["metrics"]
    model = SHIPPED[name].from_pretrained(name)
    assert isinstance(model, SHIPPED[name])


def test_identitynets_verify_unseen_identities(test_renders):
    images, labels = as_float_images(test_renders["image"]), test_renders["identity"]
    results = {}
    for name in ("identitynet.faceworld_64", "identitynet_eval.faceworld_64"):
        enc = IdentityNetEncoder(name)
        assert enc.dim == 256 and not any(p.requires_grad for p in enc.model.parameters())
        with torch.no_grad():
            results[name] = (enc.encode(images), verification_metrics(enc.encode(images), labels))
        # Far better than chance (0.5) on identities the network never saw.
        assert results[name][1]["roc_auc"] > 0.85, results[name][1]
    # Two different networks: their embeddings differ even though both verify.
    a, b = results["identitynet.faceworld_64"][0], results["identitynet_eval.faceworld_64"][0]
    assert (a - b).abs().mean() > 0.01
    net = IdentityNet.from_pretrained("identitynet_eval.faceworld_64")
    assert list(net.config.widths) != list(IdentityNet.from_pretrained("identitynet.faceworld_64").config.widths)


def test_recon3d_beats_the_mean_face(test_renders):
    reg = Recon3DRegressor.from_pretrained("recon3d.faceworld_64").eval()
    m = recon3d_metrics(reg, test_renders)
    assert m["landmark_nme_pct"] < 0.5 * m["landmark_nme_pct_mean_params"], m
    assert m["pose_mae_deg"] < 10, m


def test_parser_segments_unseen_faces(test_renders):
    parser = FaceParser.from_pretrained("faceparser.faceworld_64").eval()
    m = parser_metrics(parser, test_renders)
    assert m["face_mask_iou"] > 0.8 and m["iou_skin"] > 0.7, m
