"""BEGAN-style convolutional encoder and decoder (Berthelot et al., 2017).

BEGAN's networks are plain stacks of ``3x3 conv → ELU`` pairs, with nearest-neighbour up-sampling in the decoder
and strided convolutions in the encoder, and a fully-connected bottleneck. FaceFeat-GAN builds E_2, G^I and D^I
"with the structures described in BEGAN"; we keep that shape and make the per-scale widths configurable so the
same code serves a 64 px CPU model and a 128 px GPU model. Where BEGAN repeats one width at every scale, we halve
the width as resolution doubles: it keeps FLOPs per scale constant, which is what makes CPU training feasible.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F


def _conv_elu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.ELU(inplace=True))


class BeganDecoder(nn.Module):
    """Vector → image: ``Linear`` to a ``widths[0] x base x base`` map, then one stage per width of
    (optionally up-sample ×2) + `convs_per_stage` ``conv3x3 → ELU``, then ``conv3x3`` to `out_channels`.

    Args:
        in_features (`int`): input vector size.
        widths (`Sequence[int]`): channels at each scale, lowest resolution first; the image is
            ``base * 2**(len(widths) - 1)`` pixels wide.
        base (`int`, *optional*, defaults to 8): side of the first feature map.
        out_channels (`int`, *optional*, defaults to 3).
        convs_per_stage (`int`, *optional*, defaults to 2).
    """

    def __init__(self, in_features: int, widths: Sequence[int], base: int = 8, out_channels: int = 3, convs_per_stage: int = 2):
        super().__init__()
        widths = list(widths)
        self.base, self.first = base, widths[0]
        self.fc = nn.Linear(in_features, widths[0] * base * base)
        stages = []
        cin = widths[0]
        for w in widths:
            layers = [_conv_elu(cin, w)] + [_conv_elu(w, w) for _ in range(convs_per_stage - 1)]
            stages.append(nn.Sequential(*layers))
            cin = w
        self.stages = nn.ModuleList(stages)
        self.to_image = nn.Conv2d(cin, out_channels, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(z.shape[0], self.first, self.base, self.base)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = stage(x)
        return self.to_image(x)


class BeganEncoder(nn.Module):
    """Image → vector: ``conv3x3 → ELU`` stem, then per width `convs_per_stage` ``conv3x3 → ELU`` with a stride-2
    convolution between stages, then ``Linear`` from the last ``widths[-1] x base x base`` map to `out_features`.

    Args:
        image_size (`int`): input side; must equal ``base * 2**(len(widths) - 1)``.
        widths (`Sequence[int]`): channels at each scale, highest resolution first.
        out_features (`int`): output vector size.
        in_channels (`int`, *optional*, defaults to 3).
        convs_per_stage (`int`, *optional*, defaults to 2).
        activation (`str`, *optional*, defaults to `"elu"`): `"elu"` (BEGAN) or `"leaky_relu"` (for discriminators).
    """

    def __init__(
        self,
        image_size: int,
        widths: Sequence[int],
        out_features: int,
        in_channels: int = 3,
        convs_per_stage: int = 2,
        activation: str = "elu",
    ):
        super().__init__()
        widths = list(widths)
        base = image_size // 2 ** (len(widths) - 1)
        if base * 2 ** (len(widths) - 1) != image_size or base < 1:
            raise ValueError(f"image_size {image_size} is not a power-of-two multiple fitting {len(widths)} stages")
        act = (lambda: nn.ELU(inplace=True)) if activation == "elu" else (lambda: nn.LeakyReLU(0.2, inplace=True))
        layers = [nn.Conv2d(in_channels, widths[0], 3, 1, 1), act()]
        cin = widths[0]
        for i, w in enumerate(widths):
            for j in range(convs_per_stage):
                stride = 2 if (i > 0 and j == 0) else 1
                layers += [nn.Conv2d(cin, w, 3, stride, 1), act()]
                cin = w
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(cin * base * base, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x).flatten(1))
