"""Tests for MixUp and Cutout (keras_cutmix.mixing.mixup / cutout) against NumPy given the drawn mix.

Bit-identity of eager / tf.function / XLA / tf.data for both lives in cutmix_test.py (one compile for
all methods).
"""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import numpy_reference as ref
from keras_cutmix.mixing import cutout, mixup, sampling


def random_images(batch, height, width, channels=3, low=0, high=256, seed=0):
    """Integer-valued float64 images in [low, high): exact in uint8, float16 and bfloat16."""
    return np.random.default_rng(seed).integers(low, high, size=(batch, height, width, channels)).astype(np.float64)


def run_mixup(images, labels, seed, **kwargs):
    outputs, mix = mixup.mixup_fn(images, labels, seed=seed, return_mix=True, **kwargs)
    return outputs, {k: v.numpy() for k, v in mix.items()}


def run_cutout(images, labels, seed, **kwargs):
    outputs, mix = cutout.cutout_fn(images, labels, seed=seed, return_mix=True, **kwargs)
    return outputs, mix["boxes"].numpy()


# --- MixUp ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_sample", [False, True])
@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_mixup_fn_matches_numpy_blend(per_sample, alpha):
    batch, height, width = 7, 5, 7
    images = np.random.default_rng(1).random((batch, height, width, 3))
    ids = np.array([0, 1, 2, 3, 0, 1, 2])
    for seed in range(4):
        (out, labels), mix = run_mixup(tf.constant(images, tf.float32), tf.constant(ids), seed,
                                       num_classes=4, alpha=alpha, per_sample=per_sample)
        perm, weight = mix["permutation"], mix["mix_weight"]
        np.testing.assert_array_equal(np.sort(perm), np.arange(batch))
        assert weight.dtype == np.float32 and ((weight >= 0) & (weight <= 1)).all()
        assert out.dtype == tf.float32 and labels.dtype == tf.float32
        np.testing.assert_allclose(out.numpy(), ref.blend(images.astype(np.float32), perm, weight), rtol=0, atol=1e-6)
        np.testing.assert_allclose(labels.numpy(), ref.mix(ref.one_hot(ids, 4), perm, weight), rtol=0, atol=1e-6)
        if per_sample:
            assert len(set(weight.tolist())) > 1
        else:
            assert (weight == weight[0]).all()


def test_mixup_uint8_rounds_to_nearest():
    batch = 7
    images = random_images(batch, 5, 7)
    for seed in range(4):
        (out, _), mix = run_mixup(ref.as_dtype(images, "uint8"), tf.constant(np.eye(batch, dtype=np.float32)), seed,
                                  per_sample=True)
        assert out.dtype == tf.uint8
        exact = ref.blend(images, mix["permutation"], mix["mix_weight"])
        got = out.numpy().astype(np.float64)
        # Within half a unit of the exact blend; equal to its rounding wherever that is not a near-tie.
        assert (np.abs(got - exact) <= 0.5 + 1e-4).all()
        clear = np.abs(exact - np.floor(exact) - 0.5) > 1e-3
        np.testing.assert_array_equal(got[clear], np.round(exact[clear]))


@pytest.mark.parametrize("dtype", ["uint8", "float16", "bfloat16", "float32"])
def test_mixup_keeps_dtype(dtype):
    images = random_images(4, 5, 7)
    out, mix = run_mixup(ref.as_dtype(images, dtype), None, 3)
    assert out.dtype == tf.as_dtype(dtype) and out.shape == images.shape
    exact = ref.blend(images, mix["permutation"], mix["mix_weight"])
    # Tolerance: rounding to the output dtype (uint8: 0.5; float16: 2**-11 relative; bfloat16: 2**-8).
    tolerance = {"uint8": 0.5 + 1e-4, "float16": 256 * 2.0**-11, "bfloat16": 256 * 2.0**-8, "float32": 1e-4}[dtype]
    assert np.abs(ref.np_value(out) - exact).max() <= tolerance


def test_mixup_channels_first_is_the_transpose():
    images = np.random.default_rng(2).random((5, 4, 6, 2)).astype(np.float32)
    last = mixup.mixup_fn(tf.constant(images), seed=5, data_format="channels_last")
    first = mixup.mixup_fn(tf.constant(images.transpose(0, 3, 1, 2)), seed=5, data_format="channels_first")
    np.testing.assert_array_equal(first.numpy(), last.numpy().transpose(0, 3, 1, 2))


