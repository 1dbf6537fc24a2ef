"""FaceParser: a small U-Net that labels every pixel of a face crop (skin, brows, eyes, nose, lips, hair, ...).

Trained on FaceWorld's exact semantic maps by ``train/parser.py``; methods use its face mask for UV texture
completion, de-occlusion and paste-back masks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.utils import BaseOutput
from torch import nn

from facezoo.models.modeling_utils import FaceModelMixin


@dataclass
class FaceParserOutput(BaseOutput):
    """
    Args:
        logits (`torch.Tensor` of shape `(batch_size, num_classes, H, W)`): per-pixel class scores.
        face_mask (`torch.Tensor` of shape `(batch_size, 1, H, W)`): probability that a pixel belongs to one of the
            model's `face_classes`.
    """

    logits: torch.Tensor
    face_mask: torch.Tensor


def _conv_block(cin: int, cout: int) -> nn.Sequential:
    # GroupNorm, not BatchNorm: parsing runs on single images at inference and batch statistics would differ.
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.GroupNorm(min(8, cout // 4) or 1, cout), nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.GroupNorm(min(8, cout // 4) or 1, cout), nn.SiLU(),
    )


class FaceParser(FaceModelMixin, ConfigMixin):
    """U-Net (Ronneberger et al., 2015) with `len(widths)` resolutions, skip connections by concatenation.

    Args:
        in_channels (`int`, *optional*, defaults to 3): image channels.
        num_classes (`int`, *optional*, defaults to 10): semantic classes (class 0 is the background).
        widths (`Tuple[int]`, *optional*, defaults to `(16, 32, 64, 128)`): channels at each resolution.
        face_classes (`Tuple[int]`, *optional*, defaults to `()`): the classes that make up the face mask
            (default: every class but 0).
        sample_size (`int`, *optional*, defaults to 64): the training resolution (inputs whose side is a multiple of
            ``2 ** (len(widths) - 1)`` work at any size).
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        widths: Tuple[int, ...] = (16, 32, 64, 128),
        face_classes: Tuple[int, ...] = (),
        sample_size: int = 64,
    ):
        super().__init__()
        widths = list(widths)
        self.down = nn.ModuleList()
        cin = in_channels
        for w in widths:
            self.down.append(_conv_block(cin, w))
            cin = w
        self.up = nn.ModuleList()
        for w_skip, w_in in zip(reversed(widths[:-1]), reversed(widths[1:])):
            self.up.append(_conv_block(w_in + w_skip, w_skip))
        self.head = nn.Conv2d(widths[0], num_classes, 1)
        classes = tuple(face_classes) or tuple(range(1, num_classes))
        self.register_buffer("face_class_mask", torch.zeros(num_classes).index_fill_(0, torch.tensor(classes), 1.0),
                             persistent=False)

    def dummy_inputs(self, batch_size: int = 1) -> Tuple[torch.Tensor, ...]:
        return (torch.rand(batch_size, self.config.in_channels, self.config.sample_size, self.config.sample_size),)

    def forward(self, images: torch.Tensor, return_dict: bool = True):
        """Parse face crops.

        Args:
            images (`torch.Tensor` of shape `(batch_size, 3, H, W)`): values in ``[0, 1]``.
            return_dict (`bool`, *optional*, defaults to `True`): return a `FaceParserOutput` instead of a tuple.
        """
        factor = 2 ** (len(self.down) - 1)
        if images.ndim != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(f"expected images (B, {self.config.in_channels}, H, W), got {tuple(images.shape)}")
        if images.shape[-1] % factor or images.shape[-2] % factor:
            raise ValueError(f"image sides must be multiples of {factor}, got {tuple(images.shape[-2:])}")
        x = images * 2.0 - 1.0
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = F.avg_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], 1))
        logits = self.head(x)
        face_mask = (logits.softmax(1) * self.face_class_mask.view(1, -1, 1, 1)).sum(1, keepdim=True)
        if not return_dict:
            return (logits, face_mask)
        return FaceParserOutput(logits=logits, face_mask=face_mask)

    @torch.no_grad()
    def parse(self, images: torch.Tensor) -> torch.Tensor:
        """The label map ``(B, H, W)`` (argmax over classes)."""
        return self(images).logits.argmax(1)
