"""OOD sets: noise ranges, shapes and seeds; the folder loader; tfds by name; the near-OOD set."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from keras_cutmix.data import DatasetNotFoundError
from keras_cutmix.data import synthetic_generator as gen
from keras_cutmix.ood import embedded_near_ood, find_images, folder_ood, gaussian_noise, tfds_ood
from keras_cutmix.ood import uniform_noise


def test_uniform_noise():
    images = uniform_noise(40, image_shape=(9, 11, 3), seed=3)
    assert images.shape == (40, 9, 11, 3) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() < 255.0
    # U(0, 255): mean 127.5, standard deviation 255 / sqrt(12) = 73.6 (11,880 values).
    assert abs(images.mean() - 127.5) < 2.0 and abs(images.std() - 255 / np.sqrt(12)) < 1.5
    np.testing.assert_array_equal(images, uniform_noise(40, image_shape=(9, 11, 3), seed=3))
    assert not np.array_equal(images, uniform_noise(40, image_shape=(9, 11, 3), seed=4))
    unit = uniform_noise(2, image_shape=(4, 4, 3), seed=3, scale=1.0)
    np.testing.assert_allclose(unit * 255, uniform_noise(2, image_shape=(4, 4, 3), seed=3), rtol=1e-6)


def test_gaussian_noise():
    images = gaussian_noise(40, image_shape=(9, 11, 3), seed=3)
    assert images.shape == (40, 9, 11, 3) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 255.0
    # clip(N(0.5, 1), 0, 1): P(x <= 0) = P(x >= 1) = Phi(-0.5) = 0.3085.
    assert abs(np.mean(images == 0.0) - 0.3085) < 0.02 and abs(np.mean(images == 255.0) - 0.3085) < 0.02
    assert abs(images.mean() - 127.5) < 3.0
    np.testing.assert_array_equal(images, gaussian_noise(40, image_shape=(9, 11, 3), seed=3))
    assert not np.array_equal(images, gaussian_noise(40, image_shape=(9, 11, 3), seed=0))


@pytest.mark.parametrize("fn", [uniform_noise, gaussian_noise])
def test_noise_errors(fn):
    with pytest.raises(ValueError, match="num_images"):
        fn(0, image_shape=(4, 4, 3))
    with pytest.raises(ValueError, match="image_shape"):
        fn(2, image_shape=(4, 4))


def test_embedded_near_ood():
    images = embedded_near_ood(6, seed=5, image_size=52)
    assert images.shape == (6, 52, 52, 3) and images.dtype == np.float32
    expected = gen.generate_novel_batch(np.random.default_rng(5), 6, image_size=52)["image"]
    np.testing.assert_array_equal(images, expected.astype(np.float32))
    np.testing.assert_array_equal(images, embedded_near_ood(6, seed=5, image_size=52))
    assert not np.array_equal(images, embedded_near_ood(6, seed=6, image_size=52))


def _write(path, array, fmt):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)


def test_folder_ood_finds_resizes_and_orders(tmp_path):
    # ODIN's layout (Imagenet/test/*.jpg) and deeper folders; constant colours survive resizing exactly.
    root = tmp_path / "Imagenet"
    _write(root / "test" / "b.png", np.full((32, 32, 3), (10, 200, 30), np.uint8), "PNG")
    _write(root / "test" / "a.JPEG", np.full((16, 24, 3), 128, np.uint8), "JPEG")
    _write(root / "deep" / "er" / "c.png", np.full((32, 32), 77, np.uint8), "PNG")  # Grayscale.
    (root / "test" / "notes.txt").write_text("not an image")
    files = find_images(str(root))
    assert [f[len(str(root)) + 1:] for f in files] == ["deep/er/c.png", "test/a.JPEG", "test/b.png"]
    batches = list(folder_ood(str(root), image_size=(20, 12), batch_size=2))
    assert [b.shape for b in batches] == [(2, 20, 12, 3), (1, 20, 12, 3)]
    images = np.concatenate([b.numpy() for b in batches])
    assert images.dtype == np.float32
    np.testing.assert_allclose(images[0], 77.0, atol=1e-3)
    np.testing.assert_allclose(images[1], 128.0, atol=2.0)  # JPEG may move a level or two.
    np.testing.assert_allclose(images[2], np.broadcast_to([10.0, 200.0, 30.0], (20, 12, 3)), atol=1e-3)


def test_folder_ood_resizes_like_tf_image_resize(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    _write(tmp_path / "x.png", array, "PNG")
    image = next(iter(folder_ood(str(tmp_path), image_size=(64, 48)))).numpy()[0]
    expected = tf.image.resize(array.astype(np.float32), (64, 48), "bilinear", antialias=True)
    np.testing.assert_allclose(image, expected.numpy(), atol=1e-3)


def test_folder_errors_say_where_to_get_the_sets(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder.*facebookresearch/odin"):
        folder_ood(str(tmp_path / "missing"), image_size=(8, 8))
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "a.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="Received: none.*facebookresearch/odin"):
        folder_ood(str(tmp_path / "empty"), image_size=(8, 8))


def test_tfds_ood_resizes_any_set_to_rgb():
    with tfds.testing.mock_data(num_examples=5):
        batches = list(tfds_ood("mnist", image_size=(8, 10), batch_size=2))
        raw = [example["image"] for example in tfds.load("mnist", split="test")]
    assert [b.shape for b in batches] == [(2, 8, 10, 3), (2, 8, 10, 3), (1, 8, 10, 3)]
    images = np.concatenate([b.numpy() for b in batches])
    expected = [tf.image.resize(tf.cast(tf.repeat(r, 3, -1), tf.float32), (8, 10), "bilinear",
                                antialias=True) for r in raw]
    np.testing.assert_allclose(images, np.stack(expected), atol=1e-3)


def test_tfds_ood_missing_set(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="tfds build mnist"):
        tfds_ood("mnist", image_size=(8, 8), data_dir=str(tmp_path))
