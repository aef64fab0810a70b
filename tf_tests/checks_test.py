"""keras_cutmix.checks: the evaluation APIs' validation home and the one logits rule, on hand cases in both
conventions (pixels vs fractions, logits vs probabilities, percent vs fraction, NumPy vs Python scalars,
[N, 1] vs [N], one-hot vs ids)."""

import keras
import numpy as np
import pytest

from keras_cutmix import checks


@pytest.mark.parametrize("value,expected", [(3, 3), (np.int64(2), 2), (np.uint8(1), 1), (np.array(5), 5)])
def test_count_accepts_python_and_numpy_integers(value, expected):
    got = checks.count("batch_size", value, "f")
    assert got == expected and type(got) is int


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "2", None, np.float32(2)])
def test_count_refuses_the_rest_naming_the_argument(value):
    with pytest.raises(ValueError, match=r"^f: Expected `batch_size` to be an int >= 1\. Received: batch_size="):
        checks.count("batch_size", value, "f")
    assert checks.count("n", None, "f", allow_none=True) is None
    assert checks.count("n", 0, "f", minimum=0) == 0


@pytest.mark.parametrize("value", [0, 0.5, 1, np.float32(0.25), np.float64(1.0)])
def test_fraction_accepts_fractions(value):
    assert checks.fraction("iou_threshold", value, "f") == pytest.approx(float(value))


def test_fraction_gives_a_percentage_hint_and_respects_open_ends():
    with pytest.raises(ValueError, match=r"Expected `iou_threshold` to be a fraction in \[0, 1\] \(50 looks like a "
                                         r"percentage: pass 0\.5\)\. Received: iou_threshold=50"):
        checks.fraction("iou_threshold", 50, "f")
    with pytest.raises(ValueError, match=r"fraction in \(0, 1\)\. Received: t=1"):
        checks.fraction("t", 1, "f", open_low=True, open_high=True)
    for bad in (-0.1, float("nan"), float("inf"), "0.5", None, True, 101):
        with pytest.raises(ValueError, match=r"Received: t="):
            checks.fraction("t", bad, "f")
    assert checks.fractions("iou_thresholds", [0.3, np.float32(0.5), 0.7], "f") == pytest.approx((0.3, 0.5, 0.7))
    with pytest.raises(ValueError, match=r"iou_thresholds\[1\].*\(50 looks like a percentage: pass 0\.5\)"):
        checks.fractions("iou_thresholds", (30, 50, 70)[1:] and (0.3, 50), "f")
    with pytest.raises(ValueError, match="at least one"):
        checks.fractions("iou_thresholds", (), "f")


@pytest.mark.parametrize("labels", [
    [2, 0, 1], np.array([[2], [0], [1]]), np.array([2.0, 0.0, 1.0]), np.eye(3)[[2, 0, 1]],
    np.eye(3, dtype="float32")[[2, 0, 1]], np.array([2, 0, 1], "uint8"),
])
def test_class_ids_from_every_convention(labels):
    ids = checks.class_ids("labels", labels, "f", num_classes=3, length=3)
    np.testing.assert_array_equal(ids, [2, 0, 1])
    assert ids.dtype == np.int64


@pytest.mark.parametrize("labels,fragment", [
    ([0, 3], r"in \[0, num_classes=3\)\. Received: labels in \[0, 3\]"),
    ([-1, 0], r"Received: labels in \[-1, 0\]"),
    ([0.5, 1], "whole-number"),
    ([[0.7, 0.3, 0.0]], "not one-hot"),
    (np.eye(4)[[0, 1]], r"one-hot rows \[N, 3\]"),
    (np.zeros((2, 2, 2)), r"Received: labels.shape=\(2, 2, 2\)"),
    ([0, 1, 2, 1], r"Expected 3 `labels`, one per example\. Received: 4"),
    ([0, float("nan")], "finite"),
])
def test_class_ids_errors(labels, fragment):
    with pytest.raises(ValueError, match=fragment):
        checks.class_ids("labels", labels, "f", num_classes=3, length=3 if len(np.shape(labels)) and
                         np.shape(labels)[0] == 4 else None)


def test_class_ids_refuses_what_is_no_array():
    for value in ("abc", {"labels": [1]}, None, [object()]):
        with pytest.raises(TypeError, match="Expected"):
            checks.class_ids("labels", value, "f")


