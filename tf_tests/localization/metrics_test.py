"""IoU, top-1 Loc and GT-known Loc on hand-computed cases (exclusive-max boxes, areas without + 1)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.localization import gt_known_loc, iou, top1_loc


def test_iou_hand_cases():
    a = np.array([[0, 0, 2, 2], [0, 0, 4, 4], [0, 0, 2, 2], [1, 1, 3, 4], [0, 0, 0, 0]])
    b = np.array([[0, 0, 2, 4], [2, 2, 6, 6], [2, 2, 4, 4], [1, 1, 3, 4], [0, 0, 0, 0]])
    # 4 / 8; 4 / (16 + 16 - 4); touching corners share no pixel; identical; two empty boxes.
    np.testing.assert_allclose(iou(a, b), [0.5, 4 / 28, 0.0, 1.0, 0.0])


def test_iou_is_not_plus_one_and_broadcasts():
    # One-pixel boxes side by side: with +1 areas they would overlap; here they do not.
    assert iou([0, 0, 1, 1], [0, 1, 1, 2]) == 0.0
    pairwise = iou(np.array([[0, 0, 2, 2], [0, 0, 1, 1]])[:, None], np.array([[0, 0, 2, 2], [0, 0, 2, 4]])[None])
    np.testing.assert_allclose(pairwise, [[1.0, 0.5], [0.25, 0.125]])
    np.testing.assert_allclose(iou(tf.constant([[0, 0, 2, 2]]), tf.constant([[0, 0, 2, 4]])), [0.5])


def test_loc_threshold_is_strict_at_exactly_one_half():
    pred = np.array([[0, 0, 2, 2], [0, 0, 2, 2]])
    true = np.array([[0, 0, 2, 4], [0, 0, 2, 3]])  # IoU 4/8 = 0.5 exactly; 4/6 > 0.5.
    assert gt_known_loc(pred, true) == 0.5
    assert top1_loc([1, 1], [1, 1], pred, true) == 0.5
    assert gt_known_loc(pred, true, iou_threshold=0.49) == 1.0


def test_top1_loc_needs_the_right_class_and_the_right_box():
    pred = np.array([[0, 0, 4, 4]] * 4)
    true = np.array([[0, 0, 4, 4], [0, 0, 4, 4], [10, 10, 12, 12], [10, 10, 12, 12]])
    assert top1_loc([3, 5, 3, 5], [3, 3, 3, 3], pred, true) == 0.25
    assert gt_known_loc(pred, true) == 0.5


def test_several_gt_boxes_count_when_any_matches():
    pred = np.array([[0, 0, 4, 4], [0, 0, 4, 4], [0, 0, 4, 4]])
    true = [np.array([[20, 20, 30, 30], [0, 0, 4, 5]]),  # The second matches (16 / 20).
            np.array([[20, 20, 30, 30], [0, 0, 4, 8]]),  # 16 / 32 = 0.5: neither exceeds 0.5.
            np.array([[0, 0, 4, 4]])]
    assert gt_known_loc(pred, true) == pytest.approx(2 / 3)
    assert top1_loc([0, 0, 1], [0, 0, 0], pred, true) == pytest.approx(1 / 3)


@pytest.mark.parametrize("call,match", [
    (lambda: iou([0, 0, 1], [0, 0, 1, 1]), "boxes_a.shape"),
    (lambda: top1_loc([1, 2], [1], [[0, 0, 1, 1]], [[0, 0, 1, 1]]), "pred_classes"),
    (lambda: gt_known_loc([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]]), "gt boxes"),
])
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
