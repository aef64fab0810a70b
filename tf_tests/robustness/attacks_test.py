"""FGSM and PGD against the closed-form input gradient of a linear softmax model: W (p - y)."""

import gc
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.robustness import accuracy_under_attack, fgsm, pgd, predicted_classes
from keras_cutmix.mixing import sampling
from keras_cutmix.models import function_cache

from robustness_helpers import (  # noqa: E402  (same folder)
    NUM_CLASSES, gradient_signs, input_gradient, linear_model, linear_weights, logits, random_images, top1,
)

EPS = 0.05


def _setup(count=7, seed=0):
    kernel, bias = linear_weights(seed)
    images = random_images(count, seed + 1)
    labels = np.random.default_rng(seed + 2).integers(NUM_CLASSES, size=count)
    gradient = input_gradient(images, labels, kernel, bias)
    # Signs of float32 gradients are only comparable away from 0.
    assert np.abs(gradient).min() > 1e-4
    return kernel, bias, images, labels, gradient


def _reference_fgsm(images, gradient, eps):
    return np.clip(images.astype(np.float64) + eps * gradient_signs(gradient), 0.0, 1.0)


def _reference_pgd(images, labels, kernel, bias, eps, step_size, steps, seed=None):
    """PGD in float64; `seed`: start where `pgd(..., seed=seed)` starts (its stateless uniform draw)."""
    adversarial = images.astype(np.float64)
    if seed is not None:
        start = eps * (2.0 * sampling.uniform(sampling.resolve_seed(seed), images.shape).numpy() - 1.0)
        adversarial = np.clip(np.clip(adversarial + start, images - eps, images + eps), 0.0, 1.0)
    for _ in range(steps):
        adversarial += step_size * gradient_signs(input_gradient(adversarial, labels, kernel, bias))
        adversarial = np.clip(np.clip(adversarial, images - eps, images + eps), 0.0, 1.0)
    return adversarial


@pytest.mark.parametrize("activation", [None, "softmax"])
def test_fgsm_is_the_closed_form_gradient_sign(activation):
    kernel, bias, images, labels, gradient = _setup()
    model = linear_model(kernel, bias, activation=activation)
    expected = _reference_fgsm(images, gradient, EPS)
    result = fgsm(model, images, labels, eps=EPS, pixel_scale=1.0, batch_size=3)  # 3 chunks: 3 + 3 + 1.
    assert result.dtype == np.float32 and result.shape == images.shape
    np.testing.assert_allclose(result, expected, atol=1e-6, rtol=0)
    # One-hot labels and tensors give the same images.
    onehot = tf.one_hot(labels, NUM_CLASSES)
    np.testing.assert_array_equal(fgsm(model, tf.constant(images), onehot, eps=EPS, pixel_scale=1.0), result)


def test_pgd_one_step_without_random_start_is_fgsm():
    kernel, bias, images, labels, _ = _setup()
    model = linear_model(kernel, bias)
    expected = fgsm(model, images, labels, eps=EPS, pixel_scale=1.0)
    result = pgd(model, images, labels, eps=EPS, step_size=EPS, steps=1, random_start=False, pixel_scale=1.0)
    np.testing.assert_array_equal(result, expected)


def test_pgd_steps_match_a_numpy_projected_loop():
    kernel, bias, images, labels, _ = _setup(count=5, seed=3)
    model = linear_model(kernel, bias)
    expected = _reference_pgd(images, labels, kernel, bias, EPS, EPS / 3, steps=4)
    result = pgd(model, images, labels, eps=EPS, step_size=EPS / 3, steps=4, random_start=False, pixel_scale=1.0)
    np.testing.assert_allclose(result, expected, atol=1e-6, rtol=0)
    # Some pixels moved by less than eps (the steps went back and forth) and none by more.
    moved = np.abs(result - images)
    assert moved.max() <= EPS + 1e-6