def test_probabilities_and_the_logits_hint():
    p = np.array([[0.2, 0.8], [0.5, 0.5]], "float32")
    np.testing.assert_allclose(checks.probabilities("p", p, "f"), p)
    with pytest.raises(ValueError, match="look like logits: apply a softmax first"):
        checks.probabilities("p", [[2.0, -1.0], [0.1, 0.3]], "f")
    with pytest.raises(ValueError, match="finite"):
        checks.probabilities("p", [[np.nan, 1.0]], "f")
    with pytest.raises(ValueError, match=r"\[N, num_classes >= 2\]"):
        checks.probabilities("p", [0.2, 0.8], "f")


def test_scores_take_n_or_n_by_1_and_refuse_class_probabilities():
    np.testing.assert_array_equal(checks.scores("s", [[0.1], [0.9]], "f"), [0.1, 0.9])
    with pytest.raises(ValueError, match=r"one score per example.*pass e\.g\. their maximum"):
        checks.scores("s", [[0.1, 0.9], [0.6, 0.4]], "f")
    with pytest.raises(ValueError, match="finite"):
        checks.scores("s", [0.1, np.inf], "f")


def test_boxes_in_pixels_and_fractions():
    np.testing.assert_array_equal(checks.boxes("b", [[1, 2, 10, 9.5]], "f", normalized=False, image_size=(16, 20)),
                                  [[1, 2, 10, 9.5]])
    with pytest.raises(ValueError, match="look normalised to \\[0, 1\\]: multiply by the image size"):
        checks.boxes("b", [[0.1, 0.1, 0.6, 0.6]], "f", normalized=False)
    with pytest.raises(ValueError, match=r"within the image \(pixels in \[0, 20\]\)"):
        checks.boxes("b", [[0, 0, 30, 5]], "f", normalized=False, image_size=(16, 20))
    assert checks.boxes("b", [[0.1, 0.2, 0.6, 0.7]], "f", normalized=True).shape == (1, 4)
    with pytest.raises(ValueError, match="look like pixels: divide by the image size"):
        checks.boxes("b", [[1, 2, 10, 9]], "f", normalized=True)
    with pytest.raises(ValueError, match=r"inverted boxes, e\.g\. \[5\.0, 0\.0, 2\.0, 3\.0\]"):
        checks.boxes("b", [[0, 0, 1, 1], [5, 0, 2, 3]], "f", normalized=False)
    with pytest.raises(ValueError, match="inverted or empty"):
        checks.boxes("b", [[0.2, 0.2, 0.2, 0.5]], "f", normalized=True, allow_empty_boxes=False)
    with pytest.raises(ValueError, match=r"last axis of 4"):
        checks.boxes("b", [[0, 0, 1]], "f", normalized=True)
    assert checks.boxes("b", np.zeros((2, 0, 4)), "f", normalized=True).shape == (2, 0, 4)


def test_boxes_in_either_convention_and_in_whole_pixels():
    # normalized=None: scale-free callers (IoU) take pixels or fractions, and still refuse the malformed.
    for boxes in ([[0.1, 0.2, 0.6, 0.7]], [[1, 2, 10, 9.5]]):
        np.testing.assert_array_equal(checks.boxes("b", boxes, "f", normalized=None), boxes)
    with pytest.raises(ValueError, match=r"^f: Expected `b` as \(low, low, high, high\)"):
        checks.boxes("b", [[0.5, 0.1, 0.2, 0.3]], "f", normalized=None)
    with pytest.raises(ValueError, match=r"^f: Expected finite `b`"):
        checks.boxes("b", [[0, 0, np.inf, 1]], "f", normalized=None)
    # whole=True: integer pixel grids; whole floats pass, fractions are named.
    assert checks.boxes("b", [[1.0, 2.0, 10.0, 9.0]], "f", normalized=False, whole=True).tolist() == [[1, 2, 10, 9]]
    with pytest.raises(ValueError, match=r"^f: Expected `b` in whole pixels\. Received: fractional coordinates, "
                                         r"e\.g\. \[1\.0, 2\.0, 10\.0, 9\.5\]"):
        checks.boxes("b", [[0, 0, 1, 1], [1, 2, 10, 9.5]], "f", normalized=False, whole=True)


def test_boxes_with_inclusive_pixel_corners():
    # The VOC devkit's corners: a side is high - low + 1, so [5, 5, 4.5, 6] is a half-pixel-wide box, and only
    # high < low - 1 is inverted.
    assert checks.boxes("b", [[5, 5, 4.5, 6], [5, 5, 4, 6]], "f", normalized=None, inclusive=True).shape == (2, 4)
    with pytest.raises(ValueError, match=r"high >= low - 1 \(inclusive pixel corners\)\. Received: inverted "
                                         r"boxes, e\.g\. \[5\.0, 5\.0, 3\.5, 6\.0\]"):
        checks.boxes("b", [[5, 5, 3.5, 6]], "f", normalized=False, inclusive=True)
    with pytest.raises(ValueError, match="inverted or empty"):
        checks.boxes("b", [[5, 5, 4, 6]], "f", normalized=False, inclusive=True, allow_empty_boxes=False)
    with pytest.raises(ValueError, match="inverted boxes"):  # Exclusive corners (the default) stay strict.
        checks.boxes("b", [[5, 5, 4.5, 6]], "f", normalized=False)


