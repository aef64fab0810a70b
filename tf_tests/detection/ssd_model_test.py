"""SSD300 on ResNet-50: output shapes, source maps, L2Norm, and NMS decoding on a hand-built output."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.detection import ssd_anchors
from keras_cutmix.detection import ssd_loss
from keras_cutmix.detection import ssd_model


@pytest.fixture(scope="module")
def model():
    return ssd_model.ssd300(num_classes=20)


def test_outputs_at_300(model):
    outputs = model(np.random.default_rng(0).uniform(0, 255, (2, 300, 300, 3)).astype(np.float32))
    assert tuple(outputs["boxes"].shape) == (2, 8732, 4)
    assert tuple(outputs["classes"].shape) == (2, 8732, 21)
    assert np.all(np.isfinite(outputs["classes"].numpy()))


def test_sources_and_heads(model):
    # layer2 (P3, 512 channels at 38x38) through L2Norm, then 19, 10 (layer3, layer4) and three extras.
    assert tuple(model.get_layer("l2norm").output.shape) == (None, 38, 38, 512)
    sizes = [model.get_layer(f"loc{i}").input.shape[1] for i in range(6)]
    assert sizes == [38, 19, 10, 5, 3, 1]
    assert [model.get_layer(f"loc{i}").filters for i in range(6)] == [16, 24, 24, 24, 16, 16]
    assert [model.get_layer(f"conf{i}").filters for i in range(6)] == [84, 126, 126, 126, 84, 84]
    assert [model.get_layer(f"loc{i}").input.shape[-1] for i in range(6)] == [512, 1024, 2048, 256, 256, 256]


def test_l2norm_by_hand():
    layer = ssd_model.L2Norm(20.0)
    x = np.array([[[[3.0, 4.0], [0.0, 2.0]]]], np.float32)  # [1, 1, 2, 2]
    np.testing.assert_allclose(layer(x).numpy(), [[[[12.0, 16.0], [0.0, 20.0]]]], rtol=1e-6)


def test_wrong_image_size_and_classes_raise():
    with pytest.raises(ValueError, match="num_classes"):
        ssd_model.ssd300(num_classes=0)
    # Another size builds with its own `ssd_config`; forcing SSD300's boxes on it raises.
    with pytest.raises(ValueError, match="image_size=256"):
        ssd_model.ssd300(num_classes=2, image_size=256, config=ssd_anchors.VOC_300)


def test_decode_detections_hand_case():
    # Three anchors (cx, cy, w, h); zero deltas decode to the anchors themselves.
    anchors = np.array([[0.3, 0.3, 0.2, 0.2], [0.32, 0.3, 0.2, 0.2], [0.8, 0.8, 0.2, 0.2]], np.float32)
    logits = np.full((1, 3, 3), -10.0, np.float32)
    logits[0, 0] = [0.0, 3.0, -10.0]  # class 0 (logit index 1), highest
    logits[0, 1] = [0.0, 2.0, -10.0]  # class 0, overlaps anchor 0 (IoU 0.82): suppressed
    logits[0, 2] = [0.0, -10.0, 1.0]  # class 1, alone
    deltas = np.zeros((1, 3, 4), np.float32)
    deltas[0, 2] = [1.0, 0.0, 0.0, 0.0]  # x moves by 1 * 0.1 * 0.2 = 0.02
    (boxes, scores, classes), = ssd_model.decode_detections({"boxes": deltas, "classes": logits}, anchors)

    def softmax(v):
        e = np.exp(v - v.max())
        return e / e.sum()

    np.testing.assert_array_equal(classes.numpy(), [0, 1])
    np.testing.assert_allclose(scores.numpy(), [softmax(logits[0, 0])[1], softmax(logits[0, 2])[2]], rtol=1e-5)
    np.testing.assert_allclose(boxes.numpy(), [[0.2, 0.2, 0.4, 0.4], [0.7, 0.72, 0.9, 0.92]], atol=1e-6)


def test_decode_detections_score_threshold_and_batch():
    anchors = ssd_anchors.default_boxes()
    logits = np.zeros((2, 8732, 3), np.float32)
    logits[..., 0] = 10.0  # background everywhere: class scores ~4.5e-5, below 0.01
    logits[1, 100] = [0.0, 8.0, 0.0]
    detections = ssd_model.decode_detections({"boxes": np.zeros((2, 8732, 4)), "classes": logits}, anchors)
    assert len(detections) == 2 and detections[0][0].shape == (0, 4)
    boxes, scores, classes = detections[1]
    assert boxes.shape == (1, 4) and int(classes[0]) == 0 and float(scores[0]) > 0.99


def test_one_training_step_reaches_every_layer(model):
    # Targets from `match`, the MultiBox loss, gradients for the heads, extras, L2Norm and the backbone.
    # A small box (side 0.1) matches 38x38 default boxes, a large one the 1x1 map.
    anchors = ssd_anchors.default_boxes()
    loc_t, cls_t = ssd_anchors.match(np.array([[[0.1, 0.2, 0.2, 0.3], [0.05, 0.05, 0.95, 0.95]]], np.float32),
                                     np.array([[4, 9]]), anchors)
    images = np.random.default_rng(1).uniform(0, 255, (1, 300, 300, 3)).astype(np.float32)
    with tf.GradientTape() as tape:
        outputs = model(images, training=True)
        loc_loss, conf_loss = ssd_loss.multibox_loss(loc_t, cls_t, outputs["boxes"], outputs["classes"])
        loss = loc_loss + conf_loss
    grads = dict(zip([v.path for v in model.trainable_variables], tape.gradient(loss, model.trainable_variables)))
    assert np.isfinite(float(loss)) and float(conf_loss) > 0
    for name in ("l2norm/weight", "extra2_3x3/kernel", "conf0/kernel", "loc5/bias", "conv1_conv/kernel"):
        path = next(p for p in grads if p.endswith(name))
        assert grads[path] is not None and float(tf.reduce_max(tf.abs(grads[path]))) > 0, path
