"""SSD's `match` and `decode_detections` on input in the other convention (issue 17): right answer or a clear
error, never a silent wrong target."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.detection import ssd_anchors, ssd_model

ANCHORS = ssd_anchors.default_boxes()


def test_match_on_an_image_without_objects_is_all_background():
    for n in (0, 2):  # no rows at all, and only padding rows
        loc, classes = ssd_anchors.match(np.zeros((n, 4), "float32"), -np.ones((n,), "int32"), ANCHORS)
        assert loc.shape == (ANCHORS.shape[0], 4) and not np.any(classes.numpy())
    batch = ssd_anchors.match(np.zeros((3, 0, 4), "float32"), np.zeros((3, 0), "int32"), ANCHORS)
    assert batch[1].shape == (3, ANCHORS.shape[0]) and not np.any(batch[1].numpy())


def test_match_still_matches_like_before_beside_an_empty_image():
    box = np.array([[0.2, 0.3, 0.6, 0.7]], "float32")
    loc, classes = ssd_anchors.match(box, np.array([4]), ANCHORS)
    positives = np.flatnonzero(classes.numpy())
    assert positives.size >= 1 and set(classes.numpy()[positives]) == {5}
    # The encoded targets decode back to the box (the variance encoding is invertible).
    decoded = ssd_anchors.decode(loc.numpy()[positives][None], ANCHORS[positives])[0]
    np.testing.assert_allclose(decoded, np.repeat(box, positives.size, 0), atol=1e-5)


@pytest.mark.parametrize("boxes,fragment", [
    ([[10, 20, 100, 120]], "these look like pixels: divide by the image size"),
    ([[0.5, 0.5, 0.5, 0.6]], "inverted or zero-size boxes"),
    ([[0.6, 0.5, 0.2, 0.9]], "inverted or zero-size boxes"),
    ([[-0.2, 0.1, 0.5, 0.5]], "negative coordinates"),
])
def test_match_refuses_boxes_in_another_convention(boxes, fragment):
    boxes, labels = np.array(boxes, "float32"), np.array([3])
    with pytest.raises(tf.errors.InvalidArgumentError, match=fragment):
        ssd_anchors.match(boxes, labels, ANCHORS)
    ds = tf.data.Dataset.from_tensors((boxes, labels)).map(lambda b, l: ssd_anchors.match(b, l, ANCHORS))
    with pytest.raises(tf.errors.InvalidArgumentError, match=fragment):
        next(iter(ds))
    # A padding row (label -1) may hold anything.
    ssd_anchors.match(boxes, np.array([-1]), ANCHORS)


def test_decode_detections_takes_logits_or_probabilities():
    rng = np.random.RandomState(0)
    logits = rng.normal(size=(2, ANCHORS.shape[0], 4)).astype("float32")
    deltas = (0.1 * rng.normal(size=(2, ANCHORS.shape[0], 4))).astype("float32")
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    from_logits = ssd_model.decode_detections({"boxes": deltas, "classes": logits}, ANCHORS)
    from_probabilities = ssd_model.decode_detections({"boxes": deltas, "classes": probabilities}, ANCHORS)
    for (b1, s1, c1), (b2, s2, c2) in zip(from_logits, from_probabilities):
        np.testing.assert_allclose(s1, s2, rtol=1e-5)
        np.testing.assert_array_equal(c1, c2)
        np.testing.assert_allclose(b1, b2, atol=1e-6)
    # The best score is the best softmax probability of an object class (not a softmax of probabilities).
    assert float(from_probabilities[0][1][0]) == pytest.approx(probabilities[0, :, 1:].max(), rel=1e-5)


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(score_threshold=1), None),
    (dict(iou_threshold=45), r"\(45 looks like a percentage: pass 0.45\)"),
    (dict(max_detections=np.int64(5)), None),
    (dict(max_detections=0), r"Expected `max_detections` to be an int >= 1"),
])
def test_decode_detections_arguments(kwargs, fragment):
    outputs = {"boxes": np.zeros((1, ANCHORS.shape[0], 4), "float32"),
               "classes": np.zeros((1, ANCHORS.shape[0], 3), "float32")}
    if fragment is None:
        assert len(ssd_model.decode_detections(outputs, ANCHORS, **kwargs)) == 1
    else:
        with pytest.raises(ValueError, match=fragment):
            ssd_model.decode_detections(outputs, ANCHORS, **kwargs)
    with pytest.raises(ValueError, match=r"anchors \[A, 4\] with the same A"):
        ssd_model.decode_detections(outputs, ANCHORS[:10])


# voc_map and average_precision (voc_eval).

from keras_cutmix.detection import ssd_augment, ssd_loss, voc_eval  # noqa: E402

GT = np.array([[10.0, 10.0, 50.0, 50.0]])


def _voc(det_boxes=((12.0, 11.0, 49.0, 52.0),), scores=(0.9,), classes=(0,), gt_boxes=GT, gt_classes=(0,),
         difficult=(False,), **kwargs):
    det = (np.asarray(det_boxes), np.asarray(scores), np.asarray(classes))
    gt = (np.asarray(gt_boxes), np.asarray(gt_classes), np.asarray(difficult))
    return voc_eval.voc_map([det], [gt], kwargs.pop("num_classes", 2), **kwargs)


def test_voc_map_refuses_normalised_boxes():
    # Fractions of the image under the devkit's +1 pixels are all ~1-pixel boxes that overlap: a detection
    # nowhere near the object used to score AP 1.
    with pytest.raises(ValueError, match=r"voc_map: Expected `detections boxes` in pixels; these look normalised"):
        _voc(det_boxes=[[0.6, 0.6, 0.9, 0.9]], gt_boxes=GT / 100)


def test_voc_map_refuses_inverted_boxes_and_keeps_sub_pixel_ones():
    with pytest.raises(ValueError, match=r"voc_map: Expected `ground_truths\[0\] boxes` .* high >= low - 1"):
        _voc(gt_boxes=GT[:, [2, 3, 0, 1]])  # Used to score 0 (negative areas).
    # xmax = xmin - 0.5 is a half-pixel box in the devkit's inclusive corners (a detector's tiny box).
    assert _voc(det_boxes=[[12.0, 11.0, 49.0, 52.0], [30.0, 30.0, 29.5, 30.0]], scores=[0.9, 0.8],
                classes=[0, 0])["map"] == 1.0


def test_voc_map_classes_as_a_column_or_whole_floats():
    two = dict(det_boxes=[[12.0, 11.0, 49.0, 52.0], [60, 60, 90, 90]], scores=[0.9, 0.8],
               gt_boxes=[[10.0, 10.0, 50.0, 50.0], [61, 61, 90, 90]], difficult=[False, False])
    expected = _voc(classes=[0, 1], gt_classes=[0, 1], **two)["ap"]
    assert expected == [1.0, 1.0]
    assert _voc(classes=[[0], [1]], gt_classes=[[0], [1]], **two)["ap"] == expected  # Used to raise NumPy's.
    assert _voc(classes=[0.0, 1.0], gt_classes=np.array([0.0, 1.0]), **two)["ap"] == expected
    with pytest.raises(ValueError, match=r"`detections\[0\] classes` to hold whole-number class ids"):
        _voc(classes=[0.7])  # Used to be truncated to class 0.


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_classes=2.5), r"`num_classes` to be an int >= 1"),  # Used to be truncated to 2.
    (dict(num_classes=0), r"`num_classes` to be an int >= 1"),
    (dict(iou_threshold=50), r"50 looks like a percentage: pass 0.5"),  # Used to give mAP 0.
    (dict(use_07_metric="False"), r"`use_07_metric` to be True or False"),  # Used to be truthy.
    (dict(scores=[np.nan]), r"Expected finite `detections\[0\] scores`"),
    (dict(difficult=[2]), r"`ground_truths\[0\] difficult` as flags"),
    (dict(det_boxes=[["a", "b", "c", "d"]]), r"numeric `detections\[0\] boxes`"),
])
def test_voc_map_argument_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match="^voc_map: .*" + match):
        _voc(**kwargs)


def test_voc_map_numpy_numbers_column_scores_and_empty_images():
    assert _voc(num_classes=np.int64(2), iou_threshold=np.float32(0.5), use_07_metric=np.bool_(True),
                scores=[[0.9]])["map"] == 1.0
    # Logits as scores: only their order counts.
    assert _voc(scores=[-3.2])["map"] == 1.0
    empty = ([], [], [])
    det = (np.array([[12.0, 11.0, 49.0, 52.0]]), np.array([0.9]), np.array([0]))
    result = voc_eval.voc_map([det, empty], [(GT, np.array([0]), np.array([False])), empty], 2)
    assert result["map"] == 1.0 and np.isnan(result["ap"][1])


def test_voc_map_refuses_one_image_not_in_a_list():
    det = (np.array([[12.0, 11.0, 49.0, 52.0]]), np.array([0.9]), np.array([0]))
    with pytest.raises(ValueError, match=r"`detections\[0\]` to be a tuple \('boxes', 'scores', 'classes'\)"):
        voc_eval.voc_map(det, (GT, np.array([0]), np.array([False])), 2)
    with pytest.raises(ValueError, match=r"`detections` as a list"):
        voc_eval.voc_map(None, [], 2)  # Used to be a TypeError from len().


def test_average_precision_refuses_percentages_and_other_lengths():
    with pytest.raises(ValueError, match=r"average_precision: Expected `recall` as fractions in \[0, 1\]"):
        voc_eval.average_precision([10, 20], [50, 60])  # Used to return 60.
    with pytest.raises(ValueError, match=r"same length"):
        voc_eval.average_precision([0.1, 0.2], [0.5])


# multibox_loss and hard_negatives (ssd_loss).

def _loss_inputs(num_boxes=10, num_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    loc = rng.normal(size=(2, num_boxes, 4)).astype("float32")
    pred_loc = rng.normal(size=(2, num_boxes, 4)).astype("float32")
    classes = np.zeros((2, num_boxes), "int32")
    classes[0, 1], classes[1, 3] = 2, 1
    logits = rng.normal(size=(2, num_boxes, num_classes + 1)).astype("float32")
    return loc, classes, pred_loc, logits


def test_multibox_loss_takes_probabilities_with_from_logits_false():
    loc, classes, pred_loc, logits = _loss_inputs()
    probabilities = tf.nn.softmax(logits).numpy()
    expected = ssd_loss.multibox_loss(loc, classes, pred_loc, logits)
    got = ssd_loss.multibox_loss(loc, classes, pred_loc, probabilities, from_logits=False)
    np.testing.assert_allclose([float(t) for t in got], [float(t) for t in expected], rtol=1e-5)
    with pytest.raises(ValueError, match="these are probabilities .*: pass from_logits=False"):
        ssd_loss.multibox_loss(loc, classes, pred_loc, probabilities)  # Used to be a silent wrong loss.
    np.testing.assert_array_equal(ssd_loss.hard_negatives(classes, probabilities, from_logits=False),
                                  ssd_loss.hard_negatives(classes, logits))
    from_logits = np.max(probabilities) > 1  # A NumPy bool, as a comparison gives (was refused here alone).
    got = ssd_loss.multibox_loss(loc, classes, pred_loc, probabilities, from_logits=from_logits)
    np.testing.assert_allclose([float(t) for t in got], [float(t) for t in expected], rtol=1e-5)
    with pytest.raises(ValueError, match=r"^multibox_loss: Expected `from_logits` to be True or False\. Received: "
                                         r"from_logits=1$"):
        ssd_loss.multibox_loss(loc, classes, pred_loc, logits, from_logits=1)


def test_multibox_loss_class_ids_out_of_range_fractional_or_one_hot():
    loc, classes, pred_loc, logits = _loss_inputs()
    for bad, match in ((np.where(classes > 0, 7, 0), r"multibox_loss: Expected class ids in `y_true_cls` in \[0, C\]"),
                       (np.where(classes > 0, -1, 0), r"multibox_loss: Expected class ids in `y_true_cls` in \[0, C\]"),
                       (np.where(classes > 0, 1.5, 0.0), "whole-number class ids")):  # 1.5 used to count as 1.
        with pytest.raises(tf.errors.InvalidArgumentError, match=match):
            ssd_loss.multibox_loss(loc, bad, pred_loc, logits)
    with pytest.raises(ValueError, match=r"one-hot rows: pass their argmax"):
        ssd_loss.multibox_loss(loc, tf.one_hot(classes, 5).numpy(), pred_loc, logits)
    # A column of ids is ids.
    np.testing.assert_allclose(ssd_loss.multibox_loss(loc, classes[..., None], pred_loc, logits),
                               ssd_loss.multibox_loss(loc, classes, pred_loc, logits))


def test_multibox_loss_shapes_and_ratio():
    loc, classes, pred_loc, logits = _loss_inputs()
    with pytest.raises(ValueError, match=r"multibox_loss: Expected class ids \[B, A\], .* Received: .*"
                                         r"y_true_loc.shape=\(2, 5, 4\)"):
        ssd_loss.multibox_loss(loc[:, :5], classes, pred_loc, logits)
    with pytest.raises(ValueError, match=r"`negpos_ratio` to be a finite number >= 0"):
        ssd_loss.multibox_loss(loc, classes, pred_loc, logits, negpos_ratio=-1)  # Used to mine no negative.
    # NumPy and float ratios: the budget is floor(ratio * positives) (2.5 * 1 -> 2 per image).
    assert int(tf.reduce_sum(tf.cast(ssd_loss.hard_negatives(classes, logits, np.int64(3)), tf.int32))) == 6
    assert int(tf.reduce_sum(tf.cast(ssd_loss.hard_negatives(classes, logits, 2.5), tf.int32))) == 4


def test_multibox_loss_checks_inside_a_traced_function():
    loc, classes, pred_loc, logits = _loss_inputs()
    loss = tf.function(lambda c: ssd_loss.multibox_loss(loc, c, pred_loc, logits))
    np.testing.assert_allclose(loss(classes), ssd_loss.multibox_loss(loc, classes, pred_loc, logits))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"in \[0, C\]"):
        loss(np.where(classes > 0, 9, 0).astype("int32"))


# default boxes, encode / decode, match (ssd_anchors).

def test_ssd_config_and_default_boxes_arguments():
    assert ssd_anchors.default_boxes(ssd_anchors.ssd_config(np.int64(128))).shape == \
        ssd_anchors.default_boxes(ssd_anchors.ssd_config(128)).shape
    for size in (0, 128.5):  # 0 used to divide by zero, 128.5 to build boxes for a fractional image.
        with pytest.raises(ValueError, match=r"ssd_config: Expected `image_size` to be an int >= 1"):
            ssd_anchors.ssd_config(size)
    with pytest.raises(ValueError, match=r"default_boxes: Expected `config` as a dict with the keys of VOC_300"):
        ssd_anchors.default_boxes({"min_dim": 300})  # Used to be a KeyError.
    short = dict(ssd_anchors.VOC_300, steps=(8, 16))
    with pytest.raises(ValueError, match=r"one entry per feature map"):
        ssd_anchors.default_boxes(short)  # Used to be an IndexError.


def test_encode_and_decode_refuse_pixels_and_shapes():
    boxes = np.tile(np.array([[0.2, 0.3, 0.6, 0.7]], "float32"), (ANCHORS.shape[0], 1))
    np.testing.assert_allclose(ssd_anchors.decode(ssd_anchors.encode(boxes, ANCHORS), ANCHORS), boxes, atol=1e-5)
    with pytest.raises(ValueError, match=r"encode: Expected `boxes` normalised to \[0, 1\] .* divide by the image"):
        ssd_anchors.encode(boxes * 300, ANCHORS)  # Used to give deltas in the thousands.
    for function, name in ((ssd_anchors.encode, "boxes"), (ssd_anchors.decode, "deltas")):
        with pytest.raises(ValueError, match=rf"Expected `{name}` \[..., A, 4\] and `anchors` \[A, 4\] with the same A"):
            function(boxes[:5], ANCHORS)  # Used to be a raw broadcasting error.
        with pytest.raises(ValueError, match=r"`variances` > 0"):
            function(boxes, ANCHORS, variances=(0.0, 0.2))  # Used to give NaN.


def test_match_iou_threshold_and_label_column():
    box = np.array([[0.2, 0.3, 0.6, 0.7]], "float32")
    with pytest.raises(ValueError, match=r"match: .*50 looks like a percentage: pass 0.5"):
        ssd_anchors.match(box, np.array([1]), ANCHORS, iou_threshold=50)  # Used to be all background.
    np.testing.assert_array_equal(ssd_anchors.match(box, np.array([[1]]), ANCHORS)[1],
                                  ssd_anchors.match(box, np.array([1]), ANCHORS)[1])


# ssd300 (ssd_model) and ssd_augmentation (ssd_augment).

@pytest.mark.parametrize("kwargs,match", [
    (dict(image_size=0), r"`image_size` to be an int >= 1"),
    (dict(normalize="no"), r"`normalize` to be True or False"),
    (dict(config={"min_dim": 300}), r"`config` as a dict with the keys of VOC_300"),
    (dict(backbone=object()), r"`backbone` as a keras.Model with `pyramid_outputs` P3, P4 and P5"),
])
def test_ssd300_argument_errors_come_before_any_building(kwargs, match):
    with pytest.raises(ValueError, match="^ssd300: Expected " + match):
        ssd_model.ssd300(2, **kwargs)


def test_ssd300_takes_numpy_integers():
    from keras_cutmix import models
    from keras_cutmix.detection import backbones
    encoder = backbones.pyramid_encoder(models.get_model("resnet_tiny", num_classes=3, input_shape=(64, 64, 3)))
    model = ssd_model.ssd300(np.int64(2), backbone=encoder, image_size=np.int64(64), normalize=False)
    assert model.output["classes"].shape[-1] == 3  # Used to refuse np.int64(2) as not a positive int.


def test_ssd_augmentation_refuses_pixel_boxes_scaled_images_and_shapes():
    image = np.random.default_rng(0).uniform(0, 255, (50, 60, 3)).astype("float32")
    box, label = np.array([[0.2, 0.3, 0.6, 0.7]], "float32"), np.array([1])
    out = ssd_augment.ssd_augmentation(image, box, label, seed=0, size=np.int64(32))
    assert out[0].shape == (32, 32, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"these look like pixels: divide by the image size"):
        ssd_augment.ssd_augmentation(image, box * 50, label, seed=0, size=32)  # Used to be clipped to a point.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"these look scaled to \[0, 1\]: multiply by 255"):
        ssd_augment.ssd_augmentation(image / 255, box, label, seed=0, size=32)  # Used to mix with mean pixels.
    ds = tf.data.Dataset.from_tensors((image / 255, box, label)).map(
        lambda i, b, l: ssd_augment.ssd_augmentation(i, b, l, seed=0, size=32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"scaled to \[0, 1\]"):
        next(iter(ds))
    for kwargs, match in ((dict(size=0), r"`size` to be an int >= 1"),
                          (dict(photometric="no"), r"`photometric` to be True or False"),
                          (dict(boxes=np.tile(box, (2, 1))), r"`image` \[H, W, 3\] .* and `labels` \[N\]")):
        args = dict(image=image, boxes=box, labels=label, seed=0, size=32)
        args.update(kwargs)
        with pytest.raises(ValueError, match="^ssd_augmentation: Expected " + match):
            ssd_augment.ssd_augmentation(**args)


def test_voc_map_counts_a_diverged_detection_as_a_false_positive():
    # Boxes that overflowed (an untrained detector's decoded deltas) overlap nothing, as in the devkit:
    # ranked first, they halve the precision at full recall (all-point AP 1/3 with two of them).
    det = (np.array([[np.inf, 0, np.inf, 5], [12, 11, 49, 52.0], [np.nan] * 4]), np.array([0.95, 0.9, 0.99]),
           np.array([0, 0, 0]))
    result = voc_eval.voc_map([det], [(GT, np.array([0]), np.array([False]))], 1, use_07_metric=False)
    assert result["map"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"Expected finite `ground_truths\[0\] boxes`"):
        voc_eval.voc_map([det], [(np.array([[np.nan, 0, 1, 1]]), np.array([0]), np.array([False]))], 1)
