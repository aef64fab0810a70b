"""The voc preset against ssd.pytorch and VOC's rules: optimiser and schedule, coupled L2, difficult objects,
augmentation before the resize, evaluation that keeps every ground truth, and the evaluation's progress bar.

VOC itself is never read: tfds mock data (random images and objects with VOC's features) or a stand-in for the
loader's tfds read (`detection_loaders._read`) with hand-made examples.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix.data import detection_loaders
from keras_cutmix.detection import run
from keras_cutmix.detection.train import detection_dataset, evaluate_detector
from keras_cutmix.training.optimizers import TorchSGD

VOC = run.recipe("voc")


def rate_at(optimizer, step):
    optimizer.iterations.assign(step)
    return float(optimizer.learning_rate)


def test_voc_ssd_optimizer_is_ssd_pytorch_sgd_with_its_steps():
    optimizer = run.preset_optimizer(VOC, "ssd", VOC.steps["ssd"])
    assert isinstance(optimizer, TorchSGD) and not optimizer.nesterov and optimizer.momentum == 0.9
    assert optimizer.l2 == 5e-4 and optimizer.weight_decay is None  # Coupled L2 only, no decoupled decay.
    assert optimizer.global_clipnorm is None and optimizer.clipnorm is None and optimizer.clipvalue is None
    assert VOC.batch_size == 32 and VOC.steps["ssd"] == 120_000 and VOC.warmup_steps == 0
    # ssd.pytorch: `if iteration in (80000, 100000): lr = 1e-3 * 0.1 ** k` before that iteration's update.
    for step, expected in [(0, 1e-3), (79_999, 1e-3), (80_000, 1e-4), (99_999, 1e-4), (100_000, 1e-5),
                           (119_999, 1e-5)]:
        np.testing.assert_allclose(rate_at(optimizer, step), expected, rtol=1e-6)


def test_voc_sgd_update_adds_l2_to_the_gradient_and_does_not_clip():
    """Three updates by hand, as torch.optim.SGD(lr, momentum=0.9, weight_decay=5e-4) makes them."""
    optimizer = run.preset_optimizer(VOC, "ssd", VOC.steps["ssd"])
    w = np.array([1.0, -2.0, 40.0])
    variable = keras.Variable(w, dtype="float64")
    gradients = [np.array([0.5, 0.0, -3.0]), np.array([0.1, 0.2, 0.3]), np.array([1e4, 0.0, 0.0])]  # Norm 1e4.
    lr, l2, buffer = float(np.float32(1e-3)), 5e-4, np.zeros(3)
    expected, decoupled = w.copy(), w.copy()
    keras_momentum = np.zeros(3)
    for g in gradients:
        optimizer.apply_gradients([(tf.constant(g), variable)])
        d = g + l2 * expected  # torch: d_p = grad + weight_decay * p; buf = momentum * buf + d_p; p -= lr * buf
        buffer = 0.9 * buffer + d
        expected = expected - lr * buffer
        keras_momentum = 0.9 * keras_momentum - lr * g  # Keras's SGD: decay applied to the weights apart.
        decoupled = decoupled * (1 - lr * l2) + keras_momentum
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-10)  # float64 variables.
    assert not np.allclose(variable.numpy(), decoupled, rtol=1e-8, atol=0)  # The test tells the two apart.
    assert abs(variable.numpy()[0] - w[0]) > 9.0  # The 1e4 gradient moved it by lr * 1e4: nothing clipped.


def test_embedded_preset_keeps_its_adamw_recipe():
    embedded = run.recipe("embedded")
    for detector, decay in (("ssd", 5e-4), ("retinanet", 1e-4)):
        optimizer = run.preset_optimizer(embedded, detector, embedded.steps[detector])
        assert type(optimizer) is keras.optimizers.AdamW and optimizer.weight_decay == decay
        assert optimizer.global_clipnorm == 10.0
    optimizer = run.preset_optimizer(embedded, "ssd", 250)  # 30 warm-up steps to 2e-3, cosine over 220.
    for step, expected in [(0, 0.0), (15, 1e-3), (30, 2e-3), (140, 1e-3), (250, 0.0)]:
        np.testing.assert_allclose(rate_at(optimizer, step), expected, atol=1e-8)
    assert not embedded.drop_difficult and embedded.max_boxes == 32 and embedded.input_size("ssd") == 128


def _raw_objects(name, split):
    """(box, label) of every non-difficult object of a tfds split, as the loader counts them under mock data."""
    objects = []
    for example in tfds.as_numpy(tfds.builder(name).as_dataset(split=split)):
        o = example["objects"]
        count = min(len(o["bbox"]), len(o["label"]), len(o["is_difficult"]))
        objects += [(tuple(np.round(b, 4)), int(l))
                    for b, l, d in zip(o["bbox"][:count], o["label"][:count], o["is_difficult"][:count]) if not d]
    return sorted(objects)


def test_voc_training_targets_hold_every_object_but_the_difficult_ones(tmp_path):
    size = VOC.input_size("retinanet")  # RetinaNet's targets are the loader's boxes, in pixels.
    with tfds.testing.mock_data(num_examples=4):
        expected = sorted(_raw_objects("voc/2007", "train+validation") + _raw_objects("voc/2012", "train+validation"))
        batches = list(run.training_batches(VOC, "retinanet", batch_size=2, data_dir=str(tmp_path)))
    got = []
    for _, targets in batches:
        for boxes, labels in zip(targets["boxes"].numpy() / size, targets["labels"].numpy()):
            got += [(tuple(np.round(b, 4)), int(l)) for b, l in zip(boxes, labels) if l >= 0]
    assert len(batches) == 4 and len(expected) > 20  # Both years, 4 mocked examples each.
    assert sorted(got) == expected


def _fake_read(examples_by_split):
    """A stand-in for the loader's tfds read: each (tfds name, split) gives its list of examples."""
    signature = {"image": tf.TensorSpec([None, None, 3], tf.uint8),
                 "objects": {"bbox": tf.TensorSpec([None, 4], tf.float32), "label": tf.TensorSpec([None], tf.int64),
                             "is_difficult": tf.TensorSpec([None], tf.bool)}}

    def read(tfds_name, split, **kwargs):
        examples = examples_by_split[(tfds_name, split)]
        ds = tf.data.Dataset.from_generator(lambda: iter(examples), output_signature=signature)
        return ds.apply(tf.data.experimental.assert_cardinality(len(examples)))
    return read


