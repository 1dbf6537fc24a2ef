"""Report markdown, direction checks, RESULTS.md summary, and the `python -m facezoo.eval` dispatcher."""

import sys
import types

import numpy as np
import PIL.Image
import pytest

from facezoo.eval.__main__ import load_evaluation, parse_args, run
from facezoo.eval.report import EvaluationUnavailable, Report, format_value, write_summary


def test_table_puts_paper_rows_under_matching_rows():
    r = Report("Demo")
    r.add_table(
        "Table 1",
        ["setting", "cos", "PSNR"],
        rows=[["full", 0.71234, 24.0], ["no GAN", 0.5, float("nan")]],
        paper_rows=[["extra", 1, 2], ["full", 0.79, None]],
        note="paper on CelebA",
    )
    md = r.to_markdown()
    lines = md.splitlines()
    start = lines.index("| source | setting | cos | PSNR |")
    assert lines[start + 2 : start + 6] == [
        "| ours | full | 0.7123 | 24 |",
        "| paper | full | 0.79 | — |",
        "| ours | no GAN | 0.5 | — |",
        "| paper | extra | 1 | 2 |",
    ]
    assert "*paper on CelebA*" in md and md.startswith("# Demo\n")
    with pytest.raises(ValueError, match="3 columns"):
        r.add_table("bad", ["a", "b", "c"], rows=[[1, 2]])


def test_table_without_paper_rows_has_no_source_column():
    md = Report("t").add_table("T", ["a", "b"], rows=[[1, "x|y"]]).to_markdown()
    assert "| a | b |" in md and "| 1 | x\\|y |" in md and "source" not in md


def test_direction_checks():
    r = Report("t")
    assert r.add_direction_check("drop identity loss", -0.1, -0.3) is True
    assert r.add_direction_check("drop GAN", 0.02, -0.05) is False
    assert r.add_direction_check("missing", None, 0.1) is False
    md = r.to_markdown()
    assert "- **drop identity loss**: ours Δ = -0.1, paper Δ = -0.3 — direction matches the paper: yes\n- **drop GAN**" in md
    assert "paper Δ = -0.05 — direction matches the paper: no" in md
    assert "ours Δ = n/a" in md


def test_format_value():
    assert format_value(3.14159265) == "3.142"
    assert format_value(None) == "—" and format_value(7) == "7" and format_value(1.5e6) == "1.500e+06"


def test_write_and_summary_with_relative_image_links(tmp_path):
    results = tmp_path / "docs" / "results"
    img = results / "demo" / "grid.png"
    img.parent.mkdir(parents=True)
    PIL.Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(img)
    r = Report("Demo report").add_text("Some text.").add_image(img, "sample grid")
    r.add_direction_check("a", 1.0, 2.0)
    r.add_direction_check("b", 1.0, -2.0)
    r.add_table("T", ["x"], [[1]])
    path = r.write(results / "demo.md")
    assert "![sample grid](demo/grid.png)" in path.read_text()
    summary = write_summary(results, tmp_path / "docs" / "RESULTS.md").read_text()
    assert "## [Demo report](results/demo.md)" in summary
    assert "ablation directions matching the paper: 1/2" in summary
    assert "![sample grid](results/demo/grid.png)" in summary


def _fake_eval_module(monkeypatch, name, body):
    module = types.ModuleType(name)
    exec(body, module.__dict__)
    monkeypatch.setitem(sys.modules, name, module)


def test_dispatcher_runs_available_and_skips_missing(tmp_path, monkeypatch, capsys):
    _fake_eval_module(
        monkeypatch,
        "fz_fake_eval",
        "from facezoo.eval.report import Report\n"
        "def main(args):\n"
        "    r = Report('Fake eval')\n"
        "    r.add_text('data: ' + ', '.join(f'{k}={v.name}' for k, v in args.data.items()))\n"
        "    r.add_text('quick' if args.quick else 'full')\n"
        "    return r\n",
    )
    _fake_eval_module(
        monkeypatch,
        "fz_noweights_eval",
        "from facezoo.eval.report import EvaluationUnavailable\n"
        "def main(args):\n    raise EvaluationUnavailable('weights facefeat.x are not shipped')\n",
    )
    table = {"fake": "fz_fake_eval:main", "noweights": "fz_noweights_eval:main", "missing": "fz_does_not_exist:main"}
    data = tmp_path / "lfw"
    data.mkdir()
    out = tmp_path / "docs" / "results"
    args = parse_args(["all", "--out", str(out), "--data", f"lfw={data}", "--quick"], table)
    assert run(args, table) == 0
    err = capsys.readouterr().err
    assert "[skip] missing: evaluation 'missing' is not available: module fz_does_not_exist does not exist" in err
    assert "[skip] noweights: weights facefeat.x are not shipped" in err
    text = (out / "fake.md").read_text()
    assert "data: lfw=lfw" in text and "quick" in text
    assert not (out / "noweights.md").exists() and not (out / "fake").exists()  # no empty asset folders
    assert "[Fake eval](results/fake.md)" in (tmp_path / "docs" / "RESULTS.md").read_text()
    # One evaluation asked for by name that is unavailable → exit status 2; an unknown name → 2 as well.
    assert run(parse_args(["missing", "--out", str(out)], table), table) == 2
    assert run(parse_args(["nope", "--out", str(out)], table), table) == 2


def test_dispatcher_reports_a_failing_evaluation(tmp_path, monkeypatch, capsys):
    _fake_eval_module(monkeypatch, "fz_broken_eval", "def main(args):\n    return 1 / 0\n")
    _fake_eval_module(monkeypatch, "fz_wrong_type", "def main(args):\n    return 'text'\n")
    table = {"broken": "fz_broken_eval:main", "wrong": "fz_wrong_type:main"}
    assert run(parse_args(["all", "--out", str(tmp_path / "r")], table), table) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "[fail] broken" in err and "not a facezoo.eval.report.Report" in err


def test_load_evaluation_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unknown evaluation"):
        load_evaluation("x", {})
    _fake_eval_module(monkeypatch, "fz_nomain", "x = 1\n")
    with pytest.raises(EvaluationUnavailable, match="has no main"):
        load_evaluation("n", {"n": "fz_nomain:main"})
    # A missing dependency inside an existing evaluation module is a real error, not "unavailable".
    (tmp_path / "fz_baddep.py").write_text("import fz_missing_dependency_xyz\n\ndef main(args):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="fz_missing_dependency_xyz"):
        load_evaluation("b", {"b": "fz_baddep:main"})


def test_data_path_must_exist(tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        parse_args(["all", "--data", str(tmp_path / "nope")])
