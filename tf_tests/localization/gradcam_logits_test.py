"""Grad-CAM follows the package's one logits rule (`checks.outputs_logits`, issue 17): the gradient of the class
logit, whichever head the model ends in.

Selvaraju et al. take the gradient of the class score before the softmax. A softmax-headed model must give the
Grad-CAM of its logits twin (same layers, same weights); where the logits are out of reach (a nested head, a
Lambda), the log of the probability. The references are computed here in NumPy from the model's features and
head kernel, independently of `cam.py`: for feature map A -> global average pooling -> Dense(W) with logits
z, d z_c / d A_k = W[k, c] / (h w), and d log softmax(z)_c / d A_k = (W[k, c] - sum_j p_j W[k, j]) / (h w).
"""

import importlib

import keras
import numpy as np
import pytest

from keras_cutmix import localization

# The package exports the function `cam`, which hides the module of the same name.
cam_module = importlib.import_module("keras_cutmix.localization.cam")
CLASSES = np.array([0, 1, 2, 1, 0])


def _trunk(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 10, 3))
    features = keras.layers.Conv2D(4, 3, padding="same", name="features")(inputs)
    return inputs, features, keras.layers.GlobalAveragePooling2D()(features)


def _models(head):
    """A logits model and its twin ending in `head` (same trunk, same Dense weights)."""
    inputs, _, pooled = _trunk()
    dense = keras.layers.Dense(3, name="head")
    logits = keras.Model(inputs, dense(pooled))
    if head == "softmax_layer":
        twin_out = keras.layers.Softmax()(dense.output)
    elif head == "activation_layer":
        twin_out = keras.layers.Activation("softmax")(dense.output)
    elif head in ("dense_softmax", "dense_sigmoid"):
        twin_dense = keras.layers.Dense(3, activation=head.split("_")[1], name="head")
        twin_out = twin_dense(pooled)
        twin_dense.set_weights(dense.get_weights())
    elif head == "lambda_identity":  # A Lambda the structure cannot read, giving logits.
        twin_out = keras.layers.Lambda(lambda z: z * 1.0)(dense.output)
    return logits, keras.Model(inputs, twin_out)


def _images():
    # Scaled up so that the softmax saturates: the probability's gradient is then far from the logit's.
    return 4.0 * np.random.default_rng(0).normal(size=(5, 8, 10, 3)).astype(np.float32)


def _normalize(m):
    """wsolevaluation's normalize_scoremap (min-max; constant -> zeros)."""
    m = np.array(m, np.float64)
    return np.zeros_like(m) if m.min() == m.max() else (m - m.min()) / (m.max() - m.min())


def _reference(model, x, classes, log_probability):
    """Grad-CAM of the class logit (or of the log softmax probability) for feature -> GAP -> Dense "head"."""
    probe = keras.Model(model.input, [model.get_layer("features").output, model.get_layer("head").output])
    features, logits = (np.asarray(t, np.float64) for t in probe(x, training=False))
    kernel = np.asarray(model.get_layer("head").kernel, np.float64)  # [C, K]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    maps = []
    for i, c in enumerate(classes):
        alphas = kernel[:, c] - (p[i] @ kernel.T if log_probability else 0.0)
        maps.append(_normalize(np.maximum(features[i] @ alphas, 0.0)))
    return np.stack(maps)


@pytest.mark.parametrize("head", ["softmax_layer", "activation_layer", "dense_softmax", "dense_sigmoid",
                                  "lambda_identity"])
def test_a_probability_head_gives_the_gradcam_of_its_logits(head):
    logits_model, twin = _models(head)
    x = _images()
    expected = _reference(logits_model, x, CLASSES, log_probability=False)
    np.testing.assert_allclose(localization.gradcam(logits_model, x, class_ids=CLASSES), expected, atol=1e-5)
    np.testing.assert_allclose(localization.gradcam(twin, x, class_ids=CLASSES), expected, atol=1e-5)
    # The predicted class (argmax) is the same on probabilities and logits.
    np.testing.assert_allclose(localization.gradcam(twin, x), localization.gradcam(logits_model, x), atol=1e-5)


def test_the_probability_gradient_would_differ_here():
    # What the test above guards against: Grad-CAM of the softmax probability itself, d p_c = p_c (d z_c -
    # sum_j p_j d z_j), is the log-probability map scaled by p_c > 0, so it normalises to the log map.
    logits_model, _ = _models("softmax_layer")
    x = _images()
    logit_maps = _reference(logits_model, x, CLASSES, log_probability=False)
    probability_maps = _reference(logits_model, x, CLASSES, log_probability=True)
    assert np.abs(logit_maps - probability_maps).max() > 0.3


def _probability_models():
    """Softmax heads whose logits are out of reach: a Lambda, and a nested head model."""
    inputs, _, pooled = _trunk()
    dense = keras.layers.Dense(3, name="head")
    logits = dense(pooled)
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda z: keras.ops.softmax(z, axis=-1))(logits))
    head_input = keras.Input((3,))
    nested_head = keras.Model(head_input, keras.layers.Softmax()(head_input), name="softmax_head")
    nested = keras.Model(inputs, nested_head(logits))
    return lambda_model, nested


def test_unreachable_logits_give_the_gradcam_of_the_log_probability():
    x = _images()
    for model in _probability_models():
        expected = _reference(model, x, CLASSES, log_probability=True)
        np.testing.assert_allclose(localization.gradcam(model, x, class_ids=CLASSES), expected, atol=1e-5)
        # Twice, with another batch size and chunking (the compiled function is reused).
        np.testing.assert_allclose(localization.gradcam(model, x[:3], class_ids=CLASSES[:3], batch_size=2),
                                   expected[:3], atol=1e-5)


def test_evaluate_path_maps_and_logits_of_a_softmax_model():
    logits_model, twin = _models("softmax_layer")
    x = _images()
    (twin_pred, twin_true), probabilities = cam_module.maps_and_logits(twin, x, [None, CLASSES], "gradcam")
    np.testing.assert_allclose(twin_true, _reference(logits_model, x, CLASSES, False), atol=1e-5)
    predicted = np.asarray(logits_model(x)).argmax(1)
    np.testing.assert_allclose(twin_pred, _reference(logits_model, x, predicted, False), atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)  # The model's own outputs come back.
