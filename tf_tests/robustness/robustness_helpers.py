"""Tiny linear classifiers and their NumPy closed forms, shared by the robustness tests."""

import keras
import numpy as np

SHAPE = (3, 4, 2)  # Non-square on purpose.
NUM_CLASSES = 4


def linear_weights(seed=0, shape=SHAPE, num_classes=NUM_CLASSES):
    """A random kernel [D, K] and bias [K] (float32)."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    return (rng.normal(size=(size, num_classes)).astype(np.float32),
            rng.normal(size=num_classes).astype(np.float32))


def linear_model(kernel, bias, shape=SHAPE, activation=None, input_scale=None, last=None):
    """Input -> [Rescaling(input_scale)] -> Flatten -> Dense(kernel, bias, activation) -> [last layer]."""
    inputs = keras.Input(shape)
    x = keras.layers.Rescaling(input_scale)(inputs) if input_scale is not None else inputs
    x = keras.layers.Flatten()(x)
    dense = keras.layers.Dense(kernel.shape[1], activation=activation)
    x = dense(x)
    dense.set_weights([kernel, bias])
    if last is not None:
        x = last(x)
    return keras.Model(inputs, x)


def softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def logits(images, kernel, bias, scale=1.0):
    """NumPy float64 logits of `linear_model` on `images * scale`."""
    flat = images.reshape(len(images), -1).astype(np.float64) * scale
    return flat @ kernel.astype(np.float64) + bias.astype(np.float64)


def input_gradient(images, labels, kernel, bias):
    """Closed form of grad_x CE(softmax(x W + b), y) for a linear softmax model: W (p - y), per image."""
    probabilities = softmax(logits(images, kernel, bias))
    onehot = np.eye(kernel.shape[1])[labels]
    return ((probabilities - onehot) @ kernel.astype(np.float64).T).reshape(images.shape)


def random_images(count, seed=1, shape=SHAPE):
    return np.random.default_rng(seed).uniform(size=(count,) + shape).astype(np.float32)
