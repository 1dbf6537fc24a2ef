"""`AutoFacePipeline`: load any facezoo pipeline by reading ``_class_name`` from its ``model_index.json``."""

from __future__ import annotations

import json
import os
from typing import Dict, List, Type

from facezoo.pipelines.pipeline_utils import FacePipeline


def _registered() -> Dict[str, Type[FacePipeline]]:
    """Every `FacePipeline` subclass that has been imported (importing `facezoo` imports them all)."""
    found: Dict[str, Type[FacePipeline]] = {}
    stack = list(FacePipeline.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls.__name__ != "AutoFacePipeline":
            found[cls.__name__] = cls
        stack.extend(cls.__subclasses__())
    return found


def list_pipelines() -> List[str]:
    """Names of every pipeline class facezoo provides, sorted."""
    import facezoo  # noqa: F401  (importing the package registers every pipeline)

    return sorted(_registered())


def pipeline_class_for(folder: str) -> Type[FacePipeline]:
    """The pipeline class named by ``folder/model_index.json``."""
    import facezoo  # noqa: F401

    with open(os.path.join(folder, "model_index.json")) as f:
        name = json.load(f).get("_class_name")
    classes = _registered()
    if name not in classes:
        raise ValueError(
            f"{folder}/model_index.json names pipeline class {name!r}, which facezoo does not provide; "
            f"known pipelines: {sorted(classes)}"
        )
    return classes[name]


class AutoFacePipeline(FacePipeline):
    """Loads whichever facezoo pipeline a folder, named weight or Hub repo holds.

    Example:
        ```py
        >>> import facezoo
        >>> pipe = facezoo.AutoFacePipeline.from_pretrained("facefeat.faceworld_64")
        >>> type(pipe).__name__
        'FaceFeatPipeline'
        ```
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("AutoFacePipeline cannot be instantiated; use AutoFacePipeline.from_pretrained(...)")
