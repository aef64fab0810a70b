"""PxAP against a port of clovaai/wsolevaluation's MaskEvaluator, scikit-learn, and hand-computed cases.

The port below is `MaskEvaluator` (`evaluation.py`) and `normalize_scoremap` (`inference.py`) of
https://github.com/clovaai/wsolevaluation, Copyright (c) 2020-present NAVER Corp., MIT licence (the full
notice is in that repository's LICENSE): "Permission is hereby granted, free of charge, to any person
obtaining a copy of this software ... THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND."
Changes, none touching the arithmetic: masks are passed to `accumulate` instead of read from files,
`np.float` (gone from NumPy) is `np.float64`, `compute` returns AP without printing it, and it stays in percent
as there (the tests divide by 100).
"""

import cv2
import keras
import localization_reference as reference
import numpy as np
import pytest
import sklearn.metrics
import tensorflow as tf

from keras_cutmix.localization import PxAPAccumulator, cam, pxap


def normalize_scoremap(cam_map):
    if np.isnan(cam_map).any():
        return np.zeros_like(cam_map)
    if cam_map.min() == cam_map.max():
        return np.zeros_like(cam_map)
    cam_map -= cam_map.min()
    cam_map /= cam_map.max()
    return cam_map


class MaskEvaluator:
    def __init__(self, cam_threshold_list):
        self.cam_threshold_list = cam_threshold_list
        self.num_bins = len(self.cam_threshold_list) + 2
        self.threshold_list_right_edge = np.append(self.cam_threshold_list, [1.0, 2.0, 3.0])
        self.gt_true_score_hist = np.zeros(self.num_bins, dtype=np.float64)
        self.gt_false_score_hist = np.zeros(self.num_bins, dtype=np.float64)

    def accumulate(self, scoremap, gt_mask):
        gt_true_scores = scoremap[gt_mask == 1]
        gt_false_scores = scoremap[gt_mask == 0]
        gt_true_hist, _ = np.histogram(gt_true_scores, bins=self.threshold_list_right_edge)
        self.gt_true_score_hist += gt_true_hist.astype(np.float64)
        gt_false_hist, _ = np.histogram(gt_false_scores, bins=self.threshold_list_right_edge)
        self.gt_false_score_hist += gt_false_hist.astype(np.float64)

    def compute(self):
        num_gt_true = self.gt_true_score_hist.sum()
        tp = self.gt_true_score_hist[::-1].cumsum()
        fn = num_gt_true - tp
        num_gt_false = self.gt_false_score_hist.sum()
        fp = self.gt_false_score_hist[::-1].cumsum()
        tn = num_gt_false - fp  # noqa: F841 (kept as in the original)
        if ((tp + fn) <= 0).all():
            raise RuntimeError("No positive ground truth in the eval set.")
        if ((tp + fp) <= 0).all():
            raise RuntimeError("No positive prediction in the eval set.")
        non_zero_indices = (tp + fp) != 0
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        auc = (precision[1:] * np.diff(recall))[non_zero_indices[1:]].sum()
        auc *= 100
        return auc


def port_pxap(maps, wsol_masks, interval=0.001):
    """wsolevaluation's PxAP (a fraction) of raw maps (normalised as `inference.py` does), masks 0 / 1 / 255."""
    evaluator = MaskEvaluator(list(np.arange(0, 1, interval)))
    for score_map, mask in zip(maps, wsol_masks):
        evaluator.accumulate(normalize_scoremap(np.array(score_map, np.float64)), mask)
    return evaluator.compute() / 100


