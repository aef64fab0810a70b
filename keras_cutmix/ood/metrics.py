"""Out-of-distribution detection metrics from the exact ROC of two sets of scores.

    metrics = detection_metrics(in_scores, out_scores)
    fpr, tpr = roc_curve(in_scores, out_scores)

Convention (as deep_Mahalanobis_detector's `calculate_log.py`, and the CutMix paper's Table A2): **in-distribution is
the positive class and a higher score means more in-distribution.** An image is called in-distribution when its score
is `>= t`; TPR is the fraction of in-distribution images called in, FPR the fraction of out-of-distribution images
called in, TNR = 1 - FPR.

The ROC is exact: one point per distinct score (every threshold that changes a decision), from `(0, 0)` to `(1, 1)`,
none interpolated. The metrics, all fractions in [0, 1] (multiply by 100 for the paper's tables):

* `tnr_at_tpr95`: TNR at the TPR closest to 0.95, chosen as `calculate_log.py`'s `tpr95_pos`
  (`argmin |TP / N_in - 0.95|` in float64, so that float rounding picks the same TPR, e.g. 28/30 over 29/30). Several
  ROC points share that TPR when OOD scores fall between two adjacent in-distribution scores; here the TNR is the best
  of them (the highest threshold with that TPR, the point on the ROC curve), where `calculate_log.py`'s `argmin`, run
  from the lowest threshold up, takes the worst: it calls every OOD image in that gap in-distribution. The TNRs differ
  by that count over N_out (none without OOD scores in the gap, little for large sets), but on perfectly separated sets
  with fewer than 20 in-distribution images `calculate_log.py` gives TNR 0 and this gives 1. `fpr_at_tpr95` is
  `1 - tnr_at_tpr95`, same point.
* `auroc`: area under the ROC by the trapezoid rule over the exact points (equals `sklearn.metrics.roc_auc_score` and
  the probability that a random in-distribution score beats a random OOD score, ties counting 1/2).
* `detection_accuracy`: `0.5 * max(TPR + 1 - FPR)` over the ROC points, the
  best balanced accuracy of any threshold (`calculate_log.py`'s DTACC).
* `aupr_in`: average precision with in-distribution positive, `sum_k (R_k - R_{k-1}) P_k` over the ROC points (equals
  `sklearn.metrics.average_precision_score(is_in, scores)`).
* `aupr_out`: the same with OOD positive and the scores negated.

**Ties.** Images with equal scores (in or out) are on the same side of every threshold, so the ROC moves TPR and FPR
together across a tie: the segment between two points is diagonal, and AUROC counts a tied in/out pair as 1/2.
`calculate_log.py` instead walks the sorted lists one image at a time, taking in-distribution images first when scores
tie, which puts points inside tie blocks that no threshold reaches (a pessimistic staircase: a tied in/out pair counts
0 toward its AUROC); on data without ties the two agree exactly for AUROC and detection accuracy. Its AUPR in/out
integrate precision by the trapezoid rule with anchors 0.5 and 0; here they are average precision as in scikit-learn,
which differs slightly from its values.

**Other conventions you will meet.**

* ODIN (facebookresearch/odin, `calMetric.py`) sweeps a fixed grid of 100,000 thresholds between hand-set bounds (e.g.
  0.1 to 1 for CIFAR-10) and averages the FPR of the thresholds with TPR in [0.9495, 0.9505]; its AUROC is a Riemann
  sum over that grid. Scores outside the bounds, or a TPR band that no grid threshold hits, change its numbers; the
  exact ROC has neither problem.
* OpenOOD reports FPR@95 with **OOD as the positive class**: the FPR of in-distribution images at the threshold where
  95% of OOD images are detected. That is not `fpr_at_tpr95` here (the OOD fraction called in when 95% of
  in-distribution images are kept); compare numbers only under the same convention.

References:
    - [Hendrycks & Gimpel, 2017, A Baseline for Detecting Misclassified and
      Out-of-Distribution Examples](https://arxiv.org/abs/1610.02136)
    - [Lee et al., 2018, A Simple Unified Framework for Detecting Out-of-Distribution Samples and Adversarial
      Attacks](https://arxiv.org/abs/1807.03888), code pokaxpoka/deep_Mahalanobis_detector (`calculate_log.py`).
    - [Liang et al., 2018, ODIN](https://arxiv.org/abs/1706.02690), code facebookresearch/odin (`calMetric.py`).
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), Table A2.
"""

