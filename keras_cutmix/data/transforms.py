"""Image and box transforms for the input pipelines: crop, pad, flip, resize.

Boxes use the tfds convention: float `[..., 4]` tensors `[ymin, xmin, ymax, xmax]` normalised by the image
height and width, so a box that covers pixel rows `r0..r1` has `ymin = r0 / H` and `ymax = (r1 + 1) / H`.
Resizing the whole image leaves normalised boxes unchanged; only crops and flips move them.

The box transforms are pure functions of the crop window and the flip flag, so tests can check them against
hand-computed arrays; the image transforms take the same window and flag, so image and box can never disagree. A
crop window is an `offset` `(top, left)` in pixels of the input image and a `crop_size` `(height, width)`;
offsets may be negative or windows may overhang the image, which is how "pad by 4, then crop 32" is written: the
overhang is zero padding.

Random choices (`random_crop_offset`, `random_resized_crop_window`, `random_flip`) are stateless: they take a
shape-[2] integer `seed`, and the same seed gives the same window.
"""

import math

import tensorflow as tf


def crop_boxes(boxes, offset, crop_size, image_size):
    """Maps normalised boxes into a crop window and clips them to it.

    Args:
        boxes: float `[..., 4]` boxes `[ymin, xmin, ymax, xmax]`, normalised by `image_size`.
        offset: `(top, left)` of the window in pixels; may be negative (padding).
        crop_size: `(height, width)` of the window in pixels.
        image_size: `(height, width)` of the image the boxes refer to.

    Returns:
        float32 boxes normalised by `crop_size`, clipped to `[0, 1]`. A box
        entirely outside the window collapses to zero area on the window edge.
    """
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    image_hw = tf.cast(tf.convert_to_tensor(image_size)[:2], tf.float32)
    offset = tf.cast(tf.convert_to_tensor(offset), tf.float32)
    crop_hw = tf.cast(tf.convert_to_tensor(crop_size), tf.float32)
    scale = tf.tile(image_hw / crop_hw, [2])
    shift = tf.tile(offset / crop_hw, [2])
    return tf.clip_by_value(boxes * scale - shift, 0.0, 1.0)


def flip_boxes_left_right(boxes, flip=True):
    """Mirrors normalised boxes horizontally where `flip` is True.

    Args:
        boxes: float `[..., 4]` boxes `[ymin, xmin, ymax, xmax]`.
        flip: bool scalar (or broadcastable to `boxes[..., 0]`). Defaults to True.

    Returns:
        float32 boxes with `xmin, xmax` replaced by `1 - xmax, 1 - xmin` where flipped.
    """
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=-1)
    flipped = tf.stack([ymin, 1.0 - xmax, ymax, 1.0 - xmin], axis=-1)
    return tf.where(tf.convert_to_tensor(flip)[..., None], flipped, boxes)


def crop_and_flip_boxes(boxes, offset, crop_size, image_size, flip):
    """`crop_boxes` followed by `flip_boxes_left_right`: what `crop_and_flip` does to pixels."""
    return flip_boxes_left_right(crop_boxes(boxes, offset, crop_size, image_size), flip)


def random_crop_offset(image_size, crop_size, seed, padding=0):
    """Draws a uniform crop window offset, optionally overhanging by `padding`.

    Args:
        image_size: `(height, width)` of the image.
        crop_size: `(height, width)` of the window; at most image size + 2 * padding.
        seed: shape-[2] integer seed.
        padding: Pixels of zero padding allowed on every side. Defaults to 0.

    Returns:
        int32 `[2]` offset `(top, left)` in `[-padding, size - crop + padding]`.
    """
    image_hw = tf.cast(tf.convert_to_tensor(image_size)[:2], tf.int32)
    crop_hw = tf.cast(tf.convert_to_tensor(crop_size), tf.int32)
    high = image_hw - crop_hw + 2 * padding + 1
    tf.debugging.assert_positive(high, message="crop_size is larger than the padded image")
    unit = tf.random.stateless_uniform([2], seed, 0.0, 1.0)
    return tf.minimum(tf.cast(unit * tf.cast(high, tf.float32), tf.int32), high - 1) - padding


