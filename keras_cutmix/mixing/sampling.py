"""Random primitives shared by CutMix, MixUp and Cutout: seeds, uniforms, Beta, permutations, boxes.

Everything here is stateless: a function takes a `seed` (a shape-[2] integer tensor) and returns the same
values for the same seed, bit for bit, eagerly, in `tf.function`, under XLA and inside `tf.data` (tested in
tf_tests/mixing/sampling_test.py). Nothing here touches images.

References:
    - [Marsaglia & Tsang, 2000](https://doi.org/10.1145/358407.358414), the Gamma sampler used for Beta.
"""

import numpy as np
import tensorflow as tf

# Marsaglia-Tsang accepts at least 95% of candidates for shape >= 1, so the chance that all of them are
# rejected is below 0.05**8 = 4e-11; the sampler then falls back to the mode, a harmless approximation.
_GAMMA_CANDIDATES = 8

# Philox explicitly: "auto_select" picks another generator under XLA. TF's own int-to-float conversion
# also differs between XLA and the CPU kernels, so floats are made here from raw bits, which agree.
_ALG = "philox"
_MANTISSA_BITS = 23  # (k + 0.5) / 2**23 is exact in float32 and below 1 (24 bits round up to 1.0).


def uniform(seed, shape):
    """Uniform floats in (0, 1), bit-identical eagerly, in graphs, under XLA and in `tf.data`.

    Args:
        seed: Shape-[2] integer tensor.
        shape: Output shape.

    Returns:
        float32 tensor; values are (k + 0.5) / 2**23 for integer k, so never exactly 0 or 1.
    """
    bits = tf.random.stateless_uniform(shape, seed, minval=None, maxval=None, dtype=tf.int64, alg=_ALG)
    low_bits = tf.bitwise.bitwise_and(bits, (1 << _MANTISSA_BITS) - 1)
    return (tf.cast(low_bits, tf.float32) + 0.5) * (1.0 / (1 << _MANTISSA_BITS))


def normal(seed, shape):
    """Standard normal floats by Box-Muller over `uniform` (equal across XLA up to libm rounding)."""
    radius_seed, angle_seed = split_seed(seed, 2)
    radius = tf.sqrt(-2.0 * tf.math.log(uniform(radius_seed, shape)))
    return radius * tf.cos(2.0 * 3.141592653589793 * uniform(angle_seed, shape))


