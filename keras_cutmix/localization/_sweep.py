"""Best box IoU at every threshold level of uint8 maps, in one pass per map (the engine of `max_box_acc`).

wsolevaluation thresholds a uint8 map at each CAM threshold and runs OpenCV's `findContours`, about 1,000
times per map. A uint8 map has at most 255 foreground sets `image > level` (level 0..254), and as the level
falls regions only grow and merge. So one sweep from the top level down, merging 8-connected regions with a
union-find, gives every region's bounding box at every level; a second sweep from the bottom up over the
background (4-connected, the dual of 8-connected foreground) gives the holes, whose contours OpenCV also
returns (`RETR_TREE`). The union-find is compiled with numba (over 10x the OpenCV loop:
`benchmarks/localization.py`).

What OpenCV returns, checked against `cv2.findContours` on random binary images: one outer contour per
8-connected foreground region, whose bounding rect is the region's pixel box, and one contour per hole (a
4-connected background region that does not reach the image border), whose bounding rect is the hole's
pixel box grown by one pixel on every side.
"""

import numba
import numpy as np

NUM_LEVELS = 255  # Foreground `image > level` for level 0..254; level 255 is always empty.


@numba.njit(cache=True)
def _best_iou(x0, y0, x1, y1, gt_boxes, gt_valid):
    """wsolevaluation's IoU (`calculate_multiple_iou`, `+ 1` areas) of one x0y0x1y1 box, best over gt boxes."""
    best = 0.0
    for k in range(gt_boxes.shape[0]):
        if not gt_valid[k]:
            continue
        gx0, gy0, gx1, gy1 = gt_boxes[k, 0], gt_boxes[k, 1], gt_boxes[k, 2], gt_boxes[k, 3]
        inter = max(0, min(x1, gx1) - max(x0, gx0) + 1) * max(0, min(y1, gy1) - max(y0, gy0) + 1)
        denominator = (x1 - x0 + 1) * (y1 - y0 + 1) + (gx1 - gx0 + 1) * (gy1 - gy0 + 1) - inter
        if denominator > 0 and inter / denominator > best:
            best = inter / denominator
    return best