def random_resized_crop_window(image_size, seed, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), attempts=10):
    """Draws the window of torchvision's `RandomResizedCrop` (`get_params`).

    Each of `attempts` tries draws an area fraction uniform in `scale` and an aspect ratio (width / height)
    log-uniform in `ratio`, rounds the window's width and height to integers and keeps the first try that fits
    in the image, at a uniform position. If none fits, the window is the centre crop of the whole image with its
    aspect ratio clamped to `ratio`.

    Args:
        image_size: `(height, width)` of the image.
        seed: shape-[2] integer seed.
        scale: Range of the window's area as a fraction of the image's. Defaults to (0.08, 1.0).
        ratio: Range of the window's width / height. Defaults to (3/4, 4/3).
        attempts: Number of tries before the fallback. Defaults to 10.

    Returns:
        `(offset, crop_size)`: int32 [2] `(top, left)` and int32 [2] `(height, width)` of a window inside the image.

    References:
        - torchvision `transforms.RandomResizedCrop.get_params`.
        - [Szegedy et al., 2015, Going deeper with convolutions](
          https://arxiv.org/abs/1409.4842) (the "Inception" crop).
    """
    image_hw = tf.cast(tf.convert_to_tensor(image_size)[:2], tf.int32)
    height, width = tf.unstack(tf.cast(image_hw, tf.float32))
    unit = tf.random.stateless_uniform([attempts, 4], seed)
    area = height * width * (scale[0] + (scale[1] - scale[0]) * unit[:, 0])
    log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
    aspect = tf.exp(log_low + (log_high - log_low) * unit[:, 1])
    w = tf.round(tf.sqrt(area * aspect))
    h = tf.round(tf.sqrt(area / aspect))
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    top = tf.minimum(tf.floor(unit[:, 2] * (height - h + 1)), height - h)
    left = tf.minimum(tf.floor(unit[:, 3] * (width - w + 1)), width - w)
    first = tf.argmax(tf.cast(fits, tf.int32), output_type=tf.int32)
    tried = tf.cast(tf.stack([top[first], left[first], h[first], w[first]]), tf.int32)

    # Fallback: the whole image, cropped to the nearest allowed aspect ratio.
    in_ratio = width / height
    fallback_w = tf.where(in_ratio > ratio[1], tf.round(height * ratio[1]), width)
    fallback_h = tf.where(in_ratio < ratio[0], tf.round(width / ratio[0]), height)
    fallback_hw = tf.cast(tf.stack([fallback_h, fallback_w]), tf.int32)
    fallback = tf.concat([(image_hw - fallback_hw) // 2, fallback_hw], 0)
    window = tf.where(tf.reduce_any(fits), tried, fallback)
    return window[:2], window[2:]


def center_crop_offset(image_size, crop_size):
    """Offset `(top, left)` int32 [2] of the centred window (rounded down, like torchvision)."""
    image_hw = tf.cast(tf.convert_to_tensor(image_size)[:2], tf.int32)
    crop_hw = tf.cast(tf.convert_to_tensor(crop_size), tf.int32)
    return tf.cast(tf.round(tf.cast(image_hw - crop_hw, tf.float32) / 2.0), tf.int32)


def random_flip(seed):
    """A stateless fair coin: bool scalar."""
    return tf.random.stateless_uniform([], seed) < 0.5


def crop(image, offset, crop_size):
    """Crops `image` [H, W, C] to a window that may overhang it (zero padding).

    Args:
        image: [H, W, C] tensor, any dtype.
        offset: `(top, left)` in pixels; may be negative.
        crop_size: `(height, width)` of the output.

    Returns:
        [height, width, C] tensor of the input dtype.
    """
    image = tf.convert_to_tensor(image)
    offset = tf.cast(tf.convert_to_tensor(offset), tf.int32)
    crop_hw = tf.cast(tf.convert_to_tensor(crop_size), tf.int32)
    image_hw = tf.shape(image)[:2]
    before = tf.maximum(-offset, 0)
    after = tf.maximum(offset + crop_hw - image_hw, 0)
    padded = tf.pad(image, tf.stack([tf.stack([before[0], after[0]]), tf.stack([before[1], after[1]]), [0, 0]]))
    start = tf.concat([offset + before, [0]], 0)
    return tf.slice(padded, start, tf.concat([crop_hw, [-1]], 0))


def flip_left_right(image, flip=True):
    """Mirrors `image` [H, W, C] horizontally when the bool scalar `flip` is True."""
    image = tf.convert_to_tensor(image)
    return tf.cond(tf.convert_to_tensor(flip), lambda: tf.reverse(image, [1]), lambda: image)


def crop_and_flip(image, boxes, offset, crop_size, flip):
    """Crops then flips an image and its boxes with the same window and flag.

    Args:
        image: [H, W, C] tensor.
        boxes: float `[..., 4]` normalised boxes of `image`, or None.
        offset: `(top, left)` of the window; may be negative (zero padding).
        crop_size: `(height, width)` of the window.
        flip: bool scalar.

    Returns:
        `(image, boxes)`; `boxes` is None when None was given.
    """
    if boxes is not None:
        boxes = crop_and_flip_boxes(boxes, offset, crop_size, tf.shape(image)[:2], flip)
    return flip_left_right(crop(image, offset, crop_size), flip), boxes


def resize(image, size):
    """Resizes `image` [H, W, C] to `size` `(height, width)` (bilinear, antialiased).

    The output keeps the input dtype: uint8 in, uint8 out (rounded and saturated). Normalised boxes need no change.
    """
    image = tf.convert_to_tensor(image)
    resized = tf.image.resize(image, size, method="bilinear", antialias=True)
    if image.dtype.is_integer:
        return tf.saturate_cast(tf.round(resized), image.dtype)
    return tf.cast(resized, image.dtype)


def shorter_side_size(image_size, size):
    """`(height, width)` int32 [2] with the shorter side `size` and the aspect ratio kept."""
    image_hw = tf.cast(tf.convert_to_tensor(image_size)[:2], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.reduce_min(image_hw)
    return tf.maximum(tf.cast(tf.round(image_hw * scale), tf.int32), size)
