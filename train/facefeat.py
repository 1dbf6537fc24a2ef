#!/usr/bin/env python
"""Train FaceFeat-GAN (both stages) on FaceWorld and export a `FaceFeatPipeline` folder.

Stage 1 (``--stage e1``) pre-trains E_1, the pose + expression regressor, on FaceWorld's ground truth (Eq. 7).
Stage 2 (``--stage full``) trains E_2, the feature generators G_1^f, G_2^f, their discriminators D_1^f, D_2^f, the
image generator G^I and its discriminator D^I with Eq. 1-4, 8, keeping E_id (the toolkit's IdentityNet) and E_1 fixed.
``--stage all`` runs both. The two-level competition is kept exactly: the adversarial loss on synthesized faces x^s
reaches only the feature generators (through a frozen copy of G^I), G^I fights D^I on the reconstruction x^rec only
and gets the identity loss on both x^rec and x^s, and E_2 learns from the reconstruction loss alone (Eq. 8).

    accelerate launch train/facefeat.py --config train/configs/facefeat.yaml
    python -m torch.distributed.run --nproc_per_node 2 train/facefeat.py --config train/configs/facefeat.yaml  # 2 CPU ranks
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Dict

import torch
import torch.nn.functional as F

from facezoo.data.faceworld import EXPRESSION_PRESETS, EXPRESSIONS, FaceWorldStream
from facezoo.face.identity_net import IdentityNet
from facezoo.losses.gan import discriminator_loss, generator_loss, requires_grad
from facezoo.losses.identity import identity_loss
from facezoo.losses.routing import scale_gradient
from facezoo.models.facefeat import (
    FaceFeatEncoder,
    FaceFeatImageDiscriminator,
    FaceFeatImageGenerator,
    FaceFeatRegressor,
    FeatureDiscriminator,
    FeatureGenerator,
)
from facezoo.pipelines.facefeat import FaceFeatPipeline
from facezoo.training import Trainer, build_parser, parse_args
from facezoo.training.schedules import step_drop
from facezoo.utils.images import to_model_range

ABLATIONS = ("none", "no_phi_id", "no_phi_f", "no_phi_I", "no_phi_rec")


def build_args(argv=None) -> argparse.Namespace:
    parser = build_parser("Train FaceFeat-GAN (E_1 pre-training and the full two-level model) on FaceWorld.")
    add = parser.add_argument
    add("--stage", choices=["e1", "full", "all"], default="all", help="Which stage(s) to run.")
    add("--resolution", type=int, default=64, help="Image side.")
    add("--num_identities", type=int, default=None, help="Use only the first N FaceWorld train identities.")
    add("--identity_model", default="identitynet.faceworld_64", help="E_id: IdentityNet named weight or folder.")
    add("--e1_model", default=None, help="Pre-trained E_1 folder for --stage full (default: <output_dir>/e1/model).")
    add("--e1_steps", type=int, default=1000, help="Optimiser steps of stage 1.")
    add("--e1_learning_rate", type=float, default=1e-3, help="Learning rate of stage 1.")
    add("--lr_decay_step", type=int, default=100000, help="Step at which the lr drops to --learning_rate_final (paper: 100k of 200k).")
    add("--learning_rate_final", type=float, default=5e-5, help="Learning rate after --lr_decay_step (paper: 5e-5).")
    add("--adam_beta1", type=float, default=0.5, help="Adam beta1 (not given in the paper).")
    add("--adam_beta2", type=float, default=0.999, help="Adam beta2.")
    add("--gan_loss", default="bce", choices=["bce", "non_saturating", "hinge"], help="Form of -log D (Eq. 9-10).")
    add("--lambda_f1", type=float, default=0.1, help="λ_1^f: weight of φ^I(x^s) for G_1^f (Eq. 1).")
    add("--lambda_f2", type=float, default=0.1, help="λ_2^f: weight of φ^I(x^s) for G_2^f (Eq. 1).")
    add("--lambda_id_rec", type=float, default=1.0, help="λ_1: φ_id(x^rec) in L_{G^I} (Eq. 3).")
    add("--lambda_id_syn", type=float, default=1.0, help="λ_2: φ_id(x^s) in L_{G^I} (Eq. 3).")
    add("--lambda_d_syn", type=float, default=0.5, help="λ_3: φ^I(x^s) in L_{D^I} (Eq. 4).")
    add("--lambda_d_rec", type=float, default=0.5, help="λ_4: φ^I(x^rec) in L_{D^I} (Eq. 4).")
    add("--lambda_rec", type=float, default=1.0, help="Weight of φ_rec in L_{G^I} (1 in the paper).")
    add("--lambda_adv_rec", type=float, default=0.05, help="Weight of φ^I(x^rec) in L_{G^I} (1 in the paper; "
        "lower keeps short CPU runs stable).")
    add("--ablation", choices=ABLATIONS, default="none", help="Table 4: remove one component.")
    add("--noise_dim", type=int, default=64, help="Size of z_1, z_2 (paper: 64).")
    add("--general_dim", type=int, default=256, help="Size of f_2 (paper: 256).")
    add("--feature_norm", type=float, default=16.0, help="Norm of f_id and f_2 at G^I's input (paper: 16).")
    add("--generator_widths", type=int, nargs="+", default=[128, 128, 64, 32, 16], help="G^I channels, lowest resolution first.")
    add("--generator_convs_per_stage", type=int, default=2, help="conv3x3-ELU pairs per G^I scale (BEGAN: 2).")
    add("--discriminator_widths", type=int, nargs="+", default=[16, 32, 64, 128, 128], help="D^I channels.")
    add("--encoder_widths", type=int, nargs="+", default=[16, 32, 64, 128, 128], help="E_2 channels.")
    add("--e1_widths", type=int, nargs="+", default=[16, 32, 64, 128], help="E_1 ResNet stage widths.")
    add("--e1_blocks", type=int, nargs="+", default=[2, 2, 2, 2], help="E_1 residual blocks per stage (ResNet-18).")
    add("--pose_weight", type=float, default=4.0, help="W_3d diagonal entries of the pose angles (expression: 1).")
    add("--stats_samples", type=int, default=2048, help="Samples used for f_1's standardisation statistics.")
    args = parse_args(parser, argv)
    if args.ablation != "none":
        apply_ablation(args)
    return args


def apply_ablation(args: argparse.Namespace) -> None:
    """Table 4 rows: each removes one component and keeps every other hyper-parameter."""
    if args.ablation == "no_phi_id":
        args.lambda_id_rec = args.lambda_id_syn = 0.0
    elif args.ablation == "no_phi_I":
        args.lambda_f1 = args.lambda_f2 = args.lambda_adv_rec = 0.0
    elif args.ablation == "no_phi_rec":
        args.lambda_rec = 0.0
    # no_phi_f is handled in the step: D^f is not trained and G^f gets no feature-level term.


def raw_pose_expression(batch: Dict[str, torch.Tensor]) -> torch.Tensor:
    """The raw f_1 target: ``[expression coefficients, yaw, pitch, roll]``."""
    return torch.cat([batch["exp_coeffs"], batch["pose"]], dim=1)


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] → [0, 1] without clamping (IdentityNet's input range; gradients pass everywhere)."""
    return (images + 1.0) / 2.0


