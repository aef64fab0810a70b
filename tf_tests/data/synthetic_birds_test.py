"""synthetic_birds: the pure generator, the tfds builder and the loader (tiny builds in tmp dirs)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import data
from keras_cutmix.data import pipelines
from keras_cutmix.data import synthetic_birds_generator as gen
from keras_cutmix.data.synthetic_birds import SyntheticBirds
from keras_cutmix.data.synthetic_birds import SyntheticBirdsConfig

N = 200
S = 128


def tight_box(mask):
    """Reference tfds box of a 2-D mask: rows r0..r1 -> [r0 / H, (r1 + 1) / H]."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    h, w = mask.shape
    return np.array([rows[0] / h, cols[0] / w, (rows[-1] + 1) / h, (cols[-1] + 1) / w])


def touches_border(mask):
    return mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()


@pytest.fixture(scope="module")
def split():
    return gen.generate_split((5, 0), N)


def test_generate_split_is_deterministic(split):
    again = gen.generate_split((5, 0), N)
    for key in split:
        assert again[key].tobytes() == split[key].tobytes(), key
    assert not np.array_equal(gen.generate_split((5, 1), N)["image"], split["image"])
    chunks = list(gen.iterate_split((5, 0), N))
    assert len(chunks) == 1 and chunks[0]["image"].tobytes() == split["image"].tobytes()


def test_shapes_and_dtypes(split):
    assert split["image"].shape == (N, S, S, 3) and split["image"].dtype == np.uint8
    assert split["label"].shape == (N,) and split["label"].dtype == np.int64
    assert split["bbox"].shape == (N, 4) and split["bbox"].dtype == np.float32
    for key in ("mask", "part_mask", "amodal_mask", "occluder_mask"):
        assert split[key].shape == (N, S, S) and split[key].dtype == bool, key


