"""Segmentation precision / IoU and landmark NME against hand-computed values."""

import math

import numpy as np
import pytest
import torch

from facezoo.eval.metrics import confusion_matrix, landmark_nme, segmentation_scores


def test_segmentation_scores_by_hand():
    target = np.array([[0, 0, 1, 1], [0, 2, 2, 1]])
    pred = np.array([[0, 1, 1, 1], [0, 2, 0, 1]])
    cm = confusion_matrix(pred, target, 4)
    np.testing.assert_array_equal(cm[:3, :3], [[2, 1, 0], [0, 3, 0], [1, 0, 1]])
    s = segmentation_scores(pred, target, num_classes=4)
    # class 0: TP 2, pred 3, target 3 → P 2/3, IoU 2/4; class 1: TP 3, pred 4, target 3 → P 3/4, IoU 3/4
    # class 2: TP 1, pred 1, target 2 → P 1, IoU 1/2; class 3: absent → NaN
    np.testing.assert_allclose(s.precision[:3], [2 / 3, 3 / 4, 1.0])
    np.testing.assert_allclose(s.iou[:3], [0.5, 0.75, 0.5])
    assert math.isnan(s.precision[3]) and math.isnan(s.iou[3])
    assert s.mean_precision == pytest.approx((2 / 3 + 3 / 4 + 1) / 3)
    assert s.mean_iou == pytest.approx((0.5 + 0.75 + 0.5) / 3)
    assert s.pixel_accuracy == pytest.approx(6 / 8)


def test_segmentation_ignore_index_and_errors():
    target = torch.tensor([[0, 255], [1, 1]])
    pred = torch.tensor([[0, 0], [1, 0]])
    s = segmentation_scores(pred, target, num_classes=2, ignore_index=255)
    # counted pixels: (0,0) (1,1) (1,0): class0 TP1 pred2 tgt1 → P .5 IoU .5 ; class1 TP1 pred1 tgt2 → P 1 IoU .5
    np.testing.assert_allclose(s.precision, [0.5, 1.0])
    np.testing.assert_allclose(s.iou, [0.5, 0.5])
    with pytest.raises(ValueError, match="outside"):
        segmentation_scores(pred, target, num_classes=2)
    with pytest.raises(ValueError, match="integer labels"):
        segmentation_scores(pred.float(), target, num_classes=2)


def _face68():
    t = np.zeros((68, 2))
    t[:, 0] = np.linspace(0, 30, 68)
    t[:, 1] = np.linspace(0, 40, 68)[::-1]
    t[36] = [10.0, 20.0]
    t[45] = [50.0, 20.0]  # inter-ocular 40; bbox 50 x 40
    return t


def test_landmark_nme_inter_ocular_and_bbox():
    t = _face68()
    p = t.copy()
    p[0] += [3.0, 4.0]  # one point off by 5 px; every other point exact
    p[1] += [0.0, 6.8]  # another off by 6.8 px
    mean_err = (5.0 + 6.8) / 68
    assert landmark_nme(p, t) == pytest.approx(mean_err / 40.0)
    assert landmark_nme(p, t, normalization="bbox") == pytest.approx(mean_err / math.sqrt(50 * 40))
    # batch, torch, per-face
    tb = torch.from_numpy(np.stack([t, t]))
    pb = torch.from_numpy(np.stack([p, t]))
    np.testing.assert_allclose(landmark_nme(pb, tb, reduction="none"), [mean_err / 40.0, 0.0])
    # other layouts name their eye corners
    five = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 5.0], [2.0, 9.0], [8.0, 9.0]])
    assert landmark_nme(five + [1.0, 0.0], five, eye_indices=(0, 1)) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="out of range"):
        landmark_nme(five, five)
    with pytest.raises(ValueError, match="normalization"):
        landmark_nme(p, t, normalization="face")
