"""The second detector: keras-hub's RetinaNet on our backbones, standing in for the paper's Faster R-CNN.

Faster R-CNN (Table 10) is in no maintained Keras library (KerasCV, which had it, is deprecated), so the second
detector is `keras_hub.models.RetinaNetObjectDetector` (Lin et al. 2017: FPN P3-P7, focal loss, 9 anchors per
cell) on the method's pretrained ResNet; every table says its mAP is not the paper's Faster R-CNN column.

Three departures from keras-hub's defaults, all back to Lin et al. (`init_heads`, `FocalLoss`):
- Head convs start from N(0, 0.01) (section 4.1), not keras-hub's 0.05: at 0.05 the logits spread by hundreds
  on ResNet's unnormalised stage outputs, the first loss is in the 100,000s and SGD at rate 0.01 turns the
  weights NaN in one step.
- The prior bias (-log 99: p = 0.01 per class) is on the classification head and the box bias starts at 0;
  keras-hub puts the prior on the box head (boxes shrunk by e^-4.6, every class at p = 0.5).
- `FocalLoss` is Lin et al.'s; keras-hub's `BinaryFocalCrossentropy` averages over the classes and has no alpha.

Boxes are pixel `"yxyx"` (the anchor generator cannot use a relative format without the image size); images
are pixels in [0, 255] (the encoder normalises them as the classifier did).

References:
    - [Lin et al., 2017, Focal Loss for Dense Object Detection](https://arxiv.org/abs/1708.02002)
    - keras-hub `RetinaNetObjectDetector`.
"""

import math

import keras
from keras import ops

from keras_cutmix import extras
from keras_cutmix import compat

BOX_FORMAT = "yxyx"


def retinanet(encoder, num_classes, image_size, *, max_level=7, head_convs=4, anchor_size=4,
              confidence_threshold=0.01, max_detections=100):
    """A keras-hub RetinaNet detector on `encoder` (P3-P5 in, FPN P3-`max_level`).

    Args:
        encoder: A model with `pyramid_outputs` P3..P5 (`backbones.pyramid_encoder`).
        num_classes: Object classes (no background class).
        image_size: Input height and width.
        max_level: Top FPN level (7 as Lin et al.; 5 for small images). Defaults to 7.
        head_convs: Convs before each head's output (4 as Lin et al.). Defaults to 4.
        anchor_size: Anchor side in strides (4 as Lin et al.: 32 to 50 pixels on P3; smaller anchors for
            small objects: an object gets no positive anchor below IoU 0.5). Defaults to 4.
        confidence_threshold: Detections below this score are dropped (low for mAP). Defaults to 0.01.
        max_detections: Detections kept per image after NMS (IoU 0.5). Defaults to 100.

    Returns:
        An uncompiled `keras_hub.models.RetinaNetObjectDetector` on pixel "yxyx" boxes.
    """
    keras_hub = extras.import_optional("keras_hub", "RetinaNet (keras-hub)")

    shape = (image_size, image_size, 3)
    backbone = keras_hub.models.RetinaNetBackbone(image_encoder=encoder, min_level=3, max_level=max_level,
                                                  use_p5=False, image_shape=shape)
    # keras-hub exports no NonMaxSuppression: compat holds the private import (RetinaNet's default keeps 0.5).
    decoder = compat.keras_hub_non_max_suppression(
        bounding_box_format=BOX_FORMAT, from_logits=True, iou_threshold=0.5,
        confidence_threshold=confidence_threshold, max_detections=max_detections)
    # keras-hub's default anchors (3 scales, 3 ratios per cell), with `anchor_size` exposed.
    anchors = keras_hub.layers.AnchorGenerator(BOX_FORMAT, min_level=3, max_level=max_level, num_scales=3,
                                               aspect_ratios=[0.5, 1.0, 2.0], anchor_size=anchor_size)
    detector = keras_hub.models.RetinaNetObjectDetector(
        backbone=backbone, num_classes=num_classes, bounding_box_format=BOX_FORMAT, anchor_generator=anchors,
        pre_logits_num_conv_layers=head_convs, prediction_decoder=decoder)
    init_heads(detector)
    return detector


def init_heads(detector, prior_probability=0.01, stddev=0.01):
    """Lin et al.'s head initialisation (section 4.1), in place; returns `detector`.

    Every conv of both heads: kernel from N(0, `stddev`), bias 0; then the class logits' bias
    -log((1 - prior_probability) / prior_probability). The draws follow Keras's global seed.
    """
    normal = keras.initializers.RandomNormal(stddev=stddev)
    for name in ("classification_head", "box_head"):
        head = detector.get_layer(name)
        for conv in [*head.conv_layers, head.prediction_layer]:
            conv.kernel.assign(normal(conv.kernel.shape))
            if conv.bias is not None:
                conv.bias.assign(ops.zeros(conv.bias.shape))
    classes = detector.get_layer("classification_head").prediction_layer.bias
    classes.assign(ops.full(classes.shape, -math.log((1.0 - prior_probability) / prior_probability)))
    return detector


@keras.saving.register_keras_serializable(package="keras_cutmix")
class FocalLoss(keras.losses.Loss):
    """Lin et al.'s sigmoid focal loss on logits, summed over classes and anchors (the detector divides by the
    number of positive anchors through its sample weights).

    Per anchor and class, with p = sigmoid(logit), p_t = p for a positive target and 1 - p otherwise, and
    alpha_t = alpha for a positive target and 1 - alpha otherwise: -alpha_t (1 - p_t)^gamma log(p_t).

    Args:
        alpha: Weight of the positive targets. Defaults to 0.25.
        gamma: Focusing exponent. Defaults to 2.
    """

    def __init__(self, alpha=0.25, gamma=2.0, name="focal_loss", **kwargs):
        kwargs.setdefault("reduction", "sum")
        super().__init__(name=name, **kwargs)
        self.alpha, self.gamma = float(alpha), float(gamma)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        probability = ops.sigmoid(y_pred)
        # log(1 + exp(-|x|)) form of the cross-entropy with logits: stable for large logits.
        cross_entropy = ops.maximum(y_pred, 0.0) - y_pred * y_true + ops.log1p(ops.exp(-ops.abs(y_pred)))
        p_t = y_true * probability + (1.0 - y_true) * (1.0 - probability)
        alpha_t = y_true * self.alpha + (1.0 - y_true) * (1.0 - self.alpha)
        return ops.sum(alpha_t * (1.0 - p_t) ** self.gamma * cross_entropy, axis=-1)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


# Lin et al.'s weight decay (L2, coupled into SGD's gradient in Detectron).
WEIGHT_DECAY = 1e-4


def compile_retinanet(detector, optimizer):
    """Compiles with `optimizer` (`train.detector_optimizer`), `FocalLoss` and keras-hub's Huber box loss."""
    detector.compile(optimizer=optimizer, classification_loss=FocalLoss())
    return detector


def detect(detector, images):
    """Decoded detections of a batch: `(boxes [B, D, 4] pixel yxyx, scores [B, D], classes [B, D], counts [B])`."""
    outputs = detector.decode_predictions(detector(images, training=False), images)
    return outputs["boxes"], outputs["confidence"], outputs["labels"], outputs["num_detections"]
