"""Where weights come from: embedded named weights, local folders, or Hugging Face Hub repos (through the HF cache).

Weights are loaded from safetensors only: a folder holding a pickle checkpoint is refused before anything is read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

from huggingface_hub import snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

#: File suffixes of pickle-based checkpoints, which can run arbitrary code when unpickled.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
#: What a snapshot download fetches: configs, safetensors weights, model cards. Never pickles.
HUB_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.md", "*.txt", "*.yaml", "*.onnx", "*.png"]


class UnsafeCheckpointError(ValueError):
    """A pickle checkpoint was found where facezoo expects safetensors weights."""


class WeightsNotFoundError(OSError):
    """The requested weights are neither a local folder, an embedded name nor a reachable/cached Hub repo."""


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set (read at call time, not at import time)."""
    return os.environ.get("HF_HUB_OFFLINE", "0").upper() in ("1", "ON", "YES", "TRUE")


def refuse_pickles(folder: os.PathLike) -> None:
    """Raise `UnsafeCheckpointError` if `folder` (recursively) holds a pickle checkpoint."""
    folder = Path(folder)
    if folder.is_file():
        candidates: Iterable[Path] = [folder]
    else:
        candidates = (p for p in folder.rglob("*") if p.is_file())
    for path in candidates:
        if path.suffix.lower() in PICKLE_SUFFIXES:
            raise UnsafeCheckpointError(
                f"Refusing to load pickle checkpoint {str(path)!r}: facezoo loads weights only from safetensors, "
                "because unpickling can run arbitrary code. Convert it once in a trusted environment with "
                "`safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')`."
            )


def resolve_pretrained(
    name_or_path: os.PathLike | str,
    revision: Optional[str] = None,
    cache_dir: Optional[os.PathLike | str] = None,
    local_files_only: Optional[bool] = None,
    token: Optional[str] = None,
) -> str:
    """Turn a named weight (``facefeat.faceworld_64``), a local folder or a Hub repo id into a local folder.

    Hub repos go through `huggingface_hub.snapshot_download`, so the standard HF cache, `revision` and
    ``HF_HUB_OFFLINE`` behave as everywhere else in the HF ecosystem. Raises `WeightsNotFoundError` with what was
    tried, and `UnsafeCheckpointError` if the folder holds pickle checkpoints.
    """
    from facezoo.checkpoints import named_weight_path  # local import: checkpoints imports nothing heavy

    name = os.fspath(name_or_path)
    embedded = named_weight_path(name)
    if embedded is not None:
        folder = embedded
    elif os.path.isdir(name):
        folder = name
    elif os.path.exists(name) or name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise WeightsNotFoundError(
            f"{name!r} is not a folder of facezoo weights (expected a folder with model_index.json or config.json), "
            "a named weight from `facezoo.list_models()`, or a Hub repo id like 'org/name'."
        )
    else:
        offline = bool(local_files_only) or hub_offline()
        try:
            folder = snapshot_download(
                repo_id=name,
                revision=revision,
                cache_dir=cache_dir,
                local_files_only=offline,
                token=token,
                allow_patterns=HUB_ALLOW_PATTERNS,
            )
        except (LocalEntryNotFoundError, OfflineModeIsEnabled, EntryNotFoundError) as err:
            where = f"cache {cache_dir}" if cache_dir else "the default Hugging Face cache"
            raise WeightsNotFoundError(
                f"Could not find Hub repo {name!r} (revision {revision or 'main'}) in {where}"
                + (" and offline mode is on (HF_HUB_OFFLINE or local_files_only)" if offline else "")
                + ". Download it once with `huggingface-cli download "
                + name
                + "`, or pass a local folder or a named weight from `facezoo.list_models()`."
            ) from err
        except (RepositoryNotFoundError, RevisionNotFoundError) as err:
            raise WeightsNotFoundError(f"Hub repo {name!r} at revision {revision or 'main'} does not exist: {err}") from err
        except (HfHubHTTPError, OSError, ValueError) as err:
            raise WeightsNotFoundError(f"Could not download Hub repo {name!r}: {err}") from err
    refuse_pickles(folder)
    return folder


def read_model_card(folder: os.PathLike | str) -> Dict[str, Any]:
    """The YAML metadata of ``folder/README.md`` as a dict (empty when there is no card)."""
    from huggingface_hub import ModelCard

    path = Path(folder) / "README.md"
    if not path.is_file():
        return {}
    return ModelCard.load(path).data.to_dict()


def write_model_card(folder: os.PathLike | str, info: Dict[str, Any]) -> Path:
    """Write ``folder/README.md``: YAML metadata (``library_name: facezoo``, license, tags, metrics, the training
    command and data) followed by a readable summary.

    `info` keys used: ``title``, ``description``, ``license``, ``tags``, ``pipeline``, ``training_command``,
    ``training_data``, ``steps``, ``wall_time``, ``metrics`` (dict name → value), ``architecture_notes`` (str),
    ``base_model``. Other keys are kept in the metadata.
    """
    from huggingface_hub import ModelCardData

    info = dict(info)
    tags = sorted(set(["facezoo", "face-generation"] + list(info.pop("tags", []))))
    data = ModelCardData(library_name="facezoo", license=info.pop("license", "apache-2.0"), tags=tags)
    for key, value in info.items():
        if value is not None and key not in ("title", "description", "architecture_notes"):
            setattr(data, key, value)
    title = info.get("title") or f"facezoo {info.get('pipeline', 'model')}"
    lines = [f"---\n{data.to_yaml()}\n---", f"# {title}", ""]
    if info.get("description"):
        lines += [info["description"], ""]
    if info.get("pipeline"):
        lines += ["## Use", "", "```python", "import facezoo",
                  f"pipe = facezoo.AutoFacePipeline.from_pretrained(\"<this folder or repo id>\")", "```", ""]
    if info.get("training_command"):
        lines += ["## Training", "", "```bash", str(info["training_command"]), "```", ""]
        for key in ("training_data", "steps", "wall_time"):
            if info.get(key) is not None:
                lines.append(f"- {key.replace('_', ' ')}: {info[key]}")
        lines.append("")
    if info.get("metrics"):
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in info["metrics"].items()]
        lines.append("")
    if info.get("architecture_notes"):
        lines += ["## Architecture choices", "", info["architecture_notes"], ""]
    path = Path(folder) / "README.md"
    path.write_text("\n".join(lines))
    return path
