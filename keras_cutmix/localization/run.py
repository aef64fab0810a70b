"""`run_wsol`: train each method and seed, evaluate localization, write Table 9 and the pictures.

    from keras_cutmix import localization
    localization.run_wsol("wsol_demo", "/tmp/wsol", methods=("baseline", "cutmix"), seeds=(0, 1))

Each method x seed trains in `workdir/<method>/seed_<s>/` with
`training.train_and_evaluate` (resumable after a kill, progress bars), whose
evaluator `localization_<cam>` runs `evaluate_localization` on the test split
after training and stores its metrics in that run's `results.json` (and the
first images, maps and boxes in `localization_examples_<cam>.npz`). Then
`workdir` gets:

    results.json      per method: every seed's metrics, their mean and std (%),
                      the paper's top-1 Loc; the trivial baselines
    results.md        Table 9's layout: method rows; top-1 Loc, GT-known Loc,
                      MaxBoxAccV2, top-1 cls error (mean ± std over seeds)
    cam_<method>.png  the first test images with the CAM, the ground truth
                      (green) and the estimated box (red), first seed
    cam_methods.png   the same images across methods, side by side

With `cam_method="gradcam"` the same files are `results_gradcam.json`,
`results_gradcam.md`, `gradcam_<method>.png` and `gradcam_methods.png`, so
CAM's and Grad-CAM's results of one workdir sit side by side.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B, Table 9.
"""

import os

import numpy as np

from keras_cutmix import data
from keras_cutmix.localization.evaluate import CAM_METHODS, evaluate_localization
from keras_cutmix.localization.presets import PAPER_TOP1_LOC, get_wsol_config
from keras_cutmix.training import results as results_io
from keras_cutmix.training.config import METHODS, Config, ConfigError, check_methods
from keras_cutmix.training.train import check_run, train_and_evaluate

# Table columns: (title, key in a run's metrics).
COLUMNS = (("top-1 Loc", "top1_loc"), ("GT-known Loc", "gt_known_loc"),
           ("MaxBoxAccV2", "max_box_acc_v2"), ("top-1 cls error", "top1_cls_error"))
NUM_PICTURES = 8


def resolve_config(config, **overrides):
    """`(Config, preset name or None)` of a preset name, a `Config` or a dict, with `overrides`.

    Raises:
        ConfigError: naming the field (`"config"` for an unknown preset).
    """
    if isinstance(config, str):
        return get_wsol_config(config, **overrides), config
    if isinstance(config, dict):
        config = Config.from_dict(config)
    if not isinstance(config, Config):
        raise ConfigError("config", f"Expected a preset name, a Config or a dict. Received: config={config!r}")
    return config.replace(**overrides), None


def run_dir(workdir, method, seed):
    """The workdir of one method and seed."""
    return os.path.join(workdir, method, f"seed_{seed}")


def _finished(path, config):
    history = results_io.read_json(os.path.join(path, "history.json"), default=[])
    return (len(history) == config.epochs and not os.path.exists(os.path.join(path, "backup"))
            and os.path.isfile(os.path.join(path, "checkpoints", "last.weights.h5")))


def results_basename(cam_method):
    """`results` for CAM, `results_<cam_method>` otherwise (the workdir's `.json` and `.md`)."""
    return "results" if cam_method == "cam" else f"results_{cam_method}"


def _check_imagenet(config, wsol_metadata):
    """imagenet2012's boxes come from a wsolevaluation metadata folder (`data.imagenet_wsol_dataset`)."""
    if config.dataset != "imagenet2012":
        return
    if wsol_metadata is None or not os.path.isdir(wsol_metadata):
        raise ConfigError(
            "wsol_metadata", "Expected a wsolevaluation metadata folder for imagenet2012's boxes, e.g. "
            "wsolevaluation/metadata/ILSVRC/test (image_ids.txt, class_labels.txt, image_sizes.txt, "
            f"localization.txt). Received: wsol_metadata={wsol_metadata!r}")