def test_maps_keep_their_dtype_when_asked():
    maps = np.random.default_rng(0).random((2, 3, 4))
    assert checks.maps("maps", maps, "f").dtype == np.float32
    kept = checks.maps("maps", maps, "f", dtype=None)
    assert kept.dtype == np.float64 and np.array_equal(kept, maps)
    assert checks.maps("maps", np.ones((1, 2, 2), np.uint8), "f", dtype=None).dtype == np.uint8
    with pytest.raises(ValueError, match="finite"):
        checks.maps("maps", np.full((1, 2, 2), -np.inf), "f", dtype=None)

def test_maps_and_masks():
    assert checks.maps("maps", np.zeros((4, 5)), "f").shape == (1, 4, 5)
    with pytest.raises(ValueError, match=r"maps \[N, H, W\]"):
        checks.maps("maps", np.zeros((2, 3, 4, 1)), "f")
    with pytest.raises(ValueError, match="finite"):
        checks.maps("maps", np.full((1, 2, 2), np.nan), "f")
    assert checks.masks("masks", np.ones((1, 2, 2), "uint8"), "f", like=(1, 2, 2)).dtype == bool
    with pytest.raises(ValueError, match=r"binary `masks`"):
        checks.masks("masks", np.full((1, 2, 2), 0.5), "f")
    with pytest.raises(ValueError, match=r"of shape \(2, 2, 2\), one per map"):
        checks.masks("masks", np.ones((1, 2, 2)), "f", like=(2, 2, 2))


class SoftmaxInCall(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3)

    def call(self, x):
        return keras.ops.softmax(self.dense(x))


def test_the_one_logits_rule():
    inputs = keras.Input((4,))
    dense = keras.Sequential([inputs, keras.layers.Dense(3)])
    assert checks.outputs_logits(dense) is True
    assert checks.outputs_logits(keras.Sequential([inputs, keras.layers.Dense(3, activation="softmax")])) is False
    assert checks.outputs_logits(keras.Sequential([inputs, keras.layers.Dense(3), keras.layers.Softmax()])) is False
    assert checks.outputs_logits(keras.Sequential([inputs, keras.layers.Dense(3),
                                                   keras.layers.Activation("softmax")])) is False
    nested = keras.Sequential([inputs, keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                                                         keras.layers.Softmax()])])
    assert checks.outputs_logits(nested) is False
    x = np.random.RandomState(0).normal(size=(5, 4)).astype("float32")
    in_lambda = keras.Sequential([inputs, keras.layers.Dense(3), keras.layers.Lambda(keras.ops.softmax)])
    subclassed = SoftmaxInCall()
    for model in (in_lambda, subclassed):
        with pytest.raises(ValueError, match="pass `from_logits=True` or False"):
            checks.outputs_logits(model)
        assert checks.outputs_logits(model, model(x)) is False  # its outputs are probabilities
    assert checks.outputs_logits(keras.Sequential([inputs, keras.layers.Dense(3), keras.layers.Lambda(lambda t: t)]),
                                 np.array([[2.0, -1.0, 0.5]])) is True
    with pytest.raises(TypeError, match="keras.Model"):
        checks.outputs_logits(lambda t: t)


def test_keras_model_refuses_what_is_no_keras_model():
    checks.keras_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]), "f")
    for value in (lambda t: t, None, "model.keras"):
        with pytest.raises(TypeError, match=rf"^f: Expected `model` to be a keras.Model\. Received: model of type "
                                            rf"{type(value).__name__}$"):
            checks.keras_model(value, "f")


def test_flag_takes_python_and_numpy_bools_only():
    for value in (True, False, np.bool_(True), np.array(5) > 3, np.float32(0.2) > 0.5):
        got = checks.flag("from_logits", value, "f")
        assert type(got) is bool and got == bool(value)
    assert checks.flag("from_logits", None, "f", allow_none=True) is None
    for value in (1, 0, np.int64(1), "False", "yes", np.array([True]), None):
        with pytest.raises(ValueError, match=r"^f: Expected `from_logits` to be True or False\. Received: from_logits="):
            checks.flag("from_logits", value, "f")
    with pytest.raises(ValueError, match=r"^f: Expected `from_logits` to be None, True or False\. Received: "
                                         r"from_logits=1$"):
        checks.flag("from_logits", 1, "f", allow_none=True)


