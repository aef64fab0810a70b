"""One resumable run in a workdir: what classifiers, detectors and captioners all train through.

    config = {"epochs": 3, "seed": 0, ...}             # JSON-ready: what the trained weights depend on
    check_workdir(workdir, config, overwrite)          # Before anything is read or written: may refuse.
    history = finished(workdir, config)                # A finished run of this config: reuse it.
    if history is None:
        initial_epoch = start(workdir, config, overwrite)        # Deletes (overwrite), writes config.json.
        model = build_and_compile()
        history = fit(model, workdir, train_data, epochs=3, steps_per_epoch=100, initial_epoch=initial_epoch)
    model.load_weights(last_weights(workdir))          # The final weights, trained or reused.

`train(workdir, config, build, train_data, ...)` is that sequence for a model that needs nothing else.
A run writes these files in its workdir (and `overwrite` deletes only `RUN_FILES` and `RUN_DIRS`):

    config.json              the config, written before training
    history.json, .csv       one entry per finished epoch (`results.EpochHistory`), with `epoch_time_s`
    backup/                  keras.callbacks.BackupAndRestore (deleted by Keras when training ends)
    checkpoints/last.weights.h5   the weights (and optimizer state) after every epoch
    results.json, .md        the summary (`results.write_results`) of `train.train_and_evaluate`
    checkpoints/best.weights.h5, tensorboard/   its best epoch and TensorBoard logs

A killed run, called again with the same config, continues from its last finished epoch: BackupAndRestore
restores the model and optimizer (step count, momentum), `_RandomStates` the seed generators' states (dropout),
and `train_data(initial_epoch)` gives the batches an uninterrupted run would read from there, so it ends with
the same weights. A run is finished when its history holds `config["epochs"]` epochs and no backup is left; a
workdir holding a run (finished or interrupted) of another config is refused (`WorkdirInUseError`) before
anything is touched, unless `overwrite`. Fields in `free_fields` (e.g. verbosity, the data directory) may
change between calls. An epoch with a NaN or infinite loss or weight raises `TrainingDivergedError` (see
`_StopOnDivergence`): the workdir keeps the last finite epoch.
"""

import json
import math
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix.training import results
from keras_cutmix.training.config import ConfigError

# What `overwrite=True` deletes (nothing else).
RUN_FILES = ("config.json", "history.json", "history.csv", "results.json", "results.md")
RUN_DIRS = ("backup", "checkpoints", "tensorboard")


class WorkdirInUseError(ConfigError):
    """The workdir holds a run (finished or interrupted) of another config; `name` is "workdir"."""


class TrainingDivergedError(RuntimeError):
    """Training made the loss or the weights NaN or infinite (the run stays at its last finite epoch)."""


class _StopOnDivergence(keras.callbacks.Callback):
    """Raises `TrainingDivergedError` at the end of an epoch with a non-finite loss or weight.

    First of the run's callbacks: the epoch is neither recorded nor backed up nor checkpointed. The weights
    are checked too: the last update of an epoch can make them NaN under a finite mean loss.
    """

    def __init__(self, workdir):
        super().__init__()
        self.workdir = workdir

    def on_epoch_end(self, epoch, logs=None):
        # Training numbers only: a NaN validation loss (degenerate test batches) says nothing of the weights.
        received = [f"{key} {value}" for key, value in (logs or {}).items()
                    if not key.startswith("val_") and isinstance(value, (int, float, np.number))
                    and not math.isfinite(float(value))]
        variables = [v.path for v in self.model.trainable_variables
                     if not np.all(np.isfinite(keras.ops.convert_to_numpy(v)))]
        if variables:
            received.append(f"NaN or infinite values in {len(variables)} weights (first: {variables[0]})")
        if received:
            raise TrainingDivergedError(
                f"{self.workdir}: training diverged in epoch {epoch + 1}. Expected a finite loss and finite "
                f"weights. Received: {'; '.join(received)}. The run stays at epoch {epoch}, its last finite "
                f"one; lower the learning rate or clip the gradients, then run again with --overwrite.")


