"""The ``facezoo`` command line: ``facezoo list``, ``facezoo run``, ``facezoo export-onnx``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def _inputs(path: Path) -> List[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise SystemExit(f"facezoo run: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {path}")
        return files
    if not path.is_file():
        raise SystemExit(f"facezoo run: no such file or folder: {path}")
    return [path]


def cmd_list(args: argparse.Namespace) -> int:
    import facezoo

    print("pipelines:")
    for name in facezoo.list_pipelines():
        print(f"  {name}")
    print("named weights:")
    for name in facezoo.list_models(args.pattern):
        print(f"  {name}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    import facezoo
    from facezoo.utils.images import load_image

    pipe = facezoo.AutoFacePipeline.from_pretrained(args.pipeline, local_files_only=args.offline or None)
    pipe.to(args.device)
    files = _inputs(Path(args.input))
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    detector = None
    if args.align:
        from facezoo.face.alignment import FACEWORLD_MARGIN, align_face
        from facezoo.face.detection import DlibFaceDetector

        detector = DlibFaceDetector()
        margin = FACEWORLD_MARGIN if args.margin is None else args.margin
    generator = torch.Generator().manual_seed(args.seed)
    failures = 0
    for i in tqdm(range(0, len(files), args.batch_size), desc="facezoo run", unit="batch"):
        batch, names = [], []
        for path in files[i : i + args.batch_size]:
            try:
                image = load_image(path)
                if detector is not None:
                    import numpy as np
                    import PIL.Image

                    rgb = np.asarray(image)  # aligned large, then resized with antialiasing by the pipeline
                    face = detector.detect_largest(rgb, name=path.name)
                    image = PIL.Image.fromarray(align_face(rgb, face.keypoints, size=max(256, pipe.image_size), margin=margin).crop)
            except ValueError as err:  # not an image, corrupt, or no face found: report and go on
                print(f"skipping {path.name}: {err}", file=sys.stderr)
                failures += 1
                continue
            batch.append(image)
            names.append(path.stem)
        if not batch:
            continue
        for name, result in zip(names, pipe.run_images(batch, generator=generator)):
            result.save(out_dir / f"{name}.png")
    print(f"wrote {len(files) - failures} image(s) to {out_dir}" + (f"; {failures} skipped" if failures else ""))
    return 1 if failures == len(files) else 0


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from facezoo.onnx_export import export_pipeline_folder
    from facezoo.utils.hub import resolve_pretrained

    written = export_pipeline_folder(resolve_pretrained(args.pipeline), args.out)
    for path in written:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facezoo", description="facezoo: identity-preserving face synthesis pipelines")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list pipelines and named weights")
    p.add_argument("pattern", nargs="?", default="*", help="shell pattern for named weights, e.g. 'facefeat.*'")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="run a pipeline on an image or a folder of images")
    p.add_argument("pipeline", help="named weight (facezoo list), pipeline folder or Hub repo id")
    p.add_argument("input", help="an image file or a folder of images")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--batch_size", type=int, default=8, help="images per batch")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--align", action="store_true", help="detect and align faces in real photos first")
    p.add_argument("--margin", type=float, default=None,
                   help="border around the aligned face (fraction); default: FaceWorld's framing, which the shipped models saw")
    p.add_argument("--offline", action="store_true", help="never contact the Hub (like HF_HUB_OFFLINE=1)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("export-onnx", help="export every generator network of a pipeline to ONNX")
    p.add_argument("pipeline", help="named weight, pipeline folder or Hub repo id")
    p.add_argument("out", help="output folder for .onnx files")
    p.set_defaults(func=cmd_export_onnx)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
