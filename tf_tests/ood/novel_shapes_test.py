"""generate_novel_batch: deterministic, its targets are none of the 10 classes, and generate_batch
draws exactly what it drew before the novel shapes were added."""

import hashlib

import numpy as np
import pytest

from keras_cutmix.data import synthetic_generator as gen

# sha256 over image, label, bbox and mask bytes, computed at commit 4c5dcf7 (before
# generate_novel_batch existed) with NumPy 2.4.6.
BATCH_SHA256 = "9f3777bb4c757ccb739ce0b06a1c478e20ba4fac621e6a7fd9c86b8d5afcebfc"  # seed 2024, n=6
SPLIT_SHA256 = "4ff0d6efb2321e683e20a1207ec74f4eb3b4b122141c5afa701a321c95df0976"  # (5, 1), 300


def _sha256(batch):
    digest = hashlib.sha256()
    for key in ("image", "label", "bbox", "mask"):
        digest.update(np.ascontiguousarray(batch[key]).tobytes())
    return digest.hexdigest()


def test_generate_batch_is_unchanged():
    assert _sha256(gen.generate_batch(np.random.default_rng(2024), 6)) == BATCH_SHA256
    assert _sha256(gen.generate_split((5, 1), 300)) == SPLIT_SHA256


def test_novel_batch_is_deterministic_and_well_formed():
    batch = gen.generate_novel_batch(np.random.default_rng(3), 64)
    again = gen.generate_novel_batch(np.random.default_rng(3), 64)
    for key in batch:
        np.testing.assert_array_equal(batch[key], again[key])
    assert batch["image"].shape == (64, 64, 64, 3) and batch["image"].dtype == np.uint8
    assert set(batch["label"].tolist()) == set(range(len(gen.NOVEL_SHAPE_NAMES)))
    assert not np.array_equal(batch["image"], gen.generate_novel_batch(np.random.default_rng(4), 64)["image"])
    # The box is the tight box of the target's pixels (normalised as generate_batch's).
    for mask, box in zip(batch["mask"], batch["bbox"]):
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        np.testing.assert_allclose(box * 64, [rows[0], cols[0], rows[-1] + 1, cols[-1] + 1])


@pytest.mark.parametrize("novel_index", range(len(gen.NOVEL_SHAPE_NAMES)))
def test_novel_shapes_are_none_of_the_classes(novel_index):
    # Unit coordinates on a fine grid, no rotation or stretch: every shape fits the unit disc, and
    # overlaps every class shape at IoU < 0.9 (the hexagon is the closest, to the circle: 0.83).
    u, v = np.mgrid[-1.2:1.2:401j, -1.2:1.2:401j]
    novel = gen._shape_mask(gen.NUM_CLASSES + novel_index, u, v)
    assert novel.mean() > 0.1 and np.all(u[novel] ** 2 + v[novel] ** 2 <= 0.951**2)
    for class_id in range(gen.NUM_CLASSES):
        known = gen._shape_mask(class_id, u, v)
        assert (novel & known).sum() / (novel | known).sum() < 0.9, gen.CLASS_NAMES[class_id]


def test_image_size_is_checked():
    with pytest.raises(ValueError, match="image_size >= 50"):
        gen.generate_novel_batch(np.random.default_rng(0), 2, image_size=49)
    gen.generate_novel_batch(np.random.default_rng(0), 2, image_size=50)
