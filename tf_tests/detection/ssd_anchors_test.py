"""Default boxes, matching and encoding against NumPy ports of ssd.pytorch's PriorBox and box_utils."""

import itertools
import math

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix.detection import ssd_anchors

VOC = ssd_anchors.VOC_300


def prior_box_forward(cfg):
    """ssd.pytorch's `PriorBox.forward` (layers/functions/prior_box.py), line for line."""
    mean = []
    for k, f in enumerate(cfg["feature_maps"]):
        for i, j in itertools.product(range(f), repeat=2):
            f_k = cfg["min_dim"] / cfg["steps"][k]
            cx = (j + 0.5) / f_k
            cy = (i + 0.5) / f_k
            s_k = cfg["min_sizes"][k] / cfg["min_dim"]
            mean += [cx, cy, s_k, s_k]
            s_k_prime = math.sqrt(s_k * (cfg["max_sizes"][k] / cfg["min_dim"]))
            mean += [cx, cy, s_k_prime, s_k_prime]
            for ar in cfg["aspect_ratios"][k]:
                mean += [cx, cy, s_k * math.sqrt(ar), s_k / math.sqrt(ar)]
                mean += [cx, cy, s_k / math.sqrt(ar), s_k * math.sqrt(ar)]
    return np.clip(np.asarray(mean, np.float32).reshape(-1, 4), 0, 1)


def point_form(boxes):
    return np.concatenate([boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], 1)


def jaccard(a, b):
    max_xy = np.minimum(a[:, None, 2:], b[None, :, 2:])
    min_xy = np.maximum(a[:, None, :2], b[None, :, :2])
    inter = np.prod(np.clip(max_xy - min_xy, 0, None), axis=-1)
    area_a = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))[:, None]
    area_b = ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[None, :]
    return inter / (area_a + area_b - inter)


def np_encode(matched, priors, variances):
    g_cxcy = (matched[:, :2] + matched[:, 2:]) / 2 - priors[:, :2]
    g_cxcy /= variances[0] * priors[:, 2:]
    g_wh = np.log((matched[:, 2:] - matched[:, :2]) / priors[:, 2:]) / variances[1]
    return np.concatenate([g_cxcy, g_wh], 1)


def np_match(threshold, truths, priors, variances, labels):
    """ssd.pytorch's `match` (layers/box_utils.py) with xyxy truths; returns (loc, conf)."""
    overlaps = jaccard(truths, point_form(priors))
    best_prior_idx = overlaps.argmax(1)
    best_truth_overlap = overlaps.max(0)
    best_truth_idx = overlaps.argmax(0)
    best_truth_overlap[best_prior_idx] = 2
    for j in range(best_prior_idx.shape[0]):
        best_truth_idx[best_prior_idx[j]] = j
    matches = truths[best_truth_idx]
    conf = labels[best_truth_idx] + 1
    conf[best_truth_overlap < threshold] = 0
    return np_encode(matches, priors, variances), conf


def random_boxes(rng, n):
    """n random normalised xyxy boxes of sides 0.05-0.6."""
    size = rng.uniform(0.05, 0.6, (n, 2))
    corner = rng.uniform(0, 1, (n, 2)) * (1 - size)
    return np.concatenate([corner, corner + size], 1).astype(np.float32)


def to_yxyx(xyxy):
    return xyxy[..., [1, 0, 3, 2]]


def test_default_box_count_is_8732_and_per_location_counts():
    boxes = ssd_anchors.default_boxes()
    assert boxes.shape == (8732, 4) and boxes.dtype == np.float32
    assert ssd_anchors.boxes_per_location() == (4, 6, 6, 6, 4, 4)
    assert sum(f * f * k for f, k in zip(VOC["feature_maps"], (4, 6, 6, 6, 4, 4))) == 8732


def test_default_boxes_equal_prior_box_port():
    np.testing.assert_array_equal(ssd_anchors.default_boxes(), prior_box_forward(VOC))


def test_first_default_boxes_by_hand_and_keras_conversion():
    boxes = ssd_anchors.default_boxes()
    c = 0.5 / 37.5
    s, s_prime = 0.1, math.sqrt(0.1 * 0.2)
    np.testing.assert_allclose(boxes[:4], [[c, c, s, s], [c, c, s_prime, s_prime],
                                           [c, c, s * math.sqrt(2), s / math.sqrt(2)],
                                           [c, c, s / math.sqrt(2), s * math.sqrt(2)]], rtol=1e-6)
    # The 1x1 map's boxes centre on the image; the wide box (0.88 * sqrt 2 = 1.24) is clipped to width 1.
    s_last = 264 / 300
    s_prime_last = math.sqrt(s_last * 315 / 300)
    np.testing.assert_allclose(boxes[-3], [0.5, 0.5, s_prime_last, s_prime_last], rtol=1e-6)
    np.testing.assert_allclose(boxes[-2], [0.5, 0.5, 1.0, s_last / math.sqrt(2)], rtol=1e-6)
    corners = keras.utils.bounding_boxes.convert_format(boxes[:1], source="center_xywh", target="yxyx")
    np.testing.assert_allclose(np.asarray(corners)[0], [c - 0.05, c - 0.05, c + 0.05, c + 0.05], atol=1e-7)


