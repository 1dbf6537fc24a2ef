"""FaceWorld: a procedural 3D face world that renders faces with exact ground truth.

>>> from facezoo.data.faceworld import FaceWorld
>>> ds = FaceWorld(split="train", size=64, seed=0)
>>> sample = ds[0]          # dict of tensors, see docs/faceworld.md for every key
"""

from .expression import EXPRESSIONS, EXPRESSION_PRESETS
from .identity import ALBEDO_NAMES, SEMANTIC_CLASSES, TexturePainter, identity_params
from .mesh import EXP_MODE_NAMES, ID_MODE_NAMES, REGION_NAMES, build_head_model
from .occluders import OCCLUDERS
from .world import (
    ALL_KEYS, FACE_CLASSES, FAST_KEYS, LIGHT_NAMES, NUM_IDENTITIES, PARAM_SLICES, FaceWorld, FaceWorldRenderer,
    FaceWorldStream, render_batch, sample_scenes, shade, split_identities,
)

__all__ = [
    "EXPRESSIONS", "EXPRESSION_PRESETS", "ALBEDO_NAMES", "SEMANTIC_CLASSES", "TexturePainter", "identity_params",
    "EXP_MODE_NAMES", "ID_MODE_NAMES", "REGION_NAMES", "build_head_model", "OCCLUDERS", "ALL_KEYS", "FACE_CLASSES",
    "FAST_KEYS", "LIGHT_NAMES", "NUM_IDENTITIES", "PARAM_SLICES", "FaceWorld", "FaceWorldRenderer",
    "FaceWorldStream", "render_batch", "sample_scenes", "shade", "split_identities",
]
