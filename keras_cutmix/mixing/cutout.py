"""Cutout (DeVries & Taylor, 2017), the paper's second baseline: erase a square, keep the label.

Each image gets a `size` x `size` hole (or `(height, width)`), centred on a uniformly drawn pixel and clipped
to the image, filled with `fill_value` (0 as in the authors' code). Labels are only one-hot encoded and
smoothed, never mixed. This is the replacement for `tensorflow_addons.image.random_cutout`, which does not
import with Keras 3: `tfa.image.random_cutout(images, (16, 16))` becomes `kc.cutout_fn(images, size=16)`.

References:
    - [DeVries & Taylor, 2017](https://arxiv.org/abs/1708.04552); code: github.com/uoguelph-mlrg/Cutout.
"""

import numpy as np
import tensorflow as tf

from keras_cutmix.mixing import apply as apply_ops
from keras_cutmix.mixing import boxes as box_lib
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import sampling


def sample_cutout(seed, batch_size, height, width, size=16, probability=1.0):
    """Draws one hole per sample. Pure: same seed, same holes.

    Args:
        seed: Shape-[2] integer tensor.
        batch_size: Batch size.
        height: Image height.
        width: Image width.
        size: Hole side in pixels, or `(hole_height, hole_width)`. Defaults to 16 (CIFAR-10 in the paper
            of Cutout; 8 for CIFAR-100).
        probability: Chance that each sample gets a hole. Defaults to 1.0.

    Returns:
        Dict with `boxes` (int32 [B, 4], (y0, x0, y1, x1), end-exclusive; zeros where no hole is cut).
    """
    apply_seed, box_seed = sampling.split_seed(seed, 2)
    hole_height, hole_width = check_size(size, "sample_cutout")
    boxes = sampling.centred_boxes(box_seed, batch_size, tf.cast(height, tf.int32), tf.cast(width, tf.int32),
                                   hole_height, hole_width)
    applied = sampling.sample_apply(apply_seed, batch_size, probability, per_sample=True)
    return {"boxes": tf.where(applied[:, None], boxes, tf.zeros_like(boxes))}


def apply_cutout(batch, mix, data_format="channels_last", fill_value=0):
    """Applies drawn holes to a `Batch`: erases them in the images; labels and masks stay as they are."""
    images = apply_ops.erase_boxes(batch.images, mix["boxes"], fill_value, data_format)
    return inputs.Batch(images, batch.labels, batch.segmentation_masks)


def check_size(size, caller):
    """Returns `size` as a pair of Python ints; raises ValueError unless it is a positive int or a pair of them."""
    size = inputs.python_number(size)
    pair = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
    if isinstance(pair, (tuple, list, np.ndarray)):
        pair = [inputs.python_number(s) for s in pair]
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in pair)):
        raise ValueError(
            f"{caller}: Expected `size` to be a positive int or a pair of positive ints (height, width). "
            f"Received: size={size!r}"
        )
    return tuple(pair)


def cutout_with_params(images, labels=None, *, size=16, probability=1.0, fill_value=0, num_classes=None,
                       label_smoothing=0.0, data_format=None, seed=None, seed_salt=None, bounding_box_format=None,
                       min_visibility=0.5, min_size=1.0, max_boxes=None):
    """`cutout_fn` that also returns the drawn holes: parse, `sample_cutout`, `apply_cutout`."""
    caller = "cutout_fn"
    size = check_size(size, caller)
    probability = inputs.check_fraction("probability", probability, caller)
    label_smoothing = inputs.check_fraction("label_smoothing", label_smoothing, caller, upper_inclusive=False)
    fill_value = inputs.python_number(fill_value)
    data_format = inputs.resolve_data_format(data_format, caller)
    rules = box_lib.check_box_args(bounding_box_format, min_visibility, min_size, max_boxes, caller)
    batch, pack = inputs.parse(images, labels, caller, num_classes, label_smoothing, data_format)
    box_batch = box_lib.parse_boxes(images, batch.images, rules, data_format, caller)
    mix = sample_cutout(sampling.resolve_seed(seed, seed_salt), *inputs.image_size(batch.images, data_format),
                        size=size, probability=probability)
    output = pack(apply_cutout(batch, mix, data_format, fill_value))
    return box_lib.mix_output(output, box_batch, box_lib.cutout_boxes, mix, rules, batch.images, data_format), mix


def cutout_fn(images, labels=None, *, size=16, probability=1.0, fill_value=0, num_classes=None,
              label_smoothing=0.0, data_format=None, seed=None, bounding_box_format=None, min_visibility=0.5,
              min_size=1.0, max_boxes=None):
    """Cutout for a batch, with the interface of `cutmix_fn`.

    Args:
        images: Batch of any numeric dtype (kept), or a dict with "images" (and "labels", and
            "bounding_boxes" as `cutmix_fn`).
        labels: Integer labels (needs `num_classes`) or float labels [B, K]; one-hot encoded, not mixed.
        size: Hole side in pixels, or `(height, width)`. Defaults to 16.
        probability: Chance that each image gets a hole. Defaults to 1.0.
        fill_value: Value written into the hole. Defaults to 0.
        num_classes: Number of classes for integer labels.
        label_smoothing: Applied to the labels. Defaults to 0.0.
        data_format: "channels_last" or "channels_first". Defaults to Keras's setting.
        seed: None, an int, or a shape-[2] int tensor.
        bounding_box_format: As `cutmix_fn`.
        min_visibility: Boxes with less than this fraction left outside the hole are dropped. Defaults
            to 0.5.
        min_size: Boxes clipped to their visible part must keep both sides this long. Defaults to 1.
        max_boxes: Boxes per output image. Defaults to None: N.

    Returns:
        The batch with holes, in the form it came in.
    """
    outputs, _ = cutout_with_params(images, labels, size=size, probability=probability, fill_value=fill_value,
                                    num_classes=num_classes, label_smoothing=label_smoothing,
                                    data_format=data_format, seed=seed, bounding_box_format=bounding_box_format,
                                    min_visibility=min_visibility, min_size=min_size, max_boxes=max_boxes)
    return outputs
