"""A straight port of clovaai/wsolevaluation's box evaluation, the reference that `max_box_acc` must match.

Source: https://github.com/clovaai/wsolevaluation, `evaluation.py` (`calculate_multiple_iou`,
`compute_bboxes_from_scoremaps`, `BoxEvaluator.accumulate` / `compute`, `evaluate_wsol`'s threshold list).
Copyright (c) 2020-present NAVER Corp., MIT licence (the full notice is in that repository's LICENSE):
    Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
    associated documentation files (the "Software"), to deal in the Software without restriction, ...
    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.

Changes from the original, none of which touches the arithmetic: metadata loading, image ids, the torch
data loader and the box resizing are gone (boxes come in as arrays already at the map's resolution); the
score-map dtype check accepts float32 and float64 (`np.float` no longer exists). Test and benchmark helper
only: the library never imports OpenCV.

Box convention here is wsolevaluation's: `x0y0x1y1`, areas with `+ 1`.
"""

import cv2
import numpy as np

_CONTOUR_INDEX = 1 if cv2.__version__.split(".")[0] == "3" else 0


def calculate_multiple_iou(box_a, box_b):
    num_a = box_a.shape[0]
    num_b = box_b.shape[0]
    box_a = np.tile(box_a, num_b)
    box_a = np.expand_dims(box_a, axis=1).reshape((num_a, num_b, -1))
    box_b = np.tile(box_b, num_a)
    box_b = np.expand_dims(box_b, axis=1).reshape((num_b, num_a, -1))
    box_b = np.transpose(box_b, (1, 0, 2))
    min_x = np.maximum(box_a[:, :, 0], box_b[:, :, 0])
    min_y = np.maximum(box_a[:, :, 1], box_b[:, :, 1])
    max_x = np.minimum(box_a[:, :, 2], box_b[:, :, 2])
    max_y = np.minimum(box_a[:, :, 3], box_b[:, :, 3])
    area_intersect = (np.maximum(0, max_x - min_x + 1) * np.maximum(0, max_y - min_y + 1))
    area_a = ((box_a[:, :, 2] - box_a[:, :, 0] + 1) * (box_a[:, :, 3] - box_a[:, :, 1] + 1))
    area_b = ((box_b[:, :, 2] - box_b[:, :, 0] + 1) * (box_b[:, :, 3] - box_b[:, :, 1] + 1))
    denominator = area_a + area_b - area_intersect
    degenerate_indices = np.where(denominator <= 0)
    denominator[degenerate_indices] = 1
    ious = area_intersect / denominator
    ious[degenerate_indices] = 0
    return ious


def compute_bboxes_from_scoremaps(scoremap, scoremap_threshold_list, multi_contour_eval=False):
    if scoremap.ndim != 2 or (scoremap > 1).any() or (scoremap < 0).any() or np.isnan(scoremap).any():
        raise ValueError("Scoremap must be 2D in [0, 1].")
    height, width = scoremap.shape
    scoremap_image = np.expand_dims((scoremap * 255).astype(np.uint8), 2)

    def scoremap2bbox(threshold):
        _, thr_gray_heatmap = cv2.threshold(
            src=scoremap_image,
            thresh=int(threshold * np.max(scoremap_image)),
            maxval=255,
            type=cv2.THRESH_BINARY)
        contours = cv2.findContours(
            image=thr_gray_heatmap,
            mode=cv2.RETR_TREE,
            method=cv2.CHAIN_APPROX_SIMPLE)[_CONTOUR_INDEX]

        if len(contours) == 0:
            return np.asarray([[0, 0, 0, 0]]), 1

        if not multi_contour_eval:
            contours = [max(contours, key=cv2.contourArea)]

        estimated_boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            x0, y0, x1, y1 = x, y, x + w, y + h
            x1 = min(x1, width - 1)
            y1 = min(y1, height - 1)
            estimated_boxes.append([x0, y0, x1, y1])

        return np.asarray(estimated_boxes), len(contours)

    estimated_boxes_at_each_thr = []
    number_of_box_list = []
    for threshold in scoremap_threshold_list:
        boxes, number_of_box = scoremap2bbox(threshold)
        estimated_boxes_at_each_thr.append(boxes)
        number_of_box_list.append(number_of_box)

    return estimated_boxes_at_each_thr, number_of_box_list


class BoxEvaluator:
    """`BoxEvaluator` with boxes given per call: `accumulate(scoremap, gt_boxes)`, `compute()`."""

    def __init__(self, cam_threshold_list, iou_threshold_list, multi_contour_eval):
        self.cam_threshold_list = cam_threshold_list
        self.iou_threshold_list = iou_threshold_list
        self.multi_contour_eval = multi_contour_eval
        self.cnt = 0
        self.num_correct = {iou_threshold: np.zeros(len(self.cam_threshold_list))
                            for iou_threshold in self.iou_threshold_list}

    def accumulate(self, scoremap, gt_boxes):
        boxes_at_thresholds, number_of_box_list = compute_bboxes_from_scoremaps(
            scoremap=scoremap,
            scoremap_threshold_list=self.cam_threshold_list,
            multi_contour_eval=self.multi_contour_eval)

        boxes_at_thresholds = np.concatenate(boxes_at_thresholds, axis=0)

        multiple_iou = calculate_multiple_iou(np.array(boxes_at_thresholds), np.array(gt_boxes))

        idx = 0
        sliced_multiple_iou = []
        for nr_box in number_of_box_list:
            sliced_multiple_iou.append(max(multiple_iou.max(1)[idx:idx + nr_box]))
            idx += nr_box

        for _THRESHOLD in self.iou_threshold_list:
            correct_threshold_indices = np.where(np.asarray(sliced_multiple_iou) >= (_THRESHOLD / 100))[0]
            self.num_correct[_THRESHOLD][correct_threshold_indices] += 1
        self.cnt += 1

    def compute(self):
        max_box_acc = []
        for _THRESHOLD in self.iou_threshold_list:
            localization_accuracies = self.num_correct[_THRESHOLD] * 100. / float(self.cnt)
            max_box_acc.append(localization_accuracies.max())
        return max_box_acc


def evaluate(maps, gt_boxes, iou_threshold_list=(30, 50, 70), cam_curve_interval=0.001,
             multi_contour_eval=True):
    """Runs the evaluator over `maps` [B, H, W] in [0, 1] and x0y0x1y1 `gt_boxes` (a list of [k_i, 4]).

    Returns:
        (max_box_acc in percent per IoU threshold, best cam threshold per IoU threshold, the evaluator).
    """
    cam_threshold_list = list(np.arange(0, 1, cam_curve_interval))  # As `evaluate_wsol` builds it.
    evaluator = BoxEvaluator(cam_threshold_list, list(iou_threshold_list), multi_contour_eval)
    for scoremap, boxes in zip(maps, gt_boxes):
        evaluator.accumulate(np.asarray(scoremap), np.asarray(boxes))
    accuracies = evaluator.compute()
    best = [cam_threshold_list[int(np.argmax(evaluator.num_correct[t]))] for t in iou_threshold_list]
    return accuracies, best, evaluator
