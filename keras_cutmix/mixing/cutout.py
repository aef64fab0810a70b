"""Cutout (DeVries & Taylor, 2017), the paper's second baseline: erase a square, keep the label.

Each image gets a `size` x `size` hole (or `(height, width)`), centred on a uniformly drawn pixel and clipped
to the image, filled with `fill_value` (0 as in the authors' code). Labels are only one-hot encoded and
smoothed, never mixed. This is the replacement for `tensorflow_addons.image.random_cutout`, which does not
import with Keras 3: `tfa.image.random_cutout(images, (16, 16))` becomes `kc.cutout_fn(images, size=16)`.

References:
    - [DeVries & Taylor, 2017](https://arxiv.org/abs/1708.04552); code: github.com/uoguelph-mlrg/Cutout.
"""

import tensorflow as tf

from keras_cutmix.mixing import apply as apply_ops
from keras_cutmix.mixing import boxes as box_lib
from keras_cutmix.mixing import core
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import sampling


def sample_cutout(seed, batch_size, height, width, size=16, probability=1.0):
    """Draws one hole per sample. Pure: same seed, same holes.

    Args:
        seed: Shape-[2] integer tensor.
        batch_size: Batch size.
        height, width: Image height and width in pixels.
        size: Hole side in pixels, or `(hole_height, hole_width)` (checked by the caller: `core.check_size`).
            Defaults to 16 (CIFAR-10 in the paper of Cutout; 8 for CIFAR-100).
        probability: Chance that each sample gets a hole. Defaults to 1.0.

    Returns:
        Dict with `boxes` (int32 [B, 4], (y0, x0, y1, x1), end-exclusive; zeros where no hole is cut).
    """
    apply_seed, box_seed = sampling.split_seed(seed, 2)
    hole_height, hole_width = (size, size) if isinstance(size, int) else size
    boxes = sampling.centred_boxes(box_seed, batch_size, tf.cast(height, tf.int32), tf.cast(width, tf.int32),
                                   hole_height, hole_width)
    applied = sampling.sample_apply(apply_seed, batch_size, probability, per_sample=True)
    return {"boxes": tf.where(applied[:, None], boxes, tf.zeros_like(boxes))}


def apply_cutout(batch, mix, data_format="channels_last", fill_value=0):
    """Applies drawn holes to a `Batch`: erases them in the images; labels and masks stay as they are."""
    images = apply_ops.erase_boxes(batch.images, mix["boxes"], fill_value, data_format)
    return inputs.Batch(images, batch.labels, batch.segmentation_masks)


METHOD = core.Method(
    "cutout_fn",
    sample=lambda seed, batch_size, height, width, args: sample_cutout(
        seed, batch_size, height, width, args.size, args.probability),
    apply=lambda batch, mix, args: apply_cutout(batch, mix, args.data_format, args.fill_value),
    boxes=box_lib.cutout_boxes,
)


@errors.caller("cutout_fn")
def cutout_fn(images, labels=None, *, size=16, probability=1.0, fill_value=0, num_classes=None,
              label_smoothing=0.0, data_format=None, seed=None, bounding_box_format=None, min_visibility=0.5,
              min_size=1.0, max_boxes=None, return_mix=False):
    """Cutout for a batch, with the interface of `cutmix_fn`.

    Args:
        images: Batch of any numeric dtype (kept), or a dict with "images" (and "labels", and
            "bounding_boxes" as `cutmix_fn`).
        labels: Integer labels (needs `num_classes`) or float labels [B, K]; one-hot encoded, not mixed.
        size: Hole side in pixels, or `(height, width)`. Defaults to 16.
        probability: Chance that each image gets a hole. Defaults to 1.0.
        fill_value: Value written into the hole. Defaults to 0.
        num_classes, label_smoothing, data_format, seed, bounding_box_format: As `cutmix_fn`.
        min_visibility: Boxes with less than this fraction left outside the hole are dropped.
        min_size: Boxes clipped to their visible part must keep both sides this long. Defaults to 1.
        max_boxes: Boxes per output image. Defaults to None: N.
        return_mix: Also return the drawn holes. Defaults to False.

    Returns:
        The batch with holes, in the form it came in; with `return_mix=True`, `(outputs, mix)`, `mix` being
        the dict `sample_cutout` drew.
    """
    args = core.check_args(size=size, probability=probability, label_smoothing=label_smoothing,
                           fill_value=fill_value, num_classes=num_classes, data_format=data_format,
                           bounding_box_format=bounding_box_format, min_visibility=min_visibility,
                           min_size=min_size, max_boxes=max_boxes)
    outputs, mix = core.mix_inputs(METHOD, args, images, labels, seed)
    return (outputs, mix) if return_mix else outputs
