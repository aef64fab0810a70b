"""`train_and_evaluate(config, workdir)`: one classification run, resumable.

    from keras_cutmix import training
    results = training.train_and_evaluate(training.get_config(method="cutmix"), "/tmp/run")
    results["cutmix"]["top1_error_best"]

Builds the strategy, the pipelines (`input_pipeline`), the model
(`keras_cutmix.models.get_model`), `TorchSGD` on the epoch-based schedule,
and trains with `Model.fit`: progress bars, validation on the test split
after every epoch, and these files in `workdir`:

    config.json, history.json, history.csv, results.json, results.md
    backup/                  keras.callbacks.BackupAndRestore (deleted at the end)
    checkpoints/last.weights.h5, checkpoints/best.weights.h5
    tensorboard/             keras.callbacks.TensorBoard

Killing the process and calling it again with the same config and workdir
continues from the last finished epoch: BackupAndRestore restores the model
and optimizer (step count, momentum), and the data pipeline skips the
finished epochs' seeds, so the resumed run trains on the same batches and
ends with the same weights as an uninterrupted one (tested on the default
strategy). Calling it on a finished workdir with the same config only
rewrites the results; with another config it refuses (`ConfigError`), so a
finished run is never overwritten by accident: pass `overwrite=True` to
delete its files and train afresh. `evaluators={name: fn}` run after
training on the final model (also on a finished workdir, from its last
checkpoint, without training) and add `results[method][name]`, e.g. the
localization metrics of `keras_cutmix.localization.run_wsol`. `check_run` makes every check that needs
no data (config, workdir, data set prepared, weights file) before anything
is written; the scripts call it first to report a bad flag.

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - flax examples' `train.py` layout.
"""

import importlib.util
import json
import logging
import os
import shutil
import time

import keras
import tensorflow as tf

from keras_cutmix import data, models
from keras_cutmix.training import input_pipeline, optimizers, results, schedules
from keras_cutmix.training.config import Config, ConfigError
from keras_cutmix.training.strategy import (
    AverageNonTrainableAcrossWorkers,
    MultiWorkerMirroredStrategy,
    get_strategy,
    task_workdir,
)

# Fields that may change between an interrupted run and its resumption.
_RESUME_FREE_FIELDS = ("verbose", "data_dir", "strategy", "tpu", "jit_compile")
# What a run writes in its workdir: what `overwrite=True` deletes (nothing else).
RUN_FILES = ("config.json", "history.json", "history.csv", "results.json", "results.md")
RUN_DIRS = ("backup", "checkpoints", "tensorboard")


def backup_epoch(backup_dir):
    """Epochs finished according to a BackupAndRestore directory (0 if none).

    Reads the `training_metadata.json` that `keras.callbacks.BackupAndRestore`
    writes after each epoch.
    """
    path = os.path.join(backup_dir, "training_metadata.json")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


class EpochTimer(keras.callbacks.Callback):
    """Adds `epoch_time_s` (wall seconds of the epoch, with evaluation) to the logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_time_s"] = time.perf_counter() - self._start


class WorkdirInUseError(ConfigError):
    """The workdir holds a run (finished or interrupted) of another config; `name` is "workdir"."""


def _changed_fields(previous, config):
    """Fields (other than `_RESUME_FREE_FIELDS`) where `config` differs from a saved config."""
    now = config.to_dict()
    return sorted(k for k in now if k not in _RESUME_FREE_FIELDS and previous.get(k) != now[k])


def _check_workdir(workdir, config, overwrite):
    """Refuses a workdir that is a file, or that holds another config's run (unless `overwrite`)."""
    if not isinstance(workdir, (str, os.PathLike)) or not os.fspath(workdir):
        raise ConfigError("workdir", f"Expected `workdir` to be a path. Received: workdir={workdir!r}")
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ConfigError(
            "workdir", f"Expected `workdir` to be a directory (or not to exist). "
            f"Received: workdir={workdir!r}, which is a file")
    previous = results.read_json(os.path.join(workdir, "config.json"))
    if overwrite or previous is None:
        return
    changed = _changed_fields(previous, config)
    if not changed:
        return
    if os.path.exists(os.path.join(workdir, "backup")):
        raise WorkdirInUseError(
            "workdir",
            f"Expected the config of the interrupted run in workdir={workdir!r} to resume it. "
            f"Received changes to {changed}; use a new workdir, or overwrite=True "
            "(--overwrite) to delete that run.")
    done = len(results.read_json(os.path.join(workdir, "history.json"), default=[]))
    state = ("a finished run" if done >= previous.get("epochs", 0)
             else f"a run stopped after {done} of {previous.get('epochs')} epochs")
    raise WorkdirInUseError(
        "workdir",
        f"Expected workdir={workdir!r} to be new or to hold a run of this config; it holds "
        f"{state} with other values of {changed}. Nothing was changed: use a new workdir, "
        "or overwrite=True (--overwrite) to delete that run and train this one.")


