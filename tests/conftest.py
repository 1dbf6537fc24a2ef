"""Shared fixtures: tiny seeded networks and pipelines that build in milliseconds on CPU."""

from __future__ import annotations

import os

import pytest
import torch

# Tests never touch the network; Hub tests fill their own cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def make_tiny_facefeat(seed: int = 0):
    """A FaceFeatPipeline with tiny, seeded networks (16x16 images) and E_1 statistics/presets filled in."""
    from facezoo import (
        FaceFeatEncoder,
        FaceFeatImageGenerator,
        FaceFeatPipeline,
        FaceFeatRegressor,
        FeatureGenerator,
        IdentityNet,
    )

    torch.manual_seed(seed)
    identity = IdentityNet(sample_size=16, widths=(8, 8), blocks=(1, 1), stem_stride=1, head_channels=4, embedding_dim=32)
    e1 = FaceFeatRegressor(
        image_size=16, num_expression=4, widths=(8, 8), blocks=(1, 1),
        feature_mean=(0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0), feature_std=(0.5, 0.5, 0.5, 0.5, 0.8, 0.3, 0.2),
        expression_names=("neutral", "happiness"), expression_presets=((0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0)),
    )
    pipe = FaceFeatPipeline(
        identity_encoder=identity.eval(),
        pose_expression_encoder=e1.eval(),
        general_encoder=FaceFeatEncoder(image_size=16, feature_dim=16, widths=(8, 8, 8)).eval(),
        pose_expression_generator=FeatureGenerator(noise_dim=8, feature_dim=7, hidden=(16, 16, 16)).eval(),
        general_generator=FeatureGenerator(noise_dim=8, feature_dim=16, hidden=(16, 16, 16), output_norm=4.0).eval(),
        image_generator=FaceFeatImageGenerator(identity_dim=32, pose_expression_dim=7, general_dim=16, feature_norm=4.0,
                                               image_size=16, widths=(16, 8, 8)).eval(),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture
def tiny_facefeat():
    return make_tiny_facefeat()


@pytest.fixture
def face_batch():
    """Two 16x16 random faces in [0, 1], (2, 3, 16, 16)."""
    return torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
