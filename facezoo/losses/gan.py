"""Adversarial losses shared by the GAN methods: non-saturating, hinge and BCE-with-logits, R1, spectral norm.

Every loss takes raw discriminator outputs (logits, any shape) and returns a scalar mean.
"""

from __future__ import annotations

from typing import Iterable, Union

import torch
import torch.nn.functional as F
from torch import nn

GAN_LOSSES = ("non_saturating", "hinge", "bce")


def _check(kind: str) -> None:
    if kind not in GAN_LOSSES:
        raise ValueError(f"Unknown GAN loss {kind!r}; choose one of {GAN_LOSSES}.")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """Loss of the discriminator given its logits on real and generated images.

    - ``non_saturating`` (Goodfellow et al., StyleGAN): ``softplus(-D(x)) + softplus(D(G(z)))``;
    - ``bce``: the same value written as binary cross-entropy with targets 1 (real) and 0 (fake);
    - ``hinge`` (Miyato et al., SAGAN/BigGAN): ``relu(1 - D(x)) + relu(1 + D(G(z)))``.
    """
    _check(kind)
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    if kind == "bce":
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """Loss of the generator given the discriminator's logits on generated images.

    ``non_saturating`` and ``bce`` both maximise ``log D(G(z))`` (``softplus(-D(G(z)))``), which keeps gradients
    alive when D wins early; ``hinge`` uses ``-D(G(z))``.
    """
    _check(kind)
    if kind == "hinge":
        return -fake_logits.mean()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """R1 regulariser (Mescheder et al. 2018): mean over the batch of ``||grad_x D(x)||^2`` on real images.

    `real_images` must have ``requires_grad=True`` before the discriminator sees them. Multiply by ``gamma / 2``
    (and by the lazy-regularisation interval when applied every k steps, as StyleGAN2 does). The graph is kept so
    the penalty can be back-propagated into the discriminator.
    """
    if not real_images.requires_grad:
        raise ValueError("r1_penalty needs real_images.requires_grad_(True) before the discriminator forward pass.")
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def requires_grad(model: Union[nn.Module, Iterable[nn.Module]], flag: bool = True) -> None:
    """Switch gradients of every parameter of `model` (or of several models) on or off.

    Freezing the network not being trained in an alternating D/G step saves its weight gradients and keeps them
    from accumulating into the next step.
    """
    models = [model] if isinstance(model, nn.Module) else list(model)
    for m in models:
        m.requires_grad_(flag)


def add_spectral_norm(module: nn.Module, types=(nn.Conv2d, nn.Linear, nn.ConvTranspose2d, nn.Embedding),
                      n_power_iterations: int = 1, eps: float = 1e-12) -> nn.Module:
    """Apply spectral normalisation (Miyato et al. 2018) to every layer of `types` inside `module`, in place.

    Uses the parametrization API, so the state dict holds ``parametrizations.weight.original`` plus the power
    iteration vectors and round-trips through safetensors. Layers already normalised are left alone.
    Returns `module`.
    """
    from torch.nn.utils.parametrizations import spectral_norm
    from torch.nn.utils.parametrize import is_parametrized

    for layer in list(module.modules()):
        if isinstance(layer, types) and not is_parametrized(layer, "weight"):
            spectral_norm(layer, n_power_iterations=n_power_iterations, eps=eps)
    return module

