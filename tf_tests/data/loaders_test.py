"""`load` and `dataset_spec`: real loaders under tfds mock data, errors, synthetic_shapes."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import data
from keras_cutmix.data import synthetic_generator


@pytest.fixture(scope="module")
def shapes_dir(tmp_path_factory):
    """The default synthetic_shapes (4000 / 1000), built once in a tmp data_dir (a few seconds)."""
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    data.load("synthetic_shapes", batch_size=8, training=False, data_dir=data_dir)
    return data_dir


def _take(ds, n):
    return [tf.nest.map_structure(lambda t: t.numpy(), x) for x in ds.take(n)]


@pytest.mark.parametrize("name, size", [("cifar10", 32), ("cifar100", 32), ("imagenet2012", 224)])
@pytest.mark.parametrize("training", [True, False])
def test_real_loaders_under_mock_data(name, size, training, tmp_path):
    with tfds.testing.mock_data(num_examples=5):
        ds = data.load(name, batch_size=2, training=training, data_dir=str(tmp_path))
        batches = _take(ds, 5)
    assert len(batches) == (2 if training else 3)  # drop_remainder defaults to training.
    images, labels = batches[0]
    assert images.dtype == np.uint8 and images.shape == (2, size, size, 3)
    assert labels.dtype == np.int32 and labels.shape == (2,)
    assert ds.element_spec[0].shape[1:] == (size, size, 3)


def test_augmentation_is_chosen_by_name_under_mock_data(tmp_path):
    """The same seed and images through two recipes: only the recipe differs."""
    batches = {}
    with tfds.testing.mock_data(num_examples=4):
        for augmentation in (None, "official_imagenet", "resize_crop", "pad_crop"):
            ds = data.load("imagenet2012", batch_size=4, training=True, data_dir=str(tmp_path),
                           image_size=32, augmentation=augmentation)
            (batches[augmentation],) = _take(ds, 1)
            images = batches[augmentation][0]
            assert images.dtype == np.uint8 and images.shape == (4, 32, 32, 3)
        with pytest.raises(ValueError, match="augmentation"):
            data.load("imagenet2012", batch_size=4, training=True, data_dir=str(tmp_path),
                      augmentation="autoaugment")
    np.testing.assert_array_equal(batches[None][0], batches["official_imagenet"][0])
    assert not np.array_equal(batches["official_imagenet"][0], batches["resize_crop"][0])
    assert not np.array_equal(batches["resize_crop"][0], batches["pad_crop"][0])
    assert data.AUGMENTATIONS == ("pad_crop", "official_imagenet", "resize_crop")


@pytest.mark.parametrize("training", [True, False])
def test_caltech_birds_with_boxes_under_mock_data(training, tmp_path):
    with tfds.testing.mock_data(num_examples=3):
        ds = data.load("caltech_birds2011", batch_size=3, training=training, with_boxes=True,
                       data_dir=str(tmp_path), image_size=64)
        (batch,) = _take(ds, 1)
    assert batch["images"].dtype == np.uint8 and batch["images"].shape == (3, 64, 64, 3)
    assert batch["labels"].dtype == np.int32 and batch["labels"].shape == (3,)
    assert batch["bbox"].dtype == np.float32 and batch["bbox"].shape == (3, 4)
    assert batch["bbox"].min() >= 0.0 and batch["bbox"].max() <= 1.0


def test_missing_dataset_error_says_where_and_how(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load("cifar10", batch_size=4, training=True, data_dir=str(tmp_path))
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in message and "data_dir" in message
    assert "tfds build cifar10" in message and "--data_dir" in message
    assert not any(tmp_path.iterdir())  # Nothing was downloaded.


def test_missing_imagenet_explains_manual_dir(tmp_path):
    with pytest.raises(data.DatasetNotFoundError, match="manual_dir") as info:
        data.load("imagenet2012", batch_size=4, training=False, data_dir=str(tmp_path))
    assert "ILSVRC2012_img_train.tar" in str(info.value) and str(tmp_path) in str(info.value)


def test_argument_errors():
    with pytest.raises(ValueError, match="name"):
        data.dataset_spec("mnist")
    with pytest.raises(ValueError, match="with_boxes"):
        data.load("cifar10", batch_size=4, training=False, with_boxes=True)
    for bad in (0, 4.0, 4.7, np.float32(4)):  # A float would be truncated by the batching.
        with pytest.raises(ValueError, match="batch_size"):
            data.load("synthetic_shapes", batch_size=bad, training=False)


def test_dataset_spec():
    spec = data.dataset_spec("caltech_birds2011")
    assert (spec.num_classes, spec.image_shape, spec.test_split) == (200, (224, 224, 3), "test")
    assert data.dataset_spec("imagenet2012").test_split == "validation"
    assert data.dataset_spec("cifar10", image_size=40).image_shape == (40, 40, 3)
    for name in ("synthetic_shapes", "cifar10", "cifar100", "imagenet2012", "caltech_birds2011"):
        spec = data.dataset_spec(name)
        assert len(spec.mean) == 3 and len(spec.std) == 3 and spec.num_train_examples > 0


def test_tfds_load_finds_the_registered_builder(shapes_dir):
    ds = tfds.load("synthetic_shapes", split="test", data_dir=shapes_dir)
    assert ds.cardinality().numpy() == 1000
    builder = tfds.builder("synthetic_shapes", data_dir=shapes_dir)
    assert builder.info.splits["train"].num_examples == 4000
    assert builder.info.features["label"].names[:2] == ["circle", "square"]


def test_synthetic_spec_mean_std_match_data(shapes_dir):
    ds = tfds.load("synthetic_shapes", split="train[:500]", data_dir=shapes_dir, batch_size=-1)
    pixels = tfds.as_numpy(ds)["image"].reshape(-1, 3).astype(np.float64)
    spec = data.dataset_spec("synthetic_shapes")
    np.testing.assert_allclose(pixels.mean(0), spec.mean, atol=3.0)
    np.testing.assert_allclose(pixels.std(0), spec.std, atol=3.0)


def test_synthetic_training_is_seeded_per_epoch(shapes_dir):
    def two_epochs(seed):
        ds = data.load("synthetic_shapes", "train[:256]", batch_size=16, training=True,
                       data_dir=shapes_dir, seed=seed)
        return [_take(ds, 2) for _ in range(2)]

    first, again, other = two_epochs(0), two_epochs(0), two_epochs(1)
    for epoch_a, epoch_b in zip(first, again):
        for (xa, ya), (xb, yb) in zip(epoch_a, epoch_b):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(first[0][0][1], first[1][0][1])  # Reshuffled each epoch.
    assert not np.array_equal(first[0][0][1], other[0][0][1])
    images, labels = first[0][0]
    assert images.shape == (16, 64, 64, 3) and images.dtype == np.uint8 and labels.dtype == np.int32


def test_synthetic_drop_remainder_and_eval_boxes(shapes_dir):
    ds = data.load("synthetic_shapes", batch_size=300, training=False, data_dir=shapes_dir,
                   with_boxes=True)
    sizes = [len(b["labels"]) for b in ds]
    assert sizes == [300, 300, 300, 100]
    kept = data.load("synthetic_shapes", batch_size=300, training=True, data_dir=shapes_dir,
                     drop_remainder=True)
    assert ds.cardinality().numpy() == 4 and kept.cardinality().numpy() == 13
    # Test split, no augmentation: each example is the generator's, and its box is
    # the tight box of the target's mask (the whole mask inside, touching all four edges).
    reference = synthetic_generator.generate_split((0, 1), 1000)  # Default config, test split.
    by_image = {image.tobytes(): i for i, image in enumerate(reference["image"])}
    batch = next(iter(ds))
    for image, box in zip(batch["images"].numpy()[:100], batch["bbox"].numpy()[:100]):
        mask = reference["mask"][by_image[image.tobytes()]]
        y0, x0, y1, x1 = np.round(box * 64).astype(int)
        np.testing.assert_allclose(box * 64, [y0, x0, y1, x1], atol=1e-4)
        assert mask[y0:y1, x0:x1].sum() == mask.sum() > 0
        assert mask[y0].any() and mask[y1 - 1].any() and mask[:, x0].any() and mask[:, x1 - 1].any()


def test_training_config_passes_augmentation_to_load(tmp_path):
    """`Config.augmentation` is validated and reaches `data.load` in training and evaluation."""
    from keras_cutmix.training import config as config_lib  # pylint: disable=g-import-not-at-top
    from keras_cutmix.training import input_pipeline  # pylint: disable=g-import-not-at-top

    with pytest.raises(ValueError, match="augmentation"):
        config_lib.Config(augmentation="autoaugment")
    spec = data.dataset_spec("imagenet2012", image_size=32)
    images = {}
    with tfds.testing.mock_data(num_examples=4):
        for augmentation in (None, "resize_crop", "pad_crop"):
            config = config_lib.Config(dataset="imagenet2012", method="baseline", batch_size=4,
                                       image_size=32, data_dir=str(tmp_path),
                                       augmentation=augmentation)
            train, _ = input_pipeline.train_dataset(config, spec)
            test = input_pipeline.eval_dataset(config, spec)
            images[augmentation] = [next(iter(ds))[0].numpy() for ds in (train, test)]
    direct = {}
    with tfds.testing.mock_data(num_examples=4):
        for augmentation in (None, "resize_crop", "pad_crop"):
            direct[augmentation] = [
                _take(data.load("imagenet2012", batch_size=4, training=training, image_size=32,
                                data_dir=str(tmp_path), augmentation=augmentation), 1)[0][0]
                for training in (True, False)]
    for augmentation in images:
        for got, expected in zip(images[augmentation], direct[augmentation]):
            np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(images[None][0], images["resize_crop"][0])
    assert not np.array_equal(images["resize_crop"][1], images["pad_crop"][1])
