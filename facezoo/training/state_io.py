"""Save nested training states (optimisers, schedulers, EMA, RNG) as safetensors + JSON, never pickle.

accelerate's ``save_state`` writes models as safetensors but optimisers, schedulers, samplers, RNG states and
registered objects with ``torch.save`` (pickle: ``optimizer.bin``, ``random_states_0.pkl``,
``custom_checkpoint_0.pkl``). A state dict is a tree of dicts, lists and tuples whose leaves are tensors, numpy
arrays or JSON scalars, so it splits cleanly into one safetensors file (the arrays, keyed by their path in the tree)
and one JSON skeleton that says where each array goes back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Tuple

import numpy as np
import torch
from safetensors.torch import load_file, save_file

_TENSOR, _NDARRAY, _TUPLE, _INTKEYS = "__tensor__", "__ndarray__", "__tuple__", "__intkeys__"


def _flatten(obj: Any, path: str, tensors: Dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, (torch.Tensor, np.ndarray)) and path in tensors:
        raise ValueError(f"Cannot save state: two entries flatten to the same key {path!r}.")
    if isinstance(obj, torch.Tensor):
        # clone: safetensors refuses tensors that share storage (e.g. EMA shadow params tied to each other)
        tensors[path] = obj.detach().to("cpu").contiguous().clone()
        return {_TENSOR: path}
    if isinstance(obj, np.ndarray):
        tensors[path] = torch.from_numpy(np.ascontiguousarray(obj).copy())
        return {_NDARRAY: path}
    if isinstance(obj, dict):
        keys = list(obj)
        if keys and all(isinstance(k, int) for k in keys):
            # optimiser states are keyed by parameter index; JSON keys must be strings
            return {_INTKEYS: {str(k): _flatten(v, f"{path}.{k}", tensors) for k, v in obj.items()}}
        if not all(isinstance(k, str) for k in keys):
            raise TypeError(f"Cannot save state at {path!r}: dict keys must be all str or all int, got {keys[:5]}")
        return {k: _flatten(v, f"{path}.{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {_TUPLE: [_flatten(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"Cannot save state at {path!r}: {type(obj).__name__} is neither a tensor, an array nor a JSON value.")


def _unflatten(obj: Any, tensors: Dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if _TENSOR in obj:
            return tensors[obj[_TENSOR]]
        if _NDARRAY in obj:
            return tensors[obj[_NDARRAY]].numpy()
        if _TUPLE in obj:
            return tuple(_unflatten(v, tensors) for v in obj[_TUPLE])
        if _INTKEYS in obj:
            return {int(k): _unflatten(v, tensors) for k, v in obj[_INTKEYS].items()}
        return {k: _unflatten(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    return obj


def save_state_tree(state: Any, folder: os.PathLike | str, name: str) -> Tuple[Path, Path]:
    """Write `state` as ``folder/name.safetensors`` (arrays) and ``folder/name.json`` (structure)."""
    folder = Path(folder)
    tensors: Dict[str, torch.Tensor] = {}
    skeleton = _flatten(state, name, tensors)
    weights, structure = folder / f"{name}.safetensors", folder / f"{name}.json"
    save_file(tensors, str(weights))
    structure.write_text(json.dumps(skeleton))
    return weights, structure


def load_state_tree(folder: os.PathLike | str, name: str) -> Any:
    """Read back what `save_state_tree` wrote; raises `FileNotFoundError` naming the missing file."""
    folder = Path(folder)
    weights, structure = folder / f"{name}.safetensors", folder / f"{name}.json"
    for path in (weights, structure):
        if not path.is_file():
            raise FileNotFoundError(f"Checkpoint {str(folder)!r} is missing {path.name!r}; it was not written by this trainer or is damaged.")
    return _unflatten(json.loads(structure.read_text()), load_file(str(weights)))
