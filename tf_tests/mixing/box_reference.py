"""Independent NumPy reference of the bounding-box rules of CutMix, MixUp and Cutout, given a drawn mix.

Written from the SPEC text (issue 8), not from `keras_cutmix.mixing.boxes`: plain Python loops over one box
at a time. Boxes are pixel (y0, x0, y1, x1) floats ("yxyx"), rectangles `R` are the mix's integer
(y0, x0, y1, x1), end-exclusive; rows with label -1 are padding.

Per output image i, partner j = permutation[i], rectangle R = rects[i]:
- CutMix partner boxes (of image j): clipped to R; kept iff visible = area(box & R) / area(box) >=
  min_visibility, visible > 0 and both sides of the clipped box >= min_size.
- CutMix own boxes and Cutout boxes: visible = 1 - area(box & R) / area(box); kept iff visible >=
  min_visibility and visible > 0. R spanning the full height and covering the left end (R.x0 <= b.x0)
  moves x0 to R.x1 (covering the right end: x1 = R.x0), transposed for the full width. A clipped box must
  keep both sides >= min_size; an unchanged one is not size-checked. Zero-area boxes are dropped.
- MixUp: own boxes with weight w = mix_weight[i], the partner's with 1 - w; weight 0 dropped.
- Output: own kept boxes, then the partner's, in input order; padded (label -1, zero box, weight 0) or cut
  to max_boxes.
"""

import numpy as np


def box_dict(boxes, labels):
    """`{"boxes": float32 [B, N, 4], "labels": int32 [B, N]}` from nested lists."""
    return {"boxes": np.asarray(boxes, np.float32).reshape(len(labels), -1, 4),
            "labels": np.asarray(labels, np.int32).reshape(len(labels), -1)}


def _area(box):
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _meet(box, rect):
    low = (max(box[0], rect[0]), max(box[1], rect[1]))
    high = (max(min(box[2], rect[2]), low[0]), max(min(box[3], rect[3]), low[1]))
    return (low[0], low[1], high[0], high[1])


def _ratio(numerator, denominator):
    """float32 ratio (the rule compares fractions in float32), 0 for a zero denominator."""
    if denominator == 0:
        return np.float32(0.0)
    return np.float32(numerator) / np.float32(denominator)


def _sides_ok(box, min_size):
    return box[2] - box[0] >= min_size and box[3] - box[1] >= min_size


def partner_rule(box, rect, min_visibility, min_size):
    """A partner box under CutMix: `(clipped box, kept)`."""
    clipped = _meet(box, rect)
    visible = _ratio(_area(clipped), _area(box))
    kept = visible >= np.float32(min_visibility) and visible > 0 and _sides_ok(clipped, min_size)
    return clipped, bool(kept)


def own_rule(box, rect, min_visibility, min_size):
    """An own box under CutMix (or a Cutout box): `(box after clipping, kept)`."""
    y0, x0, y1, x1 = box
    ry0, rx0, ry1, rx1 = rect
    area = _area(box)
    hidden = _area(_meet(box, rect))
    visible = _ratio(area - hidden, area)
    new = [y0, x0, y1, x1]
    if hidden > 0:
        if ry0 <= y0 and ry1 >= y1:  # R spans the full height
            if rx0 <= x0:
                new[1] = rx1
            if rx1 >= x1:
                new[3] = rx0
        if rx0 <= x0 and rx1 >= x1:  # R spans the full width
            if ry0 <= y0:
                new[0] = ry1
            if ry1 >= y1:
                new[2] = ry0
    changed = tuple(new) != tuple(box)
    kept = visible >= np.float32(min_visibility) and visible > 0 and (not changed or _sides_ok(new, min_size))
    return tuple(new), bool(kept)


