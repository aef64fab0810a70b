"""The one code path that both the map functions and the layers run: parse, sample, apply, pack.

A method (CutMix, MixUp, Cutout) is a pair of pure functions, `sample(seed, batch, data_format)` which
returns a dict of arrays, and `apply(batch, mix, data_format)` which returns the mixed `Batch`. This
module wires them to the three input forms and the seed conventions.
"""

import tensorflow as tf

from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import sampling


def image_size(images, data_format):
    """Dynamic (batch, height, width) of a rank-4 batch."""
    shape = tf.shape(images)
    height_axis, width_axis = inputs.spatial_axes(data_format)
    return shape[0], shape[height_axis], shape[width_axis]


def mix_batch(images, labels, *, caller, sample, apply, num_classes=None, label_smoothing=0.0,
              data_format=None, seed=None, seed_salt=None):
    """Validates the inputs, draws a mix with `sample`, applies it with `apply`, and packs the result.

    Args:
        images: Batch, or dict with "images" (see `inputs.parse`).
        labels: Labels or None.
        caller: Name for error messages.
        sample: `sample(seed, batch, data_format) -> dict` drawing the mix.
        apply: `apply(batch, mix, data_format) -> Batch` using it.
        num_classes: For integer labels.
        label_smoothing: Applied to labels before mixing.
        data_format: None, "channels_last" or "channels_first".
        seed: None, an int, or a shape-[2] integer tensor (see `sampling.resolve_seed`).
        seed_salt: Optional int32 scalar folded into the seed (the layers use the replica id, so each
            replica of a distributed step draws its own mix).

    Returns:
        `(outputs, mix)`: the mixed inputs in their original form, and the dict `sample` returned.
    """
    data_format = inputs.resolve_data_format(data_format, caller)
    batch, pack = inputs.parse(images, labels, caller, num_classes, label_smoothing, data_format)
    seed = sampling.resolve_seed(seed)
    if seed_salt is not None:
        seed = tf.random.experimental.stateless_fold_in(seed, seed_salt, alg="philox")
    mix = sample(seed, batch, data_format)
    return pack(apply(batch, mix, data_format)), mix
