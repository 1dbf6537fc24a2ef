"""facezoo: identity-preserving face synthesis and editing models as Hugging Face pipelines.

Importing facezoo registers every network and pipeline class, so ``model_index.json`` files naming
``["facezoo", "<Class>"]`` load through diffusers and `AutoFacePipeline`.
"""

__version__ = "0.1.0"

# diffusers' pipeline loader recognises a component of library "facezoo" by finding `facezoo.ModelMixin` and checking
# issubclass; re-exporting it is what makes ["facezoo", "<Class>"] entries of model_index.json loadable.
from diffusers import ModelMixin

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
    "ModelMixin",
    "list_models",
    "list_pipelines",
]