class EpochTimer(keras.callbacks.Callback):
    """Adds `epoch_time_s` (wall seconds of the epoch, with evaluation) to the logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_time_s"] = time.perf_counter() - self._start


class _RandomStates(keras.callbacks.Callback):
    """Keeps the model's non-trainable variables (Dropout's seed generator states among them) in the backup.

    BackupAndRestore restores weights and optimizer but not the seed generators' states: a resumed run would
    draw other dropout masks than an uninterrupted one. Saved after each epoch with its number, restored when
    training begins only if that number is the backup's epoch.
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.backup_dir = backup_dir
        self.path = os.path.join(backup_dir, "random_states.npz")

    def on_train_begin(self, logs=None):
        if not os.path.exists(self.path):
            return
        saved = np.load(self.path)
        variables = self.model.non_trainable_variables
        if int(saved["epoch"]) == backup_epoch(self.backup_dir) and len(saved.files) == len(variables) + 1:
            for i, variable in enumerate(variables):
                variable.assign(saved[f"v{i}"])

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        arrays = {f"v{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self.model.non_trainable_variables)}
        tmp = f"{self.path}.tmp.npz"
        np.savez(tmp, epoch=epoch + 1, **arrays)
        os.replace(tmp, self.path)


def backup_epoch(backup_dir):
    """Epochs finished according to the `training_metadata.json` of a BackupAndRestore directory (0 if none)."""
    return int(results.read_json(os.path.join(backup_dir, "training_metadata.json"), default={"epoch": 0})["epoch"])


def last_weights(workdir):
    """The path of a run's last checkpoint, `workdir/checkpoints/last.weights.h5`."""
    return os.path.join(workdir, "checkpoints", "last.weights.h5")


def changed_fields(previous, config, free_fields=()):
    """Fields (other than `free_fields`) where `config` differs from a saved config."""
    now = json.loads(json.dumps(config))  # As it reads back from config.json (tuples become lists).
    return sorted(k for k in now if k not in free_fields and previous.get(k) != now[k])


def check_workdir(workdir, config, overwrite=False, free_fields=()):
    """Refuses a workdir that is a file, or that holds another config's run (unless `overwrite`).

    Args:
        workdir: The run's directory (it need not exist).
        config: The run's config, a JSON-ready dict with an "epochs" entry.
        overwrite: Whether the run in `workdir` will be deleted (then any config is accepted). Defaults to False.
        free_fields: Fields that may differ from the saved config. Defaults to none.

    Raises:
        ConfigError: naming "workdir" if `workdir` is not a path or is a file.
        WorkdirInUseError: (a `ConfigError` naming "workdir") if `workdir` holds a run of another config
            and not `overwrite`. Nothing is written either way.
    """
    if not isinstance(workdir, (str, os.PathLike)) or not os.fspath(workdir):
        raise ConfigError("workdir", f"Expected `workdir` to be a path. Received: workdir={workdir!r}")
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ConfigError("workdir", "Expected `workdir` to be a directory (or not to exist). "
                                     f"Received: workdir={workdir!r}, which is a file")
    previous = results.read_json(os.path.join(workdir, "config.json"))
    changed = [] if overwrite or previous is None else changed_fields(previous, config, free_fields)
    if not changed:
        return
    if os.path.exists(os.path.join(workdir, "backup")):
        raise WorkdirInUseError("workdir", f"Expected the config of the interrupted run in workdir={workdir!r} to "
                                           f"resume it. Received changes to {changed}; use a new workdir, or "
                                           "overwrite=True (--overwrite) to delete that run.")
    done = len(results.read_json(os.path.join(workdir, "history.json"), default=[]))
    state = ("a finished run" if done >= previous.get("epochs", 0)
             else f"a run stopped after {done} of {previous.get('epochs')} epochs")
    raise WorkdirInUseError("workdir", f"Expected workdir={workdir!r} to be new or to hold a run of this config; "
                                       f"it holds {state} with other values of {changed}. Nothing was changed: use "
                                       "a new workdir, or overwrite=True (--overwrite) to delete that run and train "
                                       "this one.")


def finished(workdir, config, free_fields=()):
    """The history of a finished run of `config` in `workdir` (all its epochs, no backup left), else None."""
    history = results.read_json(os.path.join(workdir, "history.json"), default=[])
    previous = results.read_json(os.path.join(workdir, "config.json"))
    done = len(history) == config["epochs"] and not os.path.exists(os.path.join(workdir, "backup"))
    same = previous is not None and not changed_fields(previous, config, free_fields)
    return history if done and same else None


def start(workdir, config, overwrite=False):
    """Deletes the run in `workdir` if `overwrite`, writes config.json; returns the epoch to start from.

    Call it after every check and before building the model: only now is the workdir touched.
    """
    if overwrite:
        for name in RUN_FILES:
            path = os.path.join(workdir, name)
            if os.path.exists(path):
                os.remove(path)
        for name in RUN_DIRS:
            shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)
    os.makedirs(workdir, exist_ok=True)
    results.write_json(os.path.join(workdir, "config.json"), config)
    return backup_epoch(os.path.join(workdir, "backup"))