def _check_data(config):
    """Raises `DatasetNotFoundError` unless tfds can read the run's splits (no example is read)."""
    spec = data.dataset_spec(config.dataset)
    data.check_readable(config.dataset,
                        [config.train_split or spec.train_split, config.test_split or spec.test_split],
                        data_dir=config.data_dir)


def _check_names(config):
    """Raises `ConfigError` for a model or data set name that does not exist."""
    if config.model not in models.MODEL_NAMES:
        raise ConfigError("model", f"Expected `model` to be one of {list(models.MODEL_NAMES)}. "
                                   f"Received: model={config.model!r}")
    try:
        data.dataset_spec(config.dataset)
    except ValueError as error:
        raise ConfigError("dataset", f"Unknown `dataset`. {error}") from None


def check_run(config, workdir, overwrite=False):
    """Every check of a run that reads no data and writes nothing.

    Args:
        config: A `Config` (or a dict of its fields).
        workdir: The run's output directory.
        overwrite: Whether the run in `workdir` will be deleted (then any
            config is accepted). Defaults to False.

    Returns:
        The validated `Config`.

    Raises:
        ConfigError: (a `ValueError`) for an invalid field (an unknown
            `model` or `dataset` included) or a `workdir` that is a file;
            `error.name` is the field (`"workdir"`).
        WorkdirInUseError: (a `ConfigError`) if `workdir` holds a run of
            another config (finished or interrupted) and not `overwrite`.
        keras_cutmix.data.DatasetNotFoundError: If tfds has not prepared the
            data set in `config.data_dir`.
        FileNotFoundError: If `config.weights` names a missing local file or
            folder (`models.check_weights` says which forms each model takes).
    """
    if isinstance(config, dict):
        config = Config.from_dict(config)
    config.validate()
    _check_names(config)
    _check_workdir(workdir, config, overwrite)
    try:  # Recognises the form ("imagenet", a preset, a file, ...); loads nothing.
        models.check_weights(config.model, config.weights)
    except ValueError as error:
        raise ConfigError("weights", str(error)) from None
    _check_data(config)
    return config


def _delete_run(workdir):
    """Deletes the files of a run in `workdir` (only those `train_and_evaluate` writes)."""
    for name in RUN_FILES:
        path = os.path.join(workdir, name)
        if os.path.exists(path):
            os.remove(path)
    for name in RUN_DIRS:
        shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)


def _finished(workdir, config):
    """The history of a finished run in `workdir` with this config, else None."""
    history = results.read_json(os.path.join(workdir, "history.json"), default=[])
    previous = results.read_json(os.path.join(workdir, "config.json"))
    backup = os.path.join(workdir, "backup")
    done = len(history) == config.epochs and not os.path.exists(backup)
    same = previous is not None and not _changed_fields(previous, config)
    return history if done and same else None


