#!/usr/bin/env python
"""Train an `IdentityNet` face recogniser on FaceWorld identities with an ArcFace margin loss.

Each FaceWorld train identity is one class; the network sees it under random pose, expression, lighting and
background, so it has to learn what is identity and what is not. After training, verification (TAR at FAR=1e-3,
ROC AUC) is measured on the held-out FaceWorld *test* identities and written into the model card.

    python train/identity.py --config train/configs/identity.yaml
    python train/identity.py --config train/configs/identity.yaml --seed 1 --widths 24 48 96 160 \
        --output_dir runs/identitynet_eval   # the evaluation recogniser

The first ``--margin_start_steps`` steps use no margin (normalised softmax), then the margin grows linearly over
``--margin_warmup_steps``: with a margin from the start, a network trained from scratch on 1,000 classes stayed at
chance level here (loss rising with the margin, train accuracy 0 after 180 steps), a known ArcFace issue; with no
margin it learns at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from facezoo.eval.toolkit import as_float_images, faceworld_verification, render_faceworld
from facezoo.face.identity_net import IdentityNet
from facezoo.losses.identity import ArcFaceHead
from facezoo.training.schedules import cosine_with_warmup
from facezoo.training.args import add_faceworld_render_args
from facezoo.training import Trainer, build_parser, parse_args


def build_args(argv=None) -> argparse.Namespace:
    parser = build_parser("Train IdentityNet (ResNet + ArcFace margin loss) on FaceWorld identities.")
    add = parser.add_argument
    add_faceworld_render_args(parser, num_identities=1000, samples_per_identity=12)
    add("--augment_shift", type=int, default=3, help="Random translation (pixels) applied to every training image.")
    add("--widths", type=int, nargs="+", default=[32, 64, 128, 192], help="ResNet stage widths.")
    add("--blocks", type=int, nargs="+", default=[1, 1, 1, 1], help="Residual blocks per stage.")
    add("--head_channels", type=int, default=64, help="Channels of the map flattened into the embedding layer.")
    add("--embedding_dim", type=int, default=256, help="Embedding size.")
    add("--dropout", type=float, default=0.0, help="Dropout before the embedding layer.")
    add("--arcface_scale", type=float, default=32.0, help="ArcFace logit scale s.")
    add("--arcface_margin", type=float, default=0.4, help="ArcFace angular margin m (radians) after warm-up.")
    add("--margin_start_steps", type=int, default=200, help="Steps trained with no margin (normalised softmax) first.")
    add("--margin_warmup_steps", type=int, default=150, help="Steps over which the margin then grows to its value.")
    add("--warmup_steps", type=int, default=100, help="Linear learning-rate warm-up steps (cosine decay after).")
    add("--weight_decay", type=float, default=5e-4, help="AdamW weight decay.")
    add("--eval_samples_per_identity", type=int, default=4, help="Renders per test identity for verification.")
    return parse_args(parser, argv)


def augment(images: torch.Tensor, shift: int) -> torch.Tensor:
    """Random translation by up to `shift` pixels (border replicated) and a mild brightness/contrast change: the
    renders are reused for several epochs, and a recogniser should not key on exact framing or exposure."""
    if shift > 0:
        b, _, h, w = images.shape
        padded = F.pad(images, (shift,) * 4, mode="replicate")
        dx, dy = torch.randint(0, 2 * shift + 1, (2, b)).tolist()
        images = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(b)])
    gain = 1.0 + 0.1 * (torch.rand(images.shape[0], 1, 1, 1) * 2 - 1)
    bias = 0.05 * (torch.rand(images.shape[0], 1, 1, 1) * 2 - 1)
    return (images * gain + bias).clamp(0, 1)


def build_model(args) -> IdentityNet:
    return IdentityNet(sample_size=args.resolution, widths=tuple(args.widths), blocks=tuple(args.blocks),
                       head_channels=args.head_channels, embedding_dim=args.embedding_dim, dropout=args.dropout)


def main(argv=None) -> Path:
    args = build_args(argv)
    torch.set_num_threads(args.num_threads)
    trainer = Trainer(args, project_name="identitynet")
    torch.manual_seed(args.seed)
    model = build_model(args).to(memory_format=torch.channels_last)
    head = ArcFaceHead(args.embedding_dim, args.num_identities, scale=args.arcface_scale, margin=0.0)
    data = render_faceworld("train", args.resolution, args.num_identities, args.samples_per_identity, args.data_seed,
                            ("image", "identity_index"), cache_path=args.cache_path)
    dataset = torch.utils.data.TensorDataset(data["image"], data["identity_index"])
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.train_batch_size, shuffle=True, drop_last=True,
                                         num_workers=args.dataloader_num_workers,
                                         generator=torch.Generator().manual_seed(args.seed))
    optimizer = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=args.learning_rate,
                                  weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup(args.warmup_steps, args.max_train_steps))
    model, head, optimizer, scheduler, loader = trainer.prepare(model=model, head=head, optimizer=optimizer,
                                                                scheduler=scheduler, dataloader=loader)
    trainer.resume()
    core_head = trainer.accelerator.unwrap_model(head)
    model.train()
    for batch in trainer.batches(loader):
        with trainer.accumulate(model, head):
            # The margin is a schedule, not a weight: set from the step count, so a resumed run gets the same value.
            ramp = (trainer.global_step - args.margin_start_steps) / max(1, args.margin_warmup_steps)
            core_head.margin = args.arcface_margin * min(1.0, max(0.0, ramp))
            images = augment(as_float_images(batch[0]), args.augment_shift).contiguous(memory_format=torch.channels_last)
            labels = batch[1].long()
            embedding = model(images).embedding
            logits = head(embedding, labels)
            loss = F.cross_entropy(logits, labels)
            trainer.accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            accuracy = (logits.argmax(1) == labels).float().mean()
        trainer.log(loss=loss.detach(), train_accuracy=accuracy, margin=core_head.margin, lr=scheduler.get_last_lr()[0])

    core = trainer.accelerator.unwrap_model(model).eval().to(memory_format=torch.contiguous_format)
    metrics = faceworld_verification(
        lambda x: core(x).normalized, size=args.resolution, num_identities=args.eval_identities,
        samples_per_identity=args.eval_samples_per_identity, seed=1,
    )
    metrics.update({f"final_{k}": round(v, 4) for k, v in trainer.last_logs.items() if k in ("loss", "train_accuracy")})
    info = {
        "title": f"IdentityNet on FaceWorld, {args.resolution}x{args.resolution}",
        "description": ("A small ResNet face recogniser (facezoo.face.IdentityNet) trained with an ArcFace additive "
                        "angular margin loss on FaceWorld's procedural identities. Input: FaceWorld-style face crops "
                        "in [0, 1]; output: an L2-normalised embedding. Metrics are verification on held-out FaceWorld "
                        "test identities (all genuine and impostor pairs of the renders)."),
        "pipeline": None,
        "tags": ["face-recognition", "arcface", "faceworld"],
        "training_data": (f"FaceWorld train split, first {args.num_identities} identities x "
                          f"{args.samples_per_identity} renders at {args.resolution} px (scene seed {args.data_seed}), "
                          f"random shifts of up to {args.augment_shift} px"),
        "architecture_notes": (f"ResNetTrunk widths {list(args.widths)}, blocks {list(args.blocks)}, stem stride 2; "
                               f"BN-FC-BN head to {args.embedding_dim}-d; ArcFace s={args.arcface_scale}, "
                               f"m={args.arcface_margin} after {args.margin_start_steps} steps without margin and a "
                               f"{args.margin_warmup_steps}-step ramp; AdamW "
                               f"lr {args.learning_rate}, cosine decay."),
    }
    folder = trainer.export(core, folder=str(Path(args.output_dir) / "model"), info=info, metrics=metrics)
    trainer.finish()
    trainer.accelerator.print(f"verification on FaceWorld test identities: {metrics}")
    return folder


if __name__ == "__main__":
    main()
