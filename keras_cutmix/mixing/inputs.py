"""Input handling shared by every mixing function and layer: parse, validate, prepare labels, pack.

Inputs come as images alone, an `(images, labels)` pair (as `dataset.map(fn)` passes a tuple element) or a
dict with "images" and optional "labels", "segmentation_masks" and "bounding_boxes" (boxes.py), as
`keras.layers.CutMix` takes; outputs keep the form. Bad input raises before any mixing work, naming the
argument, what was expected and what was received, after the name of the public function or layer the
user called (`errors.caller`).
"""

import math
from typing import NamedTuple, Optional

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix.mixing import errors
from keras_cutmix.mixing import labels as label_lib

IMAGES_KEY = "images"
LABELS_KEY = "labels"
MASKS_KEY = "segmentation_masks"
BOXES_KEY = "bounding_boxes"


class Batch(NamedTuple):
    """A validated batch. Labels are float [B, K] (one-hot first if they were integers)."""

    images: tf.Tensor
    labels: Optional[tf.Tensor]
    segmentation_masks: Optional[tf.Tensor]


def python_number(value):
    """A NumPy scalar (or 0-d array) as the Python number it holds (a layer's config stays JSON); else `value`."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_positive(name, value, caller=None):
    """`value` as a Python number; raises ValueError unless it is a finite number > 0 (`caller`: `errors.named`)."""
    value = python_number(value)
    if not _is_number(value) or value <= 0:
        raise ValueError(errors.named(f"Expected `{name}` to be a finite number > 0. Received: {name}={value!r}",
                                      caller))
    return value


def check_fraction(name, value, upper_inclusive=True):
    """Returns `value` as a Python number; raises ValueError unless it is in [0, 1] (or [0, 1))."""
    value = python_number(value)
    ok = _is_number(value) and 0.0 <= value and (value <= 1.0 if upper_inclusive else value < 1.0)
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(errors.named(f"Expected `{name}` in {interval}. Received: {name}={value!r}"))
    return value


def check_count(name, value):
    """Returns `value` as a Python int (or None); raises ValueError unless it is None or an int >= 1."""
    value = python_number(value)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(errors.named(f"Expected `{name}` to be None or an int >= 1. Received: {name}={value!r}"))
    return value


def check_seed(seed, caller=None):
    """Returns `seed` as a Python int (or None); raises TypeError unless it is None or an int."""
    seed = python_number(seed)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(errors.named(f"Expected `seed` to be an int or None. Received: seed={seed!r}", caller))
    return seed


def resolve_data_format(data_format):
    """Returns "channels_last" or "channels_first"; None means `keras.config.image_data_format()`."""
    data_format = data_format or keras.config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(errors.named(
            "Expected `data_format` to be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"))
    return data_format


def spatial_axes(data_format):
    """The (height, width) axes of a rank-4 batch in `data_format`."""
    return (1, 2) if data_format == "channels_last" else (2, 3)


def image_size(images, data_format):
    """Dynamic (batch, height, width) of a rank-4 batch in `data_format`."""
    shape = tf.shape(images)
    height_axis, width_axis = spatial_axes(data_format)
    return shape[0], shape[height_axis], shape[width_axis]


def _check_images(images):
    images = tf.convert_to_tensor(images) if not isinstance(images, tf.Tensor) else images
    if not (images.dtype.is_integer or images.dtype.is_floating) or images.dtype == tf.bool:
        raise TypeError(errors.named(
            "Expected `images` of a numeric dtype (uint8, float16, bfloat16, float32, ...). "
            f"Received: images.dtype={images.dtype.name}"))
    if images.shape.rank != 4:
        raise ValueError(errors.named(
            "Expected a batch of images of rank 4 ([batch, height, width, channels] or "
            f"channels_first). Received: images of rank {images.shape.rank} with shape {images.shape}. "
            "Mixing pairs images within a batch: batch the dataset first, e.g. "
            "`dataset.batch(64).map(cutmix_fn)`."))
    return images


def check_batch_size(name, tensor, images):
    """Raises ValueError if `tensor` and `images` have different static batch sizes; else the run-time check."""
    static_images, static_other = images.shape[0], tensor.shape[0]
    if static_images is not None and static_other is not None and static_images != static_other:
        raise ValueError(errors.named(
            f"Expected `{name}` to have the batch size of `images` ({static_images}). "
            f"Received: {name}.shape={tensor.shape}, images.shape={images.shape}"))
    if static_images is None or static_other is None:
        return tf.debugging.assert_equal(tf.shape(tensor)[0], tf.shape(images)[0],
                                         message=errors.named(f"Expected `{name}` to have the batch size of `images`."))
    return None


def prepare_labels(labels, images, num_classes, label_smoothing):
    """`labels.class_targets(labels, num_classes, label_smoothing)` (see there), checked against `images`.

    Returns:
        `(labels, checks)`: float labels [B, K] that wait for the assertions, and the assertion ops (for
        graphs; None entries eagerly), the batch size's among them.
    """
    labels = tf.convert_to_tensor(labels)
    batch_check = check_batch_size("labels", labels, images)
    labels, checks = label_lib.class_targets(labels, num_classes, label_smoothing)
    checks = [batch_check, *checks]
    return label_lib.wait_for(checks, labels), checks


def _check_masks(masks, images, data_format):
    """`(masks, checks)`: masks checked against the images (rank, batch size, height and width in layout)."""
    masks = tf.convert_to_tensor(masks)
    if masks.shape.rank not in (3, 4):
        raise ValueError(errors.named(
            "Expected segmentation_masks of rank 3 [B, H, W] or rank 4 (in `data_format`). "
            f"Received: segmentation_masks.shape={masks.shape}"))
    checks = [check_batch_size("segmentation_masks", masks, images)]
    image_axes = spatial_axes(data_format)
    mask_axes = (1, 2) if masks.shape.rank == 3 else image_axes
    layout = "[B, H, W]" if masks.shape.rank == 3 else (
        "[B, H, W, C]" if data_format == "channels_last" else "[B, C, H, W]")
    message = errors.named(
        f"Expected segmentation_masks {layout} with the height and width of the images "
        f"(data_format={data_format!r}). Received: segmentation_masks.shape={masks.shape}, "
        f"images.shape={images.shape}")
    static_masks = [masks.shape[a] for a in mask_axes]
    static_images = [images.shape[a] for a in image_axes]
    if any(m is not None and i is not None and m != i for m, i in zip(static_masks, static_images)):
        raise ValueError(message)
    if None in static_masks or None in static_images:
        checks.append(tf.debugging.assert_equal(
            tf.gather(tf.shape(masks), mask_axes), tf.gather(tf.shape(images), image_axes), message=message))
    return masks, checks


def parse(images, labels, num_classes=None, label_smoothing=0.0, data_format="channels_last"):
    """Validates the inputs of a mixing function and returns them as a `Batch` and a packer.

    Args:
        images: A rank-4 batch, or a dict with "images" and optional "labels" / "segmentation_masks".
        labels: Labels when `images` is a tensor, else None.
        num_classes, label_smoothing: Passed to `prepare_labels` (already checked).
        data_format: Layout of the images (and of rank-4 segmentation masks).

    Returns:
        `(batch, pack)`: the validated `Batch`, and `pack(batch)` which returns a mixed batch in the
        form the inputs came in (other dict keys pass through; `core.mix_inputs` replaces "bounding_boxes").

    Raises:
        ValueError: For a dict without "images", labels given twice, images not of rank 4, or labels or
            masks that do not match the images.
        TypeError: For images or labels of a non-numeric dtype.
    """
    if isinstance(images, dict):
        if labels is not None:
            raise ValueError(errors.named("Pass labels inside the dict, not as a second argument. Received both."))
        if IMAGES_KEY not in images:
            raise ValueError(errors.named(
                f"Expected a dict with key '{IMAGES_KEY}' (and optional '{LABELS_KEY}', "
                f"'{MASKS_KEY}'). Received keys: {sorted(images)}"))
        data = images
        images, labels, masks = data[IMAGES_KEY], data.get(LABELS_KEY), data.get(MASKS_KEY)
    else:
        data, masks = None, None
    images = _check_images(images)
    checks = []
    if labels is not None:
        labels, checks = prepare_labels(labels, images, num_classes, label_smoothing)
    if masks is not None:
        masks, mask_checks = _check_masks(masks, images, data_format)
        checks = checks + mask_checks
        masks = label_lib.wait_for(checks, masks)
    # The mixing ops read the images: make them wait for every check, so a graph raises our message
    # rather than a gather's "indices out of range".
    images = label_lib.wait_for(checks, images)

    def pack(batch):
        if data is None:
            return batch.images if batch.labels is None else (batch.images, batch.labels)
        out = {**data, IMAGES_KEY: batch.images}
        for key, value in ((LABELS_KEY, batch.labels), (MASKS_KEY, batch.segmentation_masks)):
            if value is not None:
                out[key] = value
        return out

    return Batch(images, labels, masks), pack
