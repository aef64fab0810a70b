"""The OOD script's outputs: Table A2 per OOD set, Table 12's mean, ECE, ROC curves, reliability diagrams.

References:
    - The CutMix paper's supplementary Section E: Table 12 (mean over 7 OOD sets) and Table A2 (per set).
"""

import os

from keras_cutmix.ood.evaluate import TABLE_METRICS
from keras_cutmix.ood.plots import plot_reliability_diagram, plot_roc_curves
from keras_cutmix.ood.presets import OOD_PRESETS
from keras_cutmix.training.results import Column, markdown_table as write_table

TITLES = {"tnr_at_tpr95": "TNR at TPR 95%", "auroc": "AUROC", "detection_accuracy": "Detection acc."}
PAPER_MEAN = OOD_PRESETS["cifar100_pyramidnet200"].paper


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
    columns = [Column(TITLES[k], k, digits=1, best=True, diff_to="baseline") for k in TABLE_METRICS]
    mean_columns = columns + [Column("top-1 acc", "top1_acc", digits=1), Column("ECE", "ece")]
    paper = {Column("paper (TNR / AUROC / acc.)", digits=1): PAPER_MEAN} if with_paper else None
    tables = [write_table({m: {**r["mean"], "top1_acc": r["top1_acc"], "ece": r["ece"]} for m, r in results.items()},
                          mean_columns, paper, title=f"### Mean over {len(sets)} OOD sets ({', '.join(sets)})")]
    for name in sets:
        tables.append(write_table({m: r["sets"][name] for m, r in results.items()}, columns,
                                  title=f"### {name} ({first['sets'][name]['num_images']} images)"))
    intro = (f"## Out-of-distribution detection: {config_line}\n\nMaximum softmax score, in-distribution "
             f"({first['num_in_images']} test images) as positive; in %; in brackets the difference to the baseline; "
             "best in bold. ECE: 15 bins, in-distribution test images.\n\n")
    return intro + "\n".join(tables)


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
