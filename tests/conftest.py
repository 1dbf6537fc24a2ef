"""Shared fixtures: tiny seeded networks and pipelines that build in milliseconds on CPU."""

from __future__ import annotations

import os

# Tests never touch the network; Hub tests fill their own cache. Set before huggingface_hub is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from facezoo.utils.testing import make_tiny_facefeat  # noqa: E402
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def tiny_facefeat():
    return make_tiny_facefeat()


@pytest.fixture
def face_batch():
    """Two 16x16 random faces in [0, 1], (2, 3, 16, 16)."""
    return torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
