"""Localization metrics: IoU, top-1 Loc, GT-known Loc, and MaxBoxAcc (V1 and V2).

Boxes are `[ymin, xmin, ymax, xmax]` with an exclusive max (see `boxes.py`); their area is
`(ymax - ymin) * (xmax - xmin)`, with no `+ 1`. `iou`, `top1_loc` and `gt_known_loc` compute in float64 and
take pixel boxes (whole or fractional) or normalised boxes alike, as long as both sides share one
convention: a side that looks normalised (all within [0, 1], fractional) against a side in pixels is
refused. `max_box_acc` works on the integer pixel grid of the maps (wsolevaluation's `+ 1` areas). Ground
truth is an array [B, 4] or [B, K, 4], or a list of B arrays [k_i, 4] (several boxes per image, as in
ImageNet): an image counts as localised when its box matches ANY of its ground-truth boxes.

`top1_loc` and `gt_known_loc` count a box as correct when IoU > `iou_threshold` (strictly), as the paper
states ("IoU with the ground truth > 0.5"); `max_box_acc` uses IoU >= threshold, as wsolevaluation's
`BoxEvaluator`. Thresholds are fractions (0.5, not 50). Bad input raises a `ValueError` that names the
function and the argument; class labels may be ids [B] or [B, 1] or one-hot rows [B, K].

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B, Table 9.
    - [Choe et al., Evaluating Weakly Supervised Object Localization Methods Right, CVPR 2020](
      https://arxiv.org/abs/2001.07437), MaxBoxAcc and MaxBoxAccV2;
      code: https://github.com/clovaai/wsolevaluation (`evaluation.py`).
"""

import numpy as np

from keras_cutmix import checks
from keras_cutmix.localization import _sweep
from keras_cutmix.localization.boxes import checked_maps

_CHUNK_PIXELS = 800_000


def iou(boxes_a, boxes_b):
    """Intersection over union of exclusive-max boxes (float64, module docstring), broadcast; empty boxes give 0.

    Args:
        boxes_a: Array [..., 4] of `[ymin, xmin, ymax, xmax]` (NumPy, list or tensor).
        boxes_b: Array [..., 4] in the same convention, broadcastable against `boxes_a`.

    Returns:
        float64 array of the broadcast leading shape.

    Raises:
        ValueError: If the last dimension is not 4, boxes are inverted or not finite, the leading shapes do
            not broadcast, or one side looks normalised and the other in pixels.
    """
    a = _boxes(boxes_a, "boxes_a", "iou")
    b = _boxes(boxes_b, "boxes_b", "iou")
    _same_convention(("boxes_a", a), ("boxes_b", b), "iou")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"iou: Expected `boxes_a` and `boxes_b` of broadcastable shapes [..., 4]. Received: "
                         f"boxes_a.shape={a.shape}, boxes_b.shape={b.shape}") from None
    return _iou(a, b)


def top1_loc(pred_classes, true_classes, pred_boxes, true_boxes, iou_threshold=0.5):
    """Top-1 localization accuracy: the predicted class is right AND IoU > `iou_threshold` with a gt box.

    Args:
        pred_classes: Class ids [B] (or [B, 1], or one-hot rows [B, K]) of the predicted (top-1) classes.
        true_classes: Class ids, as `pred_classes`.
        pred_boxes: Array [B, 4], one estimated box per image.
        true_boxes: [B, 4], [B, K, 4] or B arrays [k_i, 4] (any may match), in `pred_boxes`' convention.
        iou_threshold: IoU that must be strictly exceeded, a fraction. Defaults to 0.5.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: On mismatched lengths, malformed boxes or labels, no image, or a threshold outside [0, 1].
    """
    caller = "top1_loc"
    pred_classes = checks.class_ids("pred_classes", pred_classes, caller)
    true_classes = checks.class_ids("true_classes", true_classes, caller)
    if pred_classes.shape != true_classes.shape:
        raise ValueError(f"{caller}: Expected `pred_classes` and `true_classes` of the same length. Received: "
                         f"pred_classes.shape={pred_classes.shape}, true_classes.shape={true_classes.shape}")
    iou_threshold = checks.fraction("iou_threshold", iou_threshold, caller)
    pred, gts = _pred_and_gt(pred_boxes, true_boxes, caller)
    if len(pred) != len(pred_classes):
        raise ValueError(f"{caller}: Expected one box in `pred_boxes` per class in `pred_classes`. Received: "
                         f"{len(pred)} boxes, {len(pred_classes)} classes")
    return float(np.mean(_hits(pred, gts, iou_threshold) & (pred_classes == true_classes)))


