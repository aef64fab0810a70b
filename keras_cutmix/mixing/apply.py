"""Pure application of a drawn mix: paste boxes, erase boxes, blend images, mix labels.

Nothing here draws random numbers: each function takes the arrays a sampler returned (partner indices,
integer boxes, mix weights) and is tested against exact arrays in tf_tests/mixing/apply_test.py.
Images keep their dtype: pasting and erasing select whole pixels (uint8 stays uint8, no rounding), so
they are the same bits eagerly, in graphs, under XLA and in `tf.data`. Blending and label mixing compute in
float32 (float64 only for float64 inputs: nothing here makes float64 from other dtypes, which TPUs lack) and
round back once. XLA may fuse `w * a + (1 - w) * b` into fused multiply-adds, so across modes a float32
blend or mixed label may differ by 1 unit in the last place (1.2e-7 for labels in [0, 1]) and an integer
image blend by 1 grey level where the float32 value sits on a rounding boundary (tested in apply_test.py).
"""

import tensorflow as tf

from keras_cutmix.compat import in_xla_context  # noqa: F401 - also imported from here by the benchmarks.

_INT32_LIMIT = 2**31 - 1


def compute_dtype(dtype):
    """The dtype blends and label mixes run in: the input's own for float32 / float64, float32 otherwise."""
    return dtype if dtype in (tf.float32, tf.float64) else tf.float32


def box_masks(boxes, height, width):
    """Boolean masks [N, H, W] that are True inside integer boxes [N, 4] (y0, x0, y1, x1), end-exclusive."""
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    y0, x0, y1, x1 = (boxes[:, i, None, None] for i in range(4))
    return (rows >= y0) & (rows < y1) & (cols >= x0) & (cols < x1)


def _spatial_mask(boxes, tensor, data_format):
    """Box masks shaped to broadcast against `tensor` (rank 3 [B, H, W] or rank 4 in `data_format`)."""
    if tensor.shape.rank == 3:
        return box_masks(boxes, tf.shape(tensor)[1], tf.shape(tensor)[2])
    if data_format == "channels_last":
        return box_masks(boxes, tf.shape(tensor)[1], tf.shape(tensor)[2])[:, :, :, None]
    return box_masks(boxes, tf.shape(tensor)[2], tf.shape(tensor)[3])[:, None, :, :]


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
        A tensor like `images`, blended in `compute_dtype(images.dtype)` and cast back once (integer images
        rounded half to even and clipped to their range; agreement across modes: the module docstring).
    """
    dtype = compute_dtype(images.dtype)
    weight = tf.reshape(tf.cast(mix_weight, dtype), [-1, 1, 1, 1])
    own = tf.cast(images, dtype)
    blended = weight * own + (1.0 - weight) * tf.gather(own, permutation)
    if images.dtype.is_integer:
        blended = tf.clip_by_value(tf.round(blended), images.dtype.min, images.dtype.max)
    return tf.cast(blended, images.dtype)


def mix_labels(labels, permutation, mix_weight):
    """`mix_weight * labels + (1 - mix_weight) * labels[permutation]` for float labels [B, K].

    Computed in `compute_dtype(labels.dtype)` and cast back to the labels' dtype (across modes: the module
    docstring).
    """
    dtype = compute_dtype(labels.dtype)
    weight = tf.cast(mix_weight, dtype)[:, None]
    own = tf.cast(labels, dtype)
    mixed = weight * own + (1.0 - weight) * tf.gather(own, permutation)
    return tf.cast(mixed, labels.dtype)
