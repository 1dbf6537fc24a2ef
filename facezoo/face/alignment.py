"""Similarity alignment of faces to fixed crops, from five keypoints.

A crop is defined by where the five ArcFace keypoints (eye centres, nose tip, mouth corners) should land. The
ArcFace 112x112 template is the one insightface uses; `face_template` scales it to any square size with extra
margin, so that the 64/128/256 face crops used by the generators show the whole head. The similarity
(rotation + uniform scale + translation) is the least-squares fit of Umeyama (1991), the same estimate
insightface gets from scikit-image's `SimilarityTransform`.

The inverse warp that pastes a crop back into its photo lives in `facezoo.face.paste`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

#: ArcFace's five-point template for 112x112 crops (insightface `arcface_dst`).
ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)


#: The `face_template` margin that reproduces FaceWorld's framing (measured on its frontal, neutral test faces by
#: `spaces.world.FaceWorldBrowser.alignment_margin`; `tests/spaces/test_faces.py` checks it still matches). Real photos
#: aligned with it look like the crops the FaceWorld-trained models saw.
FACEWORLD_MARGIN = 0.77


def face_template(size: int = 112, margin: float = 0.0) -> np.ndarray:
    """The five keypoint positions of a ``size x size`` crop.

    Args:
        size (`int`, *optional*, defaults to 112): crop side in pixels.
        margin (`float`, *optional*, defaults to 0.0): zoom out around the template's centre, as a fraction of
            the crop (0 is ArcFace's tight crop; 0.5 shrinks the face by a factor 1.5 and shows hair and chin).
    """
    if size <= 0 or margin < 0:
        raise ValueError(f"size must be positive and margin >= 0, got size={size}, margin={margin}")
    unit = ARCFACE_TEMPLATE_112 / 112.0
    centre = np.array([0.5, 0.5], dtype=np.float32)
    return ((unit - centre) / (1.0 + margin) + centre) * size


def umeyama_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` similarity matrix ``M`` minimising ``sum ||M [src;1] - dst||^2`` (Umeyama 1991).

    Rows of `src` with a NaN are left out of the fit (dlib's 5-point model has no mouth corners).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2:
        raise ValueError(f"src and dst must be matching (N, 2) arrays, got {src.shape} and {dst.shape}")
    keep = np.isfinite(src).all(1) & np.isfinite(dst).all(1)
    src, dst = src[keep], dst[keep]
    if len(src) < 2:
        raise ValueError("a similarity needs at least two finite point pairs")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sigma, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection would fit better; similarities cannot reflect
        sign[1, 1] = -1
    rot = u @ sign @ vt
    var_s = (s**2).sum() / len(src)
    scale = (sigma * np.diag(sign)).sum() / var_s
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mu_d - scale * rot @ mu_s
    return matrix.astype(np.float32)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a ``(2, 3)`` affine matrix."""
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64)).astype(np.float32)


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine matrix to ``(N, 2)`` points."""
    points = np.asarray(points, dtype=np.float32)
    return points @ np.asarray(matrix, dtype=np.float32)[:, :2].T + np.asarray(matrix, dtype=np.float32)[:, 2]


@dataclass
class AlignedFace:
    """A face warped to a square crop, with what is needed to put it back.

    Attributes:
        crop (`np.ndarray` of shape `(size, size, 3)`): the aligned crop, same dtype as the source image.
        matrix (`np.ndarray` of shape `(2, 3)`): photo pixel → crop pixel.
        inverse (`np.ndarray` of shape `(2, 3)`): crop pixel → photo pixel.
        image_size (`Tuple[int, int]`): ``(H, W)`` of the source photo.
    """

    crop: np.ndarray
    matrix: np.ndarray
    inverse: np.ndarray
    image_size: Tuple[int, int]

    @property
    def size(self) -> int:
        return int(self.crop.shape[0])


def align_face(image: np.ndarray, keypoints: np.ndarray, size: int = 112, margin: float = 0.0) -> AlignedFace:
    """Warp `image` (``(H, W, C)`` numpy) so its five `keypoints` land on `face_template(size, margin)`.

    With ``size=112, margin=0`` this is exactly the ArcFace input crop. Pixels outside the photo are
    replicated from its border, so a paste-back does not bring black edges in.
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"expected an (H, W, C) image, got shape {image.shape}")
    matrix = umeyama_similarity(keypoints, face_template(size, margin))
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return AlignedFace(crop=crop, matrix=matrix, inverse=invert_affine(matrix), image_size=tuple(image.shape[:2]))


def pixel_affine_to_theta(matrix: torch.Tensor, src_size: Tuple[int, int], dst_size: Tuple[int, int]) -> torch.Tensor:
    """Turn ``(B, 2, 3)`` source-pixel → destination-pixel matrices into `F.affine_grid` thetas.

    Pixels are indexed as in cv2 (the centre of pixel ``i`` at ``i``). `affine_grid` wants the map from
    *destination* to *source* in normalised coordinates, where with ``align_corners=False`` pixel ``i`` of ``n``
    sits at ``(i + 0.5) / n * 2 - 1``.
    """
    b = matrix.shape[0]
    full = torch.cat([matrix, matrix.new_tensor([0.0, 0.0, 1.0]).expand(b, 1, 3)], 1)
    inv = torch.linalg.inv(full)

    def norm(h: int, w: int) -> torch.Tensor:  # pixel index → normalised coordinate
        return matrix.new_tensor([[2.0 / w, 0.0, 1.0 / w - 1.0], [0.0, 2.0 / h, 1.0 / h - 1.0], [0.0, 0.0, 1.0]])

    to_src = norm(*src_size)
    from_dst = torch.linalg.inv(norm(*dst_size))
    return (to_src @ inv @ from_dst)[:, :2]


def warp_tensor(images: torch.Tensor, matrix: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Differentiable affine warp of ``(B, C, H, W)`` images by pixel matrices ``(B, 2, 3)`` (source → output).

    Methods use it to cut ArcFace crops out of generated images inside a loss, where gradients must flow.
    Matrices use cv2's convention (integer pixel indices), so the result matches `cv2.warpAffine` with
    ``BORDER_REPLICATE``.
    """
    if images.ndim != 4 or matrix.shape[-2:] != (2, 3):
        raise ValueError(f"expected (B, C, H, W) images and (B, 2, 3) matrices, got {tuple(images.shape)}, {tuple(matrix.shape)}")
    matrix = matrix.to(images).expand(images.shape[0], 2, 3)
    theta = pixel_affine_to_theta(matrix, tuple(images.shape[-2:]), tuple(size))
    grid = F.affine_grid(theta, (images.shape[0], images.shape[1], *size), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
