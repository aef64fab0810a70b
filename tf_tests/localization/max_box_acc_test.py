"""MaxBoxAcc against a straight OpenCV port of clovaai/wsolevaluation (wsolevaluation_port.py).

V2 must give wsolevaluation's per-threshold counts exactly; V1 (largest region by pixel count instead of
OpenCV's largest contour by polygon area) within 0.2 percentage points.
"""

import localization_reference as reference
import numpy as np
import pytest
import tensorflow as tf
import wsolevaluation_port as port

from keras_cutmix.localization import max_box_acc
from keras_cutmix.localization.metrics import correct_counts

IOUS = (0.3, 0.5, 0.7)


def _port_counts(maps, gt_boxes, multi_contour, interval=0.001):
    _, _, evaluator = port.evaluate(maps, [reference.to_wsol(b) for b in gt_boxes], (30, 50, 70), interval,
                                    multi_contour)
    return [evaluator.num_correct[t] for t in (30, 50, 70)]


def _our_counts(maps, gt_boxes, multi_contour, interval=0.001, chunk_size=16):
    _, counts = correct_counts(maps, gt_boxes, IOUS, interval, multi_contour, chunk_size)
    return [counts[t] for t in IOUS]


def _maps(seed, height, width):
    rng = np.random.default_rng(seed)
    maps = np.concatenate([reference.blob_maps(rng, 10, height, width), reference.ring_maps(rng, 4, height, width),
                           rng.random((2, height, width)).astype(np.float32)])  # Noise: many regions and holes.
    return maps, reference.random_gt_boxes(rng, len(maps), height, width)


@pytest.mark.parametrize("seed,height,width,interval", [(0, 24, 24, 0.001), (1, 19, 33, 0.003), (2, 40, 13, 0.003)])
def test_v2_counts_equal_wsolevaluation_at_every_threshold(seed, height, width, interval):
    maps, gt_boxes = _maps(seed, height, width)
    for ours, theirs in zip(_our_counts(maps, gt_boxes, True, interval, chunk_size=5),
                            _port_counts(maps, gt_boxes, True, interval)):
        np.testing.assert_array_equal(ours, theirs)


def test_v1_counts_equal_wsolevaluation_on_smooth_maps():
    rng = np.random.default_rng(7)
    maps = np.concatenate([reference.blob_maps(rng, 12, 22, 17), reference.ring_maps(rng, 4, 22, 17)])
    gt_boxes = reference.random_gt_boxes(rng, len(maps), 22, 17)
    for ours, theirs in zip(_our_counts(maps, gt_boxes, False), _port_counts(maps, gt_boxes, False)):
        np.testing.assert_array_equal(ours, theirs)


def test_v1_within_a_fifth_of_a_point_on_noisy_maps_with_holes():
    # Where V1 is not exact: regions with holes (their area is not added back), noise. 500 small maps.
    rng = np.random.default_rng(3)
    maps = np.concatenate([rng.random((250, 12, 14)), reference.ring_maps(rng, 250, 12, 14)]).astype(np.float32)
    gt_boxes = reference.random_gt_boxes(rng, len(maps), 12, 14)
    result = max_box_acc(maps, gt_boxes, multi_contour=False, cam_curve_interval=0.01)
    accuracies, _, _ = port.evaluate(maps, [reference.to_wsol(b) for b in gt_boxes], cam_curve_interval=0.01,
                                     multi_contour_eval=False)
    for t, theirs in zip(IOUS, accuracies):
        assert abs(100 * result["max_box_acc"][t] - theirs) <= 0.2 + 1e-9


