"""The OOD script's outputs: Table A2 per OOD set, Table 12's mean, ECE, ROC curves, reliability diagrams.

References:
    - The CutMix paper's supplementary Section E: Table 12 (mean over 7 OOD sets) and Table A2 (per set).
"""

import os

from keras_cutmix.ood.evaluate import TABLE_METRICS
from keras_cutmix.ood.plots import plot_reliability_diagram, plot_roc_curves

TITLES = {"tnr_at_tpr95": "TNR at TPR 95%", "auroc": "AUROC", "detection_accuracy": "Detection acc."}
# Table 12: CIFAR-100, PyramidNet-200, mean over 7 OOD sets (TNR at TPR 95, AUROC, detection accuracy).
PAPER_MEAN = {"baseline": (26.3, 87.3, 82.0), "mixup": (11.8, 49.3, 60.9), "cutout": (18.8, 68.7, 71.3),
              "cutmix": (69.0, 94.4, 89.1)}


def _rows(values_by_method, reference="baseline"):
    """Cells `value (+diff)` per method and metric, the best of each column in bold."""
    best = {k: max(v[k] for v in values_by_method.values()) for k in TABLE_METRICS}
    rows = {}
    for method, values in values_by_method.items():
        cells = []
        for k in TABLE_METRICS:
            cell = f"{values[k]:.1f}"
            if reference in values_by_method and method != reference:
                cell += f" ({values[k] - values_by_method[reference][k]:+.1f})"
            cells.append(f"**{cell}**" if values[k] == best[k] else cell)
        rows[method] = cells
    return rows


def _table(title, values_by_method, extra=None):
    header = "| method | " + " | ".join(TITLES[k] for k in TABLE_METRICS) + " |"
    extra = extra or {}
    if extra:
        header += " " + " | ".join(extra) + " |"
    lines = [title, "", header, "|---" * (header.count("|") - 1) + "|"]
    for method, cells in _rows(values_by_method).items():
        row = f"| {method} | " + " | ".join(cells) + " |"
        if extra:
            row += " " + " | ".join(column(method) for column in extra.values()) + " |"
        lines.append(row)
    return lines + [""]


def markdown_tables(results, config_line, with_paper):
    """Table 12's layout (mean over sets, ECE and accuracy beside), then Table A2's (one table per set).

    Args:
        results: `{method: evaluate_ood dict}`.
        config_line: The heading's description of the models and in-distribution data.
        with_paper: Whether to add Table 12's numbers (CIFAR-100, PyramidNet-200).

    Returns:
        The Markdown text.
    """
    first = next(iter(results.values()))
    sets = list(first["sets"])
    extra = {"top-1 acc": lambda m: f"{results[m]['top1_acc']:.1f}", "ECE": lambda m: f"{results[m]['ece']:.2f}"}
    if with_paper:
        extra["paper (TNR / AUROC / acc.)"] = lambda m: (" / ".join(f"{v:.1f}" for v in PAPER_MEAN[m])
                                                        if m in PAPER_MEAN else "-")
    lines = [f"## Out-of-distribution detection: {config_line}", "",
             f"Maximum softmax score, in-distribution ({first['num_in_images']} test images) as positive; in %; "
             "in brackets the difference to the baseline; best in bold. ECE: 15 bins, in-distribution test images.",
             ""]
    lines += _table(f"### Mean over {len(sets)} OOD sets ({', '.join(sets)})",
                    {m: r["mean"] for m, r in results.items()}, extra)
    for name in sets:
        count = first["sets"][name]["num_images"]
        lines += _table(f"### {name} ({count} images)", {m: r["sets"][name] for m, r in results.items()})
    return "\n".join(lines)


def write_plots(workdir, results, title):
    """`roc_<set>.png` (one curve per method) and `reliability_<method>.png`; returns the paths."""
    paths = []
    first = next(iter(results.values()))
    for name in first["sets"]:
        curves = {m: (r["sets"][name]["roc"]["fpr"], r["sets"][name]["roc"]["tpr"]) for m, r in results.items()}
        paths.append(plot_roc_curves(os.path.join(workdir, f"roc_{name}.png"), curves, title=f"{title}: {name}"))
    for method, r in results.items():
        paths.append(plot_reliability_diagram(os.path.join(workdir, f"reliability_{method}.png"),
                                              r["reliability"], title=f"{title}: {method}", ece=r["ece"] / 100.0))
    return paths
