"""Weakly-supervised object localization: class activation maps, the paper's box rule and the metrics.

`cam` and `gradcam` give min-max normalised maps `[B, H, W]` at the input
resolution (see `cam.py` for the upsampling and the absence of a ReLU in CAM);
`boxes_from_maps` is the paper's box rule; `metrics` holds top-1 Loc,
GT-known Loc and MaxBoxAcc. This area is a higher layer: it imports `models`;
`models`, `mixing` and `data` never import it.
"""

from keras_cutmix.localization.boxes import boxes_from_maps
from keras_cutmix.localization.cam import cam, gradcam
from keras_cutmix.localization.metrics import gt_known_loc, iou, max_box_acc, top1_loc

__all__ = ["boxes_from_maps", "cam", "gradcam", "gt_known_loc", "iou", "max_box_acc", "top1_loc"]
