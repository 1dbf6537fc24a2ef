"""FLOPs of a network and the share of a machine's peak it reaches.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` over one forward pass: matmuls and
convolutions count 2 FLOPs per multiply-add; element-wise ops, normalisations and activations count 0 (they are
memory-bound and small next to the convolutions of a generator, so the count is the work a roofline compares).
A network gives example inputs through ``model.dummy_inputs(batch_size)`` (see `FaceModelMixin`).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence, Tuple, Union

import torch
from torch.utils.flop_counter import FlopCounterMode

Inputs = Union[torch.Tensor, Sequence[Any], Dict[str, Any]]


def call_with(model: Callable, inputs: Inputs):
    """``model(*inputs)`` for a tuple/list, ``model(**inputs)`` for a dict, ``model(inputs)`` for one tensor."""
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


@torch.no_grad()
def count_flops(model: Callable, inputs: Inputs) -> int:
    """FLOPs of one forward pass of `model` on `inputs` (the whole batch; divide by its size per image)."""
    with FlopCounterMode(display=False) as counter:
        call_with(model, inputs)
    return int(counter.get_total_flops())


@dataclass
class Timing:
    """Wall-clock seconds of repeated calls: the median (the figure to report), the fastest, and every run."""

    median: float
    best: float
    runs: List[float]


def time_call(fn: Callable[[], Any], warmup: int = 1, repeats: int = 5, min_seconds: float = 0.0) -> Timing:
    """Time ``fn()``: `warmup` untimed calls (allocator, oneDNN kernel selection), then at least `repeats` timed
    calls, more until `min_seconds` have passed. Shared by `peak_share` and ``bench/common.py``."""
    if repeats < 1:
        raise ValueError(f"`repeats` must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    runs: List[float] = []
    start_all = time.perf_counter()
    while len(runs) < repeats or time.perf_counter() - start_all < min_seconds:
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return Timing(statistics.median(runs), min(runs), runs)


@torch.no_grad()
def flops_per_second(model: Callable, inputs: Inputs, warmup: int = 1, repeats: int = 3) -> Tuple[float, int, Timing]:
    """Achieved ``(FLOP/s, FLOPs per call, timing)`` of `model` on `inputs`, from the median call time."""
    flops = count_flops(model, inputs)
    timing = time_call(lambda: call_with(model, inputs), warmup=warmup, repeats=repeats)
    return flops / timing.median, flops, timing


def peak_share(model: Callable, inputs: Inputs, peak_flops: float, warmup: int = 1, repeats: int = 3) -> float:
    """Achieved FLOP/s of `model` on `inputs` divided by `peak_flops` (e.g. the measured 3x3-conv peak of
    ``bench/roofline.py``); 0.5 means half the machine's measured peak."""
    if peak_flops <= 0:
        raise ValueError(f"`peak_flops` must be positive, got {peak_flops}")
    achieved, _, _ = flops_per_second(model, inputs, warmup=warmup, repeats=repeats)
    return achieved / peak_flops


__all__ = ["count_flops", "call_with", "Timing", "time_call", "flops_per_second", "peak_share"]
