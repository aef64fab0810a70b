"""`load` and `dataset_spec`: batched tf.data pipelines over tensorflow-datasets.

    import keras_cutmix as kc
    from keras_cutmix import data

    spec = data.dataset_spec("cifar10")
    train = data.load("cifar10", batch_size=64, training=True, seed=0)  # (uint8, int32)
    train = kc.map_with_seed(train, kc.cutmix_fn, seed=0, num_classes=spec.num_classes)

Pipelines read tfds (never download unless asked), preprocess each example with an augmentation recipe chosen by
name (`keras_cutmix.data.pipelines`; by default the official CutMix code's for CIFAR and ImageNet), batch and
prefetch. They never normalise and never mix: models normalise inside, and the training code maps CutMix over
the batches. The `EMBEDDED` data sets are built on first use (offline, seconds); any other data set that tfds
cannot find raises `DatasetNotFoundError`, which says where tfds looked and how to provide it.
"""

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import compat
from keras_cutmix.data import pipelines
from keras_cutmix.data import synthetic_birds  # Registers the tfds builder.
from keras_cutmix.data import synthetic_shapes  # Registers the tfds builder.

_IMAGENET_MEAN = (123.675, 116.28, 103.53)
_IMAGENET_STD = (58.395, 57.12, 57.375)


class DatasetNotFoundError(FileNotFoundError):
    """A data set is not prepared where tensorflow-datasets looked for it."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a model and a training loop need to know about a data set.

    Attributes:
        name: Data set name (also its tfds name).
        num_classes: Number of labels.
        image_shape: `(height, width, 3)` of the images `load` yields.
        mean: Per-channel mean of the pixels, 0-255 scale.
        std: Per-channel standard deviation, 0-255 scale.
        train_split: tfds split used for training.
        test_split: tfds split used for evaluation.
        num_train_examples: Examples in `train_split`.
        num_test_examples: Examples in `test_split`.
        has_boxes: Whether `load(..., with_boxes=True)` is possible.
        has_masks: Whether `load(..., with_masks=True)` is possible (the tfds `segmentation_mask` feature).
        manual_download: Whether tfds needs files put in its manual_dir.
        shuffle_buffer: Default shuffle buffer of `load` for training.
        cache: Whether `load` caches the decoded split in memory by default.
    """

    name: str
    num_classes: int
    image_shape: tuple
    mean: tuple
    std: tuple
    train_split: str
    test_split: str
    num_train_examples: int
    num_test_examples: int
    has_boxes: bool = False
    has_masks: bool = False
    manual_download: bool = False
    shuffle_buffer: int = 10_000
    cache: bool = False


_SPECS = {
    spec.name: spec for spec in [
        DatasetSpec("synthetic_shapes", 10, (64, 64, 3), (121.8, 121.8, 121.3), (52.3, 52.0, 51.9),
                    "train", "test", 4000, 1000, has_boxes=True, shuffle_buffer=4000, cache=True),
        DatasetSpec("synthetic_birds", 10, (128, 128, 3), (123.8, 122.3, 121.9), (48.0, 48.4, 49.7),
                    "train", "test", 3000, 1000, has_boxes=True, has_masks=True, shuffle_buffer=3000,
                    cache=True),
        DatasetSpec("cifar10", 10, (32, 32, 3), (125.3, 123.0, 113.9), (63.0, 62.1, 66.7),
                    "train", "test", 50_000, 10_000, shuffle_buffer=50_000, cache=True),
        DatasetSpec("cifar100", 100, (32, 32, 3), (129.3, 124.1, 112.4), (68.2, 65.4, 70.4),
                    "train", "test", 50_000, 10_000, shuffle_buffer=50_000, cache=True),
        DatasetSpec("imagenet2012", 1000, (224, 224, 3), _IMAGENET_MEAN, _IMAGENET_STD,
                    "train", "validation", 1_281_167, 50_000, manual_download=True),
        DatasetSpec("caltech_birds2011", 200, (224, 224, 3), _IMAGENET_MEAN, _IMAGENET_STD,
                    "train", "test", 5994, 5794, has_boxes=True, has_masks=True, shuffle_buffer=1000),
    ]
}
EMBEDDED = ("synthetic_shapes", "synthetic_birds")  # Generated offline on first use.
# ImageNet is shuffled encoded and decoded in the parallel map. CUB is decoded by tfds (its shuffle buffer is
# smaller instead), which also keeps it working under tfds.testing.mock_data: mocked encoding fails on its boxes.
_SKIP_DECODING = ("imagenet2012",)


