"""Multi-layer perceptrons: FaceFeat-GAN's feature generators and discriminators, and any later method's MLP heads."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class MLP(nn.Sequential):
    """``Linear → act`` for each hidden size, then a final ``Linear`` (no activation on the output).

    Args:
        in_features (`int`): input size.
        hidden (`Sequence[int]`): hidden sizes; ``len(hidden) + 1`` linear layers in all.
        out_features (`int`): output size.
        activation (`str`, *optional*, defaults to `"leaky_relu"`): `"relu"`, `"leaky_relu"` (slope 0.2) or `"elu"`.
        spectral_norm (`bool`, *optional*, defaults to False): wrap every linear layer in spectral normalisation
            (a Lipschitz bound that keeps small discriminators from overpowering their generator).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str = "leaky_relu",
        spectral_norm: bool = False,
    ):
        acts = {"relu": lambda: nn.ReLU(inplace=True), "leaky_relu": lambda: nn.LeakyReLU(0.2, inplace=True), "elu": lambda: nn.ELU(inplace=True)}
        if activation not in acts:
            raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
        sizes = [in_features, *hidden, out_features]
        layers = []
        for i in range(len(sizes) - 1):
            linear = nn.Linear(sizes[i], sizes[i + 1])
            layers.append(nn.utils.parametrizations.spectral_norm(linear) if spectral_norm else linear)
            if i < len(sizes) - 2:
                layers.append(acts[activation]())
        super().__init__(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x)
