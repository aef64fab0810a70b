"""SSD's training augmentation (ssd.pytorch's `SSDAugmentation`) in stateless TF ops for `tf.data`.

Order as ssd.pytorch: photometric distortion, expand, IoU-constrained random crop, horizontal flip, resize to
`size` (bilinear, for cv2.resize). Boxes are normalised `[y0, x0, y1, x1]` padded with label -1 (dropped boxes
become zero rows with label -1); images RGB in [0, 255] in, float32 out. Every draw comes from `seed`
(stateless Philox, `mixing.sampling.uniform`).

Photometric distortion (each step with probability 1/2): brightness `+U(-32, 32)`; contrast `*U(0.5, 1.5)`
first or last (one coin) around saturation `*U(0.5, 1.5)` and hue `+U(-18, 18)` degrees (in HSV, which
`tf.image.rgb_to_hsv` computes on any positive scale as cv2 does); a random channel permutation. Pixels are
clipped to [0, 255] before the HSV step and at the end (ssd.pytorch does not; cv2's HSV of negatives is
meaningless).

Expand (probability 1/2): ratio `U(1, 4)`, canvas `int(h * ratio) x int(w * ratio)` filled with the RGB
`resnet50.IMAGENET_MEAN` (ssd.pytorch: its BGR means), image at `(int(top), int(left))`.

Random crop (`RandomSampleCrop`): a mode among {whole image, min IoU 0.1, 0.3, 0.7, 0.9, any}; up to 50
trials of a patch with sides `U(0.3, 1)` of the image's, aspect `h / w` in [0.5, 2], uniform integer corners;
a trial succeeds when some box centre lies strictly inside (and, with `enforce_min_iou`, every box has IoU >=
the mode's minimum); boxes with their centre inside are kept, clipped. ssd.pytorch redraws modes forever;
here after `_CROP_ATTEMPTS` modes the image stays uncropped. ssd.pytorch's IoU test (`overlap.min() < min_iou
and max_iou < overlap.max()`, max_iou = +inf) is never true, so the paper never enforced it:
`enforce_min_iou=False` (default) reproduces that.

Bad shapes, sizes and flags raise a `ValueError` naming `ssd_augmentation` before any work; an image outside
[0, 255] or scaled to [0, 1] and valid boxes in pixels raise `tf.errors.InvalidArgumentError` (not under XLA).
Inverted boxes pass through (SSD's targets treat them as padding).

References:
    - [Liu et al., 2016](https://arxiv.org/abs/1512.02325), Sec. 2.2 (data augmentation);
      github.com/amdegroot/ssd.pytorch, `utils/augmentations.py`.
"""

import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.mixing import sampling
from keras_cutmix.models import resnet50

_CROP_MODES = (-1.0, 0.1, 0.3, 0.7, 0.9, float("-inf"))  # -1: keep the whole image.
_CROP_ATTEMPTS = 8
_CROP_TRIALS = 50
_PERMUTATIONS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def photometric_distort(image, seed):
    """ssd.pytorch's `PhotometricDistort` (see the module docstring).

    Args:
        image: [H, W, 3] float32 RGB in [0, 255].
        seed: Shape-[2] integer tensor.

    Returns:
        The distorted image, float32 in [0, 255].
    """
    u = sampling.uniform(seed, [12])
    coin = u[:6] < 0.5
    image = tf.where(coin[0], image + (u[6] * 64.0 - 32.0), image)
    contrast = tf.where(coin[1], u[7] + 0.5, 1.0)
    contrast_first = coin[2]
    image = tf.clip_by_value(tf.where(contrast_first, image * contrast, image), 0.0, 255.0)
    hsv = tf.image.rgb_to_hsv(image)
    saturation = tf.where(coin[3], u[8] + 0.5, 1.0)
    hue = tf.where(coin[4], (u[9] * 36.0 - 18.0) / 360.0, 0.0)
    hsv = tf.stack([tf.math.floormod(hsv[..., 0] + hue, 1.0), hsv[..., 1] * saturation, hsv[..., 2]], axis=-1)
    image = tf.image.hsv_to_rgb(hsv)
    image = tf.where(contrast_first, image, image * contrast)
    permutation = tf.gather(_PERMUTATIONS, tf.minimum(tf.cast(u[10] * 6.0, tf.int32), 5))
    image = tf.where(coin[5], tf.gather(image, permutation, axis=-1), image)
    return tf.clip_by_value(image, 0.0, 255.0)


