"""voc_map: hand-computed cases and a straight port of py-faster-rcnn's voc_eval on random data."""

import numpy as np
import pytest
import voc_eval_reference as reference

from keras_cutmix.detection import voc_eval


def _image(gt_boxes, gt_classes, det_boxes, det_scores, det_classes, difficult=None):
    gt_boxes = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    difficult = np.zeros(len(gt_boxes), bool) if difficult is None else np.asarray(difficult)
    det = (np.asarray(det_boxes, np.float64).reshape(-1, 4), np.asarray(det_scores, np.float64),
           np.asarray(det_classes))
    return det, (gt_boxes, np.asarray(gt_classes), difficult)


G1, G2, G3, ELSEWHERE = [0, 0, 9, 9], [20, 20, 29, 29], [40, 40, 49, 49], [60, 60, 69, 69]


def test_11_point_and_all_point_differ_by_hand():
    """3 positives; ranked TP, FP, TP: recall 1/3, 1/3, 2/3 and precision 1, 1/2, 2/3.

    11-point: recall >= 0, .1, .2, .3 reach precision 1; .4, .5, .6 reach 2/3; the rest 0:
    (4 + 3 * 2/3) / 11 = 6/11. All-point: 1/3 * 1 + 1/3 * 2/3 = 5/9.
    """
    det, gt = _image([G1, G2, G3], [0, 0, 0], [G1, ELSEWHERE, G2], [0.9, 0.8, 0.7], [0, 0, 0])
    result = voc_eval.voc_map([det], [gt], num_classes=1)
    np.testing.assert_allclose(result["ap"], [6 / 11])
    np.testing.assert_allclose(result["map"], 6 / 11)
    result = voc_eval.voc_map([det], [gt], num_classes=1, use_07_metric=False)
    np.testing.assert_allclose(result["ap"], [5 / 9])


def test_duplicates_are_false_positives_by_hand():
    """2 positives; ranked TP, duplicate of it, TP: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1.

    11-point: (6 * 1 + 5 * 2/3) / 11 = 28/33. All-point: 1/2 * 1 + 1/2 * 2/3 = 5/6.
    """
    det, gt = _image([G1, G2], [0, 0], [G1, [0, 0, 9, 8], G2], [0.9, 0.8, 0.7], [0, 0, 0])
    np.testing.assert_allclose(voc_eval.voc_map([det], [gt], 1)["ap"], [28 / 33])
    np.testing.assert_allclose(voc_eval.voc_map([det], [gt], 1, use_07_metric=False)["ap"], [5 / 6])


def test_difficult_is_neither_true_nor_false_positive():
    """Detections on a difficult box (one of them a duplicate) are ignored and it is not a positive."""
    det, gt = _image([G1, G2], [0, 0], [G1, G1, G2], [0.9, 0.85, 0.8], [0, 0, 0],
                     difficult=[True, False])
    assert voc_eval.voc_map([det], [gt], 1)["ap"] == [1.0]
    # Not difficult: G1 is found first (TP), its duplicate is a FP, G2 a TP: 11-point 28/33.
    det, gt = _image([G1, G2], [0, 0], [G1, G1, G2], [0.9, 0.85, 0.8], [0, 0, 0])
    np.testing.assert_allclose(voc_eval.voc_map([det], [gt], 1)["ap"], [28 / 33])
    # A missed difficult box costs no recall.
    det, gt = _image([G1, G2], [0, 0], [G2], [0.5], [0], difficult=[True, False])
    assert voc_eval.voc_map([det], [gt], 1)["ap"] == [1.0]


def test_devkit_pixel_convention_and_strict_threshold():
    """Areas count inclusive pixels: IoU([0,0,9,9], [0,0,9,18]) = 100/190 > 0.5 (without +1: 81/162 = 0.5)."""
    det, gt = _image([[0, 0, 9, 18]], [0], [G1], [1.0], [0])
    assert voc_eval.voc_map([det], [gt], 1)["ap"] == [1.0]
    det, gt = _image([[0, 0, 9, 19]], [0], [G1], [1.0], [0])  # IoU exactly 100/200: not above 0.5.
    assert voc_eval.voc_map([det], [gt], 1)["ap"] == [0.0]
    assert voc_eval.voc_map([det], [gt], 1, iou_threshold=0.49)["ap"] == [1.0]