def test_result_layout_and_best_threshold_equal_wsolevaluation():
    maps, gt_boxes = _maps(5, 28, 20)
    result = max_box_acc(tf.constant(maps), gt_boxes, cam_curve_interval=0.01)
    accuracies, best, _ = port.evaluate(maps, [reference.to_wsol(b) for b in gt_boxes], cam_curve_interval=0.01)
    assert set(result) == {"max_box_acc", "mean", "best_cam_threshold"}
    np.testing.assert_allclose([100 * result["max_box_acc"][t] for t in IOUS], accuracies, rtol=1e-12)
    assert [result["best_cam_threshold"][t] for t in IOUS] == best
    assert result["mean"] == pytest.approx(np.mean(accuracies) / 100)


def test_a_hole_can_be_the_best_box():
    # A square ring; the gt box is the hole. Only the hole's contour box (grown by one pixel) matches it.
    score = np.zeros((1, 16, 16), np.float32)
    score[0, 3:13, 3:13] = 1.0
    score[0, 5:11, 5:11] = 0.0
    gt_boxes = [np.array([[4, 4, 12, 12]])]
    assert max_box_acc(score, gt_boxes)["max_box_acc"][0.7] == 1.0
    np.testing.assert_array_equal(_our_counts(score, gt_boxes, True), _port_counts(score, gt_boxes, True))
    assert max_box_acc(score, gt_boxes, multi_contour=False)["max_box_acc"][0.7] == 0.0


def test_iou_of_exactly_one_half_counts():
    # Their box of rows/cols 2..5 is x0=2, x1=5+1 (the `x + w` quirk): 5 x 5 = 25 pixels with `+ 1` areas.
    # The gt covers rows 2..11 and cols 2..6 (their x0y0x1y1 (2, 2, 6, 11)): 50 pixels, IoU = 25 / 50 exactly.
    score = np.zeros((1, 12, 12), np.float32)
    score[0, 2:6, 2:6] = 1.0
    gt_boxes = [np.array([[2, 2, 12, 7]])]
    result = max_box_acc(score, gt_boxes)
    assert result["max_box_acc"][0.5] == 1.0 and result["max_box_acc"][0.7] == 0.0
    np.testing.assert_array_equal(_our_counts(score, gt_boxes, True), _port_counts(score, gt_boxes, True))


def test_zero_map_and_float64_maps_follow_wsolevaluation():
    rng = np.random.default_rng(6)
    maps = np.concatenate([np.zeros((1, 9, 11)), reference.blob_maps(rng, 5, 9, 11, dtype=np.float64)])
    gt_boxes = [np.array([[0, 0, 1, 1]])] + reference.random_gt_boxes(rng, 5, 9, 11)  # The fallback box hits.
    assert maps.dtype == np.float64
    for multi in (True, False):
        np.testing.assert_array_equal(_our_counts(maps, gt_boxes, multi), _port_counts(maps, gt_boxes, multi))


@pytest.mark.parametrize("maps,gt_boxes,match", [
    (np.full((1, 4, 4), 1.5), [np.array([[0, 0, 2, 2]])], r"maps.max\(\)"),
    (np.zeros((1, 4, 4)), [np.array([[2, 2, 2, 3]])], "non-zero size"),
    (np.zeros((2, 4, 4)), [np.array([[0, 0, 2, 2]])], "gt boxes"),
])
def test_errors_name_the_argument(maps, gt_boxes, match):
    with pytest.raises(ValueError, match=match):
        max_box_acc(maps, gt_boxes)


@pytest.mark.parametrize("height,width", [(1, 9), (9, 1), (1, 1), (2, 3)])
def test_thin_maps_equal_wsolevaluation(height, width):
    rng = np.random.default_rng(height * 10 + width)
    maps = np.concatenate([rng.random((6, height, width)), reference.blob_maps(rng, 4, height, width)])
    gt_boxes = reference.random_gt_boxes(rng, len(maps), height, width)
    for multi in (True, False):
        np.testing.assert_array_equal(_our_counts(maps.astype(np.float32), gt_boxes, multi, 0.01),
                                      _port_counts(maps.astype(np.float32), gt_boxes, multi, 0.01))
