"""FaceFeat-GAN networks (Shen et al., "FaceFeat-GAN: a Two-Stage Approach for Identity-Preserving Face Synthesis")."""

from facezoo.models.facefeat.discriminator import FaceFeatImageDiscriminator, FeatureDiscriminator
from facezoo.models.facefeat.encoders import FaceFeatEncoder, FaceFeatRegressor
from facezoo.models.facefeat.generator import FaceFeatImageGenerator, FeatureGenerator

__all__ = [
    "FaceFeatEncoder",
    "FaceFeatImageDiscriminator",
    "FaceFeatImageGenerator",
    "FaceFeatRegressor",
    "FeatureDiscriminator",
    "FeatureGenerator",
]
