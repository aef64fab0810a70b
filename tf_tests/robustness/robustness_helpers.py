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


# Float32 runs of these tiny models move a logit or a gradient component by about 1e-6 with the batch size,
# thread count or CPU (another summation order). A float64 reference is only comparable with them where it
# is this far from a tie: an argmax between two logits, or the sign of a gradient component.
MARGIN = 1e-4


def top1(reference_logits):
    """The argmax of float64 reference logits, after checking that no row is within `MARGIN` of a tie."""
    top2 = np.sort(reference_logits, axis=-1)[..., -2:]
    gap = float(np.min(top2[..., 1] - top2[..., 0]))
    assert gap > MARGIN, f"A reference top-1 is {gap:.2e} from a tie: a float32 run could pick the other class."
    return np.argmax(reference_logits, axis=-1)


def gradient_signs(gradient):
    """`np.sign(gradient)` after checking that every component is at least `MARGIN` from 0."""
    smallest = float(np.min(np.abs(gradient)))
    assert smallest > MARGIN, f"A reference gradient component is {smallest:.2e} from 0: its float32 sign could flip."
    return np.sign(gradient)
