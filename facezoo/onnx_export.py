"""Export facezoo networks to ONNX and check them against PyTorch with onnxruntime.

Uses the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``): the torch.export-based default
needs ``onnxscript``, which facezoo does not depend on, and the traced graphs of our feed-forward generators
are the same. Every export has a dynamic batch axis on all inputs and outputs and is written in float32.

``facezoo export-onnx <pipeline folder> <out>`` calls `export_pipeline_folder`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import os
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from facezoo.utils.flops import Inputs

PathLike = Union[str, os.PathLike]


class _TupleOutputs(torch.nn.Module):
    """Calls the network with ``return_dict=False`` when it has that argument and flattens its output (a
    tensor, a tuple or a `BaseOutput`) into a tuple of tensors, the only output form ONNX graphs have."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.kwargs = {"return_dict": False} if "return_dict" in inspect.signature(model.forward).parameters else {}

    def forward(self, *args):
        return flatten_outputs(self.model(*args, **self.kwargs))


def flatten_outputs(out: Any) -> Tuple[torch.Tensor, ...]:
    if isinstance(out, torch.Tensor):
        return (out,)
    if isinstance(out, dict):  # BaseOutput is an OrderedDict of its non-None fields
        out = tuple(out.values())
    if dataclasses.is_dataclass(out):
        out = tuple(getattr(out, f.name) for f in dataclasses.fields(out))
    return tuple(t for t in out if isinstance(t, torch.Tensor))


def _as_tuple(inputs: Inputs) -> Tuple[torch.Tensor, ...]:
    if isinstance(inputs, torch.Tensor):
        return (inputs,)
    if isinstance(inputs, dict):
        raise ValueError("pass ONNX export inputs positionally (a tensor or a tuple of tensors), not as a dict")
    return tuple(inputs)