def dataset_spec(name, *, image_size=None):
    """Returns the `DatasetSpec` of a data set.

    Args:
        name: One of "synthetic_shapes", "synthetic_birds", "cifar10", "cifar100", "imagenet2012",
            "caltech_birds2011".
        image_size: Output size passed to `load`, if not the default; only changes `image_shape`. Defaults to None.

    Raises:
        ValueError: if `name` is unknown.
    """
    spec = lookup(_SPECS, name)
    if image_size is not None:
        spec = dataclasses.replace(spec, image_shape=(int(image_size), int(image_size), 3))
    return spec


def lookup(table, name):
    """`table[name]`, or the ValueError that names the known names (of every loader's `name` argument)."""
    if name not in table:
        raise ValueError(f"Expected name to be one of {sorted(table)}. Received: name={name!r}")
    return table[name]


def missing_data_message(builder, data_dir, loader, remedies):
    """The text of `DatasetNotFoundError` for every loader: where tfds looked and how to provide the files.

    Args:
        builder: The tfds builder that found no data.
        data_dir: The `data_dir` the caller gave (None: tfds' default data dirs).
        loader: The loading function's name, for the "pass that folder" advice.
        remedies: Further lines (how to build or download this data set).

    Returns:
        The message, one advice per line.
    """
    name, version = builder.info.full_name.rsplit("/", 1)[0], builder.version
    given = f"data_dir={data_dir!r}" if data_dir else "data_dir=None (the tfds default data dirs)"
    folders = compat.tfds_data_dirs(data_dir)
    looked_in = builder.data_dir_root if folders is None else ", ".join(str(d) for d in folders)
    return "\n".join([
        f"Data set {name!r} (tfds version {version}) is not prepared for {given}. "
        f"tensorflow-datasets looked in: {looked_in} "
        f"(it needs {builder.data_dir}). Nothing was downloaded. To provide it:",
        f"  * if it is prepared elsewhere, pass that folder: {loader}(..., data_dir=DIR) or "
        "--data_dir=DIR in the examples (or set TFDS_DATA_DIR), so that "
        f"DIR/{name}/{version} exists;",
        *remedies,
    ])


def how_to_provide(name):
    """How to provide a classification data set (`load`'s part of `missing_data_message`)."""
    if dataset_spec(name).manual_download:
        return [
            f"  * {name} cannot be downloaded automatically: download "
            "ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar from "
            "https://image-net.org/download-images, put them in a folder MANUAL_DIR (tfds "
            f"manual_dir, default DIR/downloads/manual) and run `tfds build {name} "
            "--data_dir=DIR --manual_dir=MANUAL_DIR`, or call load(..., data_dir=DIR, "
            "download=True, manual_dir=MANUAL_DIR) (about 150 GB, hours)."]
    return [f"  * build it on a machine with internet: `tfds build {name} --data_dir=DIR`, or "
            f"load(..., data_dir=DIR, download=True), then copy DIR/{name} here."]


def read_split(builder, split, *, training, seed, data_dir, loader, remedies, decoders=None):
    """`builder.as_dataset(split)` (files shuffled by `seed` when `training`); a `DatasetNotFoundError`
    built by `missing_data_message(builder, data_dir, loader, remedies)` when tfds has no data there."""
    try:
        return builder.as_dataset(split=split, shuffle_files=training, decoders=decoders,
                                  read_config=tfds.ReadConfig(shuffle_seed=seed))
    except AssertionError as error:  # tfds' "could not find data in ..." error.
        raise DatasetNotFoundError(missing_data_message(builder, data_dir, loader, remedies)) from error


def check_readable(name, splits, data_dir=None):
    """Raises `DatasetNotFoundError` unless tfds can read every split of `name` in `data_dir`.

    Asks tfds to open each split (`builder.as_dataset`, which reads no example), so it also holds for data
    tfds reads unprepared and under `tfds.testing.mock_data`. Embedded data sets pass (built on first use).

    Args:
        name: A data set name (see `dataset_spec`).
        splits: tfds split names (slicing allowed, e.g. "train[:10%]").
        data_dir: tfds data dir. Defaults to None (tfds default).

    Raises:
        DatasetNotFoundError: naming where tfds looked and how to provide the data.
    """
    spec = dataset_spec(name)
    if spec.name in EMBEDDED:
        return
    builder = tfds.builder(name, data_dir=data_dir)
    for split in splits:
        read_split(builder, split, training=False, seed=None, data_dir=data_dir, loader="load",
                   remedies=how_to_provide(name))


