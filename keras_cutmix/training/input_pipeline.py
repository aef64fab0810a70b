"""Training and test pipelines: `keras_cutmix.data.load`, then the method's mix.

The data pipelines yield uint8 batches and integer labels. Training maps the method over each batch with
`kc.map_with_seed`, so every batch of every epoch gets its own stateless seed; labels become float32 one-hot
`[B, K]` (mixed) for the categorical cross-entropy. Test batches get plain one-hot labels.

| method     | map function   | config fields                                     |
|------------|----------------|---------------------------------------------------|
| `baseline` | one-hot only   | `label_smoothing`                                 |
| `mixup`    | `kc.mixup_fn`  | `alpha`, `mixup_cutout_probability`               |
| `cutout`   | `kc.cutout_fn` | `cutout_size` (None: half the side), `mixup_cutout_probability` |
| `cutmix`   | `kc.cutmix_fn` | `alpha`, `probability`                            |

Same seed, same batches: `load` draws file order, shuffling and augmentation from `config.seed`, the mix from
a seed derived from it. Every pass over the epoch dataset (a new iterator, or the next round of `repeat()`)
draws new seeds from that sequence, so training iterates `epoch_ds.repeat()` with a fixed `steps_per_epoch`:
epoch e is the e-th pass. A resumed run calls `skip_epochs` first, and its epoch e is the same e-th pass.
"""

import numpy as np
import tensorflow as tf

import keras_cutmix as kc
from keras_cutmix import data
from keras_cutmix.mixing import labels as label_lib


def derived_seed(seed, purpose):
    """A 31-bit seed for `purpose` (a small int), independent of `seed`'s other uses."""
    return int(np.random.SeedSequence([int(seed), int(purpose)]).generate_state(1)[0] >> 1)


MIXING_SEED_PURPOSE = 1


def one_hot_fn(num_classes, label_smoothing=0.0):
    """Returns `(images, labels) -> (images, one-hot float32 labels)`, by `keras_cutmix.mixing.labels`.

    A label outside `[0, num_classes)` raises (its row would be NaN under XLA).
    """

    def fn(images, labels):
        encoded, checks = label_lib.one_hot(labels, num_classes, caller="one_hot_fn")
        return images, label_lib.wait_for(checks, label_lib.smooth(encoded, label_smoothing))

    return fn


def mixing(config, num_classes, image_side):
    """The map function and keyword arguments of `config.method`.

    Args:
        config: A `Config`.
        num_classes: Number of classes (labels are one-hot encoded).
        image_side: Shorter side of the training images in pixels, for Cutout's default size (half of it).

    Returns:
        `(fn, kwargs)` for `kc.map_with_seed(ds, fn, seed=..., **kwargs)`, or `(None, None)` for the baseline.
    """
    common = dict(num_classes=num_classes, label_smoothing=config.label_smoothing)
    other_p = config.mixup_cutout_probability
    if config.method == "baseline":
        return None, None
    if config.method == "mixup":
        return kc.mixup_fn, dict(common, alpha=config.alpha, probability=other_p)
    if config.method == "cutmix":
        return kc.cutmix_fn, dict(common, alpha=config.alpha, probability=config.probability)
    if config.method == "cutout":
        size = config.cutout_size or max(1, image_side // 2)
        return kc.cutout_fn, dict(common, size=size, probability=other_p)
    raise ValueError(f"Unknown method. Received: method={config.method!r}")


def splits(config, spec):
    """The run's `[train split, test split]`: the config's, else the data set's (`spec`)."""
    return [config.train_split or spec.train_split, config.test_split or spec.test_split]


def _load(config, spec, training):
    """`data.load` of the run's train or test split, cut to `steps_per_epoch` / `eval_steps` batches."""
    split = splits(config, spec)[0 if training else 1]
    ds = data.load(config.dataset, split, batch_size=config.batch_size, training=training, data_dir=config.data_dir,
                   seed=config.seed, image_size=config.image_size, augmentation=config.augmentation)
    limit = config.steps_per_epoch if training else config.eval_steps
    return ds.take(limit) if limit else ds


def train_dataset(config, spec):
    """The training pipeline of `config`.

    Args:
        config: A `Config` (dataset, batch size, seed, method, limits).
        spec: `keras_cutmix.data.dataset_spec(config.dataset, ...)`.

    Returns:
        `(dataset, steps_per_epoch)`: one epoch of `(uint8 images, float32 labels [B, K])` batches, and their
        exact count.
    """
    ds = _load(config, spec, training=True)
    fn, kwargs = mixing(config, spec.num_classes, min(spec.image_shape[:2]))
    if fn is None:
        ds = ds.map(one_hot_fn(spec.num_classes, config.label_smoothing), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = kc.map_with_seed(ds, fn, seed=derived_seed(config.seed, MIXING_SEED_PURPOSE), **kwargs)
    steps = int(ds.cardinality())
    if steps < 0:  # Unknown cardinality: count from the spec (batches are dropped-remainder).
        steps = spec.num_train_examples // config.batch_size
        steps = min(steps, config.steps_per_epoch or steps)
    if steps < 1:
        raise ValueError(f"Expected at least one training batch per epoch. Received: batch_size="
                         f"{config.batch_size} with {spec.num_train_examples} training examples")
    return ds, steps


def eval_dataset(config, spec):
    """The test pipeline: fixed order, the test recipe, one-hot labels."""
    ds = _load(config, spec, training=False).map(one_hot_fn(spec.num_classes), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def skip_epochs(dataset, epochs):
    """Advances `dataset`'s per-pass randomness by `epochs` passes.

    Shuffling (`reshuffle_each_iteration`) and seed streams (`rerandomize_each_iteration`) draw new seeds
    whenever an iterator of `dataset` is created, by `iter` or by each round of `repeat()`. Creating and
    discarding `epochs` iterators (no data is read) makes the next pass the one an uninterrupted run would
    make at epoch `epochs`.
    """
    for _ in range(epochs):
        iter(dataset)
