"""Table 9 of a localization comparison: mean and std over seeds per method, and its markdown layout.

    summary = summarize({"cutmix": {0: metrics0, 1: metrics1}}, PAPER_TOP1_LOC["cub_resnet50"])
    text = markdown_table(summary, summarize_baselines(per_seed), config, "cam", [0, 1])

`metrics` are `evaluate_localization`'s (fractions); the table is in % with
the sample std (ddof=1) over seeds, None for one seed.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B, Table 9.
"""

from keras_cutmix.training.results import Column, markdown_table as write_table, mean_std

# Table columns: (title, key in a run's metrics).
COLUMNS = (Column("top-1 Loc", "top1_loc"), Column("GT-known Loc", "gt_known_loc"),
           Column("MaxBoxAccV2", "max_box_acc_v2"), Column("top-1 cls error", "top1_cls_error"))
KEYS = tuple(c.key for c in COLUMNS)
# With object masks (`evaluate_localization` on batches with "masks"): how the map meets the object.
MASK_COLUMNS = (Column("PxAP", "pxap"), Column("object covered", "object_covered"),
                Column("CAM outside object", "outside_object"))
MASK_KEYS = tuple(c.key for c in MASK_COLUMNS)


def _stats(values):
    return mean_std(100.0 * float(v) for v in values)


def _value(metrics, key):
    if key in MASK_KEYS[1:]:
        return metrics["object_coverage"][key]
    value = metrics[key]
    return value["mean"] if isinstance(value, dict) else value


def _keys(runs):
    """The columns every run has: the box metrics, and the mask metrics when every run was scored with masks."""
    return KEYS + (MASK_KEYS if all("pxap" in r for r in runs) else ())


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
        values = {k: [_value(r, k) for r in runs] for k in _keys(runs)}
        for t in ("0.3", "0.5", "0.7"):
            values[f"max_box_acc_v2@{t}"] = [r["max_box_acc_v2"][t] for r in runs]
        stats = {k: _stats(v) for k, v in values.items()}
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
        result[name] = {k: _stats([r["baselines"][name][k] for r in runs]) for k in ("gt_known_loc", "top1_loc")}
    best = runs[0]["baselines"]["best_centred_box"]
    result["best_centred_box"].update(box=best["box"], height_fraction=best["height_fraction"],
                                      width_fraction=best["width_fraction"], note=best["note"])
    return result


def markdown_table(summary, baselines, config, cam_method, seeds, paper_title="paper top-1 Loc"):
    """Table 9's layout: method rows, the metric columns (mean ± std %), the paper's top-1 Loc beside.

    Args:
        summary: `summarize`'s output.
        baselines: `summarize_baselines`'s output.
        config: The runs' `training.Config` (its model, data set and epochs title the table).
        cam_method: `"cam"` or `"gradcam"`.
        seeds: The seeds summarised.
        paper_title: The paper column's title. Defaults to "paper top-1 Loc".

    Returns:
        The Markdown text of `results.md`.
    """
    masks = all(MASK_KEYS[0] in s["mean"] for s in summary.values())
    keys = KEYS + (MASK_KEYS if masks else ())
    rows = {method: {k: {"mean": s["mean"][k], "std": s["std"][k]} for k in keys} for method, s in summary.items()}
    centred = baselines["best_centred_box"]
    names = {
        "whole_image": "*whole-image box*",
        "best_centred_box": f"*best centred box ({centred['height_fraction']:.2f} x "
                            f"{centred['width_fraction']:.2f} of the side, tuned on the test set)*",
    }
    for name, title in names.items():
        rows[title] = {k: dict(zip(("mean", "std"), baselines[name][k])) for k in ("top1_loc", "gt_known_loc")}
    paper = {m: s["paper_top1_loc"] for m, s in summary.items()}
    return write_table(
        rows, COLUMNS + (MASK_COLUMNS if masks else ()),
        {paper_title: paper} if set(paper.values()) != {None} else None,
        title=f"## Localization: {config.model} on {config.dataset}, {config.epochs} epochs, "
              f"{cam_method.upper() if cam_method == 'cam' else 'Grad-CAM'}, seeds {', '.join(map(str, seeds))}",
        intro="In %, mean ± std over seeds. Top-1 Loc: right class and IoU > 0.5 with the box of the "
              "predicted class's map (sigma = 0.15, largest connected region); GT-known Loc: the same box from "
              "the true class's map, whatever the prediction; MaxBoxAccV2 (Choe et al. 2020): best CAM threshold, "
              "all contours, mean over IoU 0.3/0.5/0.7, true-class maps."
              + (" PxAP (Choe et al. 2020): pixel average precision of the true class's map against the "
                 "object mask; object covered: fraction of the object inside that map thresholded at sigma; CAM "
                 "outside object: fraction of that region off the object." if masks else ""),
        note=f"Trivial boxes: no map at all; their top-1 Loc uses the classes predicted by "
             f"`{baselines['top1_loc_classes_of']}`. The centred box is chosen for its GT-known Loc on the "
             "evaluated images themselves: an upper bound for any fixed box.")