def gt_known_loc(pred_boxes, true_boxes, iou_threshold=0.5):
    """GT-known localization accuracy: IoU > `iou_threshold` with a gt box, whatever the predicted class.

    Args:
        pred_boxes: Array [B, 4] (the boxes of the maps of the true class).
        true_boxes, iou_threshold: As `top1_loc`.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: On mismatched lengths, malformed boxes, no image, or a threshold outside [0, 1].
    """
    iou_threshold = checks.fraction("iou_threshold", iou_threshold, "gt_known_loc")
    pred, gts = _pred_and_gt(pred_boxes, true_boxes, "gt_known_loc")
    return float(np.mean(_hits(pred, gts, iou_threshold)))


def max_box_acc(maps, gt_boxes, iou_thresholds=(0.3, 0.5, 0.7), cam_curve_interval=0.001, multi_contour=True,
                chunk_size=None):
    """MaxBoxAcc (`multi_contour=False`) or MaxBoxAccV2 (`multi_contour=True`), as wsolevaluation computes it.

    Reproduces `BoxEvaluator` of clovaai/wsolevaluation: each map is quantised as `(map * 255).astype(uint8)`
    (in the map's own float dtype) and, for every CAM threshold `t` in `np.arange(0, 1, cam_curve_interval)`,
    binarised as `image > int(t * image.max())`. The boxes are the bounding rects of OpenCV's contours
    (`RETR_TREE`: every 8-connected region and every hole; see `_sweep`) in its x0y0x1y1 convention with
    `x1 = x + w` clipped to `width - 1`; no foreground gives the box [0, 0, 0, 0]. An image is correct at `t`
    when its best IoU (`+ 1` areas) over boxes and gt boxes is >= the IoU threshold. The accuracy per IoU
    threshold is the best over `t` (first best on ties).

    Exactness: V2 gives wsolevaluation's counts exactly. V1 keeps the region of largest outer-polygon area
    (OpenCV's `contourArea`; ties go to the region OpenCV lists first): exact on smooth maps, it may differ
    where a region has holes (their area is not added back) or on noisy maps with ties; tests bound the gap.

    `gt_boxes` are converted to wsolevaluation's convention by pixel coverage: `(x0, y0, x1, y1) = (xmin,
    ymin, xmax - 1, ymax - 1)`, so boxes read from its `localization.txt` (`x0,y0,x1,y1`) enter as
    `[y0, x0, y1 + 1, x1 + 1]`.

    Args:
        maps: Maps [B, H, W] in [0, 1] at image resolution (float; NumPy or tensor).
        gt_boxes: A list of B arrays [k_i, 4] (or an array [B, 4] or [B, K, 4]) of non-empty whole pixel boxes
            within the maps (`ymax <= H`, `xmax <= W`; normalised boxes are refused).
        iou_thresholds: IoU thresholds, fractions in [0, 1]. Defaults to (0.3, 0.5, 0.7), as
            wsolevaluation's MaxBoxAccV2 (which writes them in percent).
        cam_curve_interval: Step of the CAM thresholds, in (0, 1]. Defaults to 0.001.
        multi_contour: True: V2 (all contours); False: V1 (the largest). Defaults to True.
        chunk_size: Maps quantised and swept per call; bounds the memory of the uint8 copies and of the
            per-level scores. Defaults to None: about 800,000 pixels (16 maps of 224 x 224).

    Returns:
        `{"max_box_acc": {iou: fraction}, "mean": fraction, "best_cam_threshold": {iou: threshold}}`, keyed
        by the thresholds as Python floats.

    Raises:
        ValueError: If maps are not [B, H, W] in [0, 1], boxes are malformed, empty, normalised, fractional or
            outside the maps, or an argument is out of its range (e.g. thresholds in percent).
    """
    caller = "max_box_acc"
    maps = checked_maps(maps, "maps", caller)
    if not len(maps):
        raise ValueError(f"{caller}: Expected at least one map. Received: maps.shape={maps.shape}")
    if maps.min() < 0 or maps.max() > 1:
        raise ValueError(f"{caller}: Expected `maps` in [0, 1]. Received: maps.min()={maps.min()}, "
                         f"maps.max()={maps.max()}")
    iou_thresholds = checks.fractions("iou_thresholds", iou_thresholds, caller)
    cam_curve_interval = checks.fraction("cam_curve_interval", cam_curve_interval, caller, open_low=True)
    multi_contour = checks.flag("multi_contour", multi_contour, caller)
    chunk_size = checks.count("chunk_size", chunk_size, caller, allow_none=True)
    gt_list = _gt_list(gt_boxes, len(maps), "gt_boxes", caller, normalized=False, image_size=maps.shape[1:],
                       allow_empty_boxes=False, whole=True)
    for i, boxes in enumerate(gt_list):
        if not len(boxes):
            raise ValueError(f"{caller}: Expected at least one box per image in `gt_boxes`. Received: "
                             f"gt_boxes[{i}] with none")
    gt_list = [g.astype(np.int64) for g in gt_list]
    cam_thresholds, num_correct = correct_counts(maps, gt_list, iou_thresholds, cam_curve_interval,
                                                 bool(multi_contour), chunk_size)
    accuracy = {t: float(num_correct[t].max() / len(maps)) for t in iou_thresholds}
    return {
        "max_box_acc": accuracy,
        "mean": float(np.mean(list(accuracy.values()))),
        "best_cam_threshold": {t: float(cam_thresholds[int(np.argmax(num_correct[t]))]) for t in iou_thresholds},
    }


