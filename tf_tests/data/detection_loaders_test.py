"""load_detection: padding, difficult flags, sizes (tiny synthetic_detection); VOC under mock data; errors."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import data
from keras_cutmix.data import detection_loaders
from keras_cutmix.data import synthetic_detection


@pytest.fixture(scope="module")
def tiny_default(tmp_path_factory):
    """The default config made tiny (12 train / 5 test): load_detection's first-use build takes a second."""
    tiny = synthetic_detection.SyntheticDetectionConfig(name="default", num_train=12, num_test=5, seed=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthetic_detection.SyntheticDetection, "BUILDER_CONFIGS", [tiny])
        data_dir = str(tmp_path_factory.mktemp("tfds"))
        detection_loaders.prepare_detection("synthetic_detection", data_dir=data_dir)
        yield data_dir


def _batches(ds):
    return [tf.nest.map_structure(lambda t: t.numpy(), batch) for batch in ds]


def test_synthetic_shapes_padding_and_difficult(tiny_default):
    ds = data.load_detection("synthetic_detection", batch_size=2, training=False,
                             data_dir=tiny_default, max_boxes=10)
    batches = _batches(ds)
    assert [len(b["images"]) for b in batches] == [2, 2, 1]  # Evaluation keeps the remainder.
    batch = batches[0]
    assert batch["images"].dtype == np.uint8 and batch["images"].shape == (2, 128, 128, 3)
    boxes, labels = batch["bounding_boxes"]["boxes"], batch["bounding_boxes"]["labels"]
    assert boxes.dtype == np.float32 and boxes.shape == (2, 10, 4)
    assert labels.dtype == np.int32 and batch["difficult"].dtype == bool
    # The same objects as the tfds examples (test split, fixed order), padded with -1 / zeros / False.
    builder = tfds.builder("synthetic_detection", data_dir=tiny_default)
    examples = list(tfds.as_numpy(builder.as_dataset(split="test", shuffle_files=False)))
    for b, example in enumerate(examples[:2]):
        objects = example["objects"]
        k = len(objects["label"])
        np.testing.assert_array_equal(batch["images"][b], example["image"])
        np.testing.assert_array_equal(boxes[b, :k], objects["bbox"])
        np.testing.assert_array_equal(labels[b, :k], objects["label"])
        np.testing.assert_array_equal(batch["difficult"][b, :k], objects["is_difficult"])
        assert (labels[b, k:] == -1).all() and not boxes[b, k:].any() and not batch["difficult"][b, k:].any()
    all_difficult = np.concatenate([b["difficult"][b["bounding_boxes"]["labels"] >= 0] for b in batches])
    assert all_difficult.any() and not all_difficult.all()


def test_max_boxes_cuts_resize_and_training_order(tiny_default):
    ds = data.load_detection("synthetic_detection", batch_size=4, training=True, data_dir=tiny_default,
                             max_boxes=2, image_size=48, seed=1)
    batches = _batches(ds)
    assert len(batches) == 3  # 12 images; training drops nothing here, would drop a remainder.
    labels = np.concatenate([b["bounding_boxes"]["labels"] for b in batches])
    assert labels.shape == (12, 2) and (labels >= 0).all()  # Every image has >= 2 objects: cut to 2.
    assert batches[0]["images"].shape == (4, 48, 48, 3) and batches[0]["images"].dtype == np.uint8
    again = _batches(data.load_detection("synthetic_detection", batch_size=4, training=True,
                                         data_dir=tiny_default, max_boxes=2, image_size=48, seed=1))
    np.testing.assert_array_equal(again[0]["images"], batches[0]["images"])  # Same seed, same order.