def _example(image, boxes, labels, difficult=None):
    return {"image": np.asarray(image, np.uint8), "objects": {
        "bbox": np.asarray(boxes, np.float32), "label": np.asarray(labels, np.int64),
        "is_difficult": np.zeros(len(labels), bool) if difficult is None else np.asarray(difficult, bool)}}


def test_ssd_augments_at_the_original_resolution_then_resizes(monkeypatch):
    """A 30x1000 image is never cropped by ssd.pytorch's crop (no patch of it has h / w >= 0.5, and expand
    keeps the aspect), so both of its objects, at the left and right ends, always reach the targets. Resized
    to 300x300 first, most crops would hold only one of them."""
    wide = _example(np.full((30, 1000, 3), 90), [[0.2, 0.0, 0.8, 0.1], [0.2, 0.9, 0.8, 1.0]], [3, 7])
    monkeypatch.setattr(detection_loaders, "_read", _fake_read({
        ("voc/2007", "train+validation"): [wide] * 6, ("voc/2012", "train+validation"): [wide] * 6}))
    count = 0
    for images, targets in run.training_batches(VOC, "ssd", batch_size=4):
        assert images.shape == (4, 300, 300, 3)
        for classes in targets[..., 4].numpy().astype(int):  # Matched class + 1 per default box (0: background).
            assert {4, 8} <= set(np.unique(classes)), np.unique(classes)
            count += 1
    assert count == 12


def _crowded_test_set():
    """VOC07 test stand-in: an image with 40 objects (a 5x8 grid, classes cycling), one with 2, one with 0."""
    grid = [[r / 5, c / 8, (r + 0.8) / 5, (c + 0.8) / 8] for r in range(5) for c in range(8)]
    crowded = _example(np.zeros((50, 80, 3)), grid, [i % 20 for i in range(40)])
    pair = _example(np.zeros((40, 40, 3)), [[0.1, 0.1, 0.5, 0.5], [0.5, 0.5, 0.9, 0.9]], [0, 1], [False, True])
    empty = _example(np.zeros((20, 30, 3)), np.zeros((0, 4)), [])
    return [crowded, pair, empty]


@pytest.mark.parametrize("batches", ["evaluation_batches", "detection_dataset"])
def test_perfect_detector_scores_one_on_an_image_with_40_objects(monkeypatch, batches):
    examples = _crowded_test_set()
    monkeypatch.setattr(detection_loaders, "_read", _fake_read({("voc/2007", "test"): examples}))
    if batches == "evaluation_batches":
        test_ds = run.evaluation_batches(VOC, "ssd", batch_size=2)
    else:
        test_ds = detection_dataset("voc/2007+2012", "test", training=False, batch_size=2, image_size=300)
    truth = iter(examples)

    def perfect(images):
        """Every true object (from the examples, not the batches), later objects scored higher."""
        count = len(images)
        boxes, scores, classes = np.zeros((count, 50, 4)), np.zeros((count, 50)), np.zeros((count, 50), np.int64)
        counts = np.zeros(count, np.int64)
        for i, example in zip(range(count), truth):
            n = len(example["objects"]["label"])
            boxes[i, :n] = example["objects"]["bbox"] * 300
            scores[i, :n] = np.arange(n, 0, -1)[::-1] / 100  # Objects 33-40 rank first.
            classes[i, :n], counts[i] = example["objects"]["label"], n
        return boxes, scores, classes, counts

    result = evaluate_detector(perfect, test_ds, 20, verbose=0)
    assert result["num_images"] == 3
    assert result["map"] == 1.0 and np.nanmin(result["ap"]) == 1.0


def test_evaluation_shows_a_progress_bar_unless_silenced(monkeypatch, capsys):
    examples = _crowded_test_set()
    monkeypatch.setattr(detection_loaders, "_read", _fake_read({("voc/2007", "test"): examples}))
    test_ds = run.evaluation_batches(VOC, "ssd", batch_size=2)

    def blind(images):
        count = len(images)
        return np.zeros((count, 1, 4)), np.zeros((count, 1)), np.zeros((count, 1), np.int64), np.zeros(count, int)

    evaluate_detector(blind, test_ds, 20, verbose=1)
    shown = capsys.readouterr().out
    assert "2/2" in shown and "batch" in shown  # 3 images in batches of 2.
    evaluate_detector(blind, test_ds, 20, verbose=0)
    assert capsys.readouterr().out == ""