def test_mixup_probability():
    images = random_images(5, 4, 4)
    (out, labels), mix = run_mixup(ref.as_dtype(images, "uint8"), tf.constant([1, 0, 2, 2, 1]), 0,
                                   num_classes=3, probability=0.0, per_sample=True)
    np.testing.assert_array_equal(out.numpy(), images)
    np.testing.assert_array_equal(labels.numpy(), ref.one_hot([1, 0, 2, 2, 1], 3))
    n = 20_000
    weight = mixup.sample_mixup(sampling.resolve_seed(1), n, probability=0.4, per_sample=True)["mix_weight"].numpy()
    assert abs(np.mean(weight < 1.0) - 0.4) < 4 * np.sqrt(0.24 / n)
    draw = tf.function(lambda s: mixup.sample_mixup(s, 6, probability=0.5)["mix_weight"])
    mixed = 0
    for s in range(300):
        weight = draw(tf.constant([s, 2], tf.int64)).numpy()
        assert (weight == weight[0]).all()
        mixed += int(weight[0] < 1.0)
    assert abs(mixed / 300 - 0.5) < 4 * np.sqrt(0.25 / 300)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_mixup_weight_is_beta_distributed(alpha):
    weight = mixup.sample_mixup(sampling.resolve_seed(8), 5000, alpha=alpha, per_sample=True)["mix_weight"]
    assert stats.kstest(weight.numpy().astype(np.float64), stats.beta(alpha, alpha).cdf).pvalue > 1e-3


def test_mixup_label_smoothing_before_mixing():
    # Two classes, smoothing 0.2: [1, 0] -> [0.9, 0.1]; mixed with weight w and the partner's [0.1, 0.9].
    (_, labels), mix = run_mixup(tf.zeros([2, 3, 3, 1]), tf.constant([0, 1]), 4, num_classes=2,
                                 label_smoothing=0.2)
    smoothed = np.array([[0.9, 0.1], [0.1, 0.9]])
    for b in range(2):
        w, p = float(mix["mix_weight"][b]), int(mix["permutation"][b])
        np.testing.assert_allclose(labels.numpy()[b], w * smoothed[b] + (1 - w) * smoothed[p], atol=1e-6)


# --- Cutout ---------------------------------------------------------------------------------------


