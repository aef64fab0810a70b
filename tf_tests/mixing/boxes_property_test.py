"""The box rules read back from the pixels: what is visible of each box in the output image decides it.

Each input box gets its own channel: channel `b * N + n` of every image is 1 inside box n of image b (integer
"yxyx" pixel boxes, so counts are exact) and 0 elsewhere. After CutMix (or Cutout), output image i shows box
(b, n) exactly where that channel is 1. For every output image and every box of its own image and of its
partner, the test counts the visible pixels and checks, against `cutmix_fn` / `cutout_fn` over many random
batches (per-batch and per-sample CutMix, every fourth batch channels_first), boxes (some on the
borders, some of zero area) and `min_visibility` / `min_size`:
- a box is in the output iff its counted visible fraction is >= min_visibility and > 0, and (partner
  boxes always, own boxes when clipped) the sides of its output box are >= min_size;
- its output box is the SPEC's extent: for a partner box, the bounding box of its visible pixels; for an
  own box whose visible pixels form a rectangle, that rectangle; otherwise (hole, corner cut) its input box.
- the output lists own kept boxes, then the partner's, in input order, then padding.
The only thing read from the mix is the permutation (which image is the partner); images that are their
own partner are skipped (their pixels cannot tell own from pasted).
"""

import collections

import numpy as np
import pytest

import box_reference as ref
import keras_cutmix as kc

BATCH, COUNT, HEIGHT, WIDTH = 4, 4, 9, 11
BATCHES = 120


def _label_map(boxes, labels):
    """float32 [B, H, W, B * N]: channel b * N + n is 1 inside box n of image b (padding: all 0)."""
    images = np.zeros((BATCH, HEIGHT, WIDTH, BATCH * COUNT), np.float32)
    for b in range(BATCH):
        for n in range(COUNT):
            if labels[b, n] != -1:
                y0, x0, y1, x1 = boxes[b, n].astype(int)
                images[b, y0:y1, x0:x1, b * COUNT + n] = 1.0
    return images


def _visible(channel):
    """(count, bounding box (y0, x0, y1, x1) or None, is the visible part a rectangle)."""
    ys, xs = np.nonzero(channel > 0.5)
    if ys.size == 0:
        return 0, None, False
    extent = (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1)
    return ys.size, extent, ys.size == (extent[2] - extent[0]) * (extent[3] - extent[1])


def _expected_rows(image, box, label, channel, own, min_visibility, min_size, seen):
    """The box's output row `(box, label)` from the output pixels, or None if it must be dropped.

    `seen` counts the kinds of cases met (a Counter), so the test can show it met each of them.
    """
    seen["own" if own else "partner"] += 1
    area = (box[2] - box[0]) * (box[3] - box[1])
    count, extent, rectangle = _visible(image[..., channel])
    if label == -1 or area == 0 or count == 0:
        return None
    visible = np.float32(count) / np.float32(area)
    if visible < np.float32(min_visibility):
        seen["dropped: visibility"] += 1
        return None
    if own and not rectangle:
        seen["own: hole or corner"] += 1
        return tuple(box), label  # a hole or a corner cut: extent unchanged, no size check
    out = tuple(float(v) for v in extent)
    checked_size = not own or out != tuple(box)  # the partner's boxes always, own boxes when clipped
    if checked_size and (out[2] - out[0] < min_size or out[3] - out[1] < min_size):
        seen["dropped: size"] += 1
        return None
    seen[("own" if own else "partner") + (": kept" if out == tuple(box) else ": clipped")] += 1
    return out, label


def _check(out_boxes, out_labels, images_out, boxes, labels, permutation, min_visibility, min_size, sources,
           seen):
    for i in range(BATCH):
        j = int(permutation[i]) if sources == 2 else None
        if j == i:
            continue
        rows = []
        for n in range(COUNT):
            rows.append(_expected_rows(images_out[i], boxes[i, n], labels[i, n], i * COUNT + n, True,
                                       min_visibility, min_size, seen))
        if j is not None:
            for n in range(COUNT):
                rows.append(_expected_rows(images_out[i], boxes[j, n], labels[j, n], j * COUNT + n, False,
                                           min_visibility, min_size, seen))
        rows = [r for r in rows if r is not None]
        size = sources * COUNT
        want_boxes = np.float32([r[0] for r in rows] + [[0.0] * 4] * (size - len(rows)))
        want_labels = np.int32([r[1] for r in rows] + [-1] * (size - len(rows)))
        context = f"image {i}, partner {j}, min_visibility={min_visibility}, min_size={min_size}"
        np.testing.assert_array_equal(out_labels[i], want_labels, err_msg=context)
        np.testing.assert_array_equal(out_boxes[i], want_boxes, err_msg=context)
        seen["rows compared"] += len(rows)


@pytest.mark.parametrize("method", ["cutmix", "cutout"])
def test_box_rules_agree_with_pixel_counts(method):
    rng = np.random.default_rng(42 if method == "cutmix" else 43)
    seen = collections.Counter()
    for step in range(BATCHES):
        boxes, labels = ref.random_boxes(rng, BATCH, COUNT, HEIGHT, WIDTH, pad_fraction=0.15)
        min_visibility = float(rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, rng.random()]))
        min_size = float(rng.choice([0.0, 1.0, 2.0, 3.0]))
        channels_first = step % 4 == 3
        images = _label_map(boxes, labels)
        images = images.transpose(0, 3, 1, 2).copy() if channels_first else images
        data = {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}}
        args = dict(bounding_box_format="yxyx", min_visibility=min_visibility, min_size=min_size, seed=step,
                    data_format="channels_first" if channels_first else "channels_last")
        if method == "cutmix":
            out, mix = kc.cutmix_fn(data, per_sample=bool(step % 2), return_mix=True, **args)
            permutation, sources = np.asarray(mix["permutation"]), 2
        else:
            out = kc.cutout_fn(data, size=(int(rng.integers(2, 8)), int(rng.integers(2, 8))), **args)
            permutation, sources = None, 1
        mixed = np.asarray(out["images"])
        mixed = mixed.transpose(0, 2, 3, 1) if channels_first else mixed
        _check(np.asarray(out["bounding_boxes"]["boxes"]), np.asarray(out["bounding_boxes"]["labels"]), mixed,
               boxes, labels, permutation, min_visibility, min_size, sources, seen)
    # Every kind of case was met often enough for the test to mean something.
    kinds = ["own: kept", "own: clipped", "own: hole or corner", "dropped: visibility", "dropped: size"]
    if method == "cutmix":
        kinds += ["partner: clipped"]
    assert all(seen[kind] >= 5 for kind in kinds), dict(seen)
