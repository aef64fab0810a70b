"""load_captions: shapes and contents on a tiny synthetic_captions, COCO under mock data, errors."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import data
from keras_cutmix.data import caption_loaders
from keras_cutmix.data import synthetic_captions


@pytest.fixture(scope="module")
def tiny_default(tmp_path_factory):
    """The default config made tiny (10 train / 5 test): load_captions' first-use build takes a second."""
    tiny = synthetic_captions.SyntheticCaptionsConfig(name="default", num_train=10, num_test=5, seed=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthetic_captions.SyntheticCaptions, "BUILDER_CONFIGS", [tiny])
        data_dir = str(tmp_path_factory.mktemp("tfds"))
        yield data_dir


def _batches(ds):
    return [tf.nest.map_structure(lambda t: t.numpy(), batch) for batch in ds]


def test_builds_on_first_use_and_batches_the_references(tiny_default):
    batches = _batches(data.load_captions(batch_size=2, training=False, data_dir=tiny_default))
    assert [len(b["images"]) for b in batches] == [2, 2, 1]  # Evaluation keeps the remainder.
    batch = batches[0]
    assert batch["images"].dtype == np.uint8 and batch["images"].shape == (2, 64, 64, 3)
    assert batch["image_ids"].dtype == np.int64 and batch["image_ids"].shape == (2,)
    assert batch["captions"].dtype == object and batch["captions"].shape == (2, 5)
    builder = tfds.builder("synthetic_captions", data_dir=tiny_default)
    examples = {int(e["image/id"]): e for e in tfds.as_numpy(builder.as_dataset(split="test"))}
    for b in batches:
        for image, image_id, captions in zip(b["images"], b["image_ids"], b["captions"]):
            np.testing.assert_array_equal(image, examples[int(image_id)]["image"])
            assert list(captions) == list(examples[int(image_id)]["captions"]["text"])


def test_training_order_seeded_and_resized(tiny_default):
    def ids(seed):
        ds = data.load_captions("synthetic_captions", batch_size=4, training=True, data_dir=tiny_default,
                                seed=seed, image_size=48)
        return [b["image_ids"].tolist() for b in _batches(ds)], _batches(ds)[0]["images"].shape
    (first, shape), (again, _) = ids(1), ids(1)
    assert first == again and len(first) == 2  # 10 images, batches of 4: training drops the remainder.
    assert shape == (4, 48, 48, 3)
    assert set(sum(first, [])) <= set(range(1, 11))


@pytest.mark.parametrize("texts, expected", [
    (["a", "b", "c", "d", "e", "f", "g"], ["a", "b", "c", "d", "e"]),  # COCO has up to 7: the first 5.
    (["a", "b"], ["a", "b", "a", "b", "a"]),  # Fewer: repeated in order.
    ([], ["", "", "", "", ""]),
])
def test_exactly_five_references(texts, expected):
    example = {"image": tf.zeros([5, 7, 3], tf.uint8), "image/id": tf.constant(9, tf.int64),
               "captions": {"text": tf.constant(texts, tf.string, shape=[len(texts)]),
                            "id": tf.range(len(texts), dtype=tf.int64)}}
    fn = caption_loaders._example_fn(6)
    for out in (fn(example), next(iter(tf.data.Dataset.from_tensors(example).map(fn)))):
        assert [t.decode() for t in out["captions"].numpy()] == expected
        assert out["images"].shape == (6, 6, 3) and out["images"].dtype == tf.uint8
        assert int(out["image_ids"]) == 9


@pytest.mark.parametrize("training, split, size", [(True, None, 224), (False, None, 32), (False, "val", 32)])
def test_coco_under_mock_data(training, split, size, tmp_path):
    with tfds.testing.mock_data(num_examples=4):
        ds = data.load_captions("coco_captions", split, batch_size=2, training=training, data_dir=str(tmp_path),
                                image_size=None if size == 224 else size)
        batches = _batches(ds)
    assert len(batches) == 2  # Mock data gives 4 examples whatever the split string.
    batch = batches[0]
    assert batch["images"].shape == (2, size, size, 3) and batch["images"].dtype == np.uint8
    assert batch["captions"].shape == (2, 5) and batch["image_ids"].dtype == np.int64


@pytest.mark.parametrize("name, training, split, expected", [
    ("coco_captions", True, None, "train+restval"),  # Karpathy's 113k training images.
    ("coco_captions", False, None, "test"),
    ("coco_captions", False, "val", "val"),
    ("synthetic_captions", True, None, "train"),
    ("synthetic_captions", False, None, "test"),
])
def test_default_splits(name, training, split, expected, monkeypatch):
    calls = []

    class FakeBuilder:
        def as_dataset(self, split, **kwargs):
            calls.append(split)
            return tf.data.Dataset.from_tensors({
                "image": tf.zeros([5, 7, 3], tf.uint8), "image/id": tf.constant(1, tf.int64),
                "captions": {"text": tf.constant(["a b"]), "id": tf.constant([1], tf.int64)}})

    monkeypatch.setattr(caption_loaders.loaders, "prepared_builder", lambda *args, **kwargs: FakeBuilder())
    data.load_captions(name, split, batch_size=1, training=training)
    assert calls == [expected]


def test_missing_coco_says_how_to_prepare(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_captions("coco_captions", batch_size=2, training=True, data_dir=str(tmp_path))
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in message and "tfds build coco_captions --data_dir=DIR" in message
    assert "download=True" in message and f"{tmp_path}/coco_captions/" in message
    assert not any(tmp_path.iterdir())  # Nothing was downloaded.


def test_argument_errors():
    with pytest.raises(ValueError, match="Expected name to be one of.*Received: name='coco'"):
        data.load_captions("coco", batch_size=2, training=True)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        data.load_captions(batch_size=0, training=True)
    for bad in (4.7, np.float32(4)):  # 4.7 used to batch 4.
        with pytest.raises(ValueError, match=r"^Expected batch_size >= 1 \(a whole number\)\. Received: batch_size="):
            data.load_captions(batch_size=bad, training=True)
