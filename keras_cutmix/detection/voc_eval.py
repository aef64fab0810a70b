"""Pascal VOC detection mAP (VOC07 11-point or all-point AP), in NumPy.

    from keras_cutmix.detection import voc_eval
    result = voc_eval.voc_map(detections, ground_truths, num_classes=20)
    result["map"], result["ap"]  # 0.767, [AP of class 0, ..., AP of class 19]

The rules are those of the VOC devkit as py-faster-rcnn's `lib/datasets/voc_eval.py` implements them (the
code the paper's detectors were scored with):

* boxes are `[xmin, ymin, xmax, ymax]` in inclusive pixel coordinates, so a box's width is `xmax - xmin + 1`
  (the devkit's +1), and a detection overlaps a ground-truth box when their IoU is strictly above
  `iou_threshold`;
* per class, detections of all images are ranked by score; each one is matched greedily to the ground-truth
  box of its image and class it overlaps most. It is a true positive if that box is not difficult and not
  matched yet, a false positive if it is already matched (a duplicate) or if the overlap is too small, and
  ignored (neither) if that box is "difficult";
* recall counts only the non-difficult ground truths; AP is the VOC07 11-point interpolated precision
  (`use_07_metric=True`) or the area under the precision envelope (all-point, VOC2010+).

A class without any non-difficult ground truth has AP NaN and `map` averages the other classes
(py-faster-rcnn divides by zero there; every VOC test class has ground truth). `keras.utils.bounding_boxes
.compute_iou` has no +1 pixel convention, hence `_pixel_iou`.

Bad input raises as `voc_map`'s Raises say, before any work. A detection box with NaN or infinite coordinates
(a diverged detector's) overlaps nothing: a false positive, as in the devkit. Classes and scores may be [n] or
[n, 1] (scores: only their order counts), an image without detections or objects empty arrays of any shape.

References:
    Everingham et al., The PASCAL Visual Object Classes (VOC) Challenge, IJCV 2010.
    https://github.com/rbgirshick/py-faster-rcnn/blob/master/lib/datasets/voc_eval.py
"""

import numpy as np

from keras_cutmix import checks

# py-faster-rcnn's recall thresholds, np.arange(0., 1.1, 0.1): the same floats, so that a recall like 0.3
# compares with 0.30000000000000004 exactly as there.
_RECALL_POINTS = np.arange(0.0, 1.1, 0.1)


def average_precision(recall, precision, use_07_metric=True):
    """AP of a precision-recall curve, as the VOC devkit computes it.

    Args:
        recall: float [n] fractions, non-decreasing, after each ranked detection.
        precision: float [n] fractions, after each ranked detection.
        use_07_metric: True: mean of the largest precision at recall >= t for t in 0, 0.1, ..., 1 (VOC2007).
            False: area under the precision envelope (all points, VOC2010 and later). Defaults to True.

    Returns:
        The AP, a float in [0, 1].

    Raises:
        ValueError: for curves of different lengths, values outside [0, 1] (percentages), or a recall that
            decreases.
    """
    caller = "average_precision"
    recall, precision = checks.scores("recall", recall, caller), checks.scores("precision", precision, caller)
    use_07_metric = checks.flag("use_07_metric", use_07_metric, caller)
    if recall.shape != precision.shape:
        raise ValueError(f"{caller}: Expected `recall` and `precision` of the same length. Received: "
                         f"{recall.shape[0]} and {precision.shape[0]}")
    for name, values in (("recall", recall), ("precision", precision)):
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError(f"{caller}: Expected `{name}` as fractions in [0, 1]. Received: {name} in "
                             f"[{values.min():g}, {values.max():g}]")
    if np.any(np.diff(recall) < 0):
        raise ValueError(f"{caller}: Expected a non-decreasing `recall` (the curve in rank order). Received: "
                         f"a recall that decreases at index {int(np.flatnonzero(np.diff(recall) < 0)[0]) + 1}")
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
    """IoU [n, m] of inclusive-pixel `[xmin, ymin, xmax, ymax]` boxes (areas with +1; 0 where both are empty)."""
    lo = np.maximum(boxes[:, None, :2], gt_boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], gt_boxes[None, :, 2:])
    inter = np.prod(np.maximum(hi - lo + 1.0, 0.0), -1)
    area = lambda b: (b[:, 2] - b[:, 0] + 1.0) * (b[:, 3] - b[:, 1] + 1.0)
    with np.errstate(invalid="ignore", over="ignore"):  # Non-finite detections: IoU NaN or 0, never a match.
        union = area(boxes)[:, None] + area(gt_boxes)[None, :] - inter
        return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _entries(name, entries, fields, caller):
    """`entries` as a list of per-image tuples of `len(fields)` items."""
    if not isinstance(entries, (list, tuple)):
        raise ValueError(f"{caller}: Expected `{name}` as a list with one tuple {fields} per image. Received: "
                         f"{name} of type {type(entries).__name__}")
    for index, entry in enumerate(entries):
        if not isinstance(entry, (list, tuple)) or len(entry) != len(fields):
            kind = f"{len(entry)} items" if isinstance(entry, (list, tuple)) else f"type {type(entry).__name__}"
            raise ValueError(f"{caller}: Expected `{name}[{index}]` to be a tuple {fields} (a list of such tuples, "
                             f"one per image). Received: {name}[{index}] of {kind}")
    return list(entries)


