"""Per-pipeline speed and memory: latency at batch 1, throughput at batch 16, fp32 and bf16, the pipeline's
``__call__`` time over the bare networks' forward (goal <= 1.10x) and peak RSS (goal <= 1 GiB).

Peak RSS is a process high-water mark, so each configuration runs in its own child process:

    python bench/pipelines.py                 # every configuration, one child each, writes docs/benchmarks.md
    python bench/pipelines.py --one fp32 16   # a single configuration in this process (what the children run)
"""

from __future__ import annotations

import json
import subprocess
import sys

import torch

from common import bench_args, emit, machine_info, peak_rss_mib, setup_threads, time_fn, write_markdown_table

MODEL = "facefeat.faceworld_64"


def load(dtype: torch.dtype):
    import facezoo

    pipe = facezoo.FaceFeatPipeline.from_pretrained(MODEL, torch_dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def measure(dtype_name: str, batch: int, repeats: int) -> dict:
    """Time one configuration: the whole ``pipe(identity_image=...)`` call against the same networks called bare
    (E_id on the input, G_1^f and G_2^f on noise, G^I on the features), with the same tensors."""
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    pipe = load(dtype)
    faces = torch.rand(batch, 3, pipe.image_size, pipe.image_size)

    def call():
        pipe(identity_image=faces, generator=torch.Generator().manual_seed(0), output_type="pt")

    def bare():
        with torch.no_grad():
            x = faces.to(dtype) * 2 - 1
            f_id = pipe.identity_encoder((x + 1) / 2).embedding
            z1 = torch.rand(batch, pipe.pose_expression_generator.config.noise_dim, dtype=dtype) * 2 - 1
            z2 = torch.rand(batch, pipe.general_generator.config.noise_dim, dtype=dtype) * 2 - 1
            pipe.image_generator(f_id, pipe.pose_expression_generator(z1), pipe.general_generator(z2))

    t_call = time_fn(call, warmup=2, repeats=repeats)
    t_bare = time_fn(bare, warmup=2, repeats=repeats)
    return {"call_s": t_call.median, "bare_s": t_bare.median, "rss_mib": peak_rss_mib()}


def main() -> None:
    parser = bench_args("FaceFeatPipeline latency, throughput, call overhead and peak memory")
    parser.add_argument("--one", nargs=2, metavar=("DTYPE", "BATCH"), help="run one configuration here, print JSON")
    args = parser.parse_args()
    setup_threads(args.threads)
    repeats = 3 if args.quick else args.repeats
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), repeats)))
        return
    rows = []
    dtypes = ["fp32"] if args.quick else ["fp32", "bf16"]
    for dtype in dtypes:
        for batch in (1, 16):
            cmd = [sys.executable, __file__, "--one", dtype, str(batch), "--repeats", str(repeats)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
            kind = "latency" if batch == 1 else "throughput"
            if batch == 1:
                rows.append(emit("facefeat.latency", res["call_s"] * 1e3, "ms", dtype, B=1))
            else:
                rows.append(emit("facefeat.throughput", batch / res["call_s"], "img/s", dtype, B=batch))
            rows.append(emit("facefeat.call_over_forward", res["call_s"] / res["bare_s"], "x", dtype, B=batch))
            rows.append(emit("facefeat.peak_rss", res["rss_mib"], "MiB", dtype, B=batch, kind=kind))
    if args.write:
        write_markdown_table(args.markdown, "pipelines", rows, machine_info(),
                             note="`call_over_forward`: the pipeline call (input checks, resizing, noise, post-processing "
                                  "to [0, 1]) over the bare forward of E_id + G_1^f + G_2^f + G^I on the same tensors; goal "
                                  "<= 1.10x. Peak RSS per configuration in its own process; goal <= 1 GiB.")


if __name__ == "__main__":
    main()