def split_seed(seed, num):
    """Splits a seed into `num` independent seeds (a list of shape-[2] int64 tensors)."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, num=num, alg=_ALG))


def sample_log_gamma(seed, shape, concentration):
    """Draws log(Gamma(concentration, 1)) samples with a fixed-size, XLA-compilable sampler.

    `tf.random.stateless_gamma` has no XLA kernel, so this vectorises Marsaglia-Tsang rejection sampling
    over a fixed number of candidates and keeps the first accepted one. Shapes below 1 use
    `Gamma(a) = Gamma(a + 1) * U**(1 / a)`, computed in log space so tiny shapes do not underflow.

    Args:
        seed: Shape-[2] integer tensor.
        shape: Output shape (a list of ints or a 1-D int tensor).
        concentration: Python float > 0, the Gamma shape parameter.

    Returns:
        float32 tensor of `shape` with samples of log(Gamma(concentration)).
    """
    boost = concentration < 1.0
    shape_param = concentration + 1.0 if boost else concentration
    normal_seed, uniform_seed, boost_seed = split_seed(seed, 3)
    candidate_shape = tf.concat([tf.reshape(shape, [-1]), [_GAMMA_CANDIDATES]], axis=0)
    d = shape_param - 1.0 / 3.0
    c = 1.0 / (9.0 * d) ** 0.5
    x = normal(normal_seed, candidate_shape)
    u = uniform(uniform_seed, candidate_shape)
    v = (1.0 + c * x) ** 3
    safe_v = tf.maximum(v, 1e-12)
    accepted = (v > 0.0) & (tf.math.log(u) < 0.5 * x * x + d - d * safe_v + d * tf.math.log(safe_v))
    first = tf.argmax(tf.cast(accepted, tf.int32), axis=-1, output_type=tf.int32)
    chosen_v = tf.gather(safe_v, first, axis=-1, batch_dims=len(safe_v.shape) - 1)
    chosen_v = tf.where(tf.reduce_any(accepted, axis=-1), chosen_v, 1.0)
    log_gamma = tf.math.log(d) + tf.math.log(chosen_v)
    if boost:
        log_gamma += tf.math.log(uniform(boost_seed, shape)) / concentration
    return log_gamma


def sample_beta(seed, shape, alpha):
    """Draws Beta(alpha, alpha) samples; compiles under XLA for any alpha > 0.

    Args:
        seed: Shape-[2] integer tensor.
        shape: Output shape.
        alpha: Python float > 0.

    Returns:
        float32 tensor of `shape` with values in [0, 1].
    """
    if alpha == 1.0:
        return uniform(seed, shape)  # Beta(1, 1) is uniform: exact and cheaper.
    first_seed, second_seed = split_seed(seed, 2)
    return tf.math.sigmoid(sample_log_gamma(first_seed, shape, alpha) - sample_log_gamma(second_seed, shape, alpha))


def sample_permutation(seed, batch_size):
    """A uniformly random permutation of `range(batch_size)` (argsort of uniform keys), int32 [B]."""
    return tf.argsort(uniform(seed, [batch_size]), stable=True)


def sample_apply(seed, batch_size, probability, per_sample):
    """Bernoulli(probability) for the batch (one draw, broadcast) or for each sample: bool [B]."""
    draws = uniform(seed, [batch_size if per_sample else 1])
    return tf.broadcast_to(draws < probability, [batch_size])


def centred_boxes(seed, count, height, width, box_height, box_width):
    """Integer boxes [count, 4] (y0, x0, y1, x1) of the given sides, centre uniform, clipped."""
    centre = uniform(seed, [count, 2])
    centre_y = tf.minimum(tf.cast(centre[:, 0] * tf.cast(height, tf.float32), tf.int32), height - 1)
    centre_x = tf.minimum(tf.cast(centre[:, 1] * tf.cast(width, tf.float32), tf.int32), width - 1)
    y0 = centre_y - box_height // 2
    x0 = centre_x - box_width // 2
    boxes = tf.stack([y0, x0, y0 + box_height, x0 + box_width], axis=-1)
    return tf.clip_by_value(boxes, 0, tf.stack([height, width, height, width]))


def box_area(boxes):
    """Area in pixels of integer boxes [..., 4] (y0, x0, y1, x1)."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def resolve_seed(seed, salt=None):
    """Turns a user `seed` into a shape-[2] int64 tensor for the stateless samplers.

    Args:
        seed: None (draw a fresh seed from TF's global generator, so repeated calls differ and
            `tf.random.set_seed` / `keras.utils.set_random_seed` make them reproducible), a Python or
            NumPy int, or a shape-[2] integer tensor (e.g. from `keras.random.SeedGenerator.next()`).
        salt: Optional int32 scalar folded into the seed (the layers pass the replica id, so that each
            replica of a distributed step draws its own mix).

    Returns:
        Shape-[2] int64 tensor; int32 when salted (`stateless_fold_in` returns int32, and the samplers draw
        differently from the same values as int64: the layers' draws under `tf.distribute` depend on it).

    Raises:
        TypeError: If `seed` is of another kind.
    """
    if seed is None:
        seed = tf.cast(tf.random.uniform([2], minval=0, maxval=2**31 - 1, dtype=tf.int32), tf.int64)
    elif isinstance(seed, bool) or not (isinstance(seed, int) or hasattr(seed, "shape")):  # NumPy ints have a shape.
        raise TypeError("Expected `seed` to be None, an int or a shape-[2] integer tensor. "
                        f"Received: seed={seed!r} of type {type(seed).__name__}")
    elif isinstance(seed, (int, np.integer)):
        seed = tf.constant([int(seed), 0], tf.int64)
    else:
        seed = tf.convert_to_tensor(seed)
        if not seed.dtype.is_integer or seed.shape.rank != 1 or seed.shape[0] not in (None, 2):
            raise TypeError("Expected a seed tensor of shape [2] and an integer dtype. "
                            f"Received: shape={seed.shape}, dtype={seed.dtype.name}")
        seed = tf.cast(seed, tf.int64)
    if salt is not None:
        seed = tf.random.experimental.stateless_fold_in(seed, salt, alg=_ALG)
    return seed
