"""Face detection and landmarks on real photos, offline, with dlib and the models of `face-recognition-models`.

dlib's HOG detector (or its CNN/MMOD detector) finds face boxes; a shape predictor places 68 (iBUG 300-W layout)
or 5 landmarks in each box. Every detection also carries the five ArcFace keypoints (eye centres, nose tip, mouth
corners, in image left-to-right order) that `facezoo.face.alignment` warps to its templates.

Licences (see docs/toolkit.md): the 68-point predictor was trained on iBUG 300-W, whose terms exclude commercial
use; the 5-point predictor, the MMOD detector and the ResNet descriptor are CC0 / public domain.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

#: The files of `face-recognition-models` that facezoo uses, by role.
DLIB_MODEL_FILES = {
    "landmarks_68": "shape_predictor_68_face_landmarks.dat",
    "landmarks_5": "shape_predictor_5_face_landmarks.dat",
    "cnn_detector": "mmod_human_face_detector.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
}


class NoFaceFoundError(ValueError):
    """No face was found in an image where one was required."""


def dlib_model_path(role: str) -> Path:
    """The path of one dlib model file shipped by the `face-recognition-models` package.

    The package's own ``__init__`` imports ``pkg_resources`` (gone from recent setuptools), so its folder is found
    through the import system without importing it.

    Args:
        role (`str`): one of ``"landmarks_68"``, ``"landmarks_5"``, ``"cnn_detector"``, ``"descriptor"``.
    """
    if role not in DLIB_MODEL_FILES:
        raise ValueError(f"unknown dlib model {role!r}; choose one of {sorted(DLIB_MODEL_FILES)}")
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "dlib's models come from the `face-recognition-models` package: pip install 'facezoo[face]'"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / DLIB_MODEL_FILES[role]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the face-recognition-models install; reinstall it")
    return path


def _import_dlib():
    try:
        import dlib
    except ImportError as err:  # pragma: no cover - dlib is part of the `face` extra
        raise ImportError("face detection needs dlib: pip install 'facezoo[face]' (it installs dlib-bin)") from err
    return dlib


@functools.lru_cache(maxsize=None)
def _load_dlib(kind: str, role: str):
    """dlib objects are immutable once loaded, so one copy per process is shared (loading takes ~1 s)."""
    dlib = _import_dlib()
    if kind == "hog":
        return dlib.get_frontal_face_detector()
    path = str(dlib_model_path(role))
    return {"cnn": dlib.cnn_face_detection_model_v1, "shape": dlib.shape_predictor,
            "descriptor": dlib.face_recognition_model_v1}[kind](path)


def five_points_from_68(landmarks: np.ndarray) -> np.ndarray:
    """ArcFace's five keypoints from 68 iBUG landmarks: eye centres (image-left first), nose tip, mouth corners."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks, got {landmarks.shape}")
    return np.stack([
        landmarks[36:42].mean(0),  # the eye on the image's left (the subject's right)
        landmarks[42:48].mean(0),
        landmarks[30],
        landmarks[48],
        landmarks[54],
    ]).astype(np.float32)


