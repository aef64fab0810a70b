"""Out-of-distribution image sets, in the model's pixel scale and input size.

    noise = uniform_noise(1000, image_shape=(64, 64, 3), seed=0)     # NumPy float32
    near = embedded_near_ood(1000, seed=0)                            # NumPy float32
    svhn = tfds_ood("svhn_cropped", image_size=(64, 64))              # tf.data, batched
    lsun = folder_ood("data/LSUN_resize", image_size=(64, 64))        # tf.data, batched

Every set holds float32 images `[.., H, W, 3]` in **[0, 255]**, our models' scale: NumPy arrays, or for the sets read
from disk a batched `tf.data.Dataset` in a fixed order. Both go straight into `keras_cutmix.ood.max_softmax_score`.

* `uniform_noise`, `gaussian_noise`: as ODIN's `calData.py` draws them (`torch.rand` and
  `clamp(torch.randn + 0.5, 0, 1)`, i.e. U(0, 1) and clip(N(0.5, 1), 0, 1) per pixel and channel, independent), times
  255. ODIN scores 10,000 such images (the default here) at CIFAR's 32 x 32; here they are drawn at the model's input
  shape, all at once (10,000 float32 images take 0.5 GB at 64 x 64, 6 GB at 224 x 224: draw fewer for large inputs).
* `tfds_ood`: any tensorflow-datasets set by name (`svhn_cropped`, `cifar100`, `lsun/classroom`); grayscale to RGB.
* `folder_ood`: a folder of image files, e.g. one of ODIN's sets (Tiny-ImageNet crop and resize, LSUN crop and resize,
  iSUN: 32 x 32 images) unpacked from the tar files linked in the README of https://github.com/facebookresearch/odin
  (`Imagenet.tar.gz` unpacks to `Imagenet/test/*.jpg`); files are found recursively.
* `embedded_near_ood`: synthetic_shapes images whose target is a shape none of the 10 classes
  (`keras_cutmix.data.synthetic_generator.generate_novel_batch`): near-OOD for synthetic_shapes models, offline.

Resizing is bilinear with antialiasing (`keras_cutmix.data.transforms.resize`, as the input pipelines), to the model's
input size without keeping the aspect ratio (ODIN's sets are square already).

References:
    - [Liang et al., 2018, ODIN](https://arxiv.org/abs/1706.02690), code
      facebookresearch/odin (`calData.py`, README for the data sets).
    - [Hendrycks & Gimpel, 2017](https://arxiv.org/abs/1610.02136)
"""

import os

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import checks
from keras_cutmix.data import loaders, synthetic_generator
from keras_cutmix.data.transforms import resize
from keras_cutmix.mixing import inputs

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
ODIN_URL = "https://github.com/facebookresearch/odin#downloading-out-of-distribtion-datasets"
_CHUNK = 256  # Images per generator call, as generate_split.


def _check_seed(seed, caller):
    """A seed of `numpy.random.default_rng`: None, an int >= 0 or a non-empty sequence of them."""
    values = seed if isinstance(seed, (list, tuple, np.ndarray)) and np.ndim(seed) == 1 and len(seed) else [seed]
    if seed is not None:
        for value in values:
            checks.count("seed", value, caller, minimum=0)
    return seed


def _check_shape(name, shape, length, caller):
    """`shape` as a tuple of `length` Python ints >= 1 (NumPy integers accepted)."""
    what = "(height, width, channels)" if length == 3 else "(height, width)"
    if isinstance(shape, (str, bytes)) or not np.iterable(shape) or len(shape) != length:
        raise ValueError(f"{caller}: Expected `{name}` as {what} of ints >= 1. Received: {name}={shape!r}")
    return tuple(checks.count(f"{name}[{i}]", side, caller) for i, side in enumerate(shape))


