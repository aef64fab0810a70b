"""examples/box_mixing.py: run_box_demo on a tiny synthetic_birds build; its boxes follow the SPEC's rules."""

import json
import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

from keras_cutmix import data


@pytest.fixture(scope="module")
def box_mixing(example):
    return example("box_mixing")


@pytest.fixture(scope="module")
def demo(box_mixing, tiny_birds_dir, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("box_demo"))
    return workdir, box_mixing.run_box_demo(workdir, seed=3, num_images=8, data_dir=tiny_birds_dir)


def _area(box):
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _intersection(a, b):
    return _area([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])])


def test_writes_picture_and_json(demo):
    workdir, summary = demo
    picture = plt.imread(os.path.join(workdir, "box_mixing.png"))
    assert picture.shape[:2] == (round(2.0 * 4 * 110), round(1.9 * 8 * 110))  # 4 rows, 8 columns.
    with open(os.path.join(workdir, "box_mixing.json")) as f:
        assert json.load(f) == json.loads(json.dumps(summary))
    assert [len(summary[m]) for m in ("CutMix", "MixUp", "Cutout")] == [8, 8, 8]


def test_same_seed_same_output(box_mixing, demo, tiny_birds_dir, tmp_path):
    _, summary = demo
    again = box_mixing.run_box_demo(str(tmp_path), seed=3, num_images=8, data_dir=tiny_birds_dir)
    assert {m: again[m] for m in ("CutMix", "MixUp", "Cutout")} == {
        m: summary[m] for m in ("CutMix", "MixUp", "Cutout")}


def _own_box_after(own, rect, min_visibility=0.5, min_size=1.0):
    """The SPEC's rule for an image's own box under a pasted or erased rectangle: the box, or None (dropped)."""
    visible = 1.0 - _intersection(own, rect) / _area(own)
    if not (visible >= min_visibility and visible > 0):
        return None
    clipped = own.copy()
    if rect[0] <= own[0] and rect[2] >= own[2]:  # R spans the box's height.
        if rect[1] <= own[1] < rect[3]:
            clipped[1] = rect[3]
        if rect[1] < own[3] <= rect[3]:
            clipped[3] = rect[1]
    if rect[1] <= own[1] and rect[3] >= own[3]:  # R spans the box's width.
        if rect[0] <= own[0] < rect[2]:
            clipped[0] = rect[2]
        if rect[0] < own[2] <= rect[2]:
            clipped[2] = rect[0]
    if (clipped == own).all() or min(clipped[2] - clipped[0], clipped[3] - clipped[1]) >= min_size:
        return clipped
    return None


def _input_boxes(tiny_birds_dir):
    batch = next(iter(data.load("synthetic_birds", batch_size=8, training=False, with_boxes=True,
                                data_dir=tiny_birds_dir)))
    size = batch["images"].shape[1]
    return batch["bbox"].numpy() * size, size  # Pixel yxyx, one box per image.


@pytest.mark.parametrize("seed", [3, 0, 1])
def test_cutmix_boxes_follow_the_rules(seed, box_mixing, demo, tiny_birds_dir, tmp_path):
    """Re-derives each image's CutMix boxes from the input boxes, the partner and the rectangle (NumPy)."""
    summary = demo[1] if seed == 3 else box_mixing.run_box_demo(str(tmp_path), seed, 8, tiny_birds_dir)
    boxes, size = _input_boxes(tiny_birds_dir)
    for i, image in enumerate(summary["CutMix"]):
        rect = np.array(image["rectangle_y0_x0_y1_x1"], float)
        j = image["partner"]
        expected = []
        own = _own_box_after(boxes[i], rect)
        if own is not None:
            expected.append(("own", own))
        partner = boxes[j]
        inside = _intersection(partner, rect) / _area(partner)
        clipped = np.concatenate([np.maximum(partner[:2], rect[:2]), np.minimum(partner[2:], rect[2:])])
        if inside >= 0.5 and inside > 0 and min(clipped[2] - clipped[0], clipped[3] - clipped[1]) >= 1.0:
            expected.append(("partner", clipped))
        got = [(b["origin"], np.array(b["rel_yxyx"]) * size) for b in image["boxes"]]
        assert [o for o, _ in got] == [o for o, _ in expected], f"image {i}"
        for (_, g), (_, e) in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=0.01 * size)  # JSON rounds rel coordinates to 4 digits.


def test_cutout_boxes_follow_the_rules(demo, tiny_birds_dir):
    _, summary = demo
    boxes, size = _input_boxes(tiny_birds_dir)
    for i, image in enumerate(summary["Cutout"]):
        expected = _own_box_after(boxes[i], np.array(image["rectangle_y0_x0_y1_x1"], float))
        got = [np.array(b["rel_yxyx"]) * size for b in image["boxes"]]
        assert len(got) == (expected is not None), f"image {i}"
        if got:
            np.testing.assert_allclose(got[0], expected, atol=0.01 * size)


def test_mixup_weights_sum_to_one(demo):
    _, summary = demo
    for image in summary["MixUp"]:
        weights = {b["origin"]: b["weight"] for b in image["boxes"]}
        if len(weights) == 2:
            assert weights["own"] + weights["partner"] == pytest.approx(1.0, abs=2e-4)
        assert all(0 < w <= 1 for w in weights.values())
