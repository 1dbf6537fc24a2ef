"""Which weights each method of the hub uses, and the pipelines loaded from them: lazily, once per process.

Every method has a default (an embedded named weight such as ``facefeat.faceworld_64``), an environment variable
(``FACEZOO_FACEFEAT``) and a command-line flag (``--facefeat``) that take a named weight, a local folder or a Hub
repo id instead. A flag wins over the environment variable, which wins over the default.

Pipelines are shared by every user of the app: only read from them (per-user values travel in function arguments).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional

import torch


@dataclass(frozen=True)
class ModelSpec:
    """Where the weights of one method come from.

    Attributes:
        method (`str`): short name, also the CLI flag (``--facefeat``).
        default (`str`): named weight, folder or Hub repo id used when nothing else is given.
        env_var (`str`): environment variable that overrides the default.
        title (`str`): human name used in messages.
    """

    method: str
    default: str
    env_var: str
    title: str


#: The methods the hub can load. A later method adds one entry here and one tab module.
MODEL_SPECS: Dict[str, ModelSpec] = {
    "facefeat": ModelSpec("facefeat", "facefeat.faceworld_64", "FACEZOO_FACEFEAT", "FaceFeat-GAN"),
}


class ModelUnavailableError(RuntimeError):
    """The weights of a method could not be found or loaded; the message says which and how to point elsewhere."""


def default_device() -> torch.device:
    """CUDA when there is a GPU, else CPU (in fp32: bf16 is ~100x slower on CPUs without native support)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _load_pipeline(source: str):
    from facezoo import AutoFacePipeline

    return AutoFacePipeline.from_pretrained(source, torch_dtype=torch.float32)


class ModelStore:
    """Loads each method's pipeline on first use and keeps it for the life of the process (thread-safe).

    Args:
        sources (`Mapping[str, str]`, *optional*): method → named weight / folder / Hub repo id, e.g. from CLI flags;
            methods not given fall back to their environment variable, then to their default.
        device (`torch.device`, *optional*): where pipelines run (defaults to `default_device()`).
        loader (`Callable[[str], FacePipeline]`, *optional*): how a source becomes a pipeline (defaults to
            `facezoo.AutoFacePipeline.from_pretrained`).
    """

    def __init__(
        self,
        sources: Optional[Mapping[str, Optional[str]]] = None,
        device: Optional[torch.device] = None,
        loader: Callable[[str], Any] = _load_pipeline,
    ):
        unknown = set(sources or {}) - set(MODEL_SPECS)
        if unknown:
            raise ValueError(f"unknown methods {sorted(unknown)}; known: {sorted(MODEL_SPECS)}")
        self._sources = {k: v for k, v in (sources or {}).items() if v}
        self.device = device or default_device()
        self._loader = loader
        self._pipelines: Dict[str, Any] = {}
        self._lock = threading.Lock()

    def source(self, method: str) -> str:
        """The weights `method` loads from: explicit source, else ``$<ENV_VAR>``, else the default."""
        spec = self._spec(method)
        return self._sources.get(method) or os.environ.get(spec.env_var) or spec.default

    def pipeline(self, method: str):
        """The pipeline of `method`, loaded on the first call; raises `ModelUnavailableError` with a clear message."""
        pipe = self._pipelines.get(method)
        if pipe is not None:
            return pipe
        with self._lock:  # two first requests arriving together load the weights once
            if method not in self._pipelines:
                self._pipelines[method] = self._load(method)
            return self._pipelines[method]

    def loaded(self, method: str) -> bool:
        return method in self._pipelines

    def component_config(self, method: str, component: str) -> Dict[str, Any]:
        """The ``config.json`` of one component of `method`'s weights, read without loading any weights (the UI
        needs e.g. the expression names to build its dropdowns before the first request). Empty when unavailable."""
        if method in self._pipelines:
            return dict(getattr(self._pipelines[method], component).config)
        try:
            from facezoo.utils.hub import resolve_pretrained

            folder = Path(resolve_pretrained(self.source(method)))
            return json.loads((folder / component / "config.json").read_text())
        except (OSError, ValueError):
            return {}

    def _spec(self, method: str) -> ModelSpec:
        if method not in MODEL_SPECS:
            raise ValueError(f"unknown method {method!r}; known: {sorted(MODEL_SPECS)}")
        return MODEL_SPECS[method]

    def _load(self, method: str):
        spec, source = self._spec(method), self.source(method)
        try:
            pipe = self._loader(source)
        except (OSError, ValueError) as err:
            raise ModelUnavailableError(
                f"{spec.title} weights {source!r} could not be loaded ({err}). Point the app at other weights with "
                f"--{spec.method} or {spec.env_var}=<named weight | folder | Hub repo id>."
            ) from err
        pipe = pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)
        return pipe