def test_cutmix_takes_the_batches(tiny_default):
    import keras_cutmix as kc
    ds = data.load_detection("synthetic_detection", batch_size=4, training=False, data_dir=tiny_default)
    batch = next(iter(ds))
    inputs = {"images": batch["images"], "bounding_boxes": batch["bounding_boxes"]}
    mixed = kc.cutmix_fn(inputs, seed=0, bounding_box_format="rel_yxyx")
    assert mixed["images"].shape == (4, 128, 128, 3)


@pytest.mark.parametrize("name, training, size", [("voc/2007", True, 300), ("voc/2007+2012", True, 64),
                                                  ("voc/2007+2012", False, 64), ("voc/2012", False, 32)])
def test_voc_under_mock_data(name, training, size, tmp_path):
    with tfds.testing.mock_data(num_examples=4):
        assert "is_difficult" in tfds.builder("voc/2007").info.features["objects"].feature
        ds = data.load_detection(name, batch_size=2, training=training, data_dir=str(tmp_path),
                                 image_size=None if size == 300 else size, max_boxes=40)
        batches = _batches(ds)
    # 07+12 trainval concatenates two mocked splits of 4; the others read one.
    assert len(batches) == (4 if name == "voc/2007+2012" and training else 2)
    batch = batches[0]
    assert batch["images"].shape == (2, size, size, 3) and batch["images"].dtype == np.uint8
    assert batch["bounding_boxes"]["boxes"].shape == (2, 40, 4)
    labels = batch["bounding_boxes"]["labels"]
    assert labels.shape == (2, 40) and labels.dtype == np.int32 and labels.max() < 20
    assert (labels >= 0).any()
    # Mocked objects: each row is some objects, then padding only.
    for row, flags in zip(labels, batch["difficult"]):
        k = (row >= 0).sum()
        assert (row[:k] >= 0).all() and (row[k:] == -1).all() and not flags[k:].any()


def test_missing_voc_says_how_to_prepare(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_detection("voc/2007+2012", batch_size=2, training=True, data_dir=str(tmp_path))
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in message and "tfds build voc/2007 voc/2012 --data_dir=DIR" in message
    assert f"{tmp_path}/voc/2007/" in message and "download=True" in message
    assert not any(tmp_path.iterdir())  # Nothing was downloaded.


def test_argument_errors():
    with pytest.raises(ValueError, match="Expected name to be one of.*Received: name='voc'"):
        data.load_detection("voc", batch_size=2, training=True)
    with pytest.raises(ValueError, match="Received: max_boxes=0"):
        data.load_detection("voc/2007", batch_size=2, training=True, max_boxes=0)
    with pytest.raises(ValueError, match="Received: split='train\\[:10%\\]'"):
        data.load_detection("voc/2007+2012", "train[:10%]", batch_size=2, training=True)
    assert detection_loaders.detection_spec("voc/2007+2012").num_classes == 20


@pytest.mark.parametrize("name, training, expected", [
    ("voc/2007+2012", True, [("voc/2007", "train+validation"), ("voc/2012", "train+validation")]),
    ("voc/2007+2012", False, [("voc/2007", "test")]),
    ("voc/2007", False, [("voc/2007", "test")]),
    ("voc/2012", True, [("voc/2012", "train+validation")]),
    ("voc/2012", False, [("voc/2012", "validation")]),  # VOC2012 test has no public annotations.
])
def test_voc_reads_the_paper_splits(name, training, expected, monkeypatch):
    """07+12 trainval is both years' trainval (tfds train + validation); testing is on VOC2007 test."""
    calls = []

    def fake_read(tfds_name, split, **kwargs):
        calls.append((tfds_name, split))
        example = {"image": tf.zeros([5, 7, 3], tf.uint8), "objects": {
            "bbox": tf.zeros([1, 4]), "label": tf.zeros([1], tf.int64), "is_difficult": tf.zeros([1], bool)}}
        return tf.data.Dataset.from_tensors(example)

    monkeypatch.setattr(detection_loaders, "_read", fake_read)
    data.load_detection(name, batch_size=1, training=training)
    assert calls == expected
