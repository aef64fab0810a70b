"""detection_metrics / roc_curve against brute-force definitions, SciPy's Mann-Whitney U, a port of
calculate_log.py, and hand cases with ties. (The scikit-learn comparison is in ood_sklearn_test.py.)"""

import numpy as np
import pytest
from scipy import stats

from keras_cutmix.ood import detection_metrics, roc_curve

KEYS = {"tnr_at_tpr95", "fpr_at_tpr95", "auroc", "detection_accuracy", "aupr_in", "aupr_out"}


def calculate_log_reference(known, novel, best_tnr=False):
    """pokaxpoka/deep_Mahalanobis_detector calculate_log.py (get_curve + TNR/AUROC/DTACC), in NumPy 2.

    `best_tnr=True` changes one thing: of the points at the TPR closest to 0.95, take the best TNR
    instead of `argmin`'s first (the worst), the rule of detection_metrics.
    """
    known, novel = np.sort(known), np.sort(novel)
    num_k, num_n = len(known), len(novel)
    tp = -np.ones([num_k + num_n + 1], dtype=int)
    fp = -np.ones([num_k + num_n + 1], dtype=int)
    tp[0], fp[0] = num_k, num_n
    k, n = 0, 0
    for step in range(num_k + num_n):
        if k == num_k:
            tp[step + 1:] = tp[step]
            fp[step + 1:] = np.arange(fp[step] - 1, -1, -1)
            break
        elif n == num_n:
            tp[step + 1:] = np.arange(tp[step] - 1, -1, -1)
            fp[step + 1:] = fp[step]
            break
        elif novel[n] < known[k]:
            n += 1
            tp[step + 1], fp[step + 1] = tp[step], fp[step] - 1
        else:
            k += 1
            tp[step + 1], fp[step + 1] = tp[step] - 1, fp[step]
    distance = np.abs(tp / num_k - 0.95)
    tnr = 1.0 - fp[distance.argmin()] / num_n
    if best_tnr:
        tnr = 1.0 - fp[distance == distance.min()].min() / num_n
    tpr = np.concatenate([[1.0], tp / tp[0], [0.0]])
    fpr = np.concatenate([[1.0], fp / fp[0], [0.0]])
    auroc = -np.trapezoid(1.0 - fpr, tpr)
    dtacc = 0.5 * (tp / tp[0] + 1.0 - fp / fp[0]).max()
    return tnr, auroc, dtacc


def brute_force(in_scores, out_scores):
    """AUROC (Mann-Whitney U), ROC and average precision straight from their definitions."""
    in_scores, out_scores = np.asarray(in_scores, float), np.asarray(out_scores, float)
    both = np.concatenate([in_scores, out_scores])
    auroc = stats.mannwhitneyu(in_scores, out_scores).statistic / (len(in_scores) * len(out_scores))
    thresholds = np.unique(both)[::-1]
    tpr = np.array([0.0] + [np.mean(in_scores >= t) for t in thresholds])
    fpr = np.array([0.0] + [np.mean(out_scores >= t) for t in thresholds])
    # Average precision: the mean, over positives, of the precision at the positive's own score.
    aupr_in = np.mean([np.sum(in_scores >= s) / np.sum(both >= s) for s in in_scores])
    aupr_out = np.mean([np.sum(out_scores <= s) / np.sum(both <= s) for s in out_scores])
    return auroc, aupr_in, aupr_out, fpr, tpr


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("sizes", [(500, 300), (37, 1000), (1, 5), (64, 1)])
def test_matches_definitions(tied, sizes):
    rng = np.random.default_rng(sum(sizes) + tied)
    in_scores = rng.normal(1.0, 1.0, sizes[0])
    out_scores = rng.normal(0.0, 1.5, sizes[1])
    if tied:  # Few distinct values, shared by both sets.
        in_scores, out_scores = np.round(in_scores), np.round(out_scores)
    result = detection_metrics(in_scores, out_scores)
    auroc, aupr_in, aupr_out, ref_fpr, ref_tpr = brute_force(in_scores, out_scores)
    thresholds = np.unique(np.concatenate([in_scores, out_scores]))[::-1]
    assert set(result) == KEYS
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in result.values())
    np.testing.assert_allclose(result["auroc"], auroc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result["aupr_in"], aupr_in, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result["aupr_out"], aupr_out, rtol=0, atol=1e-12)
    assert result["fpr_at_tpr95"] == pytest.approx(1.0 - result["tnr_at_tpr95"], abs=1e-15)
    fpr, tpr = roc_curve(in_scores, out_scores)
    np.testing.assert_allclose(fpr, ref_fpr, rtol=0, atol=1e-15)
    np.testing.assert_allclose(tpr, ref_tpr, rtol=0, atol=1e-15)
    assert result["detection_accuracy"] == pytest.approx(0.5 * np.max(ref_tpr + 1 - ref_fpr), abs=1e-15)
    # TNR at TPR 95: of the points closest to 0.95 (float64 distance), the lowest FPR.
    distance = np.abs(np.array([np.sum(in_scores >= t) for t in thresholds]) / len(in_scores) - 0.95)
    closest = thresholds[distance == distance.min()]
    best_fpr = min(np.mean(out_scores >= t) for t in closest)
    assert result["fpr_at_tpr95"] == pytest.approx(best_fpr, abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_calculate_log_without_ties(seed):
    rng = np.random.default_rng(seed)
    in_scores, out_scores = rng.normal(2.0, 1.0, 400), rng.normal(0.0, 1.0, 250 + seed)
    result = detection_metrics(in_scores, out_scores)
    tnr, auroc, dtacc = calculate_log_reference(in_scores, out_scores, best_tnr=True)
    assert result["tnr_at_tpr95"] == pytest.approx(tnr, abs=1e-12)
    assert result["auroc"] == pytest.approx(auroc, abs=1e-12)
    assert result["detection_accuracy"] == pytest.approx(dtacc, abs=1e-12)
    worst_tnr = calculate_log_reference(in_scores, out_scores)[0]
    assert worst_tnr <= result["tnr_at_tpr95"] <= worst_tnr + 3 / len(out_scores)


def test_tnr_takes_the_best_point_where_calculate_log_takes_the_worst():
    # 20 in-scores 1..20: TPR 19/20 = 0.95 exactly at thresholds 2 and 1.5 (OOD 1.5 lies in the gap).
    in_scores, out_scores = np.arange(1, 21, dtype=float), np.array([0.5, 1.5, 10.5, 30.0])
    assert detection_metrics(in_scores, out_scores)["tnr_at_tpr95"] == pytest.approx(2 / 4)
    assert calculate_log_reference(in_scores, out_scores)[0] == pytest.approx(1 / 4)


def test_a_tie_counts_half_where_calculate_log_counts_nothing():
    # in = [1, 2], out = [1, 0]: 3 of 4 pairs won and one tie. calculate_log.py's walk takes the
    # tied in-distribution image first, so the tie adds 0 to its AUROC; the exact ROC adds 1/2.
    assert detection_metrics([1.0, 2.0], [1.0, 0.0])["auroc"] == pytest.approx(3.5 / 4)
    assert calculate_log_reference([1.0, 2.0], [1.0, 0.0])[1] == pytest.approx(3 / 4)


def test_hand_case_with_ties():
    # in = [3, 2, 2, 1], out = [2, 1, 0]. Thresholds 3, 2, 1, 0 give (FPR, TPR):
    # (0, 1/4), (1/3, 3/4), (2/3, 1), (1, 1). The tie at 2 moves TPR and FPR together.
    result = detection_metrics([3, 2, 2, 1], [2, 1, 0])
    fpr, tpr = roc_curve([3, 2, 2, 1], [2, 1, 0])
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 4, 3 / 4, 1, 1])
    assert result["auroc"] == pytest.approx(19 / 24)  # 9.5 of 12 pairs, a tie counts 1/2.
    assert result["detection_accuracy"] == pytest.approx(0.5 * (3 / 4 + 1 - 1 / 3))
    assert result["aupr_in"] == pytest.approx(1 / 4 * 1 + 1 / 2 * 3 / 4 + 1 / 4 * 4 / 6)
    assert result["aupr_out"] == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3 + 1 / 3 * 3 / 6)
    # TPR 1 is closest to 0.95; of its two points, FPR 2/3 (threshold 1) beats FPR 1 (threshold 0).
    assert result["tnr_at_tpr95"] == pytest.approx(1 / 3) and result["fpr_at_tpr95"] == pytest.approx(2 / 3)


