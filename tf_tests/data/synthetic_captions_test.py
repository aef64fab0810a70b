"""synthetic_captions: the generator's determinism and captions true to the scene; the tfds builder."""

import re

import numpy as np
import tensorflow_datasets as tfds

from keras_cutmix.data import caption_generator
from keras_cutmix.data import synthetic_captions

_RELATION_RE = re.compile(r"\b(above|below|left of|right of)\b")


def _scenes(seed, n=24):
    return caption_generator.generate_captioned_scenes(np.random.default_rng(seed), n)


def test_same_seed_same_scenes_other_seed_others():
    a, b, c = _scenes(3), _scenes(3), _scenes(4)
    np.testing.assert_array_equal(a["image"], b["image"])
    assert a["captions"] == b["captions"]
    assert not np.array_equal(a["image"], c["image"]) and a["captions"] != c["captions"]
    assert a["image"].shape == (24, 64, 64, 3) and a["image"].dtype == np.uint8


def test_captions_name_every_object_and_true_relations():
    scenes = _scenes(0, n=64)
    assert set(scenes["num_objects"]) == {2, 3}
    relations_seen = set()
    for i, captions in enumerate(scenes["captions"]):
        k = scenes["num_objects"][i]
        assert len(captions) == caption_generator.NUM_CAPTIONS == len(set(captions))  # 5 different wordings.
        shapes = [caption_generator.SHAPE_WORDS[s] for s in scenes["shape"][i, :k]]
        colours = [caption_generator.COLOUR_NAMES[c] for c in scenes["colour"][i, :k]]
        assert len(set(shapes)) == k and len(set(colours)) == k
        centers = scenes["center"][i, :k]
        for caption in captions:
            for shape, colour in zip(shapes, colours):
                # "... red star ...": the colour word right before the shape word.
                assert f"{colour} {shape}" in caption, (caption, shape, colour)
            match = _RELATION_RE.search(caption)
            if not match:
                continue
            # The last shape named before the relation and the first after it: their pixel positions.
            head = caption[:match.start()].split()
            before = [w for w in head if w in shapes][-1]
            after = [w for w in caption[match.end():].split() if w in shapes][0]
            (y0, x0), (y1, x1) = centers[shapes.index(before)], centers[shapes.index(after)]
            relation = match.group(1)
            relations_seen.add(relation)
            expected = {"above": y0 < y1, "below": y0 > y1, "left of": x0 < x1, "right of": x0 > x1}
            assert expected[relation], (caption, centers)
            # Neighbouring cells: the other coordinate lies within the same half of the image.
            same = (x0 < 32) == (x1 < 32) if relation in ("above", "below") else (y0 < 32) == (y1 < 32)
            assert same, (caption, centers)
            # The relation follows its subject: "a red star (is) (to the) above/left of ...".
            assert " ".join(head).removesuffix(" to the").removesuffix(" is").endswith(before), caption
    assert relations_seen == {"above", "below", "left of", "right of"}


def test_size_words_and_colours_match_the_pixels():
    """Size words against the objects' painted extent (per shape), colour words against the pixels."""
    scenes = _scenes(1, n=96)
    claimed = {"small": "small", "little": "small", "large": "large", "big": "large"}
    extents = {}  # (shape word, claimed size) -> painted extents in pixels.
    for i, captions in enumerate(scenes["captions"]):
        for j in range(scenes["num_objects"][i]):
            shape = caption_generator.SHAPE_WORDS[scenes["shape"][i, j]]
            colour = caption_generator.COLOUR_NAMES[scenes["colour"][i, j]]
            sizes = {claimed[w] for c in captions for w in claimed if f"{w} {colour} {shape}" in c}
            assert len(sizes) <= 1, captions  # Never called small in one caption and big in another.
            # The object's pixels: in its 32x32 cell, within 45 levels of its palette colour.
            y, x = (scenes["center"][i, j] // 32).astype(int) * 32
            cell = scenes["image"][i, y:y + 32, x:x + 32].astype(float)
            rgb = caption_generator.COLOURS[scenes["colour"][i, j]]
            rows, cols = np.nonzero(np.sqrt(((cell - rgb) ** 2).sum(-1)) < 45)
            assert len(rows) > 10, (i, j, shape, colour)
            if sizes:
                extent = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
                extents.setdefault((shape, sizes.pop()), []).append(extent)
    for shape in caption_generator.SHAPE_WORDS:
        small, large = extents.get((shape, "small")), extents.get((shape, "large"))
        if small and large:
            assert max(small) < min(large), (shape, small, large)
    assert sum(1 for key in extents if key[1] == "small") >= 8 and sum(1 for key in extents if key[1] == "large") >= 8


def test_palette_colours_look_like_their_names():
    named = {"red": (255, 0, 0), "green": (0, 160, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
             "purple": (128, 0, 128), "orange": (255, 140, 0), "white": (255, 255, 255)}
    table = np.array([named[name] for name in caption_generator.COLOUR_NAMES], float)
    for k, rgb in enumerate(caption_generator.COLOURS):
        assert np.argmin(((table - rgb) ** 2).sum(-1)) == k, caption_generator.COLOUR_NAMES[k]


def test_builder_builds_tiny_config(tmp_path):
    import keras_cutmix.data  # noqa: F401  Importing the package registers the builder.
    assert "synthetic_captions" in tfds.list_builders()
    config = synthetic_captions.SyntheticCaptionsConfig(name="tiny", num_train=6, num_test=3, seed=2)
    builder = synthetic_captions.SyntheticCaptions(config=config, data_dir=str(tmp_path))
    builder.download_and_prepare()
    assert builder.info.splits["train"].num_examples == 6 and builder.info.splits["test"].num_examples == 3
    test = list(tfds.as_numpy(builder.as_dataset(split="test", shuffle_files=False)))
    ids = sorted(int(e["image/id"]) for e in test)
    assert ids == [1_000_001, 1_000_002, 1_000_003]
    expected = caption_generator.generate_captioned_scenes(np.random.default_rng((2, 1)), 3)
    for example in test:
        j = int(example["image/id"]) - 1_000_001
        np.testing.assert_array_equal(example["image"], expected["image"][j])
        assert [t.decode() for t in example["captions"]["text"]] == expected["captions"][j]
        np.testing.assert_array_equal(example["captions"]["id"], example["image/id"] * 10 + np.arange(5))
    train_ids = {int(e["image/id"]) for e in tfds.as_numpy(builder.as_dataset(split="train"))}
    assert train_ids == set(range(1, 7))
