"""Box and image transforms against hand-computed arrays, eagerly, under XLA and in tf.data."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.data import transforms

# A 40x80 (H x W) image; box rows 8..23, cols 20..59 (pixel edges 8..24, 20..60).
BOX = np.array([8 / 40, 20 / 80, 24 / 40, 60 / 80], np.float32)


def _run_box_fn(mode, fn, *args):
    if mode == "eager":
        return fn(*args).numpy()
    if mode == "xla":
        return tf.function(fn, jit_compile=True)(*args).numpy()
    ds = tf.data.Dataset.from_tensors(args).map(fn)
    return next(iter(ds)).numpy()


@pytest.mark.parametrize("mode", ["eager", "xla", "tf.data"])
def test_crop_boxes_exact(mode):
    # Window top-left (4, 10), size 20 x 32: y 8..24 -> 4..20 of 20, x 20..60 -> 10..50 of 32.
    got = _run_box_fn(mode, transforms.crop_boxes, BOX, [4, 10], [20, 32], [40, 80])
    np.testing.assert_allclose(got, [4 / 20, 10 / 32, 1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("mode", ["eager", "xla", "tf.data"])
def test_crop_boxes_negative_offset_is_padding(mode):
    # Pad by 4 then crop 40x80 at padded (0, 0) == window offset (-4, -4) in the original.
    got = _run_box_fn(mode, transforms.crop_boxes, BOX, [-4, -4], [40, 80], [40, 80])
    np.testing.assert_allclose(got, [12 / 40, 24 / 80, 28 / 40, 64 / 80], atol=1e-6)


@pytest.mark.parametrize("mode", ["eager", "xla", "tf.data"])
def test_crop_and_flip_boxes_exact(mode):
    fn = lambda b, o, c, s: transforms.crop_and_flip_boxes(b, o, c, s, tf.constant(True))
    got = _run_box_fn(mode, fn, BOX, [0, 30], [40, 40], [40, 80])
    # x 20..60 -> -10..30 of 40 -> clipped 0..30 -> flipped 10..40.
    np.testing.assert_allclose(got, [8 / 40, 10 / 40, 24 / 40, 1.0], atol=1e-6)


def test_box_outside_window_collapses():
    got = transforms.crop_boxes(BOX, [30, 0], [10, 80], [40, 80]).numpy()
    np.testing.assert_allclose(got, [0.0, 0.25, 0.0, 0.75], atol=1e-6)


def test_flip_boxes_batched_flags():
    boxes = np.array([[0.1, 0.2, 0.3, 0.5], [0.0, 0.0, 1.0, 0.25]], np.float32)
    got = transforms.flip_boxes_left_right(boxes, tf.constant([True, False])).numpy()
    np.testing.assert_allclose(got, [[0.1, 0.5, 0.3, 0.8], [0.0, 0.0, 1.0, 0.25]], atol=1e-6)


@pytest.mark.parametrize("offset", [(-4, -4), (3, -2), (4, 4), (0, 0)])
def test_crop_matches_numpy_pad(offset):
    image = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3) + 1
    padded = np.pad(image, ((4, 4), (4, 4), (0, 0)))
    expected = padded[offset[0] + 4: offset[0] + 4 + 5, offset[1] + 4: offset[1] + 4 + 7]
    got = transforms.crop(image, offset, [5, 7])
    assert got.dtype == tf.uint8
    np.testing.assert_array_equal(got.numpy(), expected)
    in_graph = next(iter(tf.data.Dataset.from_tensors(image).map(
        lambda x: transforms.crop(x, offset, [5, 7])))).numpy()
    np.testing.assert_array_equal(in_graph, expected)


def test_flip_left_right():
    image = np.arange(2 * 3 * 1, dtype=np.uint8).reshape(2, 3, 1)
    np.testing.assert_array_equal(transforms.flip_left_right(image, True).numpy(), image[:, ::-1])
    np.testing.assert_array_equal(transforms.flip_left_right(image, False).numpy(), image)


def test_random_crop_offset_range_and_seed():
    offsets = np.array([transforms.random_crop_offset([37, 53], [32, 32], [i, 7], padding=4).numpy()
                        for i in range(200)])
    assert offsets[:, 0].min() == -4 and offsets[:, 0].max() == 37 - 32 + 4
    assert offsets[:, 1].min() == -4 and offsets[:, 1].max() == 53 - 32 + 4
    again = transforms.random_crop_offset([37, 53], [32, 32], [5, 7], padding=4).numpy()
    np.testing.assert_array_equal(again, offsets[5])


def test_center_crop_offset_rounds_like_torchvision():
    # torchvision: int(round((256 - 224) / 2)) = 16; int(round((341 - 224) / 2)) = round(58.5) = 58.
    offset = transforms.center_crop_offset([256, 341], [224, 224])
    np.testing.assert_array_equal(offset.numpy(), [16, 58])


def test_resize_keeps_uint8_and_shorter_side():
    image = np.full((37, 53, 3), 200, np.uint8)
    size = transforms.shorter_side_size([37, 53], 256).numpy()
    np.testing.assert_array_equal(size, [256, round(53 * 256 / 37)])
    out = transforms.resize(image, size)
    assert out.dtype == tf.uint8 and tuple(out.shape) == (256, 367, 3)
    np.testing.assert_array_equal(out.numpy(), 200)
