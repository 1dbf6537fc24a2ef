"""Markdown reports of an evaluation: our numbers next to the paper's, ablation direction checks, image grids.

Each evaluation module (``facezoo.eval.facefeat`` …) builds one `Report` and returns it from ``main(args)``;
``python -m facezoo.eval`` writes it to ``docs/results/<name>.md`` and refreshes ``docs/RESULTS.md`` with
`write_summary`. Example::

    report = Report("FaceFeat-GAN on FaceWorld 64x64")
    report.add_table(
        "Table 2: identity and quality", ["setting", "identity cos", "PSNR"],
        rows=[["full model", 0.71, 24.3]], paper_rows=[["full model", 0.79, None]],
        note="Paper numbers are on CelebA; ours on FaceWorld.",
    )
    report.add_direction_check("remove the feature GAN stage", ours_delta=-0.08, paper_delta=-0.12)
    report.add_image(args.assets / "samples.png", "seeded samples")
    report.write(args.out / "facefeat.md")
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

DIRECTION_LINE = "direction matches the paper"


class EvaluationUnavailable(RuntimeError):
    """Raised by an evaluation's ``main(args)`` when what it needs (weights, a data set) is not there; the
    ``python -m facezoo.eval`` command prints the message and, under ``all``, goes on with the others."""


def format_value(value: Any) -> str:
    """A table cell: 4 significant digits for floats, ``—`` for a missing value, ``str()`` otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


@dataclass
class _Image:
    path: Path
    caption: str


