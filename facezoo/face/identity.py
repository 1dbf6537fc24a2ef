"""One interface over the face recognisers facezoo can use: `IdentityEncoder`.

Backends:

* `IdentityNetEncoder` — our `IdentityNet` (shipped, trained on FaceWorld); differentiable, used inside losses.
* `InsightFaceEncoder` — an ArcFace ONNX model loaded by insightface's own ``model_zoo.get_model`` (from the standard
  ``~/.insightface/models/<pack>`` folder or a given ``.onnx`` file); insightface wheels ship no weights, so users
  bring their own (e.g. ``buffalo_l``'s ``w600k_r50.onnx``, non-commercial research licence).
* `DlibEncoder` — dlib's 128-d ResNet descriptor from `face-recognition-models` (CC0).

Every backend takes *aligned* crops ``(B, 3, H, W)`` in ``[0, 1]`` and returns L2-normalised ``(B, dim)``
embeddings; `encode_photo` on the non-differentiable backends detects and aligns a whole photo first.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
import torch.nn.functional as F

from facezoo.face.alignment import align_face
from facezoo.face.detection import DlibFaceDetector, _as_uint8_rgb, _load_dlib
from facezoo.face.identity_net import IdentityNet


def _check_images(images: torch.Tensor) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"expected aligned face crops as a tensor (B, 3, H, W) in [0, 1], got {got}")
    return images


def _to_uint8_hwc(images: torch.Tensor, size: int) -> list:
    """Resize a batch to ``size`` and turn it into a list of ``uint8`` RGB arrays (what ONNX/dlib backends eat)."""
    images = images.detach().float().cpu()
    if images.shape[-2:] != (size, size):
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    arr = (images.clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255.0 + 0.5).astype(np.uint8)
    return [np.ascontiguousarray(a) for a in arr]


class IdentityEncoder(ABC):
    """Maps aligned face crops to L2-normalised identity embeddings.

    Attributes:
        dim (`int`): embedding size.
        input_size (`int`): the crop side the backend works at (inputs of other sizes are resized).
        align_margin (`float`): the `face_template` margin of the crops it expects (0 is ArcFace's tight crop).
    """

    dim: int
    input_size: int
    align_margin: float = 0.0

    @abstractmethod
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` aligned crops in ``[0, 1]`` → ``(B, dim)`` unit-norm embeddings."""

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return self.encode(images)

    @staticmethod
    def similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of matching rows of two embedding batches."""
        return (F.normalize(a, dim=-1) * F.normalize(b, dim=-1)).sum(-1)

    def encode_photo(self, image, detector: Optional[DlibFaceDetector] = None) -> torch.Tensor:
        """Detect the largest face of a photo, align it to this backend's crop and embed it: ``(1, dim)``.

        Raises `facezoo.face.detection.NoFaceFoundError` when the photo has no face.
        """
        rgb = _as_uint8_rgb(image)
        face = (detector or DlibFaceDetector()).detect_largest(rgb)
        crop = align_face(rgb, face.keypoints, size=self.input_size, margin=self.align_margin).crop
        return self.encode(torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255.0)


class IdentityNetEncoder(IdentityEncoder):
    """`IdentityNet` behind the `IdentityEncoder` interface; gradients flow, so methods use it in losses.

    Args:
        model (`IdentityNet` or `str`): a network, or a named weight / folder / Hub id for `IdentityNet.from_pretrained`
            (e.g. ``"identitynet.faceworld_64"``). Loaded networks are put in eval mode with frozen parameters.
        align_margin (`float`, *optional*, defaults to 0.0): the crop margin used when embedding photos.
    """

    def __init__(self, model: Union[IdentityNet, str, os.PathLike] = "identitynet.faceworld_64", align_margin: float = 0.0):
        if not isinstance(model, IdentityNet):
            model = IdentityNet.from_pretrained(model)
            model.eval().requires_grad_(False)
        self.model = model
        self.dim = model.config.embedding_dim
        self.input_size = model.config.sample_size
        self.align_margin = align_margin

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(_check_images(images)).normalized


class DlibEncoder(IdentityEncoder):
    """dlib's 128-d ResNet face descriptor (``dlib_face_recognition_resnet_model_v1``, CC0).

    dlib expects 150x150 "face chips" with about 25 % padding around the face; `align_margin` 0.35 on facezoo's
    template gives the same framing. Not differentiable.

    Args:
        num_jitters (`int`, *optional*, defaults to 0): dlib's test-time augmentation (random jitters averaged).
    """

    dim = 128
    input_size = 150
    align_margin = 0.35

    def __init__(self, num_jitters: int = 0):
        self._model = _load_dlib("descriptor", "descriptor")
        self.num_jitters = int(num_jitters)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        chips = _to_uint8_hwc(_check_images(images), self.input_size)
        desc = self._model.compute_face_descriptor(chips, self.num_jitters)
        out = torch.tensor(np.array([np.asarray(d) for d in desc]), dtype=torch.float32)
        return F.normalize(out, dim=-1)


def insightface_model_dir(pack: str, root: Union[str, os.PathLike] = "~/.insightface") -> Path:
    """The standard insightface folder of a model pack: ``<root>/models/<pack>``."""
    return Path(os.path.expanduser(os.fspath(root))) / "models" / pack


class InsightFaceEncoder(IdentityEncoder):
    """An ArcFace ONNX recogniser loaded through insightface's own ``insightface.model_zoo.get_model``.

    insightface routes an ONNX file by its input shape (square, >= 112, multiple of 16 → `ArcFaceONNX`) and picks its
    pixel normalisation by inspecting the graph, so any ArcFace export in insightface's format works. Inputs are
    converted to the BGR ``uint8`` images insightface's ``get_feat`` expects, so its preprocessing runs unchanged.

    Args:
        model (`str` or `os.PathLike`, *optional*, defaults to `"buffalo_l"`): an ``.onnx`` file, or the name of a pack
            folder under ``<root>/models`` (the recognition model among its ``.onnx`` files is used).
        root (`str`, *optional*, defaults to `"~/.insightface"`): insightface's model root.
        providers (`list`, *optional*): onnxruntime execution providers (default CPU).
    """

    align_margin = 0.0

    def __init__(self, model: Union[str, os.PathLike] = "buffalo_l", root: Union[str, os.PathLike] = "~/.insightface",
                 providers: Optional[list] = None):
        try:
            from insightface.model_zoo import get_model
        except ImportError as err:
            raise ImportError("the insightface backend needs `pip install 'facezoo[insightface]'`") from err
        providers = providers or ["CPUExecutionProvider"]
        path = Path(os.path.expanduser(os.fspath(model)))
        if path.suffix == ".onnx":
            if not path.is_file():
                raise FileNotFoundError(f"no ONNX model at {path}")
            candidates = [path]
        else:
            folder = path if path.is_dir() else insightface_model_dir(os.fspath(model), root)
            candidates = sorted(folder.glob("*.onnx")) if folder.is_dir() else []
            if not candidates:
                raise FileNotFoundError(
                    f"no insightface model pack at {folder}: insightface wheels ship no weights; put the pack's .onnx "
                    "files there (e.g. unzip buffalo_l.zip) or pass the path of an ArcFace .onnx file"
                )
        self.model = None
        for candidate in candidates:
            loaded = get_model(str(candidate), providers=providers)
            if loaded is not None and getattr(loaded, "taskname", None) == "recognition":
                self.model = loaded
                break
        if self.model is None:
            raise ValueError(f"none of {[c.name for c in candidates]} is an ArcFace recognition model for insightface")
        self.model.prepare(ctx_id=-1)
        self.model_file = self.model.model_file
        self.input_size = int(self.model.input_size[0])
        self.dim = int(self.model.output_shape[-1])

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        rgb = _to_uint8_hwc(_check_images(images), self.input_size)
        bgr = [np.ascontiguousarray(a[:, :, ::-1]) for a in rgb]  # insightface takes cv2 (BGR) images
        feats = torch.from_numpy(np.asarray(self.model.get_feat(bgr), dtype=np.float32)).reshape(len(bgr), -1)
        return F.normalize(feats, dim=-1)
