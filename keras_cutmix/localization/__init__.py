"""Weakly-supervised object localization: the paper's box rule and the metrics (top-1 Loc, MaxBoxAcc)."""

from keras_cutmix.localization.boxes import boxes_from_maps
from keras_cutmix.localization.metrics import gt_known_loc, iou, max_box_acc, top1_loc