def test_encode_matches_box_utils_port_and_decode_inverts_it():
    rng = np.random.default_rng(0)
    anchors = ssd_anchors.default_boxes()[:500]
    matched = random_boxes(rng, 500)
    deltas = ssd_anchors.encode(to_yxyx(matched), anchors)
    np.testing.assert_allclose(np.asarray(deltas), np_encode(matched, anchors, (0.1, 0.2)), rtol=1e-4, atol=1e-4)
    decoded = ssd_anchors.decode(deltas, anchors)
    np.testing.assert_allclose(np.asarray(decoded), to_yxyx(matched), atol=1e-5)


def test_match_equals_ssd_pytorch_match_on_random_boxes_with_padding():
    rng = np.random.default_rng(1)
    anchors = ssd_anchors.default_boxes()
    counts = (1, 3, 6)
    gt = np.stack([random_boxes(rng, 6) for _ in counts])  # padding rows hold boxes too: labels decide
    labels = np.full((3, 6), -1, np.int32)
    for b, n in enumerate(counts):
        labels[b, :n] = rng.integers(0, 20, n)
    loc, cls = ssd_anchors.match(to_yxyx(gt), labels, anchors)
    assert loc.shape == (3, 8732, 4) and cls.shape == (3, 8732)
    for b, n in enumerate(counts):
        ref_loc, ref_cls = np_match(0.5, gt[b, :n], anchors, (0.1, 0.2), labels[b, :n])
        np.testing.assert_array_equal(np.asarray(cls[b]), ref_cls)
        positive = ref_cls > 0
        assert positive.sum() >= n  # every box forced onto its best anchor
        np.testing.assert_allclose(np.asarray(loc[b])[positive], ref_loc[positive], rtol=1e-4, atol=1e-4)


def test_match_forces_best_anchor_below_threshold_and_later_gt_wins():
    anchors = np.array([[0.25, 0.25, 0.5, 0.5], [0.75, 0.75, 0.5, 0.5]], np.float32)  # cx, cy, w, h
    # Both truths overlap anchor 0 best (IoU < 0.5 each); the later one takes it, the earlier gets nothing.
    # A padding row (label -1) never takes an anchor, even as the last row.
    truths_yxyx = np.array([[0.0, 0.0, 0.2, 0.2], [0.1, 0.1, 0.3, 0.3], [0.0, 0.0, 0.5, 0.5]], np.float32)
    loc, cls = ssd_anchors.match(truths_yxyx, np.array([4, 7, -1]), anchors)
    np.testing.assert_array_equal(np.asarray(cls), [8, 0])
    np.testing.assert_allclose(np.asarray(ssd_anchors.decode(loc, anchors))[0], truths_yxyx[1], atol=1e-6)


def test_match_round_trip_gives_matched_gt_and_runs_in_tf_data():
    rng = np.random.default_rng(2)
    anchors = ssd_anchors.default_boxes()
    gt = to_yxyx(random_boxes(rng, 4))
    labels = np.array([0, 5, 19, -1])
    gt[3] = 0.0
    ds = tf.data.Dataset.from_tensors((gt, labels)).map(lambda g, l: ssd_anchors.match(g, l, anchors))
    loc, cls = next(iter(ds))
    eager_loc, eager_cls = ssd_anchors.match(gt, labels, anchors)
    np.testing.assert_array_equal(cls.numpy(), eager_cls.numpy())
    np.testing.assert_allclose(loc.numpy(), eager_loc.numpy(), atol=1e-6)
    cls = cls.numpy()
    assert set(np.unique(cls)) == {0, 1, 6, 20}  # padding never matched, classes shifted by 1
    decoded = np.asarray(ssd_anchors.decode(loc, anchors))
    iou = jaccard(decoded[:, [1, 0, 3, 2]][cls > 0], gt[:3][:, [1, 0, 3, 2]])
    for row, c in zip(iou, cls[cls > 0]):
        j = list(labels).index(c - 1)
        assert row[j] > 1 - 1e-4  # the decoded target is exactly the matched gt box
