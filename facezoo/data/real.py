"""Loaders of real face datasets in their published on-disk layouts, yielding FaceWorld-style samples.

Every dataset returns dicts with FaceWorld's key names, shapes and dtypes where the dataset has the information:
``image`` (3, S, S) float in [0, 1]; ``identity`` int64; ``expression`` int64 (FaceWorld / CK+ order: neutral,
anger, contempt, disgust, fear, happiness, sadness, surprise; -1 for expressions outside that list); ``landmarks``
(68, 2) float pixels in the output image; ``semantic`` (S, S) int64 (CelebAMask-HQ ids, as FaceWorld's); ``pose``
(3,) float yaw/pitch/roll in radians. Dataset-specific extras keep their own names (``attributes``, ``landmarks5``,
``shape_params``, ``exp_params``, ``illumination``).

Images are centre-cropped to a square and resized to ``size``; landmarks go through the same transform. Nothing is
downloaded: each loader checks the folder it is given and raises a `FileNotFoundError` naming the missing file and
the expected layout, or a `ValueError` naming the malformed file.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

__all__ = [
    "AFLW2000", "CASIAWebFace", "CKPlus", "CelebA", "CelebAMaskHQ", "CELEBAMASK_PARTS", "FFHQ", "ImageFolderFaces",
    "MultiPIE", "Pose300WLP",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: CelebAMask-HQ part names in label order (label = index + 1; 0 is background), as FaceWorld's semantic classes.
CELEBAMASK_PARTS = ("skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear", "mouth",
                    "u_lip", "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth")


def _require(path: Path, dataset: str, layout: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{dataset}: {str(path)!r} does not exist. Expected layout: {layout}")
    return path


def _square_transform(width: int, height: int, size: int) -> Tuple[float, float, float]:
    """(scale, x offset, y offset) of a centre square crop resized to `size`: out = (p - offset) * scale."""
    side = min(width, height)
    return size / side, (width - side) / 2.0, (height - side) / 2.0


def _load_image(path: Path, size: int) -> Tuple[torch.Tensor, Tuple[float, float, float]]:
    try:
        image = Image.open(path).convert("RGB")
    except OSError as err:
        raise ValueError(f"Cannot read image {str(path)!r}: {err}") from err
    scale, ox, oy = _square_transform(image.width, image.height, size)
    side = min(image.width, image.height)
    box = (round(ox), round(oy), round(ox) + side, round(oy) + side)
    image = image.crop(box).resize((size, size), Image.BICUBIC)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous(), (scale, float(round(ox)), float(round(oy)))


def _transform_points(points: np.ndarray, transform: Tuple[float, float, float]) -> torch.Tensor:
    scale, ox, oy = transform
    out = (np.asarray(points, dtype=np.float64) - np.array([ox, oy])) * scale
    return torch.from_numpy(out.astype(np.float32))


def _read_table(path: Path, dataset: str, columns: int, skip: int = 0) -> List[List[str]]:
    """Whitespace-separated rows of a text annotation file, each checked to have `columns` fields."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines()[skip:], start=skip + 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != columns:
            raise ValueError(f"{dataset}: {str(path)!r} line {number} is malformed: expected {columns} fields, "
                             f"got {len(fields)}: {line[:80]!r}")
        rows.append(fields)
    return rows


