"""SSD in `run_detection`: the model on a pyramid encoder, its loss, its training batches, its detections.

Training images are augmented one by one (`augment`), mixed if asked, then matched to the default boxes
(`training_data`). The model has one output, `[B, A, 4 + C + 1]` (deltas, class logits), trained against
`[B, A, 5]` (encoded targets, matched class), so that `fit` sees one loss: ssd.pytorch's MultiBox loss.

References:
    - [Liu et al., 2016](https://arxiv.org/abs/1512.02325); github.com/amdegroot/ssd.pytorch (`train.py`).
"""

import functools

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix.detection import ssd_anchors
from keras_cutmix.detection.ssd_augment import ssd_augmentation
from keras_cutmix.detection.ssd_loss import multibox_loss
from keras_cutmix.detection.ssd_model import decode_detections, ssd300


def build(encoder, num_classes, image_size):
    """SSD on `encoder` (pixels in [0, 255], P3-P5), its default boxes for `image_size` attached as `.anchors`.

    The model's output is the training concatenation; `detect` splits it.
    """
    config = ssd_anchors.ssd_config(image_size)
    model = ssd300(num_classes, backbone=encoder, image_size=image_size, config=config, normalize=False)
    outputs = model.output
    joined = keras.layers.Concatenate(axis=-1, name="joined")([outputs["boxes"], outputs["classes"]])
    trainable = keras.Model(model.inputs, joined, name="ssd")
    trainable.anchors = ssd_anchors.default_boxes(config)
    trainable.image_size = image_size
    return trainable


def _loss(y_true, y_pred):
    loc_loss, conf_loss = multibox_loss(y_true[..., :4], tf.cast(y_true[..., 4], tf.int32), y_pred[..., :4],
                                        y_pred[..., 4:])
    return loc_loss + conf_loss


# ssd.pytorch's `--weight_decay` (L2, coupled into SGD's gradient).
WEIGHT_DECAY = 5e-4


def compile_ssd(model, optimizer):
    """Compiles `model` with ssd.pytorch's MultiBox loss and `optimizer` (`train.detector_optimizer`)."""
    model.compile(optimizer=optimizer, loss=_loss)
    return model


def augment(image_size):
    """SSD's training augmentation (`ssd_augment`) of one example at its original resolution.

    Returns:
        `fn(image, boxes, labels, seed) -> (image [S, S, 3] float32, boxes, labels)` for `data.load_detection`'s
        `augment`, S being `image_size`.
    """
    return functools.partial(ssd_augmentation, size=image_size)


def training_data(dataset, image_size):
    """`(images, {"boxes": pixel yxyx, "labels"})` batches (already augmented) -> images and encoded targets
    [B, A, 5]."""
    anchors = ssd_anchors.default_boxes(ssd_anchors.ssd_config(image_size))
    scale = float(image_size)

    def encode(images, targets):
        boxes = targets["boxes"] / scale
        # Boxes the data or the augmentation leave without area (tfds mock data has inverted ones) are no
        # targets: marked as padding, so that `match` keeps refusing them only from its direct callers.
        has_area = (boxes[..., 2] > boxes[..., 0]) & (boxes[..., 3] > boxes[..., 1])
        labels = tf.where(has_area, tf.cast(targets["labels"], tf.int32), -1)
        loc_t, cls_t = ssd_anchors.match(boxes, labels, anchors)
        return images, tf.concat([loc_t, tf.cast(cls_t, tf.float32)[..., None]], axis=-1)

    return dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE)


def detect(model, images, max_detections=100):
    """`(boxes [B, D, 4] pixel yxyx, scores [B, D], classes [B, D], counts [B])` after NMS."""
    joined = model(images, training=False)
    outputs = {"boxes": joined[..., :4], "classes": joined[..., 4:]}
    per_image = decode_detections(outputs, model.anchors, max_detections=max_detections)
    count = len(per_image)
    boxes = np.zeros((count, max_detections, 4), np.float32)
    scores = np.zeros((count, max_detections), np.float32)
    classes = np.zeros((count, max_detections), np.int64)
    counts = np.zeros((count,), np.int64)
    for i, (b, s, c) in enumerate(per_image):
        n = min(int(b.shape[0]), max_detections)
        boxes[i, :n], scores[i, :n], classes[i, :n], counts[i] = np.asarray(b)[:n] * model.image_size, \
            np.asarray(s)[:n], np.asarray(c)[:n], n
    return boxes, scores, classes, counts

