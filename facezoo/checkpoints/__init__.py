"""Named weights in timm's ``arch.tag`` style, embedded in the package (small models trained on FaceWorld).

Each entry names the folder inside this package and the Hub repo id it is published under. A named weight
loads offline from the package; ``facezoo.AutoFacePipeline.from_pretrained("<hub repo id>")`` loads the same
weights through the Hugging Face cache.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Dict, List, Optional

_HERE = Path(__file__).resolve().parent

#: name → (folder in this package, Hub repo id, kind: "pipeline" or "model")
NAMED_WEIGHTS: Dict[str, Dict[str, str]] = {
    "facefeat.faceworld_64": {"folder": "facefeat_faceworld_64", "hub": "facezoo/facefeat-faceworld-64", "kind": "pipeline"},
    "identitynet.faceworld_64": {"folder": "identitynet_faceworld_64", "hub": "facezoo/identitynet-faceworld-64", "kind": "model"},
    "identitynet_eval.faceworld_64": {"folder": "identitynet_eval_faceworld_64", "hub": "facezoo/identitynet-eval-faceworld-64", "kind": "model"},
    "recon3d.faceworld_64": {"folder": "recon3d_faceworld_64", "hub": "facezoo/recon3d-faceworld-64", "kind": "model"},
    "faceparser.faceworld_64": {"folder": "faceparser_faceworld_64", "hub": "facezoo/faceparser-faceworld-64", "kind": "model"},
}


def named_weight_path(name: str) -> Optional[str]:
    """The embedded folder of a named weight, or None if `name` is not one (or its folder is not shipped)."""
    entry = NAMED_WEIGHTS.get(name)
    if entry is None:
        return None
    folder = _HERE / entry["folder"]
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Named weight {name!r} is registered but its folder {folder} is not in this install; "
            f"train it with the command in the README or load the Hub repo {entry['hub']!r}."
        )
    return str(folder)


def list_models(pattern: str = "*", available_only: bool = True) -> List[str]:
    """Named weights matching a shell-style `pattern` (``"facefeat.*"``), sorted; by default only shipped ones."""
    names = [n for n in NAMED_WEIGHTS if fnmatch.fnmatch(n, pattern)]
    if available_only:
        names = [n for n in names if (_HERE / NAMED_WEIGHTS[n]["folder"]).is_dir()]
    return sorted(names)
