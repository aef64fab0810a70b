"""`object_coverage` against hand-counted pixels and a direct NumPy / OpenCV count of the box rule's region."""

import cv2
import localization_reference as reference
import numpy as np
import pytest

from keras_cutmix.localization import object_coverage


def test_hand_counted_pixels():
    score = np.array([[0.0, 0.2, 0.4, 0.1],
                      [0.3, 1.0, 0.8, 0.5],
                      [0.1, 0.9, 0.6, 0.0],
                      [0.0, 0.5, 0.2, 0.0]], np.float32)
    mask = np.array([[0, 0, 0, 0],
                     [0, 1, 1, 1],
                     [0, 1, 1, 1],
                     [0, 1, 1, 0]], bool)
    # Region at 0.5: 1.0, 0.8, 0.9, 0.6 (0.5 itself is not > 0.5): 4 pixels, all on the 8-pixel object.
    result = object_coverage(score, mask, threshold=0.5)
    assert result["object_covered"] == 4 / 8 and result["outside_object"] == 0.0
    # Region at 0.15: ten pixels above 0.15, of which 0.2, 0.4 and 0.3 lie off the object.
    result = object_coverage(score, mask, threshold=0.15)
    assert result["object_covered"] == pytest.approx(7 / 8) and result["outside_object"] == pytest.approx(3 / 10)
    assert result["num_images"] == 1 and result["threshold"] == 0.15


def test_per_image_and_means_skip_undefined_images():
    maps = np.zeros((3, 4, 4), np.float32)
    maps[0, 0, :2] = 1.0  # Two pixels: one on the object, one off.
    maps[2, 1:3, 1:3] = 1.0  # Covers all of the object, nothing outside.
    masks = np.zeros((3, 4, 4), bool)
    masks[0, 0, 1:] = True
    masks[1, 2, 2] = True  # A zero map: empty region, covers nothing, `outside` undefined.
    masks[2, 1:3, 1:3] = True
    result = object_coverage(maps, masks)
    np.testing.assert_array_equal(result["per_image"]["object_covered"], [1 / 3, 0.0, 1.0])
    np.testing.assert_array_equal(result["per_image"]["outside_object"], [0.5, np.nan, 0.0])
    assert result["object_covered"] == pytest.approx(4 / 9) and result["outside_object"] == 0.25
    empty = object_coverage(maps[1:2], np.zeros((1, 4, 4)))
    assert np.isnan(empty["object_covered"]) and np.isnan(empty["outside_object"])


@pytest.mark.parametrize("threshold", [0.0, 0.15, 0.5])
def test_region_is_the_box_rules_foreground_on_cam_maps(threshold):
    """On maps in [0, 1] reaching 0 and 1 (what `cam` returns), the region is `map > threshold * max`."""
    rng = np.random.default_rng(0)
    maps = reference.blob_maps(rng, 8, 23, 17)
    masks = reference.blob_maps(rng, 8, 23, 17) > 0.5
    masks[:, 11, 8] = True
    region = maps > threshold * maps.max(axis=(1, 2), keepdims=True)
    result = object_coverage(maps, (masks * 255).astype(np.uint8)[..., None], threshold=threshold)
    covered = [(r & m).sum() / m.sum() for r, m in zip(region, masks)]
    outside = [(r & ~m).sum() / r.sum() for r, m in zip(region, masks)]
    np.testing.assert_allclose(result["per_image"]["object_covered"], covered, rtol=0, atol=1e-15)
    np.testing.assert_allclose(result["per_image"]["outside_object"], outside, rtol=0, atol=1e-15)
    assert result["object_covered"] == pytest.approx(np.mean(covered), abs=1e-15)


def test_maps_of_another_size_and_range_go_through_wsolevaluations_pipeline():
    """Raw maps [N, 6, 5] against masks [N, 30, 25]: cv2 bicubic to the mask size, min-max, then the rule."""
    rng = np.random.default_rng(1)
    small = reference.blob_maps(rng, 5, 6, 5) * 3 - 1
    masks = reference.blob_maps(rng, 5, 30, 25) > 0.4
    masks[:, 15, 12] = True
    resized = [cv2.resize(m, (25, 30), interpolation=cv2.INTER_CUBIC).astype(np.float64) for m in small]
    region = np.stack([(r - r.min()) / (r.max() - r.min()) > 0.3 for r in resized])
    result = object_coverage(small, masks, threshold=0.3)
    # float32 resizing in another summation order: a pixel may sit on the other side of the threshold.
    covered = np.array([(r & m).sum() / m.sum() for r, m in zip(region, masks)])
    np.testing.assert_allclose(result["per_image"]["object_covered"], covered, atol=1.5 / masks.sum(axis=(1, 2)).min())


@pytest.mark.parametrize("maps,masks,threshold,message", [
    (np.zeros((2, 4, 4)), np.ones((2, 4, 4)), 15, "looks like a percentage: pass 0.15"),
    (np.full((2, 4, 4), np.inf), np.ones((2, 4, 4)), 0.15, "finite `maps`"),
    (np.zeros((2, 4, 4)), np.ones((1, 4, 4)), 0.15, "one map in `maps` per mask"),
    (np.zeros((2, 4, 4)), np.full((2, 4, 4), 7), 0.15, "binary `masks`"),
])
def test_bad_input_names_the_argument(maps, masks, threshold, message):
    with pytest.raises(ValueError, match="object_coverage") as error:
        object_coverage(maps, masks, threshold=threshold)
    assert message in str(error.value)
