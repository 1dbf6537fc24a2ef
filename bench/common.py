"""What every benchmark in ``bench/`` shares: thread setup, timing, peak memory, one-line figures, and the
sections of ``docs/benchmarks.md``.

Run a bench as ``python bench/<name>.py`` (this folder is then on ``sys.path``; ``from common import ...``).
Each figure is printed as ONE line that a script can read back with `parse_figure`::

    roofline.conv3x3 C=64 HW=64 B=16 fp32 nchw: 171.2 GFLOP/s

A per-pipeline bench looks like::

    from common import bench_args, emit, machine_info, setup_threads, time_fn, write_markdown_table
    args = bench_args("FaceFeat pipeline").parse_args()
    setup_threads(args.threads)
    t = time_fn(lambda: pipe(num_images=1, output_type="pt"), repeats=args.repeats)
    rows = [emit("facefeat.latency", t.median * 1e3, "ms", "fp32", B=1)]
    if args.write:
        write_markdown_table(args.markdown, "facefeat", rows, machine_info())
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `python bench/x.py` from a fresh clone, without `pip install -e .`
    sys.path.insert(0, str(REPO))

from facezoo.utils.flops import Timing, time_call  # noqa: E402

DEFAULT_MARKDOWN = REPO / "docs" / "benchmarks.md"


# --- machine -------------------------------------------------------------------------------------------------


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask, which containers restrict), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def setup_threads(threads: Optional[int] = None) -> int:
    """Give torch `threads` intra-op threads (default: ``$FACEZOO_BENCH_THREADS`` or every available core)."""
    n = threads or int(os.environ.get("FACEZOO_BENCH_THREADS", 0)) or available_cores()
    torch.set_num_threads(n)
    return n


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> Dict[str, Any]:
    """What the numbers ran on: CPU model, cores, torch threads and version, and the GPU if torch sees one."""
    info: Dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": available_cores(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    if hasattr(os, "getloadavg"):
        # Other processes on the cores change every figure: record how busy the machine was.
        info["load"] = round(os.getloadavg()[0], 1)
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def describe_machine(info: Dict[str, Any]) -> str:
    text = f"{info['cpu']}, {info['cores']} cores, torch {info['torch']} with {info['threads']} threads"
    text += f", GPU {info['gpu']}" if info.get("gpu") else ""
    return text + (f", 1-min load average {info['load']} when written" if info.get("load") is not None else "")


# --- measuring -----------------------------------------------------------------------------------------------


def time_fn(
    fn: Callable[[], Any], warmup: int = 2, repeats: int = 5, min_seconds: float = 0.0, device: Optional[str] = None
) -> Timing:
    """Seconds per call of ``fn()``: `warmup` untimed calls, then the median of at least `repeats` timed calls.

    With ``device="cuda"`` each call is followed by a synchronisation, so the time covers the GPU work.
    """
    if device is not None and torch.device(device).type == "cuda":
        inner = fn

        def fn():
            inner()
            torch.cuda.synchronize()

    return time_call(fn, warmup=warmup, repeats=repeats, min_seconds=min_seconds)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (``getrusage``; Linux reports KiB, macOS bytes).

    It is a high-water mark over the whole process: measure one configuration per process, or the largest one
    last, to attribute it."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


# --- one line per figure --------------------------------------------------------------------------------------

_FIGURE = re.compile(r"^(?P<name>[\w.\-]+)(?P<labels>(?: [^\s:]+)*): (?P<value>[-+0-9.eEinfa]+) (?P<unit>\S.*)$")


def format_figure(name: str, value: float, unit: str, *tags: str, **params: Any) -> str:
    """``name k=v ... tag ...: value unit`` — the form every bench prints and `parse_figure` reads."""
    labels = [f"{k}={v}" for k, v in params.items()] + list(tags)
    for label in [name, *labels]:
        if ":" in label or " " in label:
            raise ValueError(f"figure names and labels may not contain ':' or spaces: {label!r}")
    if ":" in unit:
        raise ValueError(f"a figure unit may not contain ':': {unit!r}")
    return f"{name}{''.join(' ' + l for l in labels)}: {value:.4g} {unit}"


def emit(name: str, value: float, unit: str, *tags: str, **params: Any) -> Dict[str, Any]:
    """Print one figure line and return it as a row for `write_markdown_table`
    (``{"figure": name, **params, "tags": ..., "value": ..., "unit": ...}``)."""
    print(format_figure(name, value, unit, *tags, **params), flush=True)
    row: Dict[str, Any] = {"figure": name, **params}
    if tags:
        row["tags"] = " ".join(tags)
    row["value"] = value
    row["unit"] = unit
    return row


def parse_figure(line: str) -> Optional[Dict[str, Any]]:
    """The inverse of `format_figure`: ``{"name", "params": {k: v}, "tags": [...], "value", "unit"}``, or None
    for a line that is not a figure."""
    m = _FIGURE.match(line.strip())
    if not m:
        return None
    try:
        value = float(m["value"])
    except ValueError:
        return None
    params, tags = {}, []
    for label in m["labels"].split():
        if "=" in label:
            k, v = label.split("=", 1)
            params[k] = v
        else:
            tags.append(label)
    return {"name": m["name"], "params": params, "tags": tags, "value": value, "unit": m["unit"]}


# --- docs/benchmarks.md ---------------------------------------------------------------------------------------

_HEADER = """# facezoo benchmarks