def _tensorboard(workdir):
    """A TensorBoard callback, or none (with a warning) without the tensorboard package."""
    if importlib.util.find_spec("tensorboard") is None:
        logging.warning("TensorBoard logs are off: `pip install tensorboard` to write them.")
        return []
    return [keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard"))]


def build_model(config, spec):
    """The model of `config`, built for `spec`'s images and classes.

    The data set's pixel mean and std normalise the inputs only of models that
    take them (`models.takes_data_statistics`); an ImageNet model keeps the
    normalisation its weights were trained with (e.g. caffe preprocessing for
    `resnet50_keras` loaded from Keras's ImageNet file).
    """
    statistics = {}
    if models.takes_data_statistics(config.model):
        statistics = dict(mean=spec.mean, std=spec.std)
    return models.get_model(
        config.model, num_classes=spec.num_classes, input_shape=spec.image_shape,
        weights=config.weights, **statistics)


def compile_model(model, config, steps_per_epoch):
    """Compiles with TorchSGD, cross-entropy on logits, top-1 and top-5 accuracy."""
    schedule = schedules.get_schedule(config, steps_per_epoch)
    model.compile(
        optimizer=optimizers.get_optimizer(config, schedule),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.CategoricalAccuracy(name="top1"),
            keras.metrics.TopKCategoricalAccuracy(k=5, name="top5"),
        ],
        jit_compile=config.jit_compile,
    )


def _check_evaluators(evaluators):
    """Raises `ValueError` unless `evaluators` is None or a dict of name -> callable."""
    if evaluators is None:
        return {}
    if not isinstance(evaluators, dict) or not all(
            isinstance(k, str) and callable(v) for k, v in evaluators.items()):
        raise ValueError(
            "Expected `evaluators` to be None or a dict mapping names (str) to callables "
            f"`(model, config, workdir) -> dict`. Received: evaluators={evaluators!r}")
    return evaluators


def load_final_model(config, workdir, strategy=None):
    """The model of a finished run in `workdir`: rebuilt from `config`, `checkpoints/last.weights.h5` loaded.

    Args:
        config: The run's `Config`.
        workdir: The run's workdir.
        strategy: The `tf.distribute` strategy to build it in. Defaults to
            None: the default strategy.

    Returns:
        The `keras.Model` with the last epoch's weights (uncompiled).

    Raises:
        FileNotFoundError: If the workdir has no `checkpoints/last.weights.h5`.
    """
    path = os.path.join(workdir, "checkpoints", "last.weights.h5")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Expected the last checkpoint of a finished run. Received: workdir={workdir!r} "
            f"without {path!r}")
    spec = data.dataset_spec(config.dataset, image_size=config.image_size)
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build_model(config.replace(weights=None), spec)
    model.load_weights(path)
    return model


