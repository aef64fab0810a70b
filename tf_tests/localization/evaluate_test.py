"""`evaluate_localization` on a hand-built model whose CAM is exactly a known rectangle.

The model: features = the input's channels (an identity 1x1 convolution), GAP, a head whose kernel is the identity and
bias zero. So the CAM of class c is image channel c (min-max normalised; the upsampling from 16x16 to 16x16 is
the identity), and the logits are the channel means. Every expected number below is worked out by hand from
the rectangles drawn in the images (the comments give the arithmetic).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.localization import evaluate, max_box_acc

SIZE = 16


def _model():
    inputs = keras.Input((SIZE, SIZE, 2))
    features = keras.layers.Conv2D(2, 1, name="features", use_bias=False,
                                   kernel_initializer=keras.initializers.Constant(np.eye(2)[None, None]))(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    head = keras.layers.Dense(2, name="head", kernel_initializer="identity", bias_initializer="zeros")
    return keras.Model(inputs, head(pooled))


def _image(rect0=None, rect1=None, value1=1.0):
    image = np.zeros((SIZE, SIZE, 2), np.float32)
    if rect0 is not None:
        image[rect0[0]:rect0[2], rect0[1]:rect0[3], 0] = 1.0
    if rect1 is not None:
        image[rect1[0]:rect1[2], rect1[1]:rect1[3], 1] = value1
    return image


def _dataset():
    # img0: label 0, class-0 blob [2,3,10,11] = gt; a weak class-1 blob -> predicts 0. Both Locs right.
    # img1: label 1, class-0 blob [0,0,12,12] (mean 144/256) beats class-1 blob [4,4,8,8] -> predicts 0
    #       (wrong class); the true-class map boxes [4,4,8,8] = gt: GT-known right.
    # img2: label 0, blob [5,5,15,15], gt [0,0,10,10]: IoU 25/175 < 0.5, both wrong.
    # img3: label 1, blob [1,1,9,13]; two gt boxes, the second matches exactly (K=3, one zero row of padding).
    # img4: no box at all (all-zero rows): skipped.
    batch1 = {
        "images": np.stack([_image([2, 3, 10, 11], [12, 12, 14, 14], 0.5),
                            _image([0, 0, 12, 12], [4, 4, 8, 8])]),
        "labels": np.array([0, 1], np.int32),
        "bbox": np.array([[2, 3, 10, 11], [4, 4, 8, 8]], np.float32) / SIZE,
    }
    batch2 = {
        "images": np.stack([_image([5, 5, 15, 15]), _image(None, [1, 1, 9, 13]), _image([1, 1, 5, 5])]),
        "labels": np.array([0, 1, 0], np.int32),
        "bbox": np.array([[[0, 0, 10, 10], [0, 0, 0, 0], [0, 0, 0, 0]],
                          [[10, 10, 16, 16], [1, 1, 9, 13], [0, 0, 0, 0]],
                          [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]], np.float32) / SIZE,
    }
    return [batch1, batch2]


GT = [np.array([[2, 3, 10, 11]]), np.array([[4, 4, 8, 8]]), np.array([[0, 0, 10, 10]]),
      np.array([[10, 10, 16, 16], [1, 1, 9, 13]])]
TRUE_CLASS_BLOBS = [[2, 3, 10, 11], [4, 4, 8, 8], [5, 5, 15, 15], [1, 1, 9, 13]]


def _wsol_iou(blob, gt):
    """wsolevaluation's IoU of a rectangle map's contour box with a gt box (both with + 1 areas).

    The contour box is (x0, y0, x0 + w, y0 + h) clipped to size - 1; our gt [y0, x0, y1, x1) is
    (x0, y0, x1 - 1, y1 - 1).
    """
    p = [blob[1], blob[0], min(blob[3], SIZE - 1), min(blob[2], SIZE - 1)]
    g = [gt[1], gt[0], gt[3] - 1, gt[2] - 1]
    iw = max(0, min(p[2], g[2]) - max(p[0], g[0]) + 1)
    ih = max(0, min(p[3], g[3]) - max(p[1], g[1]) + 1)
    area = lambda b: (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    inter = iw * ih
    return inter / (area(p) + area(g) - inter)


@pytest.mark.parametrize("cam_method", ["cam", "gradcam"])
def test_metrics_on_known_maps(cam_method):
    # Non-negative features: Grad-CAM = ReLU(CAM) / (h w), the same normalised maps.
    result = evaluate.evaluate_localization(_model(), _dataset(), cam_method=cam_method, num_examples=3)
    assert result["num_images"] == 4 and result["num_skipped"] == 1
    assert result["top1_loc"] == pytest.approx(2 / 4)      # img0, img3
    assert result["gt_known_loc"] == pytest.approx(3 / 4)  # img0, img1, img3
    assert result["top1_cls_error"] == pytest.approx(1 / 4)  # img1
    # MaxBoxAccV2: a rectangle map is 255 inside, 0 outside after quantisation, so every CAM threshold < 1
    # gives the rectangle itself: the accuracy is the fraction of images whose IoU reaches each threshold.
    ious = [max(_wsol_iou(b, g) for g in gts) for b, gts in zip(TRUE_CLASS_BLOBS, GT)]
    np.testing.assert_allclose(ious, [64 / 81, 16 / 25, 25 / 196, 96 / 117])
    v2 = result["max_box_acc_v2"]
    for t in (0.3, 0.5, 0.7):
        assert v2[str(t)] == pytest.approx(np.mean([i >= t for i in ious])), t
    assert v2["mean"] == pytest.approx((3 / 4 + 3 / 4 + 2 / 4) / 3)


def test_max_box_acc_over_batches_equals_one_call_on_all_maps():
    """The per-batch counts add up to `max_box_acc` over every map at once (blurred maps: a real sweep)."""
    rng = np.random.default_rng(0)
    batches = _dataset()
    for batch in batches:
        batch["images"] = batch["images"] + rng.uniform(0, 0.3, batch["images"].shape).astype(np.float32)
    model = _model()
    result = evaluate.evaluate_localization(model, batches, cam_method="cam")
    images = np.concatenate([b["images"] for b in batches])[:4]
    labels = np.array([0, 1, 0, 1])
    maps = np.stack([(im[..., c] - im[..., c].min()) / (im[..., c].max() - im[..., c].min())
                     for im, c in zip(images, labels)])
    expected = max_box_acc(maps, GT)
    for t in (0.3, 0.5, 0.7):
        assert result["max_box_acc_v2"][str(t)] == pytest.approx(expected["max_box_acc"][t], abs=1e-9)


def test_trivial_baselines():
    result = evaluate.evaluate_localization(_model(), _dataset())
    base = result["baselines"]

    def numpy_iou(a, b):
        inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
        area = lambda x: (x[2] - x[0]) * (x[3] - x[1])
        return inter / (area(a) + area(b) - inter)

    def gt_known(box):
        return np.mean([any(numpy_iou(box, g) > 0.5 for g in gts) for gts in GT])

    # Whole image: IoUs 64/256, 16/256, 100/256, 96/256: none above 0.5.
    assert base["whole_image"]["gt_known_loc"] == 0.0 and base["whole_image"]["top1_loc"] == 0.0
    best = base["best_centred_box"]
    # No centred box of the grid does better, on the same images.
    grid = [evaluate.centred_box(SIZE, SIZE, max(1, round(h * SIZE)), max(1, round(w * SIZE)))
            for h in evaluate.CENTRED_BOX_FRACTIONS for w in evaluate.CENTRED_BOX_FRACTIONS]
    assert best["gt_known_loc"] == pytest.approx(max(gt_known(b) for b in grid))
    assert best["gt_known_loc"] == pytest.approx(gt_known(best["box"]))
    box = best["box"]
    assert box[0] + box[2] in (SIZE - 1, SIZE, SIZE + 1) and box[1] + box[3] in (SIZE - 1, SIZE, SIZE + 1)
    pred = [0, 0, 0, 1]
    expected_top1 = np.mean([p == c and any(numpy_iou(box, g) > 0.5 for g in gts)
                             for p, c, gts in zip(pred, [0, 1, 0, 1], GT)])
    assert best["top1_loc"] == pytest.approx(expected_top1)


def test_examples_are_the_first_images():
    result = evaluate.evaluate_localization(_model(), _dataset(), num_examples=3)
    ex = result["examples"]
    assert ex["images"].shape == (3, SIZE, SIZE, 2) and ex["maps"].shape == (3, SIZE, SIZE)
    np.testing.assert_array_equal(ex["pred_classes"], [0, 0, 0])
    np.testing.assert_array_equal(ex["labels"], [0, 1, 0])
    # Predicted-class maps: channel 0 of each image, boxed.
    np.testing.assert_array_equal(ex["pred_boxes"], [[2, 3, 10, 11], [0, 0, 12, 12], [5, 5, 15, 15]])
    np.testing.assert_array_equal(ex["maps"][1], _dataset()[0]["images"][1][..., 0])
    for got, want in zip(ex["gt_boxes"], GT):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(ex["ious"], [1.0, 16 / 144, 25 / 175])


def test_pixel_boxes_round_and_clip():
    np.testing.assert_array_equal(
        evaluate.pixel_boxes([[0.1, 0.26, 0.5, 1.2]], 10, 20), [[1, 5, 5, 20]])


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="cam_method"):
        evaluate.evaluate_localization(_model(), _dataset(), cam_method="scorecam")
    with pytest.raises(ValueError, match="with_boxes"):
        evaluate.evaluate_localization(_model(), [(np.zeros((1, SIZE, SIZE, 2)), np.zeros(1))])
    no_box = {"images": np.zeros((2, SIZE, SIZE, 2), np.float32), "labels": np.zeros(2, np.int32),
              "bbox": np.zeros((2, 4), np.float32)}
    with pytest.raises(ValueError, match="at least one image with a box"):
        evaluate.evaluate_localization(_model(), [no_box])


def test_progress_bar_counts_batches_and_verbose_0_silences_it(capsys):
    """A `keras.utils.Progbar` over the batches: the target is the data set's length, cut by `max_images`."""
    evaluate.evaluate_localization(_model(), _dataset(), verbose=1)
    assert "2/2" in capsys.readouterr().out  # A list of two batches.
    first = _dataset()[0]
    batches = tf.data.Dataset.from_tensor_slices(first).batch(1)  # Cardinality 2 (batches of one image).
    evaluate.evaluate_localization(_model(), batches, max_images=1, verbose=1)
    out = capsys.readouterr().out
    assert "1/1" in out and "2/2" not in out and "batch" in out
    evaluate.evaluate_localization(_model(), batches, verbose="auto")
    assert "2/2" in capsys.readouterr().out
    result = evaluate.evaluate_localization(_model(), _dataset(), verbose=0)
    assert capsys.readouterr().out == "" and result["num_images"] == 4
    with pytest.raises(ValueError, match="verbose=3"):
        evaluate.evaluate_localization(_model(), _dataset(), verbose=3)