def test_labels_are_balanced(split):
    np.testing.assert_array_equal(np.bincount(split["label"], minlength=10), [N // 10] * 10)
    counts = np.bincount(gen.generate_split(3, 23)["label"], minlength=10)
    assert counts.sum() == 23 and set(counts) == {2, 3}


def test_box_is_tight_box_of_visible_mask(split):
    for mask, box in zip(split["mask"], split["bbox"]):
        np.testing.assert_allclose(box, tight_box(mask), atol=1e-6)


def test_masks_agree(split):
    """Visible = amodal minus the branch; the head lies on the visible object."""
    np.testing.assert_array_equal(split["mask"], split["amodal_mask"] & ~split["occluder_mask"])
    assert not (split["part_mask"] & ~split["mask"]).any()


def test_box_area_range(split):
    bbox = split["bbox"]
    area = (bbox[:, 2] - bbox[:, 0]) * (bbox[:, 3] - bbox[:, 1])
    assert area.min() >= 0.05 and area.max() <= 0.60
    assert area.max() - area.min() > 0.3  # Scale really varies.


def test_truncation_and_occlusion_rates(split):
    """Rates recomputed from the masks; 200 examples: binomial sd ~0.03, tolerance 0.1."""
    truncated = np.array([touches_border(m) for m in split["amodal_mask"]])
    occluded = (split["amodal_mask"] & split["occluder_mask"]).reshape(N, -1).any(1)
    assert abs(truncated.mean() - 0.25) < 0.1  # The documented rates, not the constants.
    assert abs(occluded.mean() - 0.30) < 0.1
    assert (truncated & occluded).any() and (~truncated & ~occluded).mean() > 0.4


def test_part_is_at_most_a_fifth_of_the_object(split):
    """On whole, unoccluded birds the head's pixels are at most 20% of the object's."""
    truncated = np.array([touches_border(m) for m in split["amodal_mask"]])
    occluded = (split["amodal_mask"] & split["occluder_mask"]).reshape(N, -1).any(1)
    clean = ~truncated & ~occluded
    share = split["part_mask"].reshape(N, -1).sum(1) / split["mask"].reshape(N, -1).sum(1)
    assert clean.sum() > 80
    assert share[clean].max() <= 0.20 and share[clean].min() >= 0.10
    assert max(gen.part_fraction_bounds(300)) <= 0.20


def test_head_colour_names_the_class(split):
    """Mean colour of a visible head is nearest to its class's colour in the palette."""
    visible = split["part_mask"].reshape(N, -1).sum(1) >= 20
    heads = np.array([img[m].mean(0) for img, m in zip(split["image"][visible],
                                                       split["part_mask"][visible])])
    palette = np.array(gen.HEAD_COLOURS, np.float64)
    nearest = ((heads[:, None] - palette[None]) ** 2).sum(-1).argmin(1)
    assert visible.mean() > 0.9 and (nearest == split["label"][visible]).mean() > 0.9


def test_part_fraction_bounds_against_a_hand_computed_area():
    """Head disc area pi * 0.32^2 over a union area bounded by hand (ellipse plus tail wedge)."""
    low, high = gen.part_fraction_bounds(400)
    head = np.pi * gen.HEAD_RADIUS**2
    # The union is larger than the ellipse alone and smaller than ellipse + head + tail + beak.
    for b, share in ((gen.BODY_B[1], low), (gen.BODY_B[0], high)):
        ellipse, tail, beak = np.pi * b, 0.8 * (0.12 + 0.72) / 2, 0.27 * 0.09
        assert head / (ellipse + head + tail + beak) < share < head / ellipse


@pytest.fixture(scope="module")
def tiny_builder(tmp_path_factory):
    config = SyntheticBirdsConfig(name="tiny", num_train=12, num_test=6, seed=1)
    builder = SyntheticBirds(config=config, data_dir=str(tmp_path_factory.mktemp("tfds_birds")))
    builder.download_and_prepare()
    return builder


def test_builder_stores_the_generator_output(tiny_builder):
    features = tiny_builder.info.features
    assert features["segmentation_mask"].shape == (S, S, 1)
    assert features["segmentation_mask"].dtype == tf.uint8
    stored = next(iter(tfds.as_numpy(tiny_builder.as_dataset(split="test", batch_size=6))))
    expected = gen.generate_split((1, 1), 6)
    order = np.argsort(stored["label"] * 1000 + stored["bbox"][:, 0] * 128)
    order_expected = np.argsort(expected["label"] * 1000 + expected["bbox"][:, 0] * 128)
    np.testing.assert_array_equal(stored["image"][order], expected["image"][order_expected])
    np.testing.assert_allclose(stored["bbox"][order], expected["bbox"][order_expected], atol=1e-6)
    masks = stored["segmentation_mask"][order, :, :, 0]
    assert set(np.unique(masks)) == {0, 255}
    np.testing.assert_array_equal(masks > 0, expected["mask"][order_expected])
    for mask, box in zip(masks, stored["bbox"][order]):
        np.testing.assert_allclose(box, tight_box(mask > 0), atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_box_follows_the_pipeline_crop_and_flip(tiny_builder, training):
    """The loader's recipe applied to the mask as an image, with the same sampled crop and flip.

    Where the crop window holds the whole box, bbox is the tight box of the
    transformed mask (+-1.5 pixels of resampling). Where the window cuts the
    box, the clipped box can only contain the mask's tight box: the cut-off
    pixels may have been the ones that set another edge (a box transform
    cannot know), as with CUB's boxes after the same recipe.
    """
    pipeline = pipelines.PIPELINES["synthetic_birds"]
    assert (pipeline.augmentation, pipeline.image_size, pipeline.resize_size) == ("resize_crop", 128, 146)
    flips, kinds = set(), set()
    tol = 1.5 / S
    for i, example in enumerate(tfds.as_numpy(tiny_builder.as_dataset(split="train"))):
        mask = np.repeat(example["segmentation_mask"], 3, -1)
        params = pipelines.sample(pipeline, [S, S], tf.constant([i, 7]), training=training)
        out_mask, box = pipelines.transform(pipeline, mask, example["bbox"][None], params,
                                            training=training)
        box = box.numpy()[0]
        visible = out_mask.numpy()[..., 0] > 0  # Any coverage: thin slivers stay.
        flips.add(bool(params["flip"]))
        unclipped = example["bbox"] * 146 - np.tile(params["offset"].numpy(), 2)
        whole = unclipped.min() >= 0 and unclipped.max() <= S
        kinds.add(whole)
        if whole:
            np.testing.assert_allclose(box, tight_box(visible), atol=tol)
        elif visible.any():
            ref = tight_box(visible)
            assert (box[:2] <= ref[:2] + tol).all() and (box[2:] >= ref[2:] - tol).all()
    assert flips == ({False, True} if training else {False})
    assert True in kinds


@pytest.mark.parametrize("training", [True, False])
def test_load_yields_documented_shapes(tiny_birds_dir, training):
    spec = data.dataset_spec("synthetic_birds")
    assert (spec.num_classes, spec.image_shape, spec.has_boxes) == (10, (S, S, 3), True)
    batch = next(iter(data.load("synthetic_birds", batch_size=4, training=training,
                                data_dir=tiny_birds_dir, with_boxes=True)))
    assert batch["images"].shape == (4, S, S, 3) and batch["images"].dtype == tf.uint8
    assert batch["labels"].shape == (4,) and batch["labels"].dtype == tf.int32
    assert batch["bbox"].shape == (4, 4) and batch["bbox"].dtype == tf.float32
    images, labels = next(iter(data.load("synthetic_birds", batch_size=4, training=training,
                                         data_dir=tiny_birds_dir)))
    assert images.shape == (4, S, S, 3) and labels.shape == (4,)
