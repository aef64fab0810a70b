"""Tests of mixing inside tf.data: `map_with_seed` seeds per batch and per epoch, and plain `dataset.map`.

Every pipeline here repeats ONE batch, so any difference between its outputs comes from the mix alone.
Label/pixel consistency inside tf.data uses one-hot-coded images (see layer_checks.onehot_images).
"""

import functools

import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from layer_checks import assert_distinct_mixes, onehot_images, pixel_sources

B, H, W = 5, 6, 9
STEPS = 4
IMAGES = onehot_images(B, H, W)
LABELS = np.arange(B)

FUNCTIONS = {
    "cutmix_fn": functools.partial(kc.cutmix_fn, num_classes=B),
    "mixup_fn": functools.partial(kc.mixup_fn, num_classes=B),
    "cutout_fn": functools.partial(kc.cutout_fn, num_classes=B, size=3),
}
MIXERS = ("cutmix_fn", "mixup_fn")


def repeated_batch(steps=STEPS, as_dict=False):
    element = {"images": IMAGES, "labels": LABELS, "id": np.arange(B)} if as_dict else (IMAGES, LABELS)
    return tf.data.Dataset.from_tensors(element).repeat(steps)


def epoch(dataset):
    return [tf.nest.map_structure(np.asarray, element) for element in dataset]


def images_of(element):
    return element["images"] if isinstance(element, dict) else element[0]


def assert_all_differ(elements, what):
    """Batches that were mixed are pairwise different (a draw that changes nothing may repeat)."""
    assert_distinct_mixes(IMAGES, [images_of(e) for e in elements], what)


def assert_labels_follow_pixels(elements, name):
    for element in elements:
        images, labels = (element["images"], element["labels"]) if isinstance(element, dict) else element
        expected = pixel_sources(images) if name in MIXERS else np.eye(B)
        np.testing.assert_allclose(labels, expected, atol=1e-6)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_map_with_seed_equals_direct_calls_with_the_stream_seeds(name):
    mapped = epoch(kc.map_with_seed(repeated_batch(), FUNCTIONS[name], seed=7))
    # The documented seed stream, built independently: batch i gets element i of it.
    stream = tf.data.Dataset.random(seed=7, rerandomize_each_iteration=True).batch(2)
    seeds = [s for s in stream.take(STEPS)]
    assert len(mapped) == STEPS
    for element, seed in zip(mapped, seeds):
        direct = FUNCTIONS[name](IMAGES, LABELS, seed=seed)  # eager, outside tf.data
        np.testing.assert_array_equal(element[0], direct[0])
        np.testing.assert_array_equal(element[1], direct[1])
    assert_labels_follow_pixels(mapped, name)


@pytest.mark.parametrize("name", ["cutmix_fn"])  # The seeding is the same for every fn (see the test above).
def test_map_with_seed_differs_per_batch_and_per_epoch_and_repeats_per_seed(name):
    dataset = kc.map_with_seed(repeated_batch(), FUNCTIONS[name], seed=3)
    first, second = epoch(dataset), epoch(dataset)
    assert_all_differ(first, "batches")
    assert_all_differ(first + second, "batches across epochs")
    twin = kc.map_with_seed(repeated_batch(), FUNCTIONS[name], seed=3, num_parallel_calls=1)
    for mine, theirs in zip(first + second, epoch(twin) + epoch(twin)):
        np.testing.assert_array_equal(mine[0], theirs[0])
        np.testing.assert_array_equal(mine[1], theirs[1])
    other = epoch(kc.map_with_seed(repeated_batch(), FUNCTIONS[name], seed=4))
    assert not all(np.array_equal(images_of(a), images_of(b)) for a, b in zip(other, first))


def test_map_with_seed_none_is_not_reproducible_but_varies():
    first = epoch(kc.map_with_seed(repeated_batch(), FUNCTIONS["cutmix_fn"]))
    assert_all_differ(first, "batches")
    assert_labels_follow_pixels(first, "cutmix_fn")


@pytest.mark.parametrize("name", MIXERS)
def test_map_with_seed_on_dicts(name):
    mapped = epoch(kc.map_with_seed(repeated_batch(as_dict=True), FUNCTIONS[name], seed=11))
    for element in mapped:
        assert set(element) == {"images", "labels", "id"}
        np.testing.assert_array_equal(element["id"], np.arange(B))
        assert element["labels"].dtype == np.float32 and element["images"].shape == IMAGES.shape
    assert_all_differ(mapped, "batches")
    assert_labels_follow_pixels(mapped, name)
    # The same mixes as the tuple pipeline with the same seed.
    as_tuples = epoch(kc.map_with_seed(repeated_batch(), FUNCTIONS[name], seed=11))
    for element, pair in zip(mapped, as_tuples):
        np.testing.assert_array_equal(element["images"], pair[0])


