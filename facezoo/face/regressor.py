"""Recon3DRegressor: a ResNet that regresses a Deng et al. (2019)-style 3DMM coefficient vector from a face crop.

The vector is the concatenation of named groups (identity, expression, pose, lighting, albedo, ...), whose names and
sizes are in the config, so the same network serves FaceWorld's parameter layout and a BFM one (Deng et al.: 80 id,
64 exp, 80 texture, 3 angles, 27 SH lighting, 3 translation). Targets are standardised per coordinate with the
training data's mean and standard deviation, stored with the weights, so every group weighs alike in the loss and
the raw head outputs stay near unit scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.utils import BaseOutput
from torch import nn

from facezoo.models.blocks import ResNetTrunk
from facezoo.models.modeling_utils import FaceModelMixin


@dataclass
class Recon3DOutput(BaseOutput):
    """
    Args:
        params (`torch.Tensor` of shape `(batch_size, param_dim)`): the coefficient vector in data units.
        normalized (`torch.Tensor` of shape `(batch_size, param_dim)`): the same, standardised (what the loss sees).
    """

    params: torch.Tensor
    normalized: torch.Tensor


class Recon3DRegressor(FaceModelMixin, ConfigMixin):
    """ResNet trunk (`facezoo.models.blocks.ResNetTrunk`), global pooling, one linear layer to the coefficients.

    Args:
        in_channels (`int`, *optional*, defaults to 3): image channels.
        sample_size (`int`, *optional*, defaults to 64): input side; other sizes are resized to it.
        widths (`Tuple[int]`, *optional*, defaults to `(32, 64, 128, 192)`): trunk widths.
        blocks (`Tuple[int]`, *optional*, defaults to `(1, 1, 1, 1)`): residual blocks per stage.
        stem_stride (`int`, *optional*, defaults to 1): stride of the stem (1 keeps fine landmark detail at 64 px).
        param_names (`Tuple[str]`, *optional*): names of the coefficient groups, in vector order.
        param_sizes (`Tuple[int]`, *optional*): their sizes.
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        sample_size: int = 64,
        widths: Tuple[int, ...] = (32, 64, 128, 192),
        blocks: Tuple[int, ...] = (1, 1, 1, 1),
        stem_stride: int = 1,
        param_names: Tuple[str, ...] = ("id", "exp", "tex", "angles", "gamma", "trans"),
        param_sizes: Tuple[int, ...] = (80, 64, 80, 3, 27, 3),
    ):
        super().__init__()
        if len(param_names) != len(param_sizes) or not param_names:
            raise ValueError(f"param_names and param_sizes must be non-empty and of equal length, got {param_names}, {param_sizes}")
        dim = sum(param_sizes)
        self.trunk = ResNetTrunk(in_channels, widths=widths, blocks=blocks, stem_stride=stem_stride)
        self.head = nn.Linear(self.trunk.out_channels, dim)
        # Zero-initialised head: the first prediction is the data mean, a sensible start for regression.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("param_mean", torch.zeros(dim))
        self.register_buffer("param_std", torch.ones(dim))

    @property
    def param_dim(self) -> int:
        return int(sum(self.config.param_sizes))

    def param_slices(self) -> Dict[str, slice]:
        """Name → slice of the coefficient vector."""
        out, start = {}, 0
        for name, size in zip(self.config.param_names, self.config.param_sizes):
            out[name] = slice(start, start + size)
            start += size
        return out

    def split(self, params: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Split ``(B, param_dim)`` coefficients into their named groups."""
        return {name: params[:, s] for name, s in self.param_slices().items()}

    @torch.no_grad()
    def set_normalization(self, mean: torch.Tensor, std: torch.Tensor, eps: float = 1e-6) -> None:
        """Store the training targets' per-coordinate mean and standard deviation (constant coordinates get std 1)."""
        if mean.shape != (self.param_dim,) or std.shape != (self.param_dim,):
            raise ValueError(f"mean and std must have shape ({self.param_dim},)")
        self.param_mean.copy_(mean)
        self.param_std.copy_(torch.where(std > eps, std, torch.ones_like(std)))

    def normalize(self, params: torch.Tensor) -> torch.Tensor:
        return (params - self.param_mean) / self.param_std

    def dummy_inputs(self, batch_size: int = 1) -> Tuple[torch.Tensor, ...]:
        return (torch.rand(batch_size, self.config.in_channels, self.config.sample_size, self.config.sample_size),)

    def forward(self, images: torch.Tensor, return_dict: bool = True):
        """Regress coefficients from face crops ``(B, 3, H, W)`` in ``[0, 1]``."""
        if images.ndim != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(f"expected images (B, {self.config.in_channels}, H, W), got {tuple(images.shape)}")
        size = self.config.sample_size
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        normalized = self.head(self.trunk(images * 2.0 - 1.0))
        params = normalized * self.param_std + self.param_mean
        if not return_dict:
            return (params, normalized)
        return Recon3DOutput(params=params, normalized=normalized)
