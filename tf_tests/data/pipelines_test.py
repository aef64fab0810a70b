"""The pipelines keep boxes on the object: a white rectangle on black, checked in NumPy."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.data import pipelines


def _rectangle_image(height, width, top, left, bottom, right):
    """Black uint8 image with white pixel rows top..bottom-1, cols left..right-1, and its box."""
    image = np.zeros((height, width, 3), np.uint8)
    image[top:bottom, left:right] = 255
    box = np.array([top / height, left / width, bottom / height, right / width], np.float32)
    return image, box


def _white_box(image):
    """Normalised box of the pixels brighter than mid-grey (pixel edges), or None."""
    white = image[..., 0] > 127
    if not white.any():
        return None
    rows, cols = np.flatnonzero(white.any(1)), np.flatnonzero(white.any(0))
    h, w = white.shape
    return np.array([rows[0] / h, cols[0] / w, (rows[-1] + 1) / h, (cols[-1] + 1) / w])


def _check_aligned(image, box, tolerance_px):
    size = image.shape[0]
    expected = _white_box(image)
    if expected is None:  # The crop missed the rectangle: the box must have no area.
        assert (box[2] - box[0]) * (box[3] - box[1]) * size * size < 2 * tolerance_px * size
        return
    np.testing.assert_allclose(box, expected, atol=tolerance_px / size)


CASES = [
    # name, image (H, W), rectangle (top, left, bottom, right), tolerance in output pixels.
    ("cifar10", (32, 32), (3, 20, 17, 31), 0),
    ("synthetic_shapes", (64, 64), (1, 5, 30, 62), 0),
    ("imagenet2012", (37, 53), (4, 30, 20, 50), 2),  # Non-square; resize blurs edges by ~1 px.
    ("imagenet2012", (300, 200), (10, 10, 120, 190), 1.5),
    ("caltech_birds2011", (53, 37), (30, 2, 50, 20), 2),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name, hw, rect, tolerance", CASES)
def test_boxes_follow_image(name, hw, rect, tolerance, training):
    image, box = _rectangle_image(*hw, *rect)
    pipeline = pipelines.PIPELINES[name]
    flips = 0
    for i in range(8):
        out, out_box = pipelines.preprocess(
            pipeline, image, box, tf.constant([i, 3]), training=training)
        out, out_box = out.numpy(), out_box.numpy()
        assert out.dtype == np.uint8 and out.shape == (pipeline.image_size,) * 2 + (3,)
        _check_aligned(out, out_box, tolerance)
        flips += int(out_box[1] + out_box[3] > box[1] + box[3] + 0.2)
    if not training:
        assert flips == 0


def test_in_tf_data_map_matches_eager_and_is_seeded():
    image, box = _rectangle_image(53, 37, 30, 2, 50, 20)
    pipeline = pipelines.PIPELINES["caltech_birds2011"]
    fn = lambda x, b, s: pipelines.preprocess(pipeline, x, b, s, training=True)
    seed = tf.constant([11, 2], tf.int64)
    eager = fn(image, box, seed)
    graph = next(iter(tf.data.Dataset.from_tensors((image, box, seed)).map(lambda *a: fn(*a))))
    for a, b in zip(eager, graph):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    other = fn(image, box, tf.constant([12, 2], tf.int64))
    assert not np.array_equal(other[1].numpy(), eager[1].numpy())


def test_pad_crop_test_recipe_is_identity():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    cifar = pipelines.PIPELINES["cifar10"]
    out, _ = pipelines.preprocess(cifar, image, None, [0, 0], training=False)
    np.testing.assert_array_equal(out.numpy(), image)


def test_training_crops_pad_with_zeros_and_flip():
    """Over many seeds the CIFAR recipe shifts by at most 4 pixels and flips about half the time."""
    image, box = _rectangle_image(32, 32, 10, 4, 20, 12)
    pipeline = pipelines.PIPELINES["cifar10"]
    shifts, flips = [], 0
    for i in range(64):
        _, out_box = pipelines.preprocess(pipeline, image, box, [i, 0], training=True)
        y0, x0, y1, x1 = out_box.numpy() * 32
        flipped = x0 > 16
        flips += flipped
        shifts.append(y0 - 10)
    assert 16 <= flips <= 48
    assert set(np.round(shifts).astype(int)) <= set(range(-4, 5)) and len(set(shifts)) > 3


def test_with_image_size_scales_resize():
    small = pipelines.PIPELINES["imagenet2012"].with_image_size(112)
    assert (small.image_size, small.resize_size) == (112, 128)
    with pytest.raises(ValueError, match="image_size"):
        pipelines.PIPELINES["cifar10"].with_image_size(0)
