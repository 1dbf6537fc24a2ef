"""FaceFeatPipeline: identity-preserving face synthesis with FaceFeat-GAN (Shen et al.).

An identity (a face image or an identity embedding) plus pose/expression features f_1 and "general" features f_2
(lighting, background, ...) go into the image generator G^I. Features not given are sampled from the feature
generators G_1^f / G_2^f, so every call with a new seed shows the same person under a new pose, expression and light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Literal, Optional, Union

import numpy as np
import PIL.Image
import torch

from diffusers.utils import BaseOutput

from facezoo.models.facefeat import FaceFeatEncoder, FaceFeatImageGenerator, FaceFeatRegressor, FeatureGenerator
from facezoo.pipelines.pipeline_utils import FacePipeline, GeneratorArg
from facezoo.utils.images import check_output_type, from_model_range

EXAMPLE_DOC_STRING = """
    Example:
        ```py
        >>> import facezoo
        >>> pipe = facezoo.FaceFeatPipeline.from_pretrained("facefeat.faceworld_64")
        >>> face = facezoo.FaceWorld(split="test", size=64)[0]["image"]
        >>> out = pipe(identity_image=face, num_images_per_identity=4, generator=torch.Generator().manual_seed(0))
        >>> out.images[0].save("same_person_new_pose.png")
        ```
