"""In-between-class samples (the paper's Figure 5b): Mixup and CutMix blends of two test images.

    pairs = sample_pairs(len(images), 1000, seed=0, labels=labels)      # [P, 2], different classes
    a, b = images[pairs[:, 0]], images[pairs[:, 1]]
    blends = mixup_between(a, b, lam=0.3)                               # 0.3 * a + 0.7 * b
    pasted = cutmix_between(a, b, side=16)                              # centred 16 x 16 of b in a
    accuracy = in_between_accuracy(model, images, labels, pairs, [0.0, 0.5, 1.0], "mixup")

**Lambda** is the share of the first image `a`, for both kinds. Mixup: `lam * a + (1 - lam) * b`. CutMix: `b`'s
centred `side x side` square pasted into `a` (the square of `occlusion.centred_box`: top-left at
`((H - side) // 2, (W - side) // 2)`), so `lam = 1 - side**2 / (H * W)` (`cutmix_lambda`, from the clipped square in
non-square images). Lambda 1 (side 0) gives `a`, lambda 0 (side = the image side, square images) gives `b`.

**Correct** means the top-1 prediction is *either* of the two classes. The paper plots "the probability to predict
neither two classes" as the top-1 error of these samples (Section 4.4), so its accuracy is one minus that: a model is
not asked to pick the dominant image, only not to answer a third class. Hence the curves are high at both ends (plain
test accuracy of `b` at lambda 0 and of `a` at lambda 1) and dip in between.

**Reuse.** The pixels come from the mixing core's pure appliers, as in training: `apply.blend_images` and
`apply.paste_boxes` act on a batch and a permutation, so both are called on `[a; b]` with the permutation that swaps
the halves, and the first half is kept. Pairs are drawn with replacement (the paper draws 50,000 pairs from the 50,000
ImageNet validation images).

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), Section 4.4 and Figure 5b.
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.mixing import apply, inputs
from keras_cutmix.robustness import predict as predict_lib
from keras_cutmix.robustness.occlusion import centred_box, check_side

KINDS = ("mixup", "cutmix")


def sample_pairs(num_images, num_pairs, seed, labels=None):
    """Draws `num_pairs` pairs `(i, j)` of distinct images, of different classes when `labels` are given.

    `i` is uniform over the images; `j` uniform over the images other than `i` (or, with labels, over the images whose
    class differs from `i`'s), drawn exactly, without rejection. Pairs are independent, so one may repeat.

    Args:
        num_images: Number of images to draw from, an int >= 2.
        num_pairs: Number of pairs, an int >= 0.
        seed: Int seed of a NumPy `default_rng`; the same seed gives the same pairs.
        labels: Optional class ids `[num_images]` or `[num_images, 1]`, or one-hot rows `[num_images, K]`.

    Returns:
        int64 NumPy array `[num_pairs, 2]`.

    Raises:
        ValueError: For bad counts or labels, or labels with a single class.
        TypeError: For a seed that is not an int.
    """
    return pairs_for(num_images, num_pairs, seed, labels, "sample_pairs")


def pairs_for(num_images, num_pairs, seed, labels, caller):
    """`sample_pairs` with errors naming `caller` (every argument checked here)."""
    num_images = checks.count("num_images", num_images, caller, minimum=2)
    num_pairs = checks.count("num_pairs", num_pairs, caller, minimum=0)
    seed = inputs.check_seed(seed, caller)
    if seed is None:
        raise TypeError(f"{caller}: Expected `seed` to be an int. Received: seed=None")
    if labels is not None:
        labels = checks.class_ids("labels", labels.numpy() if tf.is_tensor(labels) else labels, caller,
                                  length=num_images)
    rng = np.random.default_rng(seed)
    first = rng.integers(num_images, size=num_pairs)
    if labels is None:
        # The others of i: positions 0..N-2 of range(N) with i left out.
        offset = rng.integers(num_images - 1, size=num_pairs)
        return np.stack([first, offset + (offset >= first)], axis=1).astype(np.int64)
    classes, class_of, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"{caller}: Expected `labels` with at least 2 classes to pair. Received: one class "
                         f"{classes.tolist()}")
    order = np.argsort(class_of, kind="stable")  # Images grouped by class; class c's block starts at starts[c].
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    own = class_of[first]
    # Uniform over the N - count[c] images of other classes: positions in `order` with c's block left out.
    offset = rng.integers(num_images - counts[own])
    position = offset + np.where(offset >= starts[own], counts[own], 0)
    return np.stack([first, order[position]], axis=1).astype(np.int64)


def _swap_halves(count):
    """The permutation of `[a; b]` (2 * count images) that pairs each image with its partner."""
    return tf.concat([tf.range(count, 2 * count), tf.range(count)], axis=0)


def _check_pair(images_a, images_b, caller):
    a, b = tf.convert_to_tensor(images_a), tf.convert_to_tensor(images_b)
    if a.shape.rank != 4 or a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(f"{caller}: Expected `images_a` and `images_b` of one shape [B, H, W, C] and dtype. "
                         f"Received: {a.shape} {a.dtype.name} and {b.shape} {b.dtype.name}")
    return a, b


def _check_lam(lam, count, caller):
    """`lam` as a Python float or a float32 array [count] of fractions; a symbolic tensor passes unchecked."""
    if tf.is_tensor(lam) and not hasattr(lam, "numpy"):
        return lam  # Inside a graph: its values are not known here.
    lam = lam.numpy() if tf.is_tensor(lam) else lam
    if np.ndim(lam) == 0:
        return checks.fraction("lam", lam, caller)
    if np.ndim(lam) != 1 or (count is not None and len(lam) != count):
        raise ValueError(f"{caller}: Expected `lam` to be a number or one per pair [{count}]. Received: "
                         f"lam.shape={np.shape(lam)}")
    return np.array(checks.fractions("lam", lam, caller), np.float32)


def mixup_between(images_a, images_b, lam):
    """`lam * images_a + (1 - lam) * images_b`, through `apply.blend_images`.

    Args:
        images_a: `[B, H, W, C]` NumPy array or tensor.
        images_b: Partners, same shape and dtype.
        lam: Weight of `images_a`, a number in `[0, 1]` or one per pair `[B]` (a symbolic tensor: unchecked).

    Returns:
        Blends like `images_a` (integer images are rounded, as `blend_images` does); NumPy for NumPy input.

    Raises:
        ValueError: For images of different shapes or dtypes, or a `lam` outside `[0, 1]` or of another shape.
    """
    caller = "mixup_between"
    a, b = _check_pair(images_a, images_b, caller)
    mixed = _mixup(a, b, _check_lam(lam, a.shape[0], caller))
    return mixed if tf.is_tensor(images_a) else mixed.numpy()


def _mixup(a, b, lam):
    count = tf.shape(a)[0]
    weight = tf.broadcast_to(tf.cast(lam, tf.float32), [count])
    return apply.blend_images(tf.concat([a, b], 0), _swap_halves(count), tf.concat([weight, weight], 0))[:count]


def cutmix_between(images_a, images_b, side):
    """`images_a` with the centred `side x side` square of `images_b` pasted in, through `apply.paste_boxes`.

    Args:
        images_a, images_b: As `mixup_between`.
        side: Side of the pasted square, an int from 0 to `max(H, W)` (clipped to the image).

    Returns:
        Images like `images_a`; NumPy for NumPy input. Their lambda is `cutmix_lambda(side, H, W)`.

    Raises:
        ValueError: For images of different shapes or dtypes, or a bad `side`.
    """
    caller = "cutmix_between"
    a, b = _check_pair(images_a, images_b, caller)
    mixed = _cutmix(a, b, check_side("side", side, a.shape[1], a.shape[2], caller))
    return mixed if tf.is_tensor(images_a) else mixed.numpy()


def _cutmix(a, b, side):
    count = tf.shape(a)[0]
    box = centred_box(tf.shape(a)[1], tf.shape(a)[2], side)
    return apply.paste_boxes(tf.concat([a, b], 0), _swap_halves(count), box)[:count]


def cutmix_lambda(side, height, width):
    """The share of the first image after `cutmix_between`: `1 - area(centred square) / (height * width)`.

    Raises:
        ValueError: For a `height` or `width` that is not an int >= 1, or a `side` outside `[0, max(H, W)]`.
    """
    caller = "cutmix_lambda"
    height = checks.count("height", height, caller)
    width = checks.count("width", width, caller)
    side = check_side("side", side, height, width, caller)
    y0, x0, y1, x1 = centred_box(height, width, side)[0].numpy().tolist()
    return 1.0 - (y1 - y0) * (x1 - x0) / (height * width)


def in_between_accuracy(model, images, labels, pairs, values, kind, *, pixel_scale=255.0, batch_size=128,
                        progress=None):
    """Top-1 accuracy on in-between-class samples, one value per entry of `values`.

    A prediction is correct when it is either of the pair's two classes (see the module docstring).

    Args:
        model, images, labels, pixel_scale: As `occlusion_accuracy`.
        pairs: Int `[P, 2]` indices into `images`, e.g. from `sample_pairs`.
        values: For `"mixup"`, lambdas in `[0, 1]`; for `"cutmix"`, square sides (see `cutmix_lambda`); non-empty.
        kind: `"mixup"` or `"cutmix"`.
        batch_size: Pairs per compiled call. Defaults to 128.
        progress: None, or what counts the work (`keras.utils.Progbar`): its `add(n)` is told the samples
            predicted, one unit per pair and value. Defaults to None.

    Returns:
        float64 NumPy array `[len(values)]` of accuracies in `[0, 1]` (NaN for no pair).

    Raises:
        ValueError: For an unknown `kind`, bad `pairs`, values (lambdas outside `[0, 1]`), labels (of
            another shape or outside the model's classes) or images (outside `[0, 1]`).
        TypeError: For a `model` that is not a `keras.Model`.
    """
    caller = "in_between_accuracy"
    checks.keras_model(model, caller)
    if kind not in KINDS:
        raise ValueError(f"{caller}: Expected `kind` to be one of {KINDS}. Received: kind={kind!r}")
    images = predict_lib.check_images(images, caller)
    pixel_scale = predict_lib.check_pixel_scale(pixel_scale, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    truth = predict_lib.class_ids(model, images, labels, pixel_scale, caller)
    pairs = np.asarray(pairs.numpy() if tf.is_tensor(pairs) else pairs)
    if pairs.size == 0:
        pairs = pairs.reshape(0, 2).astype(np.int64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer) or (
            pairs.size and (pairs.min() < 0 or pairs.max() >= len(images))):
        raise ValueError(f"{caller}: Expected `pairs` as int [P, 2] indices in [0, {len(images)}). "
                         f"Received: pairs.shape={pairs.shape}, dtype={pairs.dtype}"
                         + (f", values in [{pairs.min()}, {pairs.max()}]" if pairs.size and pairs.ndim == 2 else ""))
    values = values.numpy() if tf.is_tensor(values) else values
    if isinstance(values, (str, bytes)) or not np.iterable(values):
        raise ValueError(f"{caller}: Expected `values` to be a sequence. Received: values={values!r}")
    if kind == "mixup":
        values = list(checks.fractions("values", values, caller))
        mix = _mixup
    else:
        values = [check_side(f"values[{i}]", value, images.shape[1], images.shape[2], caller)
                  for i, value in enumerate(values)]
        mix = _cutmix
    correct = np.zeros([len(values)], np.int64)
    for begin in range(0, len(pairs), batch_size):
        first, second = pairs[begin:begin + batch_size, 0], pairs[begin:begin + batch_size, 1]
        a, b = tf.constant(images[first]), tf.constant(images[second])
        for index, value in enumerate(values):
            predictions = predict_lib.predictions(model, mix(a, b, value), pixel_scale, batch_size, progress)
            correct[index] += int(np.sum((predictions == truth[first]) | (predictions == truth[second])))
    return correct / len(pairs) if len(pairs) else np.full([len(values)], np.nan)
