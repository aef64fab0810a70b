"""OOD evaluation shows progress: a bar over the test images, then one per OOD set (arrays and tf.data)."""

import re

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix.ood import evaluate_ood

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _evaluate(verbose, capsys):
    model = keras.Sequential([keras.Input((2, 3, 3)), keras.layers.Flatten(), keras.layers.Dense(4)])
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (5, 2, 3, 3)).astype(np.float32)
    sets = {
        "noise": lambda shape: rng.uniform(0, 255, (7,) + tuple(shape)).astype(np.float32),
        "disk": lambda shape: tf.data.Dataset.from_tensor_slices(
            rng.uniform(0, 255, (6,) + tuple(shape)).astype(np.float32)).batch(4),
    }
    evaluate_ood(model, images, np.arange(5) % 4, sets, batch_size=2, verbose=verbose)
    return ANSI.sub("", capsys.readouterr().out)


def test_a_bar_per_image_set(capsys):
    out = _evaluate(1, capsys)
    assert "OOD: 5 in-distribution test images" in out and "OOD set noise: 7 images" in out, out
    assert "OOD set disk" in out, out
    last = lambda pattern: [int(c) for c in re.findall(pattern, out)][-1]  # noqa: E731
    assert last(r"(\d+)/5\b") == 5 and last(r"(\d+)/7\b") == 7, out
    assert last(r"(\d+)/Unknown") == 6, out  # A tf.data set counts its images as they come.


def test_verbose_0_prints_nothing(capsys):
    assert _evaluate(0, capsys) == ""
