"""Localization metrics: IoU, top-1 Loc, GT-known Loc, and MaxBoxAcc (V1 and V2).

Boxes are int32 `[ymin, xmin, ymax, xmax]` with an exclusive max (see `boxes.py`); their area is
`(ymax - ymin) * (xmax - xmin)`, with no `+ 1`. Ground truth is either an array [B, 4] (one box per image)
or a list of B int arrays [k_i, 4] (several boxes per image, as in ImageNet): an image counts as localised
when its box matches ANY of its ground-truth boxes.

Comparisons: `top1_loc` and `gt_known_loc` count a box as correct when IoU > `iou_threshold` (strictly), as
the paper states ("IoU with the ground truth > 0.5"). `max_box_acc` uses IoU >= threshold, as
wsolevaluation's `BoxEvaluator` does.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B, Table 9.
    - [Choe et al., Evaluating Weakly Supervised Object Localization Methods Right, CVPR 2020](
      https://arxiv.org/abs/2001.07437), MaxBoxAcc and MaxBoxAccV2;
      code: https://github.com/clovaai/wsolevaluation (`evaluation.py`).
"""

import numpy as np

from keras_cutmix.localization import _sweep
from keras_cutmix.localization.boxes import as_maps

_CHUNK_PIXELS = 800_000