@numba.njit(cache=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # Path halving.
        x = parent[x]
    return x


@numba.njit(cache=True)
def _union(parent, size, box, area, first, border, a, b):
    """Merges the regions of roots a != b into the larger one's root, which it returns."""
    if size[a] < size[b]:
        a, b = b, a
    parent[b] = a
    size[a] += size[b]
    box[a, 0] = min(box[a, 0], box[b, 0])
    box[a, 1] = min(box[a, 1], box[b, 1])
    box[a, 2] = max(box[a, 2], box[b, 2])
    box[a, 3] = max(box[a, 3], box[b, 3])
    area[a] += area[b]
    first[a] = min(first[a], first[b])
    border[a] = border[a] or border[b]
    return a


@numba.njit(cache=True)
def _sweep_map(image, gt_boxes, gt_valid, foreground, multi_contour, scores):
    """One map's sweep; writes the best IoU at each level into `scores` [NUM_LEVELS].

    foreground=True: regions of `image > level` (8-connected), levels from the top down; scores the boxes
    of all regions (multi_contour) or of the region of largest outer-polygon area (OpenCV's `contourArea`:
    every 2x2 block of pixel centres with 4 pixels in the region, and half of each block with 3, the
    diagonal step cutting it in two; holes are not added back), ties to the region that starts last in
    raster order, which OpenCV lists first. Levels with no region keep their value.
    foreground=False: holes, 4-connected regions of `image <= level` off the border, levels from the bottom
    up; scores their boxes grown by one pixel (each level keeps its value where it has no hole).
    """
    height, width = image.shape
    flat = image.ravel()
    n = flat.size
    starts = np.zeros(257, np.int64)
    for p in range(n):
        starts[flat[p] + 1] += 1
    starts = np.cumsum(starts)
    order = np.empty(n, np.int64)  # Pixels sorted by value (counting sort).
    fill = starts[:-1].copy()
    for p in range(n):
        order[fill[flat[p]]] = p
        fill[flat[p]] += 1
    parent = np.arange(n).astype(np.int32)
    size = np.ones(n, np.int32)
    box = np.empty((n, 4), np.int32)  # Inclusive pixel box of each root: y0, x0, y1, x1.
    area = np.zeros(n)
    first = np.arange(n)  # The region's first pixel in raster order.
    border = np.zeros(n, np.bool_)
    inside = np.zeros(n, np.bool_)
    blocks = np.zeros(n, np.int8)  # Pixels in the region set of the 2x2 block anchored at each pixel.
    iou = np.zeros(n)
    dirty = np.zeros(n, np.bool_)
    live = np.empty(n, np.int64)
    num_live = 0
    if foreground:
        dys = np.array([-1, -1, -1, 0, 0, 1, 1, 1])
        dxs = np.array([-1, 0, 1, -1, 1, -1, 0, 1])
    else:
        dys = np.array([-1, 0, 0, 1])
        dxs = np.array([0, -1, 1, 0])
    for step in range(NUM_LEVELS):
        level = NUM_LEVELS - 1 - step if foreground else step
        value = level + 1 if foreground else level  # The pixels that join the set at this level.
        for i in range(starts[value], starts[value + 1]):
            p = order[i]
            y, x = p // width, p % width
            inside[p] = True
            box[p, 0], box[p, 1], box[p, 2], box[p, 3] = y, x, y, x
            border[p] = y == 0 or x == 0 or y == height - 1 or x == width - 1
            live[num_live] = p
            num_live += 1
            root = p
            for k in range(dys.size):
                ny, nx = y + dys[k], x + dxs[k]
                if 0 <= ny < height and 0 <= nx < width and inside[ny * width + nx]:
                    other = _find(parent, ny * width + nx)
                    if other != root:
                        root = _union(parent, size, box, area, first, border, root, other)
            if foreground and not multi_contour:
                for ay in range(max(y - 1, 0), min(y, height - 2) + 1):
                    for ax in range(max(x - 1, 0), min(x, width - 2) + 1):
                        blocks[ay * width + ax] += 1
                        if blocks[ay * width + ax] >= 3:
                            area[root] += 0.5
        for i in range(starts[value], starts[value + 1]):
            dirty[_find(parent, order[i])] = True
        kept = 0
        best = -1.0
        best_area = -1.0
        best_first = -1
        for j in range(num_live):
            r = live[j]
            if parent[r] != r:
                continue
            live[kept] = r
            kept += 1
            if dirty[r]:
                dirty[r] = False
                y0, x0, y1, x1 = box[r, 0], box[r, 1], box[r, 2], box[r, 3]
                if foreground:
                    iou[r] = _best_iou(x0, y0, min(x1 + 1, width - 1), min(y1 + 1, height - 1), gt_boxes, gt_valid)
                elif border[r]:
                    iou[r] = -1.0
                else:
                    iou[r] = _best_iou(x0 - 1, y0 - 1, min(x1 + 2, width - 1), min(y1 + 2, height - 1), gt_boxes,
                                       gt_valid)
            if not foreground or multi_contour:
                best = max(best, iou[r])
            elif area[r] > best_area or (area[r] == best_area and first[r] > best_first):
                best, best_area, best_first = iou[r], area[r], first[r]
        num_live = kept
        if best >= 0:
            scores[level] = max(scores[level], best) if not foreground else best


@numba.njit(cache=True)
def _level_scores(images, gt_boxes, gt_valid, multi_contour, fallback):
    scores = np.empty((images.shape[0], NUM_LEVELS))
    for b in range(images.shape[0]):
        scores[b] = fallback[b]
        _sweep_map(images[b], gt_boxes[b], gt_valid[b], True, multi_contour, scores[b])
        if multi_contour:
            _sweep_map(images[b], gt_boxes[b], gt_valid[b], False, multi_contour, scores[b])
    return scores


def level_scores(images, gt_boxes, gt_valid, multi_contour):
    """Best wsolevaluation IoU at every level of every uint8 map.

    Args:
        images: uint8 [B, H, W], the quantised maps.
        gt_boxes: int64 [B, K, 4] x0y0x1y1 gt boxes (wsolevaluation's convention), padded.
        gt_valid: bool [B, K].
        multi_contour: True: best IoU over all contours' boxes (MaxBoxAccV2); False: the box of the region
            whose outer contour has the largest polygon area (MaxBoxAcc), see `_sweep_map`.

    Returns:
        float64 [B, NUM_LEVELS]: at level L, the best IoU of the boxes of the foreground `image > L`; where
        that foreground is empty, the IoU of wsolevaluation's fallback box [0, 0, 0, 0].
    """
    images = np.ascontiguousarray(images, dtype=np.uint8)
    gt_boxes = np.ascontiguousarray(gt_boxes, dtype=np.int64)
    gt_valid = np.ascontiguousarray(gt_valid, dtype=np.bool_)
    fallback = np.array([_best_iou(0, 0, 0, 0, g, v) for g, v in zip(gt_boxes, gt_valid)], dtype=np.float64)
    return _level_scores(images, gt_boxes, gt_valid, bool(multi_contour), fallback)
