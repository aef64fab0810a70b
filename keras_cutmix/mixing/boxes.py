"""Bounding boxes through CutMix, MixUp and Cutout: parse, the visibility rule, compaction, pack.

Input, as Keras preprocessing layers take it: a dict with `"images"` and `"bounding_boxes": {"boxes":
[B, N, 4], "labels": [B, N]}`, rows with label -1 being padding, in any of Keras's box formats
(`bounding_box_format`, converted with `keras.utils.bounding_boxes.convert_format`). Inside, boxes are float32
pixel `[y0, x0, y1, x1]`; they go back to the caller's format on the way out.

The rules, per output image `i` (whose partner is `j = permutation[i]` and pasted or erased rectangle `R`):
- CutMix, the partner's boxes: clipped to `R`; kept when the fraction of the box inside `R` is at least
  `min_visibility` (and not 0) and both sides of the clipped box are at least `min_size` pixels.
- CutMix, the image's own boxes, and Cutout's boxes: they lose the area under `R`; kept when the visible
  fraction `1 - area(box & R) / area(box)` is at least `min_visibility` (and not 0). Where the visible part
  is a rectangle (`R` spans the box in one direction and covers one end of it in the other), the box is
  clipped to it and must then keep both sides of at least `min_size`; other boxes keep their extent.
  Boxes `R` does not touch are kept unchanged, and zero-area boxes are dropped.
- MixUp: both images' boxes, each with the blend weight of its image (`"box_weights"`: `w` for the own
  boxes, `1 - w` for the partner's, as detection MixUp, Zhang et al. 2019); boxes of weight 0 (an image
  that is not mixed) are dropped.

Output: `{"boxes": [B, M, 4], "labels": [B, M]}` (and `"box_weights"` float32 [B, M] from MixUp), own kept
boxes first, then the partner's, each in input order; padded with label -1 and zero boxes (weight 0) to
`M = max_boxes`, which defaults to 2N for CutMix and MixUp and N for Cutout; boxes past `max_boxes` are
dropped. A fixed M keeps shapes static for XLA and `tf.data` batching.

Checks: a box outside the image or inverted (`y1 < y0`) raises `tf.errors.InvalidArgumentError` eagerly and
in graphs and `tf.data` (XLA drops assertions: there boxes are not checked).

References:
    - [Yun et al., 2019](https://arxiv.org/abs/1905.04899); [Zhang et al., 2019, Bag of Freebies for
      Training Object Detection Neural Networks](https://arxiv.org/abs/1902.04103) (detection MixUp).
"""

from typing import NamedTuple, Optional

import keras
import tensorflow as tf

from keras_cutmix import compat
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import labels as label_lib

BOXES = "boxes"
LABELS = "labels"
WEIGHTS = "box_weights"
INTERNAL_FORMAT = "yxyx"


class BoxBatch(NamedTuple):
    """Boxes as float32 pixel [B, N, 4] (y0, x0, y1, x1), labels [B, N] (-1: padding), optional weights."""

    boxes: tf.Tensor
    labels: tf.Tensor
    weights: Optional[tf.Tensor] = None