Regenerate with `make bench` (or `python bench/<name>.py`). Each section says the machine it ran on; figures drift
by about ±15% between runs on shared machines, so compare ratios measured in one run. Every bench also prints one
line per figure (`name k=v tag: value unit`) for scripts.
"""


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v).replace("|", "\\|")


def markdown_table(rows: Sequence[Dict[str, Any]]) -> str:
    """A markdown table; columns are the union of the rows' keys in first-seen order."""
    columns: List[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown_table(
    path: os.PathLike | str,
    section: str,
    rows: Sequence[Dict[str, Any]],
    machine_info: Dict[str, Any],
    note: Optional[str] = None,
) -> Path:
    """Replace (or append) the section `section` of the markdown file `path` with a table of `rows`, the machine
    they ran on, and an optional `note`. Other sections are kept untouched, so benches update the file in turn."""
    path = Path(path)
    begin, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    body = [begin, f"## {section}", "", f"Machine: {describe_machine(machine_info)}.", ""]
    if note:
        body += [note.strip(), ""]
    body += [markdown_table(rows) if rows else "(no rows)", end]
    block = "\n".join(body)
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- arguments and networks -----------------------------------------------------------------------------------


def bench_args(description: str) -> argparse.ArgumentParser:
    """The flags every bench takes; add your own to the returned parser."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: every available core)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per figure (the median is reported)")
    parser.add_argument("--quick", action="store_true", help="fewer shapes and repeats (smoke test)")
    parser.add_argument("--no-write", dest="write", action="store_false", help="print only; leave docs/benchmarks.md")
    parser.add_argument("--markdown", type=Path, default=DEFAULT_MARKDOWN, help="the markdown file to update")
    return parser


def registered_networks() -> List[Tuple[str, torch.nn.Module]]:
    """Every network class exported at ``facezoo``'s top level that defines ``dummy_inputs``, built with its
    default config and in eval mode: ``[(class name, model), ...]``."""
    import facezoo
    from facezoo.models.modeling_utils import FaceModelMixin

    nets = []
    for name in sorted(getattr(facezoo, "__all__", dir(facezoo))):
        cls = getattr(facezoo, name, None)
        if not (isinstance(cls, type) and issubclass(cls, FaceModelMixin)):
            continue
        if cls.dummy_inputs is FaceModelMixin.dummy_inputs:
            continue
        torch.manual_seed(0)
        nets.append((name, cls().eval()))
    return nets


if __name__ == "__main__":
    # `make bench` runs every file here; this one just states the machine.
    threads = setup_threads()
    info = machine_info()
    print(f"# machine: {describe_machine(info)}")
    emit("machine.cores", info["cores"], "cores")
    emit("machine.peak_rss", peak_rss_mib(), "MiB", "startup")
