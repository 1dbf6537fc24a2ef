"""FaceFeat-GAN encoders: E_1 (pose + expression 3DMM features) and E_2 (the "general" feature).

E_id, the identity encoder, is the face toolkit's `facezoo.face.identity_net.IdentityNet`.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import nn
from diffusers.configuration_utils import ConfigMixin, register_to_config

from facezoo.models.blocks.began import BeganEncoder
from facezoo.models.blocks.resnet import ResNetTrunk
from facezoo.models.modeling_utils import FaceModelMixin


class FaceFeatRegressor(FaceModelMixin, ConfigMixin):
    """E_1: a ResNet-18-style regressor of the pose + expression feature f_1.

    The raw feature is ``[expression coefficients (num_expression), yaw, pitch, roll (radians)]``; E_1 predicts it
    standardised with the per-entry training statistics `feature_mean` / `feature_std` (the paper normalises real
    features to zero mean, unit variance). `raw_to_feature` / `feature_to_raw` convert both ways, so a caller can ask
    for "yaw 30 degrees, smiling" and get the f_1 that G^I understands.

    Args:
        image_size (`int`, *optional*, defaults to 64).
        num_expression (`int`, *optional*, defaults to 10): expression coefficients in f_1.
        widths (`Tuple[int]`, *optional*, defaults to `(16, 32, 64, 128)`): ResNet stage widths.
        blocks (`Tuple[int]`, *optional*, defaults to `(2, 2, 2, 2)`): blocks per stage (ResNet-18 layout).
        stem_stride (`int`, *optional*, defaults to 2): stride of the stem (2 quarters the cost at 64 px; pose and
            expression are coarse cues).
        feature_mean (`Tuple[float]`, *optional*): training mean of the raw feature (zeros if not given).
        feature_std (`Tuple[float]`, *optional*): training std of the raw feature (ones if not given).
        feature_weights (`Tuple[float]`, *optional*): the diagonal of W_3d in Eq. 7 (ones if not given).
        expression_names (`Tuple[str]`, *optional*): names of the expression presets.
        expression_presets (`Tuple[Tuple[float]]`, *optional*): raw expression coefficients of each preset.
    """

    @register_to_config
    def __init__(
        self,
        image_size: int = 64,
        num_expression: int = 10,
        widths: Tuple[int, ...] = (16, 32, 64, 128),
        blocks: Tuple[int, ...] = (2, 2, 2, 2),
        stem_stride: int = 2,
        feature_mean: Optional[Tuple[float, ...]] = None,
        feature_std: Optional[Tuple[float, ...]] = None,
        feature_weights: Optional[Tuple[float, ...]] = None,
        expression_names: Optional[Tuple[str, ...]] = None,
        expression_presets: Optional[Tuple[Tuple[float, ...], ...]] = None,
    ):
        super().__init__()
        dim = num_expression + 3
        self.trunk = ResNetTrunk(3, widths, blocks, stem_stride=stem_stride, norm="batch")
        self.head = nn.Linear(self.trunk.out_channels, dim)
        mean = torch.tensor(feature_mean if feature_mean is not None else [0.0] * dim, dtype=torch.float32)
        std = torch.tensor(feature_std if feature_std is not None else [1.0] * dim, dtype=torch.float32)
        weights = torch.tensor(feature_weights if feature_weights is not None else [1.0] * dim, dtype=torch.float32)
        for name, value in (("feature_mean", mean), ("feature_std", std), ("feature_weights", weights)):
            if value.numel() != dim:
                raise ValueError(f"{name} has {value.numel()} entries, expected num_expression + 3 = {dim}")
        # Buffers follow .to(device); persistent=False because config.json already holds them.
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std.clamp_min(1e-6), persistent=False)
        self.register_buffer("weights", weights, persistent=False)

    @property
    def feature_dim(self) -> int:
        return self.config.num_expression + 3

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images `(B, 3, S, S)` in [-1, 1] → standardised f_1 `(B, num_expression + 3)`."""
        return self.head(self.trunk(images))

    def raw_to_feature(self, raw: torch.Tensor) -> torch.Tensor:
        return (raw - self.mean.to(raw)) / self.std.to(raw)

    def feature_to_raw(self, feature: torch.Tensor) -> torch.Tensor:
        return feature * self.std.to(feature) + self.mean.to(feature)

    def loss(self, images: torch.Tensor, raw_target: torch.Tensor) -> torch.Tensor:
        """Eq. 7 of E_1's own prediction on `images`, see `prediction_loss`."""
        return self.prediction_loss(self(images), raw_target)

    def prediction_loss(self, prediction: torch.Tensor, raw_target: torch.Tensor) -> torch.Tensor:
        """Eq. 7: ``(E_1(x) - f_gt)^T W_3d (E_1(x) - f_gt)`` on standardised features, averaged over the batch.
        Takes the prediction so a training script can produce it through its (possibly DDP-wrapped) module."""
        diff = prediction - self.raw_to_feature(raw_target)
        return (diff.pow(2) * self.weights.to(diff)).sum(1).mean()

    def expression_coefficients(self, expression) -> torch.Tensor:
        """A preset name (``"happiness"``) or a coefficient sequence → raw expression coefficients."""
        if isinstance(expression, str):
            names = list(self.config.expression_names or [])
            if expression not in names:
                raise ValueError(f"unknown expression {expression!r}; presets: {names}")
            return torch.tensor(self.config.expression_presets[names.index(expression)], dtype=torch.float32)
        coeffs = torch.as_tensor(expression, dtype=torch.float32).flatten()
        if coeffs.numel() != self.config.num_expression:
            raise ValueError(f"expression needs {self.config.num_expression} coefficients, got {coeffs.numel()}")
        return coeffs

    def make_feature(self, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, expression="neutral", degrees: bool = True) -> torch.Tensor:
        """The standardised f_1 `(1, dim)` for a requested pose and expression (preset name or coefficients)."""
        scale = math.pi / 180.0 if degrees else 1.0
        exp = self.expression_coefficients(expression)
        raw = torch.cat([exp, torch.tensor([yaw * scale, pitch * scale, roll * scale])])[None]
        return self.raw_to_feature(raw.to(self.mean.device))

    def dummy_inputs(self, batch_size: int = 1):
        return (torch.rand(batch_size, 3, self.config.image_size, self.config.image_size) * 2 - 1,)


class FaceFeatEncoder(FaceModelMixin, ConfigMixin):
    """E_2: BEGAN-style encoder of the "general" feature f_2 (lighting, background, everything not identity or 3DMM).

    Args:
        image_size (`int`, *optional*, defaults to 64).
        feature_dim (`int`, *optional*, defaults to 256).
        widths (`Tuple[int]`, *optional*, defaults to `(16, 32, 64, 128, 128)`): channels per scale, full resolution first.
        convs_per_stage (`int`, *optional*, defaults to 1).
    """

    @register_to_config
    def __init__(self, image_size: int = 64, feature_dim: int = 256, widths: Tuple[int, ...] = (16, 32, 64, 128, 128), convs_per_stage: int = 1):
        super().__init__()
        self.encoder = BeganEncoder(image_size, widths, feature_dim, convs_per_stage=convs_per_stage, activation="elu")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    def dummy_inputs(self, batch_size: int = 1):
        return (torch.rand(batch_size, 3, self.config.image_size, self.config.image_size) * 2 - 1,)
