"""ColorJitter and Lighting against NumPy ports of the official code's `utils.py`."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.data import color

EIGVAL = np.array([0.2175, 0.0188, 0.0045])
EIGVEC = np.array([[-0.5675, 0.7192, 0.4009],
                   [-0.5808, -0.0045, -0.8140],
                   [-0.5836, -0.6948, 0.4203]])


# NumPy ports of CutMix-PyTorch utils.py, written as the official code does:
# img.lerp(degenerate, a) with a = 1 - factor, channels last.
def _np_gray(img):
    g = 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]
    return np.repeat(g[..., None], 3, -1)


def _np_lerp(img, degenerate, a):
    return img + a * (degenerate - img)


def _np_jitter(img, factors, order):
    img = img.astype(np.float64)
    for op in order:
        a = 1.0 - factors[op]
        if op == 0:  # Brightness
            img = _np_lerp(img, np.zeros_like(img), a)
        elif op == 1:  # Contrast
            img = _np_lerp(img, np.full_like(img, _np_gray(img).mean()), a)
        else:  # Saturation
            img = _np_lerp(img, _np_gray(img), a)
    return img


def _np_lighting(img, alpha):
    rgb = np.zeros(3)
    for i in range(3):  # eigvec.mul(alpha.view(1, 3)).mul(eigval.view(1, 3)).sum(1)
        for j in range(3):
            rgb[i] += EIGVEC[i, j] * alpha[j] * EIGVAL[j]
    return img + rgb


IMAGE = np.random.default_rng(0).uniform(0.0, 1.0, (5, 7, 3)).astype(np.float32)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_color_jitter_matches_numpy_for_every_order(order):
    factors = np.array([0.7, 1.35, 1.2], np.float32)
    got = color.color_jitter(tf.constant(IMAGE), factors, order).numpy()
    np.testing.assert_allclose(got, _np_jitter(IMAGE, factors, order), atol=2e-6)


def test_single_operations_match_numpy():
    img = tf.constant(IMAGE)
    np.testing.assert_allclose(color.adjust_brightness(img, 1.4).numpy(), IMAGE * 1.4, atol=1e-6)
    mean = _np_gray(IMAGE).mean()
    np.testing.assert_allclose(color.adjust_contrast(img, 0.6).numpy(),
                               0.6 * IMAGE + 0.4 * mean, atol=1e-6)
    np.testing.assert_allclose(color.adjust_saturation(img, 1.3).numpy(),
                               1.3 * IMAGE - 0.3 * _np_gray(IMAGE), atol=1e-6)
    # Not clamped: factor 1.4 takes bright pixels above 1, as in the official code.
    assert color.adjust_brightness(img, 1.4).numpy().max() > 1.0


@pytest.mark.parametrize("alpha", [(0.1, -0.2, 0.05), (-0.3, 0.0, 0.25)])
def test_lighting_matches_numpy(alpha):
    got = color.lighting(tf.constant(IMAGE), np.array(alpha, np.float32)).numpy()
    np.testing.assert_allclose(got, _np_lighting(IMAGE, np.array(alpha)), atol=1e-6)
    # alpha = (1, 0, 0) adds 0.2175 times the first eigenvector (the first column).
    unit = color.lighting(tf.zeros([1, 1, 3]), [1.0, 0.0, 0.0]).numpy()[0, 0]
    np.testing.assert_allclose(unit, 0.2175 * EIGVEC[:, 0], atol=1e-6)


def test_to_uint8_rounds_and_clips():
    got = color.to_uint8(tf.constant([-0.1, 0.0, 0.5 / 255, 1.6 / 255, 0.5, 1.0, 1.3])).numpy()
    np.testing.assert_array_equal(got, [0, 0, 0, 2, 128, 255, 255])
    assert got.dtype == np.uint8
    np.testing.assert_allclose(color.to_unit_float(np.array([0, 51, 255], np.uint8)).numpy(),
                               [0.0, 0.2, 1.0], atol=1e-7)


def test_samplers_ranges_and_spread():
    samples = [color.sample_color_jitter(tf.constant([i, 5])) for i in range(300)]
    factors = np.array([f.numpy() for f, _ in samples])
    orders = [tuple(o.numpy()) for _, o in samples]
    assert factors.min() >= 0.6 and factors.max() <= 1.4
    np.testing.assert_allclose(factors.mean(0), 1.0, atol=0.05)
    np.testing.assert_allclose(factors.std(0), 0.8 / np.sqrt(12), atol=0.03)  # Uniform(0.6, 1.4).
    counts = {perm: orders.count(perm) for perm in itertools.permutations(range(3))}
    assert min(counts.values()) >= 25 and sum(counts.values()) == 300  # About 50 each.
    alphas = np.array([color.sample_lighting(tf.constant([i, 5])).numpy() for i in range(300)])
    np.testing.assert_allclose(alphas.std(0), 0.1, atol=0.02)
    np.testing.assert_allclose(alphas.mean(0), 0.0, atol=0.02)


def test_sampling_is_seeded_and_same_in_tf_data():
    def draw(seed):
        factors, order = color.sample_color_jitter(seed)
        alpha = color.sample_lighting(seed)
        image = color.lighting(color.color_jitter(tf.constant(IMAGE), factors, order), alpha)
        return factors, order, alpha, image

    seed = tf.constant([3, 9], tf.int64)
    eager = draw(seed)
    again = draw(seed)
    graph = next(iter(tf.data.Dataset.from_tensors(seed).map(draw)))
    for a, b, c in zip(eager, again, graph):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(a.numpy(), c.numpy())
    other = draw(tf.constant([4, 9], tf.int64))
    assert not np.array_equal(other[0].numpy(), eager[0].numpy())
