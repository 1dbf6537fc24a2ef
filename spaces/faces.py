"""The real-photo path every tab shares: read an upload → find and align the face → run a model → paste back.

Models are trained on FaceWorld crops, so a photo is aligned to FaceWorld's framing: the margin for which
`facezoo.face.alignment.face_template` puts the five keypoints where FaceWorld's frontal faces have them. The hub
measures it at start-up (`spaces.world.FaceWorldBrowser.alignment_margin`); `FACEWORLD_MARGIN` is the value measured
when this was written, the default when no FaceWorld is at hand.

Inputs that are already aligned crops (FaceWorld samples, outputs of the hub) skip detection: in ``"auto"`` mode a
small square image is taken as a crop, anything else as a photo. The hub's outputs are shown enlarged; they are
shrunk back to the model's crop first (`spaces.display.shrink_enlarged`).
"""

from __future__ import annotations

import base64
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import cv2
import numpy as np
import PIL.Image

from facezoo.face.alignment import FACEWORLD_MARGIN, AlignedFace, align_face, face_template
from facezoo.face.paste import paste_back
from facezoo.utils.images import load_image, to_image_tensor
from spaces.display import shrink_enlarged

#: In ``"auto"`` mode, square images up to this side are taken as aligned crops.
ALIGNED_MAX_SIDE = 128
#: Photos are searched for faces at most this large (longest side): dlib's time grows with the pixel count, and a
#: face the model sees at 64 px is found just as well at this resolution.
DETECT_MAX_SIDE = 800
#: Photos are aligned to crops this large, then resized with antialiasing to the model size (a direct warp to 64 px
#: would alias), and pasted back from this size.
ALIGN_SIZE = 256

INPUT_MODES = ("auto", "aligned crop", "photo")


class NoImageError(ValueError):
    """An image input was left empty."""