def test_pgd_random_start_is_seeded_projected_and_independent_of_batch_size():
    kernel, bias, images, labels, _ = _setup(count=6)
    model = linear_model(kernel, bias)
    kwargs = dict(eps=EPS, step_size=0.01, steps=2, pixel_scale=1.0)
    first = pgd(model, images, labels, seed=5, batch_size=4, **kwargs)
    # Both batch sizes follow the float64 loop from the same start (float32 gradients differ by batch size,
    # but their signs do not: `gradient_signs` checks each is far from 0).
    expected = _reference_pgd(images, labels, kernel, bias, EPS, 0.01, 2, seed=5)
    np.testing.assert_allclose(first, expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(pgd(model, images, labels, seed=5, batch_size=6, **kwargs), expected, atol=1e-6, rtol=0)
    other = pgd(model, images, labels, seed=6, **kwargs)
    assert np.any(other != first)
    no_start = pgd(model, images, labels, random_start=False, **kwargs)
    assert np.any(no_start != first)
    for result in (first, other):
        assert np.abs(result - images).max() <= EPS + 1e-6
        assert result.min() >= 0.0 and result.max() <= 1.0


def test_clipping_keeps_the_unit_interval():
    kernel, bias, _, labels, _ = _setup()
    images = np.random.default_rng(9).choice([0.0, 0.02, 0.5, 0.98, 1.0], size=(7, 3, 4, 2)).astype(np.float32)
    gradient = input_gradient(images, labels, kernel, bias)
    model = linear_model(kernel, bias)
    result = fgsm(model, images, labels, eps=0.3, pixel_scale=1.0)
    assert result.min() == 0.0 and result.max() == 1.0
    np.testing.assert_allclose(result, _reference_fgsm(images, gradient, 0.3), atol=1e-6, rtol=0)
    result = pgd(model, images, labels, eps=0.3, step_size=0.1, steps=5, seed=1, pixel_scale=1.0)
    assert result.min() >= 0.0 and result.max() <= 1.0


def test_pixel_scale_feeds_the_model_its_own_pixel_range():
    kernel, bias, images, labels, _ = _setup()
    takes_unit = linear_model(kernel, bias)
    # Our models' shape: pixels in [0, 255], normalised inside.
    takes_255 = linear_model(kernel, bias, input_scale=1 / 255)
    expected = fgsm(takes_unit, images, labels, eps=EPS, pixel_scale=1.0)
    np.testing.assert_array_equal(fgsm(takes_255, images, labels, eps=EPS), expected)  # Default 255.
    # PGD's later steps: both models follow the float64 loop (their float32 gradients differ by rounding).
    expected = _reference_pgd(images, labels, kernel, bias, EPS, 2 / 255, 3, seed=2)
    np.testing.assert_allclose(pgd(takes_unit, images, labels, eps=EPS, steps=3, seed=2, pixel_scale=1.0), expected,
                               atol=1e-6, rtol=0)
    np.testing.assert_allclose(pgd(takes_255, images, labels, eps=EPS, steps=3, seed=2), expected, atol=1e-6, rtol=0)
    # Feeding [0, 1] pixels to the [0, 255] model is a different (wrong) attack.
    wrong = fgsm(takes_255, images, labels, eps=EPS, pixel_scale=1.0)
    np.testing.assert_allclose(wrong, _reference_fgsm(images, input_gradient(images / 255, labels, kernel, bias),
                                                      EPS), atol=1e-6)


def test_probabilities_are_detected_from_the_last_layer_or_the_outputs():
    kernel, bias, images, labels, gradient = _setup()
    # The package's one rule (keras_cutmix.checks.outputs_logits) decides; each reading gives the closed form.
    expected = _reference_fgsm(images, gradient, EPS)
    for last in (None, keras.layers.Activation("softmax"), keras.layers.Softmax()):
        model = linear_model(kernel, bias, activation="softmax" if last is None else None, last=last)
        assert checks.outputs_logits(model) is False
        np.testing.assert_allclose(fgsm(model, images, labels, eps=EPS, pixel_scale=1.0), expected, atol=1e-6, rtol=0)
    assert checks.outputs_logits(linear_model(kernel, bias)) is True
    # A softmax the last layer does not show: found from the outputs.
    hidden = linear_model(kernel, bias, last=keras.layers.Lambda(keras.ops.softmax))
    assert checks.outputs_logits(hidden, hidden(images)) is False
    expected = _reference_fgsm(images, gradient, EPS)
    detected = fgsm(hidden, images, labels, eps=EPS, pixel_scale=1.0)
    np.testing.assert_allclose(detected, expected, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(fgsm(hidden, images, labels, eps=EPS, pixel_scale=1.0, from_logits=False),
                                  detected)
    # Reading those probabilities as logits is another loss, and another attack.
    as_logits = fgsm(hidden, images, labels, eps=EPS, pixel_scale=1.0, from_logits=True)
    assert np.any(np.abs(as_logits - expected) > 1e-3)


def test_accuracy_under_attack_counts_top1_on_the_attacked_images():
    kernel, bias, images, labels, gradient = _setup(count=8)
    model = linear_model(kernel, bias, input_scale=1 / 255)
    adversarial = _reference_fgsm(images, gradient, EPS)
    expected = np.mean(top1(logits(adversarial, kernel, bias)) == labels)
    assert accuracy_under_attack(model, (images, labels), eps=EPS, batch_size=3) == pytest.approx(expected)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(3)
    assert accuracy_under_attack(model, dataset, eps=EPS) == pytest.approx(expected)
    clean = np.mean(top1(logits(images, kernel, bias)) == labels)
    assert accuracy_under_attack(model, (images, labels), eps=0.0) == pytest.approx(clean)
    attacked = pgd(model, images, labels, eps=EPS, steps=3, seed=4)
    expected = np.mean(top1(logits(attacked, kernel, bias)) == labels)
    assert accuracy_under_attack(model, (images, labels), pgd, eps=EPS, steps=3, seed=4) == pytest.approx(expected)


def test_bad_arguments_are_named():
    kernel, bias, images, labels, _ = _setup(count=2)
    model = linear_model(kernel, bias)
    with pytest.raises(ValueError, match="float `images`"):
        fgsm(model, (images * 255).astype(np.uint8), labels)
    with pytest.raises(ValueError, match=r"images` in \[0, 1\]"):
        fgsm(model, images * 255, labels)
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, images, labels, eps=-0.1)
    with pytest.raises(ValueError, match="steps"):
        pgd(model, images, labels, steps=0)
    with pytest.raises(ValueError, match="pixel_scale"):
        fgsm(model, images, labels, pixel_scale=0)
    with pytest.raises(ValueError, match="Expected 2 `labels`, one per example"):
        fgsm(model, images, labels[:1])
    with pytest.raises(ValueError, match=r"^fgsm: Expected `labels` in \[0, num_classes=4\)"):
        fgsm(model, images, np.array([0, NUM_CLASSES]))


class _Subclassed(keras.Model):
    """A model with no `outputs` attribute until called: the class count comes from a forward pass."""

    def __init__(self, kernel, bias):
        super().__init__()
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(kernel.shape[1])
        self.dense.build((None, kernel.shape[0]))
        self.dense.set_weights([kernel, bias])

    def call(self, inputs):
        return self.dense(self.flatten(inputs))


def test_subclassed_models_are_attacked_like_functional_ones():
    kernel, bias, images, labels, gradient = _setup()
    result = fgsm(_Subclassed(kernel, bias), images, labels, eps=EPS, pixel_scale=1.0)
    np.testing.assert_allclose(result, _reference_fgsm(images, gradient, EPS), atol=1e-6, rtol=0)


def test_compiled_functions_are_cached_per_model_and_go_with_it():
    kernel, bias, images, labels, _ = _setup()
    model = linear_model(kernel, bias)
    first = fgsm(model, images, labels, eps=EPS, pixel_scale=1.0, batch_size=3)
    function = function_cache._FUNCTIONS[model][("attack", True, 1.0)]
    pgd(model, images, labels, eps=EPS, steps=2, pixel_scale=1.0, batch_size=5)
    predicted_classes(model, images, pixel_scale=1.0)
    assert function_cache._FUNCTIONS[model][("attack", True, 1.0)] is function  # FGSM and PGD share it.
    assert sorted(function_cache.cached_keys(model)) == [("attack", True, 1.0), ("predict", 1.0)]
    np.testing.assert_array_equal(fgsm(model, images, labels, eps=EPS, pixel_scale=1.0), first)
    model_ref = weakref.ref(model)
    del model, function
    gc.collect()
    assert model_ref() is None  # The cached functions hold the model weakly: the model, and its entry, go.