def test_classes_are_separate_and_empty_class_is_nan():
    """A box of the wrong class is a FP of its class; a class without ground truth is NaN, not averaged."""
    det0, gt0 = _image([G1], [0], [G1, G2], [0.9, 0.8], [0, 1])
    det1, gt1 = _image([G3], [1], np.zeros((0, 4)), [], [])
    empty = (np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    empty_gt = (np.zeros((0, 4)), np.zeros(0, int), np.zeros(0, bool))
    result = voc_eval.voc_map([det0, det1, empty], [gt0, gt1, empty_gt], num_classes=3)
    assert result["ap"][:2] == [1.0, 0.0] and np.isnan(result["ap"][2])
    assert result["map"] == 0.5
    assert np.isnan(voc_eval.voc_map([empty], [empty_gt], num_classes=2)["map"])


def test_argument_errors():
    det, gt = _image([G1], [0], [G1], [1.0], [0])
    with pytest.raises(ValueError, match="len\\(detections\\)=1, len\\(ground_truths\\)=2"):
        voc_eval.voc_map([det], [gt, gt], 1)
    with pytest.raises(ValueError, match=r"Expected `detections\[0\] classes` in \[0, num_classes=1\)\. Received: "
                                         r"detections\[0\] classes in \[3, 3\]"):
        voc_eval.voc_map([(det[0], det[1], np.array([3]))], [gt], 1)
    with pytest.raises(ValueError, match=r"Expected one score per box in detections\[0\]\. Received: 1 boxes"):
        voc_eval.voc_map([(det[0], np.ones(2), det[2])], [gt], 1)


def _random_data(rng, num_images, num_classes):
    detections, ground_truths = [], []
    for _ in range(num_images):
        m = rng.integers(0, 6)
        xy = rng.integers(0, 80, (m, 2))
        gt_boxes = np.concatenate([xy, xy + rng.integers(8, 40, (m, 2))], 1).astype(np.float64)
        gt_classes = rng.integers(0, num_classes, m)
        difficult = rng.random(m) < 0.2
        # Jittered copies of the ground truths (some twice: duplicates), some of another
        # class, and boxes anywhere.
        copies = rng.integers(0, m, rng.integers(0, 2 * m + 1)) if m else np.zeros(0, int)
        jitter = rng.normal(0.0, 1.5, (len(copies), 4))
        free_xy = rng.uniform(0, 90, (rng.integers(0, 4), 2))
        free = np.concatenate([free_xy, free_xy + rng.uniform(3, 40, free_xy.shape)], 1)
        boxes = np.concatenate([gt_boxes[copies] + jitter, free])
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
        classes = np.concatenate([gt_classes[copies], rng.integers(0, num_classes, len(free))])
        swap = rng.random(len(classes)) < 0.1
        classes[swap] = rng.integers(0, num_classes, swap.sum())
        detections.append((boxes, rng.random(len(boxes)), classes))
        ground_truths.append((gt_boxes, gt_classes, difficult))
    return detections, ground_truths


def _reference_aps(detections, ground_truths, num_classes, iou_threshold, use_07_metric):
    names = [str(i) for i in range(len(detections))]
    recs = {name: [{"name": int(c), "bbox": list(b), "difficult": int(d)} for b, c, d in zip(*gt)]
            for name, gt in zip(names, ground_truths)}
    aps = []
    for c in range(num_classes):
        dets = [(name, s, b) for name, (boxes, scores, classes) in zip(names, detections)
                for b, s, k in zip(boxes, scores, classes) if k == c]
        aps.append(reference.voc_eval(dets, recs, names, c, iou_threshold, use_07_metric)[2])
    return aps


@pytest.mark.parametrize("use_07_metric", [True, False])
@pytest.mark.parametrize("iou_threshold", [0.5, 0.7])
def test_matches_py_faster_rcnn_port_on_random_data(use_07_metric, iou_threshold):
    rng = np.random.default_rng(int(use_07_metric) + int(10 * iou_threshold))
    for _ in range(5):
        detections, ground_truths = _random_data(rng, num_images=25, num_classes=4)
        positives = np.bincount(np.concatenate([c[~d] for _, c, d in ground_truths]), minlength=4)
        assert positives.min() > 0  # Every class has ground truth: the reference is defined.
        result = voc_eval.voc_map(detections, ground_truths, 4, iou_threshold, use_07_metric)
        expected = _reference_aps(detections, ground_truths, 4, iou_threshold, use_07_metric)
        np.testing.assert_allclose(result["ap"], expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(result["map"], np.mean(expected), rtol=1e-12)
        assert 0.05 < result["map"] < 0.95  # Neither trivial nor empty.