def parse_boxes(data, images, rules, height, width):
    """The boxes of a mixing function's input as a pixel `BoxBatch`, or None if it has none.

    Args:
        data: The function's input: a dict (whose `"bounding_boxes"` are read) or a tensor (no boxes).
        images: The validated images tensor, of dynamic `height` and `width`.
        rules: The checked arguments (`core.Args`: `bounding_box_format`, `min_visibility`, ...).

    Returns:
        A `BoxBatch` whose boxes wait for the run-time checks, or None.
    """
    if not isinstance(data, dict) or data.get(inputs.BOXES_KEY) is None:
        return None
    bounding_boxes = data[inputs.BOXES_KEY]
    if rules.bounding_box_format is None:
        raise ValueError(errors.named(f"Expected `bounding_box_format` (e.g. 'xyxy', 'rel_yxyx') for a dict with "
                                      f"'{inputs.BOXES_KEY}'. Received: bounding_box_format=None"))
    if not isinstance(bounding_boxes, dict) or BOXES not in bounding_boxes or LABELS not in bounding_boxes:
        got = sorted(bounding_boxes) if isinstance(bounding_boxes, dict) else type(bounding_boxes).__name__
        raise ValueError(errors.named(f"Expected '{inputs.BOXES_KEY}' to be a dict with '{BOXES}' [B, N, 4] and "
                                      f"'{LABELS}' [B, N]. Received: {got}"))
    boxes = tf.convert_to_tensor(bounding_boxes[BOXES])
    labels = tf.convert_to_tensor(bounding_boxes[LABELS])
    if boxes.shape.rank != 3 or boxes.shape[-1] != 4 or labels.shape.rank != 2 or (
            None not in (boxes.shape[1], labels.shape[1]) and boxes.shape[1] != labels.shape[1]):
        raise ValueError(errors.named("Expected bounding boxes [B, N, 4] and box labels [B, N]. "
                                      f"Received: boxes.shape={boxes.shape}, labels.shape={labels.shape}"))
    checks = [inputs.check_batch_size("bounding_boxes", boxes, images),
              inputs.check_batch_size("bounding_boxes labels", labels, images)]
    pixels = keras.utils.bounding_boxes.convert_format(boxes, rules.bounding_box_format, INTERNAL_FORMAT,
                                                       height=height, width=width)
    valid = labels != -1
    y0, x0, y1, x1 = tf.unstack(pixels, axis=-1)
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    inside = (y0 >= 0) & (x0 >= 0) & (y1 <= h) & (x1 <= w) & (y1 >= y0) & (x1 >= x0)
    if not compat.in_xla_context():
        checks.append(tf.debugging.assert_equal(
            tf.reduce_all(inside | ~valid), True,
            message=errors.named("Expected every bounding box inside the image, with max >= min, in "
                                 f"bounding_box_format={rules.bounding_box_format!r} (padding rows have label -1).")))
    return BoxBatch(label_lib.wait_for(checks, pixels), labels)


def pack_boxes(box_batch, rules, height, width):
    """The output `{"boxes", "labels"[, "box_weights"]}` in the caller's format, for images of that size."""
    boxes = keras.utils.bounding_boxes.convert_format(box_batch.boxes, INTERNAL_FORMAT, rules.bounding_box_format,
                                                      height=height, width=width)
    valid = box_batch.labels != -1
    out = {BOXES: tf.where(valid[..., None], boxes, 0.0), LABELS: box_batch.labels}
    if box_batch.weights is not None:
        out[WEIGHTS] = box_batch.weights
    return out


def _area(boxes):
    return tf.maximum(boxes[..., 2] - boxes[..., 0], 0.0) * tf.maximum(boxes[..., 3] - boxes[..., 1], 0.0)


def _intersect(boxes, rects):
    """Boxes [B, N, 4] clipped to rectangles [B, 4] (float32 pixels); empty where they do not meet."""
    rects = rects[:, None, :]
    low = tf.maximum(boxes[..., :2], rects[..., :2])
    high = tf.maximum(tf.minimum(boxes[..., 2:], rects[..., 2:]), low)
    return tf.concat([low, high], axis=-1)


def _sides_at_least(boxes, min_size):
    return (boxes[..., 2] - boxes[..., 0] >= min_size) & (boxes[..., 3] - boxes[..., 1] >= min_size)


def pasted_boxes(boxes, rects, rules):
    """A partner's boxes [B, N, 4] clipped to the pasted rectangles [B, 4]: `(boxes, keep)`."""
    clipped = _intersect(boxes, rects)
    visible = tf.math.divide_no_nan(_area(clipped), _area(boxes))
    keep = (visible >= rules.min_visibility) & (visible > 0) & _sides_at_least(clipped, rules.min_size)
    return clipped, keep


