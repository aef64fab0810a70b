"""Pictures for OOD detection and calibration: ROC curves and reliability diagrams (PNG).

References:
    - [Guo et al., 2017, On Calibration of Modern Neural Networks](https://arxiv.org/abs/1706.04599), Figure 1.
"""

import numpy as np

from keras_cutmix import checks
from keras_cutmix.visualization.figures import new_figure, save_figure


def plot_roc_curves(path, curves_by_name, *, title=None, dpi=110):
    """Writes a PNG with one ROC curve per entry (as `roc_curve` returns them), the chance diagonal and TPR = 0.95.

    Args:
        path: Output PNG path.
        curves_by_name: A dict `{name: (fpr, tpr)}` of equal-length arrays, drawn in the dict's order.
        title: Figure title, or `None`. Defaults to `None`.
        dpi: Resolution of the PNG. Defaults to 110.

    Returns:
        `path`.

    Raises:
        ValueError: If `curves_by_name` is not a non-empty dict of `(fpr, tpr)` pairs, or a curve's arrays
            are not fractions in [0, 1] of one length; before anything is drawn.
    """
    caller = "plot_roc_curves"
    if not isinstance(curves_by_name, dict) or not curves_by_name:
        raise ValueError(f"{caller}: Expected `curves_by_name` as a non-empty dict {{name: (fpr, tpr)}}. "
                         f"Received: {curves_by_name!r}"[:300])
    curves = {}
    for name, curve in curves_by_name.items():
        if isinstance(curve, np.ndarray) or not isinstance(curve, (tuple, list)) or len(curve) != 2:
            raise ValueError(f"{caller}: Expected `curves_by_name[{name!r}]` as (fpr, tpr). Received: "
                             f"{curve!r}"[:300])
        fpr, tpr = (checks.scores(f"{axis} of the curve {name!r}", values, caller) for axis, values in
                    (("fpr", curve[0]), ("tpr", curve[1])))
        for axis, values in (("fpr", fpr), ("tpr", tpr)):
            if values.size and (values.min() < 0 or values.max() > 1):
                raise ValueError(f"{caller}: Expected `{axis}` of the curve {name!r} in [0, 1] (fractions, not "
                                 f"%). Received: values in [{values.min():g}, {values.max():g}]")
        if fpr.shape != tpr.shape:
            raise ValueError(f"{caller}: Expected `fpr` and `tpr` of the same shape for {name!r}. Received: "
                             f"fpr.shape={fpr.shape}, tpr.shape={tpr.shape}")
        curves[name] = fpr, tpr
    fig, ax = new_figure(figsize=(4.2, 4.0))
    for name, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, lw=1.5, label=str(name))
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1)
    ax.axhline(0.95, color="0.4", ls=":", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("FPR (OOD called in-distribution)")
    ax.set_ylabel("TPR (in-distribution kept)")
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path, dpi=dpi, title=title)


def plot_reliability_diagram(path, bins, *, title=None, ece=None, dpi=110):
    """Writes a PNG reliability diagram from `expected_calibration_error`'s bins.

    Accuracy per confidence bin (bars) against the diagonal of perfect calibration, the gap to each bin's mean
    confidence shaded, and below it the number of predictions per bin.

    Args:
        path, title, dpi: As `plot_roc_curves`.
        bins: `expected_calibration_error`'s dict: `edges` `[M + 1]`, `confidence`, `accuracy` and `count` `[M]`.
        ece: The ECE to print on the plot, or `None`. Defaults to `None`.

    Returns:
        `path`.

    Raises:
        ValueError: If `bins` lacks a key, its arrays are not finite 1-D numbers, the bin arrays do not
            match the edges, or `ece` is not None or a fraction in [0, 1].
    """
    caller = "plot_reliability_diagram"
    keys = ("edges", "confidence", "accuracy", "count")
    if not isinstance(bins, dict) or any(k not in bins for k in keys):
        got = sorted(bins) if isinstance(bins, dict) else type(bins).__name__
        raise ValueError(f"{caller}: Expected `bins` with keys {keys}, as expected_calibration_error returns. "
                         f"Received: {got}")
    edges, confidence, accuracy, count = (checks.scores(f"bins[{k!r}]", bins[k], caller) for k in keys)
    if ece is not None:
        ece = checks.fraction("ece", ece, caller)
    if not len(edges) - 1 == len(confidence) == len(accuracy) == len(count):
        raise ValueError(f"{caller}: Expected `bins` with `edges` [M + 1] and `confidence`, `accuracy`, "
                         f"`count` [M]. Received: lengths {len(edges)}, {len(confidence)}, "
                         f"{len(accuracy)}, {len(count)}")
    left, width = edges[:-1], np.diff(edges)
    filled = count > 0
    fig, (top, bottom) = new_figure(2, 1, figsize=(4.2, 5.0), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.bar(left[filled], accuracy[filled], width[filled], align="edge", color="tab:blue",
            edgecolor="black", lw=0.5, label="accuracy")
    gap_low = np.minimum(accuracy, confidence)[filled]
    top.bar(left[filled], np.abs(accuracy - confidence)[filled], width[filled], bottom=gap_low,
            align="edge", color="tab:red", alpha=0.35, label="gap to confidence")
    top.plot([0, 1], [0, 1], color="0.4", ls="--", lw=1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    if ece is not None:
        top.text(0.04, 0.9, f"ECE = {100 * ece:.2f}%", transform=top.transAxes, fontsize=9)
    top.legend(fontsize=8, loc="lower right")
    bottom.bar(left, count, width, align="edge", color="0.5", edgecolor="black", lw=0.5)
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("count")
    return save_figure(fig, path, dpi=dpi, title=title)