"""

FeatureName = Literal["identity", "pose_expression", "general"]


@dataclass
class FaceFeatPipelineOutput(BaseOutput):
    """Output of `FaceFeatPipeline`.

    Args:
        images: `List[PIL.Image.Image]`, `np.ndarray` `(N, H, W, 3)` or `torch.Tensor` `(N, 3, H, W)`, values in [0, 1].
            With B identities and K images per identity, the K images of identity b are rows ``b*K .. b*K+K-1``.
        identity_features (`torch.Tensor` `(N, identity_dim)`): f_id used for each image.
        pose_expression_features (`torch.Tensor` `(N, pose_expression_dim)`): standardised f_1 used.
        general_features (`torch.Tensor` `(N, general_dim)`): f_2 used.
    """

    images: Union[List[PIL.Image.Image], np.ndarray, torch.Tensor]
    identity_features: torch.Tensor
    pose_expression_features: torch.Tensor
    general_features: torch.Tensor


@dataclass
class FaceFeatEncoding(BaseOutput):
    """The three features of a face: identity (f_id), pose + expression (f_1, standardised) and general (f_2)."""

    identity: torch.Tensor
    pose_expression: torch.Tensor
    general: torch.Tensor


class FaceFeatPipeline(FacePipeline):
    """FaceFeat-GAN: identity embedding + sampled or given pose/expression and general features → faces.

    Components:
        identity_encoder (`IdentityNet`): E_id, the face toolkit's recogniser; f_id is its embedding.
        pose_expression_encoder (`FaceFeatRegressor`): E_1, regresses the standardised pose + expression feature f_1.
        general_encoder (`FaceFeatEncoder`): E_2, encodes the general feature f_2.
        pose_expression_generator (`FeatureGenerator`): G_1^f, noise → f_1.
        general_generator (`FeatureGenerator`): G_2^f, noise → f_2.
        image_generator (`FaceFeatImageGenerator`): G^I, (f_id, f_1, f_2) → image.

    Input faces are expected aligned and roughly centred like FaceWorld crops; real photos go through
    `facezoo.face` detection and alignment first (the demo hub and `facezoo run` do this).
    """

    model_cpu_offload_seq = "identity_encoder->pose_expression_encoder->general_encoder->image_generator"

    def __init__(
        self,
        identity_encoder,
        pose_expression_encoder: FaceFeatRegressor,
        general_encoder: FaceFeatEncoder,
        pose_expression_generator: FeatureGenerator,
        general_generator: FeatureGenerator,
        image_generator: FaceFeatImageGenerator,
    ):
        super().__init__()
        self.register_modules(
            identity_encoder=identity_encoder,
            pose_expression_encoder=pose_expression_encoder,
            general_encoder=general_encoder,
            pose_expression_generator=pose_expression_generator,
            general_generator=general_generator,
            image_generator=image_generator,
        )

    @property
    def image_size(self) -> int:  # type: ignore[override]
        return int(self.image_generator.config.image_size)

    # ------------------------------------------------------------------------------------------------------ features
    def _identity_features(self, x: torch.Tensor) -> torch.Tensor:
        """f_id: E_id's raw embedding of faces given in [-1, 1] (E_id takes [0, 1]); its norm is fixed in G^I."""
        return self.identity_encoder(from_model_range(x)).embedding

    @torch.no_grad()
    def encode(self, image: Any) -> FaceFeatEncoding:
        """Encode aligned face image(s) into (f_id, f_1, f_2)."""
        x = self.prepare_images(image, name="image")
        return FaceFeatEncoding(
            identity=self._identity_features(x),
            pose_expression=self.pose_expression_encoder(x),
            general=self.general_encoder(x),
        )

    def sample_features(self, batch_size: int, generator: GeneratorArg = None):
        """Sample (f_1, f_2) from the feature generators with z ~ U[-1, 1]; returns two tensors `(batch_size, dim)`."""
        z1 = self.rand_uniform((batch_size, self.pose_expression_generator.config.noise_dim), generator)
        z2 = self.rand_uniform((batch_size, self.general_generator.config.noise_dim), generator)
        return self.pose_expression_generator(z1), self.general_generator(z2)

    def pose_expression_feature(self, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, expression="neutral") -> torch.Tensor:
        """f_1 `(1, dim)` for a pose in degrees and an expression preset name (see `expression_names`) or coefficients."""
        return self.pose_expression_encoder.make_feature(yaw, pitch, roll, expression).to(self.device, self.dtype)

    @property
    def expression_names(self) -> List[str]:
        return list(self.pose_expression_encoder.config.expression_names or [])

    def _as_rows(self, value: Optional[Any], n: int, name: str, dim: int) -> Optional[torch.Tensor]:
        if value is None:
            return None
        t = torch.as_tensor(value).to(self.device, self.dtype)
        if t.ndim == 1:
            t = t[None]
        if t.ndim != 2 or t.shape[1] != dim:
            raise ValueError(f"`{name}` must have shape (dim,) or (N, dim) with dim={dim}, got {tuple(t.shape)}")
        if t.shape[0] == 1:
            t = t.expand(n, dim)
        if t.shape[0] != n:
            raise ValueError(f"`{name}` has {t.shape[0]} rows for {n} images")
        return t

    # -------------------------------------------------------------------------------------------------------- __call__
    @torch.no_grad()
    def __call__(
        self,
        identity_image: Optional[Any] = None,
        identity_embedding: Optional[torch.Tensor] = None,
        num_images_per_identity: int = 1,
        generator: GeneratorArg = None,
        pose_expression_features: Optional[torch.Tensor] = None,
        general_features: Optional[torch.Tensor] = None,
        output_type: str = "pil",
        return_dict: bool = True,
    ):
        r"""Generate faces of the given identities.

        Args:
            identity_image: aligned face image(s) (PIL, numpy, torch, path, or a list/batch of these).
            identity_embedding (`torch.Tensor` `(B, identity_dim)` or `(identity_dim,)`): f_id directly, instead of an image.
            num_images_per_identity (`int`, *optional*, defaults to 1): K images per identity.
            generator (`torch.Generator` or list, *optional*): makes the sampled features reproducible.
            pose_expression_features (`torch.Tensor` `(dim,)` or `(B*K, dim)`, *optional*): f_1 to use instead of sampling
                (see `pose_expression_feature` to build one from yaw/pitch/expression).
            general_features (`torch.Tensor` `(dim,)` or `(B*K, dim)`, *optional*): f_2 to use instead of sampling.
            output_type (`str`, *optional*, defaults to `"pil"`): `"pil"`, `"np"` or `"pt"`.
            return_dict (`bool`, *optional*, defaults to True): return a `FaceFeatPipelineOutput` or a tuple.
        """
        check_output_type(output_type)
        if (identity_image is None) == (identity_embedding is None):
            raise ValueError("give exactly one of `identity_image` or `identity_embedding`")
        if not isinstance(num_images_per_identity, int) or num_images_per_identity < 1:
            raise ValueError(f"`num_images_per_identity` must be a positive int, got {num_images_per_identity!r}")
        id_dim = self.image_generator.config.identity_dim
        if identity_embedding is not None:
            f_id = torch.as_tensor(identity_embedding).to(self.device, self.dtype)
            f_id = f_id[None] if f_id.ndim == 1 else f_id
            if f_id.ndim != 2 or f_id.shape[1] != id_dim:
                raise ValueError(f"`identity_embedding` must have shape ({id_dim},) or (B, {id_dim}), got {tuple(f_id.shape)}")
        else:
            f_id = self._identity_features(self.prepare_images(identity_image, name="identity_image"))
        f_id = f_id.repeat_interleave(num_images_per_identity, dim=0)
        n = f_id.shape[0]
        f1 = self._as_rows(pose_expression_features, n, "pose_expression_features", self.image_generator.config.pose_expression_dim)
        f2 = self._as_rows(general_features, n, "general_features", self.image_generator.config.general_dim)
        if f1 is None or f2 is None:
            s1, s2 = self.sample_features(n, generator)
            f1 = s1 if f1 is None else f1
            f2 = s2 if f2 is None else f2
        images = self.image_generator(f_id, f1, f2).images
        out = self.postprocess(images, output_type)
        if not return_dict:
            return (out, f_id, f1, f2)
        return FaceFeatPipelineOutput(images=out, identity_features=f_id, pose_expression_features=f1, general_features=f2)

    # ------------------------------------------------------------------------------------------------- other presets
    @torch.no_grad()
    def reconstruct(self, image: Any, output_type: str = "pil"):
        """x^rec = G^I(E_id(x), E_1(x), E_2(x)): the face re-synthesised from its own three features."""
        enc = self.encode(image)
        return self.postprocess(self.image_generator(enc.identity, enc.pose_expression, enc.general).images, output_type)

    @torch.no_grad()
    def frontalize(self, image: Any, expression="neutral", output_type: str = "pil"):
        """The same face at the canonical pose (yaw = pitch = roll = 0) with a neutral (or given) expression,
        keeping its own general feature (light, background)."""
        enc = self.encode(image)
        f1 = self.pose_expression_feature(0.0, 0.0, 0.0, expression).expand_as(enc.pose_expression)
        return self.postprocess(self.image_generator(enc.identity, f1, enc.general).images, output_type)

    @torch.no_grad()
    def interpolate(
        self,
        a: Any,
        b: Any,
        steps: int = 8,
        feature: FeatureName = "identity",
        generator: GeneratorArg = None,
        output_type: str = "pil",
    ):
        """Interpolate one feature between two faces while the other two stay fixed (the paper's Fig. 4).

        Args:
            a, b: aligned face images (one each).
            steps (`int`, *optional*, defaults to 8): number of frames, endpoints included.
            feature (`str`, *optional*, defaults to `"identity"`): `"identity"` (spherical, f_id is a direction),
                `"pose_expression"` or `"general"` (linear).
            generator: seeds the fixed features when `feature` is `"identity"` (sampled f_1, f_2 shared by all frames).

        Returns the frames in `output_type`. With ``feature="identity"`` the other features are sampled once; otherwise
        identity (and the other feature) come from `a`.
        """
        if steps < 2:
            raise ValueError(f"`steps` must be >= 2, got {steps}")
        if feature not in ("identity", "pose_expression", "general"):
            raise ValueError(f"`feature` must be 'identity', 'pose_expression' or 'general', got {feature!r}")
        ea, eb = self.encode(a), self.encode(b)
        if ea.identity.shape[0] != 1 or eb.identity.shape[0] != 1:
            raise ValueError("interpolate takes one image for `a` and one for `b`")
        t = torch.linspace(0.0, 1.0, steps, device=self.device, dtype=self.dtype)[:, None]
        f_id, f1, f2 = ea.identity.expand(steps, -1), ea.pose_expression.expand(steps, -1), ea.general.expand(steps, -1)
        if feature == "identity":
            f_id = slerp(ea.identity, eb.identity, t)
            s1, s2 = self.sample_features(1, generator)
            f1, f2 = s1.expand(steps, -1), s2.expand(steps, -1)
        elif feature == "pose_expression":
            f1 = torch.lerp(ea.pose_expression, eb.pose_expression, t)
        else:
            f2 = torch.lerp(ea.general, eb.general, t)
        return self.postprocess(self.image_generator(f_id, f1, f2).images, output_type)

    def run_images(self, images: List[Any], generator: GeneratorArg = None) -> List[Any]:
        """``facezoo run``: one new pose/expression/light sample per input identity."""
        return self(identity_image=images, generator=generator).images


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between the directions of `a` and `b` `(1, D)` at fractions `t` `(T, 1)`."""
    an, bn = torch.nn.functional.normalize(a, dim=-1), torch.nn.functional.normalize(b, dim=-1)
    omega = torch.arccos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    if float(so.abs().min()) < 1e-6:
        return torch.lerp(an, bn, t)
    return (torch.sin((1 - t) * omega) / so) * an + (torch.sin(t * omega) / so) * bn


FaceFeatPipeline.__call__.__doc__ += EXAMPLE_DOC_STRING
