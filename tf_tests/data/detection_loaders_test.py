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
    for name, bad in (("batch_size", 4.7), ("batch_size", np.float32(4)), ("max_boxes", 2.5)):  # Used to truncate.
        with pytest.raises(ValueError, match=rf"^Expected {name} >= 1 \(a whole number\)\. Received: {name}="):
            data.load_detection("voc/2007", training=True, **{"batch_size": 2, name: bad})
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


def _fake_read_of(examples):
    def read(tfds_name, split, **kwargs):
        return tf.data.Dataset.from_generator(lambda: iter(examples), output_signature={
            "image": tf.TensorSpec([None, None, 3], tf.uint8),
            "objects": {"bbox": tf.TensorSpec([None, 4], tf.float32), "label": tf.TensorSpec([None], tf.int64),
                        "is_difficult": tf.TensorSpec([None], tf.bool)}})
    return read


def _objects(count, difficult_every=0):
    boxes = np.array([[i / 50, 0.1, i / 50 + 0.01, 0.2] for i in range(count)], np.float32).reshape(count, 4)
    difficult = np.array([difficult_every > 0 and i % difficult_every == 0 for i in range(count)])
    return {"image": np.full((6, 9, 3), 7, np.uint8),
            "objects": {"bbox": boxes, "label": np.arange(count, dtype=np.int64) % 20, "is_difficult": difficult}}


def test_every_object_kept_unless_asked_each_batch_padded_to_its_most(monkeypatch):
    """VOC07 test has images with 42 objects: none may be cut (a cut ground truth makes a false positive)."""
    examples = [_objects(41, difficult_every=5), _objects(3), _objects(0), _objects(2)]
    monkeypatch.setattr(detection_loaders, "_read", _fake_read_of(examples))
    batches = _batches(data.load_detection("voc/2007", batch_size=2, training=False, image_size=16))
    assert [b["bounding_boxes"]["labels"].shape for b in batches] == [(2, 41), (2, 2)]
    first = batches[0]
    np.testing.assert_array_equal(first["bounding_boxes"]["boxes"][0], examples[0]["objects"]["bbox"])
    np.testing.assert_array_equal(first["difficult"][0], examples[0]["objects"]["is_difficult"])
    assert (first["bounding_boxes"]["labels"][1, 3:] == -1).all() and not first["bounding_boxes"]["boxes"][1, 3:].any()
    assert (batches[1]["bounding_boxes"]["labels"][0] == -1).all()
    # Training targets: difficult objects dropped first, then the cap.
    capped = _batches(data.load_detection("voc/2007", "test", batch_size=4, training=True, image_size=16,
                                          max_boxes=32, drop_difficult=True, seed=3))[0]
    counts = sorted((capped["bounding_boxes"]["labels"] >= 0).sum(1).tolist())
    assert counts == [0, 2, 3, 32] and not capped["difficult"].any()  # 41 - 9 difficult = 32.
    kept = capped["bounding_boxes"]["boxes"][(capped["bounding_boxes"]["labels"] >= 0).sum(1) == 32][0]
    np.testing.assert_array_equal(kept, examples[0]["objects"]["bbox"][~examples[0]["objects"]["is_difficult"]])


def test_augment_gets_the_original_image_and_the_stream_position(monkeypatch):
    examples = [_objects(2), _objects(1)]
    examples[1]["image"] = np.full((13, 5, 3), 200, np.uint8)
    monkeypatch.setattr(detection_loaders, "_read", _fake_read_of(examples))

    def augment(image, boxes, labels, seed):
        """Records the input's height, width and the seed in the output pixels."""
        shape = tf.cast(tf.shape(image), tf.float32)
        record = tf.stack([shape[0], shape[1], tf.cast(seed[1], tf.float32), tf.cast(image[0, 0, 0], tf.float32)])
        return tf.broadcast_to(tf.reshape(record, [1, 4, 1]), [4, 4, 3]), boxes, labels

    ds = data.load_detection("voc/2007", "test", batch_size=2, training=True, image_size=4, augment=augment, seed=5,
                             max_boxes=3)
    for _ in range(2):  # Each pass numbers the stream from 0 again.
        batch = _batches(ds)[0]
        records = sorted(tuple(r) for r in batch["images"][:, 0, :, 0])
        seeds = [tuple(tf.random.experimental.stateless_fold_in(tf.constant([5, 0], tf.int64), i).numpy())
                 for i in range(2)]
        heights = {6: 7.0, 13: 200.0}
        assert [r[0] for r in records] == [6.0, 13.0] and [r[1] for r in records] == [9.0, 5.0]
        assert all(r[3] == heights[int(r[0])] for r in records)
        assert sorted(r[2] for r in records) == sorted(float(np.float32(s[1])) for s in seeds)
        assert batch["images"].dtype == np.float32 and batch["bounding_boxes"]["labels"].shape == (2, 3)
