"""Identity metrics against values worked out by hand."""

import math

import numpy as np
import pytest
import torch

from facezoo.eval.metrics import (
    best_threshold,
    cosine_similarity,
    kfold_accuracy,
    pairwise_cosine,
    rank1_identification,
    roc_auc,
    roc_curve,
    tar_at_far,
)

# 4 genuine pairs and 4 impostor pairs, one tie across classes at 0.6.
SCORES = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.6, 0.2, 0.1])
LABELS = np.array([1, 1, 1, 1, 0, 0, 0, 0])


def test_cosine_similarity_hand_values():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
    b = np.array([[0.0, 2.0], [2.0, 2.0], [-3.0, -4.0]])
    np.testing.assert_allclose(cosine_similarity(a, b), [0.0, 1.0, -1.0], atol=1e-12)
    # torch input, single vectors
    assert cosine_similarity(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0]))[0] == pytest.approx(1 / math.sqrt(2))
    with pytest.raises(ValueError, match="same shape"):
        cosine_similarity(a, b[:2])


def test_pairwise_cosine():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, -1.0]])
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(pairwise_cosine(a, b), [[1, s, 0], [0, s, -1]], atol=1e-12)


def test_roc_curve_points():
    far, tar, thr = roc_curve(SCORES, LABELS)
    # thresholds: inf, 0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1 ; accept score >= t
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1])
    np.testing.assert_allclose(tar, [0, 0.25, 0.5, 0.5, 0.75, 1, 1, 1])
    np.testing.assert_allclose(far, [0, 0, 0, 0.25, 0.5, 0.5, 0.75, 1])


def test_tar_at_far():
    assert tar_at_far(SCORES, LABELS, far=0.0) == 0.5
    assert tar_at_far(SCORES, LABELS, far=0.25) == 0.5
    assert tar_at_far(SCORES, LABELS, far=0.5) == 1.0
    assert tar_at_far(SCORES, LABELS, far=0.49) == 0.5


def test_roc_auc_mann_whitney_by_hand():
    # genuine 0.9 beats 4 impostors, 0.8 beats 4, 0.6 beats 2 (0.2, 0.1) and ties 1, 0.3 beats 2: (4+4+2.5+2)/16
    assert roc_auc(SCORES, LABELS) == pytest.approx(12.5 / 16)
    assert roc_auc([0.9, 0.1], [1, 0]) == 1.0
    assert roc_auc([0.1, 0.9], [1, 0]) == 0.0
    with pytest.raises(ValueError, match="both genuine"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="1 \\(genuine"):
        roc_auc([0.1, 0.2], [1, 2])


def test_best_threshold_is_a_midpoint_maximising_accuracy():
    s = np.array([0.1, 0.4, 0.5, 0.9])
    y = np.array([0, 0, 1, 1])
    assert best_threshold(s, y) == pytest.approx(0.45)


def test_kfold_accuracy_by_hand():
    # 3 folds of 2 pairs. Fold 0 = (0.9 g, 0.2 i), fold 1 = (0.7 g, 0.6 i), fold 2 = (0.5 g, 0.8 i).
    s = np.array([0.9, 0.2, 0.7, 0.6, 0.5, 0.8])
    y = np.array([1, 0, 1, 0, 1, 0])
    res = kfold_accuracy(s, y, n_folds=3)
    # Accept score >= t; candidates are midpoints plus one below / above all; ties go to the lowest.
    # fold 0 held out, train {.7g .6i .5g .8i}: t = -.5 .55 .65 .75 1.8 → acc .5 .25 .5 .25 .5 → t = -.5;
    #   test (.9g, .2i) both accepted → 0.5
    # fold 1 held out, train {.9g .2i .5g .8i}: t = -.8 .35 .65 .85 1.9 → acc .5 .75 .5 .75 .5 → t = .35;
    #   test (.7g, .6i) both accepted → 0.5
    # fold 2 held out, train {.9g .2i .7g .6i}: t = -.8 .4 .65 .8 1.9 → acc .5 .75 1 .75 .5 → t = .65;
    #   test (.5g rejected, .8i accepted) → 0.0
    np.testing.assert_allclose(res.thresholds, [-0.5, 0.35, 0.65])
    np.testing.assert_allclose(res.fold_accuracies, [0.5, 0.5, 0.0])
    assert res.mean == pytest.approx(1 / 3)
    assert res.std == pytest.approx(math.sqrt(1 / 18))  # deviations 1/6, 1/6, -1/3
    assert str(res) == "0.3333 ± 0.2357"


def test_kfold_separable_data_is_perfect():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = y + 0.1 * rng.random(200)
    res = kfold_accuracy(s, y, n_folds=10)
    assert res.mean == 1.0 and res.std == 0.0
    with pytest.raises(ValueError, match="n_folds"):
        kfold_accuracy(s, y, n_folds=1)


def test_rank1_identification():
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    gallery_labels = np.array([7, 8, 9])
    probe = np.array([[0.9, 0.1], [0.2, 0.9], [-0.5, -0.4], [0.1, -1.0]])
    probe_labels = np.array([7, 8, 8, 9])
    # nearest: 7, 8, 9 (wrong), for [0.1,-1] cos with g: .0995, -.995, -.0995 → 7 (wrong)
    assert rank1_identification(probe, probe_labels, gallery, gallery_labels) == 0.5
    with pytest.raises(ValueError, match="one label per embedding"):
        rank1_identification(probe, probe_labels[:2], gallery, gallery_labels)
