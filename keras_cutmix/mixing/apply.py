"""Pure application of a drawn mix: paste boxes, erase boxes, blend images, mix labels.

Nothing here draws random numbers: each function takes the arrays a sampler returned (partner indices,
integer boxes, mix weights) and is tested against exact arrays in tf_tests/mixing/apply_test.py.
Images keep their dtype: pasting and erasing select whole pixels (uint8 stays uint8, no rounding);
blending and label mixing compute in float64 and round back once, so results are the same bits in every mode.
"""

import tensorflow as tf

try:  # TF's own test for "being compiled by XLA"; not public API, so fall back to "no".
    from tensorflow.python.ops.control_flow_util import GraphOrParentsInXlaContext as _in_xla_graph
except ImportError:  # pragma: no cover
    _in_xla_graph = None

_INT32_LIMIT = 2**31 - 1


def in_xla_context():
    """Whether the ops being built will be compiled by XLA (e.g. inside `tf.function(jit_compile=True)`)."""
    if tf.executing_eagerly() or _in_xla_graph is None:
        return False
    return bool(_in_xla_graph(tf.compat.v1.get_default_graph()))


def box_masks(boxes, height, width):
    """Boolean masks [N, H, W] that are True inside integer boxes [N, 4] (y0, x0, y1, x1), end-exclusive."""
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    y0, x0, y1, x1 = (boxes[:, i, None, None] for i in range(4))
    return (rows >= y0) & (rows < y1) & (cols >= x0) & (cols < x1)


def _spatial_mask(boxes, tensor, data_format):
    """Box masks shaped to broadcast against `tensor` (rank 3 [B, H, W] or rank 4 in `data_format`)."""
    if tensor.shape.rank == 3:
        height, width = tf.shape(tensor)[1], tf.shape(tensor)[2]
        return box_masks(boxes, height, width)
    if data_format == "channels_last":
        height, width = tf.shape(tensor)[1], tf.shape(tensor)[2]
        return box_masks(boxes, height, width)[:, :, :, None]
    height, width = tf.shape(tensor)[2], tf.shape(tensor)[3]
    return box_masks(boxes, height, width)[:, None, :, :]


def paste_boxes(images, permutation, boxes, data_format="channels_last"):
    """Pastes each partner's box into each image: the CutMix image operation.

    Args:
        images: Batch [B, H, W, C] (or [B, C, H, W], or masks [B, H, W]) of any dtype.
        permutation: int32 [B], the partner of each image.
        boxes: int32 [B, 4] or [1, 4] (one box shared by the batch), (y0, x0, y1, x1), end-exclusive.
        data_format: "channels_last" or "channels_first" for rank-4 inputs.

    Returns:
        A tensor like `images`, equal to `images[permutation]` inside each box and to `images` elsewhere.
    """
    if images.shape.rank == 4 and data_format == "channels_last" and not in_xla_context():
        return _paste_by_gather(images, permutation, boxes)
    mask = _spatial_mask(boxes, images, data_format)
    # A mask as large as the batch lets XLA fuse gather and select into one pass; a broadcast one does not.
    mask = tf.broadcast_to(mask, tf.shape(images))
    return tf.where(mask, tf.gather(images, permutation), images)


def _paste_by_gather(images, permutation, boxes):
    """`paste_boxes` as one gather of whole pixels through a source-index map (channels_last).

    Outside XLA this reads each output pixel once from its source image (about 1.3x one elementwise pass
    in benchmarks/RESULTS.md) instead of gathering the whole partner batch and selecting (about 3x).
    """
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    static = images.shape
    fits_int32 = None not in static[:3] and static[0] * static[1] * static[2] <= _INT32_LIMIT
    index_dtype = tf.int32 if fits_int32 else tf.int64
    mask = box_masks(boxes, height, width)
    own = tf.range(batch)[:, None, None]
    source_image = tf.cast(tf.where(mask, tf.cast(permutation, tf.int32)[:, None, None], own), index_dtype)
    pixel = tf.cast(tf.reshape(tf.range(height * width), [1, height, width]), index_dtype)
    flat_index = tf.reshape(source_image * tf.cast(height * width, index_dtype) + pixel, [-1])
    pixels = tf.reshape(images, tf.stack([-1, shape[3]]))
    return tf.reshape(tf.gather(pixels, flat_index), shape)


def erase_boxes(images, boxes, fill_value=0, data_format="channels_last"):
    """Sets the pixels inside each box to `fill_value`: the Cutout image operation.

    Args:
        images: Batch [B, H, W, C] (or channels_first) of any dtype.
        boxes: int32 [B, 4] (y0, x0, y1, x1), end-exclusive.
        fill_value: Value written into the hole (0 as in DeVries & Taylor's code).
        data_format: "channels_last" or "channels_first".

    Returns:
        A tensor like `images` with the boxes filled.
    """
    mask = _spatial_mask(boxes, images, data_format)
    return tf.where(mask, tf.cast(fill_value, images.dtype), images)


def blend_images(images, permutation, mix_weight):
    """`mix_weight * images + (1 - mix_weight) * images[permutation]`: the MixUp image operation.

    Args:
        images: Batch of rank 4 in any layout and dtype.
        permutation: int32 [B].
        mix_weight: float32 [B], weight of each image itself.

    Returns:
        A tensor like `images`. The blend is computed in float64 and cast back (integer images are rounded
        half to even and clipped to their range), so it is bit-identical under XLA.
    """
    # In float64 and then rounded, so XLA's fused multiply-adds give the same bits as the eager kernels.
    weight = tf.reshape(tf.cast(mix_weight, tf.float64), [-1, 1, 1, 1])
    own = tf.cast(images, tf.float64)
    blended = weight * own + (1.0 - weight) * tf.gather(own, permutation)
    if images.dtype.is_integer:
        blended = tf.clip_by_value(tf.round(blended), images.dtype.min, images.dtype.max)
    return tf.cast(blended, images.dtype)


def mix_labels(labels, permutation, mix_weight):
    """`mix_weight * labels + (1 - mix_weight) * labels[permutation]` for float labels [B, K].

    Computed in float64 and rounded to the labels' dtype, so that XLA and Grappler fusing the multiply-adds
    cannot change the result: mixed labels are bit-identical eagerly, in graphs and under XLA.
    """
    weight = tf.cast(mix_weight, tf.float64)[:, None]
    own = tf.cast(labels, tf.float64)
    mixed = weight * own + (1.0 - weight) * tf.gather(own, permutation)
    return tf.cast(mixed, labels.dtype)