def make_stream(args, keys) -> torch.utils.data.DataLoader:
    stream = FaceWorldStream(split="train", size=args.resolution, batch_size=args.train_batch_size,
                             seed=args.seed, keys=keys, num_identities=args.num_identities)
    return torch.utils.data.DataLoader(stream, batch_size=None, num_workers=args.dataloader_num_workers)


def feature_statistics(args) -> tuple:
    """Mean and std of the raw f_1 over FaceWorld training samples (the paper standardises real features)."""
    stream = FaceWorldStream(split="train", size=args.resolution, batch_size=256, seed=args.seed + 977,
                             keys=("exp_coeffs", "pose"), num_identities=args.num_identities)
    rows, it = [], iter(stream)
    while sum(r.shape[0] for r in rows) < args.stats_samples:
        rows.append(raw_pose_expression(next(it)))
    raw = torch.cat(rows)[: args.stats_samples]
    return raw.mean(0), raw.std(0)


# ------------------------------------------------------------------------------------------------------------ stage 1
def train_e1(args) -> Path:
    stage_args = copy.copy(args)
    stage_args.output_dir = str(Path(args.output_dir) / "e1")
    stage_args.max_train_steps = args.e1_steps
    stage_args.ema_decay = 0.0
    trainer = Trainer(stage_args, project_name="facefeat_e1")
    mean, std = feature_statistics(args)
    k = mean.numel() - 3
    e1 = FaceFeatRegressor(
        image_size=args.resolution, num_expression=k, widths=tuple(args.e1_widths), blocks=tuple(args.e1_blocks),
        feature_mean=tuple(mean.tolist()), feature_std=tuple(std.tolist()),
        feature_weights=tuple([1.0] * k + [args.pose_weight] * 3),
        expression_names=tuple(EXPRESSIONS), expression_presets=tuple(tuple(map(float, p)) for p in EXPRESSION_PRESETS),
    )
    optimizer = torch.optim.Adam(e1.parameters(), lr=args.e1_learning_rate)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, args.e1_steps))
    e1, optimizer, scheduler = trainer.prepare(e1=e1, optimizer=optimizer, scheduler=scheduler)
    trainer.resume()
    loader = make_stream(stage_args, ("image", "exp_coeffs", "pose"))
    for batch in trainer.batches(loader):
        with trainer.accumulate(e1):
            x = to_model_range(batch["image"].to(trainer.accelerator.device))
            target = raw_pose_expression(batch).to(x.device)
            # forward through the prepared (possibly DDP-wrapped) module so gradients synchronise across ranks
            loss = trainer.accelerator.unwrap_model(e1).prediction_loss(e1(x), target)
            trainer.accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        trainer.log(loss_e1=loss.detach())
    folder = Path(stage_args.output_dir) / "model"
    if trainer.accelerator.is_main_process:
        trainer.accelerator.unwrap_model(e1).save_pretrained(folder)
    trainer.accelerator.wait_for_everyone()
    trainer.finish()
    return folder


