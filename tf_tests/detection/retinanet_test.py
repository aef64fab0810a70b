"""Backbones from classifiers (pyramid levels, shared weights, loading a workdir) and the RetinaNet detector."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import models, training
from keras_cutmix.detection import backbones, retinanet
from keras_cutmix.detection.train import detector_optimizer


@pytest.fixture(scope="module")
def classifier():
    return models.get_model("resnet_tiny", num_classes=10, input_shape=(64, 64, 3))


def test_resnet_tiny_stage_outputs_and_pyramid(classifier):
    assert backbones.stage_outputs(classifier) == {2: "stack0_block0_out", 3: "stack1_block0_out",
                                                   4: "stack2_block0_out", 5: "stack3_block0_out"}
    encoder = backbones.pyramid_encoder(classifier)
    outputs = encoder(np.zeros((2, 64, 64, 3), np.float32))
    # Strides 8, 16, 32; the stage widths of RESNET_TINY_ARCH.
    assert {k: tuple(v.shape) for k, v in outputs.items()} == {
        "P3": (2, 8, 8, 32), "P4": (2, 4, 4, 64), "P5": (2, 2, 2, 128)}
    assert set(encoder.pyramid_outputs) == {"P3", "P4", "P5"}
    # The encoder shares the classifier's variables: pretrained weights are the detector's start.
    shared = {id(v) for v in classifier.weights}
    assert all(id(v) in shared for v in encoder.weights)


def test_resnet50_stage_names():
    model = models.get_model("resnet50", num_classes=3, input_shape=(64, 64, 3))
    # Blocks 3, 4, 6, 3 per stage: the last block of each is the stage's output.
    assert backbones.stage_outputs(model) == {2: "stack0_block2_out", 3: "stack1_block3_out",
                                              4: "stack2_block5_out", 5: "stack3_block2_out"}


def test_non_resnet_is_refused():
    with pytest.raises(ValueError, match="stack<s>_block<b>_out"):
        backbones.stage_outputs(models.get_model("small_cnn", num_classes=3, input_shape=(32, 32, 3)))


def test_retinanet_trains_a_step_and_detects(classifier):
    encoder = backbones.pyramid_encoder(models.get_model("resnet_tiny", num_classes=10, input_shape=(64, 64, 3)))
    detector = retinanet.retinanet(encoder, num_classes=4, image_size=64, max_level=5, head_convs=1)
    retinanet.compile_retinanet(detector, detector_optimizer("sgd", 0.01, 4, weight_decay=retinanet.WEIGHT_DECAY))
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    targets = {"boxes": np.array([[[8, 8, 40, 48], [0, 0, 0, 0]]] * 2, np.float32),
               "labels": np.array([[2, -1]] * 2, np.int32)}
    kernel = [v for v in encoder.weights if "kernel" in v.path][0]
    start = np.asarray(kernel).copy()
    history = detector.fit(tf.data.Dataset.from_tensors((images, targets)).repeat(2), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert not np.array_equal(np.asarray(kernel), start)  # The backbone is fine-tuned, not frozen.
    boxes, scores, classes, counts = retinanet.detect(detector, images)
    assert boxes.shape == (2, 100, 4) and scores.shape == classes.shape == (2, 100) and counts.shape == (2,)


def test_load_classifier_from_a_workdir(tmp_path):
    config = training.get_config(model="resnet_tiny", epochs=1, batch_size=8, steps_per_epoch=1, eval_steps=1,
                                 train_split="train[:16]", test_split="test[:8]", verbose=0,
                                 data_dir=str(tmp_path / "tfds"))
    workdir = str(tmp_path / "run")
    training.train_and_evaluate(config, workdir)
    loaded = backbones.load_classifier(workdir)
    expected = training.load_final_model(config, workdir)
    for a, b in zip(loaded.weights, expected.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"] == "resnet_tiny"
    with pytest.raises(ValueError, match="classification workdir"):
        backbones.load_classifier(str(tmp_path / "nothing"))




def _positive_anchors(box, image_size, anchor_size, levels=(3, 4, 5), iou_threshold=0.5):
    """Anchors with IoU >= 0.5 with `box` (yxyx), written here from Lin et al.'s definition in torchvision's layout
    (which keras-hub follows): on level l, sides int(anchor_size * 2^l * 2^(i/3)), height:width ratios 1/2, 1, 2
    at equal area with half-sides rounded, centred on the cell corners k * 2^l."""
    count = 0
    for level in levels:
        stride = 2 ** level
        centres = np.arange(image_size // stride) * stride
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        for side in [int(anchor_size * stride * 2.0 ** (i / 3)) for i in range(3)]:
            for ratio in (0.5, 1.0, 2.0):
                half_h, half_w = np.round(side * np.sqrt(ratio) / 2), np.round(side / np.sqrt(ratio) / 2)
                top, left = np.maximum(cy - half_h, box[0]), np.maximum(cx - half_w, box[1])
                bottom, right = np.minimum(cy + half_h, box[2]), np.minimum(cx + half_w, box[3])
                inter = np.clip(bottom - top, 0, None) * np.clip(right - left, 0, None)
                union = 4 * half_h * half_w + (box[2] - box[0]) * (box[3] - box[1]) - inter
                count += int(np.sum(inter / union >= iou_threshold))
    return count


@pytest.mark.parametrize("anchor_size", [4, 2, 1.5])
def test_anchor_size_sets_the_anchors_small_objects_match(classifier, anchor_size):
    box = [16.0, 16.0, 30.0, 30.0]  # 14 pixels: no anchor of Lin et al.'s size (32+ on P3) reaches IoU 0.5.
    expected = _positive_anchors(box, 64, anchor_size)
    assert (expected == 0) == (anchor_size == 4)
    detector = retinanet.retinanet(backbones.pyramid_encoder(classifier), num_classes=4, image_size=64, max_level=5,
                                   head_convs=1, anchor_size=anchor_size)
    _, class_targets = detector.label_encoder(np.zeros((1, 64, 64, 3), np.float32), np.array([[box]], np.float32),
                                              np.array([[3]], np.int32))
    class_targets = np.asarray(class_targets)
    assert int(np.sum(class_targets == 3)) == expected and int(np.sum(class_targets >= 0)) == expected


def test_focal_loss_is_lin_et_al_summed_over_classes():
    from scipy.special import expit  # pylint: disable=g-import-not-at-top

    # Logit 0 (p = 0.5): a positive costs 0.25 * 0.5^2 * ln 2, a negative 0.75 * 0.5^2 * ln 2; summed over classes.
    loss = retinanet.FocalLoss(reduction=None)
    np.testing.assert_allclose(np.asarray(loss(np.array([[1.0, 0.0]]), np.zeros((1, 2), np.float32))),
                               [(0.25 + 0.75) * 0.25 * np.log(2.0)], rtol=1e-6)
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4, 7, 5)).astype(np.float32)
    targets = (rng.uniform(size=(4, 7, 5)) < 0.2).astype(np.float32)
    p = expit(logits.astype(np.float64))
    p_t = np.where(targets == 1, p, 1 - p)
    alpha_t = np.where(targets == 1, 0.25, 0.75)
    expected = np.sum(-alpha_t * (1 - p_t) ** 2 * np.log(p_t), axis=-1)  # [4, 7]
    np.testing.assert_allclose(np.asarray(loss(targets, logits)), expected, rtol=1e-5, atol=1e-7)
    weights = rng.uniform(size=(4, 7)).astype(np.float32)
    summed = retinanet.FocalLoss()  # reduction "sum": what the detector's per-anchor weights rely on.
    np.testing.assert_allclose(float(summed(targets, logits, sample_weight=weights)), np.sum(expected * weights),
                               rtol=1e-5)
    # Stable far from 0: a confident right answer costs ~0, a confident wrong one stays finite.
    extreme = np.asarray(loss(np.array([[1.0, 0.0]]), np.array([[80.0, 80.0]], np.float32)))
    np.testing.assert_allclose(extreme, [0.75 * 80.0], rtol=1e-5)


def test_heads_start_as_lin_et_al():
    # Lin et al. 4.1: every head conv N(0, 0.01) with bias 0, the class logits' bias -log(99); 4 convs per head.
    detector = retinanet.retinanet(backbones.pyramid_encoder(models.get_model(
        "resnet_tiny", num_classes=10, input_shape=(64, 64, 3))), num_classes=4, image_size=64, max_level=7,
        head_convs=4)
    for name in ("classification_head", "box_head"):
        head = detector.get_layer(name)
        assert len(head.conv_layers) == 4
        for conv in [*head.conv_layers, head.prediction_layer]:
            assert 0.0095 < float(np.std(np.asarray(conv.kernel))) < 0.0105, (name, conv.name)
            assert abs(float(np.mean(np.asarray(conv.kernel)))) < 1e-3
            if conv is not detector.get_layer("classification_head").prediction_layer:
                np.testing.assert_array_equal(np.asarray(conv.bias), 0.0)
    np.testing.assert_allclose(np.asarray(detector.get_layer("classification_head").prediction_layer.bias),
                               np.log(0.01 / 0.99), rtol=1e-6)
    outputs = detector(np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32))
    # Every logit near the prior (keras-hub's 0.05 kernels spread them by hundreds on unnormalised features).
    np.testing.assert_allclose(np.asarray(outputs["cls_logits"]), np.log(0.01 / 0.99), atol=1.0)
    assert float(np.max(np.abs(np.asarray(outputs["bbox_regression"])))) < 1.0
