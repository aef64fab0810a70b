"""Property tests: every metric on random well-formed input against an independent reference.

References: brute-force pixel counting of rasterised boxes (`iou`), wsolevaluation's `calculate_multiple_iou`
on its inclusive boxes (`top1_loc`, `gt_known_loc`), the wsolevaluation port over OpenCV (`max_box_acc`), and
a hand-written flood fill (`boxes_from_maps`). Inputs come in the forms users pass (lists, NumPy scalars,
float boxes, one-hot labels, tensors).
"""

import localization_reference as reference
import numpy as np
import pytest
import tensorflow as tf
import wsolevaluation_port as port

from keras_cutmix import localization


def _mask(box, height, width):
    mask = np.zeros((height, width), bool)
    mask[box[0]:box[2], box[1]:box[3]] = True
    return mask


def _pixel_iou(a, b, height, width):
    """IoU by counting the pixels of two rasterised exclusive-max boxes."""
    ma, mb = _mask(a, height, width), _mask(b, height, width)
    union = (ma | mb).sum()
    return (ma & mb).sum() / union if union else 0.0


def _random_boxes(rng, count, height, width, allow_empty=True):
    """Random [ymin, xmin, ymax, xmax) boxes within the image; non-empty unless `allow_empty`."""
    if allow_empty:
        y = np.sort(rng.integers(0, height + 1, (count, 2)), axis=1)
        x = np.sort(rng.integers(0, width + 1, (count, 2)), axis=1)
        return np.stack([y[:, 0], x[:, 0], y[:, 1], x[:, 1]], axis=1)
    y0, x0 = rng.integers(0, height, count), rng.integers(0, width, count)
    return np.stack([y0, x0, rng.integers(y0 + 1, height + 1), rng.integers(x0 + 1, width + 1)], axis=1)


@pytest.mark.parametrize("seed", range(4))
def test_iou_equals_pixel_counting_in_pixels_fractions_and_eighths(seed):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(1, 30, 2)
    a, b = _random_boxes(rng, 200, height, width), _random_boxes(rng, 200, height, width)
    expected = np.array([_pixel_iou(p, q, height, width) for p, q in zip(a, b)])
    np.testing.assert_allclose(localization.iou(a, b), expected, rtol=1e-12)
    # The same boxes normalised (IoU is scale-free), as lists and tensors.
    scale = np.array([height, width, height, width], np.float64)
    np.testing.assert_allclose(localization.iou((a / scale).tolist(), tf.constant(b / scale)), expected, atol=1e-12)
    # Fractional pixel boxes on a 1/8 grid: pixel counting at 8x resolution.
    fa, fb = a / 8.0, b / 8.0
    got = localization.iou(fa[:, None], fb[None, :20])  # Broadcast: [200, 20].
    expected_8 = np.array([[_pixel_iou(p, q, height, width) for q in b[:20]] for p in a])
    np.testing.assert_allclose(got, expected_8, rtol=1e-12)


def _wsol_hits(pred, gts, threshold):
    """wsolevaluation's IoU (inclusive boxes, + 1 areas) of each box with its gt boxes, > threshold for any."""
    return np.array([(port.calculate_multiple_iou(reference.to_wsol(p[None]), reference.to_wsol(g)) > threshold).any()
                     for p, g in zip(pred, gts)])


@pytest.mark.parametrize("seed", range(4))
def test_top1_and_gt_known_loc_equal_wsolevaluation_iou(seed):
    rng = np.random.default_rng(10 + seed)
    count, height, width, num_classes = 60, *rng.integers(2, 24, 2), 5
    pred = _random_boxes(rng, count, height, width, allow_empty=False)
    gts = [_random_boxes(rng, rng.integers(1, 4), height, width, allow_empty=False) for _ in range(count)]
    # Some exact matches, so high thresholds are met too.
    for i in rng.choice(count, count // 4, replace=False):
        gts[i][0] = pred[i]
    pred_classes, true_classes = rng.integers(0, num_classes, count), rng.integers(0, num_classes, count)
    pred_classes[: count // 2] = true_classes[: count // 2]
    threshold = float(rng.choice([0.0, 0.3, 0.5, 0.7, rng.random()]))
    hits = _wsol_hits(pred, gts, threshold)
    got = localization.gt_known_loc(pred, gts, iou_threshold=np.float64(threshold))
    assert got == pytest.approx(hits.mean(), abs=1e-12)
    expected = (hits & (pred_classes == true_classes)).mean()
    got = localization.top1_loc(np.eye(num_classes)[pred_classes], true_classes[:, None], pred.tolist(), gts,
                                iou_threshold=threshold)
    assert got == pytest.approx(expected, abs=1e-12)
    # One gt box per image: the [B, 4] and [B, K, 4] array forms.
    first = np.stack([g[0] for g in gts])
    assert localization.gt_known_loc(pred, first, threshold) == pytest.approx(
        _wsol_hits(pred, first[:, None], threshold).mean(), abs=1e-12)
    assert localization.gt_known_loc(pred, first[:, None], threshold) == localization.gt_known_loc(
        pred, first, threshold)


@pytest.mark.parametrize("seed,multi_contour", [(0, True), (1, True), (2, False)])
def test_max_box_acc_equals_wsolevaluation_with_random_thresholds(seed, multi_contour):
    rng = np.random.default_rng(20 + seed)
    height, width = rng.integers(3, 20, 2)
    maps = np.concatenate([reference.blob_maps(rng, 5, height, width), rng.random((3, height, width))])
    gts = reference.random_gt_boxes(rng, len(maps), height, width)
    thresholds = tuple(int(t) for t in sorted(rng.choice(np.arange(5, 96), 3, replace=False)))
    interval = float(rng.choice([0.01, 0.02, 0.05]))
    accuracies, best, _ = port.evaluate(maps, [reference.to_wsol(g) for g in gts], thresholds, interval,
                                        multi_contour)
    fractions = [np.float64(t / 100) for t in thresholds]  # NumPy scalars, as users pass them.
    got = localization.max_box_acc(maps, [g.astype(np.float64) for g in gts], fractions, interval, multi_contour,
                                   chunk_size=3)
    for t, accuracy, cam_threshold in zip(fractions, accuracies, best):
        if not multi_contour:  # V1 may differ on noisy maps with holes (see max_box_acc_test).
            assert abs(got["max_box_acc"][t] * 100 - accuracy) <= 100 / len(maps)
            continue
        assert got["max_box_acc"][t] * 100 == pytest.approx(accuracy, abs=1e-9)
        assert got["best_cam_threshold"][t] == pytest.approx(cam_threshold)


@pytest.mark.parametrize("seed", range(3))
def test_boxes_from_maps_equals_flood_fill(seed):
    rng = np.random.default_rng(30 + seed)
    height, width = rng.integers(1, 25, 2)
    maps = np.concatenate([reference.blob_maps(rng, 6, height, width, dtype=np.float64),
                           rng.normal(size=(4, height, width)),  # Any finite range, negative maxima too.
                           rng.integers(0, 4, (3, height, width)).astype(np.float64)])
    threshold = float(rng.choice([0.0, 0.15, rng.random(), 1.0]))
    expected = [reference.reference_box(m, threshold) for m in maps]
    np.testing.assert_array_equal(localization.boxes_from_maps(tf.constant(maps), np.float64(threshold)), expected)
