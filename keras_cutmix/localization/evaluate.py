"""`evaluate_localization`: top-1 Loc, GT-known Loc, MaxBoxAccV2 and the trivial baselines of a model.

    metrics = evaluate_localization(model, data.load("synthetic_birds", batch_size=64, training=False,
                                                     with_boxes=True))
    metrics["top1_loc"], metrics["max_box_acc_v2"]["mean"], metrics["baselines"]["best_centred_box"]

Per image: the logits give the predicted class; the map (`cam` or `gradcam`) of the PREDICTED class gives
the box scored by top-1 Loc (right class and IoU > 0.5, the paper's metric), the map of the TRUE class the
box scored by GT-known Loc and the maps swept by MaxBoxAccV2 (wsolevaluation computes its CAMs for the
ground-truth class: `inference.py`, `cams = t2n(self.model(images, targets, return_cam=True))`). Boxes follow
the paper's rule (`boxes_from_maps`, sigma = `threshold`). All numbers are fractions in [0, 1].

Ground truth: normalised boxes become pixel boxes with exclusive max by rounding (`pixel_boxes`); an image
without any box is skipped (counted in `num_skipped`); an inverted row (ymax < ymin or xmax < xmin, as tfds
mock data has) is no box. Every argument is checked before the first batch is read, and each batch before
its maps are computed: bad input raises a `ValueError` naming `evaluate_localization` and the argument or
field.

Trivial baselines on the same images (no model map): the whole-image box, and the best fixed centred box
(the grid of `CENTRED_BOX_FRACTIONS` heights x widths, chosen for its GT-known Loc ON THE TEST SET itself:
an upper bound for any fixed box). Their top-1 Loc uses the model's predicted classes.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B, Table 9.
    - [Choe et al., 2020](https://arxiv.org/abs/2001.07437), code clovaai/wsolevaluation.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.localization import metrics
from keras_cutmix.localization.boxes import boxes_from_maps
from keras_cutmix.localization.cam import _check_feature_layer, cam, gradcam, maps_and_logits
from keras_cutmix.localization.coverage import object_coverage
from keras_cutmix.localization.pxap import PxAPAccumulator

CAM_METHODS = {"cam": cam, "gradcam": gradcam}
_CALLER = "evaluate_localization"
# Heights and widths (fractions of the image side) of the fixed centred boxes searched.
CENTRED_BOX_FRACTIONS = tuple(np.round(np.arange(0.1, 1.0001, 0.05), 2).tolist())


def pixel_boxes(bbox, height, width):
    """Normalised `[ymin, xmin, ymax, xmax]` boxes as int32 pixel boxes (max exclusive), by rounding.

    Args:
        bbox: float array `[..., 4]` in [0, 1].
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        int32 array `[..., 4]`, clipped to the image.
    """
    bbox = np.asarray(bbox, np.float64)
    scale = np.array([height, width, height, width], np.float64)
    return np.clip(np.round(bbox * scale), 0, scale).astype(np.int32)


def centred_box(height, width, box_height, box_width):
    """The int32 box `[ymin, xmin, ymax, xmax]` of `box_height` x `box_width` pixels centred in the image."""
    top, left = (height - box_height) // 2, (width - box_width) // 2
    return np.array([top, left, top + box_height, left + box_width], np.int32)


def _gt_lists(bbox, height, width):
    """The non-empty pixel boxes of each image (checked normalised `bbox` [B, K, 4]): int32 arrays `[k_i, 4]`."""
    result = []
    for rows in bbox:
        boxes = pixel_boxes(rows[np.any(rows != 0, axis=1)], height, width).reshape(-1, 4)
        result.append(boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])])
    return result


def _baselines(height, width, gt_list, pred_classes, labels, iou_threshold):
    whole = np.tile(np.array([[0, 0, height, width]], np.int32), (len(gt_list), 1))
    sizes = [(fh, fw) for fh in CENTRED_BOX_FRACTIONS for fw in CENTRED_BOX_FRACTIONS]
    candidates = np.stack([centred_box(height, width, max(1, int(round(fh * height))),
                                       max(1, int(round(fw * width)))) for fh, fw in sizes])
    # Every candidate against every image at once: gt boxes padded to [B, K, 4] with a validity mask.
    padded, valid = metrics.padded_boxes(gt_list)
    overlaps = metrics.iou(candidates[:, None, None, :], padded[None])  # [C, B, K]
    scores = ((overlaps > iou_threshold) & valid[None]).any(axis=-1).mean(axis=1)
    best = int(np.argmax(scores))  # The first of equals: the smallest height, then width.
    box, (fh, fw) = candidates[best], sizes[best]
    boxes = np.tile(box[None], (len(gt_list), 1))
    score = metrics.gt_known_loc(boxes, gt_list, iou_threshold)
    return {
        "whole_image": {
            "gt_known_loc": metrics.gt_known_loc(whole, gt_list, iou_threshold),
            "top1_loc": metrics.top1_loc(pred_classes, labels, whole, gt_list, iou_threshold),
        },
        "best_centred_box": {
            "gt_known_loc": score,
            "top1_loc": metrics.top1_loc(pred_classes, labels, boxes, gt_list, iou_threshold),
            "box": box.tolist(),
            "height_fraction": fh,
            "width_fraction": fw,
            "note": "chosen on the evaluated images themselves: an upper bound for a fixed box",
        },
    }


def _num_batches(dataset):
    """The number of batches of `dataset` if known (`len`, or a `tf.data` cardinality), else None."""
    if isinstance(dataset, tf.data.Dataset):
        count = int(dataset.cardinality())
        return count if count >= 0 else None
    try:
        return len(dataset)
    except TypeError:
        return None


def _progbar_verbose(verbose):
    """Keras's verbosity as a `Progbar`'s: "auto" and True show the bar (1); 0 and False hide it."""
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if isinstance(verbose, (bool, np.bool_)):
        return int(verbose)
    if not isinstance(verbose, (int, np.integer)) or verbose not in (0, 1, 2):
        raise ValueError(f'{_CALLER}: Expected `verbose` to be 0, 1, 2 or "auto". Received: verbose={verbose!r}')
    return int(verbose)


def _checked_bbox(bbox):
    """Normalised boxes, every coordinate checked, as float64; an inverted row becomes a row of zeros: no box."""
    raw = bbox.numpy() if hasattr(bbox, "numpy") else bbox
    try:
        array = np.asarray(raw, np.float64)
    except (TypeError, ValueError):
        return checks.boxes("bbox", raw, _CALLER, normalized=True)  # Raises, naming `bbox`.
    if array.ndim < 1 or array.shape[-1] != 4:
        return checks.boxes("bbox", array, _CALLER, normalized=True)  # Raises, naming `bbox`.
    low, high = np.minimum(array[..., :2], array[..., 2:]), np.maximum(array[..., :2], array[..., 2:])
    checks.boxes("bbox", np.concatenate([low, high], axis=-1), _CALLER, normalized=True)
    inverted = np.any(array[..., 2:] < array[..., :2], axis=-1, keepdims=True)
    return np.where(inverted, 0.0, array)


def _checked_batch(batch, num_classes, size):
    """A batch's images, labels (int32 [B]) and bbox (float64 [B, K, 4], normalised), checked together."""
    if not isinstance(batch, dict) or "bbox" not in batch or "images" not in batch or "labels" not in batch:
        raise ValueError(f"{_CALLER}: Expected a dataset of dicts with `images`, `labels` and `bbox` "
                         f"(with_boxes=True). Received an element of type {type(batch).__name__}"
                         + (f" with keys {sorted(batch)}" if isinstance(batch, dict) else ""))
    images = batch["images"]
    images = images.numpy() if hasattr(images, "numpy") else np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"{_CALLER}: Expected `images` of shape [batch, height, width, channels]. Received: "
                         f"images.shape={images.shape}")
    if size is not None and images.shape[1:3] != size:
        raise ValueError(f"{_CALLER}: Expected every batch's `images` at one size {size} (the baselines and the "
                         f"boxes are in its pixels). Received: images.shape={images.shape}")
    labels = checks.class_ids("labels", batch["labels"], _CALLER, num_classes=num_classes, length=len(images))
    bbox = _checked_bbox(batch["bbox"])
    if bbox.ndim == 2:
        bbox = bbox[:, None, :]
    if bbox.ndim != 3 or len(bbox) != len(images):
        raise ValueError(f"{_CALLER}: Expected `bbox` of shape [B, 4] or [B, K, 4], one row per image "
                         f"(B={len(images)}). Received: bbox.shape={np.shape(batch['bbox'])}")
    masks = batch.get("masks")
    if masks is not None:
        masks = checks.masks("masks", masks, _CALLER)
        if masks.shape[0] != len(images):
            raise ValueError(f"{_CALLER}: Expected one mask per image (B={len(images)}). Received: "
                             f"masks.shape={masks.shape}")
    return images, labels.astype(np.int32), bbox, masks


