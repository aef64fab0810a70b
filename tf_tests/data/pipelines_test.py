"""The recipes: boxes stay on the object (a white rectangle on black), flips, colour, seeds."""

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
    # name, augmentation, image (H, W), rectangle (top, left, bottom, right), tolerance in
    # output pixels.
    ("cifar10", None, (32, 32), (3, 20, 17, 31), 0),
    ("synthetic_shapes", None, (64, 64), (1, 5, 30, 62), 0),
    ("imagenet2012", "resize_crop", (37, 53), (4, 30, 20, 50), 2),  # Resize blurs edges ~1 px.
    ("imagenet2012", "resize_crop", (300, 200), (10, 10, 120, 190), 1.5),
    ("caltech_birds2011", None, (53, 37), (30, 2, 50, 20), 2),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name, augmentation, hw, rect, tolerance", CASES)
def test_boxes_follow_image(name, augmentation, hw, rect, tolerance, training):
    image, box = _rectangle_image(*hw, *rect)
    pipeline = pipelines.PIPELINES[name].with_augmentation(augmentation)
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


@pytest.mark.parametrize("name", ["imagenet2012", "caltech_birds2011"])
def test_in_tf_data_map_matches_eager_and_is_seeded(name):
    image, box = _rectangle_image(53, 37, 30, 2, 50, 20)
    pipeline = pipelines.PIPELINES[name].with_image_size(64)
    fn = lambda x, b, s: pipelines.preprocess(pipeline, x, b, s, training=True)
    seed = tf.constant([11, 2], tf.int64)
    eager = fn(image, box, seed)
    graph = next(iter(tf.data.Dataset.from_tensors((image, box, seed)).map(lambda *a: fn(*a))))
    again = fn(image, box, seed)
    for a, b, c in zip(eager, graph, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(a.numpy(), c.numpy())
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


def _bright_box(image):
    """Box of the pixels above the midpoint of the darkest and brightest, after colour jitter."""
    level = image.astype(np.float32).mean(-1)
    low, high = level.min(), level.max()
    if high - low < 40:  # The window lies inside the rectangle (bright) or outside it.
        return np.array([0.0, 0.0, 1.0, 1.0]) if low > 80 else None
    bright = level > (low + high) / 2
    rows, cols = np.flatnonzero(bright.any(1)), np.flatnonzero(bright.any(0))
    h, w = bright.shape
    return np.array([rows[0] / h, cols[0] / w, (rows[-1] + 1) / h, (cols[-1] + 1) / w])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("hw, rect", [((300, 200), (10, 10, 120, 190)),
                                      ((120, 160), (60, 20, 110, 70))])
def test_official_imagenet_boxes_follow_image(hw, rect, training):
    image, box = _rectangle_image(*hw, *rect)
    pipeline = pipelines.PIPELINES["imagenet2012"].with_image_size(48)
    assert pipeline.augmentation == "official_imagenet"
    for i in range(16):
        out, out_box = pipelines.preprocess(pipeline, image, box, [i, 5], training=training)
        out, out_box = out.numpy(), out_box.numpy()
        assert out.dtype == np.uint8 and out.shape == (48, 48, 3)
        expected = _bright_box(out)
        if expected is None:  # The crop missed the rectangle: the box must have no area.
            assert (out_box[2] - out_box[0]) * (out_box[3] - out_box[1]) == 0
        else:
            np.testing.assert_allclose(out_box, expected, atol=1.5 / 48)


def _red_left_blue_right(height=40, width=60):
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2, 0] = 255
    image[:, width // 2:, 2] = 255
    return image


@pytest.mark.parametrize("name", ["imagenet2012", "caltech_birds2011"])
def test_imagenet_and_cub_training_flips_about_half(name):
    """Red left, blue right: a flipped output has more red on its right half."""
    image = _red_left_blue_right()
    pipeline = pipelines.PIPELINES[name].with_image_size(32)
    for training in (True, False):
        decided, flipped = 0, 0
        for i in range(64):
            out, _ = pipelines.preprocess(pipeline, image, None, [i, 1], training=training)
            red_minus_blue = out.numpy()[..., 0].astype(np.float32) - out.numpy()[..., 2]
            left, right = red_minus_blue[:, :16].mean(), red_minus_blue[:, 16:].mean()
            if abs(left - right) > 20:  # The window holds both colours.
                decided += 1
                flipped += int(right > left)
        assert decided >= 24
        if training:
            assert 0.3 <= flipped / decided <= 0.7, (flipped, decided)
        else:
            assert flipped == 0


@pytest.mark.parametrize("name", ["imagenet2012", "caltech_birds2011"])
def test_flipped_output_is_the_mirrored_unflipped_one(name):
    image, box = _rectangle_image(53, 37, 30, 2, 50, 20)
    image[..., 1] = np.arange(37, dtype=np.uint8) * 6  # Left-right asymmetric everywhere.
    pipeline = pipelines.PIPELINES[name].with_image_size(32)
    for i in range(4):
        seed = tf.constant([i, 8], tf.int64)
        params = pipelines.sample(pipeline, image.shape[:2], seed, training=True)
        kept = pipelines.transform(pipeline, image, box, dict(params, flip=tf.constant(False)),
                                   training=True)
        flipped = pipelines.transform(pipeline, image, box, dict(params, flip=tf.constant(True)),
                                      training=True)
        (kept_image, kept_box), (flip_image, flip_box) = [(a.numpy(), b.numpy())
                                                          for a, b in (kept, flipped)]
        np.testing.assert_array_equal(flip_image, kept_image[:, ::-1])
        assert not np.array_equal(flip_image, kept_image)
        ymin, xmin, ymax, xmax = kept_box
        np.testing.assert_allclose(flip_box, [ymin, 1 - xmax, ymax, 1 - xmin], atol=1e-6)
        # `preprocess` is `sample` then `transform`: it returns one of the two.
        out, out_box = pipelines.preprocess(pipeline, image, box, seed, training=True)
        expected = (flip_image, flip_box) if params["flip"] else (kept_image, kept_box)
        np.testing.assert_array_equal(out.numpy(), expected[0])
        np.testing.assert_array_equal(out_box.numpy(), expected[1])


def test_official_imagenet_changes_colour_and_resize_crop_does_not():
    image = np.full((40, 60, 3), 128, np.uint8)
    official = pipelines.PIPELINES["imagenet2012"].with_image_size(16)
    resize_crop = official.with_augmentation("resize_crop")
    means = {"official": [], "resize_crop": []}
    for i in range(32):
        for key, pipeline in (("official", official), ("resize_crop", resize_crop)):
            out, _ = pipelines.preprocess(pipeline, image, None, [i, 2], training=True)
            means[key].append(out.numpy().reshape(-1, 3).mean(0))
    official_means, plain_means = np.array(means["official"]), np.array(means["resize_crop"])
    np.testing.assert_array_equal(plain_means, 128)
    # Brightness 0.6..1.4 of grey 128: 77..179 (contrast and saturation keep a uniform grey),
    # plus lighting, 0.1 * 0.2175 * 0.58 * 255 = 3.2 levels standard deviation per channel.
    assert official_means.min() >= 77 - 13 and official_means.max() <= 179 + 13
    assert official_means.std(0).min() > 10


def test_with_augmentation_and_defaults():
    assert pipelines.PIPELINES["imagenet2012"].augmentation == "official_imagenet"
    assert pipelines.PIPELINES["caltech_birds2011"].augmentation == "resize_crop"
    assert pipelines.PIPELINES["cifar10"].augmentation == "pad_crop"
    cifar = pipelines.PIPELINES["cifar10"].with_augmentation("resize_crop")
    assert (cifar.augmentation, cifar.image_size, cifar.resize_size) == ("resize_crop", 32, 37)
    imagenet = pipelines.PIPELINES["imagenet2012"].with_augmentation("pad_crop")
    assert (imagenet.padding, imagenet.resize_size) == (4, 256)
    assert pipelines.PIPELINES["cifar10"].with_augmentation(None) is pipelines.PIPELINES["cifar10"]
    with pytest.raises(ValueError, match="augmentation"):
        pipelines.PIPELINES["cifar10"].with_augmentation("autoaugment")