# ------------------------------------------------------------------------------------------------------------ stage 2
def build_stage2_models(args, e1: FaceFeatRegressor, identity: IdentityNet) -> Dict[str, torch.nn.Module]:
    k1, id_dim = e1.feature_dim, identity.config.embedding_dim
    return {
        "general_encoder": FaceFeatEncoder(image_size=args.resolution, feature_dim=args.general_dim, widths=tuple(args.encoder_widths)),
        "pose_expression_generator": FeatureGenerator(noise_dim=args.noise_dim, feature_dim=k1),
        "general_generator": FeatureGenerator(noise_dim=args.noise_dim, feature_dim=args.general_dim, output_norm=args.feature_norm),
        "image_generator": FaceFeatImageGenerator(identity_dim=id_dim, pose_expression_dim=k1, general_dim=args.general_dim,
                                                  feature_norm=args.feature_norm, image_size=args.resolution,
                                                  widths=tuple(args.generator_widths),
                                                  convs_per_stage=args.generator_convs_per_stage),
        "pose_expression_discriminator": FeatureDiscriminator(feature_dim=k1),
        "general_discriminator": FeatureDiscriminator(feature_dim=args.general_dim),
        "image_discriminator": FaceFeatImageDiscriminator(image_size=args.resolution, widths=tuple(args.discriminator_widths)),
    }