def read_image(value: Any, name: str = "image") -> np.ndarray:
    """An image input of any form the hub receives → RGB ``uint8`` array ``(H, W, 3)``.

    Accepts gradio's file payloads (an object or dict with ``path`` or a ``data:`` URL, as events with
    ``preprocess=False`` receive them), file paths, PIL images and arrays. Raises `NoImageError` when empty and a
    `ValueError` with a readable message for a file that is not an image, a corrupt file or one that is too large.
    """
    missing = NoImageError(f"No {name} given: upload a face photo, take a webcam shot or pick an example.")
    if value is None:
        raise missing
    if isinstance(value, (str, Path)):
        return np.asarray(load_image(value, name=name))
    if isinstance(value, dict) or hasattr(value, "path"):  # a gradio file payload
        get = value.get if isinstance(value, dict) else lambda key: getattr(value, key, None)
        path, url = get("path"), get("url")
        if path:
            try:
                return np.asarray(load_image(path, name=name))
            except ValueError as err:  # name the user's file, not the server's upload folder
                raise ValueError(str(err).replace(repr(str(path)), repr(get("orig_name") or Path(path).name))) from err
        if isinstance(url, str) and url.startswith("data:"):
            return _read_data_url(url, name)
        raise missing
    tensor = to_image_tensor(value, name=name)
    if tensor.shape[0] != 1:
        raise ValueError(f"`{name}`: expected one image, got {tensor.shape[0]}")
    return (tensor[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)


def _read_data_url(url: str, name: str) -> np.ndarray:
    try:
        data = base64.b64decode(url.split(",", 1)[1], validate=False)
    except (IndexError, ValueError) as err:
        raise ValueError(f"`{name}`: the uploaded data is not a valid base64 image ({err})") from err
    # load_image holds every check (pixel limit, corrupt files), so the bytes go through a file like any upload.
    with tempfile.NamedTemporaryFile(suffix=".img") as tmp:
        tmp.write(data)
        tmp.flush()
        return np.asarray(load_image(tmp.name, name=name))


def is_aligned_crop(rgb: np.ndarray, mode: str = "auto") -> bool:
    """Whether `rgb` is used as an aligned face crop (``mode`` ``"aligned crop"``) or searched as a photo
    (``"photo"``); ``"auto"`` takes small square images (side <= `ALIGNED_MAX_SIDE`) as crops."""
    if mode not in INPUT_MODES:
        raise ValueError(f"input type must be one of {INPUT_MODES}, got {mode!r}")
    if mode == "auto":
        h, w = rgb.shape[:2]
        return h == w and h <= ALIGNED_MAX_SIDE
    return mode == "aligned crop"


@dataclass
class FaceInput:
    """A face ready for a model, with what is needed to paste a result back into its photo.

    Attributes:
        crop (`np.ndarray` `(S, S, 3)` uint8): the aligned face (pipelines resize it to their own size).
        photo (`np.ndarray`, *optional*): the full photo the face was found in; None for aligned-crop inputs.
        aligned (`AlignedFace`, *optional*): the alignment of `crop` in `photo`.
        box (`np.ndarray`, *optional*): the detected face box ``x0, y0, x1, y1`` in photo pixels.
    """

    crop: np.ndarray
    photo: Optional[np.ndarray] = None
    aligned: Optional[AlignedFace] = None
    box: Optional[np.ndarray] = None

    @property
    def from_photo(self) -> bool:
        return self.photo is not None

    def describe(self) -> str:
        if not self.from_photo:
            return f"used as an aligned face crop ({self.crop.shape[1]}x{self.crop.shape[0]})"
        x0, y0, x1, y1 = (int(v) for v in self.box)
        return (f"face found at ({x0}, {y0})-({x1}, {y1}) in the {self.photo.shape[1]}x{self.photo.shape[0]} photo "
                "and aligned to FaceWorld's framing")


def face_ellipse_mask(size: int, margin: float = FACEWORLD_MARGIN) -> np.ndarray:
    """A soft ellipse ``(size, size)`` in [0, 1] over the face (brows to chin) of an aligned crop.

    A generated crop brings its own synthetic background and hair; pasting only the face region keeps the photo's.
    The ellipse is placed from the keypoint template: centred between the eyes and the mouth, as wide as 2.1 eye
    distances and as tall as 2.9, with a blurred edge so the seam does not show.
    """
    t = face_template(size, margin)
    eye_dist = float(np.linalg.norm(t[1] - t[0]))
    centre = t.mean(0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r = ((xx - centre[0]) / (1.05 * eye_dist)) ** 2 + ((yy - centre[1]) / (1.45 * eye_dist)) ** 2
    hard = (r <= 1.0).astype(np.float32)
    sigma = max(1.0, 0.15 * eye_dist)
    return cv2.GaussianBlur(hard, (0, 0), sigma)


def _dlib_detector():
    from facezoo.face.detection import DlibFaceDetector

    return DlibFaceDetector()


class FaceAligner:
    """Detect the largest face of a photo, align it to FaceWorld's framing, paste results back (thread-safe).

    Args:
        margin (`float`, *optional*, defaults to `FACEWORLD_MARGIN`): alignment margin, see `face_template`.
        detector_factory (`Callable`, *optional*): builds the detector (an object with ``detect_largest(rgb, name)``)
            on first use; defaults to dlib's HOG detector with 68 landmarks.
    """

    def __init__(self, margin: float = FACEWORLD_MARGIN, detector_factory: Callable[[], Any] = _dlib_detector):
        self.margin = margin
        self._factory = detector_factory
        self._detector = None
        # dlib's detector objects are not documented as thread-safe; detection is ~0.1-0.4 s, so one at a time.
        self._lock = threading.Lock()

    def _detect(self, rgb: np.ndarray, name: str):
        scale = min(1.0, DETECT_MAX_SIDE / max(rgb.shape[:2]))
        small = rgb if scale == 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        with self._lock:
            if self._detector is None:
                self._detector = self._factory()
            face = self._detector.detect_largest(np.ascontiguousarray(small), name=name)
        return face.keypoints / scale, face.box / scale

    def prepare(self, rgb: np.ndarray, mode: str = "auto", name: str = "image") -> FaceInput:
        """`rgb` → `FaceInput`; raises `facezoo.face.detection.NoFaceFoundError` when a photo shows no face.

        A face the hub showed (enlarged for the screen, `spaces.display`) is first shrunk back to the model's crop."""
        if mode != "photo":
            rgb = shrink_enlarged(rgb)
        if is_aligned_crop(rgb, mode):
            return FaceInput(crop=rgb)
        keypoints, box = self._detect(rgb, name)
        aligned = align_face(rgb, keypoints, size=ALIGN_SIZE, margin=self.margin)
        return FaceInput(crop=aligned.crop, photo=rgb, aligned=aligned, box=box)

    def paste(self, face: FaceInput, result: Any) -> np.ndarray:
        """Put a model's output crop (PIL / array) back into the photo of `face` over the face ellipse; for crop
        inputs, the crop itself."""
        result = np.asarray(result.convert("RGB") if isinstance(result, PIL.Image.Image) else result)
        if not face.from_photo:
            return result
        return paste_back(face.photo, result, face.aligned, mask=face_ellipse_mask(face.aligned.size, self.margin))
