"""The roofline of this machine at the shapes our generators use, and where each network sits under it.

Measures fp32 matmul and 3x3-convolution FLOP/s (NCHW and channels_last, batch 16, the C@HxW of small face
generators from 256@8x8 to 32@64x64), one tiny bf16 shape (bf16 is ~100x slower on CPUs without native bf16),
then each registered network's FLOPs per image (``FlopCounterMode``, 2 FLOPs per multiply-add) and the share
of the measured conv peak it reaches at batch 16.

    python bench/roofline.py [--quick] [--no-write] [--threads N]
"""

from __future__ import annotations

from typing import Any, Dict, List

import torch
import torch.nn.functional as F

from common import bench_args, emit, machine_info, registered_networks, setup_threads, time_fn, write_markdown_table

from facezoo.utils.flops import count_flops

CONV_SHAPES = [(256, 8), (128, 16), (64, 32), (32, 64)]  # (channels, side): one per generator stage
MATMUL_SHAPES = [(16, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048)]  # (M, K, N): mapping MLP, square
BATCH = 16


def matmul_gflops(m: int, k: int, n: int, dtype: torch.dtype, repeats: int) -> float:
    a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    t = time_fn(lambda: torch.mm(a, b), repeats=repeats, min_seconds=0.2)
    return 2.0 * m * k * n / t.median / 1e9


def conv_gflops(channels: int, side: int, batch: int, dtype: torch.dtype, channels_last: bool, repeats: int) -> float:
    x = torch.randn(batch, channels, side, side, dtype=dtype)
    w = torch.randn(channels, channels, 3, 3, dtype=dtype)
    if channels_last:
        x, w = x.to(memory_format=torch.channels_last), w.to(memory_format=torch.channels_last)
    with torch.no_grad():
        t = time_fn(lambda: F.conv2d(x, w, padding=1), repeats=repeats, min_seconds=0.2)
    return 2.0 * batch * channels * channels * 9 * side * side / t.median / 1e9


def main() -> None:
    parser = bench_args(__doc__.split("\n\n")[0])
    args = parser.parse_args()
    setup_threads(args.threads)
    repeats = 2 if args.quick else args.repeats
    conv_shapes = CONV_SHAPES[1:3] if args.quick else CONV_SHAPES
    matmul_shapes = MATMUL_SHAPES[:2] if args.quick else MATMUL_SHAPES

    rows: List[Dict[str, Any]] = []

    def record(op: str, shape: str, dtype: str, layout: str, gflops: float, **params: Any) -> None:
        emit(f"roofline.{op}", gflops, "GFLOP/s", dtype, *([layout] if layout else []), **params)
        rows.append({"op": op, "shape": shape, "dtype": dtype, "layout": layout or "—", "GFLOP/s": gflops})

    for m, k, n in matmul_shapes:
        record("matmul", f"{m}x{k} @ {k}x{n}", "fp32", "", matmul_gflops(m, k, n, torch.float32, repeats), M=m, K=k, N=n)
    conv_peak = 0.0
    for c, hw in conv_shapes:
        for layout, cl in (("nchw", False), ("channels_last", True)):
            g = conv_gflops(c, hw, BATCH, torch.float32, cl, repeats)
            conv_peak = max(conv_peak, g)
            record("conv3x3", f"B={BATCH} C={c} {hw}x{hw}", "fp32", layout, g, C=c, HW=hw, B=BATCH)
    # bf16: one small shape each, to show the gap (or not: CPUs with avx512_bf16/AMX run it natively).
    record("matmul", "256x256 @ 256x256", "bf16", "", matmul_gflops(256, 256, 256, torch.bfloat16, 1), M=256, K=256, N=256)
    record("conv3x3", "B=1 C=64 16x16", "bf16", "nchw", conv_gflops(64, 16, 1, torch.bfloat16, False, 1), C=64, HW=16, B=1)
    emit("roofline.conv3x3_peak", conv_peak, "GFLOP/s", "fp32")

    net_rows: List[Dict[str, Any]] = []
    for name, model in registered_networks():
        with torch.no_grad():
            flops_per_image = count_flops(model, model.dummy_inputs(1))
            inputs = model.dummy_inputs(BATCH)
            t = time_fn(lambda: model(*inputs), warmup=1, repeats=repeats)
        achieved = flops_per_image * BATCH / t.median / 1e9
        emit("roofline.network", flops_per_image / 1e6, "MFLOP/image", "fp32", net=name)
        emit("roofline.network_speed", achieved, "GFLOP/s", "fp32", net=name, B=BATCH)
        emit("roofline.network_share", 100.0 * achieved / conv_peak, "%", "fp32", net=name, B=BATCH)
        net_rows.append(
            {
                "net": name,
                "MFLOP/image": flops_per_image / 1e6,
                f"img/s (B={BATCH})": BATCH / t.median,
                "GFLOP/s": achieved,
                "share of conv peak": f"{100.0 * achieved / conv_peak:.0f}%",
            }
        )

    if args.write:
        info = machine_info()
        write_markdown_table(args.markdown, "roofline", rows, info, note="Measured FLOP/s of single fp32 ops (batch 16 for convs) and one tiny bf16 shape.")
        write_markdown_table(
            args.markdown,
            "networks",
            net_rows,
            info,
            note=f"Each network's FLOPs per image and the share of the measured fp32 3x3-conv peak ({conv_peak:.1f} "
            f"GFLOP/s) it reaches at batch {BATCH}, default config, NCHW, fp32 (goal: >= 50%).",
        )


if __name__ == "__main__":
    main()
