"""Independent references for the localization tests: a hand-written flood fill and random test maps.

Nothing here imports keras_cutmix or scipy, so the box rule is checked against code that shares none of its
parts.
"""

import collections

import numpy as np


def reference_box(score_map, threshold):
    """The paper's box by breadth-first flood fill: [ymin, xmin, ymax, xmax], max exclusive.

    Regions are visited from their first pixel in raster order; a later region replaces the kept one only
    when strictly larger, so the first wins ties.
    """
    height, width = score_map.shape
    foreground = score_map > threshold * score_map.max()
    seen = np.zeros_like(foreground)
    best_size, best_box = 0, [0, 0, 0, 0]
    for y in range(height):
        for x in range(width):
            if not foreground[y, x] or seen[y, x]:
                continue
            seen[y, x] = True
            queue = collections.deque([(y, x)])
            size, box = 0, [y, x, y, x]
            while queue:
                cy, cx = queue.popleft()
                size += 1
                box = [min(box[0], cy), min(box[1], cx), max(box[2], cy), max(box[3], cx)]
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = cy + dy, cx + dx
                        if 0 <= ny < height and 0 <= nx < width and foreground[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            queue.append((ny, nx))
            if size > best_size:
                best_size, best_box = size, [box[0], box[1], box[2] + 1, box[3] + 1]
    return best_box


def blob_maps(rng, count, height, width, max_blobs=6, dtype=np.float32):
    """Smooth maps in [0, 1]: sums of Gaussian bumps, some negative (which carve holes and saddles)."""
    yy, xx = np.mgrid[:height, :width]
    maps = []
    for _ in range(count):
        score = np.zeros((height, width))
        for _ in range(rng.integers(1, max_blobs + 1)):
            cy, cx = rng.uniform(-2, height + 2), rng.uniform(-2, width + 2)
            sigma = rng.uniform(0.8, max(1.0, min(height, width) / 3))
            score += rng.uniform(-0.6, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma ** 2))
        span = score.max() - score.min()
        maps.append((score - score.min()) / span if span > 0 else np.zeros_like(score))
    return np.stack(maps).astype(dtype)


def ring_maps(rng, count, height, width, dtype=np.float32):
    """Rings (a map with a hole around its centre) plus noise: the maps whose holes OpenCV reports."""
    yy, xx = np.mgrid[:height, :width]
    maps = []
    for _ in range(count):
        cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width
        radius = rng.uniform(0.2, 0.4) * min(height, width)
        dist = np.sqrt((yy - cy) ** 2 + ((xx - cx) * rng.uniform(0.7, 1.4)) ** 2)
        score = np.exp(-((dist - radius) ** 2) / (2 * rng.uniform(1, 3) ** 2)) + 0.2 * rng.random((height, width))
        maps.append((score - score.min()) / (score.max() - score.min()))
    return np.stack(maps).astype(dtype)


def random_gt_boxes(rng, count, height, width, max_boxes=3):
    """A list of int arrays [k, 4] of non-empty [ymin, xmin, ymax, xmax] boxes, max exclusive."""
    result = []
    for _ in range(count):
        boxes = []
        for _ in range(rng.integers(1, max_boxes + 1)):
            y0, y1 = np.sort(rng.choice(height + 1, 2, replace=False))
            x0, x1 = np.sort(rng.choice(width + 1, 2, replace=False))
            boxes.append([y0, x0, y1, x1])
        result.append(np.array(boxes, dtype=np.int64))
    return result


def to_wsol(boxes):
    """Our [ymin, xmin, ymax, xmax) boxes to wsolevaluation's inclusive x0y0x1y1, pixel for pixel."""
    boxes = np.asarray(boxes)
    return np.stack([boxes[:, 1], boxes[:, 0], boxes[:, 3] - 1, boxes[:, 2] - 1], axis=1)