GENERATOR_SIDE = ("general_encoder", "pose_expression_generator", "general_generator", "image_generator")
DISCRIMINATOR_SIDE = ("pose_expression_discriminator", "general_discriminator", "image_discriminator")


def facefeat_step(nets: Dict[str, torch.nn.Module], core: Dict[str, torch.nn.Module], x: torch.Tensor,
                  f_id: torch.Tensor, f1_r: torch.Tensor, args, backward) -> Dict[str, torch.Tensor]:
    """One FaceFeat-GAN step's losses and backward passes (the optimiser steps are the caller's).

    Args:
        nets: the prepared (possibly DDP-wrapped) trainable networks, by name.
        core: the same networks unwrapped; their frozen forwards route gradients to the feature generators / E_2
            without touching G^I's or the discriminators' weights, and without a second DDP forward.
        x: real faces in [-1, 1]; f_id: E_id(x); f1_r: E_1(x) (both fixed).
        backward: ``accelerator.backward``.
    Returns the detached losses for logging. Discriminator gradients come from the first backward, generator-side
    gradients from the second.
    """
    b = x.shape[0]
    use_feature_d = args.ablation != "no_phi_f"
    f2_r = nets["general_encoder"](x)
    f1_s = nets["pose_expression_generator"](torch.rand(b, args.noise_dim, device=x.device) * 2 - 1)  # z_1 ~ U[-1, 1]
    f2_s = nets["general_generator"](torch.rand(b, args.noise_dim, device=x.device) * 2 - 1)  # z_2 ~ U[-1, 1]
    f2_r_n = F.normalize(f2_r, dim=-1) * args.feature_norm  # f_2 enters D_2^f at the norm G^I sees

    # G^I's own forward (one DDP call on [x^rec inputs; x^s inputs]); the features are detached so G^I's losses do
    # not reach E_2 or G^f.
    gen = nets["image_generator"](torch.cat([f_id, f_id]), torch.cat([f1_r, f1_s.detach()]),
                                  torch.cat([f2_r.detach(), f2_s.detach()])).images
    x_rec, x_s = gen[:b], gen[b:]

    # ---- discriminators (Eq. 2 and 4)
    requires_grad([nets[n] for n in DISCRIMINATOR_SIDE], True)
    d_logits = nets["image_discriminator"](torch.cat([x, x_s.detach(), x_rec.detach()]))
    d_real, d_syn, d_rec = d_logits[:b], d_logits[b:2 * b], d_logits[2 * b:]
    loss_d_image = (0.5 * args.lambda_d_syn * discriminator_loss(d_real, d_syn, args.gan_loss)
                    + 0.5 * args.lambda_d_rec * discriminator_loss(d_real, d_rec, args.gan_loss))
    loss_d = loss_d_image if (args.lambda_d_syn or args.lambda_d_rec) and args.ablation != "no_phi_I" else 0 * d_logits.sum()
    if use_feature_d:
        l1 = nets["pose_expression_discriminator"](torch.cat([f1_r, f1_s.detach()]))
        l2 = nets["general_discriminator"](torch.cat([f2_r_n.detach(), f2_s.detach()]))
        loss_d_feat = discriminator_loss(l1[:b], l1[b:], args.gan_loss) + discriminator_loss(l2[:b], l2[b:], args.gan_loss)
        loss_d = loss_d + loss_d_feat
    backward(loss_d)

    # ---- generator side: G^I (Eq. 3), E_2 (Eq. 8), G_i^f (Eq. 1)
    requires_grad([core[n] for n in DISCRIMINATOR_SIDE], False)
    frozen_gi = core["image_generator"]
    requires_grad(frozen_gi, False)
    # Frozen G^I on [E_2 path; G^f path]: gradients reach only f_2^r (E_2) and f_1^s, f_2^s (G^f).
    routed = frozen_gi(torch.cat([f_id, f_id]), torch.cat([f1_r, scale_gradient(f1_s, args.lambda_f1)]),
                       torch.cat([f2_r, scale_gradient(f2_s, args.lambda_f2)])).images
    x_rec_e2, x_s_f = routed[:b], routed[b:]
    requires_grad(frozen_gi, True)

    logits_rec = core["image_discriminator"](x_rec)
    id_rec = identity_loss(F.normalize(f_id, dim=-1), F.normalize(core["identity"](to_unit_range(x_rec)).embedding, dim=-1))
    id_syn = identity_loss(F.normalize(f_id, dim=-1), F.normalize(core["identity"](to_unit_range(x_s)).embedding, dim=-1))
    rec = (x - x_rec).abs().mean()
    loss_gi = (args.lambda_adv_rec * generator_loss(logits_rec, args.gan_loss) + args.lambda_rec * rec
               + args.lambda_id_rec * id_rec + args.lambda_id_syn * id_syn)
    loss_e2 = (x - x_rec_e2).abs().mean()  # Eq. 8
    if args.ablation == "no_phi_rec":
        loss_e2 = 0 * loss_e2  # E_2 is trained only by φ_rec; without it E_2 stays at its initialisation

    # G^f: φ_i^f(f_i^s) + λ_i^f φ^I(x^s); the per-generator λ's are applied to the gradients, not the shared value.
    adv_syn = generator_loss(core["image_discriminator"](x_s_f), args.gan_loss)
    loss_gf = adv_syn
    if use_feature_d:
        loss_gf = loss_gf + generator_loss(core["pose_expression_discriminator"](f1_s), args.gan_loss)
        loss_gf = loss_gf + generator_loss(core["general_discriminator"](f2_s), args.gan_loss)
    backward(loss_gi + loss_e2 + loss_gf)
    requires_grad([core[n] for n in DISCRIMINATOR_SIDE], True)
    return {"loss_d": loss_d.detach(), "loss_gi": loss_gi.detach(), "loss_rec": rec.detach(), "loss_id_rec": id_rec.detach(),
            "loss_id_syn": id_syn.detach(), "loss_e2": loss_e2.detach(), "loss_gf": loss_gf.detach()}


