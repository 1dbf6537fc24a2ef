"""ONNX export of a small conv generator: onnxruntime parity (<= 1e-4 in fp32), dynamic batch, pipeline folders."""

import json
from dataclasses import dataclass

import numpy as np
import onnx
import pytest
import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.utils import BaseOutput

import facezoo
from facezoo.models.modeling_utils import FaceModelMixin
from facezoo.onnx_export import (
    check_parity,
    export_model,
    export_pipeline_folder,
    has_dummy_inputs,
    onnx_session,
    run_onnx,
)


@dataclass
class TinyGeneratorOutput(BaseOutput):
    image: torch.Tensor


class TinyGenerator(FaceModelMixin, ConfigMixin):
    """z (B, z_dim) + identity (B, id_dim) → image (B, 3, 4 * base, 4 * base) in [-1, 1]."""

    @register_to_config
    def __init__(self, z_dim: int = 8, id_dim: int = 6, channels: int = 16, base: int = 4):
        super().__init__()
        self.fc = torch.nn.Linear(z_dim + id_dim, channels * base * base)
        self.body = torch.nn.Sequential(
            torch.nn.Upsample(scale_factor=2, mode="nearest"),
            torch.nn.Conv2d(channels, channels, 3, padding=1),
            torch.nn.LeakyReLU(0.2),
            torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            torch.nn.Conv2d(channels, 3, 3, padding=1),
            torch.nn.Tanh(),
        )

    def forward(self, z, identity, return_dict: bool = True):
        c, b = self.config.channels, self.config.base
        x = self.fc(torch.cat([z, identity], dim=1)).view(-1, c, b, b)
        image = self.body(x)
        return TinyGeneratorOutput(image=image) if return_dict else (image,)

    def dummy_inputs(self, batch_size: int = 1):
        g = torch.Generator().manual_seed(batch_size)
        return (
            torch.randn(batch_size, self.config.z_dim, generator=g),
            torch.randn(batch_size, self.config.id_dim, generator=g),
        )


class NoDummy(FaceModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, width: int = 4):
        super().__init__()
        self.lin = torch.nn.Linear(width, width)

    def forward(self, x):
        return self.lin(x)


@pytest.fixture
def generator():
    torch.manual_seed(0)
    return TinyGenerator()


def test_export_parity_and_dynamic_batch(generator, tmp_path):
    path = export_model(generator, tmp_path / "g.onnx")
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["z", "identity"]
    assert [o.name for o in graph.output] == ["image"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for batch in (1, 5):
        diff = check_parity(generator, path, generator.dummy_inputs(batch))
        assert diff <= 1e-4
    out = run_onnx(onnx_session(path), generator.dummy_inputs(3))[0]
    assert out.shape == (3, 3, 16, 16)


def test_check_parity_detects_a_different_model(generator, tmp_path):
    path = export_model(generator, tmp_path / "g.onnx")
    with torch.no_grad():
        generator.fc.bias.add_(0.5)
    assert check_parity(generator, path, generator.dummy_inputs(2)) > 1e-2


def test_export_plain_module_with_explicit_inputs(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU())
    x = torch.randn(2, 3, 8, 8)
    path = export_model(net, tmp_path / "n.onnx", inputs=x)
    expected = net(x).detach().numpy()
    got = run_onnx(onnx_session(path), x)[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_has_dummy_inputs():
    assert has_dummy_inputs(TinyGenerator())
    assert not has_dummy_inputs(NoDummy())  # FaceModelMixin's default raises NotImplementedError
    assert not has_dummy_inputs(object())


def _pipeline_folder(tmp_path, generator):
    folder = tmp_path / "pipe"
    generator.save_pretrained(folder / "image_generator")
    NoDummy().save_pretrained(folder / "other")
    index = {
        "_class_name": "TinyPipeline",
        "_diffusers_version": "0.42.1",
        "image_generator": [__name__, "TinyGenerator"],
        "other": [__name__, "NoDummy"],
        "scheduler": [None, None],
    }
    (folder / "model_index.json").write_text(json.dumps(index))
    return folder


def test_export_pipeline_folder_via_model_index(generator, tmp_path, monkeypatch):
    monkeypatch.delattr(facezoo, "AutoFacePipeline", raising=False)
    folder = _pipeline_folder(tmp_path, generator)
    written = export_pipeline_folder(folder, tmp_path / "onnx")
    assert written == [tmp_path / "onnx" / "image_generator.onnx"]
    # The exported file reproduces the saved weights, not a fresh initialisation.
    assert check_parity(generator, written[0], generator.dummy_inputs(4)) <= 1e-4


def test_export_pipeline_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="model_index.json"):
        export_pipeline_folder(tmp_path, tmp_path / "out")


def test_export_real_pipeline_folder_through_auto_pipeline(tmp_path):
    from facezoo.utils.testing import make_tiny_facefeat

    pipe = make_tiny_facefeat()
    pipe.save_pretrained(tmp_path / "facefeat")
    written = export_pipeline_folder(tmp_path / "facefeat", tmp_path / "onnx")  # parity-checked at batch 2
    names = sorted(p.stem for p in written)
    assert "image_generator" in names and all(p.is_file() for p in written)
    expected = sorted(n for n, m in pipe.components.items() if has_dummy_inputs(m))
    assert names == expected
