"""Learning-rate schedules shared by the training scripts (as `LambdaLR` factor functions)."""

from __future__ import annotations

import math
from typing import Callable


def cosine_with_warmup(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """Linear warm-up to 1 over `warmup_steps` (the first step already trains at ``1 / warmup_steps``), then a
    cosine decay to 0 at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def step_drop(drop_step: int, ratio: float) -> Callable[[int], float]:
    """1 until `drop_step`, then `ratio` (FaceFeat-GAN's 8e-5 → 5e-5 at step 100k)."""
    return lambda step: 1.0 if step < drop_step else ratio