def correct_counts(maps, gt_list, iou_thresholds, cam_curve_interval, multi_contour, chunk_size):
    """wsolevaluation's `num_correct`: for each IoU threshold, the images correct at each CAM threshold.

    Args: as `max_box_acc`, with `maps` a validated NumPy array and `gt_list` a list of int64 [k_i, 4].

    Returns:
        (cam_thresholds float64 [T], {iou: int64 [T]}).
    """
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_PIXELS // max(1, maps.shape[1] * maps.shape[2]))
    cam_thresholds = np.arange(0, 1, cam_curve_interval)
    num_correct = {t: np.zeros(len(cam_thresholds), dtype=np.int64) for t in iou_thresholds}
    for start in range(0, len(maps), chunk_size):
        images = (maps[start:start + chunk_size] * 255).astype(np.uint8)
        theirs, valid = _to_wsol_boxes(gt_list[start:start + chunk_size])
        scores = _sweep.level_scores(images, theirs, valid, multi_contour)  # [chunk, 255]
        levels = (cam_thresholds[None, :] * images.reshape(len(images), -1).max(axis=1)[:, None]).astype(np.int64)
        at_threshold = np.take_along_axis(scores, levels, axis=1)  # [chunk, T]: level int(t * max) of each map.
        for t in iou_thresholds:
            num_correct[t] += (at_threshold >= t).sum(axis=0)
    return cam_thresholds, num_correct


def _boxes(values, name, caller, normalized=None, **kwargs):
    values = values.numpy() if hasattr(values, "numpy") else values
    return checks.boxes(name, values, caller, normalized=normalized, **kwargs)


def _looks_normalized(array):
    return array.size and array.max() <= 1 and bool(np.any(array != np.round(array)))


def _same_convention(first, second, caller):
    """Refuses one side normalised (fractional, within [0, 1]) against the other in pixels (beyond 1)."""
    for (name_a, a), (name_b, b) in ((first, second), (second, first)):
        if _looks_normalized(a) and b.size and b.max() > 1:
            raise ValueError(f"{caller}: Expected `{name_a}` and `{name_b}` in one convention; `{name_a}` looks "
                             f"normalised to [0, 1], `{name_b}` in pixels: multiply `{name_a}` by the image size. "
                             f"Received: {name_a} in [{a.min():g}, {a.max():g}], {name_b} in "
                             f"[{b.min():g}, {b.max():g}]")


