"""Property tests of the OOD metrics on random well-formed input in every accepted form (lists, float32,
[N, 1], tensors, one-hot or [N, 1] labels, NumPy integers): detection_metrics against scikit-learn and brute
force over every threshold, expected_calibration_error against a NumPy loop written out here."""

import numpy as np
import pytest
import sklearn.metrics as skm
import tensorflow as tf

from keras_cutmix.ood import detection_metrics, expected_calibration_error

FORMS = [
    lambda x: x,
    lambda x: x.tolist(),
    lambda x: x[:, None],
    lambda x: tf.constant(x),
]


def _brute_force(in_scores, out_scores):
    """TNR at the TPR closest to 0.95 (best such threshold) and the best balanced accuracy, every threshold."""
    thresholds = np.append(np.unique(np.concatenate([in_scores, out_scores])), np.inf)
    tpr = np.array([np.mean(in_scores >= t) for t in thresholds])
    tnr = np.array([np.mean(out_scores < t) for t in thresholds])
    distance = np.abs(np.array([np.sum(in_scores >= t) for t in thresholds]) / len(in_scores) - 0.95)
    return tnr[distance == distance.min()].max(), np.max(0.5 * (tpr + tnr))


@pytest.mark.parametrize("seed", range(12))
def test_detection_metrics_match_sklearn_and_brute_force(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 150, size=2)
    in_scores = rng.normal(rng.uniform(0, 2), 1.0, sizes[0])
    out_scores = rng.normal(0.0, rng.uniform(0.5, 2), sizes[1])
    if seed % 3 == 0:  # Ties within and across the sets.
        in_scores, out_scores = np.round(in_scores, 1), np.round(out_scores, 1)
    if seed % 4 == 1:  # float32 scores, as max_softmax_score returns.
        in_scores, out_scores = in_scores.astype(np.float32), out_scores.astype(np.float32)
    form = FORMS[seed % len(FORMS)]
    result = detection_metrics(form(in_scores), form(out_scores))
    in_scores, out_scores = in_scores.astype(np.float64), out_scores.astype(np.float64)
    scores = np.concatenate([in_scores, out_scores])
    is_in = np.r_[np.ones(len(in_scores)), np.zeros(len(out_scores))]
    assert result["auroc"] == pytest.approx(skm.roc_auc_score(is_in, scores), abs=1e-12)
    assert result["aupr_in"] == pytest.approx(skm.average_precision_score(is_in, scores), abs=1e-12)
    assert result["aupr_out"] == pytest.approx(skm.average_precision_score(1 - is_in, -scores), abs=1e-12)
    tnr, accuracy = _brute_force(in_scores, out_scores)
    assert result["tnr_at_tpr95"] == pytest.approx(tnr, abs=1e-12)
    assert result["fpr_at_tpr95"] == pytest.approx(1 - tnr, abs=1e-12)
    assert result["detection_accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert all(0.0 <= v <= 1.0 for v in result.values())


def _numpy_ece(probabilities, labels, num_bins):
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    ece = 0.0
    for b in range(num_bins):
        inside = (confidence > b / num_bins) & (confidence <= (b + 1) / num_bins)
        if b == 0:
            inside |= confidence == 0
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return ece


@pytest.mark.parametrize("seed", range(12))
def test_ece_matches_a_numpy_loop(seed):
    rng = np.random.default_rng(100 + seed)
    count, classes = int(rng.integers(1, 300)), int(rng.integers(2, 12))
    logits = rng.normal(0, rng.uniform(0.5, 4), (count, classes))
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    if seed % 2:
        probabilities = probabilities.astype(np.float32)
    labels = rng.integers(classes, size=count)
    labels[: count // 2] = probabilities[: count // 2].argmax(1)
    num_bins = [15, np.int64(10), 1, np.int32(7)][seed % 4]
    label_form = [labels, labels[:, None], np.eye(classes)[labels], labels.astype(np.float64)][seed % 4]
    ece, bins = expected_calibration_error(probabilities.tolist() if seed % 3 == 0 else probabilities, label_form,
                                           num_bins)
    assert ece == pytest.approx(_numpy_ece(probabilities.astype(np.float64), labels, int(num_bins)), abs=1e-12)
    assert 0.0 <= ece <= 1.0 and bins["count"].sum() == count
