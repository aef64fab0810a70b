"""wsolevaluation metadata folders: parsing, errors, transformed boxes, tfds matching."""

import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import data
from keras_cutmix.data import wsol_metadata
from wsol_metadata_files import write_metadata  # tf_tests/, shared with the rehearsals

# Three images in a wsolevaluation-like layout: path, label, (width, height), colour, boxes.
_IMAGES = [
    ("val/ILSVRC2012_val_00000001.JPEG", 65, (40, 30), (200, 10, 10),
     [(10, 3, 29, 26), (0, 0, 39, 29), (38, 10, 39, 12)]),
    ("val/ILSVRC2012_val_00000002.JPEG", 0, (50, 64), (10, 200, 10), [(5, 8, 44, 55)]),
    ("val/sub/ILSVRC2012_val_00000003.JPEG", 999, (33, 21), (10, 10, 200), [(0, 0, 32, 20)]),
]


def _write_metadata(folder, images=_IMAGES):
    return write_metadata(folder, [(path, label, size, boxes) for path, label, size, _, boxes in images])


def _encoded(size, colour, fmt="png"):
    w, h = size
    image = np.broadcast_to(np.array(colour, np.uint8), (h, w, 3))
    encode = tf.io.encode_png if fmt == "png" else tf.io.encode_jpeg
    return encode(image).numpy()


@pytest.fixture
def folders(tmp_path):
    """A metadata folder and an image folder (PNG content under ImageNet's .JPEG names)."""
    metadata = _write_metadata(tmp_path / "metadata")
    root = tmp_path / "images"
    for path, _, size, colour, _ in _IMAGES:
        os.makedirs(os.path.dirname(root / path), exist_ok=True)
        (root / path).write_bytes(_encoded(size, colour))
    return metadata, str(root)


def _batches(ds):
    return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in ds]


def test_read_metadata_keeps_order_labels_sizes_and_every_box(folders):
    metadata = wsol_metadata.read_metadata(folders[0])
    assert list(metadata) == [path for path, *_ in _IMAGES]
    first = metadata["val/ILSVRC2012_val_00000001.JPEG"]
    assert first.label == 65 and first.size == (40, 30)
    assert first.boxes == ((10, 3, 29, 26), (0, 0, 39, 29), (38, 10, 39, 12))
    # Corners included: x1 = 29 is the 30th column, so xmax = 30 / 40.
    np.testing.assert_allclose(first.normalized_boxes(), [
        [3 / 30, 10 / 40, 27 / 30, 30 / 40], [0, 0, 1, 1], [10 / 30, 38 / 40, 13 / 30, 1]])


def test_read_metadata_accepts_trailing_newline_and_crlf(tmp_path):
    folder = _write_metadata(tmp_path)
    for name in ("image_ids.txt", "localization.txt"):
        path = os.path.join(folder, name)
        text = open(path).read()
        with open(path, "w", newline="") as f:
            f.write(text.replace("\n", "\r\n") + "\r\n\n")
    assert wsol_metadata.read_metadata(folder) == wsol_metadata.read_metadata(
        _write_metadata(tmp_path / "plain"))


@pytest.mark.parametrize("name, line, match", [
    ("localization.txt", "val/ILSVRC2012_val_00000002.JPEG,1,2,3", "line 2.*5 comma-separated"),
    ("localization.txt", "val/ILSVRC2012_val_00000002.JPEG,1,2,3,x", "line 2.*integers"),
    ("localization.txt", "val/ILSVRC2012_val_00000002.JPEG,1,2,50,4", "line 2.*x1 < width"),
    ("localization.txt", "val/ILSVRC2012_val_00000002.JPEG,9,2,3,4", "line 2.*x0 <= x1"),
    ("class_labels.txt", "val/ILSVRC2012_val_00000002.JPEG,cat", "line 2.*path,label"),
    ("image_sizes.txt", ",50,64", "line 2.*path,width,height"),
    ("image_ids.txt", "val/ILSVRC2012_val_00000001.JPEG", "line 2.*each image once"),
])
def test_malformed_line_names_file_and_line(tmp_path, name, line, match):
    folder = _write_metadata(tmp_path)
    path = os.path.join(folder, name)
    lines = open(path).read().split("\n")
    lines[1] = line
    with open(path, "w") as f:
        f.write("\n".join(lines))
    with pytest.raises(ValueError, match=match) as info:
        wsol_metadata.read_metadata(folder)
    assert path in str(info.value)