def _rect_mask(rect):
    mask = np.zeros((SIZE, SIZE), bool)
    mask[rect[0]:rect[2], rect[1]:rect[3]] = True
    return mask


# Object masks of the five images (the last has no box: skipped, its mask with it).
MASKS = [[2, 3, 10, 11], [3, 3, 9, 9], [0, 0, 10, 10], [1, 1, 9, 7], [0, 0, 16, 16]]


def test_masks_add_pxap_and_object_coverage_of_the_true_class_maps():
    """Rectangle maps score 1 on the true class's blob, 0 elsewhere: scikit-learn's AP over the pooled pixels
    of the four kept images is exact there, and the coverage is counted by hand."""
    from sklearn.metrics import average_precision_score  # pylint: disable=g-import-not-at-top

    batches = _dataset()
    masks = [_rect_mask(r) for r in MASKS]
    batches[0]["masks"], batches[1]["masks"] = np.stack(masks[:2]), np.stack(masks[2:]).astype(np.uint8)
    result = evaluate.evaluate_localization(_model(), batches, max_images=5)
    blobs, objects = [_rect_mask(b) for b in TRUE_CLASS_BLOBS], masks[:4]
    expected_ap = average_precision_score(np.concatenate([m.ravel() for m in objects]),
                                          np.concatenate([b.ravel() for b in blobs]).astype(float))
    assert result["pxap"] == pytest.approx(expected_ap, abs=1e-9)
    covered = np.mean([(b & m).sum() / m.sum() for b, m in zip(blobs, objects)])
    outside = np.mean([(b & ~m).sum() / b.sum() for b, m in zip(blobs, objects)])
    assert result["object_coverage"]["object_covered"] == pytest.approx(covered)
    assert result["object_coverage"]["outside_object"] == pytest.approx(outside)
    assert "pxap" not in evaluate.evaluate_localization(_model(), _dataset())  # No masks, no mask metrics.
    batches[0]["masks"] = np.stack(masks[:1])
    with pytest.raises(ValueError, match="evaluate_localization: Expected one mask per image"):
        evaluate.evaluate_localization(_model(), batches)
