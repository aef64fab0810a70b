"""Property tests of the robustness evaluations on random well-formed input in every accepted form (NumPy or
tensor images, ids [N] / [N, 1] / one-hot / whole floats, NumPy scalars, any batch size): fgsm against the
closed-form input gradient of a linear model, occlusion and in-between accuracies against NumPy masks and
blends written out here."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.robustness import fgsm, in_between_accuracy, occlusion_accuracy

from robustness_helpers import (  # noqa: E402  (same folder)
    gradient_signs, input_gradient, linear_model, linear_weights, logits, random_images, top1,
)


def _case(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 6)), int(rng.integers(1, 3)))
    classes = int(rng.integers(2, 6))
    kernel, bias = linear_weights(seed, shape, classes)
    count = int(rng.integers(1, 9))
    images = random_images(count, seed + 50, shape)
    labels = rng.integers(classes, size=count)
    label_form = [labels, labels[:, None], np.eye(classes, dtype=np.float32)[labels], labels.astype(np.float64)][
        seed % 4]
    image_form = tf.constant(images) if seed % 2 else images
    return rng, shape, classes, kernel, bias, images, labels, label_form, image_form


@pytest.mark.parametrize("seed", range(8))
def test_fgsm_is_the_closed_form_on_random_input(seed):
    rng, shape, classes, kernel, bias, images, labels, label_form, image_form = _case(seed)
    eps = np.float32(rng.uniform(0.01, 0.2))
    model = linear_model(kernel, bias, shape=shape, activation="softmax" if seed % 3 == 0 else None)
    redraw = seed
    while np.abs(input_gradient(images, labels, kernel, bias)).min() <= 1e-4:  # Float32 signs need a margin.
        redraw += 1000
        images = random_images(len(images), redraw, shape)
        image_form = tf.constant(images) if seed % 2 else images
    result = fgsm(model, image_form, label_form, eps=eps, pixel_scale=1.0, batch_size=np.int64(rng.integers(1, 5)))
    signs = gradient_signs(input_gradient(images, labels, kernel, bias))
    expected = np.clip(images.astype(np.float64) + float(eps) * signs, 0.0, 1.0)
    assert result.shape == images.shape and result.dtype == np.float32
    np.testing.assert_allclose(result, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("seed", range(8))
def test_occlusion_and_in_between_accuracies_on_random_input(seed):
    rng, shape, classes, kernel, bias, images, labels, label_form, image_form = _case(seed)
    model = linear_model(kernel, bias, shape=shape, input_scale=1 / 255)
    height, width = shape[:2]
    sizes = sorted(rng.choice(max(height, width) + 1, size=3, replace=False).tolist())
    batch_size = int(rng.integers(1, 5))
    expected = {"center": [], "boundary": []}
    for size in sizes:
        y0, x0 = (height - size) // 2, (width - size) // 2
        inside = np.zeros((height, width), bool)
        inside[max(y0, 0):max(y0, 0) + min(size, height), max(x0, 0):max(x0, 0) + min(size, width)] = True
        for mode, kept in (("center", ~inside), ("boundary", inside)):
            occluded = images * kept[None, :, :, None]
            expected[mode].append(np.mean(top1(logits(occluded, kernel, bias)) == labels))
    for mode in ("center", "boundary"):
        got = occlusion_accuracy(model, image_form, label_form, np.array(sizes), mode, batch_size=batch_size)
        np.testing.assert_allclose(got, expected[mode], rtol=0, atol=1e-12)
    if len(images) < 2:
        return
    pairs = np.stack([rng.integers(len(images), size=5), rng.integers(len(images), size=5)], 1)
    lambdas = [np.float32(0.0), 0.25, rng.uniform(), 1.0]
    a, b = images[pairs[:, 0]], images[pairs[:, 1]]
    expected = []
    for lam in lambdas:
        predicted = top1(logits(float(lam) * a.astype(np.float64) + (1 - float(lam)) * b, kernel, bias))
        expected.append(np.mean((predicted == labels[pairs[:, 0]]) | (predicted == labels[pairs[:, 1]])))
    got = in_between_accuracy(model, image_form, label_form, pairs, lambdas, "mixup", batch_size=batch_size)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
