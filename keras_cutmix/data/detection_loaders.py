"""`load_detection`: padded, batched detection data (synthetic_detection, Pascal VOC) from tfds.

    from keras_cutmix import data
    train = data.load_detection("synthetic_detection", batch_size=32, training=True, seed=0)
    batch = next(iter(train))
    batch["images"]                        # uint8 [32, 128, 128, 3]
    batch["bounding_boxes"]["boxes"]       # float32 [32, M, 4], rel_yxyx (M: the batch's most objects)
    batch["bounding_boxes"]["labels"]      # int32 [32, M], -1 for padding
    batch["difficult"]                     # bool [32, M]

The batches are the dict `keras_cutmix.cutmix_fn(..., bounding_box_format="rel_yxyx")` takes; nothing is
mixed here (the detector's input pipeline does that). `load_detection`'s arguments say how images are
resized or augmented and how objects are padded, cut or dropped.

Data sets: "synthetic_detection" (embedded, built on first use), "voc/2007" (trainval, test), "voc/2012"
(trainval, and its validation split for testing: VOC2012's test annotations are not public) and
"voc/2007+2012", the paper's setup: VOC2007 + VOC2012 trainval for training, VOC2007 test for testing.
tfds' VOC "train" + "validation" is the devkit's trainval. VOC is never downloaded unless asked
(`download=True`); if tfds has not prepared it, `DatasetNotFoundError` says where tfds looked and how to
provide it. tfds' VOC boxes are the devkit's 1-based pixel coordinates divided by the image size; multiply
by the original width and height to score them with `keras_cutmix.detection.voc_eval.voc_map`.
"""

import dataclasses

import tensorflow as tf

from keras_cutmix.data import loaders
from keras_cutmix.data import synthetic_detection  # Registers the tfds builder.
from keras_cutmix.data import synthetic_generator

VOC_CLASS_NAMES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)
@dataclasses.dataclass(frozen=True)
class DetectionSpec:
    """What a detector needs to know about a detection data set.

    Attributes:
        name: Data set name, as `load_detection` takes it.
        class_names: Names of the classes, in label order.
        image_size: Default output height and width of `load_detection`.
        splits: Split alias ("trainval", "test") -> tuple of (tfds name, tfds split).
        embedded: Whether it is generated offline on first use.
    """

    name: str
    class_names: tuple
    image_size: int
    splits: dict
    embedded: bool = False

    @property
    def num_classes(self):
        return len(self.class_names)


_SPECS = {
    spec.name: spec for spec in [
        DetectionSpec("synthetic_detection", synthetic_generator.CLASS_NAMES,
                      synthetic_generator.SCENE_IMAGE_SIZE,
                      {"trainval": (("synthetic_detection", "train"),),
                       "test": (("synthetic_detection", "test"),)}, embedded=True),
        DetectionSpec("voc/2007", VOC_CLASS_NAMES, 300,
                      {"trainval": (("voc/2007", "train+validation"),),
                       "test": (("voc/2007", "test"),)}),
        DetectionSpec("voc/2012", VOC_CLASS_NAMES, 300,
                      {"trainval": (("voc/2012", "train+validation"),),
                       "test": (("voc/2012", "validation"),)}),
        DetectionSpec("voc/2007+2012", VOC_CLASS_NAMES, 300,
                      {"trainval": (("voc/2007", "train+validation"), ("voc/2012", "train+validation")),
                       "test": (("voc/2007", "test"),)}),
    ]
}


def detection_spec(name):
    """Returns the `DetectionSpec` of "synthetic_detection", "voc/2007", "voc/2012" or "voc/2007+2012".

    Raises:
        ValueError: if `name` is unknown.
    """
    return loaders.lookup(_SPECS, name)


def prepare_detection(name, data_dir=None):
    """Builds "synthetic_detection" in `data_dir` if it is not there yet; does nothing for VOC.

    Args:
        name: A name `detection_spec` knows.
        data_dir: tfds data dir. Defaults to None (tfds default).
    """
    spec = detection_spec(name)
    if spec.embedded:
        for tfds_name, _ in spec.splits["trainval"]:
            loaders.prepared_builder(tfds_name, data_dir, build=True)


