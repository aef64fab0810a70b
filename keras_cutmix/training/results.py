"""Per-epoch history that survives a restart (history.json / .csv: loss, top1, top5, val_*, lr of the epoch's
first step, epoch_time_s), the results files (results.json / .md, `summarize` and `training_table`) and the one
Markdown table writer of every results.md. `resumable`'s docstring lists all of a workdir's files.

Errors are in percent. "Best" follows the official code: the lowest top-1 error over the evaluated epochs (the
last one if tied), with the top-5 error of that same epoch; "final" is the last epoch.
"""

import csv
import dataclasses
import json
import os
import statistics
from typing import Optional

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

    Entries of epochs before `initial_epoch` (those a resumed run does not repeat) are kept from the existing
    file; later ones are replaced.

    Args:
        workdir: Directory of the two files.
        initial_epoch: First epoch this run trains. Defaults to 0.
    """

    def __init__(self, workdir, initial_epoch=0):
        super().__init__()
        self.json_path = os.path.join(workdir, "history.json")
        self.csv_path = os.path.join(workdir, "history.csv")
        self.history = [e for e in read_json(self.json_path, default=[]) if e["epoch"] < initial_epoch]

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
        history: List of per-epoch dicts with `val_top1` and `val_top5` accuracies (fractions).

    Returns:
        Dict with `top1_error_best`, `top5_error_best` (of the best top-1 epoch), `best_epoch` (1-based),
        `top1_error_final`, `top5_error_final`, `epochs`, and `test_top1_error` / `test_top5_error` lists per epoch.

    Raises:
        ValueError: If no epoch was evaluated.
    """
    evaluated = [e for e in history if "val_top1" in e]
    if not evaluated:
        raise ValueError(f"Expected a history with `val_top1` entries. Received: {len(history)} epochs, none evaluated")
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


def mean_std(values):
    """`(mean, sample std)` of `values`, rounded to 4 decimals; the std is None for one value.

    The one rule of every table and results file that averages over seeds (`ddof=1`).
    """
    values = [float(v) for v in values]
    return (round(statistics.fmean(values), 4),
            round(statistics.stdev(values), 4) if len(values) > 1 else None)


@dataclasses.dataclass(frozen=True)
class Column:
    """A column of `markdown_table`.

    Attributes:
        title: The header.
        key: The key of the rows' dicts. Defaults to `title`.
        digits: Decimals of its numbers. Defaults to 2.
        best: Whether the highest number of the column is set in bold. Defaults to False.
        diff_to: A row whose value each other row's cell adds as `(+x)`. Defaults to None.
    """

    title: str
    key: Optional[str] = None
    digits: int = 2
    best: bool = False
    diff_to: Optional[str] = None


def _number(value, digits):
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else f"{value:.{digits}f}"


def _cell(value, digits):
    """A number, `[per-seed numbers]` (mean ± std), `{"mean", "std"}`, a tuple (joined by " / "), text or None."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        value = dict(zip(("mean", "std"), mean_std(value)))
    if isinstance(value, dict):
        mean, std = value["mean"], value["std"]
        return _number(mean, digits) if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"
    if isinstance(value, tuple):
        return " / ".join(_number(v, digits) for v in value)
    return _number(value, digits)


def markdown_table(rows, columns, paper=None, title=None, intro=None, note=None, row_title="method"):
    """The one Markdown table writer of every `results.md`: rows x columns, the paper's columns last.

    Args:
        rows: `{row name: {column key: value}}`. A value is a number, a list of per-seed numbers (shown as mean ±
            sample std when there are more than one), a `{"mean": m, "std": s or None}` dict, a tuple of numbers
            (joined by " / "), text, or missing / None ("-").
        columns: `Column`s or titles, in order.
        paper: `{Column or title: {row name: value}}`: the paper's numbers, after ours; a row the paper lacks
            shows "-". Defaults to None.
        title: A heading line before the table. Defaults to None.
        intro: A paragraph between the heading and the table. Defaults to None.
        note: A paragraph after the table. Defaults to None.
        row_title: The first column's header. Defaults to "method".

    Returns:
        The text, ending with a newline.

    Example:

        markdown_table({"cutmix": {"top-1": [14.4, 14.6]}}, ["top-1"], {"paper": {"cutmix": 14.47}})
        # | method | top-1 | paper |
        # |---|---|---|
        # | cutmix | 14.50 ± 0.14 | 14.47 |
    """
    ours = [c if isinstance(c, Column) else Column(c) for c in columns]
    theirs = [(c if isinstance(c, Column) else Column(c), values) for c, values in (paper or {}).items()]
    cells = {name: [] for name in rows}
    for column in ours:
        key = column.key or column.title
        numbers = {name: row.get(key) for name, row in rows.items()}
        best = max((v for v in numbers.values() if v is not None), default=None) if column.best else None
        for name, value in numbers.items():
            text = _cell(value, column.digits)
            reference = numbers.get(column.diff_to)
            if column.diff_to in numbers and name != column.diff_to and value is not None:
                text += f" ({value - reference:+.{column.digits}f})"
            cells[name].append(f"**{text}**" if best is not None and value == best else text)
    for column, values in theirs:
        for name in rows:
            cells[name].append(_cell(values.get(name), column.digits))
    titles = [row_title] + [c.title for c in ours] + [c.title for c, _ in theirs]
    lines = [f"{title}", ""] if title else []
    lines += [intro, ""] if intro else []
    lines += ["| " + " | ".join(titles) + " |", "|---" * len(titles) + "|"]
    lines += ["| " + " | ".join([name] + row) + " |" for name, row in cells.items()]
    lines += ["", note] if note else []
    return "\n".join(lines) + "\n"


TRAINING_COLUMNS = (Column("top-1 err best", "top1_error_best"), Column("top-5 err best", "top5_error_best"),
                    Column("top-1 err final", "top1_error_final"), Column("top-5 err final", "top5_error_final"),
                    Column("best epoch", "best_epoch"))


def training_table(results, config):
    """The `results.md` of one training run: `{method: summary}`, with the paper's numbers if known.

    Args:
        results: Dict mapping a method to a `summarize` dict.
        config: The `Config` of the runs (names the dataset and model; the paper's columns appear for a preset's
            dataset and model).

    Returns:
        The table as a string, with a title line.
    """
    paper = next((PAPER_RESULTS[name] for name, preset in PRESETS.items()  # The preset of this dataset and model.
                  if preset["dataset"] == config.dataset and preset["model"] == config.model), {})
    columns = {"paper top-1": {m: p["top1_error"] for m, p in paper.items()},
               "paper top-5": {m: p["top5_error"] for m, p in paper.items()}} if paper else None
    return markdown_table(
        results, TRAINING_COLUMNS, columns,
        title=f"## {config.model} on {config.dataset}, {config.epochs} epochs, seed {config.seed}",
        intro="Test error in %; best = epoch of lowest top-1 error (as the official code).")


def write_results(workdir, results, config):
    """Writes `results.json` and `results.md` for `{method: summary}`."""
    write_json(os.path.join(workdir, "results.json"), results)
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(training_table(results, config))