def test_image_without_box_or_label_is_an_error(tmp_path):
    images = [list(image) for image in _IMAGES]
    images[2][4] = []
    folder = _write_metadata(tmp_path / "a", images)
    with pytest.raises(ValueError, match="localization.txt.*ILSVRC2012_val_00000003"):
        wsol_metadata.read_metadata(folder)
    folder = _write_metadata(tmp_path / "b")
    with open(os.path.join(folder, "class_labels.txt"), "w") as f:
        f.write("val/ILSVRC2012_val_00000001.JPEG,65\n")
    with pytest.raises(ValueError, match="class_labels.txt.*2 image.*ILSVRC2012_val_00000002"):
        wsol_metadata.read_metadata(folder)


def test_missing_folder_or_file_says_which(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        wsol_metadata.read_metadata(str(tmp_path / "nowhere"))
    folder = _write_metadata(tmp_path)
    os.remove(os.path.join(folder, "localization.txt"))
    with pytest.raises(FileNotFoundError) as info:
        wsol_metadata.read_metadata(folder)
    assert os.path.join(folder, "localization.txt") in str(info.value)


# Boxes after resize 32x32 + centre crop 24 (offset 4), by hand: a normalised
# coordinate c becomes clip((c * 32 - 4) / 24, 0, 1).
_CROPPED_FIRST = np.array([
    [0.0, 4 / 24, 1.0, 20 / 24],  # y: 3.2 - 4 < 0 and 28.8 - 4 > 24; x: 8 - 4, 24 - 4.
    [0.0, 0.0, 1.0, 1.0],  # Whole image.
    [(32 / 3 - 4) / 24, 1.0, (13 * 32 / 30 - 4) / 24, 1.0],  # Cut out by the crop: zero width.
], np.float32)


def test_folder_dataset_paper_protocol(folders):
    metadata, root = folders
    (batch, last) = _batches(wsol_metadata.imagenet_wsol_dataset(
        metadata, image_root=root, batch_size=2, image_size=24, resize_size=32))
    assert batch["images"].dtype == np.uint8 and batch["images"].shape == (2, 24, 24, 3)
    assert batch["bbox"].dtype == np.float32 and batch["bbox"].shape == (2, 3, 4)
    np.testing.assert_array_equal(batch["labels"], [65, 0])
    assert batch["labels"].dtype == np.int32 and batch["num_boxes"].tolist() == [3, 1]
    assert [i.decode() for i in batch["image_ids"]] == [p for p, *_ in _IMAGES[:2]]
    np.testing.assert_array_equal(batch["images"][0], np.full((24, 24, 3), (200, 10, 10)))
    np.testing.assert_array_equal(batch["images"][1], np.full((24, 24, 3), (10, 200, 10)))
    np.testing.assert_allclose(batch["bbox"][0], _CROPPED_FIRST, atol=1e-6)
    # Second image: box y 8/64..56/64, x 5/50..45/50 -> y 0..24/24 after crop, x 0..24.8/24.
    np.testing.assert_allclose(batch["bbox"][1, 0], [0.0, 0.0, 1.0, 1.0], atol=1e-6)
    np.testing.assert_array_equal(batch["bbox"][1, 1:], 0.0)  # Padding rows.
    assert last["images"].shape == (1, 24, 24, 3) and last["labels"].tolist() == [999]


def test_folder_dataset_inner_box_hand_computed(tmp_path):
    """A box well inside the crop: every coordinate moves, none is clipped."""
    path = "val/x.png"
    folder = _write_metadata(tmp_path / "m", [(path, 3, (64, 48), (1, 2, 3), [(20, 12, 39, 29)])])
    os.makedirs(tmp_path / "i" / "val")
    (tmp_path / "i" / path).write_bytes(_encoded((64, 48), (1, 2, 3)))
    (batch,) = _batches(wsol_metadata.imagenet_wsol_dataset(
        folder, image_root=str(tmp_path / "i"), batch_size=1, image_size=24, resize_size=32))
    # y 12/48..30/48 -> 8..20 in 32 -> 4..16 in the crop; x 20/64..40/64 -> 10..20 -> 6..16.
    np.testing.assert_allclose(batch["bbox"][0], [[4 / 24, 6 / 24, 16 / 24, 16 / 24]], atol=1e-6)


def test_folder_dataset_wsolevaluation_protocol_keeps_boxes(folders):
    """resize_size == image_size: a plain resize, boxes are the normalised metadata boxes."""
    metadata, root = folders
    (batch, _) = _batches(wsol_metadata.imagenet_wsol_dataset(
        metadata, image_root=root, batch_size=2, image_size=24, resize_size=24))
    np.testing.assert_allclose(batch["bbox"][0], [
        [3 / 30, 10 / 40, 27 / 30, 30 / 40], [0, 0, 1, 1], [10 / 30, 38 / 40, 13 / 30, 1]],
        atol=1e-6)
    np.testing.assert_allclose(batch["bbox"][1, 0], [8 / 64, 5 / 50, 56 / 64, 45 / 50], atol=1e-6)


def test_folder_dataset_reads_jpeg_and_grayscale(tmp_path):
    images = [("a.jpg", 1, (20, 10), (90, 90, 90), [(0, 0, 19, 9)]),
              ("b.png", 2, (20, 10), (0, 0, 0), [(0, 0, 19, 9)])]
    folder = _write_metadata(tmp_path / "m", images)
    os.makedirs(tmp_path / "i")
    (tmp_path / "i" / "a.jpg").write_bytes(_encoded((20, 10), (90, 90, 90), "jpeg"))
    gray = np.full((10, 20, 1), 7, np.uint8)
    (tmp_path / "i" / "b.png").write_bytes(tf.io.encode_png(gray).numpy())
    (batch,) = _batches(wsol_metadata.imagenet_wsol_dataset(
        folder, image_root=str(tmp_path / "i"), batch_size=2, image_size=8, resize_size=8))
    assert batch["images"].shape == (2, 8, 8, 3)
    assert np.abs(batch["images"][0].astype(int) - 90).max() <= 2
    np.testing.assert_array_equal(batch["images"][1], 7)


def test_folder_image_of_wrong_size_is_an_error(folders):
    metadata, root = folders
    path = os.path.join(root, _IMAGES[1][0])
    with open(path, "wb") as f:
        f.write(_encoded((51, 64), (0, 0, 0)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="image_sizes.txt"):
        _batches(wsol_metadata.imagenet_wsol_dataset(metadata, image_root=root, batch_size=3))


def test_argument_errors(folders):
    metadata, root = folders
    with pytest.raises(ValueError, match="max_boxes"):
        wsol_metadata.imagenet_wsol_dataset(metadata, image_root=root, batch_size=2, max_boxes=2)
    with pytest.raises(ValueError, match="resize_size"):
        wsol_metadata.imagenet_wsol_dataset(metadata, image_root=root, batch_size=2,
                                            image_size=224, resize_size=200)
    for bad in (0, 4.7, np.float32(4)):  # 4.7 used to batch 4.
        with pytest.raises(ValueError, match=r"^Expected batch_size >= 1 \(a whole number\)\. Received: batch_size="):
            wsol_metadata.imagenet_wsol_dataset(metadata, image_root=root, batch_size=bad)
    ds = wsol_metadata.imagenet_wsol_dataset(metadata, image_root=root, batch_size=3, max_boxes=5,
                                             image_size=24, resize_size=32)
    (batch,) = _batches(ds)
    assert batch["bbox"].shape == (3, 5, 4)


def test_file_name_key_matches_tfds_file_names():
    assert wsol_metadata.file_name_key("val/ILSVRC2012_val_00000001.JPEG") == (
        "ILSVRC2012_val_00000001.JPEG")
    assert wsol_metadata.file_name_key("ILSVRC2012_val_00000002.JPEG") == (
        "ILSVRC2012_val_00000002.JPEG")
    assert wsol_metadata.file_name_key("a\\b\\c.JPEG") == "c.JPEG"


def _mock_imagenet(examples):
    """`tfds.testing.mock_data` whose imagenet2012 yields `(file_name, label, encoded image)`."""
    def as_dataset(self, *args, **kwargs):
        del self, args, kwargs
        return tf.data.Dataset.from_tensor_slices({
            "file_name": [e[0] for e in examples],
            "label": np.array([e[1] for e in examples], np.int64),
            "image": [e[2] for e in examples],  # Encoded: the loader skips tfds decoding.
        })
    return tfds.testing.mock_data(as_dataset_fn=as_dataset)


def _tfds_examples(order):
    return [(wsol_metadata.file_name_key(_IMAGES[i][0]), _IMAGES[i][1],
             _encoded(_IMAGES[i][2], _IMAGES[i][3])) for i in order]


def test_tfds_examples_are_matched_by_file_name(folders, tmp_path):
    metadata, _ = folders
    with _mock_imagenet(_tfds_examples([1, 0, 2])):
        ds = wsol_metadata.imagenet_wsol_dataset(metadata, data_dir=str(tmp_path), batch_size=3,
                                                 image_size=24, resize_size=32)
        (batch,) = _batches(ds)
    # tfds' order, each image with its own metadata.
    assert [i.decode() for i in batch["image_ids"]] == [_IMAGES[i][0] for i in (1, 0, 2)]
    np.testing.assert_array_equal(batch["labels"], [0, 65, 999])
    assert batch["num_boxes"].tolist() == [1, 3, 1]
    np.testing.assert_array_equal(batch["images"][1], np.full((24, 24, 3), (200, 10, 10)))
    np.testing.assert_allclose(batch["bbox"][1], _CROPPED_FIRST, atol=1e-6)
    np.testing.assert_allclose(batch["bbox"][0, 0], [0.0, 0.0, 1.0, 1.0], atol=1e-6)
    np.testing.assert_array_equal(batch["bbox"][0, 1:], 0.0)


def test_tfds_example_missing_from_metadata_or_with_another_label(folders, tmp_path):
    metadata, _ = folders
    stranger = [("ILSVRC2012_val_00000009.JPEG", 5, _encoded((8, 8), (0, 0, 0)))]
    with _mock_imagenet(_tfds_examples([0]) + stranger):
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in .*image_ids.txt"):
            _batches(wsol_metadata.imagenet_wsol_dataset(metadata, data_dir=str(tmp_path),
                                                         batch_size=2))
    relabelled = [(name, 7, image) for name, _, image in _tfds_examples([1])]
    with _mock_imagenet(relabelled):
        with pytest.raises(tf.errors.InvalidArgumentError, match="class_labels.txt"):
            _batches(wsol_metadata.imagenet_wsol_dataset(metadata, data_dir=str(tmp_path),
                                                         batch_size=2))


def test_tfds_needs_distinct_file_names(tmp_path):
    images = [(p.replace("val/sub/", "val2/").replace("_00000003", "_00000001"), *rest)
              for p, *rest in _IMAGES]
    folder = _write_metadata(tmp_path, images)
    with pytest.raises(ValueError, match="distinct file names.*image_root"):
        wsol_metadata.imagenet_wsol_dataset(folder, data_dir=str(tmp_path), batch_size=2)


def test_missing_tfds_imagenet_says_where_and_how(folders, tmp_path):
    metadata, _ = folders
    with pytest.raises(data.DatasetNotFoundError, match="manual_dir") as info:
        wsol_metadata.imagenet_wsol_dataset(metadata, data_dir=str(tmp_path / "tfds"),
                                            batch_size=2)
    assert str(tmp_path / "tfds") in str(info.value)


def test_labels_follow_tfds_synset_order():
    """wsolevaluation's test labels of the first two validation images (65, 970, from its
    class_labels.txt) are their synsets' indices in tfds imagenet2012's label names."""
    names = tfds.builder("imagenet2012").info.features["label"].names
    path = tfds.core.tfds_path("datasets/imagenet2012/validation_labels.txt")
    first_two = path.read_text().split()[:2]
    assert names == sorted(names) and len(names) == 1000
    assert [names.index(synset) for synset in first_two] == [65, 970]
