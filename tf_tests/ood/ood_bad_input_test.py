"""Issue 17 for `keras_cutmix.ood`: the right answer or a one-line error naming the argument.

Each case gave a wrong number or a raw error before: [N, 1] labels read as class 0 by the ECE, logits or
NaN giving an ECE outside [0, 1], class probabilities [N, K] flattened into scores, a softmax in a Lambda or
a subclassed `call` applied twice, a data set of dicts failing on conversion. Right answers are compared
with NumPy written out here.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import checks, ood
from keras_cutmix.ood import (
    class_probabilities, default_ood_sets, detection_metrics, evaluate_ood, expected_calibration_error,
    max_softmax_score, ood_evaluator, roc_curve, uniform_noise,
)

SHAPE = (5, 7, 3)
NUM_CLASSES = 6


def _numpy_softmax(logits):
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def _dense(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.layers.Dense(NUM_CLASSES, kernel_initializer=keras.initializers.RandomNormal(stddev=2.0))


def _functional(last=None):
    inputs = keras.Input(SHAPE)
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255.0)(inputs))
    x = _dense()(x)
    return keras.Model(inputs, last(x) if last is not None else x)


class SoftmaxInCall(keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = keras.layers.Flatten()
        self.dense = _dense()

    def call(self, inputs):
        return keras.ops.softmax(self.dense(self.flatten(inputs / 255.0)))


IMAGES = np.random.default_rng(0).uniform(0, 255, (7,) + SHAPE).astype(np.float32)


@pytest.mark.parametrize("make", [lambda: _functional(keras.layers.Lambda(keras.ops.softmax)), SoftmaxInCall])
def test_a_hidden_softmax_is_not_applied_twice(make):
    model = make()
    probabilities = np.asarray(model(IMAGES, training=False), np.float64)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(max_softmax_score(model, IMAGES, batch_size=3), probabilities.max(-1), rtol=1e-5)
    np.testing.assert_allclose(class_probabilities(model, IMAGES), probabilities, rtol=1e-5, atol=1e-7)
    # A confident model: the score is its probability, ~1, not softmax(probabilities) (at most e / (e + 5)).
    confident = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                                  keras.layers.Lambda(lambda x: keras.ops.softmax(100.0 * keras.ops.concatenate(
                                      [x, 0 * x[:, :2]], axis=-1)))])
    one = np.zeros((1, 2, 2, 1), np.float32)
    one[0, 0, 0, 0] = 1.0
    assert max_softmax_score(confident, one)[0] == pytest.approx(1.0, abs=1e-6)
    assert ood.outputs_logits is checks.outputs_logits  # The package's one rule, no local copy.


def test_ece_reads_n_by_1_labels_as_ids():
    rng = np.random.default_rng(1)
    probabilities = _numpy_softmax(rng.normal(size=(50, 4)) * 2)
    labels = rng.integers(4, size=50)
    ece, _ = expected_calibration_error(probabilities, labels)
    assert expected_calibration_error(probabilities, labels[:, None])[0] == pytest.approx(ece)
    assert expected_calibration_error(probabilities, np.eye(4)[labels])[0] == pytest.approx(ece)


@pytest.mark.parametrize("probabilities, labels, message", [
    (np.array([[2.0, -1.0], [0.5, 3.0]]), [0, 1], r"look like logits: apply a softmax first"),
    (np.array([[np.nan, 0.5], [0.5, 0.5]]), [0, 1], r"Expected finite `probabilities`"),
    (np.array([[0.5, 0.5], [0.5, 0.5]]), [0, 2], r"Expected `labels` in \[0, num_classes=2\)"),
    (np.array([[0.5, 0.5], [0.5, 0.5]]), [[0.5, 0.5], [0.5, 0.5]], r"not one-hot"),
    (np.array([[0.5, 0.5], [0.5, 0.5]]), [0, 1, 1], r"Expected 2 `labels`, one per example"),
    (np.zeros((0, 2)), np.zeros([0], int), r"at least one prediction"),
])
def test_ece_refuses_what_is_not_probabilities_and_ids(probabilities, labels, message):
    with pytest.raises(ValueError, match=rf"^expected_calibration_error: .*{message}"):
        expected_calibration_error(probabilities, labels)


def test_ece_takes_numpy_integers():
    probabilities, labels = np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 0])
    assert expected_calibration_error(probabilities, labels, num_bins=np.int64(2))[0] == pytest.approx(
        expected_calibration_error(probabilities, labels, num_bins=2)[0])


@pytest.mark.parametrize("function", [detection_metrics, roc_curve])
def test_class_probabilities_are_not_scores(function):
    probabilities = _numpy_softmax(np.random.default_rng(2).normal(size=(10, 3)))
    with pytest.raises(ValueError, match=rf"^{function.__name__}: Expected `in_scores` to hold one score per "
                                         r"example, shape \[N\] or \[N, 1\]"):
        function(probabilities, probabilities.max(-1))
    scores = probabilities.max(-1)
    column, flat = function(scores[:, None], scores[::-1, None] - 0.1), function(scores, scores[::-1] - 0.1)
    for a, b in zip(column.values() if isinstance(column, dict) else column,
                    flat.values() if isinstance(flat, dict) else flat):
        np.testing.assert_array_equal(a, b)


def test_a_data_set_of_dicts_is_named():
    dicts = tf.data.Dataset.from_tensor_slices({"image": IMAGES, "label": np.arange(7)}).batch(3)
    with pytest.raises(ValueError, match=r"^max_softmax_score: Expected `images` as an array \[N, H, W, C\] or a "
                                         r"tf.data.Dataset of image batches .*Received: a data set of dict"):
        max_softmax_score(_functional(), dicts)


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), r"Expected `batch_size` to be an int >= 1"),
    (dict(from_logits="yes"), r"Expected `from_logits` to be None, True or False"),
])
def test_score_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=rf"^max_softmax_score: {message}"):
        max_softmax_score(_functional(), IMAGES, **kwargs)


def test_scores_take_numpy_integers_and_any_batch_in_any_order():
    model = _functional()
    logits = np.asarray(model(IMAGES, training=False), np.float64)
    for batch_size in (np.int64(2), 7, np.int32(3)):
        np.testing.assert_allclose(max_softmax_score(model, IMAGES, batch_size=batch_size),
                                   _numpy_softmax(logits).max(-1), rtol=1e-5)
    np.testing.assert_allclose(max_softmax_score(model, IMAGES[:1]), _numpy_softmax(logits[:1]).max(-1), rtol=1e-5)


def test_images_of_another_rank_are_named():
    with pytest.raises(ValueError, match=r"^class_probabilities: Expected `images` of shape \[batch, height, width"):
        class_probabilities(_functional(), IMAGES[0])


def test_evaluate_ood_reads_n_by_1_labels_as_ids():
    model = _functional()
    labels = np.random.default_rng(3).integers(NUM_CLASSES, size=7)
    sets = {"uniform": lambda shape: uniform_noise(5, image_shape=shape, seed=0)}
    result = evaluate_ood(model, IMAGES, labels[:, None], sets, batch_size=np.int64(4))
    predicted = np.argmax(np.asarray(model(IMAGES, training=False)), -1)
    # [N, 1] labels broadcast against [N] predictions gave the mean of an [N, N] comparison.
    assert result["top1_acc"] == pytest.approx(100 * np.mean(predicted == labels), abs=1e-3)
    with pytest.raises(ValueError, match=rf"^evaluate_ood: Expected `labels` in \[0, num_classes={NUM_CLASSES}\)"):
        evaluate_ood(model, IMAGES, np.full(7, NUM_CLASSES), sets)


@pytest.mark.parametrize("call, message", [
    (lambda: ood_evaluator({}, num_images=-1), r"^ood_evaluator: Expected `num_images` to be an int >= 1"),
    (lambda: ood_evaluator({}, batch_size=0), r"^ood_evaluator: Expected `batch_size` to be an int >= 1"),
    (lambda: ood_evaluator({"x": 3}), r"^ood_evaluator: Expected `ood_sets` as \{name: load\(image_shape\)\}"),
    (lambda: default_ood_sets("synthetic_shapes", (8, 8, 3), num_images=0),
     r"^default_ood_sets: Expected `num_images` to be an int >= 1"),
    (lambda: uniform_noise(2, image_shape=(8.5, 8, 3)), r"^uniform_noise: Expected `image_shape\[0\]` to be an int"),
    (lambda: ood.gaussian_noise(2, image_shape=(8, 8)), r"^gaussian_noise: Expected `image_shape` as \(height, width, "
                                                        r"channels\)"),
    (lambda: ood.embedded_near_ood(0), r"^embedded_near_ood: Expected `num_images` to be an int >= 1"),
])
def test_set_and_evaluator_options_are_named_before_anything_runs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_run_ood_checks_its_arguments_before_anything_trains(tmp_path):
    with pytest.raises(ValueError, match=r"^run_ood: Expected `num_images` to be an int >= 1"):
        ood.run_ood(str(tmp_path / "w"), num_images=-1)
    with pytest.raises(ValueError, match=r"^run_ood: Expected `num_ood_images` to be an int >= 1"):
        ood.run_ood(str(tmp_path / "w"), num_ood_images=0)
    assert not (tmp_path / "w").exists()


def test_plots_name_malformed_bins_and_curves(tmp_path):
    with pytest.raises(ValueError, match=r"^plot_reliability_diagram: Expected `bins` with keys"):
        ood.plot_reliability_diagram(str(tmp_path / "r.png"), {"edges": [0, 1]})
    with pytest.raises(ValueError, match=r"^plot_roc_curves: Expected `curves_by_name\['a'\]` as \(fpr, tpr\)"):
        ood.plot_roc_curves(str(tmp_path / "c.png"), {"a": [0.0, 0.5, 1.0]})
    with pytest.raises(ValueError, match=r"^plot_roc_curves: Expected `fpr` of the curve 'a' in \[0, 1\]"):
        ood.plot_roc_curves(str(tmp_path / "c.png"), {"a": ([0, 50, 100], [0, 0.5, 1])})
