"""In-between-class samples: pairs, Mixup and CutMix blends of two images, and the either-class accuracy."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.robustness import cutmix_between, cutmix_lambda, in_between_accuracy, mixup_between, sample_pairs

from robustness_helpers import linear_model, linear_weights, logits, random_images, top1  # noqa: E402  (same folder)


def _pair(height=5, width=7, count=3, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(size=(2, count, height, width, 2))
    if dtype == np.uint8:
        return (a * 255).astype(np.uint8), (b * 255).astype(np.uint8)
    return a.astype(dtype), b.astype(dtype)


def test_pairs_are_seeded_distinct_and_of_different_classes():
    labels = np.array([0, 0, 0, 1, 2, 2, 1, 0, 3])
    pairs = sample_pairs(len(labels), 2000, seed=3, labels=labels)
    assert pairs.shape == (2000, 2) and pairs.dtype == np.int64
    np.testing.assert_array_equal(sample_pairs(len(labels), 2000, seed=3, labels=labels), pairs)
    assert np.any(sample_pairs(len(labels), 2000, seed=4, labels=labels) != pairs)
    assert np.all(labels[pairs[:, 0]] != labels[pairs[:, 1]])
    # Every image of another class is a possible partner, about equally often: for first image 0 (class 0),
    # the 5 images of classes 1, 2, 3 each take about a fifth.
    partners = pairs[pairs[:, 0] == 0, 1]
    counts = np.bincount(partners, minlength=len(labels))
    assert set(np.flatnonzero(counts)) == {3, 4, 5, 6, 8}
    assert np.all(np.abs(counts[[3, 4, 5, 6, 8]] / len(partners) - 0.2) < 0.08)
    # One-hot labels give the same pairs.
    np.testing.assert_array_equal(sample_pairs(len(labels), 2000, 3, np.eye(4)[labels]), pairs)


def test_pairs_without_labels_are_two_different_images():
    pairs = sample_pairs(4, 1000, seed=0)
    assert np.all(pairs[:, 0] != pairs[:, 1]) and pairs.min() == 0 and pairs.max() == 3
    assert len({tuple(pair) for pair in pairs.tolist()}) == 12  # All ordered pairs of 4 images occur.
    np.testing.assert_array_equal(sample_pairs(4, 1000, seed=0), pairs)


def test_pairs_need_two_classes_and_a_seed():
    with pytest.raises(ValueError, match="at least 2 classes"):
        sample_pairs(3, 5, 0, labels=[1, 1, 1])
    with pytest.raises(TypeError, match="seed"):
        sample_pairs(3, 5, None)
    with pytest.raises(ValueError, match="num_images"):
        sample_pairs(1, 5, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_mixup_between_endpoints_and_blend(dtype):
    a, b = _pair(dtype=dtype)
    np.testing.assert_array_equal(mixup_between(a, b, 1.0), a)
    np.testing.assert_array_equal(mixup_between(a, b, 0.0), b)
    expected = 0.25 * a.astype(np.float64) + 0.75 * b.astype(np.float64)
    if dtype == np.uint8:
        np.testing.assert_allclose(mixup_between(a, b, 0.25), np.round(expected), atol=1)
    else:
        np.testing.assert_allclose(mixup_between(a, b, 0.25), expected, rtol=1e-6)
    per_pair = mixup_between(tf.constant(a), tf.constant(b), tf.constant([1.0, 0.0, 1.0]))
    assert tf.is_tensor(per_pair)
    np.testing.assert_array_equal(per_pair.numpy(), np.stack([a[0], b[1], a[2]]))


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_cutmix_between_endpoints_and_square(dtype):
    a, b = _pair(5, 7, dtype=dtype)
    np.testing.assert_array_equal(cutmix_between(a, b, 0), a)
    np.testing.assert_array_equal(cutmix_between(a, b, 7), b)
    # Side 2 in 5 x 7: top-left ((5 - 2) // 2, (7 - 2) // 2) = (1, 2), by hand rows 1-2, columns 2-3.
    expected = a.copy()
    expected[:, 1:3, 2:4] = b[:, 1:3, 2:4]
    result = cutmix_between(a, b, 2)
    np.testing.assert_array_equal(result, expected)
    assert np.sum(np.any(result != a, axis=-1)) == 3 * 4  # Only the 2 x 2 squares changed.
    assert tf.is_tensor(cutmix_between(tf.constant(a), tf.constant(b), 2))


@pytest.mark.parametrize("jit_compile", [False, True])
def test_in_between_builders_in_graphs(jit_compile):
    a, b = _pair(5, 7, dtype=np.uint8)
    cut = tf.function(lambda x, y: cutmix_between(x, y, 3), jit_compile=jit_compile)
    np.testing.assert_array_equal(cut(tf.constant(a), tf.constant(b)).numpy(), cutmix_between(a, b, 3))
    mix = tf.function(lambda x, y: mixup_between(x, y, 0.0), jit_compile=jit_compile)
    np.testing.assert_array_equal(mix(tf.constant(a), tf.constant(b)).numpy(), b)


def test_cutmix_lambda():
    assert cutmix_lambda(0, 5, 5) == 1.0
    assert cutmix_lambda(2, 5, 5) == pytest.approx(1 - 4 / 25)
    assert cutmix_lambda(5, 5, 5) == 0.0
    assert cutmix_lambda(5, 4, 6) == pytest.approx(1 - 4 * 5 / 24)  # Clipped to the height.
    assert cutmix_lambda(6, 4, 6) == 0.0


def test_in_between_accuracy_counts_either_class():
    kernel, bias = linear_weights(7)
    model = linear_model(kernel, bias, input_scale=1 / 255)
    images = random_images(12, 8)
    predicted = top1(logits(images, kernel, bias))
    labels = predicted.copy()
    labels[::4] = (labels[::4] + 1) % kernel.shape[1]  # These images are misclassified alone.
    pairs = np.array([[0, 1], [1, 0], [2, 4], [4, 8], [5, 6], [9, 10], [11, 3]])

    def reference(mixed):
        prediction = top1(logits(mixed, kernel, bias))
        return np.mean((prediction == labels[pairs[:, 0]]) | (prediction == labels[pairs[:, 1]]))

    a, b = images[pairs[:, 0]], images[pairs[:, 1]]
    lambdas = [0.0, 0.3, 0.5, 1.0]
    expected = [reference(lam * a + (1 - lam) * b) for lam in lambdas]
    result = in_between_accuracy(model, images, labels, pairs, lambdas, "mixup", batch_size=3)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    # At the ends only one image is seen; a pair counts as correct when that image is right *or* when its
    # prediction happens to be the partner's class.
    ends = [np.mean((predicted[pairs[:, k]] == labels[pairs[:, 0]]) | (predicted[pairs[:, k]] == labels[pairs[:, 1]]))
            for k in (1, 0)]
    np.testing.assert_allclose(result[[0, 3]], ends)
    sides = [0, 1, 2, 3]
    square = {0: (0, 0, 0, 0), 1: (1, 1, 2, 2), 2: (0, 1, 2, 3), 3: (0, 0, 3, 3)}  # 3 x 4 images, by hand.
    expected = []
    for side in sides:
        y0, x0, y1, x1 = square[side]
        mixed = a.copy()
        mixed[:, y0:y1, x0:x1] = b[:, y0:y1, x0:x1]
        expected.append(reference(mixed))
    result = in_between_accuracy(model, images, labels, pairs, sides, "cutmix", batch_size=4)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_in_between_accuracy_arguments_are_checked():
    kernel, bias = linear_weights(7)
    model = linear_model(kernel, bias)
    images = random_images(4, 8)
    labels = np.array([0, 1, 2, 3])
    with pytest.raises(ValueError, match="kind"):
        in_between_accuracy(model, images, labels, [[0, 1]], [0.5], "cutout")
    with pytest.raises(ValueError, match="pairs"):
        in_between_accuracy(model, images, labels, [[0, 4]], [0.5], "mixup")
    with pytest.raises(ValueError, match="values"):
        in_between_accuracy(model, images, labels, [[0, 1]], [1.5], "mixup")
    with pytest.raises(ValueError, match="values"):
        in_between_accuracy(model, images, labels, [[0, 1]], [5], "cutmix")
