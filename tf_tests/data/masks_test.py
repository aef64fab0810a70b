"""`data.load(..., with_masks=True)`: object masks that follow the image through the recipe, pixel for pixel."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import data
from keras_cutmix.data import pipelines

S = 128


@pytest.fixture(scope="module")
def data_dir(tiny_birds_dir):
    return tiny_birds_dir


def _nearest_indices(size_in, size_out):
    """Nearest-neighbour source rows with half-pixel centres (OpenCV's INTER_NEAREST_EXACT, PIL's NEAREST)."""
    return np.minimum(np.floor((np.arange(size_out) + 0.5) * size_in / size_out).astype(int), size_in - 1)


def test_test_recipe_mask_is_the_resized_centre_crop(data_dir):
    """Resize to 146 (nearest), centre crop 128: the stored mask indexed by hand."""
    batch = next(iter(data.load("synthetic_birds", batch_size=8, training=False, data_dir=data_dir,
                                with_boxes=True, with_masks=True)))
    stored = next(iter(tfds.as_numpy(tfds.builder("synthetic_birds", data_dir=data_dir).as_dataset(
        split="test", batch_size=8, shuffle_files=False))))
    rows = _nearest_indices(S, 146)[9:9 + S]
    expected = stored["segmentation_mask"][:, rows][:, :, rows, 0] >= 128
    assert batch["masks"].dtype == tf.bool and batch["masks"].shape == (8, S, S)
    np.testing.assert_array_equal(batch["masks"].numpy(), expected)


@pytest.mark.parametrize("training", [True, False])
def test_masks_change_nothing_else_and_follow_the_box(data_dir, training):
    kwargs = dict(batch_size=16 if training else 8, training=training, data_dir=data_dir, with_boxes=True, seed=3)
    with_masks = next(iter(data.load("synthetic_birds", with_masks=True, **kwargs)))
    without = next(iter(data.load("synthetic_birds", **kwargs)))
    for key in ("images", "labels", "bbox"):
        np.testing.assert_array_equal(with_masks[key], without[key])
    checked = 0
    for mask, box in zip(with_masks["masks"].numpy(), with_masks["bbox"].numpy()):
        if not mask.any() or box[0] <= 0 or box[1] <= 0 or box[2] >= 1 or box[3] >= 1:
            continue  # Cut by the crop: the clipped box can only contain the mask's tight box.
        rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
        tight = np.array([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]) / S
        np.testing.assert_allclose(tight, box, atol=1.5 / S)  # A flipped mask would be off by far more.
        checked += 1
    assert checked >= 4


def test_with_masks_needs_boxes_and_a_data_set_with_masks(data_dir):
    with pytest.raises(ValueError, match="with_masks"):
        data.load("synthetic_birds", batch_size=2, training=False, data_dir=data_dir, with_masks=True)
    with pytest.raises(ValueError, match="synthetic_birds"):
        data.load("synthetic_shapes", batch_size=2, training=False, with_boxes=True, with_masks=True)


def test_transform_mask_pad_crop_and_flip():
    """pad_crop: the window overhangs the image (zeros), then the flip: by hand."""
    pipeline = pipelines.PIPELINES["synthetic_shapes"]
    mask = np.zeros((64, 64, 1), np.uint8)
    mask[10:20, 5:9] = 255
    params = {"offset": tf.constant([-2, 3]), "crop_size": tf.constant([64, 64]), "flip": tf.constant(True)}
    out = pipelines.transform_mask(pipeline, mask, params, training=True).numpy()[..., 0]
    expected = np.zeros((64, 64), np.uint8)
    expected[12:22, 2:6] = 255
    np.testing.assert_array_equal(out, expected[:, ::-1])
