"""`run_wsol`: train each method and seed, evaluate localization, write Table 9 and the pictures.

    from keras_cutmix import localization
    localization.run_wsol("wsol_demo", "/tmp/wsol", methods=("baseline", "cutmix"), seeds=(0, 1))

Each method x seed trains in `workdir/<method>/seed_<s>/` through `training.plan_runs` / `run_all`
(`train_and_evaluate`: resumable after a kill), whose evaluator `localization_<cam>` runs
`evaluate_localization` on the test split after training and stores its metrics in that run's `results.json`
(and the first images, maps and boxes in `localization_examples_<cam>.npz`). Then `workdir` gets:

    results.json      per method: every seed's metrics, their mean and std (%), the paper's top-1 Loc;
                      the trivial baselines
    results.md        Table 9's layout (`table.markdown_table`): mean ± std over seeds per method
    cam_<method>.png  the first test images with the CAM, the ground truth (green) and the estimated box
                      (red), first seed
    cam_methods.png   the same images across methods, side by side

With `cam_method="gradcam"` the same files are `results_gradcam.json`, `results_gradcam.md`,
`gradcam_<method>.png` and `gradcam_methods.png`, beside CAM's.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B, Table 9.
"""

import os

import numpy as np

from keras_cutmix import data, training
from keras_cutmix.data.wsol_metadata import read_metadata
from keras_cutmix.localization.evaluate import CAM_METHODS, evaluate_localization
from keras_cutmix.localization.presets import PAPER_TOP1_LOC, WSOL_PRESETS, get_wsol_config
from keras_cutmix.localization.table import markdown_table, summarize, summarize_baselines
from keras_cutmix.training import results as results_io
from keras_cutmix.training.config import METHODS, Config, ConfigError, check_methods
from keras_cutmix.training.method_runs import check_seeds, plan_runs, run_all

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


def results_basename(cam_method):
    """`results` for CAM, `results_<cam_method>` otherwise (the workdir's `.json` and `.md`)."""
    return "results" if cam_method == "cam" else f"results_{cam_method}"


def _check_boxes(config, wsol_metadata, image_root):
    """The test boxes: the data set's own, or for imagenet2012 a wsolevaluation metadata folder's (read here,
    seconds for ImageNet's 50,000 lines)."""
    if config.dataset != "imagenet2012":
        try:
            has_boxes = data.dataset_spec(config.dataset).has_boxes
        except ValueError as error:
            raise ConfigError("dataset", f"Unknown `dataset`. {error}") from None
        if not has_boxes:
            raise ConfigError("dataset", f"Expected a data set with boxes, or imagenet2012 with "
                                         f"wsol_metadata. Received: dataset={config.dataset!r}")
        return
    if wsol_metadata is None:
        raise ConfigError(
            "wsol_metadata", "Expected a wsolevaluation metadata folder for imagenet2012's boxes, e.g. "
            "wsolevaluation/metadata/ILSVRC/test (image_ids.txt, class_labels.txt, image_sizes.txt, "
            "localization.txt). Received: wsol_metadata=None")
    try:
        read_metadata(wsol_metadata)
    except (FileNotFoundError, ValueError) as error:  # read_metadata names its argument metadata_folder.
        raise ConfigError("wsol_metadata", str(error).replace("metadata_folder=", "wsol_metadata=")) from None
    if image_root is not None and not os.path.isdir(image_root):
        raise ConfigError("image_root", "Expected the folder that the metadata's image paths are relative "
                                        f"to (or None: tfds images). Received: image_root={image_root!r}")


def check_wsol(config, workdir, methods, seeds, cam_method="cam", eval_only=False, overwrite=False,
               wsol_metadata=None, image_root=None, max_eval_images=None, num_examples=16):
    """Every check of `run_wsol` that reads no image and writes nothing; returns the run configs.

    For imagenet2012 the `wsol_metadata` folder is read (its four text files), so a bad one fails before
    training rather than after it.

    Args: as `run_wsol`, with `config` a `Config`.

    Returns:
        `training.plan_runs`'s `[Run(method, seed, config, workdir, overwrite)]`, in run order.

    Raises:
        ConfigError: naming the argument (`methods`, `seeds`, `cam`, `dataset`, `wsol_metadata`, `image_root`,
            `max_eval_images`, `num_examples`, `eval_only`, a config field or `workdir`).
        keras_cutmix.data.DatasetNotFoundError, FileNotFoundError: as `training.check_run`.
    """
    methods, seeds = check_methods(methods), check_seeds(seeds)  # Checked first, as the flags are read.
    if cam_method not in CAM_METHODS:
        raise ConfigError("cam", f"Expected one of {sorted(CAM_METHODS)}. Received: cam={cam_method!r}")
    if eval_only and overwrite:
        raise ConfigError("eval_only", "Expected at most one of eval_only and overwrite. Received both")
    if max_eval_images is not None and (isinstance(max_eval_images, bool) or not isinstance(
            max_eval_images, (int, np.integer)) or max_eval_images < 1):
        raise ConfigError("max_eval_images", "Expected an int >= 1 or None (every test image). "
                                             f"Received: max_eval_images={max_eval_images!r}")
    if isinstance(num_examples, bool) or not isinstance(num_examples, (int, np.integer)) or num_examples < 0:
        raise ConfigError("num_examples", "Expected an int >= 0 (test images kept for the pictures). "
                                          f"Received: num_examples={num_examples!r}")
    _check_boxes(config, wsol_metadata, image_root)
    runs = plan_runs(config, workdir, methods, seeds, overwrite=overwrite)
    for run in runs:
        if eval_only and not training.is_finished(run.config, run.workdir):
            raise ConfigError(
                "eval_only", f"Expected a finished run of this config in {run.workdir!r} to evaluate. "
                "Received a missing or unfinished run; train it first (drop --eval_only)")
    return runs


