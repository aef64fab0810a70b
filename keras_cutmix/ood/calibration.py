"""Expected calibration error (ECE) and the bins of a reliability diagram.

    ece, bins = expected_calibration_error(probabilities, labels)   # 15 bins
    plot_reliability_diagram("reliability.png", bins, title="CutMix")

Each prediction's confidence is its largest class probability, and it is correct when that class (the first maximum,
as `argmax`) is the label. The confidences fall into `num_bins` equal-width bins over [0, 1]: bin `b` holds
`b / M < confidence <= (b + 1) / M` (right-closed, as Guo et al.'s and gpleiss/temperature_scaling's
`bin_lower < c <= bin_upper`), and a confidence of exactly 0 joins the first bin. Then

    ECE = sum_b (n_b / N) * |accuracy_b - confidence_b|,

with `confidence_b` and `accuracy_b` the mean confidence and accuracy of the `n_b` predictions in bin `b` (empty bins
add nothing). Mixing methods are known to change calibration (Thulasidasan et al. 2019 for Mixup).

References:
    - [Guo et al., 2017, On Calibration of Modern Neural Networks](https://arxiv.org/abs/1706.04599), code
      gpleiss/temperature_scaling.
    - [Naeini et al., 2015, Obtaining Well Calibrated Probabilities Using
      Bayesian Binning](https://ojs.aaai.org/index.php/AAAI/article/view/9602)
    - [Thulasidasan et al., 2019, On Mixup Training: Improved Calibration and
      Predictive Uncertainty](https://arxiv.org/abs/1905.11001)
"""

import numpy as np

from keras_cutmix import checks


def expected_calibration_error(probabilities, labels, num_bins=15):
    """ECE with equal-width confidence bins, weighted by bin counts.

    Args:
        probabilities: Softmax outputs, array-like `[N, K]`, N >= 1 (rows in [0, 1] summing to 1; not logits).
        labels: Class ids `[N]` or `[N, 1]` (ints or whole floats), or one-hot rows `[N, K]`, in `[0, K)`.
        num_bins: Number of equal-width bins over [0, 1], an int >= 1 (a NumPy integer included). Defaults to 15.

    Returns:
        `(ece, bins)`: `ece` a Python float in [0, 1]; `bins` a dict of NumPy arrays, `edges` float64
        `[num_bins + 1]`, and per bin `confidence` (mean confidence) and `accuracy` (fraction correct), float64
        `[num_bins]` (0 for an empty bin), and `count` int64 `[num_bins]`.

    Raises:
        ValueError: For probabilities that are not finite rows in [0, 1] summing to 1 (logits get a hint) or hold no
            prediction, labels of another shape or count, outside `[0, K)` or not one-hot, or a bad `num_bins`.
    """
    caller = "expected_calibration_error"
    probabilities = checks.probabilities("probabilities", probabilities, caller)
    if len(probabilities) == 0:
        raise ValueError(f"{caller}: Expected `probabilities` to hold at least one prediction. Received: "
                         f"probabilities.shape={probabilities.shape}")
    labels = checks.class_ids("labels", labels, caller, num_classes=probabilities.shape[1], length=len(probabilities))
    num_bins = checks.count("num_bins", num_bins, caller)
    confidence = probabilities.max(axis=-1)
    correct = (np.argmax(probabilities, axis=-1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    # side="left": a confidence equal to an inner edge goes to the bin on its left.
    index = np.clip(np.searchsorted(edges[1:-1], confidence, side="left"), 0, num_bins - 1)
    count = np.bincount(index, minlength=num_bins).astype(np.int64)
    safe = np.maximum(count, 1)
    mean_confidence = np.bincount(index, weights=confidence, minlength=num_bins) / safe
    accuracy = np.bincount(index, weights=correct, minlength=num_bins) / safe
    ece = float(np.sum(count / len(confidence) * np.abs(accuracy - mean_confidence)))
    return ece, {"edges": edges, "confidence": mean_confidence, "accuracy": accuracy, "count": count}