def _input_names(model: torch.nn.Module, n: int) -> List[str]:
    """The names of the first `n` positional parameters of ``model.forward`` (``z``, ``identity`` …)."""
    params = [
        p.name
        for p in inspect.signature(model.forward).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return params[:n] if len(params) >= n else [f"input_{i}" for i in range(n)]


def _output_names(model: torch.nn.Module, inputs: Tuple[torch.Tensor, ...]) -> List[str]:
    with torch.no_grad():
        kwargs = {"return_dict": True} if "return_dict" in inspect.signature(model.forward).parameters else {}
        out = model(*inputs, **kwargs)
    if isinstance(out, dict):
        return [k for k, v in out.items() if isinstance(v, torch.Tensor)]
    return [f"output_{i}" for i in range(len(flatten_outputs(out)))]


def export_model(model: torch.nn.Module, path: PathLike, inputs: Optional[Inputs] = None, opset: int = 17) -> Path:
    """Export `model` (in eval mode, float32) to the ONNX file `path` with a dynamic batch axis.

    Args:
        model (`torch.nn.Module`): the network; its ``forward`` takes tensors positionally.
        path (`str` or `os.PathLike`): the ``.onnx`` file to write (its folder is created).
        inputs (`Tensor` or tuple of `Tensor`, *optional*): example inputs; defaults to ``model.dummy_inputs(1)``.
        opset (`int`, *optional*, defaults to 17): the ONNX opset.

    Returns the written path. Input names are the ``forward`` argument names; output names are the fields of
    the network's `BaseOutput` (``output_<i>`` otherwise).
    """
    model = model.eval().float()
    inputs = _as_tuple(model.dummy_inputs(1) if inputs is None else inputs)
    inputs = tuple(t.float() if t.is_floating_point() else t for t in inputs)
    in_names, out_names = _input_names(model, len(inputs)), _output_names(model, inputs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The exporter warns that it is the legacy one (see the module docstring) and about traced Python
        # values in shape arithmetic; neither affects a feed-forward network with a dynamic batch axis only.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _TupleOutputs(model),
            inputs,
            str(path),
            input_names=in_names,
            output_names=out_names,
            dynamic_axes={name: {0: "batch"} for name in in_names + out_names},
            opset_version=opset,
            dynamo=False,
        )
    import onnx

    onnx.checker.check_model(str(path))
    return path


def onnx_session(onnx_path: PathLike, threads: Optional[int] = None):
    """An onnxruntime CPU `InferenceSession` (with `threads` intra-op threads when given)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def run_onnx(session, inputs: Inputs) -> List[np.ndarray]:
    """Run an onnxruntime session on torch/numpy `inputs` given in the exported order."""
    feed = {
        meta.name: (t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t))
        for meta, t in zip(session.get_inputs(), _as_tuple(inputs))
    }
    return session.run(None, feed)


@torch.no_grad()
def check_parity(model: torch.nn.Module, onnx_path: PathLike, inputs: Optional[Inputs] = None) -> float:
    """Largest absolute difference between PyTorch's and onnxruntime's outputs (over all outputs) on `inputs`
    (default ``model.dummy_inputs(1)``)."""
    model = model.eval().float()
    inputs = _as_tuple(model.dummy_inputs(1) if inputs is None else inputs)
    expected = _TupleOutputs(model)(*inputs)
    got = run_onnx(onnx_session(onnx_path), inputs)
    if len(got) != len(expected):
        raise ValueError(f"the ONNX graph has {len(got)} outputs, PyTorch {len(expected)}")
    return max(float(np.abs(g - e.float().numpy()).max()) if e.numel() else 0.0 for g, e in zip(got, expected))


def has_dummy_inputs(module: Any) -> bool:
    """True for a `torch.nn.Module` whose ``dummy_inputs(1)`` works (FaceModelMixin's default raises)."""
    if not isinstance(module, torch.nn.Module) or not callable(getattr(module, "dummy_inputs", None)):
        return False
    try:
        module.dummy_inputs(1)
    except NotImplementedError:
        return False
    return True


def load_pipeline_components(folder: PathLike) -> Dict[str, Any]:
    """The components of a saved pipeline folder, by name.

    Through ``facezoo.AutoFacePipeline`` when the package has it; otherwise from ``model_index.json``
    (``name: [library, class]``), loading each `torch.nn.Module` class with
    ``<Class>.from_pretrained(folder, subfolder=name)``.
    """
    folder = Path(folder)
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        raise FileNotFoundError(f"{folder} is not a pipeline folder: no model_index.json")
    import facezoo

    auto = getattr(facezoo, "AutoFacePipeline", None)
    if auto is not None:
        return dict(auto.from_pretrained(str(folder)).components)
    components: Dict[str, Any] = OrderedDict()
    for name, spec in json.loads(index_file.read_text()).items():
        if name.startswith("_") or not isinstance(spec, list) or len(spec) != 2 or None in spec:
            continue
        library, class_name = spec
        cls = getattr(importlib.import_module(library), class_name, None)
        if isinstance(cls, type) and issubclass(cls, torch.nn.Module) and hasattr(cls, "from_pretrained"):
            components[name] = cls.from_pretrained(str(folder), subfolder=name)
    return components


def export_pipeline_folder(
    folder: PathLike, out_dir: PathLike, opset: int = 17, tolerance: Optional[float] = 1e-4
) -> List[Path]:
    """Export every network of a pipeline folder that defines ``dummy_inputs`` to ``<out_dir>/<name>.onnx``.

    Each export is checked against PyTorch at batch 2 (the dynamic axis); a difference above `tolerance`
    raises `RuntimeError` (``tolerance=None`` skips the check). Returns the written files.
    """
    out_dir = Path(out_dir)
    written: List[Path] = []
    for name, component in load_pipeline_components(folder).items():
        if not has_dummy_inputs(component):
            continue
        path = export_model(component, out_dir / f"{name}.onnx", opset=opset)
        if tolerance is not None:
            diff = check_parity(component, path, component.dummy_inputs(2))
            if diff > tolerance:
                raise RuntimeError(f"{name}: ONNX output differs from PyTorch by {diff:.3g} > {tolerance}")
        written.append(path)
    if not written:
        raise ValueError(f"{folder}: no component defines dummy_inputs(); nothing to export")
    return written


__all__ = [
    "export_model",
    "check_parity",
    "export_pipeline_folder",
    "load_pipeline_components",
    "has_dummy_inputs",
    "onnx_session",
    "run_onnx",
    "flatten_outputs",
]