def _noise(draw, num_images, image_shape, seed, scale, caller):
    num_images = checks.count("num_images", num_images, caller)
    shape = _check_shape("image_shape", image_shape, 3, caller)
    scale = inputs.check_positive("scale", scale, caller)
    rng = np.random.default_rng(_check_seed(seed, caller))
    return draw(rng, (num_images,) + shape).astype(np.float32) * np.float32(scale)


def uniform_noise(num_images=10000, *, image_shape, seed=0, scale=255.0):
    """Images of independent U(0, 1) pixels, times `scale` (ODIN's "Uniform").

    Args:
        num_images: Number of images. Defaults to 10000, as ODIN.
        image_shape: `(height, width, channels)`, the model's input shape.
        seed: Seed of `numpy.random.default_rng`. Defaults to 0.
        scale: Pixel value of 1. Defaults to 255.0 (our models' scale).

    Returns:
        float32 NumPy array `[num_images, H, W, C]` in `[0, scale)`.

    Raises:
        ValueError: For a `num_images` or a side of `image_shape` that is not an int >= 1, a `scale` that is
            not a number > 0, or a `seed` that is not None or ints >= 0.
    """
    return _noise(lambda rng, shape: rng.random(shape, dtype=np.float32), num_images, image_shape, seed, scale,
                  "uniform_noise")


def gaussian_noise(num_images=10000, *, image_shape, seed=0, scale=255.0):
    """Images of independent clip(N(0.5, 1), 0, 1) pixels, times `scale` (ODIN's "Gaussian").

    About 31% of the pixels are clipped to 0 and 31% to `scale`. Args and Raises: as `uniform_noise`.

    Returns:
        float32 NumPy array `[num_images, H, W, C]` in `[0, scale]`.
    """
    draw = lambda rng, shape: np.clip(rng.standard_normal(shape, dtype=np.float32) + 0.5, 0.0, 1.0)
    return _noise(draw, num_images, image_shape, seed, scale, "gaussian_noise")


def embedded_near_ood(num_images=1000, *, seed=0, image_size=synthetic_generator.IMAGE_SIZE):
    """Synthetic_shapes-like images whose target is a novel shape (near-OOD).

    Args:
        num_images: Number of images. Defaults to 1000.
        seed: An int or a sequence of ints for `numpy.random.default_rng`. Defaults to 0.
        image_size: Height and width, as the classifier's data. Defaults to 64.

    Returns:
        float32 NumPy array `[num_images, S, S, 3]` in [0, 255].

    Raises:
        ValueError: For a `num_images` or `image_size` that is not an int >= 1 (or one the generator cannot
            draw at), or a `seed` that is not None or ints >= 0.
    """
    caller = "embedded_near_ood"
    num_images = checks.count("num_images", num_images, caller)
    image_size = checks.count("image_size", image_size, caller)
    rng = np.random.default_rng(_check_seed(seed, caller))
    chunks = [synthetic_generator.generate_novel_batch(
                  rng, min(_CHUNK, num_images - start), image_size=image_size)["image"]
              for start in range(0, num_images, _CHUNK)]
    return np.concatenate(chunks).astype(np.float32)


def _check_batching(image_size, batch_size, caller):
    return _check_shape("image_size", image_size, 2, caller), checks.count("batch_size", batch_size, caller)