def check_wsol(config, workdir, methods, seeds, cam_method="cam", eval_only=False, overwrite=False,
               wsol_metadata=None):
    """Every check of `run_wsol` that reads no data and writes nothing; returns the run configs.

    Args: as `run_wsol`, with `config` a `Config`.

    Returns:
        `[(method, seed, config, run_dir)]` in run order.

    Nothing is written in `workdir` (an embedded data set not yet built is
    built by training or by the first `data.load`).

    Raises:
        ConfigError: naming the argument (`methods`, `seeds`, `cam`,
            `dataset`, `eval_only`, a config field or `workdir`).
        keras_cutmix.data.DatasetNotFoundError, FileNotFoundError: as `training.check_run`.
    """
    methods, seeds = check_methods(methods), list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds) \
            or len(set(seeds)) != len(seeds):
        raise ConfigError("seeds", f"Expected distinct ints >= 0. Received: seeds={seeds}")
    if cam_method not in CAM_METHODS:
        raise ConfigError("cam", f"Expected one of {sorted(CAM_METHODS)}. Received: cam={cam_method!r}")
    if eval_only and overwrite:
        raise ConfigError("eval_only", "Expected at most one of eval_only and overwrite. Received both")
    _check_imagenet(config, wsol_metadata)
    try:
        has_boxes = data.dataset_spec(config.dataset).has_boxes
    except ValueError as error:
        raise ConfigError("dataset", f"Unknown `dataset`. {error}") from None
    if not has_boxes:
        raise ConfigError("dataset", f"Expected a data set with boxes. Received: dataset={config.dataset!r}")
    runs = []
    for method in methods:
        for seed in seeds:
            run_config = config.replace(method=method, seed=int(seed))
            path = run_dir(workdir, method, seed)
            check_run(run_config, path, overwrite)
            if eval_only and not _finished(path, run_config):
                raise ConfigError(
                    "eval_only", f"Expected a finished run of this config in {path!r} to evaluate. "
                    "Received a missing or unfinished run; train it first (drop --eval_only)")
            runs.append((method, int(seed), run_config, path))
    return runs


def evaluation_dataset(config, batch_size=64, wsol_metadata=None, image_root=None):
    """The test images, labels and boxes of `config`: its test split, or for imagenet2012 the
    validation images with every box of a wsolevaluation metadata folder
    (`data.imagenet_wsol_dataset(wsol_metadata, image_root, config.data_dir, ...)`: resize 256, centre
    crop 224, all boxes as `[B, K, 4]` padded with zero rows)."""
    if config.dataset == "imagenet2012":
        return data.imagenet_wsol_dataset(wsol_metadata, image_root, config.data_dir, batch_size=batch_size,
                                          image_size=config.image_size or 224)
    return data.load(config.dataset, config.test_split, batch_size=batch_size, training=False, with_boxes=True,
                     image_size=config.image_size, augmentation=config.augmentation, data_dir=config.data_dir)


def localization_evaluator(cam_method="cam", num_examples=16, batch_size=64, wsol_metadata=None, image_root=None):
    """A `train_and_evaluate` evaluator: localization metrics on `evaluation_dataset(config, ...)`.

    Saves the kept examples in `workdir/localization_examples_<cam_method>.npz`
    and returns the JSON-ready metrics of `evaluate_localization`.
    """
    def evaluate(model, config, workdir):
        dataset = evaluation_dataset(config, batch_size, wsol_metadata, image_root)
        metrics = evaluate_localization(model, dataset, cam_method=cam_method, num_examples=num_examples)
        examples = metrics.pop("examples")
        gt = examples.pop("gt_boxes")
        np.savez_compressed(
            os.path.join(workdir, f"localization_examples_{cam_method}.npz"),
            gt_boxes=np.array([np.asarray(g).reshape(-1, 4) for g in gt] + [None], dtype=object)[:-1],
            **examples)
        return metrics
    return evaluate


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


def _baselines(per_seed):
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


def _load_examples(path):
    with np.load(path, allow_pickle=True) as f:
        return {k: f[k] for k in f.files}