def five_points_from_dlib5(landmarks: np.ndarray) -> np.ndarray:
    """ArcFace's five keypoints from dlib's 5-point model, which has eye corners and the nose base but no mouth.

    The mouth corners are NaN; `facezoo.face.alignment` fits its similarity to the finite points only.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (5, 2):
        raise ValueError(f"expected (5, 2) landmarks, got {landmarks.shape}")
    # dlib's order: 0-1 the corners of the eye on the image's right, 2-3 the other eye, 4 below the nose.
    eye_a, eye_b = landmarks[2:4].mean(0), landmarks[0:2].mean(0)
    nan = np.full(2, np.nan)
    return np.stack([eye_a, eye_b, landmarks[4], nan, nan]).astype(np.float32)


@dataclass
class FaceDetection:
    """One detected face.

    Attributes:
        box (`np.ndarray` of shape `(4,)`): ``x0, y0, x1, y1`` in pixels.
        score (`float`): detector confidence (HOG: SVM score; CNN: MMOD score).
        landmarks (`np.ndarray` of shape `(68, 2)` or `(5, 2)`): the predictor's points, ``x, y`` pixels.
        keypoints (`np.ndarray` of shape `(5, 2)`): ArcFace keypoints (NaN rows where the predictor has none).
    """

    box: np.ndarray
    score: float
    landmarks: np.ndarray
    keypoints: np.ndarray

    @property
    def area(self) -> float:
        return float((self.box[2] - self.box[0]) * (self.box[3] - self.box[1]))


def _as_uint8_rgb(image) -> np.ndarray:
    """dlib wants a contiguous ``uint8`` ``(H, W, 3)`` array; accept anything `to_image_tensor` accepts."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    from facezoo.utils.images import to_image_tensor

    tensor = to_image_tensor(image)
    if tensor.shape[0] != 1:
        raise ValueError(f"expected one image, got a batch of {tensor.shape[0]}")
    return np.ascontiguousarray((tensor[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8))


class DlibFaceDetector:
    """dlib face detector + landmark predictor, loaded once per process from `face-recognition-models`.

    Args:
        detector (`str`, *optional*, defaults to `"hog"`): ``"hog"`` (fast, frontal faces) or ``"cnn"`` (MMOD,
            more robust to pose, ~10x slower on CPU).
        landmarks (`str`, *optional*, defaults to `"68"`): ``"68"`` (iBUG layout, non-commercial) or ``"5"`` (CC0).
        upsample (`int`, *optional*, defaults to 1): how many times dlib upsamples the image before detecting
            (1 finds faces down to ~40 px).

    Example:

    ```python
    >>> from facezoo.assets import load_photo
    >>> faces = DlibFaceDetector().detect(load_photo("astronaut"))
    >>> faces[0].keypoints.shape
    (5, 2)
    ```
    """

    def __init__(self, detector: str = "hog", landmarks: str = "68", upsample: int = 1):
        if detector not in ("hog", "cnn"):
            raise ValueError(f"detector must be 'hog' or 'cnn', got {detector!r}")
        if landmarks not in ("68", "5"):
            raise ValueError(f"landmarks must be '68' or '5', got {landmarks!r}")
        self.detector_kind = detector
        self.landmarks_kind = landmarks
        self.upsample = int(upsample)
        self._detector = _load_dlib(detector, "cnn_detector")
        self._predictor = _load_dlib("shape", f"landmarks_{landmarks}")

    def _boxes(self, rgb: np.ndarray):
        dlib = _import_dlib()
        if self.detector_kind == "cnn":
            found = self._detector(rgb, self.upsample)
            return [(d.rect, float(d.confidence)) for d in found]
        rects, scores, _ = self._detector.run(rgb, self.upsample, 0.0)
        return [(dlib.rectangle(r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores)]

    def landmarks_in_box(self, image, box) -> np.ndarray:
        """Run the landmark predictor inside a given ``x0, y0, x1, y1`` box (e.g. from another detector)."""
        dlib = _import_dlib()
        rgb = _as_uint8_rgb(image)
        rect = dlib.rectangle(*(int(round(v)) for v in box))
        shape = self._predictor(rgb, rect)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)

    def detect(self, image) -> List[FaceDetection]:
        """All faces in one image (PIL / numpy / tensor / path), largest first; empty list when there are none."""
        rgb = _as_uint8_rgb(image)
        faces = []
        for rect, score in self._boxes(rgb):
            box = np.array([rect.left(), rect.top(), rect.right(), rect.bottom()], dtype=np.float32)
            points = self.landmarks_in_box(rgb, box)
            keypoints = five_points_from_68(points) if self.landmarks_kind == "68" else five_points_from_dlib5(points)
            faces.append(FaceDetection(box=box, score=score, landmarks=points, keypoints=keypoints))
        return sorted(faces, key=lambda f: -f.area)

    def detect_largest(self, image, name: Optional[str] = None) -> FaceDetection:
        """The largest face; raises `NoFaceFoundError` when none is found."""
        faces = self.detect(image)
        if not faces:
            what = f" in {name}" if name else " in the image"
            raise NoFaceFoundError(
                f"No face was found{what} by dlib's {self.detector_kind.upper()} detector (upsample={self.upsample}). "
                "Use a photo with a visible, roughly frontal face of at least ~40 px, or try detector='cnn'."
            )
        return faces[0]
