"""The base every facezoo network inherits: diffusers' `ModelMixin` loading safetensors only."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

import torch
from diffusers import ModelMixin

from facezoo.utils.hub import refuse_pickles, resolve_pretrained


class FaceModelMixin(ModelMixin):
    """`ModelMixin` whose `from_pretrained` resolves facezoo named weights and refuses pickle checkpoints.

    Subclasses also inherit from `ConfigMixin` and decorate a flat, typed ``__init__`` with `@register_to_config`,
    so ``config.json`` alone rebuilds the network. Networks that can be exported to ONNX implement
    `dummy_inputs`.
    """

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any):
        subfolder = kwargs.get("subfolder")
        name = os.fspath(pretrained_model_name_or_path)
        if not os.path.isdir(name):
            name = resolve_pretrained(
                name,
                revision=kwargs.pop("revision", None),
                cache_dir=kwargs.pop("cache_dir", None),
                local_files_only=kwargs.pop("local_files_only", None),
                token=kwargs.pop("token", None),
            )
        refuse_pickles(os.path.join(name, subfolder) if subfolder else name)
        kwargs["use_safetensors"] = True
        return super().from_pretrained(name, **kwargs)

    def dummy_inputs(self, batch_size: int = 1) -> Tuple[torch.Tensor, ...]:
        """Example inputs of the right shapes (used by ONNX export and benchmarks)."""
        raise NotImplementedError(f"{type(self).__name__} does not define dummy_inputs()")

    def num_parameters_millions(self) -> float:
        return sum(p.numel() for p in self.parameters()) / 1e6


def load_state_dict_strict(model: torch.nn.Module, state: Dict[str, torch.Tensor], what: Optional[str] = None) -> None:
    """Load `state` into `model`, raising a readable error listing missing and unexpected keys."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{what or type(model).__name__}: weights do not match the architecture; "
            f"missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]}"
        )
