"""Tiny, seeded pipelines for tests and examples (facezoo's counterpart of diffusers' testing utilities).

They build in milliseconds on CPU, run on 16x16 images and are random: use them to test code around a pipeline
(an app, an export, a training script), never to judge results.
"""

from __future__ import annotations

import torch


def make_tiny_facefeat(seed: int = 0):
    """A `FaceFeatPipeline` with tiny seeded networks (16x16 images, 32-d identity, 7-d f_1 with 4 expression
    coefficients, 16-d f_2) whose E_1 carries standardisation statistics and two presets (neutral, happiness)."""
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
