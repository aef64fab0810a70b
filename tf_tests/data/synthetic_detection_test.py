"""synthetic_detection: the scene generator (determinism, boxes from masks, difficult rule), its builder."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_cutmix.data import synthetic_detection
from keras_cutmix.data import synthetic_generator as gen


@pytest.fixture(scope="module")
def scenes():
    return gen.generate_scenes(np.random.default_rng(5), 96)


def test_generate_scenes_is_deterministic(scenes):
    again = gen.generate_scenes(np.random.default_rng(5), 96)
    for key in scenes:
        np.testing.assert_array_equal(again[key], scenes[key])
    other = gen.generate_scenes(np.random.default_rng(6), 96)
    assert not np.array_equal(other["image"], scenes["image"])
    first = list(synthetic_detection.iterate_scenes((1, 0), 3, image_size=64))
    second = list(synthetic_detection.iterate_scenes((1, 0), 3, image_size=64))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a["image"], b["image"])
        np.testing.assert_array_equal(a["objects"]["bbox"], b["objects"]["bbox"])


def test_shapes_counts_and_padding(scenes):
    assert scenes["image"].shape == (96, 128, 128, 3) and scenes["image"].dtype == np.uint8
    assert scenes["bbox"].shape == (96, 8, 4) and scenes["mask"].shape == (96, 8, 128, 128)
    counts = scenes["num_objects"]
    assert 1 <= counts.min() and counts.max() <= 8 and 4.5 < counts.mean() < 6.0
    listed = np.arange(8)[None] < counts[:, None]
    np.testing.assert_array_equal(scenes["label"] >= 0, listed)  # Padding: label -1 ...
    assert not scenes["bbox"][~listed].any() and not scenes["is_difficult"][~listed].any()
    assert not scenes["mask"][~listed].any()  # ... no box, no pixels, never difficult.
    labels = scenes["label"][listed]
    assert set(np.unique(labels)) == set(range(gen.NUM_CLASSES))


def test_boxes_are_tight_boxes_of_visible_masks(scenes):
    """Box edges (rows r0..r1 -> [r0/H, (r1+1)/H]) recomputed from each object's visible pixels."""
    masks, boxes = scenes["mask"][scenes["label"] >= 0], scenes["bbox"][scenes["label"] >= 0]
    for mask, box in zip(masks, boxes):
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        expected = np.array([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]) / 128
        np.testing.assert_allclose(box, expected, atol=1e-6)
    # Visible masks never overlap: each pixel shows at most one object.
    assert scenes["mask"].sum(1).max() == 1


def test_small_overlapping_and_difficult_objects(scenes):
    """Sizes vary (many small), objects overlap, and the difficult rule holds where it can be re-derived."""
    listed = scenes["label"] >= 0
    box = scenes["bbox"][listed] * 128
    side = np.minimum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    difficult = scenes["is_difficult"][listed]
    assert (side < 16).mean() > 0.3 and (side > 28).mean() > 0.05
    assert difficult[side < 8].all() and 0.05 < difficult.mean() < 0.35  # Tiny: always difficult.
    # Each large difficult object is occluded: a later object shows inside its box (grown by a pixel).
    occluded = 0
    for i, j in zip(*np.nonzero(scenes["is_difficult"])):
        y0, x0, y1, x1 = np.round(scenes["bbox"][i, j] * 128).astype(int)
        if min(y1 - y0, x1 - x0) < 8:
            continue
        later = scenes["mask"][i, j + 1:, max(y0 - 1, 0):y1 + 1, max(x0 - 1, 0):x1 + 1]
        assert later.any(), (i, j)
        occluded += 1
    assert occluded >= 3


def test_builder_builds_voc_like_features(tmp_path):
    assert "synthetic_detection" in tfds.list_builders()
    config = synthetic_detection.SyntheticDetectionConfig(name="tiny", num_train=6, num_test=3, seed=2)
    builder = synthetic_detection.SyntheticDetection(config=config, data_dir=str(tmp_path))
    builder.download_and_prepare()
    objects = builder.info.features["objects"]
    assert isinstance(objects, tfds.features.Sequence)
    assert isinstance(objects.feature["bbox"], tfds.features.BBoxFeature)
    assert objects.feature["label"].names == list(gen.CLASS_NAMES)
    assert builder.info.splits["train"].num_examples == 6 and builder.info.splits["test"].num_examples == 3
    expected = list(synthetic_detection.iterate_scenes((2, 1), 3))
    read = list(tfds.as_numpy(builder.as_dataset(split="test", shuffle_files=False)))
    key = lambda example: example["image"].tobytes()
    for got, want in zip(sorted(read, key=key), sorted(expected, key=key)):
        np.testing.assert_array_equal(got["image"], want["image"])
        np.testing.assert_allclose(got["objects"]["bbox"], want["objects"]["bbox"], atol=1e-7)
        np.testing.assert_array_equal(got["objects"]["label"], want["objects"]["label"])
        np.testing.assert_array_equal(got["objects"]["is_difficult"], want["objects"]["is_difficult"])
