"""Bounding boxes through CutMix, MixUp and Cutout (issue 8): hand cases, formats, modes, errors, layers.

Expected values are written by hand (the rule cases) or computed by `box_reference` (NumPy, from the SPEC),
never by `keras_cutmix.mixing.boxes`. The pixel-level property test is boxes_property_test.py.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import box_reference as ref
import keras_cutmix as kc
from keras_cutmix.mixing import boxes as box_lib
from keras_cutmix.mixing import core

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh",
           "rel_center_xywh")
PAD = [-1.0] * 4

# --- hand cases: image 0 (own) under R = (2, 3, 8, 9) on a 10 x 12 image, partner image 1 ----------------
# Own boxes of image 0 (labels 10..):
FULLY_COVERED = [3, 4, 7, 8]  # inside R: dropped
EDGE_STRIP = [2, 8, 8, 12]  # R spans its rows, covers its left column: -> [2, 9, 8, 12], visible 0.75
HOLE = [0, 0, 10, 12]  # R in its middle: extent unchanged, visible 1 - 36 / 120 = 0.7
EXACT_HALF = [0, 3, 4, 9]  # R spans its columns, covers its bottom half: -> [0, 3, 2, 9], visible 0.5
# Partner boxes of image 1 (labels 20..):
HALF_INSIDE = [2, 1, 6, 5]  # half inside R: -> [2, 3, 6, 5], visible 0.5
THIN = [3, 8, 7, 10]  # half inside R: -> [3, 8, 7, 9], 1 pixel wide
OUTSIDE = [0, 10, 2, 12]  # not in R: dropped
HAND_BOXES = [[FULLY_COVERED, EDGE_STRIP, HOLE, EXACT_HALF, PAD],
              [HALF_INSIDE, THIN, OUTSIDE, [0.0] * 4, [0.0] * 4]]
HAND_LABELS = [[10, 11, 12, 13, -1], [20, 21, 22, -1, -1]]
# Output 0 mixes in image 1 through R; output 1 has nothing pasted (all-zero rectangle).
HAND_MIX = {"permutation": np.int32([1, 0]), "boxes": np.int32([[2, 3, 8, 9], [0, 0, 0, 0]]),
            "mix_weight": np.float32([1 - 36 / 120, 1.0])}
KEPT = {11: [2, 9, 8, 12], 12: HOLE, 13: [0, 3, 2, 9], 20: [2, 3, 6, 5], 21: [3, 8, 7, 9]}


def _hand_cutmix(min_visibility=0.5, min_size=1.0, max_boxes=None):
    data = ref.box_dict(HAND_BOXES, HAND_LABELS)
    rules = core.Args(bounding_box_format="yxyx", min_visibility=min_visibility, min_size=min_size,
                      max_boxes=max_boxes)
    out = box_lib.cutmix_boxes(box_lib.BoxBatch(tf.constant(data["boxes"]), tf.constant(data["labels"])),
                               {k: tf.constant(v) for k, v in HAND_MIX.items()}, rules)
    return np.asarray(out.boxes), np.asarray(out.labels)


def _expected(labels, count):
    boxes = [KEPT[label] for label in labels] + [[0.0] * 4] * (count - len(labels))
    return np.float32(boxes[:count]), np.int32((list(labels) + [-1] * count)[:count])


@pytest.mark.parametrize("min_visibility, min_size, max_boxes, kept", [
    (0.5, 1.0, None, [11, 12, 13, 20, 21]),  # exactly at min_visibility: kept; covered and outside: dropped
    (0.6, 1.0, None, [11, 12]),  # 0.5-visible own and partner boxes dropped at 0.6
    (0.5, 1.5, None, [11, 12, 13, 20]),  # the 1-pixel-wide clipped partner box fails min_size
    (0.5, 1.0, 3, [11, 12, 13]),  # max_boxes below the kept count: the first 3 in order
    (0.5, 1.0, 12, [11, 12, 13, 20, 21]),  # max_boxes above it: padded
])
def test_cutmix_hand_cases(min_visibility, min_size, max_boxes, kept):
    boxes, labels = _hand_cutmix(min_visibility, min_size, max_boxes)
    count = max_boxes or 10
    want_boxes, want_labels = _expected(kept, count)
    np.testing.assert_array_equal(labels[0], want_labels)
    np.testing.assert_array_equal(boxes[0], want_boxes)
    # Output 1: nothing pasted, so its own boxes stay (padding row dropped) and the partner's all go.
    np.testing.assert_array_equal(labels[1], np.int32(([20, 21, 22] + [-1] * count)[:count]))
    np.testing.assert_array_equal(boxes[1], np.float32(([HALF_INSIDE, THIN, OUTSIDE] + [[0] * 4] * count)[:count]))
    # The reference agrees with the hand values (so the reference's other uses are trusted).
    ref_boxes, ref_labels = ref.cutmix(HAND_BOXES, HAND_LABELS, HAND_MIX["permutation"], HAND_MIX["boxes"],
                                       min_visibility, min_size, max_boxes)
    np.testing.assert_array_equal(ref_labels, labels)
    np.testing.assert_array_equal(ref_boxes, boxes)


def test_cutmix_own_clipped_box_fails_min_size():
    # EDGE_STRIP clips to 3 pixels wide: kept at min_size 3, dropped at 3.5; HOLE is unchanged so never
    # size-checked, even at min_size 20 (its sides are 10 and 12).
    _, labels = _hand_cutmix(min_size=3.0)
    assert 11 in labels[0]
    _, labels = _hand_cutmix(min_size=3.5)
    assert 11 not in labels[0] and 13 not in labels[0]
    _, labels = _hand_cutmix(min_size=20.0)
    assert list(labels[0][:1]) == [12] and 12 not in labels[0][1:]


def test_cutmix_fn_matches_reference_per_batch_and_per_sample():
    rng = np.random.default_rng(0)
    for per_sample in (False, True):
        for seed in range(4):
            boxes, labels = ref.random_boxes(rng, 5, 6, 9, 13)
            images = rng.random((5, 9, 13, 2)).astype(np.float32)
            data = {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}}
            out, mix = kc.cutmix_fn(data, bounding_box_format="yxyx", per_sample=per_sample, seed=seed,
                                    min_visibility=0.3, min_size=2.0, return_mix=True)
            want_boxes, want_labels = ref.cutmix(boxes, labels, mix["permutation"], mix["boxes"], 0.3, 2.0)
            np.testing.assert_array_equal(out["bounding_boxes"]["labels"], want_labels)
            np.testing.assert_array_equal(out["bounding_boxes"]["boxes"], want_boxes)
            assert out["bounding_boxes"]["boxes"].dtype == tf.float32


def test_cutmix_channels_first_uses_the_right_height_and_width():
    rng = np.random.default_rng(1)
    boxes, labels = ref.random_boxes(rng, 3, 5, 7, 11, pad_fraction=0.0)
    images = rng.random((3, 2, 7, 11)).astype(np.float32)
    data = {"images": images, "bounding_boxes": {"boxes": boxes / np.float32([7, 11, 7, 11]), "labels": labels}}
    out, mix = kc.cutmix_fn(data, bounding_box_format="rel_yxyx", data_format="channels_first", seed=2,
                            per_sample=True, return_mix=True)
    want_boxes, want_labels = ref.cutmix(boxes, labels, mix["permutation"], mix["boxes"])
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"], want_labels)
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"], want_boxes / np.float32([7, 11, 7, 11]), atol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_keras_format_round_trips(fmt):
    # 8 x 16 images: relative coordinates and centres are exact in float32, so visibility ties stay ties.
    height, width = 8, 16
    rng = np.random.default_rng(3)
    boxes, labels = ref.random_boxes(rng, 4, 5, height, width)
    convert = keras.utils.bounding_boxes.convert_format
    given = np.asarray(convert(boxes, "yxyx", fmt, height=height, width=width))
    data = {"images": np.zeros((4, height, width, 1), np.float32),
            "bounding_boxes": {"boxes": given, "labels": labels}}
    out, mix = kc.cutmix_fn(data, bounding_box_format=fmt, seed=4, per_sample=True, return_mix=True)
    want_boxes, want_labels = ref.cutmix(boxes, labels, mix["permutation"], mix["boxes"])
    got_labels = np.asarray(out["bounding_boxes"]["labels"])
    got = np.asarray(out["bounding_boxes"]["boxes"])
    np.testing.assert_array_equal(got_labels, want_labels)
    valid = got_labels != -1
    assert valid.any() and (~valid).any()
    back = np.asarray(convert(got, fmt, "yxyx", height=height, width=width))
    np.testing.assert_allclose(back[valid], want_boxes[valid], atol=1e-5)
    np.testing.assert_array_equal(got[~valid], 0.0)  # padding: zeros in the caller's format


# --- same seed, same output everywhere --------------------------------------------------------------------

def _mode_data():
    rng = np.random.default_rng(5)
    boxes, labels = ref.random_boxes(rng, 4, 5, 9, 13)
    images = rng.random((4, 9, 13, 3)).astype(np.float32)
    return {"images": images, "labels": np.eye(3, dtype=np.float32)[[0, 1, 2, 0]],
            "bounding_boxes": {"boxes": boxes, "labels": labels}}


@pytest.mark.parametrize("name", ["cutmix", "mixup", "cutout"])
def test_same_seed_same_boxes_eagerly_in_graphs_xla_and_tf_data(name):
    fn = {"cutmix": lambda d: kc.cutmix_fn(d, bounding_box_format="xyxy", per_sample=True, seed=11),
          "mixup": lambda d: kc.mixup_fn(d, bounding_box_format="xyxy", per_sample=True, seed=11),
          "cutout": lambda d: kc.cutout_fn(d, bounding_box_format="xyxy", size=5, seed=11)}[name]
    data = _mode_data()
    data["bounding_boxes"]["boxes"] = data["bounding_boxes"]["boxes"][..., [1, 0, 3, 2]]
    tensors = tf.nest.map_structure(tf.constant, data)
    results = {"eager": fn(tensors), "graph": tf.function(fn)(tensors),
               "xla": tf.function(fn, jit_compile=True)(tensors),
               "tf.data": next(iter(tf.data.Dataset.from_tensors(tensors).map(fn)))}
    eager = tf.nest.map_structure(np.asarray, results.pop("eager"))
    assert (eager["bounding_boxes"]["labels"] != -1).any()
    for mode, result in results.items():
        result = tf.nest.map_structure(np.asarray, result)
        assert sorted(result["bounding_boxes"]) == sorted(eager["bounding_boxes"]), mode
        for key in eager["bounding_boxes"]:
            np.testing.assert_array_equal(result["bounding_boxes"][key], eager["bounding_boxes"][key], err_msg=mode)
        np.testing.assert_allclose(result["images"], eager["images"], atol=1e-6, err_msg=mode)


# --- MixUp and Cutout -------------------------------------------------------------------------------------

def test_mixup_box_weights():
    data = _mode_data()
    boxes, labels = data["bounding_boxes"]["boxes"], data["bounding_boxes"]["labels"]
    out, mix = kc.mixup_fn(data, bounding_box_format="yxyx", per_sample=True, seed=3, return_mix=True)
    weight = np.asarray(mix["mix_weight"])
    assert ((weight > 0) & (weight < 1)).all()
    want_boxes, want_labels, want_weights = ref.mixup(boxes, labels, mix["permutation"], weight)
    got = out["bounding_boxes"]
    np.testing.assert_array_equal(got["labels"], want_labels)
    np.testing.assert_array_equal(got["boxes"], want_boxes)
    np.testing.assert_array_equal(got["box_weights"], want_weights)
    assert got["box_weights"].dtype == tf.float32
    # Own boxes weigh w, the partner's 1 - w: per image, the weights are w for its first own_count rows.
    for i in range(4):
        own = int((labels[i] != -1).sum())
        partner = int((labels[int(mix["permutation"][i])] != -1).sum())
        np.testing.assert_array_equal(got["box_weights"][i][:own], np.float32(weight[i]))
        np.testing.assert_array_equal(got["box_weights"][i][own:own + partner], np.float32(1) - np.float32(weight[i]))
        np.testing.assert_array_equal(got["box_weights"][i][own + partner:], 0.0)


def test_mixup_probability_zero_keeps_own_boxes_with_weight_one():
    data = _mode_data()
    boxes, labels = data["bounding_boxes"]["boxes"], data["bounding_boxes"]["labels"]
    out = kc.mixup_fn(data, bounding_box_format="yxyx", probability=0.0, seed=3)["bounding_boxes"]
    want_boxes, want_labels, want_weights = ref.mixup(boxes, labels, np.arange(4), np.ones(4))
    np.testing.assert_array_equal(out["labels"], want_labels)
    np.testing.assert_array_equal(out["boxes"], want_boxes)
    np.testing.assert_array_equal(out["box_weights"], want_weights)
    np.testing.assert_array_equal(out["box_weights"], np.float32(out["labels"] != -1))


def test_cutout_hand_case():
    # 10 x 10 image, erased R = (0, 0, 6, 6).
    boxes = [[[0, 0, 4, 4], [6, 6, 9, 9], [0, 0, 10, 4], [2, 2, 8, 8]]]
    labels = [[1, 2, 3, 4]]
    data = ref.box_dict(boxes, labels)
    batch = box_lib.BoxBatch(tf.constant(data["boxes"]), tf.constant(data["labels"]))
    mix = {"boxes": tf.constant([[0, 0, 6, 6]], tf.int32)}
    for min_visibility, want_labels, want_boxes in [
        # [0, 0, 10, 4]: R spans its columns and covers its top: -> [6, 0, 10, 4], visible 0.4.
        # [2, 2, 8, 8]: corner cut, visible 1 - 16 / 36 = 0.555..: kept unchanged at 0.5.
        (0.5, [2, 4, -1, -1], [[6, 6, 9, 9], [2, 2, 8, 8], [0] * 4, [0] * 4]),
        (0.4, [2, 3, 4, -1], [[6, 6, 9, 9], [6, 0, 10, 4], [2, 2, 8, 8], [0] * 4]),
        (0.6, [2, -1, -1, -1], [[6, 6, 9, 9], [0] * 4, [0] * 4, [0] * 4]),
    ]:
        out = box_lib.cutout_boxes(batch, mix, core.Args(bounding_box_format="yxyx", min_visibility=min_visibility))
        np.testing.assert_array_equal(out.labels, [want_labels])
        np.testing.assert_array_equal(out.boxes, np.float32([want_boxes]))


def test_cutout_fn_matches_reference():
    rng = np.random.default_rng(7)
    for seed in range(4):
        boxes, labels = ref.random_boxes(rng, 5, 6, 11, 9)
        data = {"images": np.ones((5, 11, 9, 1), np.float32), "bounding_boxes": {"boxes": boxes, "labels": labels}}
        out, mix = kc.cutout_fn(data, bounding_box_format="yxyx", size=(6, 4), seed=seed, min_visibility=0.4,
                                return_mix=True)
        want_boxes, want_labels = ref.cutout(boxes, labels, mix["boxes"], 0.4)
        assert out["bounding_boxes"]["labels"].shape == (5, 6)
        np.testing.assert_array_equal(out["bounding_boxes"]["labels"], want_labels)
        np.testing.assert_array_equal(out["bounding_boxes"]["boxes"], want_boxes)


@pytest.mark.parametrize("dtype", ["int32", "float64"])
def test_box_dtypes_give_float32_boxes_and_keep_label_dtype(dtype):
    data = _mode_data()
    boxes, labels = data["bounding_boxes"]["boxes"], data["bounding_boxes"]["labels"]
    data["bounding_boxes"] = {"boxes": boxes.astype(dtype), "labels": labels.astype("int64")}
    out, mix = kc.cutmix_fn(data, bounding_box_format="yxyx", per_sample=True, seed=6, return_mix=True)
    want_boxes, want_labels = ref.cutmix(boxes, labels, mix["permutation"], mix["boxes"])
    assert out["bounding_boxes"]["boxes"].dtype == tf.float32 and out["bounding_boxes"]["labels"].dtype == tf.int64
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"], want_labels)
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"], want_boxes)


def test_mixup_max_boxes_cuts_boxes_and_weights_together():
    data = _mode_data()
    boxes, labels = data["bounding_boxes"]["boxes"], data["bounding_boxes"]["labels"]
    out, mix = kc.mixup_fn(data, bounding_box_format="yxyx", seed=8, max_boxes=3, return_mix=True)
    want = ref.mixup(boxes, labels, mix["permutation"], mix["mix_weight"], max_boxes=3)
    got = out["bounding_boxes"]
    for key, value in zip(("boxes", "labels", "box_weights"), want):
        np.testing.assert_array_equal(got[key], value, err_msg=key)


# --- errors -----------------------------------------------------------------------------------------------

def _data(boxes=None, labels=None, batch=2):
    boxes = np.float32([[[1, 1, 3, 3]]] * batch) if boxes is None else np.asarray(boxes, np.float32)
    labels = np.int32([[0]] * batch) if labels is None else np.asarray(labels, np.int32)
    return {"images": np.zeros((2, 5, 7, 1), np.float32), "bounding_boxes": {"boxes": boxes, "labels": labels}}


@pytest.mark.parametrize("fn", [kc.cutmix_fn, kc.mixup_fn, kc.cutout_fn])
def test_format_errors_name_the_argument(fn):
    with pytest.raises(ValueError, match="bounding_box_format.*Received: bounding_box_format='xyzw'"):
        fn(_data(), bounding_box_format="xyzw")
    with pytest.raises(ValueError, match="Expected `bounding_box_format`.*Received: bounding_box_format=None"):
        fn(_data())


@pytest.mark.parametrize("data", [
    _data(boxes=np.zeros((2, 1, 3))),  # boxes [B, N, 3]
    _data(labels=np.zeros((2, 2))),  # labels [B, N + 1]
    _data(boxes=np.zeros((3, 1, 4)), labels=np.zeros((3, 1))),  # batch 3 against 2 images
], ids=["boxes_B_N_3", "labels_B_N_plus_1", "batch_mismatch"])
def test_shape_errors(data):
    with pytest.raises(ValueError, match="Expected"):
        kc.cutmix_fn(data, bounding_box_format="yxyx")


@pytest.mark.parametrize("box", [[1, 1, 6, 3], [-1, 0, 2, 2], [1, 1, 3, 8], [3, 1, 1, 3], [1, 3, 3, 1]],
                         ids=["below", "above", "right", "inverted_y", "inverted_x"])
def test_boxes_outside_the_image_or_inverted_raise_in_every_mode(box):
    data = _data(boxes=[[box], [[0, 0, 5, 7]]])
    fn = lambda d: kc.cutmix_fn(d, bounding_box_format="yxyx", seed=1)  # noqa: E731
    with pytest.raises(tf.errors.InvalidArgumentError, match="inside the image"):
        fn(data)
    with pytest.raises(tf.errors.InvalidArgumentError, match="inside the image"):
        tf.function(fn)(data)
    with pytest.raises(tf.errors.InvalidArgumentError, match="inside the image"):
        next(iter(tf.data.Dataset.from_tensors(data).map(fn)))
    # A padding row (label -1) is not checked.
    data["bounding_boxes"]["labels"][0, 0] = -1
    assert np.asarray(fn(data)["bounding_boxes"]["labels"]).shape == (2, 2)


@pytest.mark.parametrize("fn", [kc.mixup_fn, kc.cutout_fn])
def test_mixup_and_cutout_check_boxes_too(fn):
    with pytest.raises(tf.errors.InvalidArgumentError, match="inside the image"):
        fn(_data(boxes=[[[1, 1, 6, 3]], [[0, 0, 5, 7]]]), bounding_box_format="yxyx", seed=1)


def test_unknown_box_count_needs_max_boxes():
    spec = {"images": tf.TensorSpec([2, 5, 7, 1]),
            "bounding_boxes": {"boxes": tf.TensorSpec([2, None, 4]), "labels": tf.TensorSpec([2, None], tf.int32)}}
    data = _data(boxes=[[[1, 1, 3, 3], [0, 0, 5, 7]]] * 2, labels=[[0, 1]] * 2)
    with pytest.raises(ValueError, match="Expected `max_boxes`.*max_boxes=None"):
        tf.function(lambda d: kc.cutmix_fn(d, bounding_box_format="yxyx"), input_signature=[spec])(data)
    # N unknown while tracing, 2N = 4 boxes at run time cut to max_boxes = 3 (and padded to 5).
    for max_boxes in (3, 5):
        out, mix = tf.function(lambda d: kc.cutmix_fn(d, bounding_box_format="yxyx", max_boxes=max_boxes,
                                                      seed=0, min_visibility=0.0, return_mix=True),
                               input_signature=[spec])(data)
        want_boxes, want_labels = ref.cutmix(data["bounding_boxes"]["boxes"], data["bounding_boxes"]["labels"],
                                             mix["permutation"], mix["boxes"], 0.0, 1.0, max_boxes)
        np.testing.assert_array_equal(out["bounding_boxes"]["labels"], want_labels)
        np.testing.assert_array_equal(out["bounding_boxes"]["boxes"], want_boxes)


# --- layers -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_class, sources, weighted", [
    (kc.CutMix, 2, False), (kc.MixUp, 2, True), (kc.Cutout, 1, False)])
def test_layers_take_boxes(layer_class, sources, weighted):
    layer = layer_class(bounding_box_format="rel_xyxy", min_visibility=0.25, min_size=2.0, seed=3)
    config = layer.get_config()
    assert (config["bounding_box_format"], config["min_visibility"], config["min_size"], config["max_boxes"]) == (
        "rel_xyxy", 0.25, 2.0, None)
    clone = layer_class.from_config(config)
    assert clone.get_config() == config
    assert layer_class.from_config({**config, "max_boxes": 7}).get_config()["max_boxes"] == 7
    data = _mode_data()
    boxes, labels = data["bounding_boxes"]["boxes"], data["bounding_boxes"]["labels"]
    data["bounding_boxes"]["boxes"] = boxes[..., [1, 0, 3, 2]] / np.float32([13, 9, 13, 9])
    out = layer(data, training=True)
    got = out["bounding_boxes"]
    assert got["boxes"].shape == (4, sources * 5, 4) and got["labels"].shape == (4, sources * 5)
    assert ("box_weights" in got) == weighted
    valid = np.asarray(got["labels"]) != -1
    assert valid.any()
    np.testing.assert_array_equal(np.asarray(got["boxes"])[~valid], 0.0)
    # Every kept box lies inside the image and inside its source box (clipping only shrinks boxes).
    source = {int(l): b for l, b in zip(labels.reshape(-1), data["bounding_boxes"]["boxes"].reshape(-1, 4))}
    for label, box in zip(np.asarray(got["labels"])[valid], np.asarray(got["boxes"])[valid]):
        x0, y0, x1, y1 = source[int(label)]
        assert x0 - 1e-6 <= box[0] <= box[2] <= x1 + 1e-6 and y0 - 1e-6 <= box[1] <= box[3] <= y1 + 1e-6
    spec = layer.compute_output_spec(tf.nest.map_structure(lambda a: keras.KerasTensor(a.shape, a.dtype), data))
    assert tuple(spec["bounding_boxes"]["boxes"].shape) == (4, sources * 5, 4)
    assert tuple(spec["bounding_boxes"]["labels"].shape) == (4, sources * 5)
    assert ("box_weights" in spec["bounding_boxes"]) == weighted
    if weighted:
        assert tuple(spec["bounding_boxes"]["box_weights"].shape) == (4, 10)
    with_max = layer_class(bounding_box_format="rel_xyxy", max_boxes=3)
    spec = with_max.compute_output_spec(tf.nest.map_structure(lambda a: keras.KerasTensor(a.shape, a.dtype), data))
    assert tuple(spec["bounding_boxes"]["boxes"].shape) == (4, 3, 4)
    assert with_max(data, training=True)["bounding_boxes"]["boxes"].shape == (4, 3, 4)