def blob_masks(rng, count, height, width):
    """Object-like masks: thresholded smooth maps, each with at least one object pixel."""
    masks = reference.blob_maps(rng, count, height, width) > rng.uniform(0.3, 0.7, (count, 1, 1))
    masks[:, height // 2, width // 2] = True
    return masks


def noisy_maps(rng, masks):
    """Maps that partly agree with the masks, in an arbitrary range (PxAP normalises them)."""
    count, height, width = masks.shape
    agree = reference.blob_maps(rng, count, height, width) + 0.8 * masks + 0.3 * rng.random(masks.shape)
    return (agree * rng.uniform(0.5, 3.0, (count, 1, 1)) - rng.uniform(-1, 1, (count, 1, 1))).astype(np.float32)


def ignore_regions(rng, masks):
    """wsolevaluation's ignore: random boxes minus the foreground."""
    ignore = np.zeros_like(masks)
    for i, (y0, x0) in enumerate(rng.integers(0, 8, (len(masks), 2))):
        ignore[i, y0:y0 + 6, x0:x0 + 9] = True
    return ignore & ~masks


@pytest.mark.parametrize("seed,height,width,interval", [(0, 24, 24, 0.001), (1, 19, 33, 0.001), (2, 40, 13, 0.01)])
def test_equals_wsolevaluation_mask_evaluator(seed, height, width, interval):
    rng = np.random.default_rng(seed)
    masks = blob_masks(rng, 12, height, width)
    maps = noisy_maps(rng, masks)
    maps[3] = 0.25  # A constant map: zeros after normalisation.
    ignore = ignore_regions(rng, masks)
    wsol_masks = masks.astype(np.uint8) + 255 * ignore.astype(np.uint8)
    assert ignore.any()
    expected = port_pxap(maps, wsol_masks, interval)
    assert pxap(maps, masks, ignore=ignore, cam_curve_interval=interval) == pytest.approx(expected, abs=1e-6)
    assert pxap(maps, masks, cam_curve_interval=interval) == pytest.approx(
        port_pxap(maps, masks.astype(np.uint8), interval), abs=1e-6)


def test_float64_maps_keep_their_precision_at_the_bin_edges():
    """Scores exactly on the float64 thresholds: a float32 copy would put some of them one bin lower."""
    rng = np.random.default_rng(10)
    edges = np.append(np.arange(0, 1, 0.001), 1.0)
    maps = rng.choice(edges, (6, 16, 16))
    maps[:, 0, 0], maps[:, 0, 1] = 0.0, 1.0
    masks = rng.random((6, 16, 16)) < maps
    assert np.any(maps.astype(np.float32).astype(np.float64) < maps)
    assert pxap(maps, masks) == pytest.approx(port_pxap(maps, masks.astype(np.uint8)), abs=1e-6)


def _normalised(maps):
    maps = maps.astype(np.float64)
    low, high = maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)
    return np.where(high > low, (maps - low) / np.where(high > low, high - low, 1), 0.0)


def test_equals_sklearn_average_precision_of_the_binned_pixels():
    """With each pixel's score replaced by its bin (pixels in one bin tied), AP is scikit-learn's exactly."""
    rng = np.random.default_rng(3)
    masks = blob_masks(rng, 10, 21, 30)
    maps = noisy_maps(rng, masks)
    edges = np.append(np.arange(0, 1, 0.001), [1.0, 2.0, 3.0])
    bins = np.searchsorted(edges, _normalised(maps).ravel(), side="right")  # Bin [e_k, e_k+1) -> k + 1.
    expected = sklearn.metrics.average_precision_score(masks.ravel(), bins)
    assert pxap(maps, masks) == pytest.approx(expected, abs=1e-12)


def _binning_bound(scores, labels, edges):
    """How far AP of raw scores can be from AP of binned scores (derived in the test below).

    From the top bin down, with TP0 / FP0 the pixels in the bins above and tp / fp the bin's own: every
    precision the raw ranking passes inside the bin lies in [TP0 / (TP0 + FP0 + fp), (TP0 + tp) /
    (TP0 + FP0 + tp)], and the binned AP weighs the bin's recall step tp / P by one value in that range too.
    """
    bins = np.searchsorted(edges, scores, side="right")
    pos = np.bincount(bins, weights=labels, minlength=len(edges) + 1)[::-1]
    neg = np.bincount(bins, weights=1 - labels, minlength=len(edges) + 1)[::-1]
    tp_before, fp_before = np.cumsum(pos) - pos, np.cumsum(neg) - neg
    high = (tp_before + pos) / np.maximum(tp_before + fp_before + pos, 1)
    low = tp_before / np.maximum(tp_before + fp_before + neg, 1)
    return float(np.sum(pos / labels.sum() * (high - low)))


