"""SSD augmentation: boxes follow the pixels through expand, crop, flip and resize; seeds; tf.data; crop rules."""

import numpy as np
import tensorflow as tf

from keras_cutmix.detection import ssd_augment

SIZE = 96


def white_box_image():
    """A 60x80 black image with a white box (rows 10-30, columns 20-50) and a grey one, plus a padded row."""
    image = np.zeros((60, 80, 3), np.uint8)
    image[10:30, 20:50] = 255
    image[40:56, 4:12] = 80
    boxes = np.array([[10 / 60, 20 / 80, 30 / 60, 50 / 80], [40 / 60, 4 / 80, 56 / 60, 12 / 80], [0, 0, 0, 0]],
                     np.float32)
    return image, boxes, np.array([3, 7, -1], np.int32)


def test_white_box_stays_on_white_pixels():
    image, boxes, labels = white_box_image()
    for seed in range(40):
        out, out_boxes, out_labels = (t.numpy() for t in ssd_augment.ssd_augmentation(
            image, boxes, labels, seed, size=SIZE, photometric=False))
        assert out.shape == (SIZE, SIZE, 3) and out_labels[2] == -1 and np.all(out_boxes[2] == 0)
        assert np.all((out_boxes >= 0) & (out_boxes <= 1))
        assert out_labels[0] in (3, -1) and out_labels[1] in (7, -1) and max(out_labels) >= 0
        centres = (np.arange(SIZE) + 0.5) / SIZE
        white = out[..., 0] > 250
        if out_labels[0] == 3:
            y0, x0, y1, x1 = out_boxes[0] * SIZE
            margin = 2.0
            rows = centres * SIZE
            inner = np.outer((rows > y0 + margin) & (rows < y1 - margin), (rows > x0 + margin) & (rows < x1 - margin))
            outer = np.outer((rows > y0 - margin) & (rows < y1 + margin), (rows > x0 - margin) & (rows < x1 + margin))
            assert np.all(white[inner]), seed
            assert not np.any(white[~outer]), seed  # no white outside the box
        else:
            assert out_labels[1] == 7  # the white box's centre left the crop; its pixels may remain at the edge


def test_same_seed_same_result_and_tf_data_equals_eager():
    image, boxes, labels = white_box_image()
    first = ssd_augment.ssd_augmentation(image, boxes, labels, 5)
    again = ssd_augment.ssd_augmentation(image, boxes, labels, 5)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    other = ssd_augment.ssd_augmentation(image, boxes, labels, 6)
    assert not np.array_equal(first[0].numpy(), other[0].numpy())
    ds = tf.data.Dataset.from_tensors((image, boxes, labels)).map(
        lambda i, b, l: ssd_augment.ssd_augmentation(i, b, l, tf.constant([5, 0], tf.int64)))
    for a, b in zip(next(iter(ds)), first):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-3)


def test_photometric_keeps_range_and_changes_colours():
    image, boxes, labels = white_box_image()
    image = np.random.default_rng(0).integers(0, 256, (60, 80, 3)).astype(np.uint8)
    changed = 0
    for seed in range(6):
        out = ssd_augment.photometric_distort(tf.cast(image, tf.float32), tf.constant([seed, 1], tf.int64)).numpy()
        assert out.shape == image.shape and out.min() >= 0 and out.max() <= 255
        changed += not np.allclose(out, image, atol=1e-3)
    assert changed >= 4


def test_expand_places_image_on_mean_canvas():
    image = np.full((20, 30, 3), 255.0, np.float32)
    boxes = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
    expanded = 0
    for seed in range(10):
        out, out_boxes = ssd_augment.expand(image, boxes, tf.constant([seed, 3], tf.int64))
        out, out_boxes = out.numpy(), out_boxes.numpy()[0]
        h, w = out.shape[:2]
        y0, x0, y1, x1 = np.round(out_boxes * [h, w, h, w]).astype(int)
        assert (y1 - y0, x1 - x0) == (20, 30)  # the whole image box is the pasted image
        assert np.all(out[y0:y1, x0:x1] == 255)
        mask = np.ones((h, w), bool)
        mask[y0:y1, x0:x1] = False
        np.testing.assert_allclose(out[mask], np.broadcast_to([123.675, 116.28, 103.53], out[mask].shape), atol=1e-4)
        expanded += (h, w) != (20, 30)
    assert 2 <= expanded <= 8


