"""facezoo: identity-preserving face synthesis and editing models as Hugging Face pipelines.

Importing facezoo registers every network and pipeline class, so ``model_index.json`` files naming
``["facezoo", "<Class>"]`` load through diffusers and `AutoFacePipeline`.
"""

__version__ = "0.1.0"

from facezoo.checkpoints import list_models
from facezoo.face.identity_net import IdentityNet
from facezoo.models.facefeat import (
    FaceFeatEncoder,
    FaceFeatImageDiscriminator,
    FaceFeatImageGenerator,
    FaceFeatRegressor,
    FeatureDiscriminator,
    FeatureGenerator,
)
from facezoo.pipelines import (
    AutoFacePipeline,
    FaceFeatEncoding,
    FaceFeatPipeline,
    FaceFeatPipelineOutput,
    FacePipeline,
    list_pipelines,
)

__all__ = [
    "AutoFacePipeline",
    "FaceFeatEncoder",
    "FaceFeatEncoding",
    "FaceFeatImageDiscriminator",
    "FaceFeatImageGenerator",
    "FaceFeatPipeline",
    "FaceFeatPipelineOutput",
    "FaceFeatRegressor",
    "FacePipeline",
    "FeatureDiscriminator",
    "FeatureGenerator",
    "IdentityNet",
    "list_models",
    "list_pipelines",
]