def test_number_takes_finite_numbers_above_a_bound():
    assert checks.number("alpha", np.float32(0.5), "f", minimum=0) == 0.5
    assert type(checks.number("alpha", np.int64(2), "f")) is float
    for value in (-0.1, float("nan"), float("inf"), "1", True, None):
        with pytest.raises(ValueError, match=r"^f: Expected `alpha` to be a finite number >= 0\. Received: alpha="):
            checks.number("alpha", value, "f", minimum=0)


def test_integer_array_rank_range_and_whole_floats():
    got = checks.integer_array("ids", [[4.0, 3.0], [0.0, 7.0]], "f", ndim=2, upper=8)
    assert got.dtype == np.int64 and got.tolist() == [[4, 3], [0, 7]]
    assert checks.integer_array("ids", np.zeros((0, 3), np.int32), "f", ndim=2, upper=1).shape == (0, 3)
    for ids, fragment in [([[8]], r"`ids` in \[0, 8\)\. Received: ids in \[8, 8\]"),
                          ([[-1, 2]], r"`ids` in \[0, 8\)\. Received: ids in \[-1, 2\]"),
                          ([1, 2], r"`ids` of rank 2\. Received: ids.shape=\(2,\)"),
                          ([[1.5]], "whole-number `ids`"), ([[np.nan]], "finite `ids`")]:
        with pytest.raises(ValueError, match="^f: Expected " + fragment):
            checks.integer_array("ids", ids, "f", ndim=2, upper=8)
    with pytest.raises(TypeError, match="f: Expected a numeric `ids`"):
        checks.integer_array("ids", [["a"]], "f", ndim=2)


def test_pixel_images_shape_and_scale():
    pixels = np.array([0, 17, 255], np.uint8).reshape(1, 1, 3, 1)
    got = checks.pixel_images("images", pixels, "f", shape=(None, 3, 1))
    assert got.dtype == np.float32 and got.ravel().tolist() == [0, 17, 255]
    assert checks.pixel_images("images", np.ones((2, 4, 4, 3)), "f", shape=(4, 4, 3)).shape == (2, 4, 4, 3)
    scaled = r"as pixels in \[0, 255\]; these look scaled to \[0, 1\]: multiply by 255"
    for images, fragment in [(pixels / 255.0, scaled),
                             (pixels / 127.5 - 1, r"as pixels in \[0, 255\] .*look preprocessed"),
                             (pixels[0], r"of shape \[batch, any, 3, 1\] \(for one image, add a batch axis"),
                             (np.zeros((1, 1, 4, 1)), r"of shape \[batch, any, 3, 1\]\. Received: images.shape")]:
        with pytest.raises(ValueError, match="^f: Expected `images` " + fragment):
            checks.pixel_images("images", images, "f", shape=(None, 3, 1))
def test_images_rank_finiteness_and_unit_range():
    batch = np.random.default_rng(0).uniform(size=(2, 3, 4, 1))
    assert checks.images("images", batch, "f").dtype == np.float64
    unit = checks.images("images", batch, "f", unit_range=True)
    assert unit.dtype == np.float32 and unit.shape == (2, 3, 4, 1)
    assert checks.images("images", np.zeros((0, 3, 4, 1)), "f", unit_range=True).shape == (0, 3, 4, 1)
    with pytest.raises(ValueError, match=r"^f: Expected `images` of shape \[batch, height, width, channels\]"):
        checks.images("images", batch[0], "f")
    with pytest.raises(ValueError, match=r"^f: Expected `images` in \[0, 1\] \(these look like \[0, 255\] pixels"):
        checks.images("images", batch * 255, "f", unit_range=True)
    with pytest.raises(ValueError, match=r"^f: Expected `images` in \[0, 1\]\. Received: images in \[-"):
        checks.images("images", batch - 1, "f", unit_range=True)
    with pytest.raises(ValueError, match="finite `images`"):
        checks.images("images", np.full((1, 2, 2, 1), np.nan), "f")
    with pytest.raises(TypeError, match="to be an array"):
        checks.images("images", {"image": batch}, "f")


def test_verbosity_is_keras_verbosity():
    assert checks.verbosity("verbose", "auto", "f") == "auto"
    assert [checks.verbosity("verbose", v, "f") for v in (0, np.int64(1), 2)] == [0, 1, 2]
    for value in (3, -1, "yes", True, 1.0, None):
        with pytest.raises(ValueError, match=r"^f: Expected `verbose` to be 'auto', 0, 1 or 2 \(Keras verbosity\)"):
            checks.verbosity("verbose", value, "f")
