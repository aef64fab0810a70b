"""`compare_methods`: every method with the same seed, data and budget.

    from keras_cutmix import training
    training.compare_methods(training.get_config(), "/tmp/compare")

Runs `train_and_evaluate` once per method in `workdir/<method>/` (each one
resumable; finished ones are not rerun), then writes:

    compare.json   {method: summary} plus the config and wall times
    compare.md     the results table (best and final top-1 / top-5 error)
    compare.png    test top-1 error per epoch, one line per method

Only `method` changes between the runs: the seed, hence the initial weights
and the order and augmentation of the images, is the same for all.
"""

import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from keras_cutmix.training import results as results_lib  # noqa: E402
from keras_cutmix.training.config import METHODS, Config  # noqa: E402
from keras_cutmix.training.train import train_and_evaluate  # noqa: E402


def plot_errors(results, path, title):
    """Saves a PNG of test top-1 error (%) per epoch, one line per method."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for method, r in results.items():
        errors = r["test_top1_error"]
        ax.plot(range(1, len(errors) + 1), errors, marker="o", markersize=3, label=
                f"{method} (best {r['top1_error_best']:.1f}%, final {r['top1_error_final']:.1f}%)")
    ax.set_yscale("log")  # Final errors differ by tenths of a percent; early ones by tens.
    ax.set_xlabel("epoch")
    ax.set_ylabel("test top-1 error (%, log scale)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def compare_methods(config, workdir, methods=METHODS):
    """Trains each method with `config`'s seed and budget; writes table and plot.

    Args:
        config: A `Config`; its `method` is replaced by each of `methods`.
        workdir: Output directory; method `m` trains in `workdir/m`.
        methods: Methods to compare, in table order. Defaults to all four.

    Returns:
        `{method: summary}` as in `train_and_evaluate`, each summary with an
        added `train_time_s` (sum of the epoch times).

    Raises:
        ValueError: For an unknown method or an invalid config.
    """
    if isinstance(config, dict):
        config = Config.from_dict(config)
    methods = list(methods)
    for method in methods:
        if method not in METHODS:
            raise ValueError(f"Expected `methods` from {list(METHODS)}. Received: {method!r}")
    os.makedirs(workdir, exist_ok=True)
    start = time.perf_counter()
    summaries = {}
    for method in methods:
        run_dir = os.path.join(workdir, method)
        summary = train_and_evaluate(config.replace(method=method), run_dir)[method]
        history = results_lib.read_json(os.path.join(run_dir, "history.json"), default=[])
        summary["train_time_s"] = round(sum(e.get("epoch_time_s", 0.0) for e in history), 1)
        summaries[method] = summary
    wall = time.perf_counter() - start
    results_lib.write_json(os.path.join(workdir, "compare.json"), {
        "config": config.to_dict(),
        "results": summaries,
        "wall_time_s_this_call": round(wall, 1),
        "train_time_s_total": round(sum(s["train_time_s"] for s in summaries.values()), 1),
    })
    table = results_lib.markdown_table(summaries, config)
    times = ", ".join(f"{m} {s['train_time_s']:.0f} s" for m, s in summaries.items())
    with open(os.path.join(workdir, "compare.md"), "w") as f:
        f.write(table + f"\nTraining time (sum of epochs): {times}.\n\n![test error](compare.png)\n")
    title = f"{config.model} on {config.dataset}: {config.epochs} epochs, seed {config.seed}"
    plot_errors(summaries, os.path.join(workdir, "compare.png"), title)
    return summaries