def expand(image, boxes, seed, mean=resnet50.IMAGENET_MEAN):
    """ssd.pytorch's `Expand` (see the module docstring).

    Args:
        image: [H, W, 3] float RGB in [0, 255].
        boxes: [N, 4] normalised yxyx boxes.
        seed: Shape-[2] integer tensor.
        mean: RGB fill on the 0-255 scale. Defaults to `resnet50.IMAGENET_MEAN`.

    Returns:
        `(image, boxes)`: the canvas (or the input) and the boxes normalised to it.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    u = sampling.uniform(seed, [4])
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    ratio = 1.0 + 3.0 * u[1]
    offset = tf.floor(u[2:] * (shape * ratio - shape))  # (top, left)
    pad_after = tf.maximum(tf.floor(shape * ratio) - shape - offset, 0.0)
    canvas = shape + offset + pad_after
    mean = tf.constant(mean, tf.float32)
    paddings = tf.cast(tf.stack([[offset[0], pad_after[0]], [offset[1], pad_after[1]], [0.0, 0.0]]), tf.int32)
    expanded = tf.pad(image - mean, paddings) + mean
    scale = tf.tile(shape / canvas, [2])
    moved = boxes * scale + tf.tile(offset / canvas, [2])
    keep = u[0] < 0.5  # ssd.pytorch returns unchanged when randint(2) is 1.
    return tf.cond(keep, lambda: (image, boxes), lambda: (expanded, moved))


def _crop_rect(image, boxes, labels, seed, enforce_min_iou):
    """Draws the crop rectangle `[top, left, bottom, right]` in pixels (whole image when none is found)."""
    mode_seed, trial_seed = sampling.split_seed(seed, 2)
    height, width = tf.unstack(tf.cast(tf.shape(image)[:2], tf.float32))
    mode = tf.gather(_CROP_MODES, tf.minimum(tf.cast(sampling.uniform(mode_seed, [_CROP_ATTEMPTS]) * 6, tf.int32), 5))
    u = sampling.uniform(trial_seed, [_CROP_ATTEMPTS, _CROP_TRIALS, 4])
    w = width * (0.3 + 0.7 * u[..., 0])
    h = height * (0.3 + 0.7 * u[..., 1])
    left = u[..., 2] * (width - w)
    top = u[..., 3] * (height - h)
    rect = tf.floor(tf.stack([top, left, top + h, left + w], axis=-1))  # [K, T, 4] yxyx pixels
    pixel_boxes = boxes * tf.stack([height, width, height, width])
    valid = labels >= 0
    corner_min = tf.maximum(pixel_boxes[:, None, None, :2], rect[None, ..., :2])
    corner_max = tf.minimum(pixel_boxes[:, None, None, 2:], rect[None, ..., 2:])
    inter = tf.reduce_prod(tf.maximum(corner_max - corner_min, 0.0), axis=-1)  # [N, K, T]
    area_box = tf.reduce_prod(pixel_boxes[:, 2:] - pixel_boxes[:, :2], axis=-1)[:, None, None]
    area_rect = tf.reduce_prod(rect[..., 2:] - rect[..., :2], axis=-1)[None]
    iou = inter / tf.maximum(area_box + area_rect - inter, 1e-12)
    min_iou = tf.reduce_min(tf.where(valid[:, None, None], iou, 2.0), axis=0)  # [K, T]
    centres = (pixel_boxes[:, :2] + pixel_boxes[:, 2:]) / 2.0
    inside = tf.reduce_all(
        (rect[None, ..., :2] < centres[:, None, None]) & (rect[None, ..., 2:] > centres[:, None, None]), axis=-1
    )
    ok = tf.reduce_any(inside & valid[:, None, None], axis=0) & (h / w >= 0.5) & (h / w <= 2.0)
    if enforce_min_iou:
        ok &= min_iou >= mode[:, None]
    whole = mode == -1.0
    attempt_ok = whole | tf.reduce_any(ok, axis=1)
    attempt = tf.argmax(tf.cast(attempt_ok, tf.int32), output_type=tf.int32)
    trial = tf.argmax(tf.cast(ok[attempt], tf.int32), output_type=tf.int32)
    whole_image = tf.stack([0.0, 0.0, height, width])
    use_whole = whole[attempt] | ~attempt_ok[attempt]
    return tf.where(use_whole, whole_image, rect[attempt, trial])


def random_crop(image, boxes, labels, seed, enforce_min_iou=False):
    """ssd.pytorch's `RandomSampleCrop` (see the module docstring).

    Args:
        image: [H, W, 3] float image.
        boxes: [N, 4] normalised yxyx boxes.
        labels: [N] int32 labels, -1 for padding.
        seed: Shape-[2] integer tensor.
        enforce_min_iou: Whether to apply the crop modes' minimum IoU. Defaults to `False` (as ssd.pytorch).

    Returns:
        `(image, boxes, labels)`: the crop, the kept boxes clipped and normalised to it, dropped rows zeroed
        with label -1.
    """
    rect = _crop_rect(image, boxes, labels, seed, enforce_min_iou)
    height, width = tf.unstack(tf.cast(tf.shape(image)[:2], tf.float32))
    size = tf.stack([height, width, height, width])
    pixel_boxes = boxes * size
    centres = (pixel_boxes[:, :2] + pixel_boxes[:, 2:]) / 2.0
    whole = tf.reduce_all(rect == tf.stack([0.0, 0.0, height, width]))
    inside = tf.reduce_all((rect[:2] < centres) & (rect[2:] > centres), axis=-1) | whole
    keep = inside & (labels >= 0)
    clipped = tf.concat([tf.maximum(pixel_boxes[:, :2], rect[:2]), tf.minimum(pixel_boxes[:, 2:], rect[2:])], -1)
    rect_size = tf.tile(rect[2:] - rect[:2], [2])
    new_boxes = (clipped - tf.tile(rect[:2], [2])) / rect_size
    corners = tf.cast(rect, tf.int32)
    cropped = image[corners[0] : corners[2], corners[1] : corners[3]]
    new_boxes = tf.where(whole, boxes, new_boxes)
    return cropped, tf.where(keep[:, None], new_boxes, 0.0), tf.where(keep, labels, -1)


def _checked(image, boxes, labels, size, photometric, enforce_min_iou):
    """`ssd_augmentation`'s arguments: shapes and flags statically, values by assertions."""
    caller = "ssd_augmentation"
    size = checks.count("size", size, caller)
    checks.flag("photometric", photometric, caller)
    checks.flag("enforce_min_iou", enforce_min_iou, caller)
    image = tf.cast(image, tf.float32)
    boxes = tf.cast(boxes, tf.float32)
    labels = tf.cast(labels, tf.int32)
    if labels.shape.rank == 2 and labels.shape[-1] == 1:
        labels = labels[:, 0]
    if (image.shape.rank != 3 or image.shape[-1] != 3 or boxes.shape.rank != 2 or boxes.shape[-1] != 4
            or labels.shape.rank != 1 or not boxes.shape[:1].is_compatible_with(labels.shape)):
        raise ValueError(f"{caller}: Expected `image` [H, W, 3] (one image), `boxes` [N, 4] and `labels` [N]. "
                         f"Received: image.shape={tuple(image.shape)}, boxes.shape={tuple(boxes.shape)}, "
                         f"labels.shape={tuple(labels.shape)}")
    valid_boxes = tf.boolean_mask(boxes, labels >= 0)
    low, high = tf.reduce_min(image), tf.reduce_max(image)
    assertions = [tf.debugging.assert_equal(ok, True, message=f"{caller}: Expected {expected}") for ok, expected in (
        ((low >= 0.0) & (high <= 255.0), "`image` as RGB pixels in [0, 255]; values outside found (preprocessed?)"),
        ((high > 1.0) | tf.reduce_all(image == tf.round(image)),
         "`image` as pixels in [0, 255]; these look scaled to [0, 1]: multiply by 255"),
        (tf.reduce_all((valid_boxes >= 0.0) & (valid_boxes <= 1.0)), "`boxes` normalised to [0, 1] (fractions of "
         "the image side); these look like pixels: divide by the image size (label a padding row -1)"))]
    if not tf.executing_eagerly():  # Eagerly they already ran.
        with tf.control_dependencies(assertions):
            image = tf.identity(image)
    return image, boxes, labels, size


