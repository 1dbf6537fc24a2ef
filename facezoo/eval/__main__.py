"""``python -m facezoo.eval <name>|all [--data [KEY=]PATH ...] [--out docs/results]``

Runs evaluations from `EVALUATIONS` (name → ``"module:function"``, imported only when run). Each function takes
the parsed arguments and returns a `facezoo.eval.report.Report`; this command writes it to ``<out>/<name>.md``
and refreshes ``RESULTS.md`` next to the ``<out>`` folder. The arguments an evaluation receives:

- ``args.data``: ``dict`` of real data-set paths, ``{"lfw": Path(...)}`` from ``--data lfw=/data/lfw``;
  a bare ``--data /path`` is stored under the key ``"data"``. Empty: evaluate on FaceWorld only.
- ``args.out``: the results folder; ``args.assets``: ``<out>/<name>/``, created, for the report's images.
- ``args.quick``: a small, fast run (tests and smoke checks); ``args.seed``: the seed for everything random.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional

from facezoo.eval.report import EvaluationUnavailable, Report, write_summary

#: Evaluation name → ``"module:function"``. New methods add one line here.
EVALUATIONS: Dict[str, str] = {
    "faceworld": "facezoo.eval.faceworld:main",
    "toolkit": "facezoo.eval.toolkit:main",
    "facefeat": "facezoo.eval.facefeat:main",
}


def load_evaluation(name: str, table: Dict[str, str] = EVALUATIONS) -> Callable[[argparse.Namespace], Report]:
    """Import the function of evaluation `name`; `EvaluationUnavailable` when its module is not there yet."""
    if name not in table:
        raise ValueError(f"unknown evaluation {name!r}; choose one of {sorted(table)} or 'all'")
    module_name, _, func_name = table[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        # Only a missing evaluation module is "unavailable"; a missing dependency inside it is a real error.
        if err.name and (module_name == err.name or module_name.startswith(err.name + ".")):
            raise EvaluationUnavailable(f"evaluation {name!r} is not available: module {module_name} does not exist") from err
        raise
    func = getattr(module, func_name or "main", None)
    if func is None:
        raise EvaluationUnavailable(f"evaluation {name!r} is not available: {module_name} has no {func_name}()")
    return func


def _parse_data(items: List[str]) -> Dict[str, Path]:
    data: Dict[str, Path] = {}
    for item in items:
        key, sep, path = item.partition("=")
        key, path = (key, path) if sep else ("data", item)
        if not Path(path).exists():
            raise SystemExit(f"--data {item}: no such file or folder: {path}")
        data[key] = Path(path)
    return data


def parse_args(argv: Optional[List[str]] = None, table: Dict[str, str] = EVALUATIONS) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m facezoo.eval", description=__doc__.split("\n\n")[1])
    parser.add_argument("name", help=f"the evaluation to run: one of {', '.join(table)}, or 'all'")
    parser.add_argument(
        "--data", action="append", default=[], metavar="[KEY=]PATH",
        help="a real data set for the evaluations that accept one, e.g. --data lfw=/data/lfw (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=Path("docs/results"), help="folder of the <name>.md reports")
    parser.add_argument("--quick", action="store_true", help="a small, fast run (smoke test; numbers not for the docs)")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling and data generation")
    args = parser.parse_args(argv)
    args.data = _parse_data(args.data)
    return args


def run(args: argparse.Namespace, table: Dict[str, str] = EVALUATIONS) -> int:
    """Run the evaluation(s) named in `args`, write reports and the summary; returns the exit status
    (0: all ran; 1: one failed; 2: the single evaluation asked for is unavailable)."""
    names = list(table) if args.name == "all" else [args.name]
    if args.name != "all" and args.name not in table:
        print(f"unknown evaluation {args.name!r}; choose one of {', '.join(table)} or 'all'", file=sys.stderr)
        return 2
    status, out = 0, Path(args.out)
    for name in names:
        start = time.perf_counter()
        try:
            func = load_evaluation(name, table)
            args.assets = out / name
            args.assets.mkdir(parents=True, exist_ok=True)
            report = func(args)
            if not isinstance(report, Report):
                raise TypeError(f"{table[name]} returned {type(report).__name__}, not a facezoo.eval.report.Report")
        except (EvaluationUnavailable, FileNotFoundError, OSError) as err:
            print(f"[skip] {name}: {err}", file=sys.stderr)
            if args.name != "all":
                status = 2
            continue
        except Exception:  # noqa: BLE001 — under `all`, one broken evaluation must not hide the others' results
            traceback.print_exc()
            print(f"[fail] {name}", file=sys.stderr)
            status = 1
            continue
        finally:
            assets = getattr(args, "assets", None)
            if assets is not None and assets.is_dir() and not any(assets.iterdir()):
                assets.rmdir()
        path = report.write(out / f"{name}.md")
        print(f"[done] {name}: {path} ({time.perf_counter() - start:.1f} s)")
    if out.is_dir():
        summary = write_summary(out, out.resolve().parent / "RESULTS.md")
        print(f"[summary] {summary}")
    return status


def main(argv: Optional[List[str]] = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
