"""`compare_methods`: every method with the same seeds, data and budget.

    from keras_cutmix import training
    training.compare_methods(training.get_config(), "/tmp/compare", seeds=(0, 1, 2))

Runs `train_and_evaluate` once per method and seed in `workdir/<method>/seed_<seed>/` through the one runner
(`method_runs.plan_runs` and `run_all`: each run resumable, finished ones not rerun), then writes:

    compare.json   {method: {mean, std, per-seed summaries}} plus the config, the seeds and the wall times
    compare.md     the table: mean and standard deviation over the seeds of the best and final top-1 / top-5 errors
    compare.png    mean test top-1 error per epoch, one line per method, shaded between the lowest and highest seed

Only `method` changes between the runs of one seed: the seed, hence the initial weights and the order and
augmentation of the images, is the same for all methods. The spread is the sample standard deviation over the
seeds (`ddof=1`); with one seed there is none, and no difference between methods can be told from noise.
"""

import os
import statistics
import time

from keras_cutmix.training import results as results_lib
from keras_cutmix.training.config import METHODS, Config
from keras_cutmix.training.method_runs import check_seeds, plan_runs, run_all
from keras_cutmix.visualization.figures import new_figure, save_figure

# The summary fields averaged over seeds.
METRICS = ("top1_error_best", "top5_error_best", "top1_error_final", "top5_error_final")


def aggregate(per_seed):
    """Mean and sample standard deviation over seeds of each of `METRICS`.

    Args:
        per_seed: `{str(seed): summary}` (`results.summarize` dicts).

    Returns:
        `{"mean": {metric: float}, "std": {metric: float or None}, "num_seeds": int, "seeds": per_seed,
        "train_time_s": float}`; `std` is None for a single seed.
    """
    summaries = list(per_seed.values())
    stats = {m: results_lib.mean_std(s[m] for s in summaries) for m in METRICS}
    return {"mean": {m: v[0] for m, v in stats.items()}, "std": {m: v[1] for m, v in stats.items()},
            "num_seeds": len(summaries), "seeds": per_seed,
            "train_time_s": round(sum(s.get("train_time_s", 0.0) for s in summaries), 1)}


def _cell(aggregated, metric):
    mean, std = aggregated["mean"][metric], aggregated["std"][metric]
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def markdown_table(results, config, seeds):
    """The Markdown table of `compare_methods`: mean ± std over seeds, and each seed's final top-1."""
    columns = list(results_lib.TRAINING_COLUMNS[:4]) + ["top-1 err final per seed"]
    rows = {method: {**{m: {"mean": a["mean"][m], "std": a["std"][m]} for m in METRICS},
                     "top-1 err final per seed": ", ".join(
                         f"{a['seeds'][str(s)]['top1_error_final']:.2f}" for s in seeds)}
            for method, a in results.items()}
    return results_lib.markdown_table(
        rows, columns,
        title=f"## {config.model} on {config.dataset}, {config.epochs} epochs, "
              f"seeds {', '.join(str(s) for s in seeds)}",
        intro=f"Test error in %, mean ± sample standard deviation over {len(seeds)} seed(s); "
              "best = epoch of lowest top-1 error (as the official code).")


def plot_errors(results, path, title):
    """Saves a PNG of mean test top-1 error (%) per epoch, one line per method, seed range shaded."""
    fig, ax = new_figure(figsize=(7, 4.5), dpi=120)
    for method, a in results.items():
        curves = [s["test_top1_error"] for s in a["seeds"].values()]
        epochs = range(1, min(len(c) for c in curves) + 1)
        by_epoch = [[c[e - 1] for c in curves] for e in epochs]
        line, = ax.plot(epochs, [statistics.fmean(v) for v in by_epoch], marker="o", markersize=3,
                        label=f"{method} (final {_cell(a, 'top1_error_final')}%)")
        if len(curves) > 1:
            ax.fill_between(epochs, [min(v) for v in by_epoch], [max(v) for v in by_epoch],
                            color=line.get_color(), alpha=0.2)
    ax.set_yscale("log")  # Final errors differ by tenths of a percent; early ones by tens.
    ax.set_xlabel("epoch")
    ax.set_ylabel("test top-1 error (%, log scale)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def compare_methods(config, workdir, methods=METHODS, seeds=None, overwrite=False):
    """Trains each method with each seed and `config`'s budget; writes table and plot.

    Args:
        config: A `Config`; its `method` and `seed` are replaced by each of `methods` and `seeds`.
        workdir: Output directory; method `m` and seed `s` train in `workdir/m/seed_s`.
        methods: Methods to compare, in table order. Defaults to all four.
        seeds: Seeds to run each method with. Defaults to `(config.seed,)`; use at least 3 to see the spread.
        overwrite: Passed to `train_and_evaluate`: delete runs of another config found in the run directories.
            Defaults to False.

    Returns:
        `{method: aggregate}` (see `aggregate`): mean and standard deviation of the errors over the seeds, and
        each seed's summary (as in `train_and_evaluate`, with `train_time_s`, the sum of its epoch times).

    Raises:
        ConfigError: (a `ValueError`) for an unknown method, a bad seed, an invalid config or workdir, or a run
            directory holding a run of another config (without `overwrite`); raised before any run trains.
        keras_cutmix.data.DatasetNotFoundError: If the data set is missing.
    """
    config = Config.from_dict(config) if isinstance(config, dict) else config
    config.validate()
    seeds = check_seeds([config.seed] if seeds is None else seeds)
    runs = plan_runs(config, workdir, methods, seeds, overwrite=overwrite)
    start = time.perf_counter()
    results = {method: aggregate({str(seed): summary for seed, summary in by_seed.items()})
               for method, by_seed in run_all(runs).items()}
    wall = time.perf_counter() - start
    results_lib.write_json(os.path.join(workdir, "compare.json"), {
        "config": config.to_dict(), "seeds": seeds, "results": results, "wall_time_s_this_call": round(wall, 1),
        "train_time_s_total": round(sum(a["train_time_s"] for a in results.values()), 1)})
    table = markdown_table(results, config, seeds)
    times = ", ".join(f"{m} {a['train_time_s']:.0f} s" for m, a in results.items())
    with open(os.path.join(workdir, "compare.md"), "w") as f:
        f.write(table + f"\nTraining time (sum of epochs over seeds): {times}.\n\n"
                "![test error](compare.png)\n")
    title = f"{config.model} on {config.dataset}: {config.epochs} epochs, mean of {len(seeds)} seed(s)"
    plot_errors(results, os.path.join(workdir, "compare.png"), title)
    return results
