"""Every facezoo evaluation metric, importable from one place.

Each metric is written once, in the module of its kind, and re-exported here:

- identity (`facezoo.eval.verification`): `cosine_similarity`, `pairwise_cosine`, `roc_curve`, `tar_at_far`,
  `roc_auc`, `kfold_accuracy`, `rank1_identification`;
- pixels (`facezoo.eval.image`): `l1`, `psnr`, `ssim` (all with masks);
- features (`facezoo.eval.features`): `frechet_distance`, `feature_frechet_distance`, `perceptual_distance`,
  `diversity_score` — on features of our own offline networks, not comparable with Inception FID / LPIPS;
- structure: `segmentation_scores` (`facezoo.eval.segmentation`), `landmark_nme` (`facezoo.eval.landmarks`).
"""

from facezoo.eval.features import (
    diversity_score,
    extract_features,
    feature_frechet_distance,
    frechet_distance,
    perceptual_distance,
)
from facezoo.eval.image import l1, psnr, ssim, ssim_map
from facezoo.eval.landmarks import OUTER_EYE_CORNERS_68, landmark_nme, normalizing_distance
from facezoo.eval.segmentation import SegmentationScores, confusion_matrix, segmentation_scores
from facezoo.eval.verification import (
    KFoldResult,
    best_threshold,
    cosine_similarity,
    kfold_accuracy,
    pairwise_cosine,
    rank1_identification,
    roc_auc,
    roc_curve,
    tar_at_far,
)

__all__ = [
    "cosine_similarity",
    "pairwise_cosine",
    "roc_curve",
    "tar_at_far",
    "roc_auc",
    "best_threshold",
    "KFoldResult",
    "kfold_accuracy",
    "rank1_identification",
    "l1",
    "psnr",
    "ssim",
    "ssim_map",
    "extract_features",
    "frechet_distance",
    "feature_frechet_distance",
    "perceptual_distance",
    "diversity_score",
    "confusion_matrix",
    "SegmentationScores",
    "segmentation_scores",
    "OUTER_EYE_CORNERS_68",
    "normalizing_distance",
    "landmark_nme",
]