def test_map_with_seed_on_images_only():
    dataset = tf.data.Dataset.from_tensors(IMAGES).repeat(STEPS)
    mapped = epoch(kc.map_with_seed(dataset, kc.cutmix_fn, seed=2))
    assert all(isinstance(m, np.ndarray) and m.shape == IMAGES.shape for m in mapped)
    assert_all_differ([(m,) for m in mapped], "batches")


@pytest.mark.parametrize("name", ["cutmix_fn", "cutout_fn"])
def test_plain_map_with_seed_none(name):
    dataset = repeated_batch().map(FUNCTIONS[name])
    mapped = epoch(dataset)
    assert len(mapped) == STEPS
    assert_all_differ(mapped, "batches")
    assert_labels_follow_pixels(mapped, name)


def test_plain_map_of_the_bare_function_on_float_labels_and_dicts():
    one_hot = tf.data.Dataset.from_tensors((IMAGES, np.eye(B, dtype="float32"))).repeat(STEPS)
    mapped = epoch(one_hot.map(kc.cutmix_fn))
    assert_all_differ(mapped, "batches")
    assert_labels_follow_pixels(mapped, "cutmix_fn")
    dicts = tf.data.Dataset.from_tensors({"images": IMAGES, "labels": np.eye(B, dtype="float32")}).repeat(STEPS)
    mapped = epoch(dicts.map(kc.cutmix_fn))
    assert_all_differ(mapped, "batches")
    assert_labels_follow_pixels(mapped, "cutmix_fn")


@pytest.mark.parametrize("kwargs,fragment", [
    ({"dataset": IMAGES}, "Expected `dataset` to be a tf.data.Dataset. Received: ndarray"),
    ({"seed": 1.5}, "Expected `seed` to be an int or None. Received: seed=1.5"),
    ({"seed": "3"}, "Received: seed='3'"),
    ({"seed": True}, "Received: seed=True"),
    ({"seed": tf.constant(3)}, "Expected `seed` to be an int or None"),
], ids=["not_a_dataset", "float_seed", "str_seed", "bool_seed", "tensor_seed"])
def test_bad_arguments_raise_type_error(kwargs, fragment):
    kwargs = dict(kwargs)
    dataset = kwargs.pop("dataset", repeated_batch())
    with pytest.raises(TypeError) as info:
        kc.map_with_seed(dataset, kc.cutmix_fn, num_classes=B, **kwargs)
    assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_map_with_seed_passes_sample_weights_through(name):
    # (images, labels, sample_weight) elements, as `fit` takes them: images and labels mixed as for pairs
    # with the same seed stream, the weights of each row unchanged.
    weights = np.array([0.5, 1.0, 2.0, 3.0, 4.0], np.float32)
    triples = tf.data.Dataset.from_tensors((IMAGES, LABELS, weights)).repeat(STEPS)
    with_weights = epoch(kc.map_with_seed(triples, FUNCTIONS[name], seed=5))
    pairs = epoch(kc.map_with_seed(repeated_batch(), FUNCTIONS[name], seed=5))
    assert_labels_follow_pixels([e[:2] for e in with_weights], name)
    for triple, pair in zip(with_weights, pairs, strict=True):
        assert len(triple) == 3
        np.testing.assert_array_equal(triple[0], pair[0])
        np.testing.assert_array_equal(triple[1], pair[1])
        np.testing.assert_array_equal(triple[2], weights)


def test_map_with_seed_takes_a_numpy_seed_and_rejects_long_tuples():
    a = epoch(kc.map_with_seed(repeated_batch(), FUNCTIONS["cutmix_fn"], seed=np.int64(5)))
    b = epoch(kc.map_with_seed(repeated_batch(), FUNCTIONS["cutmix_fn"], seed=5))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x[0], y[0])
    quads = tf.data.Dataset.from_tensors((IMAGES, LABELS, LABELS, LABELS))
    with pytest.raises(ValueError, match=r"map_with_seed: Expected elements .*Received: tuples of 4 entries"):
        kc.map_with_seed(quads, FUNCTIONS["cutmix_fn"], seed=1)
