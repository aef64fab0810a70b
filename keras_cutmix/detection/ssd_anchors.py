"""SSD300 default boxes, matching and box encoding, as amdegroot/ssd.pytorch (the code the CutMix paper ran).

Formats (coordinates normalised to [0, 1] by the image size): default boxes (anchors) in ssd.pytorch's
centre form `(cx, cy, w, h)`, Keras's `"center_xywh"`; ground-truth and decoded boxes `[y0, x0, y1, x1]`,
Keras's `"yxyx"` (padded rows carry label -1); deltas `(dx, dy, dw, dh)` with variances (0.1, 0.2), exactly
Keras's `encode_box_to_deltas(..., encoding_format="center_xywh", variance=[0.1, 0.1, 0.2, 0.2])`, which
`encode` / `decode` call (Keras clamps sizes at epsilon where ssd.pytorch would take log(0)). All plain TF/Keras
ops: eager, `tf.function` and `tf.data.Dataset.map` alike.

Bad input raises a `ValueError` naming the function and the argument before any work (eagerly `encode` /
`decode` also refuse pixel, inverted or non-finite boxes); labels [N, 1] are taken as [N].

References:
    - [Liu et al., 2016, SSD: Single Shot MultiBox Detector](https://arxiv.org/abs/1512.02325)
    - github.com/amdegroot/ssd.pytorch: `data/config.py` (`voc`), `layers/functions/prior_box.py`
      (`PriorBox`), `layers/box_utils.py` (`match`, `encode`, `decode`).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import checks

# ssd.pytorch's `voc` configuration (data/config.py) for SSD300.
VOC_300 = {
    "feature_maps": (38, 19, 10, 5, 3, 1),
    "min_dim": 300,
    "steps": (8, 16, 32, 64, 100, 300),
    "min_sizes": (30, 60, 111, 162, 213, 264),
    "max_sizes": (60, 111, 162, 213, 264, 315),
    "aspect_ratios": ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,)),
    "variance": (0.1, 0.2),
    "clip": True,
}
ANCHOR_FORMAT = "center_xywh"
BOX_FORMAT = "yxyx"


def ssd_config(image_size):
    """`VOC_300` at 300 pixels; at another size the same design on the maps our backbones give.

    Maps at strides 8, 16 and 32 (P3-P5), then stride-2 extras down to one cell; box sizes 0.1 of the image on
    the first map, then evenly 0.2 to 0.88 (each max size the next min, the last 1.05: VOC_300's fractions);
    ratios (2,) on the first and last two maps, (2, 3) between. For the embedded 128-pixel images, not the paper.

    Args:
        image_size: Input side in pixels.

    Returns:
        A dict with the keys of `VOC_300`.

    Raises:
        ValueError: for an `image_size` that is not an int >= 1.
    """
    image_size = checks.count("image_size", image_size, "ssd_config")
    if image_size == VOC_300["min_dim"]:
        return VOC_300
    maps = [math.ceil(image_size / stride) for stride in (8, 16, 32)]
    while maps[-1] > 1:
        maps.append(math.ceil(maps[-1] / 2))
    count = len(maps)
    fractions = [0.1] + list(np.linspace(0.2, 0.88, count - 1))
    return {
        "feature_maps": tuple(maps),
        "min_dim": image_size,
        "steps": tuple(image_size / f for f in maps),
        "min_sizes": tuple(f * image_size for f in fractions),
        "max_sizes": tuple(f * image_size for f in fractions[1:] + [1.05]),
        "aspect_ratios": ((2,),) + ((2, 3),) * (count - 3) + ((2,), (2,)),
        "variance": VOC_300["variance"],
        "clip": True,
    }


def _check_config(config, caller):
    """A default-box configuration with `VOC_300`'s keys and one entry per map in each per-map key."""
    missing = sorted(set(VOC_300) - set(config)) if isinstance(config, dict) else None
    if missing is None or missing:
        what = f"missing {missing}" if missing else f"type {type(config).__name__}"
        raise ValueError(f"{caller}: Expected `config` as a dict with the keys of VOC_300 "
                         f"(`ssd_anchors.ssd_config(image_size)`). Received: config of {what}")
    maps = config["feature_maps"]
    lengths = {key: len(config[key]) for key in ("feature_maps", "steps", "min_sizes", "max_sizes", "aspect_ratios")}
    if len(set(lengths.values())) != 1 or not all(checks.python_number(f) >= 1 for f in maps):
        raise ValueError(f"{caller}: Expected `config` with one entry per feature map in each of {sorted(lengths)} "
                         f"and map sizes >= 1. Received: lengths {lengths}, feature_maps={tuple(maps)}")
    checks.count("config['min_dim']", config["min_dim"], caller)
    return config


def _variances(variances, caller="encode"):
    if isinstance(variances, (str, bytes)) or not np.iterable(variances) or len(tuple(variances)) != 2:
        raise ValueError(f"{caller}: Expected `variances` as (centre, size), two numbers > 0. Received: "
                         f"variances={variances!r}")
    centre, size = (checks.number(f"variances[{i}]", v, caller) for i, v in enumerate(variances))
    if centre <= 0 or size <= 0:
        raise ValueError(f"{caller}: Expected `variances` > 0. Received: variances={tuple(variances)!r}")
    return [centre, centre, size, size]


def _check_finite(caller, name, tensor):
    array = np.asarray(tensor.numpy(), np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{caller}: Expected finite `{name}`. Received: {int(np.sum(~np.isfinite(array)))} NaN or "
                         f"infinite values")
    return array


def _check_anchored(caller, name, values, anchors):
    """Static shapes of `values` [..., A, 4] against `anchors` [A, 4]; eagerly, the anchors' sizes."""
    values, anchors = tf.convert_to_tensor(values), tf.convert_to_tensor(anchors)
    if (values.shape.rank is None or values.shape.rank < 2 or values.shape[-1] != 4 or anchors.shape.rank != 2
            or anchors.shape[-1] != 4 or not values.shape[-2:-1].is_compatible_with(anchors.shape[:1])):
        raise ValueError(f"{caller}: Expected `{name}` [..., A, 4] and `anchors` [A, 4] with the same A. Received: "
                         f"{name}.shape={tuple(values.shape)}, anchors.shape={tuple(anchors.shape)}")
    if tf.executing_eagerly():
        _check_finite(caller, name, values)
        anchor_array = _check_finite(caller, "anchors", anchors)
        if anchor_array.size and anchor_array[:, 2:].min() <= 0:
            raise ValueError(f"{caller}: Expected `anchors` in centre form (cx, cy, w, h) with w, h > 0 "
                             f"(`default_boxes()`). Received: sizes down to {anchor_array[:, 2:].min():g}")
    return values, anchors


def boxes_per_location(config=VOC_300):
    """Default boxes per feature-map cell: `2 + 2 * len(aspect_ratios)` per map ((4, 6, 6, 6, 4, 4) for VOC_300)."""
    return tuple(2 + 2 * len(ratios) for ratios in config["aspect_ratios"])


def default_boxes(config=VOC_300):
    """SSD's default boxes, in ssd.pytorch's order (map, row, column, box) and centre form.

    Per cell of the `f x f` map k: a square of side `min_size/300`, a square of side `sqrt(min_size *
    max_size)/300`, then for each aspect ratio r boxes `(s sqrt(r), s / sqrt(r))` and `(s / sqrt(r), s sqrt(r))`,
    centred at `((j + 0.5) / f_k, (i + 0.5) / f_k)` with `f_k = 300 / step`; all four numbers clipped to [0, 1]
    (ssd.pytorch clips the centre form, not the corners).

    Args:
        config: A dict with the keys of `VOC_300`. Defaults to `VOC_300`.

    Returns:
        float32 NumPy array [num_boxes, 4] of `(cx, cy, w, h)` (`"center_xywh"`), normalised;
        8,732 rows for `VOC_300`.

    Raises:
        ValueError: for a config without `VOC_300`'s keys or with per-map entries of other lengths.
    """
    _check_config(config, "default_boxes")
    size = config["min_dim"]
    per_map = []
    for k, f in enumerate(config["feature_maps"]):
        f_k = size / config["steps"][k]
        s_k = config["min_sizes"][k] / size
        s_prime = math.sqrt(s_k * (config["max_sizes"][k] / size))
        shapes = [(s_k, s_k), (s_prime, s_prime)]
        for ratio in config["aspect_ratios"][k]:
            root = math.sqrt(ratio)
            shapes += [(s_k * root, s_k / root), (s_k / root, s_k * root)]
        rows, cols = np.meshgrid(np.arange(f), np.arange(f), indexing="ij")
        centres = np.stack([(cols + 0.5) / f_k, (rows + 0.5) / f_k], axis=-1).reshape(-1, 1, 2)
        sizes = np.broadcast_to(np.asarray(shapes)[None], (f * f, len(shapes), 2))
        centres = np.broadcast_to(centres, sizes.shape)
        per_map.append(np.concatenate([centres, sizes], axis=-1).reshape(-1, 4))
    boxes = np.concatenate(per_map, axis=0).astype(np.float32)
    if config["clip"]:
        boxes = np.clip(boxes, 0.0, 1.0)
    return boxes


def _encode(boxes, anchors, variances):
    return keras.utils.bounding_boxes.encode_box_to_deltas(
        anchors, boxes, anchor_format=ANCHOR_FORMAT, box_format=BOX_FORMAT, encoding_format=ANCHOR_FORMAT,
        variance=variances)


def encode(boxes, anchors, variances=VOC_300["variance"]):
    """Regression targets of `boxes` relative to `anchors`, as ssd.pytorch's `encode`.

    Args:
        boxes: [..., A, 4] normalised yxyx boxes (one per anchor).
        anchors: [A, 4] default boxes in centre form `(cx, cy, w, h)`.
        variances: `(centre, size)` variances. Defaults to (0.1, 0.2).

    Returns:
        float32 [..., A, 4] deltas `(dx, dy, dw, dh)`.

    Raises:
        ValueError: for bad input (see the module docstring).
    """
    variances = _variances(variances, "encode")
    boxes, anchors = _check_anchored("encode", "boxes", boxes, anchors)
    if tf.executing_eagerly():
        checks.boxes("boxes", boxes.numpy(), "encode", normalized=True)
    return _encode(boxes, anchors, variances)


def decode(deltas, anchors, variances=VOC_300["variance"]):
    """Boxes from deltas, as ssd.pytorch's `decode` (the inverse of `encode`).

    Args:
        deltas: [..., A, 4] deltas `(dx, dy, dw, dh)`.
        anchors: [A, 4] default boxes in centre form `(cx, cy, w, h)`.
        variances: `(centre, size)` variances. Defaults to (0.1, 0.2).

    Returns:
        float32 [..., A, 4] normalised yxyx boxes.

    Raises:
        ValueError: for bad input (see the module docstring).
    """
    variances = _variances(variances, "decode")
    deltas, anchors = _check_anchored("decode", "deltas", deltas, anchors)
    return keras.utils.bounding_boxes.decode_deltas_to_boxes(
        anchors, deltas, anchor_format=ANCHOR_FORMAT, box_format=BOX_FORMAT, encoded_format=ANCHOR_FORMAT,
        variance=variances)


def _check_gt_boxes(gt_boxes, valid):
    """Assertions (eager, graphs, tf.data; dropped under XLA) that the valid boxes are normalised and non-empty."""
    boxes = tf.boolean_mask(gt_boxes, valid)  # [M, 4]
    padded = tf.concat([boxes, tf.constant([[0.25, 0.25, 0.75, 0.75]])], 0)  # Never empty.
    return [
        tf.debugging.assert_greater_equal(
            tf.reduce_min(padded), 0.0,
            message="match: Expected gt_boxes normalised to [0, 1] (fractions of the image side); negative "
                    "coordinates found"),
        tf.debugging.assert_less_equal(
            tf.reduce_max(padded), 1.0,
            message="match: Expected gt_boxes normalised to [0, 1] (fractions of the image side); these look "
                    "like pixels: divide by the image size"),
        tf.debugging.assert_equal(
            tf.reduce_all((padded[:, 2] > padded[:, 0]) & (padded[:, 3] > padded[:, 1])), True,
            message="match: Expected gt_boxes as [ymin, xmin, ymax, xmax] with ymax > ymin and xmax > xmin; "
                    "inverted or zero-size boxes found (label them -1 to mark padding)"),
    ]


def match(gt_boxes, gt_labels, anchors, iou_threshold=0.5, variances=VOC_300["variance"]):
    """Training targets for every default box, as ssd.pytorch's `match`.

    Each valid ground-truth box takes its best default box (forced, even below the threshold; where two
    boxes pick the same default box the later one wins, as ssd.pytorch's loop); every other default box
    takes its best ground-truth box if their IoU is at least `iou_threshold`, else background.

    Args:
        gt_boxes: [N, 4] or [B, N, 4] normalised yxyx boxes (N may be 0: all background). A valid box
            outside [0, 1] (pixels), inverted or of zero size raises `tf.errors.InvalidArgumentError`
            (eagerly, in graphs and in tf.data; not under XLA).
        gt_labels: [N] or [B, N] (or [N, 1], [B, N, 1]) integer classes in [0, num_classes); -1 marks padding.
        anchors: [A, 4] default boxes in centre form (`default_boxes()`).
        iou_threshold: Minimum IoU for a match, a fraction. Defaults to 0.5.
        variances: Encoding variances. Defaults to (0.1, 0.2).

    Returns:
        `(loc_targets, cls_targets)`: float32 [(B,) A, 4] deltas (meaningful where the class is not 0)
        and int32 [(B,) A] classes, 0 for background and `label + 1` for objects.
    """
    iou_threshold = checks.fraction("iou_threshold", iou_threshold, "match")
    variances = _variances(variances, "match")
    gt_boxes = tf.convert_to_tensor(gt_boxes, tf.float32)
    gt_labels = tf.cast(gt_labels, tf.int32)
    if gt_labels.shape.rank == gt_boxes.shape.rank and gt_labels.shape[-1] == 1:  # Labels [(B,) N, 1].
        gt_labels = gt_labels[..., 0]
    unbatched = gt_boxes.shape.rank == 2
    if unbatched:
        gt_boxes, gt_labels = gt_boxes[None], gt_labels[None]
    if gt_boxes.shape.rank != 3 or gt_boxes.shape[-1] != 4 or gt_labels.shape.rank != 2:
        raise ValueError(f"match: Expected gt_boxes [N, 4] or [B, N, 4] and gt_labels [N] or [B, N]. Received: "
                         f"gt_boxes.shape={gt_boxes.shape}, gt_labels.shape={gt_labels.shape}")
    # One padding row more: an image without objects (N = 0) is all background, not an empty argmax.
    gt_boxes = tf.pad(gt_boxes, [[0, 0], [0, 1], [0, 0]])
    gt_labels = tf.pad(gt_labels, [[0, 0], [0, 1]], constant_values=-1)
    assertions = _check_gt_boxes(gt_boxes, gt_labels >= 0)
    if not tf.executing_eagerly():  # Eagerly they already ran.
        with tf.control_dependencies(assertions):
            gt_boxes = tf.identity(gt_boxes)
    anchors = tf.convert_to_tensor(anchors, tf.float32)
    num_anchors = tf.shape(anchors)[0]
    valid = gt_labels >= 0  # [B, N]
    corners = keras.utils.bounding_boxes.convert_format(anchors, source=ANCHOR_FORMAT, target=BOX_FORMAT)
    iou = keras.utils.bounding_boxes.compute_iou(gt_boxes, corners, bounding_box_format=BOX_FORMAT)
    iou = tf.where(valid[..., None], iou, -1.0)  # [B, N, A]
    best_anchor = tf.argmax(iou, axis=2, output_type=tf.int32)  # [B, N]
    best_overlap = tf.reduce_max(iou, axis=1)  # [B, A]
    best_truth = tf.argmax(iou, axis=1, output_type=tf.int32)  # [B, A]
    forced = tf.one_hot(best_anchor, num_anchors, on_value=True, off_value=False) & valid[..., None]
    truth_index = tf.range(tf.shape(gt_boxes)[1], dtype=tf.int32)[None, :, None]
    forcing = tf.reduce_max(tf.where(forced, truth_index, -1), axis=1)  # [B, A]; the last gt wins
    best_truth = tf.where(forcing >= 0, forcing, best_truth)
    best_overlap = tf.where(forcing >= 0, 2.0, best_overlap)
    matched = tf.gather(gt_boxes, best_truth, batch_dims=1)
    classes = tf.gather(gt_labels, best_truth, batch_dims=1) + 1
    classes = tf.where(best_overlap < iou_threshold, 0, classes)
    loc = tf.cast(_encode(matched, anchors, variances), tf.float32)  # Padding rows may hold anything.
    return (loc[0], classes[0]) if unbatched else (loc, classes)

