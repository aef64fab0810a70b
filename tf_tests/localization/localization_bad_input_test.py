"""Issue 17 for `keras_cutmix.localization`: the right answer or a one-line error naming the argument.

Each case below was reported against the old code (a second call failing inside the compiled function, float
boxes cast to int, boxes and thresholds in another convention silently scored 0, NumPy errors reaching the
user); the expected values come from OpenCV, hand arithmetic or the same call in the accepted convention.
"""

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import localization

SIZE = 16


def free_size_model(seed=0, num_classes=3):
    """Linear stride-2 conv features (any image size) -> GAP -> Dense("head")."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 3))
    features = keras.layers.Conv2D(4, 3, strides=2, padding="same", name="features")(inputs)
    logits = keras.layers.Dense(num_classes, name="head")(keras.layers.GlobalAveragePooling2D()(features))
    return keras.Model(inputs, logits)


def reference_cams(model, x, classes, relu=False):
    """wsolevaluation's pipeline in NumPy / OpenCV: weighted sum, cv2 bicubic upsampling, min-max."""
    probe = keras.Model(model.input, model.get_layer("features").output)
    features = np.asarray(probe(x, training=False), np.float64)
    kernel = np.asarray(model.get_layer("head").kernel, np.float64)
    result = []
    for f, c in zip(features, classes):
        raw = f @ kernel[:, c]
        raw = np.maximum(raw, 0) if relu else raw
        up = cv2.resize(raw.astype(np.float32), (x.shape[2], x.shape[1]), interpolation=cv2.INTER_CUBIC)
        span = up.max() - up.min()
        result.append((up - up.min()) / span if span > 0 else np.zeros_like(up))
    return np.stack(result)


def predicted(model, x):
    return np.asarray(model(x, training=False)).argmax(-1)


def box_dataset(x, labels, bbox):
    return [{"images": x, "labels": labels, "bbox": bbox}]


def test_any_batch_size_image_size_and_class_choices_in_any_order():
    model = free_size_model()
    rng = np.random.default_rng(0)
    x16, x20 = rng.normal(size=(5, 16, 16, 3)).astype("float32"), rng.normal(size=(3, 20, 12, 3)).astype("float32")
    calls = [  # (function, images, class_ids, batch_size, relu)
        (localization.cam, x16, None, 64, False),
        (localization.cam, x20, [2, 0, 1], 2, False),  # Another image size, then another batch size.
        (localization.gradcam, x16, [1, 1, 0, 2, 2], 3, True),
        (localization.cam, x16[:2], None, 1, False),
        (localization.gradcam, x20, None, 64, True),
    ]
    for _ in range(2):  # Everything twice, the second time in reverse order.
        for method, x, classes, batch_size, relu in calls:
            expected = reference_cams(model, x, predicted(model, x) if classes is None else classes, relu)
            np.testing.assert_allclose(method(model, x, class_ids=classes, batch_size=batch_size), expected,
                                       atol=2e-5)
        calls.reverse()
    # Then evaluate_localization (two class choices per call) on the same model, at two sizes.
    for x in (x16, x20):
        bbox = np.tile([[0.25, 0.25, 0.75, 0.75]], (len(x), 1))
        result = localization.evaluate_localization(model, box_dataset(x, np.zeros(len(x), int), bbox), verbose=0)
        assert result["num_images"] == len(x)
    localization.cam(model, x16)  # And back.


def test_numpy_integers_are_ints():
    model, x = free_size_model(), np.random.default_rng(1).normal(size=(5, 16, 16, 3)).astype("float32")
    np.testing.assert_array_equal(localization.cam(model, x, batch_size=np.int64(2)),
                                  localization.cam(model, x, batch_size=2))
    np.testing.assert_array_equal(localization.cam(model, x, class_ids=np.array([0, 1, 2, 0, 1], np.uint8)),
                                  localization.cam(model, x, class_ids=[0, 1, 2, 0, 1]))
    for bad in (0, 2.0, True, "2", np.float32(2)):
        with pytest.raises(ValueError, match=r"^cam: Expected `batch_size` to be an int >= 1\. Received: "):
            localization.cam(model, x, batch_size=bad)


def test_class_ids_as_one_hot_rows_or_a_column():
    model, x = free_size_model(), np.random.default_rng(2).normal(size=(4, 16, 16, 3)).astype("float32")
    ids = np.array([2, 0, 1, 2])
    expected = localization.gradcam(model, x, class_ids=ids)
    np.testing.assert_array_equal(localization.gradcam(model, x, class_ids=np.eye(3)[ids]), expected)
    np.testing.assert_array_equal(localization.gradcam(model, x, class_ids=ids[:, None].astype(float)), expected)