def skip_batches(dataset, steps_per_epoch):
    """`train_data` for `fit` over one seeded stream: `dataset` repeated, the finished epochs' batches skipped.

    The skipped batches are read again (and augmented and mixed, so seeded random streams advance as in an
    uninterrupted run): resuming late in a long run costs that reading.
    """
    return lambda initial_epoch: dataset.repeat().skip(initial_epoch * steps_per_epoch)


def fit(model, workdir, train_data, *, epochs, steps_per_epoch, initial_epoch=0, validation_data=None,
        callbacks=(), verbose=1):
    """Trains the compiled `model` in `workdir` from `initial_epoch`, resumably; returns the history.

    Args:
        model: A compiled `keras.Model`.
        workdir: The run's directory (after `start`).
        train_data: `train_data(initial_epoch)` -> an endless `tf.data.Dataset` of the batches from epoch
            `initial_epoch` on (e.g. `skip_batches(ds, steps_per_epoch)`).
        epochs: Training epochs.
        steps_per_epoch: Batches per epoch.
        initial_epoch: Epochs finished before (`start`'s result). Defaults to 0.
        validation_data: Evaluated after every epoch (`Model.fit`'s). Defaults to None.
        callbacks: Extra callbacks, after the run's own. Defaults to none.
        verbose: `Model.fit`'s progress bars. Defaults to 1.

    Returns:
        The per-epoch history (a list of dicts, as in history.json).
    """
    history = results.EpochHistory(workdir, initial_epoch)
    os.makedirs(os.path.join(workdir, "checkpoints"), exist_ok=True)
    # The divergence check first (a diverged epoch is not saved anywhere); history before the backup: a run
    # killed between the two repeats the epoch.
    backup_dir = os.path.join(workdir, "backup")
    own = [_StopOnDivergence(workdir), EpochTimer(), history, _RandomStates(backup_dir),
           keras.callbacks.BackupAndRestore(backup_dir),
           keras.callbacks.ModelCheckpoint(last_weights(workdir), save_weights_only=True)]
    model.fit(train_data(initial_epoch).prefetch(tf.data.AUTOTUNE), epochs=epochs, steps_per_epoch=steps_per_epoch,
              validation_data=validation_data, shuffle=False, callbacks=[*own, *callbacks], verbose=verbose)
    return history.history


def train(workdir, config, build, train_data, *, steps_per_epoch, overwrite=False, free_fields=(), callbacks=(),
          verbose=1):
    """One resumable run of a model that `build()` makes: trained, resumed, or reused when finished.

    Args:
        workdir, config, overwrite, free_fields: As `check_workdir`'s; `config` needs "epochs".
        build: `build()` -> the compiled model (called once; seeding before it is up to the caller).
        train_data, steps_per_epoch, callbacks, verbose: As `fit`'s.

    Returns:
        `(model, history)`: the model with its last weights (loaded from `last_weights` on a finished run,
        which trains nothing) and the per-epoch history.

    Raises:
        WorkdirInUseError: As `check_workdir`, before anything is built or written.
    """
    check_workdir(workdir, config, overwrite, free_fields)
    history = None if overwrite else finished(workdir, config, free_fields)
    model = build()
    if history is not None:
        model.load_weights(last_weights(workdir))
        return model, history
    initial_epoch = start(workdir, config, overwrite)
    history = fit(model, workdir, train_data, epochs=config["epochs"], steps_per_epoch=steps_per_epoch,
                  initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose)
    return model, history
