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
