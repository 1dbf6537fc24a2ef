#!/usr/bin/env python
"""Train the 3DMM coefficient regressor (`Recon3DRegressor`) on FaceWorld, where every render's coefficients are known.

Loss: mean squared error of the standardised coefficient vector (identity, expression, pose, light, albedo, camera)
plus a landmark reprojection term: the predicted coefficients go through FaceWorld's head model and camera
(`facezoo.eval.toolkit.FaceWorldProjector`) and the 68 projected landmarks are compared with the exact ones. The
second term is what Deng et al. (2019) use on real photos, where coefficients are unknown; here it also weighs
coefficients by their effect on the image. After training, landmark NME and per-group errors on FaceWorld test
identities go into the model card.

    python train/recon3d.py --config train/configs/recon3d.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from facezoo.data.faceworld import PARAM_SLICES
from facezoo.eval.toolkit import FaceWorldProjector, as_float_images, recon3d_metrics, render_faceworld
from facezoo.face.regressor import Recon3DRegressor
from facezoo.training.schedules import cosine_with_warmup
from facezoo.training.args import add_faceworld_render_args
from facezoo.training import Trainer, build_parser, parse_args

DATA_KEYS = ("image", "params", "landmarks", "semantic", "face_mask")


def build_args(argv=None) -> argparse.Namespace:
    parser = build_parser("Train the 3DMM coefficient regressor on FaceWorld ground truth.")
    add = parser.add_argument
    add_faceworld_render_args(parser, num_identities=3000, samples_per_identity=2, occluder_prob=0.2)
    add("--widths", type=int, nargs="+", default=[32, 64, 128, 192], help="ResNet stage widths.")
    add("--blocks", type=int, nargs="+", default=[1, 1, 1, 1], help="Residual blocks per stage.")
    add("--stem_stride", type=int, default=1, help="Stride of the stem convolution.")
    add("--lambda_landmarks", type=float, default=1.0, help="Weight of the landmark reprojection loss.")
    add("--warmup_steps", type=int, default=50, help="Linear learning-rate warm-up steps (cosine decay after).")
    add("--weight_decay", type=float, default=1e-4, help="AdamW weight decay.")
    return parse_args(parser, argv)


def main(argv=None) -> Path:
    args = build_args(argv)
    torch.set_num_threads(args.num_threads)
    trainer = Trainer(args, project_name="recon3d")
    torch.manual_seed(args.seed)
    data = render_faceworld("train", args.resolution, args.num_identities, args.samples_per_identity, args.data_seed,
                            DATA_KEYS, occluder_prob=args.occluder_prob, cache_path=args.cache_path)
    names = tuple(PARAM_SLICES)
    sizes = tuple(s.stop - s.start for s in PARAM_SLICES.values())
    model = Recon3DRegressor(sample_size=args.resolution, widths=tuple(args.widths), blocks=tuple(args.blocks),
                             stem_stride=args.stem_stride, param_names=names, param_sizes=sizes)
    params = data["params"].float()
    model.set_normalization(params.mean(0), params.std(0))
    # channels_last is ~1.5x faster for conv training on CPU, but torch 2.13's CPU conv backward segfaults on
    # 8-channel channels_last maps at 64 px (seen with widths 8 16): keep the default layout for such tiny widths.
    layout = torch.channels_last if min(args.widths) >= 16 else torch.contiguous_format
    model = model.to(memory_format=layout)
    projector = FaceWorldProjector(args.resolution)
    dataset = torch.utils.data.TensorDataset(data["image"], params, data["landmarks"].float())
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.train_batch_size, shuffle=True, drop_last=True,
                                         generator=torch.Generator().manual_seed(args.seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup(args.warmup_steps, args.max_train_steps))
    model, optimizer, scheduler, loader = trainer.prepare(model=model, optimizer=optimizer, scheduler=scheduler,
                                                          dataloader=loader)
    trainer.resume()
    core = trainer.accelerator.unwrap_model(model)
    model.train()
    for images, target, landmarks in trainer.batches(loader):
        with trainer.accumulate(model):
            out = model(as_float_images(images).contiguous(memory_format=layout))
            loss_params = F.mse_loss(out.normalized, core.normalize(target))
            # Landmarks in units of the image side, so the weight does not depend on the resolution.
            loss_lm = (projector.landmarks(out.params) - landmarks).norm(dim=-1).mean() / args.resolution
            loss = loss_params + args.lambda_landmarks * loss_lm
            trainer.accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        trainer.log(loss=loss.detach(), loss_params=loss_params.detach(), loss_landmarks=loss_lm.detach(),
                    lr=scheduler.get_last_lr()[0])

    core = core.eval().to(memory_format=torch.contiguous_format)
    test = render_faceworld("test", args.resolution, args.eval_identities, 1, 1, DATA_KEYS, occluder_prob=0.0)
    metrics = recon3d_metrics(core, test, projector)
    info = {
        "title": f"3DMM coefficient regressor on FaceWorld, {args.resolution}x{args.resolution}",
        "description": ("A ResNet (facezoo.face.Recon3DRegressor) that regresses FaceWorld's coefficient vector "
                        f"({', '.join(f'{n}: {s}' for n, s in zip(names, sizes))}) from a face image, in the style of "
                        "Deng et al. (2019). Metrics on held-out FaceWorld test identities: landmark NME (% of the "
                        "inter-ocular distance; the mean-coefficient baseline and the ground-truth coefficients for "
                        "scale) and mean absolute errors per coefficient group."),
        "pipeline": None,
        "tags": ["3dmm", "face-reconstruction", "faceworld"],
        "training_data": (f"FaceWorld train split, {args.num_identities} identities x {args.samples_per_identity} "
                          f"renders at {args.resolution} px, occluders with p={args.occluder_prob} "
                          f"(scene seed {args.data_seed})"),
        "architecture_notes": (f"ResNetTrunk widths {list(args.widths)}, blocks {list(args.blocks)}, stem stride "
                               f"{args.stem_stride}; global pooling, linear head to {sum(sizes)} standardised "
                               f"coefficients; loss = MSE(standardised coefficients) + {args.lambda_landmarks} x "
                               "landmark reprojection error / image side."),
    }
    folder = trainer.export(core, folder=str(Path(args.output_dir) / "model"), info=info, metrics=metrics)
    trainer.finish()
    trainer.accelerator.print(f"FaceWorld test metrics: {metrics}")
    return folder


if __name__ == "__main__":
    main()
