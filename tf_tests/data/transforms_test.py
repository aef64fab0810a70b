"""Box and image transforms against hand-computed arrays and NumPy: eager, XLA, tf.data."""

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


def _np_random_resized_crop(rng, height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """NumPy port of torchvision's RandomResizedCrop.get_params: (top, left, h, w)."""
    area = height * width
    log_ratio = np.log(ratio)
    for _ in range(10):
        target_area = area * rng.uniform(*scale)
        aspect = np.exp(rng.uniform(*log_ratio))
        w = int(round(np.sqrt(target_area * aspect)))
        h = int(round(np.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return rng.integers(0, height - h + 1), rng.integers(0, width - w + 1), h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _tf_windows(height, width, count, **kwargs):
    """(top, left, h, w) of `count` seeds, drawn inside tf.data.map."""
    seeds = tf.stack([tf.range(count, dtype=tf.int64), tf.fill([count], tf.constant(4, tf.int64))],
                     1)
    fn = lambda s: tf.concat(transforms.random_resized_crop_window([height, width], s, **kwargs), 0)
    return next(iter(tf.data.Dataset.from_tensor_slices(seeds).map(fn).batch(count))).numpy()


@pytest.mark.parametrize("height, width", [(200, 300), (53, 37)])
def test_random_resized_crop_window_constraints_and_statistics(height, width):
    got = _tf_windows(height, width, 2000)
    top, left, h, w = got.T
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + h <= height).all() and (left + w <= width).all() and (h > 0).all()
    # Rounded from an area in [0.08, 1] of the image and an aspect w / h in [3/4, 4/3].
    assert ((w + 0.5) * (h + 0.5) >= 0.08 * height * width).all()
    assert ((w + 0.5) / np.maximum(h - 0.5, 0.5) >= 3 / 4).all()
    assert ((w - 0.5) / (h + 0.5) <= 4 / 3).all()
    rng = np.random.default_rng(0)
    ref = np.array([_np_random_resized_crop(rng, height, width) for _ in range(2000)])
    # The same distribution as torchvision's sampler.
    area = got[:, 2] * got[:, 3] / (height * width)
    ref_area = ref[:, 2] * ref[:, 3] / (height * width)
    np.testing.assert_allclose(np.quantile(area, [0.1, 0.25, 0.5, 0.75, 0.9]),
                               np.quantile(ref_area, [0.1, 0.25, 0.5, 0.75, 0.9]), atol=0.04)
    log_aspect = np.log(got[:, 3] / got[:, 2])
    ref_log_aspect = np.log(ref[:, 3] / ref[:, 2])
    np.testing.assert_allclose(np.quantile(log_aspect, [0.1, 0.5, 0.9]),
                               np.quantile(ref_log_aspect, [0.1, 0.5, 0.9]), atol=0.04)
    # Position uniform over the free space: the mean relative offset is 1/2.
    free = np.maximum(height - h, 1)
    assert abs(np.mean(top / free) - 0.5) < 0.05


@pytest.mark.parametrize("hw, kwargs, expected", [
    # No try fits: centre crop of the whole image with the aspect ratio clamped to [3/4, 4/3].
    ((10, 1000), {}, [0, 493, 10, 13]),    # 13 = round(10 * 4/3), left = (1000 - 13) // 2.
    ((1000, 10), {}, [493, 0, 13, 10]),    # 13 = round(10 / (3/4)).
    ((30, 40), {"scale": (1.5, 2.0)}, [0, 0, 30, 40]),   # Aspect in range: the whole image.
    ((30, 60), {"scale": (1.5, 2.0)}, [0, 10, 30, 40]),  # 40 = 30 * 4/3.
])
def test_random_resized_crop_window_fallback(hw, kwargs, expected):
    got = np.concatenate([t.numpy() for t in transforms.random_resized_crop_window(
        hw, [1, 2], **kwargs)])
    np.testing.assert_array_equal(got, expected)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(_np_random_resized_crop(rng, *hw, **kwargs), expected)


def test_random_resized_crop_window_is_seeded_and_same_eagerly():
    in_data = _tf_windows(53, 37, 8)
    for i in range(8):
        eager = transforms.random_resized_crop_window([53, 37], tf.constant([i, 4], tf.int64))
        np.testing.assert_array_equal(np.concatenate([t.numpy() for t in eager]), in_data[i])
    assert len({tuple(w) for w in in_data}) > 4


def test_random_resized_crop_boxes_follow_the_window():
    """A resized crop moves boxes as the crop alone: resizing keeps normalised boxes."""
    offset, size = [5, 12], [20, 30]  # Window rows 5..24, cols 12..41 of the 40x80 image.
    got = transforms.crop_boxes(BOX, offset, size, [40, 80]).numpy()
    # Box rows 8..23 -> 3..18 of 20; cols 20..59 -> 8..29 of 30 (clipped at the right edge).
    np.testing.assert_allclose(got, [3 / 20, 8 / 30, 19 / 20, 1.0], atol=1e-6)
    image = np.zeros((40, 80, 3), np.uint8)
    image[8:24, 20:60] = 255
    window = transforms.crop(image, offset, size).numpy()
    resized = transforms.resize(window, [40, 60]).numpy()
    rows = np.flatnonzero(resized[..., 0].max(1) > 127)
    cols = np.flatnonzero(resized[..., 0].max(0) > 127)
    edges = [rows[0] / 40, cols[0] / 60, (rows[-1] + 1) / 40, (cols[-1] + 1) / 60]
    np.testing.assert_allclose(edges, got, atol=1 / 40)
