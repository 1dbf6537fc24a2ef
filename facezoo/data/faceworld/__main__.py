"""Command line: ``python -m facezoo.data.faceworld export|preview``.

    python -m facezoo.data.faceworld export --num 1000 --size 64 --out data/faceworld_64 [--split train] [--seed 0]
    python -m facezoo.data.faceworld preview --out docs/faceworld.png
"""

from __future__ import annotations

import argparse
import math
from typing import List, Optional

import numpy as np
import torch

from ..folder import FaceFolderWriter
from .expression import EXPRESSION_PRESETS, EXPRESSIONS
from .identity import SEMANTIC_CLASSES
from .occluders import OCCLUDERS
from .world import PARAM_SLICES, FaceWorld, FaceWorldRenderer, sample_scenes, split_identities


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m facezoo.data.faceworld", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="render samples into a face folder (facezoo.data.folder format)")
    e.add_argument("--num", type=int, required=True, help="number of samples to write")
    e.add_argument("--size", type=int, default=64, help="image resolution")
    e.add_argument("--out", required=True, help="output folder")
    e.add_argument("--split", default="train", choices=["train", "val", "test"], help="identity split")
    e.add_argument("--seed", type=int, default=0, help="scene seed")
    e.add_argument("--samples-per-identity", type=int, default=32, help="consecutive samples per identity")
    e.add_argument("--keys", default="all", help="comma-separated keys to export, or 'all'")
    e.add_argument("--occluder-prob", type=float, default=0.3, help="chance of an occluder per image")
    e.add_argument("--expression-prob", type=float, default=0.7, help="chance of a non-neutral expression")
    e.add_argument("--batch-size", type=int, default=16, help="samples rendered per renderer call")
    v = sub.add_parser("preview", help="write a contact sheet PNG")
    v.add_argument("--out", default="docs/faceworld.png", help="output PNG")
    v.add_argument("--rows", type=int, default=6, help="identities (rows)")
    v.add_argument("--size", type=int, default=128, help="cell resolution")
    v.add_argument("--seed", type=int, default=0, help="which identities/scenes")
    return p.parse_args(argv)


def export(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    keys = "all" if args.keys == "all" else tuple(k.strip() for k in args.keys.split(","))
    ds = FaceWorld(split=args.split, size=args.size, seed=args.seed, samples_per_identity=args.samples_per_identity,
                   keys=keys, occluder_prob=args.occluder_prob, expression_prob=args.expression_prob)
    if args.num > len(ds):
        raise SystemExit(f"--num {args.num} exceeds the {len(ds)} samples of split {args.split!r}")
    meta = {
        "source": "faceworld", "split": args.split, "seed": args.seed, "semantic_classes": list(SEMANTIC_CLASSES),
        "expressions": list(EXPRESSIONS), "param_slices": {k: [s.start, s.stop] for k, s in PARAM_SLICES.items()},
    }
    with FaceFolderWriter(args.out, meta) as writer, tqdm(total=args.num, desc="faceworld export", unit="face") as bar:
        for start in range(0, args.num, args.batch_size):
            idx = list(range(start, min(args.num, start + args.batch_size)))
            batch = ds.get_batch(idx)
            for j in range(len(idx)):
                writer.write({k: v[j] for k, v in batch.items()})
            bar.update(len(idx))


def _palette(n: int) -> torch.Tensor:
    rng = np.random.default_rng(3)
    pal = rng.uniform(0.15, 1.0, (n, 3))
    pal[0] = 0
    return torch.from_numpy(pal).float()


def preview(args: argparse.Namespace) -> None:
    from PIL import Image, ImageDraw

    deg = math.pi / 180
    views = [("frontal", (0, 0, 0), "neutral", -1), ("yaw -75", (-75, 0, 0), "neutral", -1),
             ("yaw -35", (-35, 5, 0), "neutral", -1), ("yaw 30 up", (30, 18, 0), "neutral", -1),
             ("yaw 85", (85, 0, 0), "neutral", -1), ("roll", (10, -15, 15), "neutral", -1)]
    views += [(e, (0, 0, 0), e, -1) for e in EXPRESSIONS[1:]]
    views += [("occluder", (15, 0, 0), "neutral", 0), ("occluder", (-20, 0, 0), "happiness", 1)]
    renderer = FaceWorldRenderer(args.size, supersample=2)
    ids = split_identities("test")[args.seed * args.rows: (args.seed + 1) * args.rows]
    rows = []
    for r, identity in enumerate(ids):
        scene = sample_scenes([int(identity)] * len(views), [(args.seed, 99, r)] * len(views), 0.0, 0.0)
        for c, (_, pose, expr, occ) in enumerate(views):
            scene["pose"][c] = torch.tensor(pose, dtype=torch.float32) * deg
            scene["exp_coeffs"][c] = torch.from_numpy(EXPRESSION_PRESETS[EXPRESSIONS.index(expr)]).float()
            scene["occluder"][c] = -1 if occ < 0 else (2 * r + occ) % len(OCCLUDERS)
        out = renderer.render(scene, ("image", "semantic", "sketch", "uv_texture"))
        cells = list(out["image"])
        cells.append(torch.nn.functional.interpolate(out["uv_texture"][:1], size=(args.size, args.size),
                                                     mode="area")[0])
        cells.append(_palette(len(SEMANTIC_CLASSES))[out["semantic"][0]].permute(2, 0, 1))
        cells.append(1 - out["sketch"][0].expand(3, -1, -1))
        rows.append(torch.cat(cells, 2))
    sheet = torch.cat(rows, 1).permute(1, 2, 0).clamp(0, 1).numpy()
    header = 16
    img = Image.new("RGB", (sheet.shape[1], sheet.shape[0] + header), "white")
    img.paste(Image.fromarray((sheet * 255 + 0.5).astype(np.uint8)), (0, header))
    draw = ImageDraw.Draw(img)
    titles = [v[0] for v in views] + ["UV texture", "semantic", "sketch"]
    for c, t in enumerate(titles):
        draw.text((c * args.size + 4, 2), t, fill=(0, 0, 0))
    img.save(args.out)
    print(f"wrote {args.out} ({img.size[0]}x{img.size[1]})")


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.command == "export":
        export(args)
    else:
        preview(args)


if __name__ == "__main__":
    main()
