"""examples/box_mixing.py: run_box_demo on a tiny synthetic_birds build; its boxes follow the SPEC's rules."""

import importlib.util
import json
import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

from keras_cutmix import data
from keras_cutmix.data.synthetic_birds import SyntheticBirds

_EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "box_mixing.py")


def _load_example():
    spec = importlib.util.spec_from_file_location("box_mixing_example", _EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


box_mixing = _load_example()


@pytest.fixture(scope="module")
def birds_dir(tmp_path_factory):
    """A data dir where the default synthetic_birds config is built with 24 / 12 examples."""
    config = SyntheticBirds.BUILDER_CONFIGS[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "num_train", 24)
        patch.setattr(config, "num_test", 12)
        data_dir = str(tmp_path_factory.mktemp("tfds_birds_boxdemo"))
        data.prepare("synthetic_birds", data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="module")
def demo(birds_dir, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("box_demo"))
    return workdir, box_mixing.run_box_demo(workdir, seed=3, num_images=8, data_dir=birds_dir)


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


def test_same_seed_same_output(demo, birds_dir, tmp_path):
    _, summary = demo
    again = box_mixing.run_box_demo(str(tmp_path), seed=3, num_images=8, data_dir=birds_dir)
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


def _input_boxes(birds_dir):
    batch = next(iter(data.load("synthetic_birds", batch_size=8, training=False, with_boxes=True,
                                data_dir=birds_dir)))
    size = batch["images"].shape[1]
    return batch["bbox"].numpy() * size, size  # Pixel yxyx, one box per image.


@pytest.mark.parametrize("seed", [3, 0, 1])
def test_cutmix_boxes_follow_the_rules(seed, demo, birds_dir, tmp_path):
    """Re-derives each image's CutMix boxes from the input boxes, the partner and the rectangle (NumPy)."""
    summary = demo[1] if seed == 3 else box_mixing.run_box_demo(str(tmp_path), seed, 8, birds_dir)
    boxes, size = _input_boxes(birds_dir)
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


def test_cutout_boxes_follow_the_rules(demo, birds_dir):
    _, summary = demo
    boxes, size = _input_boxes(birds_dir)
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
