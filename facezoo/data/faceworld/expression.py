"""Expressions of FaceWorld: blendshape presets for neutral + the 7 CK+ classes, and how they are sampled."""

from __future__ import annotations

import numpy as np

from .mesh import EXP_MODE_NAMES

__all__ = ["EXPRESSIONS", "EXPRESSION_PRESETS", "sample_expression"]

EXPRESSIONS = ("neutral", "anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise")

# Blendshape weights per class (names in EXP_MODE_NAMES), loosely following the FACS action units of each CK+
# emotion: anger AU4+5+7+23, contempt unilateral AU12+14, disgust AU9+15+16, fear AU1+2+4+5+20+26,
# happiness AU6+12(+25), sadness AU1+4+15, surprise AU1+2+5+26.
_PRESETS = {
    "neutral": {},
    "anger": {"brow_lower": 1.0, "eye_close": -0.25, "frown": 0.35, "lip_pucker": 0.25},
    "contempt": {"smile_left": 0.8, "lip_stretch": 0.2, "eye_close": 0.1},
    "disgust": {"nose_wrinkle": 1.0, "brow_lower": 0.5, "frown": 0.5, "jaw_open": 0.15, "eye_close": 0.35},
    "fear": {"brow_raise": 0.8, "brow_lower": 0.35, "eye_close": -0.6, "lip_stretch": 0.9, "jaw_open": 0.35},
    "happiness": {"smile_left": 1.0, "smile_right": 1.0, "jaw_open": 0.25, "eye_close": 0.3},
    "sadness": {"brow_raise": 0.45, "brow_lower": 0.3, "frown": 1.0, "eye_close": 0.3},
    "surprise": {"brow_raise": 1.0, "eye_close": -0.7, "jaw_open": 0.95},
}
EXPRESSION_PRESETS = np.zeros((len(EXPRESSIONS), len(EXP_MODE_NAMES)), dtype=np.float64)
for _i, _name in enumerate(EXPRESSIONS):
    for _mode, _w in _PRESETS[_name].items():
        EXPRESSION_PRESETS[_i, EXP_MODE_NAMES.index(_mode)] = _w


def sample_expression(rng: np.random.Generator, expression_prob: float):
    """Draw ``(class id, blend weights (K_exp,))``: with probability ``expression_prob`` one of the 7 emotions at a
    random intensity (0.6-1.2) plus small per-mode jitter; otherwise neutral with a little jitter (a relaxed face)."""
    if rng.random() < expression_prob:
        label = int(rng.integers(1, len(EXPRESSIONS)))
        weights = EXPRESSION_PRESETS[label] * rng.uniform(0.6, 1.2) + rng.normal(0, 0.06, len(EXP_MODE_NAMES))
    else:
        label = 0
        weights = rng.normal(0, 0.04, len(EXP_MODE_NAMES))
    return label, weights
