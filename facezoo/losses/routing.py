"""Gradient routing for methods whose generators share one loss term."""

from __future__ import annotations

import torch


def scale_gradient(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient flowing back into `x` by `scale`.

    Lets one loss term send differently weighted gradients to two inputs (FaceFeat-GAN's λ_1^f and λ_2^f weight
    the same φ^I(x^s) for G_1^f and G_2^f separately).
    """
    if scale == 1.0:
        return x
    return x * scale + x.detach() * (1.0 - scale)
