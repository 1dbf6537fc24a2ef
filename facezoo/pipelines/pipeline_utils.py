"""`FacePipeline`: the `DiffusionPipeline` every facezoo method inherits.

It adds to diffusers' pipeline what a face model zoo needs and nothing method-specific:

- `from_pretrained` resolving named weights (``facefeat.faceworld_64``), local folders and Hub repo ids through the HF
  cache, refusing pickle checkpoints, and reading the model card;
- `save_pretrained` writing safetensors and a model card (README.md with ``library_name: facezoo`` metadata);
- `push_to_hub` through `huggingface_hub` (create the repo, upload the saved folder, card included);
- validated image inputs (`prepare_images`) and outputs (`postprocess`), reproducible noise (`rand_uniform`).
"""

from __future__ import annotations

import os
import tempfile
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch
from diffusers import DiffusionPipeline

from facezoo.utils import images as image_utils
from facezoo.utils.hub import read_model_card, resolve_pretrained, write_model_card

GeneratorArg = Optional[Union[torch.Generator, List[torch.Generator]]]


class FacePipeline(DiffusionPipeline):
    """Base class of every facezoo pipeline.

    Subclasses register their networks in ``__init__`` with `register_modules` (under names that do not clash with
    diffusers' own arguments: never ``generator``) and implement one ``@torch.no_grad() __call__``.

    Attributes:
        card_info (`dict`): model-card metadata read at `from_pretrained` (training command, data, metrics);
            written back by `save_pretrained`.
    """

    #: The square input size networks of this pipeline take, used by `prepare_images`.
    image_size: int = 64

    #: read-only default; `from_pretrained` sets a per-instance dict
    card_info: Mapping[str, Any] = MappingProxyType({})

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Union[str, os.PathLike], **kwargs: Any):
        """Load a pipeline from a named weight, a local folder or a Hub repo id.

        Args:
            pretrained_model_name_or_path: ``facezoo.list_models()`` name, folder with ``model_index.json``, or
                ``org/name`` Hub repo id.
            revision (`str`, *optional*): Hub branch, tag or commit.
            cache_dir (`str`, *optional*): HF cache folder (default: the standard HF cache).
            local_files_only (`bool`, *optional*): never touch the network (also implied by ``HF_HUB_OFFLINE=1``).
            torch_dtype (`torch.dtype`, *optional*): load the networks in this dtype.
            token (`str`, *optional*): Hub token for private repos.
        """
        folder = resolve_pretrained(
            pretrained_model_name_or_path,
            revision=kwargs.pop("revision", None),
            cache_dir=kwargs.pop("cache_dir", None),
            local_files_only=kwargs.pop("local_files_only", None),
            token=kwargs.pop("token", None),
        )
        if not os.path.isfile(os.path.join(folder, "model_index.json")):
            raise OSError(f"{folder!r} has no model_index.json: it is not a facezoo pipeline folder")
        if cls is FacePipeline or cls.__name__ == "AutoFacePipeline":
            from facezoo.pipelines.auto import pipeline_class_for

            target = pipeline_class_for(folder)
        else:
            target = cls
        kwargs.setdefault("use_safetensors", True)
        pipe = super(FacePipeline, target).from_pretrained(folder, **kwargs)
        pipe.card_info = read_model_card(folder)
        return pipe

    def save_pretrained(
        self,
        save_directory: Union[str, os.PathLike],
        card_info: Optional[Dict[str, Any]] = None,
        safe_serialization: bool = True,
        **kwargs: Any,
    ) -> None:
        """Save networks (safetensors), ``model_index.json`` and a model card.

        Args:
            save_directory: target folder (created if missing).
            card_info (`dict`, *optional*): model-card fields merged over `card_info` loaded with the pipeline, see
                `facezoo.utils.hub.write_model_card`.
        """
        if not safe_serialization:
            raise ValueError("facezoo saves weights as safetensors only; `safe_serialization=False` is not supported")
        kwargs.pop("push_to_hub", None)
        super().save_pretrained(save_directory, safe_serialization=True, **kwargs)
        info = {**self.card_info, **(card_info or {})}
        info.setdefault("pipeline", type(self).__name__)
        info.setdefault("tags", [type(self).__name__])
        write_model_card(save_directory, info)

    def push_to_hub(
        self,
        repo_id: str,
        commit_message: str = "Upload facezoo pipeline",
        private: Optional[bool] = None,
        token: Optional[str] = None,
        create_pr: bool = False,
        card_info: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ):
        """Save to a temporary folder and upload it to the Hub repo `repo_id` (created if missing)."""
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        with tempfile.TemporaryDirectory() as tmp:
            self.save_pretrained(tmp, card_info=card_info)
            return api.upload_folder(
                repo_id=repo_id, folder_path=tmp, commit_message=commit_message, create_pr=create_pr
            )

    def register_modules(self, **kwargs: Any) -> None:
        """Register networks; facezoo ones are recorded as ``["facezoo", "<Class>"]`` in ``model_index.json``.

        diffusers records a custom component under its full module path; naming the package instead keeps saved
        folders loadable when a module moves, and resolves through the classes `facezoo` exports at top level.
        """
        super().register_modules(**kwargs)
        renamed = {}
        for name, module in kwargs.items():
            library, class_name = self.config.get(name, (None, None)) if hasattr(self, "config") else (None, None)
            if isinstance(library, str) and library.startswith("facezoo."):
                renamed[name] = ("facezoo", class_name)
        if renamed:
            self.register_to_config(**renamed)

    def _first_parameter(self) -> Optional[torch.Tensor]:
        for name in self.config.keys():
            module = getattr(self, name, None) if not name.startswith("_") else None
            if isinstance(module, torch.nn.Module):
                param = next(module.parameters(), None)
                if param is not None:
                    return param
        return None

    @property
    def device(self) -> torch.device:
        """Device of the networks (of the first registered one, as in diffusers). diffusers' own property walks every
        parameter of every component, ~1 ms per access, which at batch 1 cost more than the networks' forward."""
        param = self._first_parameter()
        return param.device if param is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """dtype of the networks (of the first registered one, as in diffusers)."""
        param = self._first_parameter()
        return param.dtype if param is not None else torch.float32

    # ----------------------------------------------------------------------------------------------- inputs / outputs
    def prepare_images(self, images: Any, name: str = "image", size: Optional[int] = None) -> torch.Tensor:
        """Validate and convert `images` to a ``(B, 3, S, S)`` tensor in [-1, 1] on the pipeline's device and dtype."""
        x = image_utils.to_image_tensor(images, name=name, size=size or self.image_size)
        return image_utils.to_model_range(x).to(device=self.device, dtype=self.dtype)

    @staticmethod
    def postprocess(x: torch.Tensor, output_type: str = "pil"):
        """Network output in [-1, 1] → ``"pil"`` list, ``"np"`` (B, H, W, 3) or ``"pt"`` (B, 3, H, W), values in [0, 1]."""
        return image_utils.postprocess(x, output_type)

    def rand_uniform(
        self, shape: Sequence[int], generator: GeneratorArg = None, low: float = -1.0, high: float = 1.0
    ) -> torch.Tensor:
        """Uniform noise in [low, high) on the pipeline's device; a list of generators gives one per batch row."""
        if isinstance(generator, list):
            if len(generator) != shape[0]:
                raise ValueError(f"got {len(generator)} generators for a batch of {shape[0]}")
            rows = [torch.rand((1, *shape[1:]), generator=g, device=g.device) for g in generator]
            u = torch.cat(rows, 0)
        else:
            dev = generator.device if generator is not None else torch.device("cpu")
            u = torch.rand(tuple(shape), generator=generator, device=dev)
        return (u * (high - low) + low).to(device=self.device, dtype=self.dtype)

    def run_images(self, images: List[Any], generator: GeneratorArg = None) -> List[Any]:
        """What ``facezoo run`` does with a batch of input images (PIL); returns PIL images. Override per method."""
        raise NotImplementedError(f"{type(self).__name__} does not support `facezoo run`")
