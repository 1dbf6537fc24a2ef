"""The `facezoo` command line: list, run (folders, bad files), export-onnx."""

import PIL.Image
import pytest
import torch

from facezoo.cli import main


@pytest.fixture
def pipe_folder(tiny_facefeat, tmp_path):
    folder = tmp_path / "pipe"
    tiny_facefeat.save_pretrained(folder)
    return folder


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "FaceFeatPipeline" in out and "named weights:" in out


def test_run_folder_writes_one_image_per_input_and_skips_bad_files(pipe_folder, tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        PIL.Image.fromarray((torch.rand(20, 20, 3) * 255).byte().numpy()).save(inputs / f"face{i}.png")
    (inputs / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    assert main(["run", str(pipe_folder), str(inputs), "--out", str(out), "--batch_size", "2"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["face0.png", "face1.png", "face2.png"]
    assert PIL.Image.open(out / "face0.png").size == (16, 16)
    captured = capsys.readouterr()
    assert "skipping broken.png" in captured.err and "1 skipped" in captured.out


def test_run_is_reproducible_with_seed(pipe_folder, tmp_path):
    img = tmp_path / "face.png"
    PIL.Image.fromarray((torch.rand(16, 16, 3) * 255).byte().numpy()).save(img)
    for name in ("a", "b"):
        main(["run", str(pipe_folder), str(img), "--out", str(tmp_path / name), "--seed", "3"])
    assert (tmp_path / "a" / "face.png").read_bytes() == (tmp_path / "b" / "face.png").read_bytes()


def test_run_missing_input(pipe_folder, tmp_path):
    with pytest.raises(SystemExit, match="no such file or folder"):
        main(["run", str(pipe_folder), str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])


def test_export_onnx(pipe_folder, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    assert main(["export-onnx", str(pipe_folder), str(tmp_path / "onnx")]) == 0
    names = {p.name for p in (tmp_path / "onnx").glob("*.onnx")}
    assert "image_generator.onnx" in names


def test_run_align_detects_real_photos_and_skips_faceless_ones(pipe_folder, tmp_path, capsys):
    pytest.importorskip("dlib")
    from facezoo.assets import photo_path

    inputs = tmp_path / "photos"
    inputs.mkdir()
    PIL.Image.open(photo_path("astronaut")).save(inputs / "astronaut.png")
    PIL.Image.new("RGB", (200, 200), (90, 120, 200)).save(inputs / "sky.png")
    out = tmp_path / "out"
    assert main(["run", str(pipe_folder), str(inputs), "--out", str(out), "--align"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["astronaut.png"]
    assert "skipping sky.png" in capsys.readouterr().err