def evaluation_dataset(config, batch_size=64, wsol_metadata=None, image_root=None):
    """The test images, labels and boxes (and masks where the data set has them) of `config`: its test split,
    or for imagenet2012 `data.imagenet_wsol_dataset` (resize to 256 / 224 of the image size, centre crop)."""
    if config.dataset == "imagenet2012":
        size = config.image_size or 224
        return data.imagenet_wsol_dataset(wsol_metadata, image_root, config.data_dir, batch_size=batch_size,
                                          image_size=size, resize_size=round(size * 256 / 224))
    return data.load(config.dataset, config.test_split, batch_size=batch_size, training=False, with_boxes=True,
                     with_masks=data.dataset_spec(config.dataset).has_masks, image_size=config.image_size,
                     augmentation=config.augmentation, data_dir=config.data_dir)


def localization_evaluator(cam_method="cam", num_examples=16, batch_size=64, wsol_metadata=None, image_root=None,
                           max_images=None):
    """A `train_and_evaluate` evaluator: `evaluate_localization` on at most `max_images` (None: all) images of
    `evaluation_dataset(config, ...)`; saves its examples in `workdir/localization_examples_<cam_method>.npz`
    and returns its JSON-ready metrics."""
    def evaluate(model, config, workdir):
        dataset = evaluation_dataset(config, batch_size, wsol_metadata, image_root)
        metrics = evaluate_localization(model, dataset, cam_method=cam_method, num_examples=num_examples,
                                        max_images=max_images, verbose=config.verbose)
        examples = metrics.pop("examples")
        gt = examples.pop("gt_boxes")
        np.savez_compressed(
            os.path.join(workdir, f"localization_examples_{cam_method}.npz"),
            gt_boxes=np.array([np.asarray(g).reshape(-1, 4) for g in gt] + [None], dtype=object)[:-1],
            **examples)
        return metrics
    return evaluate


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
             num_examples=16, wsol_metadata=None, image_root=None, max_eval_images=None, **overrides):
    """Trains (or, with `eval_only`, only evaluates) every method x seed; writes the table and pictures.

    Args:
        config: A `WSOL_PRESETS` name (the paper's top-1 Loc goes beside ours when Table 9 has it), a
            `training.Config` or a dict.
        workdir: Output directory; `workdir/<method>/seed_<s>/` holds each run.
        methods: Methods to compare. Defaults to all four.
        seeds: Seeds of each method (mean and std over them). Defaults to (0,).
        cam_method: `"cam"` or `"gradcam"`. Defaults to `"cam"`.
        eval_only: Only evaluate runs already finished in `workdir`; refuse if one is missing. Defaults to
            False.
        overwrite: Delete a run of another config found in a run directory. Defaults to False.
        num_examples: Test images kept per run for the pictures. Defaults to 16.
        wsol_metadata: For imagenet2012 (required there): a wsolevaluation metadata folder, e.g.
            `wsolevaluation/metadata/ILSVRC/test`, whose boxes (and labels) are evaluated. Defaults to None.
        image_root: For imagenet2012: the folder its metadata paths are relative to; None reads the tfds
            `imagenet2012` validation images. Defaults to None.
        max_eval_images: Evaluate localization on at most this many test images (the first ones). Defaults
            to None: all of them.
        **overrides: `Config` fields applied over the preset (e.g. `epochs`, `weights`, `data_dir`,
            `strategy`, `dataset`).

    Returns:
        The dict written to `workdir/results.json` (`results_<cam_method>.json` for Grad-CAM).

    Raises:
        ConfigError: For a bad argument (before anything is written).
    """
    config, preset = resolve_config(config, **overrides)
    runs = check_wsol(config, workdir, methods, seeds, cam_method, eval_only, overwrite, wsol_metadata, image_root,
                      max_eval_images, num_examples)
    name = f"localization_{cam_method}"
    evaluator = {name: localization_evaluator(cam_method, num_examples, wsol_metadata=wsol_metadata,
                                              image_root=image_root, max_images=max_eval_images)}
    per_seed = {method: {seed: summary[name] for seed, summary in by_seed.items()}
                for method, by_seed in run_all(runs, evaluator).items()}
    first_dirs = {}
    for run in runs:
        first_dirs.setdefault(run.method, run.workdir)
    summary = summarize(per_seed, PAPER_TOP1_LOC.get(preset))
    baselines = summarize_baselines(per_seed)
    output = {"preset": preset, "cam_method": cam_method, "seeds": [int(s) for s in seeds],
              "config": config.to_dict(), "methods": summary, "baselines": baselines}
    os.makedirs(workdir, exist_ok=True)
    basename = os.path.join(workdir, results_basename(cam_method))
    results_io.write_json(basename + ".json", output)
    with open(basename + ".md", "w") as f:
        paper_table = WSOL_PRESETS[preset].paper_table if preset in WSOL_PRESETS else "Table 9"
        f.write(markdown_table(summary, baselines, config, cam_method, seeds, paper_title="paper top-1 Loc" + (
            "" if paper_table == "Table 9" else f", {paper_table}")))
    write_pictures(workdir, first_dirs, cam_method)
    return output
