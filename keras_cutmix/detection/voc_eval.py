"""Pascal VOC detection mAP (VOC07 11-point or all-point AP), in NumPy.

    from keras_cutmix.detection import voc_eval
    result = voc_eval.voc_map(detections, ground_truths, num_classes=20)
    result["map"], result["ap"]  # 0.767, [AP of class 0, ..., AP of class 19]

The rules are those of the VOC devkit as py-faster-rcnn's
`lib/datasets/voc_eval.py` implements them (the code the paper's detectors were
scored with):

* boxes are `[xmin, ymin, xmax, ymax]` in inclusive pixel coordinates, so a
  box's width is `xmax - xmin + 1` (the devkit's +1), and a detection overlaps
  a ground-truth box when their IoU is strictly above `iou_threshold`;
* per class, detections of all images are ranked by score; each one is matched
  greedily to the ground-truth box of its image and class it overlaps most. It
  is a true positive if that box is not difficult and not matched yet, a false
  positive if it is already matched (a duplicate) or if the overlap is too
  small, and ignored (neither) if that box is "difficult";
* recall counts only the non-difficult ground truths; AP is the VOC07
  11-point interpolated precision (`use_07_metric=True`) or the area under the
  precision envelope (all-point, VOC2010+).

A class without any non-difficult ground truth has no recall: its AP is NaN
and `map` averages the other classes. (py-faster-rcnn divides by zero there
and gets NaN or 0 depending on the metric; on VOC's test set every class has
ground truth, so the mean is the same.) `keras.utils.bounding_boxes.compute_iou`
is not used because it has no +1 pixel convention.

References:
    Everingham et al., The PASCAL Visual Object Classes (VOC) Challenge, IJCV 2010.
    https://github.com/rbgirshick/py-faster-rcnn/blob/master/lib/datasets/voc_eval.py
"""

import numpy as np

# py-faster-rcnn's recall thresholds, np.arange(0., 1.1, 0.1): the same floats, so
# that a recall like 0.3 compares with 0.30000000000000004 exactly as there.
_RECALL_POINTS = np.arange(0.0, 1.1, 0.1)


def average_precision(recall, precision, use_07_metric=True):
    """AP of a precision-recall curve, as the VOC devkit computes it.

    Args:
        recall: float [n], non-decreasing, after each ranked detection.
        precision: float [n], after each ranked detection.
        use_07_metric: True: mean of the largest precision at recall >= t for
            t in 0, 0.1, ..., 1 (VOC2007). False: area under the precision
            envelope (all points, VOC2010 and later). Defaults to True.

    Returns:
        The AP, a float in [0, 1].
    """
    recall, precision = np.asarray(recall, np.float64), np.asarray(precision, np.float64)
    if use_07_metric:
        reached = recall[None, :] >= _RECALL_POINTS[:, None]  # [11, n]
        best = np.where(reached, precision[None, :], 0.0).max(1, initial=0.0)
        return float(best.sum() / 11.0)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # The precision envelope.
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def _pixel_iou(boxes, gt_boxes):
    """IoU [n, m] of inclusive-pixel `[xmin, ymin, xmax, ymax]` boxes (areas with +1)."""
    lo = np.maximum(boxes[:, None, :2], gt_boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], gt_boxes[None, :, 2:])
    inter = np.prod(np.maximum(hi - lo + 1.0, 0.0), -1)
    area = lambda b: (b[:, 2] - b[:, 0] + 1.0) * (b[:, 3] - b[:, 1] + 1.0)
    return inter / (area(boxes)[:, None] + area(gt_boxes)[None, :] - inter)


def _as_arrays(items, names, index):
    arrays = [np.asarray(a) for a in items]
    if len(arrays) != len(names):
        raise ValueError(f"Expected image {index} to be a tuple {names}. Received: {len(arrays)} items")
    n = len(arrays[1]) if arrays[0].size == 0 else len(arrays[0])
    if arrays[0].size and arrays[0].shape != (n, 4) or any(len(a) != n for a in arrays[1:]):
        shapes = {name: a.shape for name, a in zip(names, arrays)}
        raise ValueError(f"Expected {names[0]} [n, 4] and the other fields [n] in image {index}. "
                         f"Received: shapes {shapes}")
    return [arrays[0].reshape(n, 4).astype(np.float64)] + arrays[1:]


def _check_classes(classes, num_classes, name, index):
    if classes.size and (classes.min() < 0 or classes.max() >= num_classes):
        raise ValueError(f"Expected {name} in [0, {num_classes}) in image {index}. "
                         f"Received: {name}={classes.tolist()}")


