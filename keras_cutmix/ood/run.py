"""`run_ood`: one model per method (trained or reused), OOD detection and calibration, tables and plots.

    from keras_cutmix import ood
    ood.run_ood("/tmp/ood")  # The embedded default: four small_cnn models, noise and novel-shape sets.

Writes to `workdir`: results.json (every number per method, each run's workdir and config), results.md (Table 12's
mean and Table A2 per set, with ECE), roc_<set>.png and reliability_<method>.png; each model's numbers also go into
its run's results.json (`"ood"`).
"""

import os

from keras_cutmix import checks, data, training
from keras_cutmix.ood import report
from keras_cutmix.ood.evaluate import check_sets, default_ood_sets, ood_evaluator
from keras_cutmix.training import results as results_io


def run_ood(workdir, config=None, workdirs=None, models_dir=None, methods=training.METHODS, seed=0,
            num_images=1000, num_ood_images=1000, extra_sets=None, batch_size=256):
    """Trains or reuses one model per method, evaluates OOD detection and calibration, writes the outputs.

    Args:
        workdir: Output directory.
        config: `Config` of the models trained here. Defaults to `training.get_config(seed=seed)`.
        workdirs: `{method: dir}` of classification runs to evaluate instead of training. Defaults to None.
        models_dir: Where the other models train. Defaults to `workdir/models`.
        methods: Methods, in table order. Defaults to all four.
        seed: Seed of the generated OOD sets. Defaults to 0.
        num_images: In-distribution test images. Defaults to 1000.
        num_ood_images: Images of each generated set (ODIN: 10,000). Defaults to 1000.
        extra_sets: More `{name: load}` sets (`ood.evaluate.tfds_set`, `folder_set`). Defaults to None.
        batch_size: Images per model call (and per batch read from disk). Defaults to 256.

    Returns:
        `{method: evaluate_ood dict}` (also in `workdir/results.json`).

    Raises:
        ValueError: Before any model trains: if the runs do not share one data set and image shape (the OOD sets are
            built once), for a `num_images`, `num_ood_images` or `batch_size` that is not an int >= 1, malformed
            `extra_sets` or a `seed` that is not an int >= 0.
    """
    caller = "run_ood"
    num_images = checks.count("num_images", num_images, caller)
    num_ood_images = checks.count("num_ood_images", num_ood_images, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    seed = checks.count("seed", seed, caller, minimum=0)
    if extra_sets is not None:
        check_sets(extra_sets, caller)
    config = config or training.get_config(seed=seed)
    runs = training.plan_runs(config, models_dir or os.path.join(workdir, "models"), methods, workdirs=workdirs)
    shapes = {(r.config.dataset, data.dataset_spec(r.config.dataset, image_size=r.config.image_size).image_shape)
              for r in runs}
    if len(shapes) != 1:
        raise ValueError(f"Expected every run on one data set and image shape. Received: {sorted(shapes)}")
    (dataset, shape), = shapes
    sets = {**default_ood_sets(dataset, shape, num_ood_images, seed), **(extra_sets or {})}
    by_method = training.run_all(runs, {"ood": ood_evaluator(sets, num_images, batch_size)}, by_seed=False)
    results = {method: s["ood"] for method, by_seed in by_method.items() for s in by_seed.values()}
    line = f"{', '.join(sorted({r.config.model for r in runs}))} on {dataset}"
    os.makedirs(workdir, exist_ok=True)
    results_io.write_json(os.path.join(workdir, "results.json"), {
        "runs": {r.method: {"workdir": r.workdir, "config": r.config.to_dict()} for r in runs}, "results": results})
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(report.markdown_tables(results, line, with_paper=dataset == "cifar100"))
    report.write_plots(workdir, results, line)
    return results
