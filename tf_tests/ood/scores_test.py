"""max_softmax_score on tiny models against NumPy's softmax; logits are told from probabilities."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.ood import class_probabilities, max_softmax_score, outputs_logits


def _model(activation=None, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((5, 7, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)  # Pixels in [0, 255], as our models.
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(6, activation=activation, name="head",
                                 kernel_initializer=keras.initializers.RandomNormal(stddev=2.0))(x)
    return keras.Model(inputs, outputs)


def _numpy_softmax(logits):
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


IMAGES = np.random.default_rng(0).uniform(0, 255, (7, 5, 7, 3)).astype(np.float32)


def _rtol(model, images=IMAGES):
    """Relative tolerance of float32 softmax outputs computed with another batch size, graph or kernel.

    A float32 logit of the dense head is a sum of D = 105 products; another summation order (the kernels
    block the matmul by batch size and thread count) moves it by about sqrt(D) * eps32 * sum_k |x_k w_k|
    (1.5e-6 relative was seen between batches of 2 and 7), and a softmax probability moves relatively by at
    most twice the largest logit move.
    """
    kernel = np.abs(model.get_layer("head").get_weights()[0]).astype(np.float64)
    magnitude = np.max(np.abs(images.reshape(len(images), -1) / 255.0) @ kernel)
    return 2 * np.sqrt(kernel.shape[0]) * np.finfo(np.float32).eps * magnitude


def test_logits_model_matches_numpy_softmax():
    model = _model()
    assert outputs_logits(model)
    logits = model(IMAGES, training=False).numpy().astype(np.float64)
    scores = max_softmax_score(model, IMAGES, batch_size=3)  # Odd batches: 3, 3, 1.
    assert scores.shape == (7,) and scores.dtype == np.float32
    np.testing.assert_allclose(scores, _numpy_softmax(logits).max(-1), rtol=_rtol(model))
    assert np.all((scores > 1 / 6 - 1e-6) & (scores <= 1.0))


def test_probability_model_is_not_softmaxed_twice():
    model = _model("softmax")
    assert not outputs_logits(model)
    probabilities = model(IMAGES, training=False).numpy()
    np.testing.assert_allclose(max_softmax_score(model, IMAGES), probabilities.max(-1), rtol=_rtol(model))
    # The flag overrides the detection: a softmax over probabilities.
    np.testing.assert_allclose(max_softmax_score(model, IMAGES, from_logits=True),
                               _numpy_softmax(probabilities.astype(np.float64)).max(-1), rtol=_rtol(model))


def test_softmax_layer_and_nested_model_are_detected():
    inner = _model()
    outer = keras.Sequential([keras.Input((5, 7, 3)), inner, keras.layers.Softmax()])
    assert outputs_logits(inner) and not outputs_logits(outer)
    wrapped = keras.Sequential([keras.Input((5, 7, 3)), _model("softmax")])
    assert not outputs_logits(wrapped)


def test_dataset_input_equals_array_input():
    model = _model()
    dataset = tf.data.Dataset.from_tensor_slices((IMAGES, np.arange(7))).batch(4)
    # Batches of 4 and 2 against one of 7: float32 logits differ by batch size (see `_rtol`).
    np.testing.assert_allclose(max_softmax_score(model, dataset), max_softmax_score(model, IMAGES),
                               rtol=_rtol(model))
    images_only = tf.data.Dataset.from_tensor_slices(IMAGES).batch(2)
    np.testing.assert_allclose(max_softmax_score(model, images_only),
                               max_softmax_score(model, IMAGES), rtol=_rtol(model))


def test_errors():
    with pytest.raises(ValueError, match="batch_size"):
        max_softmax_score(_model(), IMAGES, batch_size=0)
    with pytest.raises(TypeError, match=r"^max_softmax_score: Expected `model` to be a keras.Model"):
        max_softmax_score(lambda x, training=False: x, IMAGES)


def test_our_models_output_logits():
    from keras_cutmix.models import get_model

    model = get_model("small_cnn", num_classes=4, input_shape=(16, 16, 3))
    assert outputs_logits(model)
    images = np.random.default_rng(1).uniform(0, 255, (3, 16, 16, 3)).astype(np.float32)
    logits = model(images, training=False).numpy().astype(np.float64)
    np.testing.assert_allclose(max_softmax_score(model, images), _numpy_softmax(logits).max(-1), rtol=1e-5)


def test_class_probabilities_match_numpy_softmax_and_pass_probabilities_through():
    model = _model()
    logits = model(IMAGES, training=False).numpy().astype(np.float64)
    probabilities = class_probabilities(model, IMAGES, batch_size=4)
    assert probabilities.shape == (7, 6) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities, _numpy_softmax(logits), rtol=_rtol(model), atol=1e-7)
    softmax_model = _model("softmax")
    np.testing.assert_allclose(class_probabilities(softmax_model, IMAGES),
                               softmax_model(IMAGES, training=False).numpy(), rtol=_rtol(softmax_model))