_VOC_REMEDIES = [
    "  * on a machine with internet, `tfds build voc/2007 voc/2012 --data_dir=DIR` downloads "
    "Pascal VOC (about 0.9 GB for 2007, 2 GB for 2012, from http://host.robots.ox.ac.uk/pascal/VOC/) "
    "and prepares both years (07+12 needs both; tfds' 'train' + 'validation' is VOC's trainval); "
    "or call load_detection(..., data_dir=DIR, download=True). Then copy DIR/voc here.",
]


def _read(tfds_name, split, *, training, seed, data_dir, download, embedded):
    builder = loaders.prepared_builder(tfds_name, data_dir, build=download or embedded)
    return loaders.read_split(builder, split, training=training, seed=seed, data_dir=data_dir,
                              loader="load_detection", remedies=_VOC_REMEDIES)


def _objects_fn(image_size, max_boxes, drop_difficult):
    """Resizes the image to `image_size` (None: keeps it), drops difficult objects if asked, and pads (or
    cuts) the objects to `max_boxes` (None: keeps them all, unpadded)."""
    def fn(example):
        image = example["image"]
        if image_size is not None and (image.shape[0] != image_size or image.shape[1] != image_size):
            image = tf.image.resize(image, (image_size, image_size))
            image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
        objects = example["objects"]
        # The fields agree in length in real data; tfds.testing.mock_data draws each its own.
        count = tf.minimum(tf.minimum(tf.shape(objects["bbox"])[0], tf.shape(objects["label"])[0]),
                           tf.shape(objects["is_difficult"])[0])
        boxes = tf.cast(objects["bbox"][:count], tf.float32)
        labels = tf.cast(objects["label"][:count], tf.int32)
        difficult = objects["is_difficult"][:count]
        if drop_difficult:
            boxes, labels, difficult = (tf.boolean_mask(t, ~difficult) for t in (boxes, labels, difficult))
        if max_boxes is not None:
            kept = tf.minimum(tf.shape(labels)[0], max_boxes)
            pad = max_boxes - kept

            def padded(values, fill):
                paddings = [[0, pad]] + [[0, 0]] * (len(values.shape) - 1)
                return tf.pad(values[:kept], paddings, constant_values=fill)

            boxes = tf.ensure_shape(padded(boxes, 0.0), [max_boxes, 4])
            labels = tf.ensure_shape(padded(labels, -1), [max_boxes])
            difficult = tf.ensure_shape(padded(difficult, False), [max_boxes])
        if image_size is not None:
            image = tf.ensure_shape(image, [image_size, image_size, 3])
        return {"images": image, "bounding_boxes": {"boxes": boxes, "labels": labels}, "difficult": difficult}
    return fn


def _augment_fn(augment, image_size, seed):
    """Applies `augment` to the `index`-th example of the stream, seeded by `fold_in([seed, 0], index)`."""
    def fn(index, example):
        seed_pair = tf.random.experimental.stateless_fold_in(tf.constant([seed, 0], tf.int64), index)
        boxes = example["bounding_boxes"]
        image, new_boxes, labels = augment(example["images"], boxes["boxes"], boxes["labels"], seed_pair)
        return {"images": tf.ensure_shape(tf.cast(image, tf.float32), [image_size, image_size, 3]),
                "bounding_boxes": {"boxes": tf.reshape(new_boxes, tf.shape(boxes["boxes"])),
                                   "labels": tf.reshape(tf.cast(labels, tf.int32), tf.shape(boxes["labels"]))},
                "difficult": example["difficult"] & (labels >= 0)}
    return fn