def _mask_metrics(pixel_ap, coverage, count):
    """PxAP and the object coverage at the box rule's threshold, when every image came with a mask."""
    covered = {key: np.concatenate(values) if values else np.zeros([0]) for key, values in coverage.items()}
    if len(covered["object_covered"]) != count:
        return {}
    return {"pxap": pixel_ap.result(),
            "object_coverage": {key: float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
                                for key, values in covered.items()}}


def evaluate_localization(model, dataset, cam_method="cam", threshold=0.15, iou_threshold=0.5,
                          iou_thresholds=(0.3, 0.5, 0.7), cam_curve_interval=0.001, num_examples=16,
                          max_images=None, layer_name=None, verbose=1):
    """Localization metrics of `model` on `dataset`, with the trivial baselines and a few examples.

    Args:
        model: A classifier whose maps `cam`/`gradcam` can compute (every `keras_cutmix.models` model); takes
            the dataset's images as they come.
        dataset: Iterable of dicts `{"images": [B, H, W, C], "labels": int [B], "bbox": float [B, 4] or
            [B, K, 4]}` (e.g. `data.load(..., with_boxes=True, training=False)`): labels as ids `[B]` or
            `[B, 1]` or one-hot rows, `bbox` normalised `[ymin, xmin, ymax, xmax]` in [0, 1] (pixels are
            refused); zero rows of `bbox` are padding. An optional `"masks"` (bool or 0/1 `[B, H, W]`, the
            object; `with_masks=True`) adds PxAP and the object coverage.
        cam_method: `"cam"` or `"gradcam"`. Defaults to `"cam"`.
        threshold: The box rule's sigma (fraction of the map's maximum). Defaults to 0.15, the paper's.
        iou_threshold: IoU that top-1 and GT-known Loc must exceed. Defaults to 0.5.
        iou_thresholds: IoU thresholds of MaxBoxAccV2. Defaults to (0.3, 0.5, 0.7).
        cam_curve_interval: Step of MaxBoxAccV2's CAM thresholds. Defaults to 0.001.
        num_examples: How many of the first images to keep for pictures. Defaults to 16.
        max_images: Stop after this many images (None: all). Defaults to None.
        layer_name: Feature layer passed to `cam`/`gradcam`. Defaults to None (the CAM layer).
        verbose: 0 hides the progress bar (`keras.utils.Progbar`, one step per batch; its target is the data
            set's batch count when known, cut at `max_images`), 1 or `"auto"` shows it, 2 prints one line at
            the end. Defaults to 1.

    Returns:
        A dict of fractions: `top1_loc`, `gt_known_loc`, `top1_cls_error`, `max_box_acc_v2` (`{"mean", "0.3",
        "0.5", "0.7", "best_cam_threshold"}`, string keys); with masks, `pxap` (`localization.pxap` of the
        true class's maps) and `object_coverage` (`localization.object_coverage` of those maps at
        `threshold`); `num_images`, `num_skipped` (images without a box), `baselines` (`whole_image` and
        `best_centred_box`, each with `gt_known_loc` and `top1_loc`), the settings, and `examples` (NumPy:
        `images`, `maps` and `pred_boxes` of the predicted class, `gt_known_maps` of the true class,
        `gt_boxes` (list of `[k, 4]`), `labels`, `pred_classes`, `ious`), not JSON-ready: pop it before saving.

    Raises:
        ValueError: Naming the argument: a bad argument (e.g. a threshold in percent); a dataset without
            `bbox`; a batch whose `images` are not 4-D or change size, whose `labels` or `bbox` are out of
            range (pixel boxes) or not one per image; or no image with a box.
    """
    if not isinstance(model, keras.Model) or not getattr(model, "outputs", None):
        raise ValueError(f"{_CALLER}: Expected a functional keras.Model. Received: model of type "
                         f"{type(model).__name__}")
    if not isinstance(cam_method, str) or cam_method not in CAM_METHODS:
        raise ValueError(f"{_CALLER}: Expected `cam_method` to be one of {sorted(CAM_METHODS)}. "
                         f"Received: cam_method={cam_method!r}")
    layer_name = _check_feature_layer(model, layer_name, cam_method, _CALLER)
    threshold = checks.fraction("threshold", threshold, _CALLER)
    iou_threshold = checks.fraction("iou_threshold", iou_threshold, _CALLER)
    iou_thresholds = checks.fractions("iou_thresholds", iou_thresholds, _CALLER)
    cam_curve_interval = checks.fraction("cam_curve_interval", cam_curve_interval, _CALLER, open_low=True)
    num_examples = checks.count("num_examples", num_examples, _CALLER, minimum=0)
    max_images = checks.count("max_images", max_images, _CALLER, allow_none=True)
    if isinstance(dataset, (str, bytes, dict)) or not hasattr(dataset, "__iter__"):
        raise ValueError(f"{_CALLER}: Expected `dataset` to be an iterable of batches (dicts). Received: "
                         f"dataset of type {type(dataset).__name__}")
    num_classes = int(model.outputs[0].shape[-1])
    progbar = keras.utils.Progbar(_num_batches(dataset), verbose=_progbar_verbose(verbose), unit_name="batch")
    num_batches = 0
    per_image, gt_list = {k: [] for k in ("labels", "pred_classes", "pred_boxes", "true_boxes")}, []
    examples = {k: [] for k in ("images", "maps", "gt_known_maps", "pred_boxes")}
    thresholds = counts = None
    pixel_ap, coverage = PxAPAccumulator(cam_curve_interval), {"object_covered": [], "outside_object": []}
    num_skipped = seen = 0
    height = width = None
    for batch in dataset:
        images, batch_labels, batch_bbox, masks = _checked_batch(batch, num_classes, None if height is None
                                                                 else (height, width))
        if max_images is not None:
            keep = max(0, max_images - seen)
            images, batch_labels, batch_bbox = images[:keep], batch_labels[:keep], batch_bbox[:keep]
            masks = None if masks is None else masks[:keep]
        if max_images is not None and num_batches == 0 and len(images):  # The first batch gives its size.
            most = math.ceil(max_images / len(images))
            progbar.target = most if progbar.target is None else min(progbar.target, most)
        seen += len(images)
        if not len(images):
            break
        num_batches += 1
        height, width = images.shape[1], images.shape[2]
        batch_gt = _gt_lists(batch_bbox, height, width)
        has_box = np.array([len(g) > 0 for g in batch_gt], bool)
        num_skipped += int((~has_box).sum())
        if not has_box.any():
            progbar.update(num_batches)
            continue
        images, batch_labels = images[has_box], batch_labels[has_box]
        masks = None if masks is None else masks[has_box]
        batch_gt = [g for g, h in zip(batch_gt, has_box) if h]
        # One forward pass: the logits, the predicted class's maps (None) and the true class's.
        (maps_pred, maps_true), logits = maps_and_logits(model, images, [None, batch_labels], cam_method,
                                                         layer_name, batch_size=len(images), caller=_CALLER)
        batch_pred = np.argmax(logits, axis=-1).astype(np.int32)
        boxes_pred = boxes_from_maps(maps_pred, threshold)
        boxes_true = boxes_from_maps(maps_true, threshold)
        # MaxBoxAccV2's counts add up over batches: no need to keep every map.
        thresholds, batch_counts = metrics.correct_counts(
            np.clip(maps_true, 0.0, 1.0), [g.astype(np.int64) for g in batch_gt], tuple(iou_thresholds),
            cam_curve_interval, True, None)
        counts = batch_counts if counts is None else {t: counts[t] + batch_counts[t] for t in counts}
        if masks is not None:  # The true class's maps against the object, as MaxBoxAccV2's against its box.
            pixel_ap.update(maps_true, masks)
            covered = object_coverage(maps_true, masks, threshold)["per_image"]
            for key in coverage:
                coverage[key].append(covered[key])
        take = max(0, num_examples - len(examples["images"]))
        for key, values in zip(examples, (images, maps_pred, maps_true, boxes_pred)):
            examples[key].extend(values[:take])
        for key, values in zip(per_image, (batch_labels, batch_pred, boxes_pred, boxes_true)):
            per_image[key].append(values)
        gt_list.extend(batch_gt)
        progbar.update(num_batches)
        if max_images is not None and seen >= max_images:
            break
    if progbar.target is None or num_batches < progbar.target:  # Reaching the target finalizes it.
        progbar.update(num_batches, finalize=True)
    if not gt_list:
        raise ValueError(f"{_CALLER}: Expected at least one image with a box. Received: {num_skipped} images, "
                         "none with a box")
    labels, pred_classes, pred_boxes, true_boxes = (np.concatenate(values) for values in per_image.values())
    count = len(gt_list)
    accuracy = {t: float(counts[t].max() / count) for t in iou_thresholds}
    kept = len(examples["images"])
    return {
        "top1_loc": metrics.top1_loc(pred_classes, labels, pred_boxes, gt_list, iou_threshold),
        "gt_known_loc": metrics.gt_known_loc(true_boxes, gt_list, iou_threshold),
        "max_box_acc_v2": {
            "mean": float(np.mean(list(accuracy.values()))),
            **{str(t): a for t, a in accuracy.items()},
            "best_cam_threshold": {str(t): float(thresholds[int(np.argmax(counts[t]))]) for t in iou_thresholds},
        },
        "top1_cls_error": float(np.mean(pred_classes != labels)),
        **_mask_metrics(pixel_ap, coverage, count),
        "num_images": count,
        "num_skipped": num_skipped,
        "baselines": _baselines(height, width, gt_list, pred_classes, labels, iou_threshold),
        "cam_method": cam_method,
        "threshold": float(threshold),
        "iou_threshold": float(iou_threshold),
        "examples": {
            "images": np.asarray(examples["images"]),
            "maps": np.asarray(examples["maps"], np.float32),
            "gt_known_maps": np.asarray(examples["gt_known_maps"], np.float32),
            "pred_boxes": np.asarray(examples["pred_boxes"], np.int32).reshape(-1, 4),
            "gt_boxes": gt_list[:kept],
            "labels": labels[:kept],
            "pred_classes": pred_classes[:kept],
            "ious": np.array([float(metrics.iou(p[None], g).max()) for p, g in
                              zip(pred_boxes[:kept], gt_list[:kept])]),
        },
    }
