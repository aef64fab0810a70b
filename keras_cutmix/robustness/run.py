"""`run_robustness`: one model per method (trained or reused), robustness evaluated, table and Figure 5.

    from keras_cutmix import robustness
    robustness.run_robustness("/tmp/robustness")  # The embedded default: four small_cnn models.

Writes to `workdir`: results.json (every number per method, and each run's workdir and config), results.md
(Table 11's layout) and figure5.png; each model's numbers also go into its run's results.json (`"robustness"`).
"""

import os

from keras_cutmix import training
from keras_cutmix.robustness import report
from keras_cutmix.robustness.evaluate import check_options, robustness_evaluator
from keras_cutmix.training import results as results_io


def run_robustness(workdir, config=None, workdirs=None, models_dir=None, methods=training.METHODS, seed=0,
                   num_images=1000, num_pairs=500, pgd_steps=10, batch_size=128):
    """Trains or reuses one model per method, evaluates robustness, writes the table and Figure 5.

    Args:
        workdir: Output directory.
        config: `Config` of the models trained here. Defaults to `training.get_config(seed=seed)`.
        workdirs: `{method: dir}` of classification runs to evaluate instead of training. Defaults to None.
        models_dir: Where the other models train. Defaults to `workdir/models`.
        methods: Methods, in table order. Defaults to all four.
        seed: Seed of PGD's start and of the pairs. Defaults to 0.
        num_images, num_pairs, pgd_steps, batch_size: As `robustness_evaluator` (defaults 1000, 500, 10, 128).

    Returns:
        `{method: evaluate_robustness dict}` (also in `workdir/results.json`).

    Raises:
        ValueError: For `num_images` < 2, `num_pairs` < 1, `pgd_steps` < 0 or `batch_size` < 1 (NumPy
            integers are accepted), or runs `training.method_runs` refuses; before any model trains.
    """
    options = check_options("run_robustness", num_images=num_images, num_pairs=num_pairs, pgd_steps=pgd_steps,
                            seed=seed, batch_size=batch_size)
    options.pop("verbose")
    config = config or training.get_config(seed=options["seed"])
    runs = training.plan_runs(config, models_dir or os.path.join(workdir, "models"), methods, workdirs=workdirs)
    evaluator = robustness_evaluator(**options)
    results = {method: s["robustness"] for method, by_seed in training.run_all(
        runs, {"robustness": evaluator}, by_seed=False).items() for s in by_seed.values()}
    datasets = sorted({r.config.dataset for r in runs})
    line = f"{', '.join(sorted({r.config.model for r in runs}))} on {', '.join(datasets)}"
    os.makedirs(workdir, exist_ok=True)
    results_io.write_json(os.path.join(workdir, "results.json"), {
        "runs": {r.method: {"workdir": r.workdir, "config": r.config.to_dict()} for r in runs}, "results": results})
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(report.markdown_table(results, line, with_paper=datasets == ["imagenet2012"]))
    report.plot_figure5(os.path.join(workdir, "figure5.png"), results, title=f"Robustness: {line}")
    return results