def _list_images(folder: Path) -> List[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


class _RealFaces(Dataset):
    """A list of records, each turned into a sample by `_sample`."""

    name = "dataset"

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self.records: List[Dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.records)

    def _check_nonempty(self, root: Path, layout: str) -> None:
        if not self.records:
            raise FileNotFoundError(f"{self.name}: no samples found under {str(root)!r}. Expected layout: {layout}")

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        record = self.records[index]
        image, transform = _load_image(record["path"], self.size)
        sample = {"image": image}
        for key, value in record.items():
            if key == "path":
                continue
            if key in ("landmarks", "landmarks5"):
                sample[key] = _transform_points(value, transform)
            elif isinstance(value, (int, np.integer)):
                sample[key] = torch.tensor(int(value), dtype=torch.int64)
            else:
                sample[key] = torch.as_tensor(np.asarray(value)).clone()
        return sample


class ImageFolderFaces(_RealFaces):
    """Every image under `root` (recursively, sorted): FFHQ-style unlabelled face folders.

    Args:
        root (`str`): the folder.
        size (`int`, *optional*, defaults to 64): output side.
    """

    name = "image folder"
    layout = "root/**/*.png|jpg"

    def __init__(self, root: os.PathLike | str, size: int = 64):
        super().__init__(size)
        root = _require(Path(root), self.name, self.layout)
        self.records = [{"path": p} for p in _list_images(root)]
        self._check_nonempty(root, self.layout)


class FFHQ(ImageFolderFaces):
    """FFHQ (Karras et al. 2019): ``images1024x1024/00000/00000.png`` ... (or any resolution folder) — no labels."""

    name = "FFHQ"
    layout = "root/images1024x1024/<thousands>/<index:05d>.png (any image folder works)"


class CelebA(_RealFaces):
    """CelebA aligned images with identities, attributes and 5 landmarks.

    Layout: ``root/img_align_celeba/000001.jpg``, ``root/list_eval_partition.txt`` (``000001.jpg 0``),
    ``root/identity_CelebA.txt`` (``000001.jpg 2880``); optional ``root/list_attr_celeba.txt`` (count line, 40 names,
    rows of +-1) and ``root/list_landmarks_align_celeba.txt`` (count line, header, rows of 10 numbers).

    Samples: ``image``, ``identity`` (CelebA id − 1), ``attributes`` (40,) int64 0/1, ``landmarks5`` (5, 2) pixels
    (eyes, nose, mouth corners).

    Args:
        root (`str`): the CelebA folder.
        split (`str`, *optional*, defaults to "train"): "train", "valid", "test" or "all".
        size (`int`, *optional*, defaults to 64): output side (the 178x218 images are centre-cropped to a square).
    """

    name = "CelebA"
    layout = "root/img_align_celeba/*.jpg, root/list_eval_partition.txt, root/identity_CelebA.txt"
    SPLITS = {"train": "0", "valid": "1", "test": "2"}

    def __init__(self, root: os.PathLike | str, split: str = "train", size: int = 64):
        super().__init__(size)
        if split not in (*self.SPLITS, "all"):
            raise ValueError(f"CelebA split must be one of {[*self.SPLITS, 'all']}, got {split!r}")
        root = Path(root)
        images = _require(root / "img_align_celeba", self.name, self.layout)
        partition = _read_table(_require(root / "list_eval_partition.txt", self.name, self.layout), self.name, 2)
        identity = dict(_read_table(_require(root / "identity_CelebA.txt", self.name, self.layout), self.name, 2))
        attributes = {}
        if (root / "list_attr_celeba.txt").is_file():
            self.attribute_names = (root / "list_attr_celeba.txt").read_text().splitlines()[1].split()
            for row in _read_table(root / "list_attr_celeba.txt", self.name, 41, skip=2):
                attributes[row[0]] = np.array([v == "1" for v in row[1:]], dtype=np.int64)
        landmarks = {}
        if (root / "list_landmarks_align_celeba.txt").is_file():
            for row in _read_table(root / "list_landmarks_align_celeba.txt", self.name, 11, skip=2):
                landmarks[row[0]] = np.array(row[1:], dtype=np.float64).reshape(5, 2)
        for file, part in partition:
            if split != "all" and part != self.SPLITS[split]:
                continue
            if file not in identity:
                raise ValueError(f"CelebA: {file} is in list_eval_partition.txt but not in identity_CelebA.txt")
            record = {"path": _require(images / file, self.name, self.layout), "identity": int(identity[file]) - 1}
            if file in attributes:
                record["attributes"] = attributes[file]
            if file in landmarks:
                record["landmarks5"] = landmarks[file]
            self.records.append(record)
        self._check_nonempty(root, self.layout)


class CelebAMaskHQ(_RealFaces):
    """CelebA-HQ images with (optionally) CelebAMask-HQ part masks and head poses.

    Layout: ``root/CelebA-HQ-img/<i>.jpg`` (i = 0..29999), ``root/CelebAMask-HQ-mask-anno/<i // 2000>/<i:05d>_<part>.png``
    (one binary mask per present part, parts in `CELEBAMASK_PARTS`), optional ``root/CelebAMask-HQ-pose-anno.txt``
    (count line, ``Yaw Pitch Raw`` header, rows ``<i>.jpg yaw pitch roll`` in degrees).

    Samples: ``image``, ``semantic`` (S, S) int64 (0 background, part k at label k + 1; later parts overwrite earlier
    ones, as the official ``g_mask.py`` does), ``pose`` (3,) radians when the pose file exists.

    Args:
        root (`str`): the CelebAMask-HQ folder.
        size (`int`, *optional*, defaults to 64): output side.
        masks (`bool`, *optional*, defaults to True): load the part masks (False: CelebA-HQ images only).
    """

    name = "CelebAMask-HQ"
    layout = "root/CelebA-HQ-img/<i>.jpg, root/CelebAMask-HQ-mask-anno/<i//2000>/<i:05d>_<part>.png"

    def __init__(self, root: os.PathLike | str, size: int = 64, masks: bool = True):
        super().__init__(size)
        root = Path(root)
        images = _require(root / "CelebA-HQ-img", self.name, self.layout)
        self.mask_root = _require(root / "CelebAMask-HQ-mask-anno", self.name, self.layout) if masks else None
        poses = {}
        if (root / "CelebAMask-HQ-pose-anno.txt").is_file():
            for file, *angles in _read_table(root / "CelebAMask-HQ-pose-anno.txt", self.name, 4, skip=2):
                poses[file] = np.radians(np.array(angles, dtype=np.float32)).astype(np.float32)
        found = [(int(p.stem), p) for p in images.iterdir() if p.stem.isdigit() and p.suffix.lower() in IMAGE_SUFFIXES]
        for index, path in sorted(found):
            record = {"path": path, "index": index}
            if path.name in poses:
                record["pose"] = poses[path.name]
            self.records.append(record)
        self._check_nonempty(root, self.layout)

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        sample = super().__getitem__(index)
        if self.mask_root is None:
            return sample
        i = self.records[index]["index"]
        folder = self.mask_root / str(i // 2000)
        semantic = np.zeros((self.size, self.size), dtype=np.int64)
        found = False
        for label, part in enumerate(CELEBAMASK_PARTS, start=1):
            path = folder / f"{i:05d}_{part}.png"
            if path.is_file():
                mask = Image.open(path).convert("L")
                _, ox, oy = _square_transform(mask.width, mask.height, self.size)
                side = min(mask.width, mask.height)
                mask = mask.crop((round(ox), round(oy), round(ox) + side, round(oy) + side))
                semantic[np.asarray(mask.resize((self.size, self.size), Image.NEAREST)) > 127] = label
                found = True
        if not found:
            raise FileNotFoundError(f"CelebAMask-HQ: no part mask for image {i} in {str(folder)!r} "
                                    f"(expected e.g. {i:05d}_skin.png)")
        sample["semantic"] = torch.from_numpy(semantic)
        return sample


class CASIAWebFace(_RealFaces):
    """CASIA-WebFace: ``root/<identity folder>/<image>.jpg``; ``identity`` is the rank of the folder name.

    Args:
        root (`str`): the folder of identity folders (e.g. ``CASIA-WebFace/``).
        size (`int`, *optional*, defaults to 64): output side.
    """

    name = "CASIA-WebFace"
    layout = "root/<identity id>/<image>.jpg"

    def __init__(self, root: os.PathLike | str, size: int = 64):
        super().__init__(size)
        root = _require(Path(root), self.name, self.layout)
        self.identity_names = sorted(p.name for p in root.iterdir() if p.is_dir())
        for identity, name in enumerate(self.identity_names):
            self.records += [{"path": p, "identity": identity} for p in _list_images(root / name)]
        self._check_nonempty(root, self.layout)


class MultiPIE(_RealFaces):
    """CMU Multi-PIE: ``root/session0<s>/multiview/<subject>/<recording>/<cam>/<subject>_<s>_<rec>_<cam>_<illum>.png``.

    ``pose`` holds the nominal yaw of the 13 cameras at head height (-90..+90 degrees in 15 degree steps; pitch and
    roll 0); the two raised cameras 08_1 and 19_1 are skipped. ``expression`` follows the recording protocol
    (session 1: neutral, smile; 2: neutral, surprise, squint; 3: neutral, smile, disgust; 4: neutral, neutral,
    scream) mapped to FaceWorld's classes (squint and scream: -1). ``identity`` is the subject number, plus
    ``illumination`` (0..19) and ``session``.

    Args:
        root (`str`): the Multi-PIE ``data`` folder (holding ``session01`` ...).
        size (`int`, *optional*, defaults to 64): output side.
    """

    name = "Multi-PIE"
    layout = "root/session0<s>/multiview/<subject>/<recording>/<cam>/<subject>_<s>_<rec>_<cam>_<illum>.png"
    CAMERA_YAW = {"11_0": -90, "12_0": -75, "09_0": -60, "08_0": -45, "13_0": -30, "14_0": -15, "05_1": 0,
                  "05_0": 15, "04_1": 30, "19_0": 45, "20_0": 60, "01_0": 75, "24_0": 90}
    # FaceWorld ids: neutral 0, disgust 3, happiness (smile) 5, surprise 7; squint and scream are not in the list
    EXPRESSION = {(1, 1): 0, (1, 2): 5, (2, 1): 0, (2, 2): 7, (2, 3): -1, (3, 1): 0, (3, 2): 5, (3, 3): 3,
                  (4, 1): 0, (4, 2): 0, (4, 3): -1}
    _FILE = re.compile(r"^(\d{3})_(\d{2})_(\d{2})_(\d{3})_(\d{2})\.png$")

    def __init__(self, root: os.PathLike | str, size: int = 64):
        super().__init__(size)
        root = _require(Path(root), self.name, self.layout)
        for path in sorted(root.glob("session0*/multiview/*/*/*/*.png")):
            match = self._FILE.match(path.name)
            if match is None:
                raise ValueError(f"Multi-PIE: unexpected file name {str(path)!r} (expected <subject>_<session>_"
                                 "<recording>_<camera>_<illumination>.png, e.g. 001_01_01_051_00.png)")
            subject, session, recording, cam, illum = match.groups()
            camera = f"{cam[:2]}_{cam[2]}"
            if camera not in self.CAMERA_YAW:
                continue
            expression = self.EXPRESSION.get((int(session), int(recording)))
            if expression is None:
                raise ValueError(f"Multi-PIE: session {session} has no recording {recording} ({str(path)!r})")
            pose = np.array([math.radians(self.CAMERA_YAW[camera]), 0.0, 0.0], dtype=np.float32)
            self.records.append({"path": path, "identity": int(subject), "expression": expression, "pose": pose,
                                 "illumination": int(illum), "session": int(session)})
        self._check_nonempty(root, self.layout)


class CKPlus(_RealFaces):
    """Extended Cohn-Kanade (CK+): each labelled sequence gives its first frame (neutral) and its last (peak) frame.

    Layout: ``root/cohn-kanade-images/S005/001/S005_001_00000001.png``,
    ``root/Emotion/S005/001/S005_001_00000011_emotion.txt`` (one number, 0..7: neutral, anger, contempt, disgust,
    fear, happy, sadness, surprise — FaceWorld's order), optional
    ``root/Landmarks/S005/001/S005_001_<frame>_landmarks.txt`` (68 rows ``x y``). Sequences without an emotion file
    are unlabelled and skipped.

    Args:
        root (`str`): the CK+ folder.
        size (`int`, *optional*, defaults to 64): output side (640x490 frames are centre-cropped).
    """

    name = "CK+"
    layout = "root/cohn-kanade-images/S###/###/*.png, root/Emotion/S###/###/*_emotion.txt"

    def __init__(self, root: os.PathLike | str, size: int = 64):
        super().__init__(size)
        root = Path(root)
        images = _require(root / "cohn-kanade-images", self.name, self.layout)
        emotions = _require(root / "Emotion", self.name, self.layout)
        for label_file in sorted(emotions.glob("S*/*/*_emotion.txt")):
            subject, sequence = label_file.parent.parent.name, label_file.parent.name
            try:
                label = int(round(float(label_file.read_text().split()[0])))
            except (IndexError, ValueError) as err:
                raise ValueError(f"CK+: {str(label_file)!r} is malformed (expected one number 0..7)") from err
            if not 0 <= label <= 7:
                raise ValueError(f"CK+: {str(label_file)!r} holds emotion {label}, outside 0..7")
            frames = sorted((images / subject / sequence).glob("*.png"))
            if not frames:
                raise FileNotFoundError(f"CK+: {str(label_file)!r} labels a sequence with no frames in "
                                        f"{str(images / subject / sequence)!r}")
            for frame, expression in ((frames[0], 0), (frames[-1], label)):
                record = {"path": frame, "identity": int(subject[1:]), "expression": expression}
                lm_file = root / "Landmarks" / subject / sequence / f"{frame.stem}_landmarks.txt"
                if lm_file.is_file():
                    record["landmarks"] = np.array(_read_table(lm_file, self.name, 2), dtype=np.float64)
                    if record["landmarks"].shape != (68, 2):
                        raise ValueError(f"CK+: {str(lm_file)!r} must hold 68 landmarks, got {len(record['landmarks'])}")
                self.records.append(record)
        self._check_nonempty(root, self.layout)


def _load_mat(path: Path, dataset: str, keys: Sequence[str]) -> Dict[str, np.ndarray]:
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except Exception as err:  # scipy raises several types for damaged files
        raise ValueError(f"{dataset}: cannot read {str(path)!r}: {err}") from err
    missing = [k for k in keys if k not in mat]
    if missing:
        raise ValueError(f"{dataset}: {str(path)!r} lacks {missing} (has {sorted(k for k in mat if not k.startswith('__'))})")
    return mat


class _Mat3DMM(_RealFaces):
    """Images next to ``.mat`` files with 3DMM fits (``Pose_Para`` = pitch, yaw, roll, tx, ty, tz, scale)."""

    landmark_key = "pt2d"

    def _add(self, image: Path) -> None:
        mat_path = image.with_suffix(".mat")
        if not mat_path.is_file():
            raise FileNotFoundError(f"{self.name}: {str(image)!r} has no 3DMM annotation {mat_path.name!r} beside it")
        mat = _load_mat(mat_path, self.name, ("Pose_Para", "Shape_Para", "Exp_Para", self.landmark_key))
        pose = np.asarray(mat["Pose_Para"], dtype=np.float64).reshape(-1)
        points = np.asarray(mat[self.landmark_key], dtype=np.float64)
        if pose.size != 7 or points.shape[-1] != 68 or points.shape[0] not in (2, 3):
            raise ValueError(f"{self.name}: {str(mat_path)!r} is malformed: Pose_Para has {pose.size} values (7 expected), "
                             f"{self.landmark_key} has shape {points.shape} ((2|3, 68) expected)")
        pitch, yaw, roll = pose[:3]
        self.records.append({
            "path": image,
            "pose": np.array([yaw, pitch, roll], dtype=np.float32),
            "landmarks": points[:2].T,
            "shape_params": np.asarray(mat["Shape_Para"], dtype=np.float32).reshape(-1),
            "exp_params": np.asarray(mat["Exp_Para"], dtype=np.float32).reshape(-1),
        })


class Pose300WLP(_Mat3DMM):
    """300W-LP (Zhu et al. 2016): ``root/<subset>/<name>.jpg`` + ``<name>.mat`` (``Pose_Para``, ``Shape_Para`` (199),
    ``Exp_Para`` (29), ``pt2d`` (2, 68)); subsets AFW, HELEN, IBUG, LFPW and their ``*_Flip`` mirrors.

    Samples: ``image``, ``pose`` (yaw, pitch, roll radians, from ``Pose_Para``'s pitch, yaw, roll), ``landmarks``
    (68, 2), ``shape_params``, ``exp_params``.

    Args:
        root (`str`): the 300W_LP folder.
        size (`int`, *optional*, defaults to 64): output side.
        subsets (`Sequence[str]`, *optional*): subset folders to read (default: all four).
        flipped (`bool`, *optional*, defaults to True): also read the ``*_Flip`` folders.
    """

    name = "300W-LP"
    layout = "root/{AFW,HELEN,IBUG,LFPW}[_Flip]/<name>.jpg + <name>.mat"

    def __init__(self, root: os.PathLike | str, size: int = 64, subsets: Sequence[str] = ("AFW", "HELEN", "IBUG", "LFPW"),
                 flipped: bool = True):
        super().__init__(size)
        root = _require(Path(root), self.name, self.layout)
        folders = [s for subset in subsets for s in ((subset, f"{subset}_Flip") if flipped else (subset,))]
        present = [f for f in folders if (root / f).is_dir()]
        if not present:
            raise FileNotFoundError(f"300W-LP: none of {folders} is in {str(root)!r}. Expected layout: {self.layout}")
        for folder in present:
            for image in sorted((root / folder).glob("*.jpg")):
                self._add(image)
        self._check_nonempty(root, self.layout)


class AFLW2000(_Mat3DMM):
    """AFLW2000-3D: ``root/image00002.jpg`` + ``image00002.mat`` (``Pose_Para``, ``Shape_Para``, ``Exp_Para``,
    ``pt3d_68`` (3, 68)); the same samples as `Pose300WLP` (landmarks from the x, y rows of ``pt3d_68``).

    Args:
        root (`str`): the AFLW2000 folder.
        size (`int`, *optional*, defaults to 64): output side.
    """

    name = "AFLW2000-3D"
    layout = "root/image<#####>.jpg + image<#####>.mat"
    landmark_key = "pt3d_68"

    def __init__(self, root: os.PathLike | str, size: int = 64):
        super().__init__(size)
        root = _require(Path(root), self.name, self.layout)
        for image in sorted(root.glob("image*.jpg")):
            self._add(image)
        self._check_nonempty(root, self.layout)
