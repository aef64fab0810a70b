"""SSD300 on our ResNet-50, as the CutMix paper ran it (amdegroot/ssd.pytorch with a ResNet-50 backbone).

The paper (supplementary Sec. C) swaps SSD's VGG-16 for the pretrained ResNet-50 and says no more; here:

* **Input.** RGB pixels [B, 300, 300, 3] in [0, 255], normalised inside with torchvision's ImageNet statistics
  (`resnet50.IMAGENET_MEAN/STD`), as our classifiers expect (ssd.pytorch subtracted BGR means for its VGG).
* **Sources (6 maps of 38, 19, 10, 5, 3, 1 cells).** ResNet-50's layer2 (`P3`, stride 8, 512 channels)
  replaces VGG's conv4_3 and goes through `L2Norm` (scale 20); layer3 (`P4`, 1024 channels) replaces fc7;
  layer4 (`P5`, 2048 channels, 10x10) replaces the first extra pair, and ssd.pytorch's last three extra pairs
  follow (`EXTRAS`; convs with bias and ReLU). Every pretrained stage and SSD300's default boxes are kept:
  the usual ResNet-SSD layout.
* **Heads.** Per source a `3x3 pad 1` conv to `k * 4` deltas and one to `k * (C + 1)` logits, k = (4, 6, 6, 6,
  4, 4), in `default_boxes()`'s (row, column, box) order; Xavier-uniform kernels, zero biases, as ssd.pytorch.

References:
    - [Liu et al., 2016](https://arxiv.org/abs/1512.02325); [Yun et al., 2019](https://arxiv.org/abs/1905.04899),
      supplementary Sec. C; github.com/amdegroot/ssd.pytorch (`ssd.py`, `layers/modules/l2norm.py`,
      `layers/functions/detection.py`).
"""

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.detection import ssd_anchors
from keras_cutmix.models import resnet50
from keras_cutmix.models.layers import PixelNormalization

# ssd.pytorch's extras after the 10x10 map: (1x1 filters, 3x3 filters, 3x3 stride, 3x3 padding).
EXTRAS = ((128, 256, 2, "same"), (128, 256, 1, "valid"), (128, 256, 1, "valid"))


@keras.saving.register_keras_serializable(package="keras_cutmix")
class L2Norm(keras.layers.Layer):
    """ssd.pytorch's L2Norm: `x / (||x||_channels + 1e-10) * weight`, `weight` per channel starting at `scale`.

    Args:
        scale: Initial value of the per-channel weight. Defaults to 20.
        **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(self, scale=20.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def build(self, input_shape):
        self.weight = self.add_weight(name="weight", shape=(input_shape[-1],),
                                      initializer=keras.initializers.Constant(self.scale))

    def call(self, inputs):
        norm = keras.ops.sqrt(keras.ops.sum(keras.ops.square(inputs), axis=-1, keepdims=True)) + 1e-10
        return inputs / norm * self.weight

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def _extras(config):
    """The extra layers after P5: ssd.pytorch's `(1x1, 3x3, stride, padding)` for each further map."""
    maps = config["feature_maps"]
    return tuple((128, 256, 1, "valid") if following == current - 2 else (128, 256, 2, "same")
                 for current, following in zip(maps[2:], maps[3:]))


def _check_sizes(sources, image_size, config):
    expected = tuple(config["feature_maps"][: len(sources)])
    sizes = tuple(source.shape[1] for source in sources)
    if sizes != expected:
        raise ValueError(f"ssd300: Expected feature maps of sizes {expected} (the config's). Received: "
                         f"image_size={image_size!r} giving {sizes}")


