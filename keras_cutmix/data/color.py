"""Colour augmentation of the official CutMix ImageNet recipe: ColorJitter and PCA Lighting.

The official code (CutMix-PyTorch `train.py`, ImageNet branch) applies, after `ToTensor()` (pixels in [0, 1]),
its own `utils.ColorJitter(0.4, 0.4, 0.4)` and `utils.Lighting(0.1, eigval, eigvec)`, taken from convNet.pytorch
(itself from fb.resnet.torch). They are not torchvision's `ColorJitter`:

* each of brightness, contrast and saturation blends the image with a "degenerate" image,
  `image.lerp(degenerate, a)` with `a ~ U(-0.4, 0.4)`, that is `factor * image + (1 - factor) * degenerate` with
  `factor = 1 - a ~ U(0.6, 1.4)`: black for brightness, the mean of the grayscale image for contrast, the
  grayscale image for saturation; grayscale is `0.299 R + 0.587 G + 0.114 B`;
* the three run in a random order (`random.shuffle`), with no hue jitter and,
  unlike torchvision, no clamping between or after them;
* Lighting (AlexNet's PCA noise) adds `eigvec @ (alpha * eigval)` to every
  pixel, `alpha ~ N(0, 0.1)` per eigenvector, again without clamping.

`sample_color_jitter` and `sample_lighting` draw from a shape-[2] seed; `color_jitter` and `lighting` apply
given values and draw nothing, to float images in [0, 1] (`to_unit_float`; `to_uint8` rounds and clips back,
the one deviation from the official code's unclamped floats).

References:
    - Official code: https://github.com/clovaai/CutMix-PyTorch (`train.py`, `utils.py`).
    - Krizhevsky et al., 2012, ImageNet Classification with Deep Convolutional
      Neural Networks, Section 4.1 (the PCA lighting noise).
"""

import tensorflow as tf

# The official code's PCA of ImageNet RGB pixels on the [0, 1] scale.
IMAGENET_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_EIGVEC = ((-0.5675, 0.7192, 0.4009),
                   (-0.5808, -0.0045, -0.8140),
                   (-0.5836, -0.6948, 0.4203))
GRAYSCALE_WEIGHTS = (0.299, 0.587, 0.114)
# Indices of the three colour operations in `color_jitter`'s `factors` and `order`.
BRIGHTNESS, CONTRAST, SATURATION = 0, 1, 2


def to_unit_float(image):
    """uint8 [0, 255] -> float32 [0, 1] (`ToTensor()`); float images are only cast."""
    image = tf.convert_to_tensor(image)
    if image.dtype == tf.uint8:
        return tf.cast(image, tf.float32) / 255.0
    return tf.cast(image, tf.float32)


def to_uint8(image):
    """float [0, 1] -> uint8: `round(255 * x)` clipped to [0, 255]."""
    return tf.cast(tf.clip_by_value(tf.round(image * 255.0), 0.0, 255.0), tf.uint8)


def grayscale(image):
    """`0.299 R + 0.587 G + 0.114 B` of a float `[..., 3]` image, shape `[..., 1]`."""
    weights = tf.constant(GRAYSCALE_WEIGHTS, image.dtype)
    return tf.reduce_sum(image * weights, axis=-1, keepdims=True)


def _blend(image, degenerate, factor):
    factor = tf.cast(factor, image.dtype)
    return factor * image + (1.0 - factor) * degenerate


def adjust_brightness(image, factor):
    """`factor * image` (blend with black), not clamped."""
    return _blend(image, tf.zeros_like(image), factor)


def adjust_contrast(image, factor):
    """Blend of `image` [H, W, 3] with the mean of its grayscale image, not clamped."""
    return _blend(image, tf.reduce_mean(grayscale(image)), factor)


def adjust_saturation(image, factor):
    """Blend of `image` with its grayscale image, not clamped."""
    return _blend(image, grayscale(image), factor)


def sample_color_jitter(seed, brightness=0.4, contrast=0.4, saturation=0.4):
    """Draws the factors and the order of one `color_jitter`.

    Args:
        seed: shape-[2] integer seed.
        brightness: Factor range `1 +- brightness`. Defaults to 0.4.
        contrast: Factor range `1 +- contrast`. Defaults to 0.4.
        saturation: Factor range `1 +- saturation`. Defaults to 0.4.

    Returns:
        `(factors, order)`: float32 [3] factors (brightness, contrast, saturation), each uniform in its range,
        and int32 [3], a uniformly random permutation of `(BRIGHTNESS, CONTRAST, SATURATION)`.
    """
    factor_seed, order_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    spread = tf.constant([brightness, contrast, saturation], tf.float32)
    unit = tf.random.stateless_uniform([3], factor_seed, -1.0, 1.0)
    order = tf.argsort(tf.random.stateless_uniform([3], order_seed))
    return 1.0 + spread * unit, tf.cast(order, tf.int32)


def color_jitter(image, factors, order):
    """Applies brightness, contrast and saturation in the given order.

    Args:
        image: float [H, W, 3] image in [0, 1].
        factors: float [3] factors (brightness, contrast, saturation).
        order: int [3] permutation of `(BRIGHTNESS, CONTRAST, SATURATION)`: `order[0]` runs first.

    Returns:
        The jittered float image, not clamped (as the official code).
    """
    factors = tf.convert_to_tensor(factors, image.dtype)
    order = tf.convert_to_tensor(order, tf.int32)
    adjust = (adjust_brightness, adjust_contrast, adjust_saturation)
    for step in range(3):
        op = order[step]
        branches = [lambda fn=fn, i=i: fn(image, factors[i]) for i, fn in enumerate(adjust)]
        image = tf.ensure_shape(tf.switch_case(op, branches), image.shape)
    return image


def sample_lighting(seed, alphastd=0.1):
    """Draws the three PCA coefficients of `lighting`: float32 [3], N(0, alphastd)."""
    return tf.random.stateless_normal([3], seed, stddev=alphastd)


def lighting(image, alpha, eigval=IMAGENET_EIGVAL, eigvec=IMAGENET_EIGVEC):
    """Adds AlexNet's PCA lighting noise `eigvec @ (alpha * eigval)` to every pixel.

    Args:
        image: float [H, W, 3] image in [0, 1].
        alpha: float [3] coefficients, one per eigenvector.
        eigval: The 3 eigenvalues. Defaults to the official code's ImageNet values.
        eigvec: 3x3 matrix whose columns are the eigenvectors. Defaults to the official code's ImageNet values.

    Returns:
        `image + eigvec @ (alpha * eigval)`, not clamped (as the official code).
    """
    alpha = tf.convert_to_tensor(alpha, image.dtype)
    eigval = tf.constant(eigval, image.dtype)
    eigvec = tf.constant(eigvec, image.dtype)
    rgb = tf.linalg.matvec(eigvec, alpha * eigval)
    return image + rgb