def _pack(rows, max_boxes, weighted):
    boxes = np.zeros((max_boxes, 4), np.float32)
    labels = np.full((max_boxes,), -1, np.int32)
    weights = np.zeros((max_boxes,), np.float32)
    for k, (box, label, weight) in enumerate(rows[:max_boxes]):
        boxes[k], labels[k], weights[k] = box, label, weight
    return (boxes, labels, weights) if weighted else (boxes, labels)


def _stack(per_image):
    return tuple(np.stack(parts) for parts in zip(*per_image))


def cutmix(boxes, labels, permutation, rects, min_visibility=0.5, min_size=1.0, max_boxes=None):
    """Reference CutMix boxes: `(boxes [B, M, 4], labels [B, M])`, pixel yxyx, padding zeros / -1."""
    boxes, labels = np.asarray(boxes, np.float64), np.asarray(labels)
    max_boxes = max_boxes or 2 * labels.shape[1]
    out = []
    for i, j in enumerate(np.asarray(permutation)):
        rect = tuple(float(v) for v in np.asarray(rects)[i])
        rows = []
        for box, label in zip(boxes[i], labels[i]):
            new, kept = own_rule(tuple(box), rect, min_visibility, min_size)
            if label != -1 and kept:
                rows.append((new, label, 1.0))
        for box, label in zip(boxes[j], labels[j]):
            new, kept = partner_rule(tuple(box), rect, min_visibility, min_size)
            if label != -1 and kept:
                rows.append((new, label, 1.0))
        out.append(_pack(rows, max_boxes, weighted=False))
    return _stack(out)


def cutout(boxes, labels, rects, min_visibility=0.5, min_size=1.0, max_boxes=None):
    """Reference Cutout boxes: `(boxes [B, M, 4], labels [B, M])`."""
    boxes, labels = np.asarray(boxes, np.float64), np.asarray(labels)
    max_boxes = max_boxes or labels.shape[1]
    out = []
    for i in range(labels.shape[0]):
        rect = tuple(float(v) for v in np.asarray(rects)[i])
        rows = []
        for box, label in zip(boxes[i], labels[i]):
            new, kept = own_rule(tuple(box), rect, min_visibility, min_size)
            if label != -1 and kept:
                rows.append((new, label, 1.0))
        out.append(_pack(rows, max_boxes, weighted=False))
    return _stack(out)


def mixup(boxes, labels, permutation, mix_weight, max_boxes=None):
    """Reference MixUp boxes: `(boxes [B, M, 4], labels [B, M], weights [B, M])`."""
    boxes, labels = np.asarray(boxes, np.float32), np.asarray(labels)
    max_boxes = max_boxes or 2 * labels.shape[1]
    out = []
    for i, j in enumerate(np.asarray(permutation)):
        w = np.float32(np.asarray(mix_weight)[i])
        rows = [(b, l, w) for b, l in zip(boxes[i], labels[i]) if l != -1 and w > 0]
        rows += [(b, l, np.float32(1) - w) for b, l in zip(boxes[j], labels[j]) if l != -1 and 1 - w > 0]
        out.append(_pack(rows, max_boxes, weighted=True))
    return _stack(out)


def random_boxes(rng, batch, count, height, width, pad_fraction=0.2):
    """Random integer pixel boxes [B, N, 4] (yxyx, inside the image, some on the borders) and labels [B, N].

    Labels are unique ids `b * count + n` (padding rows: label -1, box -1 or 0).
    """
    y = np.sort(rng.integers(0, height + 1, size=(batch, count, 2)), axis=-1)
    x = np.sort(rng.integers(0, width + 1, size=(batch, count, 2)), axis=-1)
    boxes = np.stack([y[..., 0], x[..., 0], y[..., 1], x[..., 1]], axis=-1).astype(np.float32)
    labels = (np.arange(batch)[:, None] * count + np.arange(count)[None, :]).astype(np.int32)
    padding = rng.random((batch, count)) < pad_fraction
    labels[padding] = -1
    boxes[padding] = rng.choice([-1.0, 0.0])
    return boxes, labels
