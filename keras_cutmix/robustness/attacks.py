"""White-box L-inf attacks: FGSM (the paper's Table 11) and PGD, and top-1 accuracy under attack.

    adversarial = fgsm(model, images, labels, eps=8 / 255)          # images in [0, 1]
    adversarial = pgd(model, images, labels, eps=8 / 255, steps=10, seed=0)
    accuracy = accuracy_under_attack(model, (images, labels), fgsm)

**Pixel space.** Images, adversarial images, `eps` and `step_size` are in `[0, 1]` units (8 / 255 is 8 grey levels);
the model receives `images * pixel_scale` (see `keras_cutmix.robustness`).

**FGSM** (Goodfellow et al.): `clip(x + eps * sign(grad_x CE(model(x), y)), 0, 1)` with the true labels. **PGD**
(Madry et al.): start at `x + U(-eps, eps)` (or at `x` with `random_start=False`), then `steps` times `x_adv <-
P(x_adv + step_size * sign(grad))`, where `P` projects onto the L-inf ball of radius `eps` around `x` intersected with
`[0, 1]` (a clip to `[max(x - eps, 0), min(x + eps, 1)]`: the box constraints are separable, so this is the exact
projection). FGSM is PGD with one step of `step_size = eps` from `x`, and both run the same compiled function. A zero
gradient component leaves that pixel where it is (`sign(0) = 0`).

**Cross-entropy on logits or probabilities** (`from_logits`): `True` takes the output as logits
(`softmax_cross_entropy_with_logits`), `False` as probabilities (`-sum y log p`, with `p` floored at the smallest
normal float32 so that a zero probability gives a finite loss). `None` (the default) applies the package's one rule,
`keras_cutmix.checks.outputs_logits`, to the model and its outputs on the first chunk of clean images.

Every argument is checked before the first gradient; an empty batch gives an empty batch. Images go through the model
in chunks of `batch_size`, each through one `tf.function` per model, loss type and pixel scale
(`keras_cutmix.models.function_cache`). The random start is drawn for the whole input at once from a stateless
generator (`mixing.sampling.uniform`), so it depends on `seed` only, not on `batch_size`.

References:
    - [Goodfellow et al., 2015, Explaining and Harnessing Adversarial Examples](https://arxiv.org/abs/1412.6572)
    - [Madry et al., 2018, Towards Deep Learning Models Resistant to Adversarial
      Attacks](https://arxiv.org/abs/1706.06083)
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), Table 11 (FGSM, eps = 8 / 255).
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.mixing import inputs, sampling
from keras_cutmix.models.function_cache import compiled
from keras_cutmix.robustness import predict as predict_lib

_TINY = float(np.finfo(np.float32).tiny)
_FGSM_STEP = object()  # FGSM's `step_size`: one step of `eps`.


def _cross_entropy(outputs, targets, from_logits):
    outputs = tf.cast(outputs, tf.float32)
    if from_logits:
        return tf.nn.softmax_cross_entropy_with_logits(targets, outputs)
    return -tf.reduce_sum(targets * tf.math.log(tf.maximum(outputs, _TINY)), axis=-1)


def _attack_function(model_ref, from_logits, pixel_scale):
    @tf.function(reduce_retracing=True)
    def attack(images, targets, start, eps, step_size, steps):
        lower = tf.maximum(images - eps, 0.0)
        upper = tf.minimum(images + eps, 1.0)
        adversarial = tf.clip_by_value(images + start, lower, upper)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(adversarial)
                outputs = model_ref()(adversarial * pixel_scale, training=False)
                # Images are independent at inference: the gradient of the sum is each image's own.
                loss = tf.reduce_sum(_cross_entropy(outputs, targets, from_logits))
            gradient = tape.gradient(loss, adversarial)
            adversarial = tf.clip_by_value(adversarial + step_size * tf.sign(gradient), lower, upper)
        return adversarial

    return attack


def _attack(model, images, labels, eps, step_size, steps, random_start, seed, from_logits, pixel_scale, batch_size,
            progress, caller):
    """Checks every argument before any gradient, then runs the compiled attack chunk by chunk: float32 NumPy images."""
    checks.keras_model(model, caller)
    images = images.numpy() if tf.is_tensor(images) else images
    dtype = np.asarray(images).dtype
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"{caller}: Expected float `images` in [0, 1] (divide uint8 pixels by 255). "
                         f"Received: images.dtype={dtype}")
    images = predict_lib.check_images(images, caller)
    eps = checks.fraction("eps", eps, caller)
    step_size = eps if step_size is _FGSM_STEP else float(inputs.check_positive("step_size", step_size, caller))
    pixel_scale = predict_lib.check_pixel_scale(pixel_scale, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    from_logits = checks.flag("from_logits", from_logits, caller, allow_none=True)
    # One eager call on the first chunk: the class count of any model, and the outputs `from_logits=None` reads.
    clean = predict_lib.class_outputs(model, images[:batch_size], pixel_scale, caller) if len(images) else None
    ids = checks.class_ids("labels", labels.numpy() if tf.is_tensor(labels) else labels, caller,
                           num_classes=None if clean is None else int(clean.shape[-1]), length=len(images))
    if clean is not None and from_logits is None:  # The package's one rule where the flag is None.
        from_logits = checks.outputs_logits(model, clean.numpy())
    start_seed = sampling.resolve_seed(seed) if random_start else None
    if clean is None:  # No image.
        return np.zeros(images.shape, np.float32)
    targets = tf.one_hot(ids, int(clean.shape[-1]), dtype=tf.float32)
    start = np.zeros_like(images) if start_seed is None else (
        eps * (2.0 * sampling.uniform(start_seed, images.shape) - 1.0)).numpy()
    attack = compiled(model, ("attack", from_logits, pixel_scale),
                      lambda model_ref: _attack_function(model_ref, from_logits, pixel_scale))
    scalars = [tf.constant(eps, tf.float32), tf.constant(step_size, tf.float32), tf.constant(steps, tf.int32)]
    chunks = [np.zeros((0,) + images.shape[1:], np.float32)]
    for begin in range(0, len(images), batch_size):
        end = begin + batch_size
        chunk = attack(tf.constant(images[begin:end]), targets[begin:end], tf.constant(start[begin:end]), *scalars)
        chunks.append(chunk.numpy())
        if progress is not None:  # One unit per image and step (a gradient pass).
            progress.add(len(chunks[-1]) * steps)
    return np.concatenate(chunks)


def fgsm(model, images, labels, eps=8 / 255, *, from_logits=None, pixel_scale=255.0, batch_size=128, progress=None):
    """Fast Gradient Sign Method: `clip(x + eps * sign(grad_x CE(model(x * pixel_scale), y)), 0, 1)`.

    Args:
        model: A `keras.Model` classifier whose (first) output is `[B, num_classes]` logits or probabilities.
        images: `[B, H, W, C]` float NumPy array or tensor in `[0, 1]` (an empty batch gives an empty batch).
        labels: True class ids `[B]` or `[B, 1]` (ints or whole floats), or one-hot rows `[B, K]`, in `[0, K)`.
        eps: Perturbation size in `[0, 1]` pixel units. Defaults to 8 / 255 (the paper's Table 11).
        from_logits: True (logits), False (probabilities) or None (detect; see the module docstring). Defaults to None.
        pixel_scale: The model receives `images * pixel_scale`. Defaults to 255.0 (`keras_cutmix.models`).
        batch_size: Images per call of the compiled function. Defaults to 128.
        progress: None, or what counts the work (`keras.utils.Progbar`): its `add(n)` is told the images
            times steps of each chunk done. Defaults to None.

    Returns:
        float32 NumPy array `[B, H, W, C]` in `[0, 1]`.

    Raises:
        ValueError: For images not float 4-D in `[0, 1]`, labels that do not fit the model's classes, a model that
            does not output `[B, K]`, or a bad `eps` (a fraction), `from_logits`, `pixel_scale` or `batch_size`.
        TypeError: For a `model` that is not a `keras.Model`.

    References:
        - [Goodfellow et al., 2015](https://arxiv.org/abs/1412.6572)
    """
    return _attack(model, images, labels, eps, _FGSM_STEP, 1, False, None, from_logits, pixel_scale, batch_size,
                   progress, "fgsm")


def pgd(model, images, labels, eps=8 / 255, step_size=2 / 255, steps=10, random_start=True, seed=0, *,
        from_logits=None, pixel_scale=255.0, batch_size=128, progress=None):
    """Projected gradient descent in the L-inf ball (Madry et al.), with a seeded random start.

    Args:
        model, images, labels, from_logits, pixel_scale, batch_size, progress: As `fgsm`.
        eps: Radius of the L-inf ball in `[0, 1]` pixel units. Defaults to 8 / 255.
        step_size: Size of each signed-gradient step. Defaults to 2 / 255.
        steps: Number of steps, an int >= 1. Defaults to 10.
        random_start: Start from `x + U(-eps, eps)` (clipped to `[0, 1]`) instead of `x`. Defaults to True.
        seed: Seed of the random start: an int, a shape-[2] int tensor, or None (from TF's global generator).
            Defaults to 0.

    Returns:
        float32 NumPy array `[B, H, W, C]`, within `eps` of `images` and in `[0, 1]`.

    Raises:
        ValueError: As `fgsm`, or for a bad `step_size`, `steps` or `random_start`.
        TypeError: As `fgsm`, or for a `seed` of another kind.

    References:
        - [Madry et al., 2018](https://arxiv.org/abs/1706.06083)
    """
    caller = "pgd"
    steps = checks.count("steps", steps, caller)
    random_start = checks.flag("random_start", random_start, caller)
    seed = inputs.python_number(seed)
    if isinstance(seed, bool) or not (seed is None or isinstance(seed, int) or tf.is_tensor(seed)):
        raise TypeError(f"{caller}: Expected `seed` to be None, an int or a shape-[2] int tensor. Received: "
                        f"seed={seed!r}")
    return _attack(model, images, labels, eps, step_size, steps, random_start, seed, from_logits, pixel_scale,
                   batch_size, progress, caller)


def accuracy_under_attack(model, data, attack=fgsm, *, pixel_scale=255.0, batch_size=128, progress=None,
                          **attack_kwargs):
    """Top-1 accuracy of `model` on the images `attack` makes from `data`.

    Args:
        model: A Keras classifier.
        data: `(images, labels)` arrays as `fgsm` takes them, or a `tf.data.Dataset` of such batches.
        attack: `fgsm`, `pgd` or any function `(model, images, labels, *, pixel_scale, batch_size, **kw)`
            returning adversarial images in `[0, 1]`. Defaults to `fgsm`.
        pixel_scale: As `fgsm`; also used for the predictions. Defaults to 255.0.
        batch_size: Images per compiled call. Defaults to 128.
        progress: None, or what counts the work (`keras.utils.Progbar`), given to `attack` and to the
            predictions (one unit per image predicted). Defaults to None.
        **attack_kwargs: Passed to `attack` (e.g. `eps=4 / 255`, `steps=20`).

    Returns:
        A Python float in `[0, 1]` (NaN when `data` holds no image).

    Raises:
        ValueError: As `attack` and `predicted_classes`, or for `data` that is not an `(images, labels)` pair or
            a data set of such pairs.
        TypeError: For a `model` that is not a `keras.Model` or an `attack` that is not callable.
    """
    caller = "accuracy_under_attack"
    checks.keras_model(model, caller)
    if not callable(attack):
        raise TypeError(f"{caller}: Expected `attack` to be a function such as fgsm or pgd. Received: "
                        f"attack of type {type(attack).__name__}")
    pixel_scale = predict_lib.check_pixel_scale(pixel_scale, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    batches = data if isinstance(data, tf.data.Dataset) else [data]
    correct = total = 0
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            kind = f"a data set of {type(batch).__name__}" if isinstance(data, tf.data.Dataset) else type(data).__name__
            raise ValueError(f"{caller}: Expected `data` as (images, labels), or a tf.data.Dataset of (images, "
                             f"labels) batches. Received: {kind}")
        images, labels = batch
        images = predict_lib.check_images(images, caller)
        truth = predict_lib.class_ids(model, images, labels, pixel_scale, caller)
        if progress is not None:
            attack_kwargs["progress"] = progress
        adversarial = attack(model, images, truth, pixel_scale=pixel_scale, batch_size=batch_size, **attack_kwargs)
        adversarial = predict_lib.check_images(adversarial, f"{caller} (the images `attack` returned)")
        predictions = predict_lib.predictions(model, adversarial, pixel_scale, batch_size, progress)
        correct += int(np.sum(predictions == truth))
        total += len(truth)
    return correct / total if total else float("nan")
