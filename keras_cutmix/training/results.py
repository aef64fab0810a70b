"""Per-epoch history that survives a restart, and the results files.

A run's workdir ends up holding:

    config.json    the resolved `Config`
    history.json   one dict per epoch: loss, top1, top5, val_*, lr (of the
                   epoch's first step) and epoch_time_s
    history.csv    the same, as a table
    results.json   {method: {top1_error_best, top5_error_best,
                             top1_error_final, top5_error_final, best_epoch, ...}}
    results.md     the same as a Markdown table, with the paper's numbers

Errors are in percent. "Best" follows the official code: the lowest top-1
error over the evaluated epochs (the last one if tied), with the top-5 error
of that same epoch; "final" is the last epoch.
"""

import csv
import json
import os

import keras

from keras_cutmix.training.config import PAPER_RESULTS, PRESETS


def write_json(path, obj):
    """Writes `obj` as indented JSON, atomically (via a temporary file)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path, default=None):
    """Returns the JSON in `path`, or `default` if the file does not exist."""
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


class EpochHistory(keras.callbacks.Callback):
    """Writes `history.json` and `history.csv` after every epoch.

    Entries of epochs before `initial_epoch` (those a resumed run does not
    repeat) are kept from the existing file; later ones are replaced.

    Args:
        workdir: Directory of the two files.
        initial_epoch: First epoch this run trains. Defaults to 0.
    """

    def __init__(self, workdir, initial_epoch=0):
        super().__init__()
        self.json_path = os.path.join(workdir, "history.json")
        self.csv_path = os.path.join(workdir, "history.csv")
        old = read_json(self.json_path, default=[])
        self.history = [e for e in old if e["epoch"] < initial_epoch]

    def on_epoch_begin(self, epoch, logs=None):
        # The rate of the epoch's first step (the optimizer's step count is restored by now).
        self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        entry = {"epoch": int(epoch)}
        entry.update({k: float(v) for k, v in (logs or {}).items()})
        entry["lr"] = self._lr
        self.history = [e for e in self.history if e["epoch"] < epoch] + [entry]
        write_json(self.json_path, self.history)
        keys = sorted({k for e in self.history for k in e}, key=lambda k: (k != "epoch", k))
        with open(self.csv_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.history)


def summarize(history):
    """Top-1 / top-5 test errors (%) of a history: best and final.

    Args:
        history: List of per-epoch dicts with `val_top1` and `val_top5`
            accuracies (fractions).

    Returns:
        Dict with `top1_error_best`, `top5_error_best` (of the best top-1
        epoch), `best_epoch` (1-based), `top1_error_final`,
        `top5_error_final`, `epochs`, and `test_top1_error` /
        `test_top5_error` lists per epoch.

    Raises:
        ValueError: If no epoch was evaluated.
    """
    evaluated = [e for e in history if "val_top1" in e]
    if not evaluated:
        raise ValueError(
            "Expected a history with `val_top1` entries. "
            f"Received: {len(history)} epochs, none evaluated"
        )
    top1 = [round(100.0 * (1.0 - e["val_top1"]), 4) for e in evaluated]
    top5 = [round(100.0 * (1.0 - e["val_top5"]), 4) for e in evaluated]
    # Official code: `is_best = err1 <= best_err1`, so the last of tied epochs wins.
    best = min(range(len(top1)), key=lambda i: (top1[i], -i))
    return {
        "top1_error_best": top1[best],
        "top5_error_best": top5[best],
        "best_epoch": evaluated[best]["epoch"] + 1,
        "top1_error_final": top1[-1],
        "top5_error_final": top5[-1],
        "epochs": len(history),
        "test_top1_error": top1,
        "test_top5_error": top5,
    }


def matching_preset(config):
    """The `PRESETS` key with `config`'s dataset and model, else `None`."""
    for name, preset in PRESETS.items():
        if preset["dataset"] == config.dataset and preset["model"] == config.model:
            return name
    return None


def markdown_table(results, config):
    """A Markdown table of `{method: summary}`, with the paper's numbers if known.

    Args:
        results: Dict mapping a method to a `summarize` dict.
        config: The `Config` of the runs (names the dataset and model; the
            paper's columns appear for a preset's dataset and model).

    Returns:
        The table as a string, with a title line.
    """
    paper = PAPER_RESULTS.get(matching_preset(config), {})
    header = "| method | top-1 err best | top-5 err best | top-1 err final | top-5 err final | best epoch |"
    rule = "|---|---|---|---|---|---|"
    if paper:
        header += " paper top-1 | paper top-5 |"
        rule += "---|---|"
    lines = [
        f"## {config.model} on {config.dataset}, {config.epochs} epochs, seed {config.seed}",
        "",
        "Test error in %; best = epoch of lowest top-1 error (as the official code).",
        "",
        header,
        rule,
    ]
    for method, r in results.items():
        row = (
            f"| {method} | {r['top1_error_best']:.2f} | {r['top5_error_best']:.2f} "
            f"| {r['top1_error_final']:.2f} | {r['top5_error_final']:.2f} | {r['best_epoch']} |"
        )
        if paper:
            p = paper.get(method)
            row += f" {p['top1_error']:.2f} | {p['top5_error']:.2f} |" if p else " - | - |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def write_results(workdir, results, config, basename="results"):
    """Writes `{basename}.json` and `{basename}.md` for `{method: summary}`."""
    write_json(os.path.join(workdir, f"{basename}.json"), results)
    with open(os.path.join(workdir, f"{basename}.md"), "w") as f:
        f.write(markdown_table(results, config))