def load_detection(name="synthetic_detection", split=None, *, batch_size, training, data_dir=None,
                   seed=0, image_size=None, max_boxes=None, drop_difficult=False, augment=None,
                   drop_remainder=None, shuffle_buffer=2000, cache=None, download=False):
    """Loads a detection data set as padded batches of images and boxes.

    Args:
        name: "synthetic_detection", "voc/2007", "voc/2012" or "voc/2007+2012"
            (see the module docstring). Defaults to "synthetic_detection".
        split: "trainval", "test", or for a single tfds data set any tfds split ("train[:10%]").
            Defaults to "trainval" when `training`, else "test".
        batch_size: Images per batch.
        training: True: shuffled file and example order (reshuffled each epoch). False: fixed order.
        data_dir: tfds data dir. Defaults to None (tfds default).
        seed: Seed of the file order, the shuffle (with TF's global seed, as in `load`) and `augment`. Defaults to 0.
        image_size: Output height and width. Defaults to the spec's (128 for synthetic_detection, 300
            for VOC, as SSD300).
        max_boxes: None keeps every object: each batch is padded to its image with the most objects (what
            evaluation needs: VOC07 test has images with 42). An int pads every image to that many objects
            and drops the objects past it (fixed shapes for training targets). Defaults to None.
        drop_difficult: Drop the objects marked difficult (before `max_boxes`), as ssd.pytorch's
            `VOCAnnotationTransform(keep_difficult=False)` does for training. Defaults to False.
        augment: `augment(image, boxes, labels, seed) -> (image, boxes, labels)` applied to each example
            after the shuffle and before batching, on the image at its original resolution (uint8
            [H, W, 3]; SSD's augmentation crops before it resizes) with its normalised boxes and -1 padded
            labels; it must return the image at `image_size` (nothing resizes after it) and keep the
            number of rows. `seed` is `stateless_fold_in([seed, 0], i)` for the i-th example of each pass.
            Defaults to None (images resized to a square here; normalised boxes keep their values).
        drop_remainder: Drop the last partial batch. Defaults to `training`.
        shuffle_buffer: Shuffle buffer for training. Defaults to 2000.
        cache: Cache the examples (before `augment`) in memory. Defaults to True for
            the embedded data set, False for VOC.
        download: Let tfds download and prepare VOC. Defaults to False.

    Returns:
        A `tf.data.Dataset` of dicts `{"images": uint8 [B, S, S, 3] (float32 with `augment`),
        "bounding_boxes": {"boxes": float32 [B, M, 4] normalised `[ymin, xmin, ymax, xmax]` (zeros for
        padding), "labels": int32 [B, M] (-1 for padding)}, "difficult": bool [B, M]}`, M being `max_boxes`
        or the batch's largest object count.

    Raises:
        ValueError: for an unknown `name`, a bad `batch_size` or `max_boxes`, or a tfds split string with
            "voc/2007+2012".
        DatasetNotFoundError: if tfds has not prepared a VOC data set in `data_dir`.
    """
    spec = detection_spec(name)
    batch_size = loaders.check_count("batch_size", batch_size)
    max_boxes = None if max_boxes is None else loaders.check_count("max_boxes", max_boxes)
    split = split or ("trainval" if training else "test")
    if split in spec.splits:
        sources = spec.splits[split]
    elif len(spec.splits["trainval"]) == 1 and len(spec.splits["test"]) == 1:
        sources = ((spec.splits["trainval"][0][0], split),)
    else:
        raise ValueError(f"Expected split to be one of {sorted(spec.splits)} for {name!r}. "
                         f"Received: split={split!r}")
    image_size = int(image_size or spec.image_size)
    cache = spec.embedded if cache is None else cache
    drop_remainder = training if drop_remainder is None else drop_remainder

    objects = _objects_fn(None if augment else image_size, max_boxes, drop_difficult)
    parts = [_read(tfds_name, tfds_split, training=training, seed=seed, data_dir=data_dir,
                   download=download, embedded=spec.embedded).map(objects, num_parallel_calls=tf.data.AUTOTUNE)
             for tfds_name, tfds_split in sources]
    ds = parts[0]
    sizes = [float(part.cardinality()) for part in parts]
    if training and len(parts) > 1 and min(sizes) > 0:
        # 07+12: both years drawn throughout each pass (in proportion), not all of 2007 first (a shuffle
        # buffer of 2,000 would not mix them).
        ds = tf.data.Dataset.sample_from_datasets(parts, [n / sum(sizes) for n in sizes], seed=seed,
                                                  stop_on_empty_dataset=False)
    else:
        for part in parts[1:]:
            ds = ds.concatenate(part)
    before_batch = None
    if augment is not None:
        augment_one = _augment_fn(augment, image_size, seed)
        before_batch = lambda d: d.enumerate().map(augment_one, num_parallel_calls=tf.data.AUTOTUNE)  # noqa: E731
    padding = None if max_boxes is not None else {
        "images": tf.constant(0, tf.uint8 if augment is None else tf.float32),
        "bounding_boxes": {"boxes": 0.0, "labels": -1}, "difficult": False}
    return loaders.cache_shuffle_batch(ds, cache=cache, training=training, shuffle_buffer=shuffle_buffer, seed=seed,
                                       batch_size=batch_size, drop_remainder=drop_remainder,
                                       before_batch=before_batch, padding_values=padding)
