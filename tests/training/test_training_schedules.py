"""Shared learning-rate schedules: hand-computed factors."""

import math

import pytest

from facezoo.training.schedules import cosine_with_warmup, step_drop


def test_cosine_with_warmup_values():
    f = cosine_with_warmup(warmup_steps=4, total_steps=12)
    assert [f(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert f(4) == pytest.approx(1.0)
    assert f(8) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert f(12) == pytest.approx(0.0, abs=1e-12) and f(50) == pytest.approx(0.0, abs=1e-12)


def test_step_drop_keeps_the_paper_ratio():
    f = step_drop(100, 5e-5 / 8e-5)
    assert f(0) == f(99) == 1.0
    assert f(100) == f(10_000) == pytest.approx(0.625)