def ssd_augmentation(image, boxes, labels, seed, size=300, photometric=True, enforce_min_iou=False):
    """SSD's training augmentation of one image (see the module docstring).

    Args:
        image: [H, W, 3] RGB, uint8 or float in [0, 255].
        boxes: [N, 4] float normalised `[y0, x0, y1, x1]`.
        labels: [N] int classes; -1 marks padding.
        seed: Shape-[2] integer tensor (or an int).
        size: Output side. Defaults to 300.
        photometric: Whether to apply the photometric distortion. Defaults to `True`.
        enforce_min_iou: Whether the crop enforces its mode's minimum IoU (ssd.pytorch did not).
            Defaults to `False`.

    Returns:
        `(image [size, size, 3] float32, boxes [N, 4] in [0, 1], labels [N] int32)`.

    Raises:
        ValueError, tf.errors.InvalidArgumentError: for bad input (see the module docstring).
    """
    image, boxes, labels, size = _checked(image, boxes, labels, size, photometric, enforce_min_iou)
    seed = sampling.resolve_seed(seed)
    photo_seed, expand_seed, crop_seed, flip_seed = sampling.split_seed(seed, 4)
    boxes = tf.clip_by_value(boxes, 0.0, 1.0)
    if photometric:
        image = photometric_distort(image, photo_seed)
    image, boxes = expand(image, boxes, expand_seed)
    image, boxes, labels = random_crop(image, boxes, labels, crop_seed, enforce_min_iou)
    flip = sampling.uniform(flip_seed, []) < 0.5
    image = tf.where(flip, image[:, ::-1], image)
    flipped = tf.stack([boxes[:, 0], 1.0 - boxes[:, 3], boxes[:, 2], 1.0 - boxes[:, 1]], axis=-1)
    boxes = tf.where(flip & (labels >= 0)[:, None], flipped, boxes)
    image = tf.image.resize(image, [size, size], method="bilinear")
    return image, tf.clip_by_value(boxes, 0.0, 1.0), labels
