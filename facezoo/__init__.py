"""facezoo: identity-preserving face synthesis and editing models as Hugging Face pipelines."""

__version__ = "0.1.0"

from facezoo.checkpoints import list_models
