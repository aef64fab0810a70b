"""CutMix (Yun et al., ICCV 2019), Algorithm A1 made exact: sample a mix, paste it, mix the labels.

For a batch: shuffle to pick each image's partner, draw lambda ~ Beta(alpha, alpha), cut a box of
floor(sqrt(1 - lambda) * H) x floor(sqrt(1 - lambda) * W) pixels centred on a uniformly drawn pixel and
clipped to the image, paste the partner's box, then set lambda to the exact kept fraction
`1 - box_area / (H * W)` and mix targets `lambda * y + (1 - lambda) * y[partner]`.

The official code's `rand_bbox` names its variables the other way round (`W = size[2]`, `H = size[3]`
on NCHW tensors) but indexes with them consistently, so its row span does come from H and its column
span from W, as here. The one real difference, deliberate: the box spans exactly
`floor(sqrt(1 - lambda) * side)` pixels before clipping, where the official `cx -+ cut_w // 2` spans
`2 * (cut_w // 2)`, a pixel less when the side is odd.

References:
    - [Yun et al., 2019](https://arxiv.org/abs/1905.04899), Algorithm A1.
    - Official code: github.com/clovaai/CutMix-PyTorch, `train.py` (`rand_bbox`, `cutmix_prob`).
"""

import tensorflow as tf

from keras_cutmix.mixing import apply as apply_ops
from keras_cutmix.mixing import boxes as box_lib
from keras_cutmix.mixing import core
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import sampling


def sample_cutmix(seed, batch_size, height, width, alpha=1.0, probability=1.0, per_sample=False):
    """Draws one CutMix: partners, boxes and the exact label weights. Pure: same seed, same mix.

    Args:
        seed: Shape-[2] integer tensor.
        batch_size: Batch size (int or scalar int32 tensor).
        height, width: Image height and width in pixels.
        alpha: Beta(alpha, alpha) parameter. Defaults to 1.0 (uniform), the paper's choice.
        probability: Chance that mixing happens: for the whole batch when `per_sample=False` (the
            official code's `cutmix_prob`), for each sample independently otherwise. Defaults to 1.0.
        per_sample: If False (default, as in the paper's code), one lambda and one box for the batch.

    Returns:
        Dict with `permutation` (int32 [B], each sample's partner), `boxes` (int32 [B, 4] as
        (y0, x0, y1, x1), end-exclusive; all zeros where nothing is pasted) and `mix_weight` (float32 [B],
        the weight of each sample's own label: `1 - pasted_pixels / (H * W)`, exactly).
    """
    perm_seed, apply_seed, beta_seed, box_seed = sampling.split_seed(seed, 4)
    height, width = tf.cast(height, tf.int32), tf.cast(width, tf.int32)
    count = batch_size if per_sample else 1
    lam = sampling.sample_beta(beta_seed, [count], alpha)
    cut_ratio = tf.sqrt(1.0 - lam)
    box_height = tf.cast(cut_ratio * tf.cast(height, tf.float32), tf.int32)
    box_width = tf.cast(cut_ratio * tf.cast(width, tf.float32), tf.int32)
    boxes = sampling.centred_boxes(box_seed, count, height, width, box_height, box_width)
    boxes = tf.broadcast_to(boxes, [batch_size, 4])
    applied = sampling.sample_apply(apply_seed, batch_size, probability, per_sample)
    boxes = tf.where(applied[:, None], boxes, tf.zeros_like(boxes))
    return {"permutation": sampling.sample_permutation(perm_seed, batch_size), "boxes": boxes,
            "mix_weight": kept_fraction(boxes, height, width)}


def kept_fraction(boxes, height, width):
    """`1 - box_area / (H * W)` for integer boxes [B, 4], in float32, correctly rounded in every mode.

    The pixel counts are integers and one float32 division rounds their ratio once (exact counts up to
    2**24 pixels, i.e. 4096 x 4096 images). Grappler and XLA rewrite a division by a constant `x / c` as
    `x * (1 / c)`, which rounds twice; the denominator `max(H * W, box_area)` equals `H * W` (boxes are
    clipped to the image) but depends on the boxes, so no compiler can fold it into a constant.
    """
    image_area = height * width
    pasted = sampling.box_area(boxes)
    denominator = tf.maximum(tf.maximum(image_area, pasted), 1)
    return tf.cast(image_area - pasted, tf.float32) / tf.cast(denominator, tf.float32)


