"""Resumable checkpoints: ``output_dir/checkpoint-<step>/``, written atomically, safetensors + JSON only.

A checkpoint holds every registered object (models, optimisers, schedulers, EMA, the GradScaler), one RNG state per
process, and ``training_state.json`` with the global step and the number of batches consumed (the data position).
The step is read from that file, never from the folder name.

Atomicity: everything is written into ``output_dir/.tmp-checkpoint-<step>/`` and the folder is renamed into place
by one ``os.replace`` once complete, so a run killed mid-write leaves the previous checkpoint as the latest good one
(the half-written temporary folder is ignored by `latest_checkpoint` and removed by the next save).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from facezoo.training.state_io import load_state_tree, save_state_tree

TRAINING_STATE = "training_state.json"
CHECKPOINT_PREFIX = "checkpoint-"
TMP_PREFIX = ".tmp-"


def rng_state() -> Dict[str, Any]:
    """The RNG states of this process: python, numpy, torch CPU and (when present) every CUDA device."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore what `rng_state` returned (tuples come back from JSON as lists and are turned back into tuples)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(state["numpy"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def read_training_state(folder: os.PathLike | str) -> Dict[str, Any]:
    """``training_state.json`` of a checkpoint folder; a clear error when the folder is not a complete checkpoint."""
    path = Path(folder) / TRAINING_STATE
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(folder)!r} is not a complete facezoo checkpoint: {TRAINING_STATE} is missing "
            "(the run may have been killed while writing it, or it is not a checkpoint folder)."
        )
    state = json.loads(path.read_text())
    for key in ("global_step", "batches_seen"):
        if not isinstance(state.get(key), int):
            raise ValueError(f"{str(path)!r} is malformed: {key!r} must be an integer, got {state.get(key)!r}.")
    return state


def list_checkpoints(output_dir: os.PathLike | str) -> List[Path]:
    """Complete checkpoints in `output_dir`, oldest first (ordered by the global step stored inside each)."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return []
    found = []
    for folder in output_dir.iterdir():
        if folder.is_dir() and folder.name.startswith(CHECKPOINT_PREFIX) and (folder / TRAINING_STATE).is_file():
            found.append((read_training_state(folder)["global_step"], folder))
    return [folder for _, folder in sorted(found)]


def latest_checkpoint(output_dir: os.PathLike | str) -> Optional[Path]:
    """The newest complete checkpoint in `output_dir`, or None."""
    found = list_checkpoints(output_dir)
    return found[-1] if found else None


class CheckpointManager:
    """Saves and restores the registered training objects of one run.

    Args:
        accelerator (`accelerate.Accelerator`): the run's accelerator (process roles, unwrapping, barriers).
        output_dir (`str`): where ``checkpoint-<step>`` folders go.
        total_limit (`int`, *optional*): keep only the newest `total_limit` checkpoints.
    """

    def __init__(self, accelerator, output_dir: os.PathLike | str, total_limit: Optional[int] = None):
        if total_limit is not None and total_limit < 1:
            raise ValueError(f"checkpoints_total_limit must be >= 1 or None, got {total_limit}.")
        self.accelerator = accelerator
        self.output_dir = Path(output_dir).absolute()
        self.total_limit = total_limit
        self._objects: Dict[str, Any] = {}

    def register(self, name: str, obj: Any) -> None:
        """Include `obj` (anything with ``state_dict``/``load_state_dict``) in every checkpoint under `name`."""
        if not name.isidentifier():
            raise ValueError(f"Checkpoint names must be identifiers (they become file names), got {name!r}.")
        if name in self._objects:
            raise ValueError(f"{name!r} is already registered for checkpointing.")
        if not (hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict")):
            raise TypeError(f"{name!r}: {type(obj).__name__} has no state_dict/load_state_dict and cannot be checkpointed.")
        self._objects[name] = obj

    def _state_of(self, obj: Any) -> Any:
        if isinstance(obj, torch.nn.Module):
            # get_state_dict unwraps DDP/compile wrappers so checkpoints load into the bare model
            return self.accelerator.get_state_dict(obj)
        return obj.state_dict()

    def save(self, global_step: int, batches_seen: int, extra: Optional[Dict[str, Any]] = None) -> Path:
        """Write ``checkpoint-<global_step>`` atomically and prune old ones. Call on every process."""
        acc = self.accelerator
        final = self.output_dir / f"{CHECKPOINT_PREFIX}{global_step}"
        tmp = self.output_dir / f"{TMP_PREFIX}{final.name}"
        if acc.is_main_process:
            for stale in self.output_dir.glob(f"{TMP_PREFIX}{CHECKPOINT_PREFIX}*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp.mkdir(parents=True)
        acc.wait_for_everyone()
        states = {name: self._state_of(obj) for name, obj in self._objects.items()}  # collective under FSDP
        save_state_tree(rng_state(), tmp, f"rng_state_{acc.process_index}")
        if acc.is_main_process:
            for name, state in states.items():
                save_state_tree(state, tmp, name)
            if acc.scaler is not None:
                save_state_tree(acc.scaler.state_dict(), tmp, "grad_scaler")
        acc.wait_for_everyone()
        if acc.is_main_process:
            info = {"global_step": int(global_step), "batches_seen": int(batches_seen),
                    "num_processes": acc.num_processes, "objects": sorted(states), **(extra or {})}
            # written last: its presence marks the folder complete even before the rename
            (tmp / TRAINING_STATE).write_text(json.dumps(info, indent=2))
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            self._prune()
        acc.wait_for_everyone()
        return final

    def _prune(self) -> None:
        if self.total_limit is None:
            return
        for old in list_checkpoints(self.output_dir)[: -self.total_limit]:
            shutil.rmtree(old, ignore_errors=True)

    def resolve(self, resume_from: Optional[str]) -> Optional[Path]:
        """The folder `resume_from` names: None, ``"latest"`` (None when there is no checkpoint yet) or a path."""
        if not resume_from:
            return None
        if resume_from == "latest":
            return latest_checkpoint(self.output_dir)
        folder = Path(resume_from)
        if not folder.is_absolute() and not folder.exists():
            folder = self.output_dir / folder
        if not folder.is_dir():
            raise FileNotFoundError(f"--resume_from_checkpoint {resume_from!r}: no such checkpoint folder.")
        return folder

    def load(self, folder: os.PathLike | str) -> Dict[str, Any]:
        """Restore every registered object and this process's RNG from `folder`; returns ``training_state.json``.

        Raises a `ValueError` when the checkpoint and the registered objects do not match.
        """
        folder = Path(folder)
        info = read_training_state(folder)
        missing = sorted(set(self._objects) - set(info.get("objects", [])))
        if missing:
            raise ValueError(f"Checkpoint {str(folder)!r} has no state for {missing}; it holds {info.get('objects')}.")
        for name, obj in self._objects.items():
            state = load_state_tree(folder, name)
            if isinstance(obj, torch.nn.Module):
                self.accelerator.unwrap_model(obj).load_state_dict(state)
            else:
                obj.load_state_dict(state)
        if self.accelerator.scaler is not None and (folder / "grad_scaler.json").is_file():
            self.accelerator.scaler.load_state_dict(load_state_tree(folder, "grad_scaler"))
        rank_file = f"rng_state_{self.accelerator.process_index}"
        # a run resumed on more processes than it was saved with reuses rank 0's RNG state
        info["rng_state"] = load_state_tree(folder, rank_file if (folder / f"{rank_file}.json").is_file() else "rng_state_0")
        return info
