"""synthetic_shapes: the pure generator and the tfds builder (tiny builds in tmp data dirs)."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_cutmix.data import SyntheticShapes
from keras_cutmix.data import SyntheticShapesConfig
from keras_cutmix.data import synthetic_generator as gen


@pytest.fixture(scope="module")
def split():
    return gen.generate_split((7, 0), 300)


def test_generate_split_is_deterministic(split):
    again = gen.generate_split((7, 0), 300)
    for key in split:
        np.testing.assert_array_equal(again[key], split[key])
    other = gen.generate_split((7, 1), 300)
    assert not np.array_equal(other["image"], split["image"])


def test_shapes_and_dtypes(split):
    assert split["image"].shape == (300, 64, 64, 3) and split["image"].dtype == np.uint8
    assert split["label"].shape == (300,) and split["label"].min() >= 0
    assert split["label"].max() < gen.NUM_CLASSES
    assert split["bbox"].shape == (300, 4) and split["bbox"].dtype == np.float32
    assert set(np.unique(split["label"])) == set(range(gen.NUM_CLASSES))
    example = gen.generate_example(np.random.default_rng(0))
    assert example["image"].shape == (64, 64, 3) and example["mask"].shape == (64, 64)


def test_box_is_tight_box_of_object_mask(split):
    """Box edges (tfds convention: rows r0..r1 -> [r0/H, (r1+1)/H]) recomputed from the mask."""
    for mask, box in zip(split["mask"], split["bbox"]):
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        expected = np.array([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]) / 64
        np.testing.assert_allclose(box, expected, atol=1e-6)
        # Nothing of the object outside the box (and the box lies in the image).
        y0, x0, y1, x1 = np.round(box * 64).astype(int)
        assert mask.sum() == mask[y0:y1, x0:x1].sum()
        assert 0 <= y0 < y1 <= 64 and 0 <= x0 < x1 <= 64


def test_box_is_the_object_not_the_image(split):
    area = (split["bbox"][:, 2] - split["bbox"][:, 0]) * (split["bbox"][:, 3] - split["bbox"][:, 1])
    assert 0.02 < area.min() and area.max() < 0.6 and 0.1 < area.mean() < 0.3


def test_object_pixels_differ_from_surroundings(split):
    """The target is visible: its pixels are more saturated than the background just outside it."""
    image = split["image"].astype(np.float32)
    saturation = image.max(-1) - image.min(-1)
    inside = np.array([s[m].mean() for s, m in zip(saturation, split["mask"])])
    outside = np.array([s[~m].mean() for s, m in zip(saturation, split["mask"])])
    assert (inside > outside).mean() > 0.9


def test_linear_model_does_not_solve_it():
    """Closed-form ridge regression on raw pixels (1000 train / 500 test) stays near chance.

    Measured: 12% test accuracy (chance 10%), with 100% training accuracy.
    """
    train, test = gen.generate_split((1, 0), 1000), gen.generate_split((1, 1), 500)
    features = lambda x: np.concatenate(
        [x.reshape(len(x), -1).astype(np.float32) / 255.0, np.ones((len(x), 1), np.float32)], 1)
    x, x_test = features(train["image"]), features(test["image"])
    targets = np.eye(gen.NUM_CLASSES, dtype=np.float32)[train["label"]]
    dual = np.linalg.solve(x @ x.T + 100.0 * np.eye(len(x), dtype=np.float32), targets)
    accuracy = np.mean(np.argmax(x_test @ (x.T @ dual), 1) == test["label"])
    assert accuracy < 0.25, accuracy


def _build(data_dir, seed=3):
    config = SyntheticShapesConfig(name="tiny", num_train=24, num_test=8, seed=seed)
    builder = SyntheticShapes(config=config, data_dir=str(data_dir))
    builder.download_and_prepare()
    return builder


def _examples(builder, split):
    return list(tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False)))


def test_builder_is_deterministic_and_matches_generator(tmp_path):
    first, second = _build(tmp_path / "a"), _build(tmp_path / "b")
    assert first.info.splits["train"].num_examples == 24
    assert first.info.splits["test"].num_examples == 8
    for split_name, index in (("train", 0), ("test", 1)):
        a, b = _examples(first, split_name), _examples(second, split_name)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            for key in ("image", "label", "bbox"):
                np.testing.assert_array_equal(x[key], y[key])
        # Same examples as the pure generator (tfds reorders them: match by image bytes).
        reference = gen.generate_split((3, index), len(a))
        by_image = {img.tobytes(): i for i, img in enumerate(reference["image"])}
        for x in a:
            i = by_image[x["image"].tobytes()]
            assert x["label"] == reference["label"][i]
            np.testing.assert_array_equal(x["bbox"], reference["bbox"][i])
    assert SyntheticShapes.name == "synthetic_shapes"
    assert set(first.info.features) == {"image", "label", "bbox"}
    assert isinstance(first.info.features["bbox"], tfds.features.BBoxFeature)


def test_builder_seed_changes_data(tmp_path):
    a = _examples(_build(tmp_path / "a", seed=3), "test")
    b = _examples(_build(tmp_path / "b", seed=4), "test")
    assert not np.array_equal(a[0]["image"], b[0]["image"])