import numpy as np

from keras_cutmix import checks


def _as_scores(name, scores, caller):
    """One finite score per image, [N] or [N, 1] (`checks.scores`), at least one."""
    scores = checks.scores(name, scores, caller)
    if scores.size == 0:
        raise ValueError(f"{caller}: Expected `{name}` to hold at least one score. Received: {name}.shape=(0,)")
    return scores


def _roc_counts(positive, negative):
    """Counts `(tp, fp)` [K + 1] at each distinct threshold, descending, from `(0, 0)`.

    Point `k > 0` calls positive every score `>=` the k-th largest distinct score; tied scores enter together.
    """
    scores = np.concatenate([positive, negative])
    is_positive = np.concatenate([np.ones(len(positive)), np.zeros(len(negative))])
    order = np.argsort(-scores, kind="stable")
    scores, is_positive = scores[order], is_positive[order]
    block_end = np.append(scores[1:] != scores[:-1], True)  # Last index of each tie block.
    tp = np.concatenate([[0], np.cumsum(is_positive)[block_end]]).astype(np.int64)
    fp = np.concatenate([[0], np.cumsum(1 - is_positive)[block_end]]).astype(np.int64)
    return tp, fp


def _average_precision(tp, fp):
    """`sum_k (R_k - R_{k-1}) P_k` over the points after `(0, 0)` (scikit-learn's definition)."""
    recall = tp / tp[-1]
    precision = tp[1:] / (tp[1:] + fp[1:])
    return float(np.sum(np.diff(recall) * precision))


def roc_curve(in_scores, out_scores):
    """The exact ROC, in-distribution positive: FPR and TPR at each distinct threshold.

    Args and Raises: as `detection_metrics`.

    Returns:
        `(fpr, tpr)`, float64 NumPy arrays [K + 1] for K distinct scores, non-decreasing from `(0, 0)` to `(1, 1)`.
    """
    tp, fp = _roc_counts(_as_scores("in_scores", in_scores, "roc_curve"),
                         _as_scores("out_scores", out_scores, "roc_curve"))
    return fp / fp[-1], tp / tp[-1]


def detection_metrics(in_scores, out_scores):
    """TNR at TPR 95, AUROC, detection accuracy and AUPR in/out (see the module docstring).

    Args:
        in_scores: Scores of in-distribution images (the positives), array-like [N_in] or [N_in, 1]; higher means more
            in-distribution (e.g. `max_softmax_score`).
        out_scores: Scores of out-of-distribution images, array-like [N_out] or [N_out, 1].

    Returns:
        A dict of Python floats in [0, 1]: `tnr_at_tpr95`, `fpr_at_tpr95`, `auroc`, `detection_accuracy`, `aupr_in`,
        `aupr_out`.

    Raises:
        ValueError: If a set is empty, holds NaN or infinite scores, or is not one score per image (class
            probabilities [N, K > 1] are not scores: take their maximum, e.g. `max_softmax_score`).
    """
    in_scores = _as_scores("in_scores", in_scores, "detection_metrics")
    out_scores = _as_scores("out_scores", out_scores, "detection_metrics")
    tp, fp = _roc_counts(in_scores, out_scores)
    num_in, num_out = tp[-1], fp[-1]
    tpr, fpr = tp / num_in, fp / num_out
    distance = np.abs(tp / num_in - 0.95)  # As calculate_log.py, float rounding included.
    at_95 = np.flatnonzero(distance == distance.min())[0]  # Lowest FPR: fpr rises with the index.
    # AUROC by the trapezoid rule (np.trapz is gone in NumPy 2; written out instead).
    auroc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    out_tp, out_fp = _roc_counts(-out_scores, -in_scores)
    return {"tnr_at_tpr95": float(1.0 - fpr[at_95]), "fpr_at_tpr95": float(fpr[at_95]), "auroc": auroc,
            "detection_accuracy": float(0.5 * np.max(tpr + 1.0 - fpr)), "aupr_in": _average_precision(tp, fp),
            "aupr_out": _average_precision(out_tp, out_fp)}