def train_full(args, e1_folder: Path) -> Path:
    trainer = Trainer(args, project_name="facefeat")
    device = trainer.accelerator.device
    identity = IdentityNet.from_pretrained(args.identity_model).eval()
    e1 = FaceFeatRegressor.from_pretrained(e1_folder).eval()
    requires_grad([identity, e1], False)
    identity.to(device)
    e1.to(device)
    nets = build_stage2_models(args, e1, identity)
    betas = (args.adam_beta1, args.adam_beta2)
    opt_g = torch.optim.Adam([p for n in GENERATOR_SIDE for p in nets[n].parameters()], lr=args.learning_rate, betas=betas)
    opt_d = torch.optim.Adam([p for n in DISCRIMINATOR_SIDE for p in nets[n].parameters()], lr=args.learning_rate, betas=betas)
    # Adam lr: --learning_rate until --lr_decay_step, then --learning_rate_final (paper: 8e-5 -> 5e-5 at 100k of 200k)
    lr_schedule = step_drop(args.lr_decay_step, args.learning_rate_final / args.learning_rate)
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, lr_schedule)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, lr_schedule)
    prepared = trainer.prepare(**nets, optimizer_g=opt_g, optimizer_d=opt_d, scheduler_g=sched_g, scheduler_d=sched_d)
    nets = dict(zip(nets, prepared[: len(nets)]))
    opt_g, opt_d, sched_g, sched_d = prepared[len(nets):]
    core = {name: trainer.accelerator.unwrap_model(net) for name, net in nets.items()}
    core["identity"] = identity
    trainer.add_ema("image_generator")
    trainer.resume()

    fixed = None

    def validate(tr: Trainer) -> None:
        with torch.no_grad():
            g = core["image_generator"]
            b = fixed["x"].shape[0]
            z = torch.rand(b, args.noise_dim, generator=torch.Generator().manual_seed(0)).to(device) * 2 - 1
            rec = g(fixed["f_id"], fixed["f1"], core["general_encoder"](fixed["x"])).images
            syn = g(fixed["f_id"], core["pose_expression_generator"](z), core["general_generator"](z)).images
            tr.log_images("real_rec_syn", to_unit_range(torch.cat([fixed["x"], rec, syn])).clamp(0, 1), nrow=b)

    loader = make_stream(args, ("image", "identity", "exp_coeffs", "pose"))
    for batch in trainer.batches(loader, validate=validate):
        x = to_model_range(batch["image"].to(device))
        with torch.no_grad():
            f_id = identity(batch["image"].to(device)).embedding
            f1_r = e1(x)
        if fixed is None:
            fixed = {"x": x[:8], "f_id": f_id[:8], "f1": f1_r[:8]}
        with trainer.accumulate(*nets.values()):
            losses = facefeat_step(nets, core, x, f_id, f1_r, args, trainer.accelerator.backward)
            opt_d.step()
            opt_g.step()
            sched_d.step()
            sched_g.step()
            opt_d.zero_grad(set_to_none=True)
            opt_g.zero_grad(set_to_none=True)
        trainer.log(**losses, lr=sched_g.get_last_lr()[0])

    generator = core["image_generator"]
    if trainer.ema is not None:
        generator = trainer.ema.averaged_copy(generator)
    pipe = FaceFeatPipeline(identity_encoder=identity, pose_expression_encoder=e1, general_encoder=core["general_encoder"],
                            pose_expression_generator=core["pose_expression_generator"],
                            general_generator=core["general_generator"], image_generator=generator)
    info = {
        "title": f"FaceFeat-GAN on FaceWorld, {args.resolution}x{args.resolution}",
        "description": "FaceFeat-GAN (Shen et al.) trained by facezoo's train/facefeat.py on the procedural FaceWorld faces. "
                       f"Ablation: {args.ablation}.",
        "tags": ["facefeat-gan", "faceworld", "identity-preserving"],
        "training_data": f"FaceWorld train split ({args.num_identities or 'all'} identities), streamed at {args.resolution} px",
        "architecture_notes": ARCHITECTURE_NOTES,
    }
    return trainer.finish(pipe.to("cpu"), info=info)


