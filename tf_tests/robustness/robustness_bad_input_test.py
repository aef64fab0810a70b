"""Issue 17 for `keras_cutmix.robustness`: the right answer or a one-line error naming the argument.

Each case below gave a wrong number or a raw TensorFlow / NumPy error before: images in [0, 255] scored as
[0, 1] images, labels past the model's classes counted as wrong predictions, Mixup lambdas outside [0, 1]
extrapolated, an empty batch failed on `num_classes`. Right answers are compared with the NumPy closed
forms of `robustness_helpers` (linear models).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import checks, robustness
from keras_cutmix.robustness import (
    accuracy_under_attack, evaluate_robustness, fgsm, in_between_accuracy, mixup_between, occlusion_accuracy, pgd,
    predicted_classes, robustness_evaluator, sample_pairs,
)

from robustness_helpers import NUM_CLASSES, SHAPE, linear_model, linear_weights, logits, random_images, top1

EPS = 0.05


def _model(seed=0, **kwargs):
    kernel, bias = linear_weights(seed)
    return linear_model(kernel, bias, **kwargs), kernel, bias


def _labels(count, seed=2):
    return np.random.default_rng(seed).integers(NUM_CLASSES, size=count)


class SoftmaxInCall(keras.Model):
    """A classifier whose softmax is in `call`: its structure does not say it outputs probabilities."""

    def __init__(self, kernel, bias):
        super().__init__()
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(kernel.shape[1])
        self.dense.build((None, kernel.shape[0]))
        self.dense.set_weights([kernel, bias])

    def call(self, inputs):
        return keras.ops.softmax(self.dense(self.flatten(inputs)))


@pytest.mark.parametrize("call", [
    lambda model, images, labels: occlusion_accuracy(model, images, labels, [0, 2]),
    lambda model, images, labels: in_between_accuracy(model, images, labels, [[0, 1]], [0.5], "mixup"),
    lambda model, images, labels: predicted_classes(model, images),
    lambda model, images, labels: evaluate_robustness(model, images, labels, pgd_steps=0, num_pairs=2),
])
def test_pixels_in_0_255_are_refused(call):
    model, _, _ = _model()
    images = random_images(4) * 255  # The model's own scale, where [0, 1] is expected.
    with pytest.raises(ValueError, match=r"Expected `images` in \[0, 1\] \(these look like \[0, 255\] pixels"):
        call(model, images, _labels(4))


@pytest.mark.parametrize("name, call", [
    ("occlusion_accuracy", lambda model, images, labels: occlusion_accuracy(model, images, labels, [0, 2])),
    ("in_between_accuracy",
     lambda model, images, labels: in_between_accuracy(model, images, labels, [[0, 1]], [0.5], "mixup")),
    ("fgsm", lambda model, images, labels: fgsm(model, images, labels)),
    ("evaluate_robustness", lambda model, images, labels: evaluate_robustness(model, images, labels, pgd_steps=0,
                                                                              num_pairs=2)),
])
def test_labels_past_the_model_classes_are_refused(name, call):
    model, _, _ = _model()
    labels = np.array([0, 1, 2, NUM_CLASSES])
    with pytest.raises(ValueError, match=rf"^{name}: Expected `labels` in \[0, num_classes={NUM_CLASSES}\)"):
        call(model, random_images(4), labels)


def test_labels_n_by_1_and_one_hot_count_as_ids():
    model, kernel, bias = _model(input_scale=1 / 255)  # Takes [0, 255], as evaluate_robustness assumes.
    images, labels = random_images(6), _labels(6)
    expected = np.mean(top1(logits(images, kernel, bias)) == labels)
    for form in (labels[:, None], np.eye(NUM_CLASSES)[labels], labels.astype(np.float32)):
        assert occlusion_accuracy(model, images, form, [0])[0] == pytest.approx(expected)
    # evaluate_robustness compared [N, 1] labels with [N] predictions by broadcasting ([N, N]).
    result = evaluate_robustness(model, images, labels[:, None], pgd_steps=0, num_pairs=3, eps=0.0)
    assert result["clean_top1_acc"] == pytest.approx(100 * expected)
    assert result["fgsm_top1_acc"] == pytest.approx(100 * expected)  # eps 0: the clean images.


@pytest.mark.parametrize("lam", [1.5, -0.2, np.float32(2.0), [0.5, 1.2], float("nan")])
def test_mixup_between_refuses_lambdas_outside_0_1(lam):
    a, b = random_images(2, 1), random_images(2, 2)
    with pytest.raises(ValueError, match=r"^mixup_between: Expected `lam(\[1\])?` to be a fraction in \[0, 1\]"):
        mixup_between(a, b, lam)


def test_mixup_between_takes_numpy_scalars_and_one_lambda_per_pair():
    a, b = random_images(2, 1), random_images(2, 2)
    np.testing.assert_allclose(mixup_between(a, b, np.float32(0.25)), 0.25 * a + 0.75 * b, atol=1e-6)
    lam = np.array([0.0, 0.75])
    np.testing.assert_allclose(mixup_between(a, b, lam), lam[:, None, None, None] * a + (1 - lam[:, None, None, None])
                               * b, atol=1e-6)
    with pytest.raises(ValueError, match=r"^mixup_between: Expected `lam` to be a number or one per pair \[2\]"):
        mixup_between(a, b, [0.5, 0.5, 0.5])


def test_mixup_values_outside_0_1_are_refused_by_in_between_accuracy():
    model, _, _ = _model()
    with pytest.raises(ValueError, match=r"^in_between_accuracy: Expected `values\[1\]` to be a fraction"):
        in_between_accuracy(model, random_images(4), _labels(4), [[0, 1]], [0.5, 1.5], "mixup")


def test_fgsm_and_pgd_on_an_empty_batch_return_an_empty_batch():
    model, _, _ = _model()
    empty = np.zeros((0,) + SHAPE, np.float32)
    for attack in (fgsm, pgd):
        result = attack(model, empty, np.zeros([0], np.int64))
        assert result.shape == (0,) + SHAPE and result.dtype == np.float32
    assert np.isnan(accuracy_under_attack(model, (empty, np.zeros([0], np.int64))))
    with pytest.raises(ValueError, match=r"^fgsm: Expected 0 `labels`, one per example\. Received: 2"):
        fgsm(model, empty, np.array([0, 1]))


def test_numpy_numbers_are_accepted_where_python_numbers_are():
    model, kernel, bias = _model()
    images, labels = random_images(5), _labels(5)
    np.testing.assert_array_equal(fgsm(model, images, labels, eps=np.float32(EPS), batch_size=np.int64(2),
                                       pixel_scale=np.float64(1.0)),
                                  fgsm(model, images, labels, eps=float(np.float32(EPS)), batch_size=2,
                                       pixel_scale=1.0))
    np.testing.assert_array_equal(pgd(model, images, labels, steps=np.int64(2), seed=np.int64(3),
                                      step_size=np.float32(0.01), batch_size=np.int32(2)),
                                  pgd(model, images, labels, steps=2, seed=3, step_size=float(np.float32(0.01)),
                                      batch_size=2))
    expected = np.mean(top1(logits(images, kernel, bias)) == labels)
    assert occlusion_accuracy(model, images, labels, np.array([0]), batch_size=np.int64(2),
                              pixel_scale=np.float32(1.0))[0] == pytest.approx(expected)
    pairs = sample_pairs(np.int64(5), np.int64(4), np.int64(0), labels)
    assert pairs.shape == (4, 2)
    result = evaluate_robustness(model, images, labels, eps=np.float32(EPS), pgd_steps=np.int64(1),
                                 num_pairs=np.int64(3), seed=np.int64(0), batch_size=np.int64(2))
    assert result["pgd_steps"] == 1 and result["in_between"]["num_pairs"] == 3


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_images=0), r"^robustness_evaluator: Expected `num_images` to be an int >= 2"),
    (dict(num_pairs=-1), r"^robustness_evaluator: Expected `num_pairs` to be an int >= 1"),
    (dict(pgd_steps=-1), r"^robustness_evaluator: Expected `pgd_steps` to be an int >= 0"),
    (dict(eps=8), r"^robustness_evaluator: Expected `eps` to be a fraction in \[0, 1\] \(8 looks like a percentage"),
    (dict(batch_size=0), r"^robustness_evaluator: Expected `batch_size` to be an int >= 1"),
])
def test_the_evaluator_checks_its_arguments_before_any_model_trains(kwargs, message):
    with pytest.raises(ValueError, match=message):
        robustness_evaluator(**kwargs)


def test_run_robustness_checks_its_arguments_before_anything_trains(tmp_path):
    with pytest.raises(ValueError, match=r"^run_robustness: Expected `num_pairs` to be an int >= 1"):
        robustness.run_robustness(str(tmp_path / "w"), num_pairs=-1)
    assert not (tmp_path / "w").exists()


def test_a_softmax_in_call_is_read_by_the_one_logits_rule():
    kernel, bias = linear_weights(0)
    model = SoftmaxInCall(kernel, bias)
    images, labels = random_images(5), _labels(5)
    reference = linear_model(kernel, bias, activation="softmax")
    np.testing.assert_allclose(fgsm(model, images, labels, eps=EPS, pixel_scale=1.0),
                               fgsm(reference, images, labels, eps=EPS, pixel_scale=1.0), atol=1e-6)
    assert not hasattr(robustness, "outputs_are_probabilities")  # The one rule is checks.outputs_logits.
    assert checks.outputs_logits(model, model(images)) is False


def test_accuracy_under_attack_names_a_malformed_data_argument():
    model, _, _ = _model()
    images = random_images(3)
    with pytest.raises(ValueError, match=r"^accuracy_under_attack: Expected `data` as \(images, labels\)"):
        accuracy_under_attack(model, images)
    dicts = tf.data.Dataset.from_tensor_slices({"image": images, "label": _labels(3)}).batch(2)
    with pytest.raises(ValueError, match=r"^accuracy_under_attack: Expected `data` as \(images, labels\)"):
        accuracy_under_attack(model, dicts)


def test_a_model_that_does_not_output_class_scores_is_named():
    inputs = keras.Input(SHAPE)
    maps = keras.Model(inputs, keras.layers.Conv2D(NUM_CLASSES, 1)(inputs))  # [B, H, W, K], not [B, K].
    with pytest.raises(ValueError, match=r"^predicted_classes: Expected `model` to output class scores"):
        predicted_classes(maps, random_images(2))


def test_compiled_predictions_take_any_batch_and_image_size_in_any_order():
    inputs = keras.Input((None, None, 2))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(pooled))
    kernel, bias = model.layers[-1].get_weights()
    for shape, count in (((5, 6, 2), 3), ((3, 4, 2), 7), ((5, 6, 2), 1), ((3, 4, 2), 2)):
        images = random_images(count, shape=shape)
        expected = top1(images.mean(axis=(1, 2)).astype(np.float64) @ kernel + bias)
        np.testing.assert_array_equal(predicted_classes(model, images, pixel_scale=1.0, batch_size=2), expected)
        labels = _labels(count)
        accuracy = occlusion_accuracy(model, images, labels, [0], pixel_scale=1.0, batch_size=4)
        assert accuracy[0] == pytest.approx(np.mean(expected == labels))
        # FGSM's compiled function too: d CE / dx of mean-pooled logits is W (p - y) / (H * W) at every pixel.
        pooled_logits = images.mean(axis=(1, 2)).astype(np.float64) @ kernel + bias
        probabilities = np.exp(pooled_logits - pooled_logits.max(1, keepdims=True))
        probabilities /= probabilities.sum(1, keepdims=True)
        direction = (probabilities - np.eye(NUM_CLASSES)[labels]) @ kernel.astype(np.float64).T  # [count, C]
        assert np.abs(direction).min() > 1e-4  # Float32 signs need a margin.
        expected_images = np.clip(images + EPS * np.sign(direction)[:, None, None, :], 0.0, 1.0)
        np.testing.assert_allclose(fgsm(model, images, labels, eps=EPS, pixel_scale=1.0, batch_size=count % 3 + 1),
                                   expected_images, atol=1e-6)
