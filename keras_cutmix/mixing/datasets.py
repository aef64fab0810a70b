"""Seeded mixing in `tf.data`: every batch and every epoch gets its own mix, same seed, same sequence.

A map function with a fixed `seed` returns the same mix at every call (it is stateless); with `seed=None`
it draws from TF's global generator, whose sequence restarts with each epoch's iterator when a global seed
is set. `map_with_seed` zips the batches with seeds from `tf.data.Dataset.random(seed,
rerandomize_each_iteration=True)`: each batch of each epoch gets its own seed, and two pipelines built with
the same seed give the same mixes, also with parallel map calls.

Sample weights of `(images, labels, sample_weight)` elements pass unchanged: row i keeps the weight of
sample i, whose own label keeps the weight lambda. A choice, the simple one: mixing weights like labels
would need the partners, which the map functions do not return, and the paper weights no samples. For
Cutout, which mixes nothing, the weights are exactly right.
"""

import tensorflow as tf

from keras_cutmix.mixing import errors
from keras_cutmix.mixing import inputs


@errors.caller("map_with_seed")
def map_with_seed(dataset, fn, seed=None, num_parallel_calls=tf.data.AUTOTUNE, **fn_kwargs):
    """Maps a mixing function over a batched dataset, giving each batch its own stateless seed.

    ```python
    ds = tfds.load("cifar10", split="train", as_supervised=True).batch(128)
    ds = kc.map_with_seed(ds, kc.cutmix_fn, seed=42, num_classes=10)
    ```

    Args:
        dataset: A batched `tf.data.Dataset` of `(images, labels)` or `(images, labels, sample_weight)`
            tuples, images alone, or dicts. Sample weights pass through unchanged (see the module docstring).
        fn: `kc.cutmix_fn`, `kc.mixup_fn`, `kc.cutout_fn`, or any function taking the element and `seed=`.
        seed: Int seed of the seed stream; None for a non-reproducible stream.
        num_parallel_calls: Parallelism of the map (order stays deterministic). Defaults to `tf.data.AUTOTUNE`.
        **fn_kwargs: Passed to `fn` (e.g. `num_classes=10, alpha=1.0`).

    Returns:
        The mapped dataset.

    Raises:
        TypeError: If `dataset` is not a `tf.data.Dataset`, or `seed` is not an int or None.
        ValueError: If the elements are tuples of another length than 1, 2 or 3.
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(f"Expected `dataset` to be a tf.data.Dataset. Received: {type(dataset).__name__}")
    seed = inputs.check_seed(seed)
    spec = dataset.element_spec
    if isinstance(spec, tuple) and len(spec) not in (1, 2, 3):
        raise ValueError(errors.named(
            "Expected elements `images`, `(images, labels)` or `(images, labels, sample_weight)`. "
            f"Received: tuples of {len(spec)} entries"))
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def call(element, batch_seed):
        if not isinstance(element, tuple):
            return fn(element, seed=batch_seed, **fn_kwargs)
        mixed = fn(*element[:2], seed=batch_seed, **fn_kwargs)
        if len(element) < 3:
            return mixed
        return (*mixed, element[2])  # (images, labels) mixed, sample weights as they were.

    return tf.data.Dataset.zip((dataset, seeds)).map(call, num_parallel_calls=num_parallel_calls, deterministic=True)