def test_crop_keeps_boxes_whose_centre_is_inside():
    image = np.zeros((100, 100, 3), np.float32)
    boxes = np.array([[0.05, 0.05, 0.25, 0.25], [0.6, 0.6, 0.95, 0.9]], np.float32)
    labels = np.array([1, 2])
    for enforce in (False, True):
        for seed in range(20):
            rect = ssd_augment._crop_rect(image, boxes, labels, tf.constant([seed, 9], tf.int64), enforce).numpy()
            _, out_boxes, out_labels = ssd_augment.random_crop(image, boxes, labels, tf.constant([seed, 9], tf.int64),
                                                               enforce)
            if np.array_equal(rect, [0, 0, 100, 100]):
                np.testing.assert_array_equal(out_labels.numpy(), labels)
                continue
            h, w = rect[2] - rect[0], rect[3] - rect[1]
            assert (h - 1) / (w + 1) <= 2 and (h + 1) / (w - 1) >= 0.5 and h >= 29 and w >= 29  # integer corners
            centres = (boxes[:, :2] + boxes[:, 2:]) * 50
            inside = np.all((centres > rect[:2]) & (centres < rect[2:]), axis=1)
            assert inside.any()
            np.testing.assert_array_equal(out_labels.numpy(), np.where(inside, labels, -1))
            expected = (np.clip(boxes * 100, np.tile(rect[:2], 2), np.tile(rect[2:], 2)) - np.tile(rect[:2], 2))
            np.testing.assert_allclose(out_boxes.numpy()[inside], (expected / [h, w, h, w])[inside], atol=1e-5)


def iou_with_rect(pixel_boxes, rect):
    inter = np.prod(np.clip(np.minimum(pixel_boxes[:, 2:], rect[2:]) - np.maximum(pixel_boxes[:, :2], rect[:2]), 0,
                            None), axis=1)
    areas = np.prod(pixel_boxes[:, 2:] - pixel_boxes[:, :2], axis=1)
    return inter / (areas + np.prod(rect[2:] - rect[:2]) - inter)


def test_min_iou_only_when_enforced(monkeypatch):
    # Every mode asks for IoU >= 0.3; ssd.pytorch's test never rejects (its `and` needs max IoU > inf).
    monkeypatch.setattr(ssd_augment, "_CROP_MODES", (0.3,) * 6)
    image = np.zeros((100, 100, 3), np.float32)
    boxes = np.array([[0.1, 0.1, 0.5, 0.6], [0.3, 0.2, 0.8, 0.7]], np.float32)
    labels = np.array([1, 2])
    lowest = {}
    for enforce in (False, True):
        ious = []
        for seed in range(30):
            rect = ssd_augment._crop_rect(image, boxes, labels, tf.constant([seed, 4], tf.int64), enforce).numpy()
            ious.append(iou_with_rect(boxes * 100, rect).min())
        lowest[enforce] = min(ious)
    assert lowest[True] >= 0.3 and lowest[False] < 0.3


def test_photometric_on_grey_is_brightness_then_contrast():
    # Grey has no saturation or hue and is symmetric in its channels: only brightness +U(-32, 32) and
    # contrast *U(0.5, 1.5) act, so every output is a uniform grey in [(128 - 32) * 0.5, (128 + 32) * 1.5].
    grey = tf.fill([4, 5, 3], 128.0)
    values = []
    for seed in range(40):
        out = ssd_augment.photometric_distort(grey, tf.constant([seed, 2], tf.int64)).numpy()
        np.testing.assert_allclose(out, np.full_like(out, out[0, 0, 0]), atol=1e-3)
        values.append(out[0, 0, 0])
    values = np.array(values)
    assert values.min() >= 48 - 1e-3 and values.max() <= 240 + 1e-3
    assert np.sum(np.abs(values - 128) < 1e-3) >= 3  # neither applied (probability 1/4)
    assert values.min() < 100 and values.max() > 160
