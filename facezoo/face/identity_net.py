"""IdentityNet: a small ResNet face recogniser trained on FaceWorld identities with an ArcFace margin loss.

It stands in for the recognisers of the papers (ArcFace, FaceNet, LightCNN, VGG-Face): methods take its embedding
as the identity feature and its distance as the identity loss, and the evaluation uses a second one trained with
another seed and width (``identitynet_eval.faceworld_64``) so that no method is judged by the network it trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.utils import BaseOutput
from torch import nn

from facezoo.models.blocks import ResNetTrunk
from facezoo.models.modeling_utils import FaceModelMixin


@dataclass
class IdentityNetOutput(BaseOutput):
    """
    Args:
        embedding (`torch.Tensor` of shape `(batch_size, embedding_dim)`): the raw embedding (what the margin head sees
            before its own normalisation; its norm grows with image quality, as in MagFace).
        normalized (`torch.Tensor` of shape `(batch_size, embedding_dim)`): the L2-normalised embedding.
    """

    embedding: torch.Tensor
    normalized: torch.Tensor


class IdentityNet(FaceModelMixin, ConfigMixin):
    """ResNet trunk + ArcFace's "BN-Dropout-FC-BN" embedding head on aligned face crops.

    Global average pooling throws away where features are, which matters for faces; like ArcFace's output
    layer, the head keeps the last feature map's layout, reduced to `head_channels` by a 1x1 convolution so that the
    fully connected layer stays small.

    Args:
        in_channels (`int`, *optional*, defaults to 3): image channels.
        sample_size (`int`, *optional*, defaults to 64): input side; other sizes are resized to it.
        widths (`Tuple[int]`, *optional*, defaults to `(32, 64, 128, 192)`): trunk stage widths.
        blocks (`Tuple[int]`, *optional*, defaults to `(1, 1, 1, 1)`): residual blocks per stage.
        stem_stride (`int`, *optional*, defaults to 2): the stem halves the input (64 px crops carry little detail
            at full resolution and this makes training 4x cheaper).
        head_channels (`int`, *optional*, defaults to 64): channels of the map flattened into the embedding layer.
        embedding_dim (`int`, *optional*, defaults to 256): size of the embedding.
        dropout (`float`, *optional*, defaults to 0.0): dropout before the embedding layer.
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        sample_size: int = 64,
        widths: Tuple[int, ...] = (32, 64, 128, 192),
        blocks: Tuple[int, ...] = (1, 1, 1, 1),
        stem_stride: int = 2,
        head_channels: int = 64,
        embedding_dim: int = 256,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.trunk = ResNetTrunk(in_channels, widths=widths, blocks=blocks, stem_stride=stem_stride, pool="none")
        side = sample_size // (stem_stride * 2 ** (len(widths) - 1))
        if side < 1:
            raise ValueError(f"sample_size {sample_size} is too small for {len(widths)} stages with stem stride {stem_stride}")
        self.reduce = nn.Sequential(nn.Conv2d(widths[-1], head_channels, 1, bias=False), nn.BatchNorm2d(head_channels))
        self.head_dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(head_channels * side * side, embedding_dim)
        self.features = nn.BatchNorm1d(embedding_dim)

    @property
    def embedding_dim(self) -> int:
        return self.config.embedding_dim

    def dummy_inputs(self, batch_size: int = 1) -> Tuple[torch.Tensor, ...]:
        return (torch.rand(batch_size, self.config.in_channels, self.config.sample_size, self.config.sample_size),)

    def forward(self, images: torch.Tensor, return_dict: bool = True):
        """Embed aligned face crops.

        Args:
            images (`torch.Tensor` of shape `(batch_size, 3, H, W)`): values in ``[0, 1]``; resized to `sample_size`.
            return_dict (`bool`, *optional*, defaults to `True`): return an `IdentityNetOutput` instead of a tuple.
        """
        if images.ndim != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(f"expected images (B, {self.config.in_channels}, H, W), got {tuple(images.shape)}")
        size = self.config.sample_size
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        x = self.trunk(images * 2.0 - 1.0)
        x = self.reduce(x).flatten(1)
        embedding = self.features(self.fc(self.head_dropout(x)))
        normalized = F.normalize(embedding, dim=-1)
        if not return_dict:
            return (embedding, normalized)
        return IdentityNetOutput(embedding=embedding, normalized=normalized)
