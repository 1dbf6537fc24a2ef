"""train/facefeat.py: the two-level gradient routing of FaceFeat-GAN, and short real runs of both stages."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

import facezoo
from facezoo import IdentityNet

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "train" / "facefeat.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_facefeat", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ff = load_script()

TINY = ["--resolution", "16", "--generator_widths", "16", "8", "8", "--discriminator_widths", "8", "8", "8",
        "--encoder_widths", "8", "8", "8", "--e1_widths", "8", "8", "--e1_blocks", "1", "1", "--general_dim", "16", "--noise_dim", "8",
        "--feature_norm", "4", "--report_to", "none", "--stats_samples", "64", "--dataloader_num_workers", "0"]


@pytest.fixture(scope="module")
def tiny_identity(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idnet")
    torch.manual_seed(0)
    IdentityNet(sample_size=16, widths=(8, 8), blocks=(1, 1), stem_stride=1, head_channels=4, embedding_dim=32).eval().save_pretrained(folder)
    return folder


def tiny_step_setup(tiny_identity, extra=()):
    args = ff.build_args(TINY + ["--identity_model", str(tiny_identity), "--output_dir", "unused", *extra])
    identity = IdentityNet.from_pretrained(tiny_identity).eval().requires_grad_(False)
    e1 = facezoo.FaceFeatRegressor(image_size=16, num_expression=4, widths=(8, 8), blocks=(1, 1)).eval().requires_grad_(False)
    torch.manual_seed(0)
    nets = ff.build_stage2_models(args, e1, identity)
    core = dict(nets, identity=identity)
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        f_id = identity((x + 1) / 2).embedding
        f1 = e1(x)
    return args, nets, core, x, f_id, f1


def grad_norm(module):
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    return float(sum(g.abs().sum() for g in grads)) if grads else 0.0


def backward(loss):
    loss.backward()


def test_synthesized_adversarial_loss_reaches_only_feature_generators(tiny_identity):
    # Only λ^f φ^I(x^s) is active on the generator side: G^I must get no gradient, G_1^f and G_2^f must.
    only_adv_syn = ["--lambda_rec", "0", "--lambda_adv_rec", "0", "--lambda_id_rec", "0", "--lambda_id_syn", "0",
                    "--lambda_f1", "1", "--lambda_f2", "1", "--ablation", "no_phi_f"]
    args, nets, core, x, f_id, f1 = tiny_step_setup(tiny_identity, only_adv_syn)
    before = {k: v.clone() for k, v in nets["image_generator"].state_dict().items()}
    ff.facefeat_step(nets, core, x, f_id, f1, args, backward)
    assert grad_norm(nets["image_generator"]) == 0.0
    assert grad_norm(nets["pose_expression_generator"]) > 0
    assert grad_norm(nets["general_generator"]) > 0
    assert grad_norm(nets["image_discriminator"]) > 0  # from its own step only
    # and an optimiser step over the generator side leaves G^I's weights exactly as they were
    opt = torch.optim.Adam([p for n in ff.GENERATOR_SIDE for p in nets[n].parameters()], lr=1e-2)
    opt.step()
    for k, v in nets["image_generator"].state_dict().items():
        assert torch.equal(v, before[k]), k


def test_lambda_f_weights_scale_each_feature_generator(tiny_identity):
    base = ["--lambda_rec", "0", "--lambda_adv_rec", "0", "--lambda_id_rec", "0", "--lambda_id_syn", "0", "--ablation", "no_phi_f"]
    norms = []
    for l1, l2 in (("1", "1"), ("0.5", "0")):
        args, nets, core, x, f_id, f1 = tiny_step_setup(tiny_identity, base + ["--lambda_f1", l1, "--lambda_f2", l2])
        ff.facefeat_step(nets, core, x, f_id, f1, args, backward)
        norms.append((grad_norm(nets["pose_expression_generator"]), grad_norm(nets["general_generator"])))
    assert norms[1][0] == pytest.approx(0.5 * norms[0][0], rel=1e-4)
    assert norms[1][1] == 0.0


def test_identity_loss_on_synthesized_trains_image_generator_only(tiny_identity):
    only_id_syn = ["--lambda_rec", "0", "--lambda_adv_rec", "0", "--lambda_id_rec", "0", "--lambda_id_syn", "1",
                   "--lambda_f1", "0", "--lambda_f2", "0", "--ablation", "no_phi_f"]
    args, nets, core, x, f_id, f1 = tiny_step_setup(tiny_identity, only_id_syn)
    ff.facefeat_step(nets, core, x, f_id, f1, args, backward)
    assert grad_norm(nets["image_generator"]) > 0
    assert grad_norm(nets["pose_expression_generator"]) == 0.0
    assert grad_norm(nets["general_generator"]) == 0.0


def test_general_encoder_learns_from_reconstruction_only(tiny_identity):
    # Without φ_rec (ablation d), E_2 gets nothing even though φ^I(x^rec) and φ_id(x^rec) train G^I (Eq. 8).
    args, nets, core, x, f_id, f1 = tiny_step_setup(tiny_identity, ["--ablation", "no_phi_rec", "--lambda_adv_rec", "1"])
    ff.facefeat_step(nets, core, x, f_id, f1, args, backward)
    assert grad_norm(nets["general_encoder"]) == 0.0
    assert grad_norm(nets["image_generator"]) > 0
    args, nets, core, x, f_id, f1 = tiny_step_setup(tiny_identity)
    ff.facefeat_step(nets, core, x, f_id, f1, args, backward)
    assert grad_norm(nets["general_encoder"]) > 0


@pytest.mark.parametrize("ablation, zeroed", [("no_phi_id", ("lambda_id_rec", "lambda_id_syn")),
                                               ("no_phi_I", ("lambda_f1", "lambda_f2", "lambda_adv_rec")),
                                               ("no_phi_rec", ("lambda_rec",))])
def test_ablation_switches(tiny_identity, ablation, zeroed):
    args = ff.build_args(TINY + ["--identity_model", str(tiny_identity), "--ablation", ablation])
    assert all(getattr(args, name) == 0.0 for name in zeroed)


def test_both_stages_train_export_and_reload(tiny_identity, tmp_path):
    out = tmp_path / "run"
    ff.main(TINY + ["--identity_model", str(tiny_identity), "--output_dir", str(out), "--train_batch_size", "8",
                    "--e1_steps", "30", "--e1_learning_rate", "3e-3", "--max_train_steps", "4", "--checkpointing_steps", "2",
                    "--logging_steps", "1", "--num_identities", "20"])
    e1_state = json.loads((out / "e1" / "checkpoint-30" / "training_state.json").read_text())
    assert e1_state["global_step"] == 30
    assert (out / "checkpoint-4").is_dir() and (out / "model_index.json").is_file()
    card = (out / "README.md").read_text()
    assert "train_facefeat" in card or "facefeat" in card
    pipe = facezoo.AutoFacePipeline.from_pretrained(out)
    assert isinstance(pipe, facezoo.FaceFeatPipeline)
    images = pipe(identity_image=torch.rand(2, 3, 16, 16), generator=torch.Generator().manual_seed(0), output_type="pt").images
    assert images.shape == (2, 3, 16, 16)
    # E_1 learned: its Eq. 7 loss on unseen FaceWorld batches is below that of the untrained regressor
    from facezoo.data.faceworld import FaceWorldStream

    batch = FaceWorldStream(split="val", size=16, batch_size=64, seed=3, keys=("image", "exp_coeffs", "pose")).batch(0)
    x, raw = batch["image"] * 2 - 1, ff.raw_pose_expression(batch)
    trained = pipe.pose_expression_encoder.eval()
    fresh = facezoo.FaceFeatRegressor(**{**trained.config, "widths": tuple(trained.config.widths)}).eval()
    with torch.no_grad():
        assert trained.loss(x, raw) < fresh.loss(x, raw)
