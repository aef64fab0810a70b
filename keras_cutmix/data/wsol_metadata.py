"""ImageNet boxes for localization from a wsolevaluation-style metadata folder.

clovaai/wsolevaluation ships, for each split, a folder such as `metadata/ILSVRC/test/` (ImageNet's 50,000
validation images) with four text files, one image per line (`localization.txt`: one box per line). Its
code is under the MIT licence; the `test` boxes are ImageNet's own validation boxes (ImageNet's terms of
access apply, as to the images); the `val` folder's boxes on ImageNetV2 are NAVER's, under CC-BY-2.0.

    image_ids.txt     val/ILSVRC2012_val_00000001.JPEG
    class_labels.txt  val/ILSVRC2012_val_00000001.JPEG,65
    image_sizes.txt   val/ILSVRC2012_val_00000001.JPEG,500,375        (width, height)
    localization.txt  val/ILSVRC2012_val_00000001.JPEG,111,108,441,193 (x0, y0, x1, y1)

Box coordinates are pixels of the original image, corners included: `x1, y1` are the last column and row inside
the box (0 <= x0 <= x1 <= width - 1), as wsolevaluation's `calculate_multiple_iou` counts `x1 - x0 + 1` pixels;
in its ImageNet and CUB files `x1` reaches `width - 1` but never `width`. Here they become the tfds convention
of `keras_cutmix.data.transforms`: `[y0 / height, x0 / width, (y1 + 1) / height, (x1 + 1) / width]`.

The class labels are 0-999 in sorted-synset order (n01440764 = 0), the order of tfds `imagenet2012`: on
the `test` folder all 50,000 labels equal tfds' validation labels (checked against tfds'
`validation_labels.txt` and `labels.txt`), and `imagenet_wsol_dataset` asserts it image by image.

`imagenet_wsol_dataset`'s default transform is the CutMix paper's localization protocol (supplementary Section
B): resize to 256x256, ignoring the aspect ratio, then crop the centre 224x224, so a box part outside the centre
crop is cut off. wsolevaluation resizes straight to 224x224 (nothing cut off): `resize_size=224`.

References:
    - [Choe et al., 2020, Evaluating Weakly Supervised Object Localization Methods
      Right](https://arxiv.org/abs/2001.07437); https://github.com/clovaai/wsolevaluation
      (`data_loaders.py`, `evaluation.py`).
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), supplementary Section B.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix.data import loaders
from keras_cutmix.data import pipelines

_FILES = {  # File name: the fields of its lines.
    "image_ids.txt": ("path",),
    "class_labels.txt": ("path", "label"),
    "image_sizes.txt": ("path", "width", "height"),
    "localization.txt": ("path", "x0", "y0", "x1", "y1"),
}


@dataclasses.dataclass(frozen=True)
class ImageMetadata:
    """What the metadata folder says about one image.

    Attributes:
        label: Class id (0-999 for ImageNet).
        size: `(width, height)` of the original image in pixels.
        boxes: Tuple of `(x0, y0, x1, y1)` boxes in pixels of the original image, corners included.
    """

    label: int
    size: tuple
    boxes: tuple

    def normalized_boxes(self):
        """float32 `[k, 4]` boxes `[ymin, xmin, ymax, xmax]` normalised, max exclusive."""
        width, height = self.size
        boxes = np.asarray(self.boxes, np.float64).reshape(-1, 4)
        x0, y0, x1, y1 = boxes.T
        return np.stack([y0 / height, x0 / width, (y1 + 1) / height, (x1 + 1) / width], axis=-1).astype(np.float32)


def _read_lines(folder, name):
    """Yields `(line_number, fields)` of one metadata file; blank lines are skipped."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Expected the wsolevaluation metadata file {path} (a folder such as "
            f"wsolevaluation's metadata/ILSVRC/test/ holds {sorted(_FILES)}). Received: "
            f"metadata_folder={folder!r}, which has no {name}")
    fields = _FILES[name]
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            values = line.split(",")
            try:
                if len(values) != len(fields) or not values[0]:
                    raise ValueError
                yield number, (values[0], *(int(v) for v in values[1:]))
            except ValueError:
                raise ValueError(
                    f"{path}, line {number}: expected {len(fields)} comma-separated fields "
                    f"{','.join(fields)} (all but the path integers). Received: {line!r}"
                ) from None


