"""FaceFeat-GAN generators: the feature generators G_i^f (noise → feature) and the image generator G^I."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.utils import BaseOutput

from facezoo.models.blocks.began import BeganDecoder
from facezoo.models.blocks.mlp import MLP
from facezoo.models.modeling_utils import FaceModelMixin


def fix_norm(f: torch.Tensor, norm: float) -> torch.Tensor:
    """Rescale each row of `f` to L2 norm `norm` (the paper fixes ||f_id|| and ||f_2|| before G^I)."""
    return F.normalize(f, dim=-1) * norm


class FeatureGenerator(FaceModelMixin, ConfigMixin):
    """G_i^f: a 4-layer MLP mapping uniform noise ``z ~ U[-1, 1]^noise_dim`` to a feature ``f_i^s``.

    Args:
        noise_dim (`int`, *optional*, defaults to 64): size of z (paper: 64).
        feature_dim (`int`, *optional*, defaults to 30): size of the feature it imitates.
        hidden (`Tuple[int]`, *optional*, defaults to `(128, 256, 256)`): hidden sizes (paper).
        output_norm (`float`, *optional*, defaults to 0): if > 0, outputs are rescaled to this L2 norm (for features
            whose norm is fixed, like f_2); 0 leaves them free (f_1 is standardised, not normalised).
    """

    @register_to_config
    def __init__(self, noise_dim: int = 64, feature_dim: int = 30, hidden: Tuple[int, ...] = (128, 256, 256), output_norm: float = 0.0):
        super().__init__()
        self.mlp = MLP(noise_dim, hidden, feature_dim, activation="leaky_relu")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        f = self.mlp(z)
        return fix_norm(f, self.config.output_norm) if self.config.output_norm > 0 else f

    def dummy_inputs(self, batch_size: int = 1):
        return (torch.rand(batch_size, self.config.noise_dim) * 2 - 1,)


@dataclass
class ImageGeneratorOutput(BaseOutput):
    """images (`torch.FloatTensor` of shape `(B, 3, S, S)`): faces in [-1, 1]."""

    images: torch.Tensor


class FaceFeatImageGenerator(FaceModelMixin, ConfigMixin):
    """G^I: ``(f_id, f_1, f_2) → image``, a BEGAN-style decoder on the concatenated features.

    The paper does not say how G^I fuses its inputs; we concatenate ``[f_id * s, f_1, f_2 * s]`` where f_id and f_2
    are rescaled to norm `feature_norm` (16 in the paper) and f_1 is the standardised 3DMM feature.

    Args:
        identity_dim (`int`, *optional*, defaults to 256): size of f_id.
        pose_expression_dim (`int`, *optional*, defaults to 30): size of f_1.
        general_dim (`int`, *optional*, defaults to 256): size of f_2.
        feature_norm (`float`, *optional*, defaults to 16.0): L2 norm f_id and f_2 are rescaled to.
        image_size (`int`, *optional*, defaults to 64): output side.
        widths (`Tuple[int]`, *optional*, defaults to `(128, 128, 64, 32, 16)`): decoder channels, lowest
            resolution (4 px for a 64 px image) first.
        convs_per_stage (`int`, *optional*, defaults to 2).
    """

    @register_to_config
    def __init__(
        self,
        identity_dim: int = 256,
        pose_expression_dim: int = 30,
        general_dim: int = 256,
        feature_norm: float = 16.0,
        image_size: int = 64,
        widths: Tuple[int, ...] = (128, 128, 64, 32, 16),
        convs_per_stage: int = 2,
    ):
        super().__init__()
        base = image_size // 2 ** (len(widths) - 1)
        if base * 2 ** (len(widths) - 1) != image_size:
            raise ValueError(f"image_size {image_size} does not fit {len(widths)} decoder stages")
        self.decoder = BeganDecoder(identity_dim + pose_expression_dim + general_dim, widths, base=base, convs_per_stage=convs_per_stage)

    def forward(self, identity: torch.Tensor, pose_expression: torch.Tensor, general: torch.Tensor, return_dict: bool = True):
        """
        Args:
            identity (`(B, identity_dim)`): f_id (any norm; rescaled here).
            pose_expression (`(B, pose_expression_dim)`): standardised f_1.
            general (`(B, general_dim)`): f_2 (any norm; rescaled here).
        """
        norm = self.config.feature_norm
        z = torch.cat([fix_norm(identity, norm), pose_expression, fix_norm(general, norm)], dim=1)
        images = torch.tanh(self.decoder(z))
        return ImageGeneratorOutput(images=images) if return_dict else (images,)

    def dummy_inputs(self, batch_size: int = 1):
        c = self.config
        return (torch.randn(batch_size, c.identity_dim), torch.randn(batch_size, c.pose_expression_dim), torch.randn(batch_size, c.general_dim))
