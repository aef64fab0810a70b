"""The robustness script's outputs: Table 11's layout in Markdown and Figure 5's four panels.

References:
    - [Yun et al., 2019](https://arxiv.org/abs/1905.04899), Table 11 and Figure 5.
"""

from keras_cutmix.robustness.presets import ROBUSTNESS_PRESETS
from keras_cutmix.training.results import Column, markdown_table as write_table
from keras_cutmix.visualization.figures import new_figure, save_figure

PAPER_FGSM_TOP1_ACC = ROBUSTNESS_PRESETS["imagenet_resnet50"].paper
COLOURS = {"baseline": "tab:gray", "mixup": "tab:blue", "cutout": "tab:green", "cutmix": "tab:red"}


def markdown_table(results, config_line, with_paper):
    """Method rows: clean, FGSM and PGD top-1 accuracy (%), the paper's FGSM number beside ours.

    Args:
        results: `{method: evaluate_robustness dict}`.
        config_line: The heading's description of the models and data.
        with_paper: Whether to add Table 11's column (the data set is ImageNet).

    Returns:
        The Markdown text.
    """
    first = next(iter(results.values()))
    pgd = "pgd_top1_acc" in first
    columns = [Column("clean top-1 acc", "clean_top1_acc"), Column("FGSM top-1 acc", "fgsm_top1_acc")]
    columns += [Column("PGD top-1 acc", "pgd_top1_acc")] if pgd else []
    paper = {Column("paper FGSM (ImageNet, ResNet-50)", digits=1): PAPER_FGSM_TOP1_ACC} if with_paper else None
    return write_table(
        results, columns, paper, title=f"## Robustness: {config_line}",
        intro=f"Top-1 accuracy in % on {first['num_images']} test images; FGSM with eps = {first['eps'] * 255:.0f}/255"
              + (f", PGD {first['pgd_steps']} steps of 2/255 from a random start" if pgd else "") + ".")


def plot_figure5(path, results, title=None):
    """Four panels as the paper's Figure 5: centre and boundary occlusion, Mixup and CutMix in-between.

    Args:
        path: Output PNG path.
        results: `{method: evaluate_robustness dict}`, one line per method.
        title: Optional figure title.

    Returns:
        `path`.
    """
    figure, axes = new_figure(1, 4, figsize=(16, 3.8))
    # (title, x label, results entry, its x and y keys)
    panels = (("Centre occlusion", "hole side (pixels)", "occlusion", "sizes", "center"),
              ("Boundary occlusion", "kept square side (pixels)", "occlusion", "sizes", "boundary"),
              ("Mixup in-between", "lambda (share of the first image)", "in_between", "mixup_lambdas", "mixup"),
              ("CutMix in-between", "lambda (share of the first image)", "in_between", "cutmix_lambdas", "cutmix"))
    for ax, (name, xlabel, entry, x, y) in zip(axes, panels):
        for method, r in results.items():
            ax.plot(r[entry][x], r[entry][y], marker="o", markersize=3, label=method, color=COLOURS.get(method))
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("top-1 accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower left")
    return save_figure(figure, path, dpi=100, title=title, title_size="large")