def _check_box(box, size, where):
    (x0, y0, x1, y1), (width, height) = box, size
    if not (0 <= x0 <= x1 < width and 0 <= y0 <= y1 < height):
        raise ValueError(
            f"{where}: expected a box with 0 <= x0 <= x1 < width and 0 <= y0 <= y1 < height "
            f"(corners included, image {width}x{height}). Received: x0,y0,x1,y1={box}")


def read_metadata(folder):
    """Reads a wsolevaluation metadata folder.

    Args:
        folder: Folder with `image_ids.txt`, `class_labels.txt`, `image_sizes.txt` and `localization.txt`
            (e.g. wsolevaluation's `metadata/ILSVRC/test`).

    Returns:
        A dict from image path (as written in `image_ids.txt`, e.g. `"val/ILSVRC2012_val_00000001.JPEG"`)
        to `ImageMetadata`, in the order of `image_ids.txt`. Lines about images not in `image_ids.txt` are
        ignored, as wsolevaluation does.

    Raises:
        FileNotFoundError: if the folder or one of the four files is missing.
        ValueError: for a malformed line, an image listed twice, an image of `image_ids.txt` without
            label, size or box, or a box outside its image; the message names the file and line.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Expected metadata_folder to be a wsolevaluation metadata folder such as "
            f"wsolevaluation/metadata/ILSVRC/test holding {sorted(_FILES)}. "
            f"Received: metadata_folder={folder!r}, which is not a folder")
    ids = {}
    for number, (path,) in _read_lines(folder, "image_ids.txt"):
        if path in ids:
            raise ValueError(f"{os.path.join(folder, 'image_ids.txt')}, line {number}: expected each image "
                             f"once. Received: {path!r} again (first on line {ids[path]})")
        ids[path] = number
    labels, sizes, boxes = {}, {}, {path: [] for path in ids}
    for name, table in (("class_labels.txt", labels), ("image_sizes.txt", sizes)):
        for number, (path, *values) in _read_lines(folder, name):
            if path in table:
                raise ValueError(f"{os.path.join(folder, name)}, line {number}: expected each "
                                 f"image once. Received: {path!r} again")
            table[path] = values[0] if len(values) == 1 else tuple(values)
    for number, (path, *box) in _read_lines(folder, "localization.txt"):
        if path in ids:
            where = f"{os.path.join(folder, 'localization.txt')}, line {number}"
            if path not in sizes:
                continue  # Reported below, as an image without size.
            _check_box(tuple(box), sizes[path], where)
            boxes[path].append(tuple(box))
    for name, table in (("class_labels.txt", labels), ("image_sizes.txt", sizes), ("localization.txt", boxes)):
        missing = [path for path in ids if table.get(path) in (None, [])]
        if missing:
            raise ValueError(
                f"{os.path.join(folder, name)}: expected a line for every image of image_ids.txt. Received: none "
                f"for {len(missing)} image(s), e.g. {missing[0]!r} (image_ids.txt line {ids[missing[0]]})")
    return {path: ImageMetadata(labels[path], sizes[path], tuple(boxes[path])) for path in ids}


def file_name_key(path):
    """The key matching a metadata path to a tfds `file_name`: its last path component.

    `"val/ILSVRC2012_val_00000001.JPEG"` and tfds imagenet2012's validation `file_name`
    `"ILSVRC2012_val_00000001.JPEG"` both give `"ILSVRC2012_val_00000001.JPEG"`.
    """
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _tables(metadata, max_boxes):
    """The metadata as arrays: paths, labels [N], (height, width) [N, 2], boxes [N, K, 4], box counts [N]."""
    paths = list(metadata)
    counts = np.array([len(m.boxes) for m in metadata.values()], np.int32)
    if max_boxes is None:
        max_boxes = int(counts.max(initial=1))
    if int(max_boxes) < 1 or counts.max(initial=0) > max_boxes:
        worst = paths[int(np.argmax(counts))] if paths else None
        raise ValueError(f"Expected max_boxes >= 1 and at least the most boxes of an image "
                         f"({counts.max(initial=0)}, {worst!r}). Received: max_boxes={max_boxes}")
    boxes = np.zeros([len(paths), int(max_boxes), 4], np.float32)
    for i, m in enumerate(metadata.values()):
        boxes[i, :len(m.boxes)] = m.normalized_boxes()
    labels = np.array([m.label for m in metadata.values()], np.int32)
    sizes = np.array([m.size[::-1] for m in metadata.values()], np.int32).reshape(-1, 2)
    return paths, labels, sizes, boxes, counts


def imagenet_wsol_dataset(metadata_folder, image_root=None, data_dir=None, *, batch_size, image_size=224,
                          resize_size=256, split="validation", max_boxes=None):
    """ImageNet images with their labels and all their boxes, preprocessed for evaluation.

    The images come from one of two places:

    * `image_root` given: files `image_root/PATH` for every `PATH` of `image_ids.txt`, as wsolevaluation
      reads them (its `dataset/ILSVRC` folder, with `val/ILSVRC2012_val_*.JPEG`), in that file's order.
    * otherwise tfds `imagenet2012` from `data_dir` (`split`), matched to the metadata by file name
      (`file_name_key`), in tfds' order. Every tfds example must be in the metadata with the same label
      and size, or iterating raises `tf.errors.InvalidArgumentError` naming the file.

    Each image is decoded to RGB, resized to `resize_size` x `resize_size` and centre-cropped to
    `image_size` (`pipelines.Pipeline("resize_crop", keep_aspect=False)`, the test recipe of CUB); its boxes
    follow the same transform and are clipped to the crop.

    Args:
        metadata_folder: wsolevaluation metadata folder, e.g. `wsolevaluation/metadata/ILSVRC/test`; see
            `read_metadata`.
        image_root: Folder the metadata paths are relative to, or None to read tfds `imagenet2012`. Defaults to None.
        data_dir: tfds data dir of `imagenet2012` (unused with `image_root`). Defaults to None (tfds'
            default data dirs).
        batch_size: Images per batch (the last batch may be smaller).
        image_size: Height and width of the output. Defaults to 224.
        resize_size: Height and width of the resize before the centre crop, at least `image_size`: 256 is
            the CutMix paper's protocol, 224 (= `image_size`) wsolevaluation's. Defaults to 256.
        split: tfds split (slicing allowed). Defaults to "validation".
        max_boxes: Box rows `K` of every image, or None for the most boxes of an image in the metadata (20
            in ImageNet's test folder). Defaults to None.

    Returns:
        A `tf.data.Dataset` of dicts: `"images"` uint8 [B, S, S, 3]; `"labels"` int32 [B] (from the
        metadata); `"bbox"` float32 [B, K, 4] normalised `[ymin, xmin, ymax, xmax]` (max exclusive) after
        the transform, rows past `"num_boxes"` all zero; `"num_boxes"` int32 [B] (a real box cut out by the
        crop keeps its row, with zero area); `"image_ids"` string [B], the metadata paths.

    Raises:
        FileNotFoundError, ValueError: see `read_metadata`; ValueError also for a bad size or batch size,
            or metadata paths whose file names repeat (tfds mode).
        DatasetNotFoundError: if tfds has not prepared `imagenet2012` in `data_dir` (tfds mode).
    """
    batch_size = loaders.check_count("batch_size", batch_size)
    if not 1 <= int(image_size) <= int(resize_size):
        raise ValueError(f"Expected 1 <= image_size <= resize_size. Received: "
                         f"image_size={image_size}, resize_size={resize_size}")
    pipeline = pipelines.Pipeline("resize_crop", int(image_size), resize_size=int(resize_size), keep_aspect=False)
    metadata = read_metadata(metadata_folder)
    paths, labels, sizes, boxes, counts = _tables(metadata, max_boxes)
    if image_root is None:
        ds = _tfds_examples(metadata_folder, paths, labels, data_dir, split)
    else:
        files = [os.path.join(image_root, path) for path in paths]
        ds = tf.data.Dataset.from_tensor_slices((files, np.arange(len(paths), dtype=np.int32)))
        ds = ds.map(lambda file, index: (_decode(tf.io.read_file(file)), index, file),
                    num_parallel_calls=tf.data.AUTOTUNE)

    paths_t, labels_t, sizes_t = tf.constant(paths, tf.string), tf.constant(labels), sizes
    boxes_t, counts_t = tf.constant(boxes), tf.constant(counts)

    def preprocess(image, index, source):
        expected_hw = tf.gather(sizes_t, index)
        image = _checked(image, tf.reduce_all(tf.shape(image)[:2] == expected_hw),
                         f"Image size differs from {metadata_folder}/image_sizes.txt; image:",
                         source, "(height, width):", tf.shape(image)[:2], "expected:", expected_hw)
        image, bbox = pipelines.preprocess(pipeline, image, tf.gather(boxes_t, index),
                                           tf.zeros([2], tf.int32), training=False)
        # Zero padding rows stay zero: the crop never overhangs (resize_size >= image_size).
        return {"images": image, "labels": tf.gather(labels_t, index), "bbox": bbox,
                "num_boxes": tf.gather(counts_t, index), "image_ids": tf.gather(paths_t, index)}

    ds = ds.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _checked(value, condition, *message):
    """`value` once `condition` holds; else iterating raises InvalidArgumentError(`message`)."""
    with tf.control_dependencies([tf.debugging.Assert(condition, list(message))]):
        return tf.identity(value)


def _decode(encoded):
    return tf.io.decode_image(encoded, channels=3, expand_animations=False)


def _tfds_examples(metadata_folder, paths, labels, data_dir, split):
    """tfds imagenet2012 as `(image, metadata index, file_name)`, matched by file name."""
    keys = [file_name_key(path) for path in paths]
    if len(set(keys)) != len(keys):
        seen = set()
        repeated = next(key for key in keys if key in seen or seen.add(key))
        raise ValueError(
            f"Expected metadata paths with distinct file names to match tfds imagenet2012's "
            f"file_name. Received: {repeated!r} twice in {metadata_folder}/image_ids.txt; "
            "pass image_root to read these images from a folder instead")
    builder = tfds.builder("imagenet2012", data_dir=data_dir)
    # loaders' reader: encoded images, and its DatasetNotFoundError when tfds has no data.
    ds = loaders.read_split(builder, split, training=False, seed=0, data_dir=data_dir, loader="load",
                            remedies=loaders.how_to_provide("imagenet2012"),
                            decoders={"image": tfds.decode.SkipDecoding()})
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(keys, tf.string), tf.range(len(keys), dtype=tf.int32)),
        default_value=-1)
    labels_t = tf.constant(labels)

    def match(example):
        file_name = example["file_name"]
        index = _checked(table.lookup(file_name), table.lookup(file_name) >= 0,
                         f"tfds imagenet2012 example not in {metadata_folder}/image_ids.txt:", file_name)
        label, expected = tf.cast(example["label"], tf.int32), tf.gather(labels_t, index)
        index = _checked(index, tf.equal(label, expected),
                         f"tfds imagenet2012 label differs from {metadata_folder}/class_labels.txt;"
                         " image:", file_name, "tfds label:", label, "metadata label:", expected)
        return _decode(example["image"]), index, file_name

    return ds.map(match, num_parallel_calls=tf.data.AUTOTUNE)
