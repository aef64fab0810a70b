"""Independent NumPy implementations of CutMix (Algorithm A1), MixUp and Cutout, given a drawn mix.

The mixing tests compare keras_cutmix against these functions. Nothing here imports keras_cutmix or
TensorFlow: each function is written from the papers' description (Yun et al. 2019, Algorithm A1 and
`rand_bbox` in the official code; Zhang et al. 2018; DeVries & Taylor 2017) with the conventions of
/tmp/MIXING_API.md: boxes are integer (y0, x0, y1, x1), end-exclusive; the box side is
floor(sqrt(1 - lam) * side), y0 = cy - bh // 2, y1 = y0 + bh, clipped to [0, H]; the label weight of each
sample's own label is 1 - pasted_area / (H * W).
"""

import numpy as np
import tensorflow as tf


def one_hot(labels, num_classes):
    """Integer labels [B] (or [B, 1]) -> float32 one-hot [B, K]."""
    labels = np.asarray(labels).reshape(-1)
    out = np.zeros((labels.shape[0], num_classes), np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def smooth(labels, label_smoothing):
    """Label smoothing as in Szegedy et al.: (1 - eps) * y + eps / K."""
    labels = np.asarray(labels, np.float64)
    return labels * (1.0 - label_smoothing) + label_smoothing / labels.shape[1]


def box_rule(lam, centre_y, centre_x, height, width):
    """The CutMix box for a drawn lambda and centre pixel, in float32 arithmetic like a float32 lambda.

    Args:
        lam: float32 array [N], the Beta draw.
        centre_y, centre_x: int arrays [N], the centre pixel.
        height, width: Image size.

    Returns:
        int64 array [N, 4] (y0, x0, y1, x1), clipped to the image.
    """
    lam = np.asarray(lam, np.float32)
    cut_ratio = np.sqrt(np.float32(1.0) - lam).astype(np.float32)
    box_h = np.floor(cut_ratio * np.float32(height)).astype(np.int64)
    box_w = np.floor(cut_ratio * np.float32(width)).astype(np.int64)
    return centred_box_rule(centre_y, centre_x, box_h, box_w, height, width)


def centred_box_rule(centre_y, centre_x, box_h, box_w, height, width):
    """Boxes of sides (box_h, box_w) starting at centre - side // 2, clipped: int64 [N, 4]."""
    centre_y, centre_x = np.asarray(centre_y, np.int64), np.asarray(centre_x, np.int64)
    box_h = np.broadcast_to(np.asarray(box_h, np.int64), centre_y.shape)
    box_w = np.broadcast_to(np.asarray(box_w, np.int64), centre_x.shape)
    y0 = centre_y - box_h // 2
    x0 = centre_x - box_w // 2
    y1, x1 = y0 + box_h, x0 + box_w
    return np.stack(
        [np.clip(y0, 0, height), np.clip(x0, 0, width), np.clip(y1, 0, height), np.clip(x1, 0, width)],
        axis=-1,
    )


def centre_pixels(u, height, width):
    """Centre pixels from uniforms u [N, 2] in (0, 1): floor(u * side), in float32 like the draw."""
    u = np.asarray(u, np.float32)
    cy = np.minimum(np.floor(u[:, 0] * np.float32(height)).astype(np.int64), height - 1)
    cx = np.minimum(np.floor(u[:, 1] * np.float32(width)).astype(np.int64), width - 1)
    return cy, cx


def box_mask(box, height, width):
    """Boolean [H, W] mask of one box (y0, x0, y1, x1), built with slicing (not comparisons)."""
    mask = np.zeros((height, width), bool)
    y0, x0, y1, x1 = (int(v) for v in box)
    mask[y0:y1, x0:x1] = True
    return mask


def _to_channels_last(images, data_format):
    images = np.asarray(images)
    if images.ndim == 4 and data_format == "channels_first":
        return images.transpose(0, 2, 3, 1)
    return images


def _from_channels_last(images, data_format):
    if images.ndim == 4 and data_format == "channels_first":
        return images.transpose(0, 3, 1, 2)
    return images


def paste(images, permutation, boxes, data_format="channels_last"):
    """Algorithm A1's image step, one sample at a time: x[b][box_b] = x[perm[b]][box_b].

    Works for [B, H, W, C], [B, C, H, W] (channels_first) and masks [B, H, W]. `boxes` is [B, 4] or [1, 4].
    """
    source = _to_channels_last(images, data_format)
    out = source.copy()
    boxes = np.asarray(boxes)
    for b in range(source.shape[0]):
        y0, x0, y1, x1 = (int(v) for v in boxes[b if boxes.shape[0] > 1 else 0])
        out[b, y0:y1, x0:x1] = source[int(permutation[b]), y0:y1, x0:x1]
    return _from_channels_last(out, data_format)


def erase(images, boxes, fill_value=0, data_format="channels_last"):
    """Cutout's image step: x[b][box_b] = fill_value."""
    out = _to_channels_last(images, data_format).copy()
    for b, box in enumerate(np.asarray(boxes)):
        y0, x0, y1, x1 = (int(v) for v in box)
        out[b, y0:y1, x0:x1] = fill_value
    return _from_channels_last(out, data_format)


def kept_fraction(boxes, height, width):
    """lambda = 1 - area / (H * W) for integer boxes [B, 4], in float64."""
    boxes = np.asarray(boxes, np.int64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return 1.0 - area / float(height * width)


def mix(labels, permutation, lam):
    """lam * y + (1 - lam) * y[perm], in float64."""
    labels = np.asarray(labels, np.float64)
    lam = np.asarray(lam, np.float64).reshape(-1, 1)
    return lam * labels + (1.0 - lam) * labels[np.asarray(permutation)]


def cutmix(images, labels, permutation, boxes, data_format="channels_last"):
    """Algorithm A1 given the drawn partners and integer boxes.

    Returns:
        `(images, labels, lam)`: pasted images (same dtype), mixed float64 labels (or None) and the
        float64 label weight of each sample's own label, computed here from the box area.
    """
    images = np.asarray(images)
    if data_format == "channels_first":
        height, width = images.shape[2], images.shape[3]
    else:
        height, width = images.shape[1], images.shape[2]
    boxes = np.broadcast_to(np.asarray(boxes), (images.shape[0], 4))
    lam = kept_fraction(boxes, height, width)
    out_labels = None if labels is None else mix(labels, permutation, lam)
    return paste(images, permutation, boxes, data_format), out_labels, lam


def blend(images, permutation, lam):
    """MixUp's image step in float64: lam * x + (1 - lam) * x[perm] (not rounded)."""
    images = np.asarray(images, np.float64)
    lam = np.asarray(lam, np.float64).reshape(-1, *([1] * (images.ndim - 1)))
    return lam * images + (1.0 - lam) * images[np.asarray(permutation)]


def sample_cutmix_boxes(rng, count, height, width, alpha):
    """Monte Carlo of the paper's sampler: lam ~ np.random.beta, uniform centre pixel, box rule, clip.

    Returns:
        `(boxes int64 [count, 4], lam float64 [count])` with lam the exact kept fraction of each box.
    """
    lam = rng.beta(alpha, alpha, size=count)
    cy = rng.integers(0, height, size=count)
    cx = rng.integers(0, width, size=count)
    cut_ratio = np.sqrt(1.0 - lam)
    box_h = np.floor(cut_ratio * height).astype(np.int64)
    box_w = np.floor(cut_ratio * width).astype(np.int64)
    boxes = centred_box_rule(cy, cx, box_h, box_w, height, width)
    return boxes, kept_fraction(boxes, height, width)


def changed_rectangle(before, after, data_format="channels_last"):
    """Which pixels of one image changed (any channel), and whether they form one filled rectangle.

    Args:
        before, after: One image [H, W, C] (or [C, H, W] for channels_first, or [H, W]).

    Returns:
        `(count, box)`: the number of changed pixels, and the bounding box (y0, x0, y1, x1) of the
        changed pixels, or None if none changed. Raises AssertionError if they are not a rectangle.
    """
    before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
    changed = before != after
    if changed.ndim == 3:
        changed = changed.any(axis=0 if data_format == "channels_first" else -1)
    count = int(changed.sum())
    if count == 0:
        return 0, None
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    assert changed[box[0]:box[2], box[1]:box[3]].all() and count == (box[2] - box[0]) * (box[3] - box[1]), (
        f"changed pixels do not form one rectangle: {count} pixels, bounding box {box}"
    )
    return count, box


def as_dtype(images, dtype):
    """A NumPy batch as a tensor of `dtype` (via float32)."""
    return tf.cast(tf.constant(images, tf.float32), dtype)


def np_value(tensor):
    """A tensor of any dtype as float64 NumPy, for exact comparisons."""
    return tf.cast(tensor, tf.float64).numpy()
