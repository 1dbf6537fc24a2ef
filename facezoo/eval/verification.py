"""Identity metrics on face embeddings: cosine similarity, verification (ROC, TAR@FAR, AUC, k-fold accuracy)
and rank-1 identification.

Embeddings are ``(N, D)`` (torch or numpy); they do not need to be normalised. Verification takes one
similarity score per pair, ``(N,)``, higher meaning "more likely the same person", and a label per pair,
1 for a genuine pair (same identity) and 0 for an impostor pair. A pair is accepted when its score is
``>= threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from facezoo.eval._arrays import ArrayLike, as_float64, as_long, same_shape


def cosine_similarity(a: ArrayLike, b: ArrayLike, eps: float = 1e-12) -> np.ndarray:
    """Row-wise cosine similarity of two ``(N, D)`` embedding sets (or two ``(D,)`` vectors) → ``(N,)``."""
    ta, tb = as_float64(a, "a", (1, 2)), as_float64(b, "b", (1, 2))
    same_shape(ta, tb, "`a` and `b`")
    ta, tb = ta.reshape(-1, ta.shape[-1]), tb.reshape(-1, tb.shape[-1])
    num = (ta * tb).sum(-1)
    return (num / (ta.norm(dim=-1) * tb.norm(dim=-1)).clamp_min(eps)).numpy()


def pairwise_cosine(a: ArrayLike, b: ArrayLike, eps: float = 1e-12) -> np.ndarray:
    """All-pairs cosine similarity of ``(N, D)`` and ``(M, D)`` embeddings → ``(N, M)``."""
    ta, tb = as_float64(a, "a", (2,)), as_float64(b, "b", (2,))
    if ta.shape[1] != tb.shape[1]:
        raise ValueError(f"`a` and `b` must share the embedding size, got {ta.shape[1]} and {tb.shape[1]}")
    ta = ta / ta.norm(dim=1, keepdim=True).clamp_min(eps)
    tb = tb / tb.norm(dim=1, keepdim=True).clamp_min(eps)
    return (ta @ tb.T).numpy()


def _scores_labels(scores: ArrayLike, labels: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    s = as_float64(scores, "scores", (1,)).numpy()
    y = as_long(labels, "labels").numpy()
    if y.shape != s.shape:
        raise ValueError(f"`scores` and `labels` must have the same shape, got {s.shape} and {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("`labels` must be 1 (genuine pair) or 0 (impostor pair)")
    if y.sum() == 0 or y.sum() == y.size:
        raise ValueError("verification needs both genuine (label 1) and impostor (label 0) pairs")
    return s, y


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC of a verification score: ``(far, tar, thresholds)``, thresholds decreasing.

    ``far[i]`` is the fraction of impostor pairs and ``tar[i]`` the fraction of genuine pairs with
    ``score >= thresholds[i]``. The first threshold is ``+inf`` (nothing accepted, FAR = TAR = 0); the others are
    the distinct scores, so the last point accepts everything (FAR = TAR = 1).
    """
    s, y = _scores_labels(scores, labels)
    thresholds = np.concatenate([[np.inf], np.unique(s)[::-1]])
    genuine, impostor = np.sort(s[y == 1]), np.sort(s[y == 0])
    # count of scores >= t = n - (number strictly below t)
    tar = 1.0 - np.searchsorted(genuine, thresholds, side="left") / genuine.size
    far = 1.0 - np.searchsorted(impostor, thresholds, side="left") / impostor.size
    return far, tar, thresholds


