"""ResNet-style building blocks shared by every facezoo network that needs a convolutional trunk.

`BasicBlock` is the two-3x3-convolution residual block of He et al. (2016); `ResNetTrunk` stacks stages of
them (ResNet-18 with the defaults) and returns one pooled feature vector per image. The identity network, the
3DMM regressor and method encoders (FaceFeat's E_1) import these rather than each writing their own.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        # 32 groups as in Wu & He (2018), fewer when the layer is narrow.
        return nn.GroupNorm(min(32, channels // 4) or 1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'group' or 'none', got {kind!r}")


class BasicBlock(nn.Module):
    """Residual block: ``relu(x_skip + norm(conv(relu(norm(conv(x))))))``.

    Args:
        in_channels (`int`): channels of the input.
        out_channels (`int`): channels of the output.
        stride (`int`, *optional*, defaults to 1): stride of the first convolution (2 halves the resolution).
        norm (`str`, *optional*, defaults to `"batch"`): `"batch"`, `"group"` or `"none"`.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, norm: str = "batch"):
        super().__init__()
        bias = norm == "none"
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=bias)
        self.norm1 = _norm(norm, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=bias)
        self.norm2 = _norm(norm, out_channels)
        self.act = nn.ReLU(inplace=True)
        if stride != 1 or in_channels != out_channels:
            # A 1x1 projection so the skip matches the new shape (ResNet "option B").
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=bias), _norm(norm, out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return self.act(out + self.shortcut(x))


class ResNetTrunk(nn.Module):
    """A configurable ResNet-18-style trunk returning one pooled feature vector per image.

    The stem is a 3x3 convolution (stride `stem_stride`) rather than ResNet's 7x7/maxpool, because facezoo
    works on 64-256 px face crops where an early 4x downsampling throws away too much. Each stage after the first
    halves the resolution.

    Args:
        in_channels (`int`, *optional*, defaults to 3): channels of the input image.
        widths (`Sequence[int]`, *optional*, defaults to `(64, 128, 256, 512)`): channels of each stage.
        blocks (`Sequence[int]`, *optional*, defaults to `(2, 2, 2, 2)`): `BasicBlock`s per stage.
        stem_stride (`int`, *optional*, defaults to 1): stride of the stem convolution.
        norm (`str`, *optional*, defaults to `"batch"`): normalisation inside the blocks.
        pool (`str`, *optional*, defaults to `"avg"`): `"avg"` (global average pooling, output ``(B, widths[-1])``)
            or `"none"` (the last feature map ``(B, widths[-1], h, w)``).

    Attributes:
        out_channels (`int`): the feature size, ``widths[-1]``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks: Sequence[int] = (2, 2, 2, 2),
        stem_stride: int = 1,
        norm: str = "batch",
        pool: str = "avg",
    ):
        super().__init__()
        widths, blocks = list(widths), list(blocks)
        if len(widths) != len(blocks) or not widths:
            raise ValueError(f"widths and blocks must be non-empty and of equal length, got {widths} and {blocks}")
        if pool not in ("avg", "none"):
            raise ValueError(f"pool must be 'avg' or 'none', got {pool!r}")
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, stem_stride, 1, bias=norm == "none"),
            _norm(norm, widths[0]),
            nn.ReLU(inplace=True),
        )
        stages = []
        channels = widths[0]
        for i, (width, count) in enumerate(zip(widths, blocks)):
            layers = [BasicBlock(channels, width, stride=1 if i == 0 else 2, norm=norm)]
            layers += [BasicBlock(width, width, norm=norm) for _ in range(count - 1)]
            stages.append(nn.Sequential(*layers))
            channels = width
        self.stages = nn.ModuleList(stages)
        self.pool = pool
        self.out_channels = channels

    def feature_maps(self, x: torch.Tensor) -> list:
        """The output of every stage, from high to low resolution (for losses on intermediate features)."""
        x = self.stem(x)
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.feature_maps(x)[-1]
        if self.pool == "avg":
            return x.mean(dim=(2, 3))
        return x
