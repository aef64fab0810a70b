"""MixUp (Zhang et al., 2018), the paper's first baseline: blend two images and their labels.

lambda ~ Beta(alpha, alpha); `x = lambda * x + (1 - lambda) * x[partner]`, and the same for the targets.
Same interface, seeds and per-batch / per-sample options as `cutmix_fn`.

References:
    - [Zhang et al., 2018](https://arxiv.org/abs/1710.09412).
    - [Yun et al., 2019](https://arxiv.org/abs/1905.04899), Table 1 (Mixup baseline, alpha = 1).
"""

import tensorflow as tf

from keras_cutmix.mixing import apply as apply_ops
from keras_cutmix.mixing import boxes as box_lib
from keras_cutmix.mixing import core
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import sampling


def sample_mixup(seed, batch_size, alpha=1.0, probability=1.0, per_sample=False):
    """Draws one MixUp: partners and blend weights. Pure: same seed, same mix.

    Args:
        seed, batch_size, alpha, probability, per_sample: As `sample_cutmix` (one lambda, no box).

    Returns:
        Dict with `permutation` (int32 [B]) and `mix_weight` (float32 [B], the weight of each sample's
        own image and label; 1.0 where nothing is mixed).
    """
    perm_seed, apply_seed, beta_seed = sampling.split_seed(seed, 3)
    lam = sampling.sample_beta(beta_seed, [batch_size if per_sample else 1], alpha)
    applied = sampling.sample_apply(apply_seed, batch_size, probability, per_sample)
    return {"permutation": sampling.sample_permutation(perm_seed, batch_size),
            "mix_weight": tf.where(applied, tf.broadcast_to(lam, [batch_size]), 1.0)}


def apply_mixup(batch, mix):
    """Applies a drawn MixUp to a `Batch` (its segmentation masks, which cannot be blended, are left alone).

    Args:
        batch: `inputs.Batch`.
        mix: Dict from `sample_mixup`.

    Returns:
        The mixed `inputs.Batch`, image dtype unchanged.
    """
    images = apply_ops.blend_images(batch.images, mix["permutation"], mix["mix_weight"])
    labels = None if batch.labels is None else apply_ops.mix_labels(batch.labels, mix["permutation"], mix["mix_weight"])
    return inputs.Batch(images, labels, batch.segmentation_masks)


METHOD = core.Method(
    "mixup_fn",
    sample=lambda seed, batch_size, height, width, args: sample_mixup(
        seed, batch_size, args.alpha, args.probability, args.per_sample),
    apply=lambda batch, mix, args: apply_mixup(batch, mix),
    boxes=box_lib.mixup_boxes,
    mask_error="MixUp blends pixels and cannot mix segmentation_masks. Received a dict with them.",
)


@errors.caller("mixup_fn")
def mixup_fn(images, labels=None, *, num_classes=None, alpha=1.0, probability=1.0, per_sample=False,
             label_smoothing=0.0, data_format=None, seed=None, bounding_box_format=None, min_visibility=0.5,
             min_size=1.0, max_boxes=None, return_mix=False):
    """MixUp for a batch, with the interface of `cutmix_fn`.

    Args:
        images: Batch of any numeric dtype (integers are rounded back after blending), or a dict (with
            optional "bounding_boxes", as `cutmix_fn`).
        labels, num_classes, alpha, probability, per_sample, label_smoothing, seed, max_boxes: As `cutmix_fn`.
        data_format: Accepted for symmetry; blending does not depend on it.
        bounding_box_format: As `cutmix_fn`. Both images' boxes are kept, each with its image's blend
            weight in "box_weights" [B, M].
        min_visibility, min_size: Accepted for symmetry; blending hides no box.
        return_mix: Also return the drawn mix. Defaults to False.

    Returns:
        The mixed batch in the form it came in; with `return_mix=True`, `(outputs, mix)`, `mix` being the
        dict `sample_mixup` drew.
    """
    args = core.check_args(alpha=alpha, probability=probability, label_smoothing=label_smoothing,
                           per_sample=per_sample, num_classes=num_classes, data_format=data_format,
                           bounding_box_format=bounding_box_format, min_visibility=min_visibility,
                           min_size=min_size, max_boxes=max_boxes)
    outputs, mix = core.mix_inputs(METHOD, args, images, labels, seed)
    return (outputs, mix) if return_mix else outputs
