"""Object detection on our backbones (issue 10): SSD300 as the CutMix paper ran it, and VOC07 mAP.

    anchors = default_boxes()                       # [8732, 4] (cx, cy, w, h), normalised
    model = ssd300(num_classes=20)                  # RGB pixels [B, 300, 300, 3] in [0, 255]
    loc_t, cls_t = match(gt_boxes_yxyx, gt_labels, anchors)
    loc_loss, conf_loss = multibox_loss(loc_t, cls_t, out["boxes"], out["classes"])
    detections = decode_detections(model(images), anchors)
"""

from keras_cutmix import extras

extras.require_extra("keras_cutmix.detection")  # One clear ImportError without the extra.

from keras_cutmix.detection.ssd_anchors import VOC_300, boxes_per_location, decode, default_boxes, encode, match
from keras_cutmix.detection.ssd_augment import ssd_augmentation
from keras_cutmix.detection.ssd_loss import hard_negatives, multibox_loss
from keras_cutmix.detection.ssd_model import L2Norm, decode_detections, ssd300
from keras_cutmix.detection.voc_eval import voc_map

__all__ = ["L2Norm", "VOC_300", "boxes_per_location", "decode", "decode_detections", "default_boxes", "encode",
           "hard_negatives", "match", "multibox_loss", "ssd300", "ssd_augmentation", "voc_map"]