def tar_at_far(scores: ArrayLike, labels: ArrayLike, far: float = 1e-3) -> float:
    """The highest true-accept rate over the thresholds whose false-accept rate is ``<= far``.

    No interpolation between ROC points: with ``I`` impostor pairs, FARs below ``1 / I`` can only be met by
    accepting no impostor at all, so evaluate ``far=1e-3`` on at least a few thousand impostor pairs.
    """
    if not 0.0 <= far <= 1.0:
        raise ValueError(f"`far` must be in [0, 1], got {far}")
    fars, tars, _ = roc_curve(scores, labels)
    return float(tars[fars <= far + 1e-12].max())


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC: the probability that a random genuine pair outscores a random impostor pair
    (ties count one half), i.e. the Mann-Whitney U statistic over ``genuine x impostor``."""
    s, y = _scores_labels(scores, labels)
    genuine, impostor = s[y == 1], np.sort(s[y == 0])
    below = np.searchsorted(impostor, genuine, side="left")
    ties = np.searchsorted(impostor, genuine, side="right") - below
    return float((below + 0.5 * ties).sum() / (genuine.size * impostor.size))


@dataclass
class KFoldResult:
    """k-fold verification accuracy: ``mean ± std`` over folds, each fold's accuracy and chosen threshold."""

    mean: float
    std: float
    fold_accuracies: np.ndarray
    thresholds: np.ndarray

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.std:.4f}"


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold that maximises the accuracy of ``score >= t`` on these pairs.

    Candidates are the midpoints between consecutive distinct scores plus one below and one above all scores,
    so no score sits on a threshold; ties in accuracy go to the lowest threshold.
    """
    u = np.unique(scores)
    candidates = np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2.0, [u[-1] + 1.0]])
    accepted = scores[None, :] >= candidates[:, None]
    accuracy = (accepted == (labels[None, :] == 1)).mean(axis=1)
    return float(candidates[int(np.argmax(accuracy))])


def kfold_accuracy(scores: ArrayLike, labels: ArrayLike, n_folds: int = 10) -> KFoldResult:
    """LFW-protocol verification accuracy: for each of `n_folds` contiguous folds, choose the threshold on the
    other ``n_folds - 1`` folds (`best_threshold`) and measure accuracy on the held-out fold.

    Folds are contiguous blocks in the given order, as in LFW's ``pairs.txt`` (10 folds of 600 pairs); shuffle
    beforehand if the pairs are sorted by label. ``std`` is the population standard deviation (``ddof=0``), as
    reported by the usual LFW evaluation scripts.
    """
    s = as_float64(scores, "scores", (1,)).numpy()
    y = as_long(labels, "labels").numpy()
    if y.shape != s.shape:
        raise ValueError(f"`scores` and `labels` must have the same shape, got {s.shape} and {y.shape}")
    if not 2 <= n_folds <= s.size:
        raise ValueError(f"`n_folds` must be between 2 and the number of pairs ({s.size}), got {n_folds}")
    folds = np.array_split(np.arange(s.size), n_folds)
    accuracies, thresholds = [], []
    for test in folds:
        train = np.setdiff1d(np.arange(s.size), test)
        t = best_threshold(s[train], y[train])
        thresholds.append(t)
        accuracies.append(float(((s[test] >= t) == (y[test] == 1)).mean()))
    acc = np.array(accuracies)
    return KFoldResult(float(acc.mean()), float(acc.std()), acc, np.array(thresholds))


def rank1_identification(
    probe: ArrayLike, probe_labels: ArrayLike, gallery: ArrayLike, gallery_labels: ArrayLike
) -> float:
    """Fraction of probe embeddings ``(N, D)`` whose most cosine-similar gallery embedding ``(M, D)`` has the
    same identity label. Ties go to the first gallery entry."""
    sim = pairwise_cosine(probe, gallery)
    pl, gl = as_long(probe_labels, "probe_labels").numpy(), as_long(gallery_labels, "gallery_labels").numpy()
    if pl.shape != (sim.shape[0],) or gl.shape != (sim.shape[1],):
        raise ValueError(
            f"need one label per embedding: probe {sim.shape[0]} vs {pl.shape}, gallery {sim.shape[1]} vs {gl.shape}"
        )
    return float((gl[np.argmax(sim, axis=1)] == pl).mean())