def _batched(dataset, size, batch_size):
    """Images uint8 / float [h, w, 1 or 3] -> batches of float32 [b, H, W, 3] in [0, 255]."""
    def to_model_input(image):
        image = tf.cast(image, tf.float32)
        return resize(tf.image.grayscale_to_rgb(image) if image.shape[-1] == 1 else image, size)

    dataset = dataset.map(to_model_input, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _tfds_split(name, split, data_dir):
    """tfds' unbatched split of `name`; `DatasetNotFoundError` (with tfds' advice) when it is not prepared."""
    for arg, value in (("name", name), ("split", split)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"Expected `{arg}` to be a non-empty string. Received: {arg}={value!r}")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(f"Expected the name of a tensorflow-datasets data set, e.g. 'svhn_cropped'. "
                         f"Received: name={name!r}") from None
    remedies = [f"  * build it on a machine with internet: `tfds build {name} --data_dir=DIR`, then copy "
                f"DIR/{name.split('/')[0]} here; or call tfds_ood(..., download=True)."]
    return loaders.read_split(builder, split, training=False, seed=None, data_dir=data_dir, loader="tfds_ood",
                              remedies=remedies)


def check_tfds_ood(name, split="test", data_dir=None):
    """Raises unless tfds can read `split` of `name` (reads no example): the check before a long run.

    Raises:
        ValueError: If tfds knows no data set `name`, or `split` is not one of its splits.
        keras_cutmix.data.DatasetNotFoundError: If tfds has not prepared the set in `data_dir`.
    """
    _tfds_split(name, split, data_dir)


def tfds_ood(name, split="test", *, image_size, data_dir=None, batch_size=256, download=False):
    """Any tensorflow-datasets image set by name, resized to the model's input.

    Args:
        name: tfds name of a set with an `"image"` feature, e.g. `"svhn_cropped"` (a config as `"lsun/classroom"`).
        split: tfds split, slicing allowed (`"test[:1000]"`). Defaults to "test".
        image_size: `(height, width)` of the model's input.
        data_dir: tfds data dir. Defaults to None (the tfds default).
        batch_size: Images per batch. Defaults to 256.
        download: Let tfds download and prepare a missing set. Defaults to False.

    Returns:
        A batched `tf.data.Dataset` of float32 `[b, H, W, 3]` in [0, 255], in the stored order.

    Raises:
        ValueError: As `check_tfds_ood`, or for an `image_size` that is not two ints >= 1 or a bad `batch_size`.
        keras_cutmix.data.DatasetNotFoundError: If tfds has not prepared the set and `download` is False.
    """
    image_size, batch_size = _check_batching(image_size, batch_size, "tfds_ood")
    if download:
        tfds.builder(name, data_dir=data_dir).download_and_prepare()
    dataset = _tfds_split(name, split, data_dir)
    return _batched(dataset.map(lambda example: example["image"]), image_size, batch_size)


def find_images(path):
    """Image files under `path`, recursively, sorted.

    Args:
        path: A folder.

    Returns:
        A sorted list of the paths whose extension is one of `IMAGE_EXTENSIONS` (case-insensitive).

    Raises:
        FileNotFoundError: If `path` is not a folder or holds no image.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"find_images: Expected `path` to be a folder path. Received: path of type "
                         f"{type(path).__name__}")
    where = f"Download ODIN's sets (Tiny-ImageNet, LSUN, iSUN) from the links in {ODIN_URL} and unpack them."
    if not os.path.isdir(path):
        raise FileNotFoundError(f"Expected a folder of images. Received: path={path!r}, which is not "
                                f"a folder. {where}")
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names
                   if name.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise FileNotFoundError(f"Expected image files ({', '.join(IMAGE_EXTENSIONS)}) under "
                                f"path={path!r}. Received: none. {where}")
    return files


def folder_ood(path, *, image_size, batch_size=256):
    """Every image file under a folder (e.g. an ODIN set), resized to the model's input.

    Args:
        path: A folder, searched recursively (e.g. `data/Imagenet`, which holds `test/*.jpg`).
        image_size: `(height, width)` of the model's input.
        batch_size: Images per batch. Defaults to 256.

    Returns:
        A batched `tf.data.Dataset` of float32 `[b, H, W, 3]` in [0, 255], in the sorted order of the file paths.

    Raises:
        FileNotFoundError: If `path` is not a folder or holds no image.
        ValueError: For an `image_size` that is not two ints >= 1 or a `batch_size` that is not an int >= 1.
    """
    image_size, batch_size = _check_batching(image_size, batch_size, "folder_ood")
    files = find_images(path)
    decode = lambda file: tf.io.decode_image(tf.io.read_file(file), channels=3, expand_animations=False)
    return _batched(tf.data.Dataset.from_tensor_slices(files).map(decode), image_size, batch_size)