def covered_boxes(boxes, rects, rules):
    """Boxes [B, N, 4] under rectangles [B, 4] that hide their pixels (own boxes in CutMix, Cutout).

    Returns:
        `(boxes, keep)`: each box clipped to its visible part where that part is a rectangle.
    """
    area = _area(boxes)
    hidden = _area(_intersect(boxes, rects))
    visible = tf.math.divide_no_nan(area - hidden, area)
    by0, bx0, by1, bx1 = tf.unstack(boxes, axis=-1)
    ry0, rx0, ry1, rx1 = tf.unstack(rects[:, None, :], axis=-1)
    spans_rows = (ry0 <= by0) & (ry1 >= by1)
    spans_cols = (rx0 <= bx0) & (rx1 >= bx1)
    touched = hidden > 0
    # R spans the rows: it covers the left end (keep what is right of it) or the right end; and transposed.
    new_x0 = tf.where(touched & spans_rows & (rx0 <= bx0), tf.maximum(bx0, rx1), bx0)
    new_x1 = tf.where(touched & spans_rows & (rx1 >= bx1), tf.minimum(bx1, rx0), bx1)
    new_y0 = tf.where(touched & spans_cols & (ry0 <= by0), tf.maximum(by0, ry1), by0)
    new_y1 = tf.where(touched & spans_cols & (ry1 >= by1), tf.minimum(by1, ry0), by1)
    clipped = tf.stack([new_y0, new_x0, new_y1, new_x1], axis=-1)
    changed = tf.reduce_any(tf.not_equal(clipped, boxes), axis=-1)
    keep = (visible >= rules.min_visibility) & (visible > 0) & (~changed | _sides_at_least(clipped, rules.min_size))
    return clipped, keep


def compact(boxes, labels, keep, max_boxes, weights=None):
    """Moves kept boxes to the front (stable), pads or cuts to `max_boxes`; dropped rows become padding."""
    keep = keep & (labels != -1)
    order = tf.argsort(tf.cast(~keep, tf.int32), axis=-1, stable=True)
    pad = boxes.shape[1] is None or boxes.shape[1] < max_boxes

    def fit(rows):  # Rows [B, N, ...] in `order`, padded (an unknown N may exceed max_boxes), cut to max_boxes.
        rows = tf.gather(rows, order, axis=1, batch_dims=1)
        if pad:
            extra = tf.maximum(max_boxes - tf.shape(rows)[1], 0)
            rows = tf.pad(rows, [[0, 0], [0, extra]] + [[0, 0]] * (rows.shape.rank - 2))
        return rows[:, :max_boxes]

    keep = fit(keep)  # False on padding rows, whose labels become -1 and boxes and weights 0 below.
    weights = None if weights is None else tf.where(keep, fit(weights), 0.0)
    labels = tf.where(keep, fit(labels), tf.cast(-1, labels.dtype))
    return BoxBatch(tf.where(keep[..., None], fit(boxes), 0.0), labels, weights)


def output_size(box_batch, rules, sources):
    """`max_boxes`, or `sources` x N (N must then be known statically)."""
    if rules.max_boxes is not None:
        return rules.max_boxes
    count = box_batch.boxes.shape[1]
    if count is None:
        raise ValueError(errors.named("Expected `max_boxes` when the number of boxes per image is not known "
                                      f"statically. Received: boxes.shape={box_batch.boxes.shape}, max_boxes=None"))
    return sources * count


def cutmix_boxes(box_batch, mix, rules):
    """CutMix's boxes: own boxes covered by the pasted rectangle, then the partner's clipped to it."""
    rects = tf.cast(mix["boxes"], tf.float32)
    own, keep_own = covered_boxes(box_batch.boxes, rects, rules)
    partner = tf.gather(box_batch.boxes, mix["permutation"])
    partner_labels = tf.gather(box_batch.labels, mix["permutation"])
    pasted, keep_pasted = pasted_boxes(partner, rects, rules)
    return compact(tf.concat([own, pasted], 1), tf.concat([box_batch.labels, partner_labels], 1),
                   tf.concat([keep_own, keep_pasted], 1), output_size(box_batch, rules, 2))


def mixup_boxes(box_batch, mix, rules):
    """MixUp's boxes: both images' boxes, weighted by their image's blend weight."""
    weight = tf.cast(mix["mix_weight"], tf.float32)[:, None]
    count = tf.shape(box_batch.labels)[1]
    weights = tf.concat([tf.tile(weight, [1, count]), tf.tile(1.0 - weight, [1, count])], axis=1)
    labels = tf.concat([box_batch.labels, tf.gather(box_batch.labels, mix["permutation"])], 1)
    boxes = tf.concat([box_batch.boxes, tf.gather(box_batch.boxes, mix["permutation"])], 1)
    return compact(boxes, labels, weights > 0, output_size(box_batch, rules, 2), weights)


def cutout_boxes(box_batch, mix, rules):
    """Cutout's boxes: each loses the erased area, by the rule of CutMix's own boxes."""
    boxes, keep = covered_boxes(box_batch.boxes, tf.cast(mix["boxes"], tf.float32), rules)
    return compact(boxes, box_batch.labels, keep, output_size(box_batch, rules, 1))