def _check_arguments(num_classes, backbone, image_size, config, normalize):
    """`ssd300`'s arguments at the door, before any layer is built."""
    caller = "ssd300"
    num_classes = checks.count("num_classes", num_classes, caller)
    image_size = checks.count("image_size", image_size, caller)
    normalize = checks.flag("normalize", normalize, caller)
    if config is not None:
        ssd_anchors._check_config(config, caller)
    if backbone is not None:
        pyramid = getattr(backbone, "pyramid_outputs", None)
        if not isinstance(backbone, keras.Model) or not isinstance(pyramid, dict) or not {"P3", "P4", "P5"} <= set(
                pyramid):
            levels = sorted(pyramid) if isinstance(pyramid, dict) else None
            raise ValueError(f"{caller}: Expected `backbone` as a keras.Model with `pyramid_outputs` P3, P4 and P5 "
                             f"(a keras-hub ResNetBackbone or `backbones.pyramid_encoder(classifier)`). Received: "
                             f"backbone of type {type(backbone).__name__}"
                             + (f" with levels {levels}" if levels is not None else " without pyramid_outputs"))
    return num_classes, image_size, normalize


def ssd300(num_classes, backbone=None, image_size=300, config=None, normalize=True):
    """Builds SSD300 on our ResNet-50 (see the module docstring for the layout).

    Args:
        num_classes: Number of object classes (20 for VOC); the model adds background as class 0.
        backbone: A keras-hub `ResNetBackbone` (or any model with `pyramid_outputs` P3, P4, P5) taking
            normalised images; defaults to a freshly initialised `keras_cutmix.models.resnet50.backbone()`.
        image_size: Input side; must give SSD300's maps (38, 19, 10, 5, 3, 1). Defaults to 300.
        config: Default-box configuration (`ssd_anchors.ssd_config`); its maps set the extras. Defaults to
            None: `ssd_config(image_size)` (`VOC_300` at 300).
        normalize: Whether the model normalises pixels before `backbone` (a keras-hub backbone takes
            normalised images); False for a backbone that takes pixels itself, as
            `backbones.pyramid_encoder` does. Defaults to True.

    Returns:
        A functional `keras.Model` from RGB pixels [B, size, size, 3] in [0, 255] to
        `{"boxes": [B, 8732, 4] deltas (dx, dy, dw, dh), "classes": [B, 8732, num_classes + 1] logits}`.

    Raises:
        ValueError: before any layer is built, for a `num_classes` or `image_size` that is not an int >= 1, a
            non-bool `normalize`, a bad `config`, a `backbone` without P3-P5, or maps of other sizes than the config's.
    """
    num_classes, image_size, normalize = _check_arguments(num_classes, backbone, image_size, config, normalize)
    if backbone is None:
        backbone = resnet50.backbone(image_shape=(image_size, image_size, 3))
    config = config or ssd_anchors.ssd_config(image_size)
    pixels = keras.Input((image_size, image_size, 3), name="pixels")
    normalised = pixels if not normalize else PixelNormalization(
        resnet50.IMAGENET_MEAN, resnet50.IMAGENET_STD, name="normalization")(pixels)
    pyramid = keras.Model(backbone.inputs, [backbone.pyramid_outputs[level] for level in ("P3", "P4", "P5")],
                          name="backbone")
    p3, p4, x = pyramid(normalised)
    _check_sizes((p3, p4, x), image_size, config)
    sources = [L2Norm(20.0, name="l2norm")(p3), p4, x]
    for index, (reduce_filters, filters, stride, padding) in enumerate(_extras(config)):
        x = keras.layers.Conv2D(reduce_filters, 1, activation="relu", name=f"extra{index}_1x1")(x)
        if padding == "same":  # PyTorch's symmetric padding 1 (Keras's "same" pads asymmetrically at stride 2).
            x = keras.layers.ZeroPadding2D(1, name=f"extra{index}_pad")(x)
        x = keras.layers.Conv2D(filters, 3, strides=stride, activation="relu", name=f"extra{index}_3x3")(x)
        sources.append(x)
    _check_sizes(sources, image_size, config)
    locs, logits = [], []
    for index, (source, k) in enumerate(zip(sources, ssd_anchors.boxes_per_location(config))):
        loc = keras.layers.Conv2D(k * 4, 3, padding="same", name=f"loc{index}")(source)
        conf = keras.layers.Conv2D(k * (num_classes + 1), 3, padding="same", name=f"conf{index}")(source)
        locs.append(keras.layers.Reshape((-1, 4), name=f"loc{index}_flat")(loc))
        logits.append(keras.layers.Reshape((-1, num_classes + 1), name=f"conf{index}_flat")(conf))
    outputs = {"boxes": keras.layers.Concatenate(axis=1, name="boxes")(locs),
               "classes": keras.layers.Concatenate(axis=1, name="classes")(logits)}
    return keras.Model(pixels, outputs, name="ssd300")