def prepared_builder(name, data_dir, build, manual_dir=None):
    """The tfds builder of `name`, built first when `build` and it is not prepared yet.

    Args:
        name: tfds name (with its config, e.g. "voc/2007").
        data_dir: tfds data dir, or None.
        build: Whether to build a missing data set (the embedded ones; others only on `download=True`).
        manual_dir: tfds manual_dir for manually downloaded data. Defaults to None.

    Returns:
        The builder to read from (a fresh one if another process built the data first).
    """
    builder = tfds.builder(name, data_dir=data_dir)
    if build and not builder.is_prepared():
        config = tfds.download.DownloadConfig(manual_dir=manual_dir)
        try:
            builder.download_and_prepare(download_config=config)
        except Exception:  # Another process may have finished the same build first.
            fresh = tfds.builder(builder.name, data_dir=builder.data_dir_root)
            if not fresh.is_prepared():
                raise
            return fresh
    return builder


def check_count(name, value):
    """The loaders' `batch_size` (or `max_boxes`) as an int >= 1; a float raises, as tf.data would truncate it.

    Raises:
        ValueError: naming `name`, for a float (4.7 would batch 4) or a value below 1.
    """
    if isinstance(value, (float, np.floating)) or int(value) < 1:
        raise ValueError(f"Expected {name} >= 1 (a whole number). Received: {name}={value!r}")
    return int(value)


def cache_shuffle_batch(ds, *, cache, training, shuffle_buffer, seed, batch_size, drop_remainder,
                        before_batch=None, padding_values=None):
    """The end of every pipeline here: cache, shuffle (training), batch, prefetch.

    `batch_size` is an int (`check_count`'s). `before_batch(ds) -> ds` runs after the shuffle (per-example
    augmentation); with `padding_values`, each batch is padded to its largest element (`padded_batch`) instead
    of requiring equal shapes.
    """
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if before_batch is not None:
        ds = before_batch(ds)
    if padding_values is not None:
        ds = ds.padded_batch(batch_size, padding_values=padding_values, drop_remainder=drop_remainder)
    else:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def prepare(name, data_dir=None):
    """Builds an embedded data set in `data_dir` if it is not there yet; does nothing for other data sets.

    Training calls it before seeding, so that the first run on a fresh `data_dir` draws the same random
    numbers as every later one (building draws some of TF's and Python's).

    Args:
        name: A data set name (see `dataset_spec`).
        data_dir: tfds data dir. Defaults to None (tfds default).
    """
    if dataset_spec(name).name in EMBEDDED:
        prepared_builder(name, data_dir, build=True)


def _example_fn(spec, with_boxes, with_masks=False):
    """Picks (image, label, bbox[, mask]) out of a tfds example and decodes encoded images."""
    def fn(example):
        image = example["image"]
        if spec.name in _SKIP_DECODING:
            image = tf.io.decode_image(image, channels=3, expand_animations=False)
        bbox = tf.cast(example["bbox"], tf.float32) if with_boxes else tf.zeros([4])
        if with_masks:  # 0-255 (CUB's are soft: annotators' agreement); binarised after the resize.
            return image, tf.cast(example["label"], tf.int32), bbox, example["segmentation_mask"]
        return image, tf.cast(example["label"], tf.int32), bbox
    return fn