def iou(boxes_a, boxes_b):
    """Intersection over union of exclusive-max boxes, broadcast over leading dimensions.

    Area is `(ymax - ymin) * (xmax - xmin)`; two empty boxes have IoU 0.

    Args:
        boxes_a: Int array [..., 4] of `[ymin, xmin, ymax, xmax]`.
        boxes_b: Int array [..., 4], broadcastable against `boxes_a`.

    Returns:
        float64 array of the broadcast leading shape.

    Raises:
        ValueError: If the last dimension is not 4.
    """
    a = _box_array(boxes_a, "boxes_a")
    b = _box_array(boxes_b, "boxes_b")
    height = np.maximum(0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    width = np.maximum(0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    inter = height * width
    union = _area(a) + _area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def top1_loc(pred_classes, true_classes, pred_boxes, true_boxes, iou_threshold=0.5):
    """Top-1 localization accuracy: the predicted class is right AND IoU > `iou_threshold` with a gt box.

    Args:
        pred_classes: Int array [B] of predicted (top-1) classes.
        true_classes: Int array [B].
        pred_boxes: Int array [B, 4], one estimated box per image.
        true_boxes: Int array [B, 4], or a list of B int arrays [k_i, 4] (correct when any matches).
        iou_threshold: IoU that must be strictly exceeded. Defaults to 0.5.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: On mismatched lengths or malformed boxes.
    """
    pred_classes = np.asarray(pred_classes).reshape(-1)
    true_classes = np.asarray(true_classes).reshape(-1)
    if pred_classes.shape != true_classes.shape:
        raise ValueError("Expected `pred_classes` and `true_classes` of the same length. Received: "
                         f"pred_classes.shape={pred_classes.shape}, true_classes.shape={true_classes.shape}")
    hits = _box_hits(pred_boxes, true_boxes, iou_threshold)
    if len(hits) != len(pred_classes):
        raise ValueError(f"Expected one box per class. Received: {len(hits)} boxes, {len(pred_classes)} classes")
    return float(np.mean(hits & (pred_classes == true_classes))) if len(hits) else 0.0


def gt_known_loc(pred_boxes, true_boxes, iou_threshold=0.5):
    """GT-known localization accuracy: IoU > `iou_threshold` with a gt box, whatever the predicted class.

    Args:
        pred_boxes: Int array [B, 4] (the boxes of the maps of the true class).
        true_boxes: Int array [B, 4], or a list of B int arrays [k_i, 4] (correct when any matches).
        iou_threshold: IoU that must be strictly exceeded. Defaults to 0.5.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: On mismatched lengths or malformed boxes.
    """
    hits = _box_hits(pred_boxes, true_boxes, iou_threshold)
    return float(np.mean(hits)) if len(hits) else 0.0


def max_box_acc(maps, gt_boxes, iou_thresholds=(0.3, 0.5, 0.7), cam_curve_interval=0.001, multi_contour=True,
                chunk_size=None):
    """MaxBoxAcc (`multi_contour=False`) or MaxBoxAccV2 (`multi_contour=True`), as wsolevaluation computes it.

    Reproduces `BoxEvaluator` of clovaai/wsolevaluation: each map is quantised as `(map * 255).astype(uint8)`
    (in the map's own float dtype) and, for every CAM threshold `t` in `np.arange(0, 1, cam_curve_interval)`,
    binarised as `image > int(t * image.max())`. The boxes are the bounding rects of OpenCV's contours
    (`RETR_TREE`: every 8-connected region and every hole) in its x0y0x1y1 convention with `x1 = x + w`
    clipped to `width - 1`; no foreground gives the box [0, 0, 0, 0]. An image is correct at `t` when its
    best IoU (wsolevaluation's `+ 1` areas) over boxes and gt boxes is >= the IoU threshold. The accuracy per
    IoU threshold is the best over `t` (first best on ties).

    Exactness: V2 gives wsolevaluation's counts exactly. V1 keeps the region of largest outer-polygon area
    (OpenCV's `contourArea`, computed from 2x2 pixel blocks; ties go to the region OpenCV lists first); it is
    exact on smooth maps, and may differ where a region has holes (their area is not added back) or on noisy
    maps with ties; tests bound the gap.

    Box conventions: `gt_boxes` are ours (`[ymin, xmin, ymax, xmax]`, max exclusive) and are converted to
    wsolevaluation's by pixel coverage: `(x0, y0, x1, y1) = (xmin, ymin, xmax - 1, ymax - 1)`. Boxes read from
    wsolevaluation's `localization.txt` (`x0,y0,x1,y1`) therefore enter as `[y0, x0, y1 + 1, x1 + 1]`.

    Args:
        maps: Maps [B, H, W] in [0, 1] at image resolution (float; NumPy or tensor).
        gt_boxes: A list of B int arrays [k_i, 4] (or an array [B, 4]) of non-empty boxes in our convention.
        iou_thresholds: IoU thresholds. Defaults to (0.3, 0.5, 0.7), as wsolevaluation's MaxBoxAccV2.
        cam_curve_interval: Step of the CAM thresholds. Defaults to 0.001.
        multi_contour: True: V2 (all contours); False: V1 (the largest). Defaults to True.
        chunk_size: Maps quantised and swept per call; bounds the memory of the uint8 copies and of the
            per-level scores. Defaults to None: about 800,000 pixels (16 maps of 224 x 224).

    Returns:
        `{"max_box_acc": {iou: fraction}, "mean": fraction, "best_cam_threshold": {iou: threshold}}`.

    Raises:
        ValueError: If maps are not in [0, 1] or boxes are malformed or empty.
    """
    maps = as_maps(maps)
    if maps.size and (maps.min() < 0 or maps.max() > 1):
        raise ValueError(f"Expected `maps` in [0, 1]. Received: maps.min()={maps.min()}, maps.max()={maps.max()}")
    gt_list = _gt_list(gt_boxes, len(maps))
    if not len(maps):
        raise ValueError(f"Expected at least one map. Received: maps.shape={maps.shape}")
    for i, boxes in enumerate(gt_list):
        if not len(boxes) or (boxes[:, :2] < 0).any() or (boxes[:, 2:] <= boxes[:, :2]).any():
            raise ValueError(f"Expected at least one non-empty box per image with non-negative corners. "
                             f"Received: gt_boxes[{i}]={boxes.tolist()}")
    cam_thresholds, num_correct = correct_counts(maps, gt_list, iou_thresholds, cam_curve_interval, multi_contour,
                                                 chunk_size)
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


def _box_array(boxes, name):
    array = np.asarray(boxes.numpy() if hasattr(boxes, "numpy") else boxes)
    if array.shape[-1:] != (4,):
        raise ValueError(f"Expected `{name}` of shape [..., 4]. Received: {name}.shape={array.shape}")
    return array.astype(np.int64)


def _area(boxes):
    return np.maximum(0, boxes[..., 2] - boxes[..., 0]) * np.maximum(0, boxes[..., 3] - boxes[..., 1])


def _gt_list(true_boxes, count):
    """`true_boxes` as a list of `count` int64 arrays [k_i, 4]."""
    if isinstance(true_boxes, (list, tuple)):
        result = [_box_array(b, "true_boxes[i]").reshape(-1, 4) for b in true_boxes]
    else:
        array = _box_array(true_boxes, "true_boxes")
        result = list(array.reshape(len(array), -1, 4)) if array.ndim in (2, 3) else None
        if result is None:
            raise ValueError(f"Expected `true_boxes` of shape [B, 4] or [B, K, 4], or a list of [k_i, 4]. "
                             f"Received: true_boxes.shape={array.shape}")
    if len(result) != count:
        raise ValueError(f"Expected gt boxes for each of the {count} images. Received: {len(result)}")
    return result


def _box_hits(pred_boxes, true_boxes, iou_threshold):
    pred = _box_array(pred_boxes, "pred_boxes").reshape(-1, 4)
    gts = _gt_list(true_boxes, len(pred))
    return np.array([bool(len(g)) and bool((iou(p[None], g) > iou_threshold).any()) for p, g in zip(pred, gts)],
                    dtype=bool)


def _to_wsol_boxes(gt_list):
    """Our boxes to wsolevaluation's x0y0x1y1 (inclusive), padded to [B, K, 4] with a validity mask."""
    k = max(len(b) for b in gt_list)
    theirs = np.zeros((len(gt_list), k, 4), dtype=np.int64)
    valid = np.zeros((len(gt_list), k), dtype=bool)
    for i, boxes in enumerate(gt_list):
        theirs[i, :len(boxes)] = np.stack([boxes[:, 1], boxes[:, 0], boxes[:, 3] - 1, boxes[:, 2] - 1], axis=1)
        valid[i, :len(boxes)] = True
    return theirs, valid