def decode_detections(outputs, anchors, score_threshold=0.01, iou_threshold=0.45, max_detections=200, *,
                      from_logits=None):
    """Detections from SSD outputs: softmax, decode, per-class NMS (ssd.pytorch's `Detect`).

    Per class, boxes scoring above `score_threshold`, NMS at `iou_threshold`, at most `max_detections` per class
    and per image (ssd.pytorch: conf_thresh 0.01, nms_thresh 0.45, top_k 200). Eager only (returns a list).

    Args:
        outputs: `{"boxes": [B, A, 4] deltas, "classes": [B, A, C + 1] logits}` (the model's outputs), or
            class probabilities in "classes".
        anchors: [A, 4] default boxes (`ssd_anchors.default_boxes()`).
        score_threshold: Minimum class probability, a fraction. Defaults to 0.01.
        iou_threshold: NMS IoU threshold, a fraction. Defaults to 0.45.
        max_detections: Detections kept per class and per image. Defaults to 200.
        from_logits: Whether "classes" holds logits (a softmax is applied) or probabilities (used as they
            are). Defaults to None: decided from the values by the package's one rule
            (`keras_cutmix.checks.are_probabilities`).

    Returns:
        A list, one per image, of `(boxes [n, 4] normalised yxyx, scores [n], classes [n] int32)`, sorted by
        descending score; classes are object classes in [0, C) (background removed, labels as given to `match`).

    Raises:
        ValueError: for outputs that are not such a dict of [B, A, 4] and [B, A, C + 1] arrays, anchors that
            do not match them, thresholds outside [0, 1] (a percentage gets a hint) or a count below 1.
    """
    caller = "decode_detections"
    if not isinstance(outputs, dict) or not {"boxes", "classes"} <= set(outputs):
        raise ValueError(f"{caller}: Expected `outputs` to be the SSD model's dict with 'boxes' and 'classes'. "
                         f"Received: outputs of type {type(outputs).__name__}"
                         + (f" with keys {sorted(outputs)}" if isinstance(outputs, dict) else ""))
    score_threshold = checks.fraction("score_threshold", score_threshold, caller)
    iou_threshold = checks.fraction("iou_threshold", iou_threshold, caller)
    max_detections = checks.count("max_detections", max_detections, caller)
    box_shape, class_shape = tuple(outputs["boxes"].shape), tuple(outputs["classes"].shape)
    anchor_shape = tuple(np.shape(anchors))
    if (len(box_shape) != 3 or box_shape[-1] != 4 or len(class_shape) != 3 or class_shape[-1] < 2
            or box_shape[:2] != class_shape[:2] or anchor_shape != (box_shape[1], 4)):
        raise ValueError(f"{caller}: Expected outputs['boxes'] [B, A, 4], outputs['classes'] [B, A, C + 1] and "
                         f"anchors [A, 4] with the same A. Received: {box_shape}, {class_shape} and {anchor_shape}")
    if from_logits is None:
        from_logits = not checks.are_probabilities(outputs["classes"])
    boxes = ssd_anchors.decode(tf.cast(outputs["boxes"], tf.float32), anchors)
    probabilities = tf.cast(outputs["classes"], tf.float32)
    if from_logits:
        probabilities = tf.nn.softmax(probabilities, axis=-1)
    probabilities = probabilities[..., 1:]
    nmsed_boxes, scores, classes, valid = tf.image.combined_non_max_suppression(
        boxes[:, :, None, :], probabilities, max_output_size_per_class=max_detections,
        max_total_size=max_detections, iou_threshold=iou_threshold, score_threshold=score_threshold, clip_boxes=False)
    return [(nmsed_boxes[i, : valid[i]], scores[i, : valid[i]], tf.cast(classes[i, : valid[i]], tf.int32))
            for i in range(int(tf.shape(valid)[0]))]