@pytest.mark.parametrize("kwargs,match", [
    (dict(images=np.zeros((16, 16, 3))), r"^cam: Expected `images` of shape \[batch, height, width, channels\]"),
    (dict(images=np.full((1, 8, 8, 3), "a")), r"^cam: Expected numeric `images`"),
    (dict(images=np.zeros((2, 12, 16, 3))), r"^cam: Expected `images` of the model's input shape \[batch, 16, 16, 3\]"),
    (dict(class_ids=np.eye(4)[[0, 1]]), r"^cam: Expected `class_ids` as class ids \[N\] or one-hot rows \[N, 3\]"),
    (dict(class_ids=[0, 1, 1]), r"^cam: Expected 2 `class_ids`, one per example"),
    (dict(layer_name=3), r"^cam: Expected `layer_name` to name a layer"),
    (dict(model="resnet"), r"^cam: Expected a functional keras.Model"),
])
def test_cam_errors_name_the_argument(kwargs, match):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    features = keras.layers.Conv2D(3, 1, name="features")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(keras.layers.GlobalAveragePooling2D()(features)))
    args = dict(model=model, images=np.zeros((2, SIZE, SIZE, 3), np.float32))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        localization.cam(**args)


def test_float_boxes_are_not_cast_to_int():
    # Real-valued boxes: areas are continuous, with an exclusive max (no + 1).
    assert localization.iou([0.1, 0.1, 0.6, 0.6], [0.1, 0.1, 0.6, 0.6]) == pytest.approx(1.0)
    assert localization.iou([0, 0, 10, 9.9], [0, 0, 10, 10]) == pytest.approx(99 / 100)
    # Normalised boxes: IoU is that of the pixel boxes (scale-free), e.g. on a 10 x 20 image.
    assert localization.iou([0.1, 0.1, 0.5, 0.4], [0.2, 0.2, 0.6, 0.5]) == pytest.approx(
        float(localization.iou([1, 2, 5, 8], [2, 4, 6, 10])))
    assert localization.iou([1, 2, 5, 8], [2, 4, 6, 10]) == pytest.approx(3 * 4 / (24 + 24 - 12))
    assert localization.gt_known_loc([[0.1, 0.1, 0.6, 0.6]], [[0.1, 0.1, 0.6, 0.65]]) == 1.0
    assert localization.top1_loc([1], [1], [[0.0, 0.0, 9.5, 9.5]], [[0, 0, 10, 10]], iou_threshold=0.9) == 1.0


@pytest.mark.parametrize("call,match", [
    (lambda: localization.iou([0.1, 0.1, 0.6, 0.6], [2, 2, 10, 10]),
     r"^iou: Expected `boxes_a` and `boxes_b` in one convention; `boxes_a` looks normalised"),
    (lambda: localization.iou([[0, 0, 2, 2]] * 3, [[0, 0, 2, 2]] * 2), r"^iou: .*broadcastable.*boxes_b.shape"),
    (lambda: localization.iou([5, 0, 2, 3], [0, 0, 2, 2]), r"^iou: .*`boxes_a` .*inverted"),
    (lambda: localization.iou([0, 0, np.nan, 2], [0, 0, 2, 2]), r"^iou: Expected finite `boxes_a`"),
    (lambda: localization.gt_known_loc([[0, 0, 8, 8]], [[0.0, 0.0, 0.5, 0.5]]),
     r"^gt_known_loc: .*`true_boxes` looks normalised.*multiply `true_boxes` by the image size"),
    (lambda: localization.gt_known_loc([[0, 0, 4, 4]], [[0, 0, 4, 4]], iou_threshold=50),
     r"^gt_known_loc: Expected `iou_threshold` .*50 looks like a percentage: pass 0\.5"),
    (lambda: localization.top1_loc([1], [1], [[0, 0, 4, 4]], [[0, 0, 4, 4]], iou_threshold=np.float32(70)),
     r"^top1_loc: Expected `iou_threshold` .*percentage: pass 0\.7"),
    (lambda: localization.top1_loc([1, 2], [[0.5], [1]], [[0, 0, 4, 4]] * 2, [[0, 0, 4, 4]] * 2),
     r"^top1_loc: Expected `true_classes` to hold whole-number class ids"),
    (lambda: localization.gt_known_loc(np.zeros((0, 4)), []), r"^gt_known_loc: Expected at least one image"),
    (lambda: localization.gt_known_loc([0, 0, 4, 4], [[0, 0, 4, 4]]), r"^gt_known_loc: .*pred_boxes.shape=\(4,\)"),
])
def test_metric_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_one_hot_classes_in_top1_loc():
    boxes = [[0, 0, 4, 4], [0, 0, 4, 4], [8, 8, 9, 9]]
    gt = [[0, 0, 4, 4], [0, 0, 4, 4], [0, 0, 4, 4]]
    assert localization.top1_loc(np.eye(3)[[0, 1, 2]], [[0], [2], [2]], boxes, gt) == pytest.approx(1 / 3)