@pytest.mark.parametrize("seed", [4, 5])
def test_agrees_with_sklearn_average_precision_of_the_raw_pixels_within_the_binning_bound(seed):
    """The 0.001 bins tie pixels whose scores differ by less than a bin: AP moves by at most the bound above.

    Every recall step tp / P of a bin is weighed by a precision in the bin's range [low, high], in the raw
    ranking (one step per positive pixel) as in the binned one (one step for the bin); so the two APs differ by
    at most sum over bins of (tp / P) * (high - low). On these maps the bound is a few 1e-3: tight enough that
    a wrong threshold list, an off-by-one bin or a missing pixel class would break it.
    """
    rng = np.random.default_rng(seed)
    masks = blob_masks(rng, 10, 32, 27)
    maps = noisy_maps(rng, masks)
    scores, labels = _normalised(maps).ravel(), masks.ravel().astype(np.float64)
    bound = _binning_bound(scores, labels, np.append(np.arange(0, 1, 0.001), [1.0, 2.0, 3.0]))
    assert 0 < bound < 0.01
    expected = sklearn.metrics.average_precision_score(labels, scores)
    assert abs(pxap(maps, masks) - expected) <= bound + 1e-12
    coarse = np.append(np.arange(0, 1, 0.05), [1.0, 2.0, 3.0])  # Wider bins, a wider bound, still held.
    assert abs(pxap(maps, masks, cam_curve_interval=0.05) - expected) <= _binning_bound(scores, labels, coarse)


def test_hand_computed_cases():
    perfect = np.zeros((2, 5, 6), bool)
    perfect[0, 1:3, 2:5] = perfect[1, 4, 0] = True
    assert pxap(perfect.astype(np.float32), perfect) == 1.0
    graded = np.where(perfect, 0.7 + 0.01 * np.arange(6), 0.5 * np.linspace(0, 1, 6)).astype(np.float32)
    assert pxap(graded, perfect) == 1.0  # Every object pixel scores above every background pixel.
    assert pxap(np.full((2, 5, 6), 0.3), perfect) == pytest.approx(perfect.mean(), abs=1e-15)  # Constant.
    # Ranked object, background, object, background: AP = 1 * 1/2 + 2/3 * 1/2.
    assert pxap([[0.9, 0.6], [0.3, 0.0]], [[1, 0], [1, 0]]) == pytest.approx(5 / 6, abs=1e-15)
    # The worst ranking: both background pixels first, then the object's: precision 1/3 and 2/4 at the hits.
    assert pxap([[0.9, 0.6], [0.3, 0.0]], [[0, 0], [1, 1]]) == pytest.approx(1 / 2 * 1 / 3 + 1 / 2 * 2 / 4)
    # Ties: the object pixel (0.5004) and a background one (0.5) share the bin [0.5, 0.501): counted together,
    # precision 1/3 at recall 1 (ranked apart, as scikit-learn's raw scores would, it would be 1/2).
    assert pxap([[1.0, 0.5004], [0.5, 0.0]], [[0, 1], [0, 0]]) == pytest.approx(1 / 3, abs=1e-15)


def test_streaming_equals_one_call():
    rng = np.random.default_rng(6)
    masks = blob_masks(rng, 11, 20, 17)
    maps = noisy_maps(rng, masks)
    ignore = ignore_regions(rng, masks)
    accumulator = PxAPAccumulator()
    for start, stop in ((0, 1), (1, 4), (4, 4), (4, 11)):
        accumulator.update(tf.constant(maps[start:stop]), masks[start:stop], ignore[start:stop])
    assert accumulator.num_images == 11
    assert accumulator.result() == pxap(maps, masks, ignore=ignore)
    assert accumulator.foreground_hist.sum() == masks.sum()
    assert accumulator.background_hist.sum() == (~masks & ~ignore).sum()


def test_maps_of_another_size_are_resized_like_wsolevaluation():
    """Maps [N, 9, 7] against masks [N, 36, 28]: cv2 bicubic to the mask size, then normalised (inference.py).

    Our resize runs in float32 like OpenCV's, with another summation order: a handful of pixels may fall in
    the neighbouring 0.001 bin, which moves AP by a few pixels' weight (1e-4 here).
    """
    rng = np.random.default_rng(7)
    masks = blob_masks(rng, 6, 36, 28)
    small = reference.blob_maps(rng, 6, 9, 7) * 2 - 0.5
    resized = np.stack([cv2.resize(m, (28, 36), interpolation=cv2.INTER_CUBIC) for m in small])
    expected = port_pxap(resized, masks.astype(np.uint8))
    assert pxap(small, masks) == pytest.approx(expected, abs=1e-4)
    assert pxap(small, masks) != pytest.approx(port_pxap(np.repeat(np.repeat(small, 4, 1), 4, 2), masks), abs=1e-4)


