"""`load_captions`: batched images with their reference captions (synthetic_captions, COCO) from tfds.

    from keras_cutmix import data
    test = data.load_captions("synthetic_captions", batch_size=32, training=False)
    batch = next(iter(test))
    batch["images"]      # uint8 [32, 64, 64, 3]
    batch["image_ids"]   # int64 [32]
    batch["captions"]    # tf.string [32, 5], the references

Every image comes with exactly `NUM_REFERENCES` (5) references: COCO images with more keep their first 5,
images with fewer repeat theirs in order. Images are resized to a square; nothing is augmented, tokenised
or mixed here (the captioning model's vocabulary does the text).

Data sets: "synthetic_captions" (embedded, built on first use, 64x64; splits "train" and "test") and tfds
"coco_captions" (COCO 2014 in the Karpathy split: "train" 82,783, "restval" 30,504, "val" 5,000 and "test"
5,000 images; by default training reads "train+restval", Karpathy's 113k training images, and evaluation
reads "test"). COCO is never downloaded unless asked (`download=True`, about 38 GB); if tfds has not
prepared it, `DatasetNotFoundError` says where tfds looked and how to provide it.
"""

import tensorflow as tf

from keras_cutmix.data import loaders
from keras_cutmix.data import synthetic_captions  # Registers the tfds builder.

NUM_REFERENCES = 5
# name -> (default training split, default test split, default image size, embedded).
_DATASETS = {
    "synthetic_captions": ("train", "test", synthetic_captions.caption_generator.IMAGE_SIZE, True),
    "coco_captions": ("train+restval", "test", 224, False),
}


def prepare_captions(name, data_dir=None):
    """Builds "synthetic_captions" in `data_dir` if it is not there yet; does nothing for COCO.

    Args:
        name: "synthetic_captions" or "coco_captions".
        data_dir: tfds data dir. Defaults to None (tfds default).

    Raises:
        ValueError: for an unknown `name`.
    """
    if loaders.lookup(_DATASETS, name)[3]:
        loaders.prepared_builder(name, data_dir, build=True)


_COCO_REMEDIES = [
    "  * on a machine with internet, `tfds build coco_captions --data_dir=DIR` downloads COCO 2014 "
    "(about 38 GB from http://cocodataset.org) and the Karpathy split, and prepares it (about 19 GB); "
    "or call load_captions(..., data_dir=DIR, download=True). Then copy DIR/coco_captions here.",
]


def _example_fn(image_size):
    """Resizes the image, keeps the image id and exactly NUM_REFERENCES captions."""
    def fn(example):
        image = example["image"]
        if image.shape[0] != image_size or image.shape[1] != image_size:
            image = tf.image.resize(image, (image_size, image_size))
            image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
        texts = example["captions"]["text"]
        count = tf.shape(texts)[0]
        texts = tf.cond(count > 0, lambda: texts, lambda: tf.constant([""]))  # No caption: one empty one.
        texts = tf.gather(texts, tf.range(NUM_REFERENCES) % tf.maximum(count, 1))  # First 5, or repeated.
        return {"images": tf.ensure_shape(image, [image_size, image_size, 3]),
                "image_ids": tf.cast(example["image/id"], tf.int64),
                "captions": tf.ensure_shape(texts, [NUM_REFERENCES])}
    return fn


def load_captions(name="synthetic_captions", split=None, *, batch_size, training, data_dir=None, seed=0,
                  image_size=None, drop_remainder=None, shuffle_buffer=5000, cache=None, download=False):
    """Loads a captioning data set as batches of images, image ids and 5 reference captions.

    Args:
        name: "synthetic_captions" or "coco_captions" (see the module docstring). Defaults to "synthetic_captions".
        split: A tfds split ("train", "test", "train+restval", "val[:10%]"). Defaults to "train"
            ("train+restval" for COCO) when `training`, else "test".
        batch_size: Images per batch.
        training: True: shuffled file and example order (reshuffled each epoch). False: fixed order.
        data_dir: tfds data dir. Defaults to None (tfds default).
        seed: Seed of the file order and the shuffle (with TF's global seed, as in `load`). Defaults to 0.
        image_size: Output height and width. Defaults to 64 for synthetic_captions, 224 for COCO.
        drop_remainder: Drop the last partial batch. Defaults to `training`.
        shuffle_buffer: Shuffle buffer for training. Defaults to 5000.
        cache: Cache the examples in memory. Defaults to True for the embedded data set, False for COCO.
        download: Let tfds download and prepare COCO. Defaults to False.

    Returns:
        A `tf.data.Dataset` of dicts `{"images": uint8 [B, S, S, 3], "image_ids": int64 [B],
        "captions": tf.string [B, 5]}`.

    Raises:
        ValueError: for an unknown `name` or a `batch_size` below 1.
        DatasetNotFoundError: if tfds has not prepared COCO in `data_dir`.
    """
    train_split, test_split, default_size, embedded = loaders.lookup(_DATASETS, name)
    batch_size = loaders.check_count("batch_size", batch_size)
    split = split or (train_split if training else test_split)
    image_size = int(image_size or default_size)
    cache = embedded if cache is None else cache
    drop_remainder = training if drop_remainder is None else drop_remainder

    builder = loaders.prepared_builder(name, data_dir, build=download or embedded)
    ds = loaders.read_split(builder, split, training=training, seed=seed, data_dir=data_dir,
                            loader="load_captions", remedies=_COCO_REMEDIES)
    ds = ds.map(_example_fn(image_size), num_parallel_calls=tf.data.AUTOTUNE)
    return loaders.cache_shuffle_batch(ds, cache=cache, training=training, shuffle_buffer=shuffle_buffer, seed=seed,
                                       batch_size=batch_size, drop_remainder=drop_remainder)
