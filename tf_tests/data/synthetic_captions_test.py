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


def test_size_words_and_pixels_match():
    scenes = _scenes(1, n=64)
    for i, captions in enumerate(scenes["captions"]):
        k = scenes["num_objects"][i]
        for j in range(k):
            shape = caption_generator.SHAPE_WORDS[scenes["shape"][i, j]]
            colour = caption_generator.COLOUR_NAMES[scenes["colour"][i, j]]
            wrong = caption_generator.SIZE_WORDS[1 - scenes["size"][i, j]]
            for caption in captions:
                assert not any(f"{w} {colour} {shape}" in caption for w in wrong), caption
            # The object's colour is painted at its centre.
            y, x = scenes["center"][i, j].astype(int)
            pixel = scenes["image"][i, y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).astype(float)
            nearest = np.argmin(((caption_generator.COLOURS[None] - pixel.mean(0)) ** 2).sum(-1))
            if shape not in ("ring", "frame", "crescent", "plus", "cross", "star"):  # Hollow or thin centres.
                assert nearest == scenes["colour"][i, j], (i, j, shape)


def test_builder_builds_tiny_config(tmp_path):
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
