"""Tests for keras_cutmix.mixing.apply with hand-written arrays and hand-computed expected outputs.

Images are 3 x 4 (non-square) with values that say where they come from: image 0 holds 0..11 and
image 1 holds 100..111, so every expected array below can be checked by eye.
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.mixing import apply as apply_ops

IMG0 = np.arange(12).reshape(3, 4)
IMG1 = 100 + np.arange(12).reshape(3, 4)
TWO = np.stack([IMG0, IMG1])  # [2, 3, 4]
SWAP = np.array([1, 0], np.int32)

# Sample 0 gets rows 0-1 x cols 1-2 of image 1; sample 1 gets rows 1-2 x col 0 of image 0.
PER_SAMPLE_BOXES = np.array([[0, 1, 2, 3], [1, 0, 3, 1]], np.int32)
PER_SAMPLE_PASTED = np.array([
    [[0, 101, 102, 3],
     [4, 105, 106, 7],
     [8, 9, 10, 11]],
    [[100, 101, 102, 103],
     [4, 105, 106, 107],
     [8, 109, 110, 111]],
])
# One box (rows 1-2 x cols 2-3) for both samples.
SHARED_BOX = np.array([[1, 2, 3, 4]], np.int32)
SHARED_PASTED = np.array([
    [[0, 1, 2, 3],
     [4, 5, 106, 107],
     [8, 9, 110, 111]],
    [[100, 101, 102, 103],
     [104, 105, 6, 7],
     [108, 109, 10, 11]],
])
MASKS = np.array([
    [[False, True, True, False],
     [False, True, True, False],
     [False, False, False, False]],
    [[False, False, False, False],
     [True, False, False, False],
     [True, False, False, False]],
])


def channels(planes, num_channels=2):
    """[B, H, W] -> [B, H, W, C] with channel c = planes + 1000 * c (pasting moves all channels)."""
    return np.stack([planes + 1000 * c for c in range(num_channels)], axis=-1)


def to_first(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


def test_box_masks_non_square():
    masks = apply_ops.box_masks(tf.constant(PER_SAMPLE_BOXES), 3, 4).numpy()
    assert masks.dtype == bool and masks.shape == (2, 3, 4)
    np.testing.assert_array_equal(masks, MASKS)
    empty = apply_ops.box_masks(tf.constant([[2, 1, 2, 3], [0, 0, 3, 0], [0, 0, 0, 0]]), 3, 4).numpy()
    assert not empty.any()
    full = apply_ops.box_masks(tf.constant([[0, 0, 3, 4]]), 3, 4).numpy()
    assert full.all() and full.shape == (1, 3, 4)


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float16", "bfloat16", "float32"])
def test_paste_boxes_per_sample_channels_last(dtype):
    # Channel 1 is 255 - channel 0: every value is an integer in [0, 255], exact in every dtype here.
    def two_channels(planes):
        return np.stack([planes, 255 - planes], axis=-1)

    images = tf.cast(tf.constant(two_channels(TWO)), dtype)
    out = apply_ops.paste_boxes(images, tf.constant(SWAP), tf.constant(PER_SAMPLE_BOXES))
    assert out.dtype == images.dtype and out.shape == (2, 3, 4, 2)
    np.testing.assert_array_equal(tf.cast(out, tf.float64).numpy(), two_channels(PER_SAMPLE_PASTED))


def test_paste_boxes_shared_box_equals_repeated_box():
    images = tf.constant(channels(TWO), tf.float32)
    shared = apply_ops.paste_boxes(images, tf.constant(SWAP), tf.constant(SHARED_BOX)).numpy()
    np.testing.assert_array_equal(shared, channels(SHARED_PASTED))
    repeated = apply_ops.paste_boxes(images, tf.constant(SWAP), tf.constant(np.repeat(SHARED_BOX, 2, 0))).numpy()
    np.testing.assert_array_equal(repeated, channels(SHARED_PASTED))


def test_paste_boxes_channels_first():
    images = tf.constant(to_first(channels(TWO)), tf.int32)
    out = apply_ops.paste_boxes(images, tf.constant(SWAP), tf.constant(PER_SAMPLE_BOXES), "channels_first")
    np.testing.assert_array_equal(out.numpy(), to_first(channels(PER_SAMPLE_PASTED)))
    shared = apply_ops.paste_boxes(images, tf.constant(SWAP), tf.constant(SHARED_BOX), "channels_first")
    np.testing.assert_array_equal(shared.numpy(), to_first(channels(SHARED_PASTED)))


def test_paste_boxes_rank3_masks():
    masks = tf.constant(TWO, tf.int32)
    out = apply_ops.paste_boxes(masks, tf.constant(SWAP), tf.constant(PER_SAMPLE_BOXES))
    np.testing.assert_array_equal(out.numpy(), PER_SAMPLE_PASTED)
    # data_format does not matter for rank-3 masks.
    out_first = apply_ops.paste_boxes(masks, tf.constant(SWAP), tf.constant(SHARED_BOX), "channels_first")
    np.testing.assert_array_equal(out_first.numpy(), SHARED_PASTED)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_paste_boxes_empty_and_full_boxes(data_format):
    images = channels(TWO)
    if data_format == "channels_first":
        images = to_first(images)
    images = tf.constant(images, tf.float32)
    empty = tf.constant([[2, 1, 2, 3], [0, 0, 0, 0]], tf.int32)  # zero height; all zeros
    out = apply_ops.paste_boxes(images, tf.constant(SWAP), empty, data_format)
    np.testing.assert_array_equal(out.numpy(), images.numpy())
    full = tf.constant([[0, 0, 3, 4]], tf.int32)
    out = apply_ops.paste_boxes(images, tf.constant(SWAP), full, data_format)
    np.testing.assert_array_equal(out.numpy(), images.numpy()[::-1])


def test_paste_boxes_fixed_point_and_odd_batch():
    three = np.stack([IMG0, IMG1, 200 + IMG0])[..., None]  # [3, 3, 4, 1]
    perm = tf.constant([0, 2, 1], tf.int32)  # sample 0 is its own partner
    boxes = tf.constant([[0, 0, 3, 4], [0, 3, 3, 4], [2, 0, 3, 2]], tf.int32)
    out = apply_ops.paste_boxes(tf.constant(three, tf.uint8), perm, boxes).numpy()[..., 0]
    expected = np.array([
        IMG0,
        [[100, 101, 102, 203],
         [104, 105, 106, 207],
         [108, 109, 110, 211]],
        [[200, 201, 202, 203],
         [204, 205, 206, 207],
         [108, 109, 210, 211]],
    ])
    np.testing.assert_array_equal(out, expected)


def test_paste_boxes_batch_zero():
    images = tf.zeros([0, 3, 4, 2], tf.uint8)
    out = apply_ops.paste_boxes(images, tf.zeros([0], tf.int32), tf.zeros([0, 4], tf.int32))
    assert out.shape == (0, 3, 4, 2) and out.dtype == tf.uint8


@pytest.mark.parametrize("dtype", ["uint8", "float16", "bfloat16", "float32"])
def test_erase_boxes(dtype):
    images = tf.cast(tf.constant(channels(TWO, 1)), dtype)
    out = apply_ops.erase_boxes(images, tf.constant(PER_SAMPLE_BOXES), fill_value=7)
    assert out.dtype == images.dtype
    expected = np.where(MASKS, 7, TWO)[..., None]
    np.testing.assert_array_equal(tf.cast(out, tf.float32).numpy(), expected)
    zero_fill = apply_ops.erase_boxes(images, tf.constant(PER_SAMPLE_BOXES))
    np.testing.assert_array_equal(tf.cast(zero_fill, tf.float32).numpy(), np.where(MASKS, 0, TWO)[..., None])


def test_erase_boxes_channels_first_and_empty_box():
    images = tf.constant(to_first(channels(TWO)), tf.float32)
    boxes = tf.constant([[1, 2, 3, 4], [1, 1, 1, 4]], tf.int32)  # second box is empty
    out = apply_ops.erase_boxes(images, boxes, fill_value=-1.5, data_format="channels_first").numpy()
    expected = to_first(channels(TWO)).astype(np.float32)
    expected[0, :, 1:3, 2:4] = -1.5
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out[1], to_first(channels(TWO))[1])


def test_blend_images_float():
    images = tf.constant([[[[0.0], [10.0]]], [[[4.0], [2.0]]]])  # [2, 1, 2, 1]
    out = apply_ops.blend_images(images, tf.constant(SWAP), tf.constant([0.25, 0.5]))
    # 0.25 * [0, 10] + 0.75 * [4, 2] = [3, 4];  0.5 * [4, 2] + 0.5 * [0, 10] = [2, 6]
    np.testing.assert_allclose(out.numpy()[:, 0, :, 0], [[3.0, 4.0], [2.0, 6.0]], rtol=0, atol=1e-6)
    same = apply_ops.blend_images(images, tf.constant(SWAP), tf.constant([1.0, 0.0])).numpy()
    np.testing.assert_array_equal(same[0], images.numpy()[0])  # weight 1: itself
    np.testing.assert_array_equal(same[1], images.numpy()[0])  # weight 0: its partner


def test_blend_images_uint8_rounds_to_nearest():
    images = tf.constant([[[[10], [10], [200]]], [[[13], [11], [0]]]], tf.uint8)  # [2, 1, 3, 1]
    out = apply_ops.blend_images(images, tf.constant(SWAP), tf.constant([0.5, 0.3]))
    assert out.dtype == tf.uint8
    # Sample 0: 0.5 * [10, 10, 200] + 0.5 * [13, 11, 0] = [11.5, 10.5, 100] -> ties to even: [12, 10, 100].
    # Sample 1: 0.3 * [13, 11, 0] + 0.7 * [10, 10, 200] = [10.9, 10.3, 140] -> [11, 10, 140].
    np.testing.assert_array_equal(out.numpy()[:, 0, :, 0], [[12, 10, 100], [11, 10, 140]])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_blend_images_half_precision_keeps_dtype(dtype):
    images = tf.cast(tf.constant([[[[0.0, 8.0]]], [[[4.0, 0.0]]]]), dtype)  # [2, 1, 1, 2]
    out = apply_ops.blend_images(images, tf.constant(SWAP), tf.constant([0.25, 0.75]))
    assert out.dtype == images.dtype
    # 0.25 * [0, 8] + 0.75 * [4, 0] = [3, 2];  0.75 * [4, 0] + 0.25 * [0, 8] = [3, 2]
    np.testing.assert_array_equal(tf.cast(out, tf.float32).numpy()[:, 0, 0, :], [[3.0, 2.0], [3.0, 2.0]])


def test_blend_images_channels_first_is_layout_free():
    images = np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4, 2)
    w = tf.constant([0.75, 0.5])
    last = apply_ops.blend_images(tf.constant(images), tf.constant(SWAP), w).numpy()
    first = apply_ops.blend_images(tf.constant(to_first(images)), tf.constant(SWAP), w).numpy()
    np.testing.assert_array_equal(first, to_first(last))
    np.testing.assert_allclose(last[0], 0.75 * images[0] + 0.25 * images[1], atol=1e-5)


def test_mix_labels():
    labels = tf.constant(np.eye(3, dtype=np.float32))
    out = apply_ops.mix_labels(labels, tf.constant([2, 0, 1]), tf.constant([0.75, 0.5, 1.0]))
    np.testing.assert_allclose(out.numpy(), [[0.75, 0.0, 0.25], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-7)
    soft = tf.constant([[0.5, 0.5], [0.2, 0.8]], tf.float16)
    out = apply_ops.mix_labels(soft, tf.constant(SWAP), tf.constant([0.5, 0.25]))
    assert out.dtype == tf.float16
    # 0.5 * [.5, .5] + 0.5 * [.2, .8] = [.35, .65];  0.25 * [.2, .8] + 0.75 * [.5, .5] = [.425, .575]
    np.testing.assert_allclose(out.numpy().astype(np.float32), [[0.35, 0.65], [0.425, 0.575]], atol=2e-3)


_RNG = np.random.default_rng(0)
RANDOM_IMAGES = _RNG.random((16, 4, 4, 3)).astype(np.float32)
RANDOM_LABELS = _RNG.dirichlet(np.ones(5), size=16).astype(np.float32)
RANDOM_PERM = _RNG.permutation(16).astype(np.int32)
RANDOM_WEIGHT = _RNG.random(16).astype(np.float32)


def _all_ops(images, images_first, masks, boxes, shared_box, perm, blend_in, weight, labels,
             random_images, random_labels, random_perm, random_weight):
    return {
        "box_masks": apply_ops.box_masks(boxes, 3, 4),
        "paste": apply_ops.paste_boxes(images, perm, boxes),
        "paste_shared": apply_ops.paste_boxes(images, perm, shared_box),
        "paste_first": apply_ops.paste_boxes(images_first, perm, boxes, "channels_first"),
        "paste_masks": apply_ops.paste_boxes(masks, perm, boxes),
        "erase": apply_ops.erase_boxes(images, boxes, 7),
        "erase_first": apply_ops.erase_boxes(images_first, boxes, 7, "channels_first"),
        "blend": apply_ops.blend_images(blend_in, perm, weight),
        "labels": apply_ops.mix_labels(labels, perm, weight),
        "blend_random": apply_ops.blend_images(random_images, random_perm, random_weight),
        "labels_random": apply_ops.mix_labels(random_labels, random_perm, random_weight),
    }


def _expected_all_ops():
    return {
        "box_masks": MASKS,
        "paste": channels(PER_SAMPLE_PASTED),
        "paste_shared": channels(SHARED_PASTED),
        "paste_first": to_first(channels(PER_SAMPLE_PASTED)),
        "paste_masks": PER_SAMPLE_PASTED,
        "erase": np.where(MASKS[..., None], 7, channels(TWO)),
        "erase_first": to_first(np.where(MASKS[..., None], 7, channels(TWO))),
        # 0.5 * [10, 10, 200] + 0.5 * [13, 11, 0] and 0.3 * [13, 11, 0] + 0.7 * [10, 10, 200], rounded.
        "blend": np.array([[12, 10, 100], [11, 10, 140]])[:, None, :, None],
        "labels": np.array([[0.5, 0.5], [0.7, 0.3]]),  # one-hot [1, 0], [0, 1] with weights 0.5, 0.3
        "blend_random": (RANDOM_WEIGHT[:, None, None, None] * RANDOM_IMAGES.astype(np.float64)
                         + (1 - RANDOM_WEIGHT[:, None, None, None]) * RANDOM_IMAGES[RANDOM_PERM]),
        "labels_random": (RANDOM_WEIGHT[:, None] * RANDOM_LABELS.astype(np.float64)
                          + (1 - RANDOM_WEIGHT[:, None]) * RANDOM_LABELS[RANDOM_PERM]),
    }


@pytest.fixture(scope="module")
def op_outputs():
    """Every op on the same inputs eagerly, under XLA (one compile) and in tf.data (one trace)."""
    inputs = (
        tf.constant(channels(TWO), tf.float32),
        tf.constant(to_first(channels(TWO)), tf.float32),
        tf.constant(TWO, tf.int32),
        tf.constant(PER_SAMPLE_BOXES),
        tf.constant(SHARED_BOX),
        tf.constant(SWAP),
        tf.constant([[[[10], [10], [200]]], [[[13], [11], [0]]]], tf.uint8),
        tf.constant([0.5, 0.3]),
        tf.constant([[1.0, 0.0], [0.0, 1.0]]),
        tf.constant(RANDOM_IMAGES),
        tf.constant(RANDOM_LABELS),
        tf.constant(RANDOM_PERM),
        tf.constant(RANDOM_WEIGHT),
    )
    outputs = {
        "eager": _all_ops(*inputs),
        "XLA": tf.function(_all_ops, jit_compile=True)(*inputs),
        "tf.data": next(iter(tf.data.Dataset.from_tensors(inputs).map(_all_ops))),
    }
    return {mode: {k: v.numpy() for k, v in out.items()} for mode, out in outputs.items()}


@pytest.mark.parametrize("mode", ["eager", "XLA", "tf.data"])
def test_every_op_eager_xla_and_tf_data(op_outputs, mode):
    for key, expected in _expected_all_ops().items():
        got = op_outputs[mode][key]
        assert got.dtype == op_outputs["eager"][key].dtype
        atol = 1e-6 if key.endswith("random") or key == "labels" else 0
        np.testing.assert_allclose(got.astype(np.float64), expected, rtol=0, atol=atol, err_msg=f"{key} ({mode})")


@pytest.mark.parametrize("key", ["paste", "paste_first", "paste_masks", "erase"])
def test_ops_bit_identical_eager_xla_and_tf_data(op_outputs, key):
    # Pasting and erasing select whole pixels: bit-identical eagerly, under XLA and in tf.data.
    for mode in ("XLA", "tf.data"):
        got, want = op_outputs[mode][key], op_outputs["eager"][key]
        differing = int(np.sum(got != want))
        assert differing == 0, (
            f"{key}: {differing} of {got.size} values differ {mode} vs eager "
            f"(max |diff| {np.abs(got.astype(np.float64) - want).max():.2g})"
        )


@pytest.mark.parametrize("key", ["blend_random", "labels_random"])
def test_float32_blends_and_labels_agree_to_one_ulp_across_modes(op_outputs, key):
    # Blends and label mixes run in float32 (no float64 in the graph); XLA may fuse the multiply-adds,
    # so the documented tolerance across modes is 1 float32 ulp (at most 1.2e-7 for labels in [0, 1]).
    want = op_outputs["eager"][key]
    assert want.dtype == np.float32
    for mode in ("XLA", "tf.data"):
        np.testing.assert_array_max_ulp(op_outputs[mode][key], want, maxulp=1)
    if key == "labels_random":
        for mode in ("XLA", "tf.data"):
            assert np.abs(op_outputs[mode][key] - want).max() <= 1.2e-7


def _blends(images, perm, weight, labels):
    return apply_ops.blend_images(images, perm, weight), apply_ops.mix_labels(labels, perm, weight)


@pytest.mark.parametrize("dtype", ["uint8", "float16", "bfloat16"])
def test_narrow_dtype_blends_agree_across_modes_within_one_step(dtype):
    # uint8 blends round once from float32: across modes within 1 grey level, and exact almost everywhere.
    # float16 / bfloat16 round once from float32 too: within 1 unit of their own last place.
    rng = np.random.default_rng(1)
    images = tf.cast(tf.constant(rng.integers(0, 256, (64, 8, 8, 3))), dtype)
    perm = tf.constant(rng.permutation(64).astype(np.int32))
    weight = tf.constant(rng.random(64).astype(np.float32))
    labels = tf.cast(tf.constant(rng.dirichlet(np.ones(4), 64)), dtype if dtype != "uint8" else "float32")
    args = (images, perm, weight, labels)
    eager = [t.numpy() for t in _blends(*args)]
    runs = {"XLA": tf.function(_blends, jit_compile=True)(*args),
            "tf.data": next(iter(tf.data.Dataset.from_tensors(args).map(_blends)))}
    # The reference: the blend in float64, rounded once to the images' dtype.
    w = weight.numpy().astype(np.float64)[:, None, None, None]
    own = tf.cast(images, tf.float64).numpy()
    exact = w * own + (1 - w) * own[perm.numpy()]
    if dtype == "uint8":
        np.testing.assert_array_less(np.abs(eager[0].astype(np.float64) - exact), 0.5 + 1e-4)
        step = 1.0
    else:
        ulp = 2.0**-10 if dtype == "float16" else 2.0**-7
        spacing = np.abs(tf.cast(tf.cast(exact, dtype), tf.float64).numpy()) * ulp
        np.testing.assert_array_less(np.abs(tf.cast(eager[0], tf.float64).numpy() - exact), spacing + 1e-30)
        step = None
    for mode, (got_images, got_labels) in runs.items():
        got_images = tf.cast(got_images, tf.float64).numpy()
        diff = np.abs(got_images - tf.cast(eager[0], tf.float64).numpy())
        if step is not None:
            assert diff.max() <= step, f"{mode}: uint8 blend differs by {diff.max()} grey levels"
            assert np.mean(diff > 0) < 0.01, f"{mode}: {np.mean(diff > 0):.1%} of uint8 pixels differ"
        else:
            spacing = np.abs(got_images) * (2.0**-10 if dtype == "float16" else 2.0**-7)
            assert (diff <= spacing + 1e-30).all(), f"{mode}: {dtype} blend differs by more than 1 ulp"
        np.testing.assert_allclose(tf.cast(got_labels, tf.float32).numpy(),
                                   tf.cast(eager[1], tf.float32).numpy(), rtol=2.0**-7, atol=0)