def _image_boxes(name, boxes, caller, nonfinite_ok=False):
    """One image's boxes as float64 [n, 4]: empty arrays of any shape are no boxes.

    With `nonfinite_ok` (detections: a diverged detector's overflowing boxes), rows with NaN or infinite
    coordinates are kept as they are, unchecked: they overlap nothing, so they count as false positives.
    """
    if not isinstance(boxes, (str, bytes, dict)) and boxes is not None and np.size(boxes) == 0:
        return np.zeros((0, 4))
    rows = None
    if nonfinite_ok and not isinstance(boxes, (str, bytes, dict)) and boxes is not None:
        try:
            array = np.asarray(boxes)
        except (TypeError, ValueError):
            array = np.zeros(0)
        if np.issubdtype(array.dtype, np.floating) and array.ndim == 2 and array.shape[-1] == 4:
            rows = ~np.all(np.isfinite(array), axis=1)
            boxes = np.where(rows[:, None], 0.0, array)  # Checked as a 1-pixel box at the origin.
    array = checks.boxes(name, boxes, caller, normalized=None, inclusive=True)
    if array.ndim != 2:
        raise ValueError(f"{caller}: Expected `{name}` as [n, 4]. Received: {name}.shape={array.shape}")
    if rows is not None and rows.any():
        array = array.copy()
        array[rows] = np.nan
    return array


def _checked(detections, ground_truths, num_classes, caller):
    """The images' arrays, checked: [(boxes, scores, classes)], [(boxes, classes, difficult)]."""
    detections = _entries("detections", detections, ("boxes", "scores", "classes"), caller)
    ground_truths = _entries("ground_truths", ground_truths, ("boxes", "classes", "difficult"), caller)
    if len(detections) != len(ground_truths):
        raise ValueError(f"{caller}: Expected one detections entry per ground_truths entry. Received: "
                         f"len(detections)={len(detections)}, len(ground_truths)={len(ground_truths)}")
    dets, gts = [], []
    for i, ((boxes, scores, classes), (gt_boxes, gt_classes, difficult)) in enumerate(zip(detections, ground_truths)):
        boxes = _image_boxes(f"detections[{i}] boxes", boxes, caller, nonfinite_ok=True)
        n = len(boxes)
        scores = np.zeros(0) if n == 0 and np.size(scores) == 0 else checks.scores(
            f"detections[{i}] scores", scores, caller)
        classes = np.zeros(0, np.int64) if n == 0 and np.size(classes) == 0 else checks.class_ids(
            f"detections[{i}] classes", classes, caller, num_classes=num_classes, length=n)
        if len(scores) != n:
            raise ValueError(f"{caller}: Expected one score per box in detections[{i}]. Received: {n} boxes and "
                             f"{len(scores)} scores")
        gt_boxes = _image_boxes(f"ground_truths[{i}] boxes", gt_boxes, caller)
        m = len(gt_boxes)
        gt_classes = np.zeros(0, np.int64) if m == 0 and np.size(gt_classes) == 0 else checks.class_ids(
            f"ground_truths[{i}] classes", gt_classes, caller, num_classes=num_classes, length=m)
        difficult = np.zeros(0, bool) if m == 0 and np.size(difficult) == 0 else _difficult(
            f"ground_truths[{i}] difficult", difficult, caller, m)
        dets.append((boxes, scores, classes))
        gts.append((gt_boxes, gt_classes, difficult))
    for name, images in (("detections", dets), ("ground_truths", gts)):
        every = np.concatenate([image[0] for image in images]) if images else np.zeros((0, 4))
        every = every[np.all(np.isfinite(every), axis=1)]
        checks.boxes(f"{name} boxes", every, caller, normalized=False, inclusive=True)
    return dets, gts