def test_mask_conventions_agree():
    """synthetic_birds' and CUB's uint8 0 / 255 masks [N, H, W, 1], 0 / 1 and bool masks: one answer."""
    rng = np.random.default_rng(8)
    masks = blob_masks(rng, 4, 16, 12)
    maps = noisy_maps(rng, masks)
    expected = pxap(maps, masks)
    assert pxap(maps, (masks * 255).astype(np.uint8)[..., None]) == expected
    assert pxap(tf.constant(maps), tf.constant((masks * 255).astype(np.uint8)[..., None])) == expected
    assert pxap(maps, masks.astype(np.float32)) == expected
    assert pxap(maps[0], masks[0].astype(np.int64)) == pxap(maps[:1], masks[:1])


def test_cam_maps_of_a_model_equal_wsolevaluations_pipeline():
    """The user's path: `cam` maps of a model's true classes against masks, as wsolevaluation scores them."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((20, 24, 3))
    features = keras.layers.Conv2D(4, 3, strides=4, padding="same", name="features")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(keras.layers.GlobalAveragePooling2D()(features)))
    rng = np.random.default_rng(9)
    images = rng.random((5, 20, 24, 3)).astype(np.float32)
    labels = rng.integers(0, 3, 5)
    masks = blob_masks(rng, 5, 20, 24)
    probe = keras.Model(model.input, model.get_layer("features").output)
    raw = np.einsum("bhwk,kb->bhw", np.asarray(probe(images)), np.asarray(model.get_layer("head").kernel)[:, labels])
    theirs = [cv2.resize(r.astype(np.float32), (24, 20), interpolation=cv2.INTER_CUBIC) for r in raw]
    assert pxap(cam(model, images, class_ids=labels), masks) == pytest.approx(port_pxap(theirs, masks), abs=1e-4)


@pytest.mark.parametrize("maps,masks,kwargs,message", [
    (np.full((2, 4, 4), np.nan), np.ones((2, 4, 4)), {}, "finite `maps`"),
    (np.zeros((2, 4, 4)), np.ones((3, 4, 4)), {}, "one map in `maps` per mask"),
    (np.zeros((2, 4, 4, 3)), np.ones((2, 4, 4)), {}, "maps"),
    (np.zeros((2, 4, 4)), np.full((2, 4, 4), 2), {}, "binary `masks`"),
    (np.zeros((2, 4, 4)), np.ones((2, 4, 4, 2)), {}, "masks [N, H, W]"),
    (np.zeros((2, 4, 4)), np.zeros((2, 4, 4)), {}, "at least one foreground pixel"),
    (np.zeros((2, 4, 4)), np.eye(4)[None].repeat(2, 0), {"ignore": np.ones((2, 4, 4))}, "`ignore` outside"),
    (np.zeros((2, 4, 4)), np.eye(4)[None].repeat(2, 0), {"ignore": np.zeros((2, 4, 5))}, "`ignore` of the masks'"),
    (np.zeros((2, 4, 4)), np.eye(4)[None].repeat(2, 0), {"cam_curve_interval": 0}, "cam_curve_interval"),
    (np.zeros((2, 4, 4)), np.eye(4)[None].repeat(2, 0), {"cam_curve_interval": 5}, "looks like a percentage"),
])
def test_bad_input_names_the_argument(maps, masks, kwargs, message):
    with pytest.raises(ValueError, match="pxap") as error:
        pxap(maps, masks, **kwargs)
    assert message in str(error.value)


def test_wsolevaluation_masks_with_ignore_values_get_a_hint():
    mask = np.array([[[0, 1], [255, 0]]], np.uint8)
    with pytest.raises(ValueError, match=r"pxap: .*255 marks pixels to ignore: pass masks=\(masks == 1\)"):
        pxap(np.zeros((1, 2, 2)), mask)
    assert pxap([[[0.0, 1.0], [0.2, 0.1]]], mask == 1, ignore=mask == 255) == 1.0
    with pytest.raises(ValueError, match="PxAPAccumulator: Expected `cam_curve_interval`"):
        PxAPAccumulator(cam_curve_interval=-0.1)
