"""Tests for CutMix (keras_cutmix.mixing.cutmix) against the NumPy Algorithm A1 in numpy_reference.py.

Three kinds of checks:
- given the mix a call drew (`cutmix_fn(..., return_mix=True)`), the output equals the NumPy reference;
- without reading the mix: the pixels that changed form one rectangle, whose area gives the label weight;
- the sampler's distribution matches a NumPy Monte Carlo of the paper's sampler (fixed seeds).
Agreement of eager / tf.function / XLA / tf.data runs (pasted pixels bit for bit, float32 blends and labels
within 1 ulp) for CutMix, MixUp and Cutout is tested here too,
with one trace or compile per mode for all methods.
"""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import numpy_reference as ref
from keras_cutmix.mixing import cutmix, cutout, mixup, sampling


def distinct_images(batch, height, width, channels=3, dtype="float32", data_format="channels_last"):
    """images[b] = b * step + pattern with 0 <= pattern < step: images differ at every pixel and channel.

    Values are integers <= 255, exact in uint8, float16 and bfloat16; the source image of any output
    pixel is (value - pattern) // step.
    """
    step = max(1, min(64, 256 // max(batch, 1)))
    pattern = (np.arange(height * width * channels) * 7 % step).reshape(height, width, channels)
    images = np.arange(batch)[:, None, None, None] * step + pattern[None]
    if data_format == "channels_first":
        images = images.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(images).astype(np.float64), step, pattern


def run_cutmix(images, labels, seed, **kwargs):
    outputs, mix = cutmix.cutmix_fn(images, labels, seed=seed, return_mix=True, **kwargs)
    return outputs, {k: v.numpy() for k, v in mix.items()}


# --- output equals the NumPy reference given the drawn mix ----------------------------------------


@pytest.mark.parametrize("batch,height,width", [(7, 37, 53), (7, 5, 7), (1, 5, 7), (4, 16, 16)])
@pytest.mark.parametrize("per_sample", [False, True])
def test_cutmix_fn_matches_numpy_reference(batch, height, width, per_sample):
    images, _, _ = distinct_images(batch, height, width)
    int_labels = np.arange(batch) % 3
    for seed in range(4):
        (out, labels), mix = run_cutmix(ref.as_dtype(images, "float32"), tf.constant(int_labels), seed,
                                        num_classes=3, alpha=1.0 if seed % 2 else 0.3, per_sample=per_sample)
        perm, boxes = mix["permutation"], mix["boxes"]
        np.testing.assert_array_equal(np.sort(perm), np.arange(batch))
        expected_images, expected_labels, lam = ref.cutmix(images, ref.one_hot(int_labels, 3), perm, boxes)
        np.testing.assert_array_equal(ref.np_value(out), expected_images)
        assert labels.dtype == tf.float32 and labels.shape == (batch, 3)
        np.testing.assert_allclose(labels.numpy(), expected_labels, rtol=0, atol=1e-6)
        # The weight is the exact kept fraction of the integer box, correctly rounded to float32.
        np.testing.assert_array_equal(mix["mix_weight"], lam.astype(np.float32))
        # Boxes lie inside the image, end-exclusive.
        assert (boxes[:, 0] <= boxes[:, 2]).all() and (boxes[:, 1] <= boxes[:, 3]).all()
        assert boxes.min() >= 0 and (boxes[:, 2] <= height).all() and (boxes[:, 3] <= width).all()


@pytest.mark.parametrize("per_sample", [False, True])
def test_changed_pixels_form_one_rectangle_that_gives_the_label_weight(per_sample):
    batch, height, width = 7, 37, 53
    images, step, pattern = distinct_images(batch, height, width)
    labels = np.eye(batch, dtype=np.float32)  # label b is sample b: the labels say who was pasted
    pasted_any = 0
    for seed in range(6):
        (out, mixed), mix = run_cutmix(tf.constant(images, tf.float32), tf.constant(labels), seed,
                                       per_sample=per_sample)
        out, mixed = out.numpy().astype(np.float64), mixed.numpy().astype(np.float64)
        rectangles = []
        for b in range(batch):
            count, box = ref.changed_rectangle(images[b], out[b])
            expected = np.zeros(batch)
            if count:
                y0, x0, y1, x1 = box
                sources = (out[b, y0:y1, x0:x1] - pattern[y0:y1, x0:x1]) // step
                assert np.unique(sources).size == 1, f"box of sample {b} comes from several images"
                partner = int(sources.flat[0])
                assert partner != b
                kept = 1.0 - count / (height * width)
                expected[b], expected[partner] = kept, 1.0 - kept
                assert mix["mix_weight"][b] == np.float32(kept)
                np.testing.assert_array_equal(mix["boxes"][b], box)
                rectangles.append(box)
                pasted_any += 1
            else:
                expected[b] = 1.0  # nothing visible was pasted: the label is the sample's own
            np.testing.assert_allclose(mixed[b], expected, rtol=0, atol=1e-6, err_msg=f"seed {seed}, sample {b}")
        if not per_sample:
            assert len(set(rectangles)) <= 1, f"per-batch CutMix pasted different boxes: {rectangles}"
            assert len(set(mix["mix_weight"].tolist())) == 1
    assert pasted_any >= 20  # the test saw real pastes


def test_box_rule_given_drawn_lambda_and_centre():
    # Recompute the sampler's lambda and centre with the public primitives (split order: permutation,
    # apply, beta, box), then build the boxes in NumPy from the paper's rule.
    for (height, width), alpha, per_sample in [((37, 53), 1.0, True), ((5, 7), 0.3, True), ((37, 53), 2.0, False)]:
        batch = 64
        for s in range(3):
            seed = sampling.resolve_seed(s)
            mix = cutmix.sample_cutmix(seed, batch, height, width, alpha=alpha, per_sample=per_sample)
            _, _, beta_seed, box_seed = sampling.split_seed(seed, 4)
            count = batch if per_sample else 1
            lam = sampling.sample_beta(beta_seed, [count], alpha).numpy()
            centre_y, centre_x = ref.centre_pixels(sampling.uniform(box_seed, [count, 2]).numpy(), height, width)
            expected = np.broadcast_to(ref.box_rule(lam, centre_y, centre_x, height, width), (batch, 4))
            boxes = mix["boxes"].numpy()
            np.testing.assert_array_equal(boxes, expected)
            # Invariant: a box that touches no border has sides floor(sqrt(1 - lam) * side): height from H.
            lam = np.broadcast_to(lam, (batch,))
            inner = (boxes[:, 0] > 0) & (boxes[:, 2] < height) & (boxes[:, 1] > 0) & (boxes[:, 3] < width)
            side = np.sqrt(1.0 - lam.astype(np.float32))
            np.testing.assert_array_equal((boxes[:, 2] - boxes[:, 0])[inner], np.floor(side * height)[inner])
            np.testing.assert_array_equal((boxes[:, 3] - boxes[:, 1])[inner], np.floor(side * width)[inner])
            np.testing.assert_array_equal(mix["mix_weight"].numpy(),
                                          ref.kept_fraction(boxes, height, width).astype(np.float32))


# --- per batch, per sample, probability -----------------------------------------------------------


def test_per_batch_shares_box_and_weight_per_sample_does_not():
    seed = sampling.resolve_seed(3)
    shared = cutmix.sample_cutmix(seed, 16, 37, 53, per_sample=False)
    boxes, weights = shared["boxes"].numpy(), shared["mix_weight"].numpy()
    assert boxes.shape == (16, 4) and weights.shape == (16,)
    assert (boxes == boxes[0]).all() and (weights == weights[0]).all()
    own = cutmix.sample_cutmix(seed, 16, 37, 53, per_sample=True)
    assert len({tuple(b) for b in own["boxes"].numpy()}) > 8
    assert len(set(own["mix_weight"].numpy().tolist())) > 8


def test_probability_zero_is_identity_with_one_hot_labels():
    images, _, _ = distinct_images(5, 5, 7)
    for per_sample in (False, True):
        (out, labels), mix = run_cutmix(ref.as_dtype(images, "uint8"), tf.constant([4, 0, 2, 2, 1]), 1,
                                        num_classes=5, probability=0.0, per_sample=per_sample)
        assert out.dtype == tf.uint8
        np.testing.assert_array_equal(out.numpy(), images)
        np.testing.assert_array_equal(labels.numpy(), ref.one_hot([4, 0, 2, 2, 1], 5))
        np.testing.assert_array_equal(mix["boxes"], 0)
        np.testing.assert_array_equal(mix["mix_weight"], 1.0)


def test_probability_per_batch_mixes_whole_batches_about_half_the_time():
    draw = tf.function(lambda seed: cutmix.sample_cutmix(seed, 8, 1000, 1000, probability=0.5)["boxes"])
    num_seeds = 400
    mixed = 0
    for s in range(num_seeds):
        area = ref.kept_fraction(draw(tf.constant([s, 5], tf.int64)).numpy(), 1000, 1000) < 1.0
        assert area.all() or not area.any(), f"seed {s}: per-batch probability mixed only part of the batch"
        mixed += int(area.all())
    assert abs(mixed / num_seeds - 0.5) < 4 * np.sqrt(0.25 / num_seeds)


@pytest.mark.parametrize("probability", [0.3, 0.8])
def test_probability_per_sample_mixes_that_fraction_of_samples(probability):
    n = 20_000
    mix = cutmix.sample_cutmix(sampling.resolve_seed(7), n, 1000, 1000, probability=probability, per_sample=True)
    mixed = mix["mix_weight"].numpy() < 1.0
    assert abs(mixed.mean() - probability) < 4 * np.sqrt(probability * (1 - probability) / n)


# --- the sampler's distribution -----------------------------------------------------------------


@pytest.mark.parametrize("height,width,alpha", [(32, 32, 1.0), (5, 7, 1.0), (37, 53, 0.5), (5, 7, 2.0)])
def test_sampler_distribution_matches_numpy_monte_carlo(height, width, alpha):
    n, n_ref = 20_000, 100_000
    mix = cutmix.sample_cutmix(sampling.resolve_seed(11), n, height, width, alpha=alpha, per_sample=True)
    boxes, weight = mix["boxes"].numpy().astype(np.int64), mix["mix_weight"].numpy().astype(np.float64)
    ref_boxes, ref_weight = ref.sample_cutmix_boxes(np.random.default_rng(0), n_ref, height, width, alpha)
    # Mean kept fraction E[lambda] (0.5 before clipping; clipping raises it).
    tolerance = 4 * np.sqrt(ref_weight.var() / n + ref_weight.var() / n_ref)
    assert abs(weight.mean() - ref_weight.mean()) < tolerance, (weight.mean(), ref_weight.mean())
    # Distribution of each box coordinate and of the area: two-sample chi-square homogeneity tests.
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    ref_areas = (ref_boxes[:, 2] - ref_boxes[:, 0]) * (ref_boxes[:, 3] - ref_boxes[:, 1])
    columns = [(boxes[:, i], ref_boxes[:, i], f"coordinate {i}") for i in range(4)]
    columns.append((areas * 20 // (height * width), ref_areas * 20 // (height * width), "area"))
    for got, want, name in columns:
        top = int(max(got.max(), want.max())) + 1
        table = np.stack([np.bincount(got, minlength=top), np.bincount(want, minlength=top)])
        table = table[:, table.sum(axis=0) >= 20]  # drop sparse bins
        p_value = stats.chi2_contingency(table)[1]
        assert p_value > 1e-4, f"{name}: distribution differs from the NumPy sampler (p={p_value:.2g})"


# --- shapes, dtypes, layouts, labels, dict input -----------------------------------------------


def test_batch_zero():
    (out, labels), mix = run_cutmix(tf.zeros([0, 5, 7, 3], tf.uint8), tf.zeros([0], tf.int32), 0, num_classes=4)
    assert out.shape == (0, 5, 7, 3) and out.dtype == tf.uint8
    assert labels.shape == (0, 4)
    assert mix["boxes"].shape == (0, 4) and mix["mix_weight"].shape == (0,)


@pytest.mark.parametrize("dtype", ["uint8", "float16", "bfloat16", "float32"])
def test_dtypes_are_kept_and_pasted_values_exact(dtype):
    images, _, _ = distinct_images(7, 5, 7)
    for per_sample in (False, True):
        out, mix = run_cutmix(ref.as_dtype(images, dtype), None, 2, per_sample=per_sample)
        assert out.dtype == tf.as_dtype(dtype) and out.shape == images.shape
        expected, _, _ = ref.cutmix(images, None, mix["permutation"], mix["boxes"])
        np.testing.assert_array_equal(ref.np_value(out), expected)
        assert (expected != images).any()


@pytest.mark.parametrize("per_sample", [False, True])
def test_channels_first_is_the_transpose_of_channels_last(per_sample):
    images, _, _ = distinct_images(7, 5, 7, channels=2)
    labels = tf.constant([0, 1, 2, 0, 1, 2, 0])
    for seed in range(3):
        (last, last_labels), _ = run_cutmix(ref.as_dtype(images, "uint8"), labels, seed, num_classes=3,
                                            per_sample=per_sample, data_format="channels_last")
        (first, first_labels), mix = run_cutmix(ref.as_dtype(images.transpose(0, 3, 1, 2), "uint8"), labels, seed,
                                                num_classes=3, per_sample=per_sample, data_format="channels_first")
        np.testing.assert_array_equal(first.numpy(), last.numpy().transpose(0, 3, 1, 2))
        np.testing.assert_array_equal(first_labels.numpy(), last_labels.numpy())
        expected, _, _ = ref.cutmix(images.transpose(0, 3, 1, 2), None, mix["permutation"], mix["boxes"],
                                    data_format="channels_first")
        np.testing.assert_array_equal(first.numpy(), expected)


def test_soft_float_labels_stay_float_and_mix():
    images, _, _ = distinct_images(4, 8, 6)
    soft = np.array([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.25, 0.25, 0.5]], np.float32)
    for dtype in ("float32", "float16"):
        (_, labels), mix = run_cutmix(tf.constant(images, tf.float32), tf.cast(soft, dtype), 4)
        assert labels.dtype == tf.as_dtype(dtype) and labels.shape == (4, 3)
        _, expected, _ = ref.cutmix(images, soft, mix["permutation"], mix["boxes"])
        np.testing.assert_allclose(ref.np_value(labels), expected, rtol=0, atol=1e-6 if dtype == "float32" else 2e-3)
        assert not np.allclose(expected, soft)  # the labels really mixed
        np.testing.assert_allclose(ref.np_value(labels).sum(axis=1), 1.0, atol=1e-3)


def test_integer_labels_rank1_and_rank2_agree():
    images, _, _ = distinct_images(7, 5, 7)
    ids = np.array([3, 0, 1, 1, 2, 3, 0])
    (_, flat), mix = run_cutmix(tf.constant(images, tf.float32), tf.constant(ids), 6, num_classes=4)
    (_, column), _ = run_cutmix(tf.constant(images, tf.float32), tf.constant(ids[:, None], tf.int64), 6,
                                num_classes=4)
    _, expected, _ = ref.cutmix(images, ref.one_hot(ids, 4), mix["permutation"], mix["boxes"])
    np.testing.assert_allclose(flat.numpy(), expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(column.numpy(), flat.numpy())


def test_label_smoothing_is_applied_before_mixing():
    height, width = 5, 7
    images, step, pattern = distinct_images(2, height, width)
    # One-hot [1,0,0,0] and [0,0,0,1] smoothed with 0.2 over 4 classes: 0.8 * y + 0.05.
    smoothed = np.array([[0.85, 0.05, 0.05, 0.05], [0.05, 0.05, 0.05, 0.85]])
    checked = 0
    for seed in range(8):
        (out, labels), _ = run_cutmix(tf.constant(images, tf.float32), tf.constant([0, 3]), seed,
                                      num_classes=4, label_smoothing=0.2)
        for b in range(2):
            count, _ = ref.changed_rectangle(images[b], out.numpy()[b])
            kept = 1.0 - count / (height * width)  # the partner is the other sample whenever count > 0
            expected = kept * smoothed[b] + (1.0 - kept) * smoothed[1 - b]
            np.testing.assert_allclose(labels.numpy()[b], expected, rtol=0, atol=1e-6)
            checked += count > 0
    assert checked >= 4


@pytest.mark.parametrize("data_format,mask_shape", [("channels_last", "rank3"), ("channels_last", "rank4"),
                                                   ("channels_first", "rank4")])
def test_dict_input_pastes_masks_with_the_same_box(data_format, mask_shape):
    batch, height, width = 7, 5, 7
    images, _, _ = distinct_images(batch, height, width, data_format=data_format)
    masks = 10 * np.arange(batch)[:, None, None] + (np.arange(height * width) % 10).reshape(height, width)
    if mask_shape == "rank4":
        masks = masks[:, None] if data_format == "channels_first" else masks[..., None]
    ids = tf.constant(np.arange(batch) * 11)
    data = {"images": tf.constant(images, tf.float32), "labels": tf.constant(np.arange(batch) % 2),
            "segmentation_masks": tf.constant(masks, tf.int32), "ids": ids}
    for per_sample in (False, True):
        out, mix = run_cutmix(data, None, 9, num_classes=2, per_sample=per_sample, data_format=data_format)
        assert sorted(out) == ["ids", "images", "labels", "segmentation_masks"]
        assert out["ids"] is ids
        expected_images, expected_labels, _ = ref.cutmix(images, ref.one_hot(np.arange(batch) % 2, 2),
                                                         mix["permutation"], mix["boxes"], data_format)
        np.testing.assert_array_equal(out["images"].numpy(), expected_images)
        np.testing.assert_allclose(out["labels"].numpy(), expected_labels, atol=1e-6)
        assert out["segmentation_masks"].dtype == tf.int32
        expected_masks = ref.paste(masks, mix["permutation"], mix["boxes"], data_format)
        np.testing.assert_array_equal(out["segmentation_masks"].numpy(), expected_masks)
        assert (expected_masks != masks).any()


# --- eager, tf.function, XLA and tf.data give the same outputs --------------------------------

MODE_CONFIGS = {
    "cutmix-alpha1": lambda x, y, s: cutmix.cutmix_fn(x, y, num_classes=5, alpha=1.0, seed=s),
    "cutmix-alpha0.3-per_sample-label_smoothing": lambda x, y, s: cutmix.cutmix_fn(
        x, y, num_classes=5, alpha=0.3, per_sample=True, probability=0.8, label_smoothing=0.1, seed=s),
    "mixup-alpha1": lambda x, y, s: mixup.mixup_fn(x, y, num_classes=5, alpha=1.0, seed=s),
    "mixup-alpha0.3": lambda x, y, s: mixup.mixup_fn(x, y, num_classes=5, alpha=0.3, seed=s),
    "cutout": lambda x, y, s: cutout.cutout_fn(x, y, size=3, num_classes=5, seed=s),
}
MODE_SEEDS = 4


@pytest.fixture(scope="module")
def mode_outputs():
    """Outputs of every config for MODE_SEEDS seeds in each mode: one trace / compile per mode."""
    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((6, 8, 10, 3)), tf.float32)
    labels = tf.constant([0, 1, 2, 3, 4, 0])

    def all_configs(seed):
        return {name: fn(images, labels, seed) for name, fn in MODE_CONFIGS.items()}

    seeds = [tf.constant([s, 3], tf.int64) for s in range(MODE_SEEDS)]
    graph, xla = tf.function(all_configs), tf.function(all_configs, jit_compile=True)
    outputs = {
        "eager": [all_configs(s) for s in seeds],
        "tf.function": [graph(s) for s in seeds],
        "XLA": [xla(s) for s in seeds],
        "tf.data": list(tf.data.Dataset.from_tensor_slices(tf.stack(seeds)).map(all_configs)),
    }
    return {mode: [tf.nest.map_structure(lambda t: t.numpy(), o) for o in runs] for mode, runs in outputs.items()}


# MixUp with alpha != 1 blends by a Beta draw whose transcendental functions round differently under XLA
# and Grappler (about 1 ulp of lambda, documented in the README): its floats agree to 1e-6, not bit for bit.
ULP_LEVEL_CONFIGS = {"mixup-alpha0.3"}
# Pasted pixels are the same bits in every mode. Blends and mixed labels run in float32 (no float64 in the
# graph), and XLA may fuse their multiply-adds: they agree within 1 float32 ulp (README, "What it does").
BLENDED_IMAGES = {"mixup-alpha1"}


@pytest.mark.parametrize("config", sorted(MODE_CONFIGS))
def test_eager_graph_xla_and_tf_data_agree(mode_outputs, config):
    # A seed gives the same outputs eagerly, in tf.function, under XLA and in tf.data: pasted pixels bit for
    # bit, float32 blends and labels within 1 ulp.
    if config in ULP_LEVEL_CONFIGS:
        for mode in ("tf.function", "XLA", "tf.data"):
            for s in range(MODE_SEEDS):
                for g, w in zip(mode_outputs[mode][s][config], mode_outputs["eager"][s][config]):
                    np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
        return
    differing = []
    for mode in ("tf.function", "XLA", "tf.data"):
        for s in range(MODE_SEEDS):
            got, want = mode_outputs[mode][s][config], mode_outputs["eager"][s][config]
            for part, g, w in zip(("images", "labels"), got, want):
                assert g.dtype == w.dtype and g.shape == w.shape
                if part == "labels" or config in BLENDED_IMAGES:
                    np.testing.assert_array_max_ulp(g, w, maxulp=1)
                    assert np.abs(g - w).max() <= (1.2e-7 if part == "labels" else 1e-6)
                elif not np.array_equal(g, w):
                    differing.append(f"{part} {mode} seed {s} ({np.sum(g != w)} values, max |diff| "
                                     f"{np.abs(g.astype(np.float64) - w).max():.2g})")
    assert not differing, f"{config}: outputs differ from eager: {differing}"
    # The seeds do something: different seeds, different outputs.
    eager = mode_outputs["eager"]
    assert any(not np.array_equal(eager[s][config][0], eager[0][config][0]) for s in range(1, MODE_SEEDS))
