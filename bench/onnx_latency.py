"""onnxruntime latency next to PyTorch's for exported generators.

Exports each network (``dummy_inputs``) to a temporary ONNX file, checks parity, and times both runtimes at
batch 1 and 16 (median of repeats, same thread count). Networks come from a pipeline folder, a named weight
resolved by `facezoo.onnx_export.load_pipeline_components`, or, by default, every registered network class
with its default config.

    python bench/onnx_latency.py [--folder PIPELINE_FOLDER] [--net CLASS ...] [--quick] [--no-write]
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import torch

from common import bench_args, emit, machine_info, registered_networks, setup_threads, time_fn, write_markdown_table

from facezoo.onnx_export import check_parity, export_model, has_dummy_inputs, load_pipeline_components, onnx_session, run_onnx

BATCHES = (1, 16)


def networks(folder: Path | None, names: List[str]) -> List[Tuple[str, torch.nn.Module]]:
    if folder is not None:
        nets = [(n, m.eval()) for n, m in load_pipeline_components(folder).items() if has_dummy_inputs(m)]
    else:
        nets = registered_networks()
    return [(n, m) for n, m in nets if not names or n in names]


def bench_network(name: str, model: torch.nn.Module, workdir: Path, threads: int, repeats: int) -> List[Dict[str, Any]]:
    path = export_model(model, workdir / f"{name}.onnx")
    session = onnx_session(path, threads=threads)
    rows = []
    for batch in BATCHES:
        inputs = model.dummy_inputs(batch)
        diff = check_parity(model, path, inputs)
        with torch.no_grad():
            t_torch = time_fn(lambda: model(*inputs), repeats=repeats)
        t_ort = time_fn(lambda: run_onnx(session, inputs), repeats=repeats)
        emit("onnx.torch_latency", t_torch.median * 1e3, "ms", "fp32", net=name, B=batch)
        emit("onnx.ort_latency", t_ort.median * 1e3, "ms", "fp32", net=name, B=batch)
        emit("onnx.max_abs_diff", diff, "abs", "fp32", net=name, B=batch)
        rows.append(
            {
                "net": name,
                "batch": batch,
                "torch ms": t_torch.median * 1e3,
                "onnxruntime ms": t_ort.median * 1e3,
                "ort / torch": t_ort.median / t_torch.median,
                "max abs diff": f"{diff:.1e}",
            }
        )
    return rows


def main() -> None:
    parser = bench_args(__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=None, help="a saved pipeline folder to export and time")
    parser.add_argument("--net", action="append", default=[], help="only these networks (class or component names)")
    args = parser.parse_args()
    threads = setup_threads(args.threads)
    repeats = 2 if args.quick else args.repeats
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in networks(args.folder, args.net):
            rows += bench_network(name, model, Path(tmp), threads, repeats)
    if args.write and rows:
        write_markdown_table(
            args.markdown,
            "onnx",
            rows,
            machine_info(),
            note="fp32, default configs (or the given pipeline folder); onnxruntime CPUExecutionProvider with the same "
            "thread count as torch; `max abs diff` is the parity of the two outputs on the same inputs.",
        )


if __name__ == "__main__":
    main()