def _difficult(name, values, caller, length):
    """One image's difficult flags as bool [m], from bools or 0 / 1 numbers, [m] or [m, 1]."""
    array = checks.scores(name, np.asarray(values, np.float64) if np.asarray(values).dtype == bool else values,
                          caller)
    if array.size and not np.all((array == 0) | (array == 1)):
        raise ValueError(f"{caller}: Expected `{name}` as flags (bool, or 0 and 1). Received: values in "
                         f"[{array.min():g}, {array.max():g}]")
    if len(array) != length:
        raise ValueError(f"{caller}: Expected {length} `{name}`, one per box. Received: {len(array)}")
    return array.astype(bool)


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
        detections: A list with one tuple `(boxes, scores, classes)` per image: boxes [n, 4]
            `[xmin, ymin, xmax, ymax]` in inclusive pixel coordinates, scores [n] (any finite numbers: only their
            order counts), integer classes [n] in `[0, num_classes)`.
        ground_truths: A list, aligned with `detections`, of tuples `(boxes, classes, difficult)`: boxes [m, 4]
            as above, classes [m], difficult bool [m].
        num_classes: Number of classes.
        iou_threshold: A detection matches a ground truth when their IoU is strictly above it. Defaults to 0.5.
        use_07_metric: VOC2007's 11-point interpolated AP; False for the all-point AP of VOC2010+. Defaults to
            True.

    Returns:
        A dict: `"map"`, the mean AP (a fraction in [0, 1]) over the classes with at least one non-difficult
        ground truth, and `"ap"`, a list of `num_classes` floats (NaN for a class without such ground truth).

    Raises:
        ValueError: if the lists differ in length, a tuple's fields disagree in length, boxes look normalised or
            are inverted (`xmax < xmin - 1`: a negative devkit width), a class is not a whole number in
            `[0, num_classes)`, a score or ground-truth box is not finite, or an argument is out of range (a
            percentage as `iou_threshold`).
        TypeError: for fields that are not numeric arrays.
    """
    caller = "voc_map"
    num_classes = checks.count("num_classes", num_classes, caller)
    iou_threshold = checks.fraction("iou_threshold", iou_threshold, caller)
    use_07_metric = checks.flag("use_07_metric", use_07_metric, caller)
    detections, ground_truths = _checked(detections, ground_truths, num_classes, caller)
    rows, scores = [], []  # Per detection: (image, class, matched gt or -1, ignored), score.
    num_positives = np.zeros(num_classes, np.int64)
    for index, ((det_boxes, det_scores, det_classes), (gt_boxes, gt_classes, difficult)) in enumerate(
            zip(detections, ground_truths)):
        num_positives += np.bincount(gt_classes[~difficult], minlength=num_classes)
        best_iou, best_gt = _match(det_boxes, det_classes, gt_boxes, gt_classes)
        hit = best_iou > iou_threshold
        ignored = hit & difficult[best_gt] if len(gt_boxes) else np.zeros(len(hit), bool)
        matched_gt = np.where(hit & ~ignored, best_gt, -1)
        rows.append(np.stack([np.full(len(hit), index), det_classes, matched_gt, ignored], 1))
        scores.append(det_scores)
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