def test_all_scores_tied_is_chance():
    result = detection_metrics([1.0, 1.0], [1.0, 1.0, 1.0])
    fpr, tpr = roc_curve([1.0, 1.0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(fpr, [0, 1])
    np.testing.assert_array_equal(tpr, [0, 1])
    assert result["auroc"] == 0.5 and result["detection_accuracy"] == 0.5
    assert result["aupr_in"] == pytest.approx(2 / 5) and result["aupr_out"] == pytest.approx(3 / 5)
    assert result["tnr_at_tpr95"] == 0.0


def test_tnr_at_tpr95_constructed_case():
    # 100 in-distribution scores 1..100: TPR 0.95 exactly at threshold 6. OOD: 10 below everything,
    # 5 between 3 and 4 (called in at TPR 0.95), 5 at 50.5 (always called in at TPR 0.95).
    in_scores = np.arange(1, 101, dtype=float)
    out_scores = np.concatenate([np.full(10, 0.5), np.full(5, 3.5), np.full(5, 50.5)])
    result = detection_metrics(in_scores, out_scores)
    assert result["fpr_at_tpr95"] == pytest.approx(5 / 20)
    assert result["tnr_at_tpr95"] == pytest.approx(15 / 20)
    # Closest TPR in float64, as calculate_log.py. 30 in-scores 1..30, OOD 0.5, 1.5, 2.5:
    # (TPR, FPR) = (28/30, 0) at 3, (28/30, 1/3) at 2.5, (29/30, 1/3) at 2, (29/30, 2/3) at 1.5.
    # |28/30 - 0.95| < |29/30 - 0.95| in float64 (equal in exact arithmetic): TPR 28/30, best FPR 0.
    in_scores, out_scores = np.arange(1, 31, dtype=float), np.array([0.5, 1.5, 2.5])
    result = detection_metrics(in_scores, out_scores)
    assert result["fpr_at_tpr95"] == 0.0
    assert result["tnr_at_tpr95"] == calculate_log_reference(in_scores, out_scores, best_tnr=True)[0]


def test_separable_sets_are_perfect():
    result = detection_metrics([5.0, 6.0, 7.0], [1.0, 2.0])
    assert result == {"tnr_at_tpr95": 1.0, "fpr_at_tpr95": 0.0, "auroc": 1.0,
                      "detection_accuracy": 1.0, "aupr_in": 1.0, "aupr_out": 1.0}


@pytest.mark.parametrize("in_scores, out_scores, message", [
    ([], [1.0], "in_scores"), ([1.0], [], "out_scores"), ([np.nan, 1.0], [1.0], "in_scores"),
    ([1.0], [np.inf], "out_scores"),
])
def test_errors_name_the_argument(in_scores, out_scores, message):
    with pytest.raises(ValueError, match=message):
        detection_metrics(in_scores, out_scores)
