"""The paper's box rule against a hand-written flood fill (reference.py) and hand-made maps."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.localization import boxes_from_maps
import localization_reference as reference


def test_rows_3_to_7_give_ymin_3_ymax_8():
    score = np.zeros((1, 10, 12), np.float32)
    score[0, 3:8, 2:5] = 1.0
    np.testing.assert_array_equal(boxes_from_maps(score), [[3, 2, 8, 5]])


def test_keeps_largest_region_not_highest_and_diagonals_connect():
    score = np.zeros((1, 9, 9), np.float32)
    score[0, 0, 0] = 1.0  # The maximum, alone.
    score[0, 4, 4] = score[0, 5, 5] = score[0, 6, 6] = 0.5  # Three pixels joined only through corners.
    np.testing.assert_array_equal(boxes_from_maps(score), [[4, 4, 7, 7]])


def test_threshold_is_strict_and_relative_to_the_maximum():
    # 0.5 equals 0.25 * max exactly, so pixel 1 is background; with >= it would tie {0, 1} with {3, 4} and win.
    score = np.array([[[2.0, 0.5, 0.0, 0.6, 0.6]]], np.float32)
    np.testing.assert_array_equal(boxes_from_maps(score, threshold=0.25), [[0, 3, 1, 5]])
    np.testing.assert_array_equal(boxes_from_maps(score * 8.0, threshold=0.25), [[0, 3, 1, 5]])


def test_ties_go_to_the_first_region_in_raster_order():
    score = np.zeros((1, 8, 8), np.float32)
    score[0, 5:7, 0:2] = 1.0
    score[0, 1:3, 5:7] = 1.0  # Same size, first pixel earlier in raster order.
    np.testing.assert_array_equal(boxes_from_maps(score), [[1, 5, 3, 7]])


def test_empty_and_constant_maps():
    maps = np.stack([np.zeros((5, 7)), np.full((5, 7), 0.3), -np.ones((5, 7))]).astype(np.float32)
    np.testing.assert_array_equal(boxes_from_maps(maps), [[0, 0, 0, 0], [0, 0, 5, 7], [0, 0, 0, 0]])


@pytest.mark.parametrize("seed,height,width,threshold", [
    (0, 17, 29, 0.15), (1, 32, 9, 0.15), (2, 24, 24, 0.4), (3, 7, 41, 0.05), (4, 1, 13, 0.15)])
def test_matches_flood_fill_on_random_blobs(seed, height, width, threshold):
    rng = np.random.default_rng(seed)
    maps = np.concatenate([
        reference.blob_maps(rng, 12, height, width),
        (rng.random((6, height, width)) < 0.45).astype(np.float32),  # Many components, ties, borders.
        rng.integers(0, 3, (4, height, width)).astype(np.float32),  # Plateaus: ties at the threshold.
    ])
    expected = [reference.reference_box(m, threshold) for m in maps]
    got = boxes_from_maps(maps, threshold=threshold)
    assert got.dtype == np.int32 and got.shape == (len(maps), 4)
    np.testing.assert_array_equal(got, expected)


def test_accepts_tensors():
    maps = reference.blob_maps(np.random.default_rng(5), 3, 11, 13)
    np.testing.assert_array_equal(boxes_from_maps(tf.constant(maps)), boxes_from_maps(maps))


@pytest.mark.parametrize("maps,threshold,match", [
    (np.zeros((4, 4)), 0.15, "maps.shape"),
    (np.full((1, 2, 2), np.nan), 0.15, "NaN"),
    (np.zeros((1, 2, 2)), float("nan"), "threshold"),
])
def test_errors_name_the_argument(maps, threshold, match):
    with pytest.raises(ValueError, match=match):
        boxes_from_maps(maps, threshold=threshold)
