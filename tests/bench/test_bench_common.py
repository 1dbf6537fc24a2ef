"""bench/common.py: figure lines round-trip, markdown sections update in place, timing and machine info."""

import importlib.util
import time
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "common.py"
_spec = importlib.util.spec_from_file_location("bench_common", _PATH)
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)


def test_figure_line_round_trip(capsys):
    row = common.emit("roofline.conv3x3", 171.23, "GFLOP/s", "fp32", "nchw", C=64, HW=64, B=16)
    line = capsys.readouterr().out.strip()
    assert line == "roofline.conv3x3 C=64 HW=64 B=16 fp32 nchw: 171.2 GFLOP/s"
    parsed = common.parse_figure(line)
    assert parsed == {
        "name": "roofline.conv3x3",
        "params": {"C": "64", "HW": "64", "B": "16"},
        "tags": ["fp32", "nchw"],
        "value": 171.2,
        "unit": "GFLOP/s",
    }
    assert row == {"figure": "roofline.conv3x3", "C": 64, "HW": 64, "B": 16, "tags": "fp32 nchw", "value": 171.23, "unit": "GFLOP/s"}
    assert common.parse_figure("# machine: AMD EPYC, 2 cores") is None
    with pytest.raises(ValueError, match="may not contain"):
        common.format_figure("a b", 1.0, "s")


def test_write_markdown_table_replaces_only_its_section(tmp_path):
    md = tmp_path / "docs" / "benchmarks.md"
    info = {"cpu": "Test CPU", "cores": 2, "threads": 2, "torch": "2.x"}
    common.write_markdown_table(md, "roofline", [{"op": "mm", "GFLOP/s": 100.0}], info)
    common.write_markdown_table(md, "onnx", [{"net": "g", "ms": 1.5}, {"net": "h", "extra": "x"}], info, note="hello")
    common.write_markdown_table(md, "roofline", [{"op": "mm", "GFLOP/s": 123.456}], info)
    text = md.read_text()
    assert text.startswith("# facezoo benchmarks")
    assert text.count("<!-- bench:roofline -->") == 1 and "| mm | 123.5 |" in text and "| mm | 100 |" not in text
    assert "Machine: Test CPU, 2 cores, torch 2.x with 2 threads." in text
    assert "| net | ms | extra |" in text and "| h |  | x |" in text and "hello" in text
    assert text.index("bench:roofline") < text.index("bench:onnx")


def test_time_fn_median_and_warmup():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.01)

    t = common.time_fn(fn, warmup=2, repeats=3)
    assert len(calls) == 5 and len(t.runs) == 3
    assert 0.009 < t.median < 0.2 and t.best <= t.median


def test_machine_info_and_rss():
    common.setup_threads(1)
    info = common.machine_info()
    assert info["threads"] == 1 and info["cores"] >= 1 and info["cpu"]
    assert common.peak_rss_mib() > 10.0  # a process with torch loaded holds far more than 10 MiB