ARCHITECTURE_NOTES = """Where the paper is silent, facezoo chose:
- E_id is facezoo's IdentityNet (ResNet + ArcFace margin, trained on FaceWorld identities), fixed during stage 2;
  f_id and f_2 are rescaled to norm 16 at G^I's input (the paper's re-normalisation).
- f_1 = [expression blend weights, yaw, pitch, roll] of FaceWorld, standardised with training statistics (E_1's config).
- G^I: concatenation [f_id, f_1, f_2] -> Linear -> 4x4 map -> BEGAN-style stages of (conv3x3-ELU) x convs_per_stage (BEGAN: 2;
  the shipped CPU model: 1) with nearest up-sampling,
  channels halving with resolution, tanh output. D^I: BEGAN-style encoder with LeakyReLU ending in one logit.
- -log D is implemented as a binary cross-entropy GAN loss (Eq. 2, 4 read as standard BCE).
- Frozen copies of G^I route the x^s adversarial loss to G^f only and the reconstruction loss to E_2 only (Eq. 1, 8).
- Loss weights are config values (train/configs/facefeat.yaml); Adam betas (0.5, 0.999)."""


def main(argv=None) -> None:
    args = build_args(argv)
    e1_folder = Path(args.e1_model) if args.e1_model else Path(args.output_dir) / "e1" / "model"
    if args.stage in ("e1", "all"):
        e1_folder = train_e1(args)
    if args.stage in ("full", "all"):
        if not (e1_folder / "config.json").is_file():
            raise SystemExit(f"E_1 not found at {e1_folder}: run --stage e1 first or pass --e1_model")
        train_full(args, e1_folder)


if __name__ == "__main__":
    main()