def load(name="synthetic_shapes", split=None, *, batch_size, training, data_dir=None, seed=0,
         with_boxes=False, with_masks=False, image_size=None, augmentation=None, drop_remainder=None,
         shuffle_buffer=None, cache=None, download=False, manual_dir=None):
    """Loads a data set as a batched, preprocessed, prefetched `tf.data.Dataset`.

    Args:
        name: Data set name; see `dataset_spec`. Defaults to "synthetic_shapes".
        split: tfds split (slicing like "train[:10%]" allowed). Defaults to the spec's train split when
            `training`, else its test split.
        batch_size: Examples per batch.
        training: True: shuffle and the training recipe (random crops, flips, colour). False: fixed order
            and the test recipe (centre crop for ImageNet / CUB).
        data_dir: tfds data dir. Defaults to None (tfds default, `~/tensorflow_datasets` or `$TFDS_DATA_DIR`).
        seed: Seed of file order, shuffling and augmentation: the same seed gives the same batches, epoch
            after epoch (each epoch reshuffled and re-augmented), under the same TF global seed: tf.data's
            seeded ops also read `tf.random.set_seed`'s value, so set it (`keras.utils.set_random_seed`)
            before building the pipeline, as the experiments do. None draws fresh randomness. Defaults to 0.
        with_boxes: Also yield boxes (synthetic_shapes, synthetic_birds and caltech_birds2011). Defaults to False.
        with_masks: With `with_boxes`, also yield the object masks (synthetic_birds and caltech_birds2011:
            tfds `segmentation_mask`), transformed with the image (nearest-neighbour) and binarised at half
            the 0-255 scale. Defaults to False.
        image_size: Output height and width, if not the data set's. Defaults to None.
        augmentation: Preprocessing recipe, one of `keras_cutmix.data.AUGMENTATIONS`: `"pad_crop"`,
            `"official_imagenet"` or `"resize_crop"` (see `keras_cutmix.data.pipelines`). Defaults to None:
            the data set's own (`"official_imagenet"` for imagenet2012, `"resize_crop"` for
            caltech_birds2011, `"pad_crop"` otherwise).
        drop_remainder: Drop the last partial batch. Defaults to `training`.
        shuffle_buffer: Shuffle buffer size. Defaults to the spec's.
        cache: Cache the decoded split in memory. Defaults to the spec's (True for the embedded sets and CIFAR).
        download: Let tfds download and prepare a missing data set (needs internet, or the ImageNet tars
            in `manual_dir`). Defaults to False.
        manual_dir: tfds manual_dir for `download=True`. Defaults to None.

    Returns:
        A `tf.data.Dataset` of `(images, labels)`: uint8 [B, S, S, 3] and int32 [B]; with `with_boxes`, of dicts
        `{"images", "labels", "bbox"}` where `bbox` is float32 [B, 4] normalised `[ymin, xmin, ymax, xmax]`,
        transformed with the crops and flips; with `with_masks` also `"masks"`, bool [B, S, S] (True on the object).

    Raises:
        ValueError: for an unknown `name` or `augmentation`, or `with_boxes` on a data set without boxes.
        DatasetNotFoundError: if tfds has not prepared the data set in `data_dir`.
    """
    spec = dataset_spec(name)
    if with_boxes and not spec.has_boxes:
        with_box_names = sorted(n for n, s in _SPECS.items() if s.has_boxes)
        raise ValueError(f"Expected with_boxes=False for {name!r}, which has no boxes "
                         f"(boxes: {with_box_names}). Received: with_boxes=True")
    if with_masks and not (with_boxes and spec.has_masks):
        with_mask_names = sorted(n for n, s in _SPECS.items() if s.has_masks)
        raise ValueError(f"Expected with_masks=False, or with_boxes=True on a data set with masks "
                         f"({with_mask_names}). Received: with_masks=True, with_boxes={with_boxes!r}, "
                         f"name={name!r}")
    batch_size = check_count("batch_size", batch_size)
    pipeline = pipelines.PIPELINES[name].with_augmentation(augmentation).with_image_size(image_size)
    split = split or (spec.train_split if training else spec.test_split)
    drop_remainder = training if drop_remainder is None else drop_remainder
    cache = spec.cache if cache is None else cache

    builder = prepared_builder(name, data_dir, spec.name in EMBEDDED or download, manual_dir)
    # Images of the big sets stay encoded here; the pipeline decodes (and crops) them.
    decoders = {"image": tfds.decode.SkipDecoding()} if spec.name in _SKIP_DECODING else None
    ds = read_split(builder, split, training=training, seed=seed, data_dir=data_dir, loader="load",
                    remedies=how_to_provide(name), decoders=decoders)
    ds = ds.map(_example_fn(spec, with_boxes, with_masks), num_parallel_calls=tf.data.AUTOTUNE)

    def preprocess(example, example_seed):
        image, label, bbox = example[:3]
        if with_masks:  # One draw for the image, its boxes and its mask.
            image, bbox, mask = pipelines.preprocess(pipeline, image, bbox, example_seed, training=training,
                                                     mask=example[3])
            return {"images": image, "labels": label, "bbox": bbox, "masks": mask[..., 0] >= 128}
        image, bbox = pipelines.preprocess(
            pipeline, image, bbox if with_boxes else None, example_seed, training=training)
        if with_boxes:
            return {"images": image, "labels": label, "bbox": bbox}
        return image, label

    def with_seeds(ds):  # After the shuffle: one seed pair per example, redrawn each epoch.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        return tf.data.Dataset.zip((ds, seeds)).map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)

    return cache_shuffle_batch(ds, cache=cache, training=training, shuffle_buffer=shuffle_buffer or spec.shuffle_buffer,
                               seed=seed, batch_size=batch_size, drop_remainder=drop_remainder, before_batch=with_seeds)