def consistent_with_some_centre(box, hole, height, width):
    """Whether `box` is the clipped hole of side `hole` = (h, w) around some pixel (brute force)."""
    rows = [cy for cy in range(height)
            if (max(cy - hole[0] // 2, 0), min(cy - hole[0] // 2 + hole[0], height)) == (box[0], box[2])]
    cols = [cx for cx in range(width)
            if (max(cx - hole[1] // 2, 0), min(cx - hole[1] // 2 + hole[1], width)) == (box[1], box[3])]
    return bool(rows) and bool(cols)


@pytest.mark.parametrize("size,height,width", [(3, 5, 7), (4, 37, 53), ((2, 5), 9, 8), (16, 5, 7)])
def test_cutout_holes_match_numpy(size, height, width):
    batch = 9
    hole = (size, size) if isinstance(size, int) else size
    images = random_images(batch, height, width, low=1)  # no pixel equals the fill value 0
    labels = np.arange(batch) % 4
    for seed in range(4):
        (out, out_labels), boxes = run_cutout(ref.as_dtype(images, "uint8"), tf.constant(labels), seed, size=size,
                                              num_classes=4)
        assert out.dtype == tf.uint8
        np.testing.assert_array_equal(out.numpy(), ref.erase(images, boxes, 0))
        # Labels are one-hot, never mixed.
        np.testing.assert_array_equal(out_labels.numpy(), ref.one_hot(labels, 4))
        for b in range(batch):
            box = tuple(int(v) for v in boxes[b])
            assert consistent_with_some_centre(box, hole, height, width), f"box {box} is not a clipped {hole} hole"
            count, changed = ref.changed_rectangle(images[b], out.numpy()[b])
            assert changed == box and count == (box[2] - box[0]) * (box[3] - box[1])
            unclipped = box[0] > 0 and box[2] < height and box[1] > 0 and box[3] < width
            if unclipped:
                assert (box[2] - box[0], box[3] - box[1]) == hole


def test_cutout_boxes_given_drawn_centres():
    # Recompute the centres with the public primitives (split order: apply, box) and build the holes in NumPy.
    height, width, batch = 37, 53, 64
    for s, hole in ((0, (8, 8)), (1, (5, 12)), (2, (1, 1))):
        seed = sampling.resolve_seed(s)
        boxes = cutout.sample_cutout(seed, batch, height, width, size=hole)["boxes"].numpy()
        _, box_seed = sampling.split_seed(seed, 2)
        centre_y, centre_x = ref.centre_pixels(sampling.uniform(box_seed, [batch, 2]).numpy(), height, width)
        np.testing.assert_array_equal(boxes, ref.centred_box_rule(centre_y, centre_x, *hole, height, width))


def test_cutout_centres_are_uniform():
    boxes = cutout.sample_cutout(sampling.resolve_seed(4), 20_000, 5, 7, size=1)["boxes"].numpy()
    # A 1 x 1 hole sits on its centre pixel.
    np.testing.assert_array_equal(boxes[:, 2] - boxes[:, 0], 1)
    assert stats.chisquare(np.bincount(boxes[:, 0], minlength=5)).pvalue > 1e-3
    assert stats.chisquare(np.bincount(boxes[:, 1], minlength=7)).pvalue > 1e-3


@pytest.mark.parametrize("dtype,fill_value", [("uint8", 128), ("float16", 0.5), ("bfloat16", -1.0),
                                              ("float32", 0.25)])
def test_cutout_dtype_and_fill_value(dtype, fill_value):
    images = random_images(6, 5, 7)
    out, boxes = run_cutout(ref.as_dtype(images, dtype), None, 5, size=3, fill_value=fill_value)
    assert out.dtype == tf.as_dtype(dtype)
    np.testing.assert_array_equal(ref.np_value(out), ref.erase(images, boxes, fill_value))
    assert (ref.np_value(out) == fill_value).sum() >= (boxes[:, 2] - boxes[:, 0]).dot(boxes[:, 3] - boxes[:, 1])


def test_cutout_channels_first_is_the_transpose():
    images = random_images(5, 6, 9, channels=2)
    last, boxes = run_cutout(ref.as_dtype(images, "float32"), None, 6, size=4, data_format="channels_last")
    first, first_boxes = run_cutout(ref.as_dtype(images.transpose(0, 3, 1, 2), "float32"), None, 6, size=4,
                                    data_format="channels_first")
    np.testing.assert_array_equal(first_boxes, boxes)
    np.testing.assert_array_equal(first.numpy(), last.numpy().transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(first.numpy(), ref.erase(images.transpose(0, 3, 1, 2), boxes, 0, "channels_first"))


def test_cutout_labels_smoothed_and_soft_labels_kept():
    images = random_images(3, 5, 5)
    (_, labels), _ = run_cutout(ref.as_dtype(images, "float32"), tf.constant([[2], [0], [1]]), 1, num_classes=4,
                                label_smoothing=0.2)
    # 0.8 * one_hot + 0.2 / 4
    np.testing.assert_allclose(labels.numpy(), [[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05],
                                                [0.05, 0.85, 0.05, 0.05]], atol=1e-7)
    soft = np.array([[0.6, 0.4], [0.1, 0.9], [0.5, 0.5]], np.float32)
    (_, kept), _ = run_cutout(ref.as_dtype(images, "float32"), tf.constant(soft), 2)
    np.testing.assert_array_equal(kept.numpy(), soft)


def test_cutout_probability():
    images = random_images(4, 5, 7)
    out, boxes = run_cutout(ref.as_dtype(images, "uint8"), None, 3, probability=0.0)
    np.testing.assert_array_equal(out.numpy(), images)
    np.testing.assert_array_equal(boxes, 0)
    n = 20_000
    boxes = cutout.sample_cutout(sampling.resolve_seed(2), n, 32, 32, size=8, probability=0.7)["boxes"].numpy()
    holes = ref.kept_fraction(boxes, 32, 32) < 1.0
    assert abs(holes.mean() - 0.7) < 4 * np.sqrt(0.21 / n)


def test_cutout_batch_one_and_zero():
    one, boxes = run_cutout(tf.ones([1, 5, 7, 1]), None, 0, size=2)
    assert one.shape == (1, 5, 7, 1) and boxes.shape == (1, 4)
    np.testing.assert_array_equal(one.numpy(), ref.erase(np.ones([1, 5, 7, 1]), boxes, 0))
    zero, boxes = run_cutout(tf.ones([0, 5, 7, 1]), None, 0)
    assert zero.shape == (0, 5, 7, 1) and boxes.shape == (0, 4)