def train_and_evaluate(config, workdir, callbacks=(), overwrite=False, evaluators=None):
    """Trains `config` in `workdir`, resuming if interrupted; writes the results.

    Args:
        config: A `Config` (or a dict of its fields).
        workdir: Output directory; created if needed. Reusing the workdir of
            an interrupted run resumes it; that of a finished run with the
            same config only rewrites its results.
        callbacks: Extra Keras callbacks for `fit`. Defaults to none.
        overwrite: Whether to delete the run found in `workdir`, if any
            (finished or interrupted, any config; only the files listed
            above), and train afresh. Defaults to False: a workdir holding
            a run of another config raises `ConfigError`.
        evaluators: `{name: fn}` run after training on the final model
            (last epoch's weights), in order, each
            `fn(model, config, workdir) -> dict` (JSON-ready, string keys);
            its result is stored in `results.json` as
            `results[config.method][name]`. On a workdir holding a finished
            run, the model is rebuilt and `checkpoints/last.weights.h5`
            loaded, so evaluators run without training; the results other
            evaluators stored there earlier are kept. Defaults to None.

    Returns:
        `{config.method: summary}` where the summary (see
        `results.summarize`) holds the best and final top-1 / top-5 test
        errors in percent and the per-epoch test errors, plus one entry per
        evaluator.

    Raises:
        ConfigError: (a `ValueError`) if the config is invalid or `workdir`
            is a file. Nothing is written then.
        WorkdirInUseError: (a `ConfigError`) if `workdir` holds a run of
            another config and not `overwrite`. Nothing is written then.
        keras_cutmix.data.DatasetNotFoundError: If the data set is not
            prepared (before anything is written).
        FileNotFoundError: If `config.weights` names a missing local file or
            folder (`models.check_weights` says which forms each model takes).
    """
    if isinstance(config, dict):
        config = Config.from_dict(config)
    config.validate()
    evaluators = _check_evaluators(evaluators)
    # First: a multi-worker strategy must exist before other TensorFlow ops.
    strategy = get_strategy(config.strategy, config.tpu)
    workdir = task_workdir(workdir, strategy)
    check_run(config, workdir, overwrite)
    history = None if overwrite else _finished(workdir, config)
    model = None
    if history is None:
        # Build embedded data before seeding: building draws random numbers, and the first run on a
        # fresh data_dir must train exactly as every later one.
        data.prepare(config.dataset, config.data_dir)
        keras.utils.set_random_seed(config.seed)
        spec = data.dataset_spec(config.dataset, image_size=config.image_size)
        train_ds, steps_per_epoch = input_pipeline.train_dataset(config, spec)
        test_ds = input_pipeline.eval_dataset(config, spec)
        # Every check passed and the pipelines are built: only now touch the workdir.
        if overwrite:
            _delete_run(workdir)
        os.makedirs(workdir, exist_ok=True)
        backup_dir = os.path.join(workdir, "backup")
        initial_epoch = backup_epoch(backup_dir)
        results.write_json(os.path.join(workdir, "config.json"), config.to_dict())
        history, model = _fit(config, strategy, workdir, spec, (train_ds, steps_per_epoch, test_ds),
                              initial_epoch, callbacks)
    summary = {config.method: results.summarize(history)}
    if model is None:  # A finished run: keep what other evaluators wrote; evaluate its last weights.
        earlier = results.read_json(os.path.join(workdir, "results.json"), default={}).get(config.method, {})
        summary[config.method] = {**earlier, **summary[config.method]}
        if evaluators:
            model = load_final_model(config, workdir, strategy)
    for name, evaluate in evaluators.items():
        summary[config.method][name] = evaluate(model, config, workdir)
    results.write_results(workdir, summary, config)
    return summary


def _data_sharded(dataset):
    """`dataset` for multi-worker training: every worker reads all of it and keeps its share.

    Each worker builds the same seeded pipeline (the mix applied to the whole
    global batch, as on one device) and `tf.distribute` splits every global
    batch between the workers. The default policy, sharding by file, fails
    when a split has fewer files than workers. No effect on one machine.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _fit(config, strategy, workdir, spec, datasets, initial_epoch, extra_callbacks):
    train_ds, steps_per_epoch, test_ds = datasets
    train_ds, test_ds = _data_sharded(train_ds), _data_sharded(test_ds)
    backup_dir = os.path.join(workdir, "backup")
    input_pipeline.skip_epochs(train_ds, initial_epoch)
    with strategy.scope():
        model = build_model(config, spec)
        compile_model(model, config, steps_per_epoch)

    history = results.EpochHistory(workdir, initial_epoch)
    best = [e["val_top1"] for e in history.history if "val_top1" in e]
    checkpoints = os.path.join(workdir, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    # History before the backup: a run killed between the two repeats the epoch.
    if isinstance(strategy, MultiWorkerMirroredStrategy):  # Same BatchNorm statistics on every worker.
        extra_callbacks = [AverageNonTrainableAcrossWorkers(strategy), *extra_callbacks]
    callbacks = [
        EpochTimer(),
        history,
        keras.callbacks.BackupAndRestore(backup_dir),
        keras.callbacks.ModelCheckpoint(
            os.path.join(checkpoints, "last.weights.h5"), save_weights_only=True),
        keras.callbacks.ModelCheckpoint(
            os.path.join(checkpoints, "best.weights.h5"), save_weights_only=True,
            monitor="val_top1", mode="max", save_best_only=True,
            initial_value_threshold=max(best) if best else None),
        *_tensorboard(workdir),
        *extra_callbacks,
    ]
    # One iterator over all epochs; epoch e is the e-th pass (see input_pipeline).
    model.fit(
        train_ds.repeat().prefetch(tf.data.AUTOTUNE), epochs=config.epochs,
        steps_per_epoch=steps_per_epoch, validation_data=test_ds, shuffle=False,
        callbacks=callbacks, verbose=config.verbose)
    return history.history, model
