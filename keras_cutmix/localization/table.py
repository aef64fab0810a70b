"""Table 9 of a localization comparison: mean and std over seeds per method, and its markdown layout.

    summary = summarize({"cutmix": {0: metrics0, 1: metrics1}}, PAPER_TOP1_LOC["cub_resnet50"])
    text = markdown_table(summary, summarize_baselines(per_seed), config, "cam", [0, 1])

`metrics` are `evaluate_localization`'s (fractions); the table is in % with
the sample std (ddof=1) over seeds, None for one seed.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B, Table 9.
"""

import numpy as np

# Table columns: (title, key in a run's metrics).
COLUMNS = (("top-1 Loc", "top1_loc"), ("GT-known Loc", "gt_known_loc"),
           ("MaxBoxAccV2", "max_box_acc_v2"), ("top-1 cls error", "top1_cls_error"))


def _stats(values):
    values = [100.0 * v for v in values]
    return (round(float(np.mean(values)), 4),
            round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else None)


def _value(metrics, key):
    value = metrics[key]
    return value["mean"] if isinstance(value, dict) else value


def summarize(per_seed, paper=None):
    """Mean and std (%, over seeds; std None for one seed) of every column, per method.

    Args:
        per_seed: `{method: {seed: localization metrics (fractions)}}`.
        paper: `{method: top-1 Loc %}` or None.

    Returns:
        `{method: {"seeds": ..., "mean": {key: %}, "std": {key: % or None}, "paper_top1_loc": % or None}}`.
    """
    summary = {}
    for method, seeds in per_seed.items():
        runs = list(seeds.values())
        keys = [k for _, k in COLUMNS] + [f"max_box_acc_v2@{t}" for t in ("0.3", "0.5", "0.7")]
        values = {k: [_value(r, k) for r in runs] for _, k in COLUMNS}
        for t in ("0.3", "0.5", "0.7"):
            values[f"max_box_acc_v2@{t}"] = [r["max_box_acc_v2"][t] for r in runs]
        stats = {k: _stats(values[k]) for k in keys}
        summary[method] = {
            "seeds": {str(s): r for s, r in seeds.items()},
            "mean": {k: v[0] for k, v in stats.items()},
            "std": {k: v[1] for k, v in stats.items()},
            "paper_top1_loc": (paper or {}).get(method),
        }
    return summary


def summarize_baselines(per_seed):
    """The trivial boxes' GT-known Loc (model-free) and top-1 Loc with the first method's classes (%)."""
    first_method = next(iter(per_seed))
    runs = list(per_seed[first_method].values())
    result = {"top1_loc_classes_of": first_method}
    for name in ("whole_image", "best_centred_box"):
        result[name] = {
            "gt_known_loc": _stats([r["baselines"][name]["gt_known_loc"] for r in runs]),
            "top1_loc": _stats([r["baselines"][name]["top1_loc"] for r in runs]),
        }
    best = runs[0]["baselines"]["best_centred_box"]
    result["best_centred_box"].update(box=best["box"], height_fraction=best["height_fraction"],
                                      width_fraction=best["width_fraction"], note=best["note"])
    return result


def _cell(stat):
    mean, std = stat
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def markdown_table(summary, baselines, config, cam_method, seeds):
    """Table 9's layout: method rows, four metric columns (mean ± std %), the paper's top-1 Loc beside."""
    with_paper = any(s["paper_top1_loc"] is not None for s in summary.values())
    header = "| method | " + " | ".join(title for title, _ in COLUMNS) + " |"
    rule = "|---" * (len(COLUMNS) + 1) + "|"
    if with_paper:
        header += " paper top-1 Loc |"
        rule += "---|"
    lines = [
        f"## Localization: {config.model} on {config.dataset}, {config.epochs} epochs, "
        f"{cam_method.upper() if cam_method == 'cam' else 'Grad-CAM'}, seeds {', '.join(map(str, seeds))}",
        "",
        "In %, mean ± std over seeds. Top-1 Loc: right class and IoU > 0.5 with the box of the "
        "predicted class's map (sigma = 0.15, largest connected region); GT-known Loc: the same box from "
        "the true class's map, whatever the prediction; MaxBoxAccV2 (Choe et al. 2020): best CAM threshold, "
        "all contours, mean over IoU 0.3/0.5/0.7, true-class maps.",
        "",
        header,
        rule,
    ]
    for method, s in summary.items():
        cells = [_cell((s["mean"][k], s["std"][k])) for _, k in COLUMNS]
        row = f"| {method} | " + " | ".join(cells) + " |"
        if with_paper:
            row += f" {s['paper_top1_loc']:.2f} |" if s["paper_top1_loc"] is not None else " - |"
        lines.append(row)
    centred = baselines["best_centred_box"]
    names = {
        "whole_image": "*whole-image box*",
        "best_centred_box": f"*best centred box ({centred['height_fraction']:.2f} x "
                            f"{centred['width_fraction']:.2f} of the side, tuned on the test set)*",
    }
    for name, title in names.items():
        b = baselines[name]
        row = f"| {title} | {_cell(b['top1_loc'])} | {_cell(b['gt_known_loc'])} | - | - |"
        lines.append(row + (" - |" if with_paper else ""))
    lines += ["", f"Trivial boxes: no map at all; their top-1 Loc uses the classes predicted by "
                  f"`{baselines['top1_loc_classes_of']}`. The centred box is chosen for its GT-known Loc on the "
                  "evaluated images themselves: an upper bound for any fixed box."]
    return "\n".join(lines) + "\n"