def apply_cutmix(batch, mix, data_format="channels_last", shared_box=False):
    """Applies a drawn CutMix to a `Batch`: pastes boxes into images and masks, mixes labels.

    Args:
        batch: `inputs.Batch` (images, float labels or None, segmentation masks or None).
        mix: Dict from `sample_cutmix`.
        data_format: Layout of the images (and rank-4 masks).
        shared_box: True when every sample has the same box (per-batch mixing): one mask for the batch.

    Returns:
        The mixed `inputs.Batch`, dtypes unchanged.
    """
    boxes = mix["boxes"][:1] if shared_box else mix["boxes"]
    images = apply_ops.paste_boxes(batch.images, mix["permutation"], boxes, data_format)
    labels, masks = batch.labels, batch.segmentation_masks
    if labels is not None:
        labels = apply_ops.mix_labels(labels, mix["permutation"], mix["mix_weight"])
    if masks is not None:
        masks = apply_ops.paste_boxes(masks, mix["permutation"], boxes, data_format)
    return inputs.Batch(images, labels, masks)


METHOD = core.Method(
    "cutmix_fn",
    sample=lambda seed, batch_size, height, width, args: sample_cutmix(
        seed, batch_size, height, width, args.alpha, args.probability, args.per_sample),
    apply=lambda batch, mix, args: apply_cutmix(batch, mix, args.data_format, shared_box=not args.per_sample),
    boxes=box_lib.cutmix_boxes,
)


@errors.caller("cutmix_fn")
def cutmix_fn(images, labels=None, *, num_classes=None, alpha=1.0, probability=1.0, per_sample=False,
              label_smoothing=0.0, data_format=None, seed=None, bounding_box_format=None, min_visibility=0.5,
              min_size=1.0, max_boxes=None, return_mix=False):
    """CutMix for a batch: a `tf.data` map function that also runs eagerly, in `tf.function` and XLA.

    ```python
    ds = tfds.load("cifar100", split="train", as_supervised=True).batch(64)
    ds = ds.map(lambda x, y: kc.cutmix_fn(x, y, num_classes=100))
    ```

    Args:
        images: Batch [B, H, W, C] (or [B, C, H, W] with `data_format="channels_first"`) of any numeric
            dtype, kept in the output; or a dict with "images", optional "labels",
            "segmentation_masks" ([B, H, W] or rank 4 in `data_format`, pasted with the same box) and
            "bounding_boxes" (`{"boxes": [B, N, 4], "labels": [B, N]}`, label -1 for padding).
        labels: Integer labels [B] (needs `num_classes`), or one-hot / soft float labels [B, K]. Mixed in
            float32 (float64 only for float64 labels).
        num_classes: Number of classes for integer labels.
        alpha: Beta(alpha, alpha) parameter. Defaults to 1.0.
        probability: Chance of mixing (per batch, or per sample with `per_sample`). Defaults to 1.0.
        per_sample: One lambda and box per sample instead of per batch. Defaults to False.
        label_smoothing: Applied to the labels before mixing. Defaults to 0.0.
        data_format: "channels_last" or "channels_first". Defaults to `keras.config.image_data_format()`.
        seed: None (fresh randomness each call), an int, or a shape-[2] int tensor: the same seed gives
            the same output. In a `tf.data` pipeline use `kc.map_with_seed` for a seeded pipeline whose
            batches and epochs all get different mixes.
        bounding_box_format: Keras's format name of the boxes ("xyxy", "rel_yxyx", ...); needed with
            "bounding_boxes". Defaults to None.
        min_visibility: A box is kept when at least this fraction of it is visible in the output image
            (the partner's boxes: inside the pasted rectangle; the own boxes: outside it). Defaults to 0.5.
        min_size: Boxes that the mix clips must keep both sides at least this long (pixels). Defaults to 1.
        max_boxes: Boxes per output image, padded with label -1. Defaults to None: 2N.
        (The box rules, the output order and the padding: `keras_cutmix.mixing.boxes`.)
        return_mix: Also return the drawn mix (to draw the pasted box, or check the label weights).

    Numbers may be Python or NumPy scalars (e.g. `num_classes=y.max() + 1`).

    Returns:
        The mixed batch in the form it came in: images; `(images, labels)` with float labels [B, K];
        or a dict (its "bounding_boxes" as `{"boxes": [B, M, 4], "labels": [B, M]}` in the same format).
        With `return_mix=True`, `(outputs, mix)`: `mix` is the dict `sample_cutmix` drew.

    Raises:
        ValueError: For an argument out of range, images not of rank 4, labels, segmentation masks or
            boxes that do not match the images, or an unknown `bounding_box_format`.
        tf.errors.InvalidArgumentError: For a box outside the image (eagerly, in graphs and `tf.data`).
        TypeError: For a seed, images or labels of the wrong kind.
    """
    args = core.check_args(alpha=alpha, probability=probability, label_smoothing=label_smoothing,
                           per_sample=per_sample, num_classes=num_classes, data_format=data_format,
                           bounding_box_format=bounding_box_format, min_visibility=min_visibility,
                           min_size=min_size, max_boxes=max_boxes)
    outputs, mix = core.mix_inputs(METHOD, args, images, labels, seed)
    return (outputs, mix) if return_mix else outputs