MAPS = np.random.default_rng(3).random((2, 8, 8))


@pytest.mark.parametrize("kwargs,match", [
    (dict(gt_boxes=[np.array([[0.1, 0.1, 0.5, 0.5]])] * 2), r"^max_box_acc: Expected `gt_boxes` in pixels; these "
                                                              r"look normalised to \[0, 1\]: multiply"),
    (dict(gt_boxes=[np.array([[0, 0, 20, 20]])] * 2), r"^max_box_acc: Expected `gt_boxes` within the image"),
    (dict(maps=np.random.default_rng(3).random((2, 8, 5)), gt_boxes=[np.array([[0, 0, 8, 7]])] * 2),
     r"^max_box_acc: Expected `gt_boxes` within the maps \(.*xmax <= 5\)"),
    (dict(gt_boxes=[np.array([[0, 0, 4, 4.5]])] * 2), r"^max_box_acc: Expected `gt_boxes` in whole pixels"),
    (dict(cam_curve_interval=0), r"^max_box_acc: Expected `cam_curve_interval` to be a fraction in \(0, 1\]"),
    (dict(iou_thresholds=(30, 50, 70)), r"^max_box_acc: Expected `iou_thresholds\[0\]` .*pass 0\.3"),
    (dict(iou_thresholds=50), r"^max_box_acc: Expected `iou_thresholds` to be a sequence"),
    (dict(multi_contour="yes"), r"^max_box_acc: Expected `multi_contour` to be True or False"),
    (dict(chunk_size=0), r"^max_box_acc: Expected `chunk_size` to be None or an int >= 1"),
    (dict(maps=np.full((2, 8, 8), np.inf)), r"^max_box_acc: Expected finite `maps`"),
])
def test_max_box_acc_refuses_other_conventions(kwargs, match):
    args = dict(maps=MAPS, gt_boxes=[np.array([[1, 1, 5, 6]])] * 2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        localization.max_box_acc(**args)


def test_max_box_acc_takes_numpy_scalars_and_whole_float_boxes():
    gt = [np.array([[1, 1, 5, 6]])] * 2
    expected = localization.max_box_acc(MAPS, gt, iou_thresholds=(0.3, 0.5), cam_curve_interval=0.01)
    got = localization.max_box_acc(MAPS, [g.astype(np.float32) for g in gt], iou_thresholds=np.array([0.3, 0.5]),
                                   cam_curve_interval=np.float64(0.01), chunk_size=np.int64(1))
    assert got == expected and list(got["max_box_acc"]) == [0.3, 0.5]


@pytest.mark.parametrize("kwargs,match", [
    (dict(threshold=15), r"^boxes_from_maps: Expected `threshold` .*pass 0\.15"),
    (dict(maps=np.zeros((4, 4))), r"^boxes_from_maps: Expected `maps` of shape \[batch, height, width\]"),
    (dict(maps=np.full((1, 3, 3), np.inf)), r"^boxes_from_maps: Expected finite `maps`"),
    (dict(maps=np.full((1, 3, 3), "x")), r"boxes_from_maps: Expected a numeric `maps`"),
])
def test_boxes_from_maps_errors_name_the_argument(kwargs, match):
    args = dict(maps=np.zeros((1, 3, 3)))
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        localization.boxes_from_maps(**args)


def _eval_inputs():
    model, rng = free_size_model(), np.random.default_rng(4)
    x = rng.normal(size=(4, SIZE, SIZE, 3)).astype("float32")
    bbox = np.array([[0.25, 0.25, 0.75, 0.75], [0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0], [0.1, 0.2, 0.9, 0.6]])
    return model, x, np.array([0, 1, 2, 1]), bbox


def test_evaluate_localization_takes_one_hot_labels():
    model, x, labels, bbox = _eval_inputs()
    expected = localization.evaluate_localization(model, box_dataset(x, labels, bbox), verbose=0)
    got = localization.evaluate_localization(model, box_dataset(x, np.eye(3)[labels], bbox), verbose=0)
    for key in ("top1_loc", "gt_known_loc", "max_box_acc_v2", "top1_cls_error", "num_images"):
        assert got[key] == expected[key], key


@pytest.mark.parametrize("change,match", [
    (dict(bbox=np.array([[4, 4, 12, 12]] * 4, np.float32)),
     r"^evaluate_localization: Expected `bbox` normalised to \[0, 1\].*divide by the image size"),
    (dict(bbox=np.array([[0.2, 0.2, 0.6, 0.6]] * 3)), r"^evaluate_localization: Expected `bbox` .*one row per image"),
    (dict(labels=np.array([0, 1, 2, 3])), r"^evaluate_localization: Expected `labels` in \[0, num_classes=3\)"),
    (dict(labels=np.array([0, 1])), r"^evaluate_localization: Expected 4 `labels`"),
    (dict(images=np.zeros((4, SIZE, SIZE))), r"^evaluate_localization: Expected `images` of shape"),
    (dict(iou_threshold=50), r"^evaluate_localization: Expected `iou_threshold` .*pass 0\.5"),
    (dict(iou_thresholds=(30, 50, 70)), r"^evaluate_localization: Expected `iou_thresholds\[0\]`"),
    (dict(threshold=15), r"^evaluate_localization: Expected `threshold` .*pass 0\.15"),
    (dict(cam_curve_interval=0), r"^evaluate_localization: Expected `cam_curve_interval`"),
    (dict(num_examples=-1), r"^evaluate_localization: Expected `num_examples` to be an int >= 0"),
    (dict(max_images=0), r"^evaluate_localization: Expected `max_images` to be None or an int >= 1"),
    (dict(layer_name="nope"), r"^evaluate_localization: Expected `layer_name` to name a layer"),
    (dict(dataset=None), r"^evaluate_localization: Expected `dataset` to be an iterable"),
])
def test_evaluate_localization_errors_name_the_argument(change, match):
    model, x, labels, bbox = _eval_inputs()
    batch = {"images": x, "labels": labels, "bbox": bbox}
    kwargs = {}
    for key, value in change.items():
        (batch if key in batch else kwargs)[key] = value
    dataset = kwargs.pop("dataset", [batch])
    with pytest.raises(ValueError, match=match):
        localization.evaluate_localization(model, dataset, verbose=0, **kwargs)


def test_evaluate_localization_refuses_a_change_of_image_size():
    model, x, labels, bbox = _eval_inputs()
    other = np.zeros((4, 20, 20, 3), np.float32)
    with pytest.raises(ValueError, match=r"^evaluate_localization: Expected every batch's `images` at one size"):
        localization.evaluate_localization(model, box_dataset(x, labels, bbox) + box_dataset(other, labels, bbox),
                                           verbose=0)


def test_evaluate_localization_reads_tensors():
    model, x, labels, bbox = _eval_inputs()
    expected = localization.evaluate_localization(model, box_dataset(x, labels, bbox), verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices({"images": x, "labels": labels, "bbox": bbox}).batch(3)
    got = localization.evaluate_localization(model, dataset, verbose=0)
    assert got["gt_known_loc"] == expected["gt_known_loc"] and got["top1_loc"] == expected["top1_loc"]


def test_evaluate_localization_inverted_rows_are_no_box_but_pixels_are_still_refused():
    model, x, labels, bbox = _eval_inputs()
    padded = np.stack([bbox, np.zeros_like(bbox)], axis=1)  # [B, 2, 4]: the second row is padding.
    expected = localization.evaluate_localization(model, box_dataset(x, labels, padded), verbose=0)
    padded[:, 1] = [0.7, 0.2, 0.1, 0.0]  # Inverted (as tfds mock data has): no box, like the zero row.
    got = localization.evaluate_localization(model, box_dataset(x, labels, padded), verbose=0)
    assert got["gt_known_loc"] == expected["gt_known_loc"] and got["num_images"] == expected["num_images"] == 4
    padded[:, 1] = [12, 2, 1, 0]
    with pytest.raises(ValueError, match=r"^evaluate_localization: Expected `bbox` normalised to \[0, 1\]"):
        localization.evaluate_localization(model, box_dataset(x, labels, padded), verbose=0)