def write_pictures(workdir, runs_by_method, cam_method):
    """`<cam_method>_<method>.png` per method and `<cam_method>_methods.png`, from each first seed's examples."""
    from keras_cutmix import visualization  # pylint: disable=g-import-not-at-top  (matplotlib)

    examples = {m: _load_examples(os.path.join(p, f"localization_examples_{cam_method}.npz"))
                for m, p in runs_by_method.items()}
    paths = []
    for method, ex in examples.items():
        captions = [f"{p}/{c} IoU {i:.2f}" for p, c, i in zip(ex["pred_classes"], ex["labels"], ex["ious"])]
        paths.append(visualization.plot_cam_grid(
            os.path.join(workdir, f"{cam_method}_{method}.png"), ex["images"], ex["maps"], list(ex["gt_boxes"]),
            ex["pred_boxes"], captions=captions,
            title=f"{method}: {cam_method} of the predicted class (green: ground truth, red: estimate)"))
    first = next(iter(examples.values()))
    count = min(NUM_PICTURES, len(first["images"]))
    paths.append(visualization.plot_method_grid(
        os.path.join(workdir, f"{cam_method}_methods.png"), first["images"][:count],
        {m: ex["maps"][:count] for m, ex in examples.items()}, list(first["gt_boxes"][:count]),
        {m: ex["pred_boxes"][:count] for m, ex in examples.items()},
        captions_by_method={m: [f"IoU {i:.2f}" for i in ex["ious"][:count]] for m, ex in examples.items()},
        title=f"{cam_method} of the predicted class, by method"))
    return paths


def run_wsol(config, workdir, methods=METHODS, seeds=(0,), cam_method="cam", eval_only=False, overwrite=False,
             num_examples=16, wsol_metadata=None, image_root=None, **overrides):
    """Trains (or, with `eval_only`, only evaluates) every method x seed; writes the table and pictures.

    Args:
        config: A `WSOL_PRESETS` name (the paper's top-1 Loc goes beside
            ours when Table 9 has it), a `training.Config` or a dict.
        workdir: Output directory; `workdir/<method>/seed_<s>/` holds each run.
        methods: Methods to compare. Defaults to all four.
        seeds: Seeds of each method (mean and std over them). Defaults to (0,).
        cam_method: `"cam"` or `"gradcam"`. Defaults to `"cam"`.
        eval_only: Only evaluate runs already finished in `workdir`; refuse
            if one is missing. Defaults to False.
        overwrite: Delete a run of another config found in a run directory.
            Defaults to False.
        num_examples: Test images kept per run for the pictures. Defaults to 16.
        wsol_metadata: For imagenet2012 (required there): a wsolevaluation
            metadata folder, e.g. `wsolevaluation/metadata/ILSVRC/test`,
            whose boxes (and labels) are evaluated. Defaults to None.
        image_root: For imagenet2012: the folder its metadata paths are
            relative to; None reads the tfds `imagenet2012` validation
            images. Defaults to None.
        **overrides: `Config` fields applied over the preset (e.g. `epochs`,
            `weights`, `data_dir`, `strategy`, `dataset`).

    Returns:
        The dict written to `workdir/results.json` (`results_<cam_method>.json` for Grad-CAM).

    Raises:
        ConfigError: For a bad argument (before anything is written).
    """
    config, preset = resolve_config(config, **overrides)
    runs = check_wsol(config, workdir, methods, seeds, cam_method, eval_only, overwrite, wsol_metadata)
    name = f"localization_{cam_method}"
    evaluator = {name: localization_evaluator(cam_method, num_examples, wsol_metadata=wsol_metadata,
                                              image_root=image_root)}
    per_seed, first_dirs = {}, {}
    for method, seed, run_config, path in runs:
        print(f"== {method}, seed {seed}: {path}", flush=True)
        result = train_and_evaluate(run_config, path, overwrite=overwrite, evaluators=evaluator)
        per_seed.setdefault(method, {})[seed] = result[method][name]
        first_dirs.setdefault(method, path)
    summary = summarize(per_seed, PAPER_TOP1_LOC.get(preset))
    baselines = _baselines(per_seed)
    output = {"preset": preset, "cam_method": cam_method, "seeds": [int(s) for s in seeds],
              "config": config.to_dict(), "methods": summary, "baselines": baselines}
    os.makedirs(workdir, exist_ok=True)
    basename = os.path.join(workdir, results_basename(cam_method))
    results_io.write_json(basename + ".json", output)
    with open(basename + ".md", "w") as f:
        f.write(markdown_table(summary, baselines, config, cam_method, seeds))
    write_pictures(workdir, first_dirs, cam_method)
    return output