def _iou(a, b):
    height = np.maximum(0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    width = np.maximum(0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    inter = height * width
    union = _area(a) + _area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _area(boxes):
    return np.maximum(0.0, boxes[..., 2] - boxes[..., 0]) * np.maximum(0.0, boxes[..., 3] - boxes[..., 1])


def _gt_list(true_boxes, count, name, caller, **box_checks):
    """`true_boxes` ([B, 4], [B, K, 4] or a list of B arrays [k_i, 4] or [4]) as a list of float64 [k_i, 4]."""
    if _ragged(true_boxes):
        result = []
        for i, boxes in enumerate(true_boxes):
            boxes = _boxes(boxes, f"{name}[{i}]", caller, **box_checks)
            if boxes.ndim not in (1, 2):
                raise ValueError(f"{caller}: Expected `{name}[{i}]` of shape [k, 4]. Received: "
                                 f"{name}[{i}].shape={boxes.shape}")
            result.append(boxes.reshape(-1, 4))
    else:
        array = _boxes(true_boxes, name, caller, **box_checks)
        if array.ndim not in (2, 3):
            raise ValueError(f"{caller}: Expected `{name}` of shape [B, 4] or [B, K, 4], or a list of B arrays "
                             f"[k_i, 4]. Received: {name}.shape={array.shape}")
        result = list(array.reshape(len(array), -1, 4))
    if len(result) != count:
        raise ValueError(f"{caller}: Expected gt boxes in `{name}` for each of the {count} images. Received: "
                         f"{len(result)}")
    if "image_size" in box_checks:  # Pixel boxes within the maps, axis by axis.
        height, width = box_checks["image_size"]
        for i, boxes in enumerate(result):
            if len(boxes) and (boxes[:, 2].max() > height or boxes[:, 3].max() > width):
                raise ValueError(f"{caller}: Expected `{name}` within the maps ([ymin, xmin, ymax, xmax] with ymax "
                                 f"<= {height}, xmax <= {width}). Received: {name}[{i}]={boxes.tolist()}")
    return result


def _ragged(values):
    """Whether a list holds per-image box arrays of different lengths (else it is one array)."""
    if not isinstance(values, (list, tuple)):
        return False
    try:
        return np.asarray(values).dtype == object
    except ValueError:  # NumPy >= 1.24 refuses ragged nested sequences.
        return True


def _pred_and_gt(pred_boxes, true_boxes, caller):
    pred = _boxes(pred_boxes, "pred_boxes", caller)
    if pred.ndim != 2:
        raise ValueError(f"{caller}: Expected `pred_boxes` of shape [B, 4]. Received: pred_boxes.shape={pred.shape}")
    if not len(pred):
        raise ValueError(f"{caller}: Expected at least one image. Received: pred_boxes.shape={pred.shape}")
    gts = _gt_list(true_boxes, len(pred), "true_boxes", caller)
    every_gt = np.concatenate(gts) if gts else np.zeros((0, 4))
    _same_convention(("pred_boxes", pred), ("true_boxes", every_gt), caller)
    return pred, gts


def _hits(pred, gts, iou_threshold):
    return np.array([bool(len(g)) and bool((_iou(p[None], g) > iou_threshold).any()) for p, g in zip(pred, gts)],
                    dtype=bool)


def padded_boxes(gt_list):
    """B arrays [k_i, 4] as int64 [B, max k_i, 4], padded with zero rows, and the validity mask bool [B, K]."""
    most = max(len(b) for b in gt_list)
    padded = np.zeros((len(gt_list), most, 4), dtype=np.int64)
    valid = np.zeros((len(gt_list), most), dtype=bool)
    for i, boxes in enumerate(gt_list):
        padded[i, :len(boxes)], valid[i, :len(boxes)] = boxes, True
    return padded, valid


def _to_wsol_boxes(gt_list):
    """Our boxes to wsolevaluation's x0y0x1y1 (inclusive), padded to [B, K, 4] with a validity mask."""
    ours, valid = padded_boxes(gt_list)
    return np.stack([ours[..., 1], ours[..., 0], ours[..., 3] - 1, ours[..., 2] - 1], axis=-1), valid
