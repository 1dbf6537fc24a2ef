"""Identity losses: the ArcFace additive angular margin head for training recognisers, and the feature
distances that methods use to keep a generated face's identity.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ArcFaceHead(nn.Module):
    """Additive angular margin classifier of ArcFace (Deng et al., 2019): ``s * cos(theta_y + m)`` for the true
    class, ``s * cos(theta_j)`` for the others, where ``theta`` is the angle between the embedding and each class
    centre.

    Args:
        embedding_dim (`int`): size of the embeddings.
        num_classes (`int`): number of training identities.
        scale (`float`, *optional*, defaults to 64.0): the logit scale ``s``.
        margin (`float`, *optional*, defaults to 0.5): the angular margin ``m`` in radians.
    """

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0, margin: float = 0.5):
        super().__init__()
        if not 0 <= margin < math.pi / 2:
            raise ValueError(f"margin must be in [0, pi/2), got {margin}")
        self.weight = nn.Parameter(torch.randn(num_classes, embedding_dim) * 0.01)
        self.scale = float(scale)
        self.margin = float(margin)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Margin logits ``(B, num_classes)`` for embeddings ``(B, D)`` and integer labels ``(B,)``."""
        cosine = F.linear(F.normalize(embeddings, dim=-1), F.normalize(self.weight, dim=-1)).clamp(-1.0, 1.0)
        target = cosine.gather(1, labels[:, None])
        theta = torch.acos(target.clamp(-1.0 + 1e-6, 1.0 - 1e-6))
        with_margin = torch.cos(theta + self.margin)
        # Past theta = pi - m, cos(theta + m) would increase again; ArcFace falls back to a CosFace-style penalty there.
        fallback = target - math.sin(math.pi - self.margin) * self.margin
        with_margin = torch.where(theta + self.margin < math.pi, with_margin, fallback)
        logits = cosine.scatter(1, labels[:, None], with_margin)
        return logits * self.scale


def arcface_loss(head: ArcFaceHead, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over `head`'s margin logits."""
    return F.cross_entropy(head(embeddings, labels), labels)


def identity_loss(f_ref: torch.Tensor, f_gen: torch.Tensor) -> torch.Tensor:
    """Squared L2 distance between identity features, summed over features and averaged over the batch."""
    if f_ref.shape != f_gen.shape:
        raise ValueError(f"identity features must have equal shapes, got {tuple(f_ref.shape)} and {tuple(f_gen.shape)}")
    return (f_ref - f_gen).pow(2).flatten(1).sum(1).mean()


def identity_cosine_loss(f_ref: torch.Tensor, f_gen: torch.Tensor) -> torch.Tensor:
    """``1 - cos(f_ref, f_gen)`` averaged over the batch (0 for the same direction, 2 for opposite)."""
    if f_ref.shape != f_gen.shape:
        raise ValueError(f"identity features must have equal shapes, got {tuple(f_ref.shape)} and {tuple(f_gen.shape)}")
    return (1.0 - F.cosine_similarity(f_ref.flatten(1), f_gen.flatten(1), dim=1)).mean()
