"""Exporting a trained pipeline: a ``save_pretrained`` folder with its model card, optionally pushed to the Hub."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any, Dict, Optional

from facezoo.utils.hub import write_model_card

#: What an output folder holds besides the pipeline, never uploaded.
HUB_IGNORE_PATTERNS = ["checkpoint-*", "checkpoint-*/**", ".tmp-*", ".tmp-*/**", "logs/**", "samples/**"]


def training_command(argv: Optional[list] = None) -> str:
    """The command line that ran this process (``sys.argv``), shell-quoted so it can be pasted back."""
    argv = sys.argv if argv is None else argv
    return shlex.join(["python", *argv]) if argv and str(argv[0]).endswith(".py") else shlex.join(argv)


def export_pipeline(pipeline, folder: os.PathLike | str, info: Dict[str, Any]) -> Path:
    """Write ``pipeline.save_pretrained(folder)`` (safetensors) and ``folder/README.md`` from `info`.

    Args:
        pipeline (`diffusers.DiffusionPipeline`): the pipeline to save, with the weights to ship (e.g. the EMA ones).
        folder (`str`): destination; created if needed.
        info (`dict`): model card fields of `facezoo.utils.hub.write_model_card` (``training_command`` defaults to
            this process's command line).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(folder, safe_serialization=True)
    info = dict(info)
    info.setdefault("training_command", training_command())
    info.setdefault("pipeline", type(pipeline).__name__)
    write_model_card(folder, info)
    return folder


def push_folder_to_hub(folder: os.PathLike | str, repo_id: str, token: Optional[str] = None, private: bool = False) -> str:
    """Create `repo_id` if needed and upload `folder` (without checkpoints, logs or samples); returns the repo URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    url = api.create_repo(repo_id, exist_ok=True, private=private)
    api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message="Upload facezoo pipeline",
                      ignore_patterns=HUB_IGNORE_PATTERNS)
    return str(url)