def _match(det_boxes, det_classes, gt_boxes, gt_classes):
    """Per detection, the best IoU with a ground truth of its class and that ground truth's index."""
    iou = _pixel_iou(det_boxes, gt_boxes) if len(gt_boxes) else np.zeros((len(det_boxes), 0))
    iou = np.where(det_classes[:, None] == gt_classes[None, :], iou, -np.inf)
    if not iou.shape[1]:
        return np.full(len(det_boxes), -np.inf), np.zeros(len(det_boxes), np.int64)
    return iou.max(1), iou.argmax(1)


def voc_map(detections, ground_truths, num_classes, iou_threshold=0.5, use_07_metric=True):
    """Mean average precision of detections over images, by the VOC devkit's rules.

    Args:
        detections: A list with one tuple `(boxes, scores, classes)` per image:
            boxes [n, 4] `[xmin, ymin, xmax, ymax]` in inclusive pixel
            coordinates, scores [n], integer classes [n] in `[0, num_classes)`.
        ground_truths: A list, aligned with `detections`, of tuples
            `(boxes, classes, difficult)`: boxes [m, 4] as above, classes [m],
            difficult bool [m].
        num_classes: Number of classes.
        iou_threshold: A detection matches a ground truth when their IoU is
            strictly above it. Defaults to 0.5.
        use_07_metric: VOC2007's 11-point interpolated AP; False for the
            all-point AP of VOC2010+. Defaults to True.

    Returns:
        A dict: `"map"`, the mean AP (a fraction in [0, 1]) over the classes
        with at least one non-difficult ground truth, and `"ap"`, a list of
        `num_classes` floats (NaN for a class without such ground truth).

    Raises:
        ValueError: if the lists differ in length, a tuple's fields disagree
            in length, or a class is outside `[0, num_classes)`.
    """
    if len(detections) != len(ground_truths):
        raise ValueError(f"Expected one detections entry per ground_truths entry. Received: "
                         f"len(detections)={len(detections)}, len(ground_truths)={len(ground_truths)}")
    num_classes = int(num_classes)
    rows, scores = [], []  # Per detection: (image, class, matched gt or -1, ignored), score.
    num_positives = np.zeros(num_classes, np.int64)
    for index, (det, gt) in enumerate(zip(detections, ground_truths)):
        det_boxes, det_scores, det_classes = _as_arrays(det, ("boxes", "scores", "classes"), index)
        gt_boxes, gt_classes, difficult = _as_arrays(gt, ("boxes", "classes", "difficult"), index)
        det_classes, gt_classes = det_classes.astype(np.int64), gt_classes.astype(np.int64)
        difficult = difficult.astype(bool)
        _check_classes(det_classes, num_classes, "classes", index)
        _check_classes(gt_classes, num_classes, "gt classes", index)
        num_positives += np.bincount(gt_classes[~difficult], minlength=num_classes)
        best_iou, best_gt = _match(det_boxes, det_classes, gt_boxes, gt_classes)
        hit = best_iou > iou_threshold
        ignored = hit & difficult[best_gt] if len(gt_boxes) else np.zeros(len(hit), bool)
        matched_gt = np.where(hit & ~ignored, best_gt, -1)
        rows.append(np.stack([np.full(len(hit), index), det_classes, matched_gt, ignored], 1))
        scores.append(det_scores.astype(np.float64).reshape(-1))
    table = np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 4), np.int64)
    scores = np.concatenate(scores) if scores else np.zeros(0)
    ap = [_class_ap(table[table[:, 1] == c], scores[table[:, 1] == c], num_positives[c],
                    use_07_metric) for c in range(num_classes)]
    return {"map": float(np.nanmean(ap)) if num_positives.any() else float("nan"), "ap": ap}


def _class_ap(table, scores, num_positives, use_07_metric):
    """AP of one class from its detections' (image, class, matched gt, ignored) rows and scores."""
    if num_positives == 0:
        return float("nan")
    table = table[np.argsort(-scores, kind="stable")]  # Ranked, ties in input order.
    matched = table[:, 2] >= 0
    # The first ranked detection of each (image, gt) is the true positive; later ones are duplicates.
    _, first = np.unique(table[matched][:, [0, 2]], axis=0, return_index=True)
    tp = np.zeros(len(table), bool)
    tp[np.flatnonzero(matched)[first]] = True
    fp = ~tp & (table[:, 3] == 0)
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    recall = tp / float(num_positives)
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return average_precision(recall, precision, use_07_metric)