class Report:
    """An evaluation report, rendered to markdown. Blocks appear in the order they were added.

    Args:
        title (`str`): the report's heading (also its entry in ``RESULTS.md``).
    """

    def __init__(self, title: str):
        self.title = title
        self._blocks: List[Union[str, _Image]] = []
        self.direction_checks: List[tuple] = []

    def add_text(self, md: str) -> "Report":
        """Free markdown (a paragraph, a list, a sub-heading)."""
        self._blocks.append(md.strip())
        return self

    def add_table(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        paper_rows: Optional[Sequence[Sequence[Any]]] = None,
        note: Optional[str] = None,
    ) -> "Report":
        """A table of our `rows` under `columns`, with the paper's `paper_rows` for the same columns.

        A ``source`` column marks each row ``ours`` or ``paper``; a paper row whose first cell equals an
        our-row's first cell is placed right below it, the others follow at the end. Use ``None`` for a number
        the paper does not report.
        """
        columns = list(columns)
        for kind, table in (("rows", rows), ("paper_rows", paper_rows or [])):
            for row in table:
                if len(row) != len(columns):
                    raise ValueError(f"{title!r}: a row of `{kind}` has {len(row)} cells for {len(columns)} columns: {row!r}")
        paper = list(paper_rows or [])
        lines = [f"### {title}", ""]
        header = (["source"] if paper_rows is not None else []) + columns
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

        def line(source: Optional[str], row: Sequence[Any]) -> str:
            cells = ([source] if source else []) + [format_value(v) for v in row]
            return "| " + " | ".join(cells) + " |"

        used = set()
        for row in rows:
            lines.append(line("ours" if paper_rows is not None else None, row))
            for i, prow in enumerate(paper):
                if i not in used and prow and row and prow[0] == row[0]:
                    lines.append(line("paper", prow))
                    used.add(i)
                    break
        lines += [line("paper", prow) for i, prow in enumerate(paper) if i not in used]
        if note:
            lines += ["", f"*{note.strip()}*"]
        self._blocks.append("\n".join(lines))
        return self

    def add_direction_check(self, name: str, ours_delta: Optional[float], paper_delta: Optional[float]) -> bool:
        """Record whether an ablation moves our metric the same way it moved the paper's.

        The deltas are signed changes of one metric (ablation minus full model, say); the check passes when
        both have the same sign (both zero counts as matching). A missing or NaN delta never matches.
        Writes ``- name: ours Δ = …, paper Δ = … — direction matches the paper: yes|no`` and returns the answer.
        """
        valid = all(d is not None and not math.isnan(d) for d in (ours_delta, paper_delta))
        matches = bool(valid and _sign(ours_delta) == _sign(paper_delta))
        self.direction_checks.append((name, ours_delta, paper_delta, matches))

        def fmt(d):
            return "n/a" if d is None or math.isnan(d) else f"{d:+.4g}"

        self._blocks.append(
            f"- **{name}**: ours Δ = {fmt(ours_delta)}, paper Δ = {fmt(paper_delta)} — "
            f"{DIRECTION_LINE}: {'yes' if matches else 'no'}"
        )
        return matches

    def add_image(self, path: Union[str, os.PathLike], caption: str) -> "Report":
        """An image (a sample grid, a plot) saved by the evaluation; linked relative to the written report."""
        self._blocks.append(_Image(Path(path).resolve(), caption))
        return self

    def to_markdown(self, base_dir: Optional[Union[str, os.PathLike]] = None) -> str:
        """The report as markdown; image links are relative to `base_dir` (the report's folder) when given."""
        parts = [f"# {self.title}"]
        for block in self._blocks:
            if isinstance(block, _Image):
                link = Path(os.path.relpath(block.path, base_dir)) if base_dir is not None else block.path
                parts.append(f"![{block.caption}]({link.as_posix()})\n\n*{block.caption}*")
            else:
                parts.append(block)
        # Consecutive direction-check lines form one list; everything else is separated by a blank line.
        out = parts[0]
        for prev, cur in zip(parts, parts[1:]):
            out += ("\n" if prev.startswith("- **") and cur.startswith("- **") else "\n\n") + cur
        return out + "\n"

    def write(self, path: Union[str, os.PathLike]) -> Path:
        """Write the markdown to `path` (creating its folder) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_markdown(base_dir=path.parent.resolve()), encoding="utf-8")
        return path


_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]+)\)")


def write_summary(results_dir: Union[str, os.PathLike], summary_path: Union[str, os.PathLike]) -> Path:
    """Write ``RESULTS.md``: one section per ``results_dir/*.md`` with its title, a link, the count of ablation
    directions that match the paper, and its images (links rewritten relative to `summary_path`)."""
    results_dir, summary_path = Path(results_dir).resolve(), Path(summary_path)
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    base = summary_path.parent.resolve()
    lines = [
        "# facezoo results",
        "",
        "Regenerate with `python -m facezoo.eval all` (one report: `python -m facezoo.eval <name>`).",
        "Each report puts our numbers next to the paper's for the same columns and says, per ablation, whether",
        "its direction matches the paper. Fréchet and perceptual distances use our own offline feature networks and",
        "are not comparable with Inception-based FID or LPIPS.",
    ]
    reports = sorted(results_dir.glob("*.md"))
    if not reports:
        lines += ["", "No evaluation report yet."]
    for md in reports:
        text = md.read_text(encoding="utf-8")
        title = next((l[2:].strip() for l in text.splitlines() if l.startswith("# ")), md.stem)
        rel = Path(os.path.relpath(md, base)).as_posix()
        lines += ["", f"## [{title}]({rel})", ""]
        yes = text.count(f"{DIRECTION_LINE}: yes")
        no = text.count(f"{DIRECTION_LINE}: no")
        tables = sum(1 for l in text.splitlines() if l.startswith("### "))
        facts = [f"{tables} table{'s' if tables != 1 else ''}"]
        if yes or no:
            facts.append(f"ablation directions matching the paper: {yes}/{yes + no}")
        lines.append("; ".join(facts) + ".")
        for caption, link in _IMAGE.findall(text):
            target = Path(link) if Path(link).is_absolute() else (md.parent / link)
            lines += ["", f"![{caption}]({Path(os.path.relpath(target.resolve(), base)).as_posix()})"]
    summary_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary_path


__all__ = ["Report", "EvaluationUnavailable", "write_summary", "format_value", "DIRECTION_LINE"]
