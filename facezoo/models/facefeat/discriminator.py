"""FaceFeat-GAN discriminators: D_i^f on features and D^I on images. Both return real/fake logits."""

from __future__ import annotations

from typing import Tuple

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config

from facezoo.models.blocks.began import BeganEncoder
from facezoo.models.blocks.mlp import MLP
from facezoo.models.modeling_utils import FaceModelMixin


class FeatureDiscriminator(FaceModelMixin, ConfigMixin):
    """D_i^f: a 4-layer MLP (hidden ``[256, 256, 128]`` in the paper) giving one real/fake logit per feature.

    Args:
        feature_dim (`int`, *optional*, defaults to 30).
        hidden (`Tuple[int]`, *optional*, defaults to `(256, 256, 128)`).
    """

    @register_to_config
    def __init__(self, feature_dim: int = 30, hidden: Tuple[int, ...] = (256, 256, 128)):
        super().__init__()
        self.mlp = MLP(feature_dim, hidden, 1, activation="leaky_relu")

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(features).squeeze(1)


class FaceFeatImageDiscriminator(FaceModelMixin, ConfigMixin):
    """D^I: a BEGAN-style convolutional encoder ending in one real/fake logit.

    BEGAN's discriminator is an auto-encoder whose energy is a reconstruction error; FaceFeat-GAN nevertheless writes
    its image energy as ``-log D^I(x)``, a probability. We follow the equations: a CNN classifier trained with the
    standard (non-saturating) binary cross-entropy GAN loss, with the BEGAN encoder as its body (LeakyReLU instead of
    ELU, the usual discriminator choice).

    Args:
        image_size (`int`, *optional*, defaults to 64).
        widths (`Tuple[int]`, *optional*, defaults to `(16, 32, 64, 128, 128)`): channels per scale, full resolution first.
        convs_per_stage (`int`, *optional*, defaults to 1).
    """

    @register_to_config
    def __init__(self, image_size: int = 64, widths: Tuple[int, ...] = (16, 32, 64, 128, 128), convs_per_stage: int = 1):
        super().__init__()
        self.encoder = BeganEncoder(image_size, widths, 1, convs_per_stage=convs_per_stage, activation="leaky_relu")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images).squeeze(1)
