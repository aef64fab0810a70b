"""Weakly-supervised object localization: class activation maps, the paper's box rule and the metrics.

`cam` and `gradcam` give min-max normalised maps `[B, H, W]` at the input resolution; `boxes_from_maps` is
the paper's box rule; `metrics` holds top-1 Loc, GT-known Loc and MaxBoxAcc; `pxap` (or `PxAPAccumulator`
batch by batch) scores maps against object masks pixel by pixel, and `object_coverage` says how much of the
object the thresholded map covers and how much of it falls outside; `evaluate_localization` scores a model
on a data set; `presets` holds the paper's recipes and Table 9, `table` its layout; `run_wsol` is
`examples/cub_wsol.py`. This area imports `models`; `models`, `mixing` and `data` never import it.

Every public function checks its inputs first (through `keras_cutmix.checks`) and answers right or raises
one `ValueError` naming itself and the argument: thresholds are fractions (50 gets "pass 0.5"), boxes in the
other convention (normalised vs pixels) are refused, class labels may be ids or one-hot rows, NumPy numbers
are numbers.
"""

from keras_cutmix import extras

extras.require_extra("keras_cutmix.localization")  # One clear ImportError without the extra.

from keras_cutmix.localization.boxes import boxes_from_maps
from keras_cutmix.localization.cam import cam, gradcam
from keras_cutmix.localization.coverage import object_coverage
from keras_cutmix.localization.evaluate import evaluate_localization
from keras_cutmix.localization.metrics import gt_known_loc, iou, max_box_acc, top1_loc
from keras_cutmix.localization.presets import PAPER_TOP1_LOC, WSOL_PRESETS, get_wsol_config
from keras_cutmix.localization.pxap import PxAPAccumulator, pxap
from keras_cutmix.localization.run import check_wsol, run_wsol

__all__ = [
    "PAPER_TOP1_LOC",
    "PxAPAccumulator",
    "WSOL_PRESETS",
    "boxes_from_maps",
    "cam",
    "check_wsol",
    "evaluate_localization",
    "get_wsol_config",
    "gradcam",
    "gt_known_loc",
    "iou",
    "max_box_acc",
    "object_coverage",
    "pxap",
    "run_wsol",
    "top1_loc",
]
