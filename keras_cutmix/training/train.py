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
strategy). Calling it on a finished workdir only rewrites the results.

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - flax examples' `train.py` layout.
"""

import importlib.util
import json
import logging
import os
import time

import keras
import tensorflow as tf

from keras_cutmix import data, models
from keras_cutmix.training import input_pipeline, optimizers, results, schedules
from keras_cutmix.training.config import Config
from keras_cutmix.training.strategy import get_strategy, task_workdir

# Fields that may change between an interrupted run and its resumption.
_RESUME_FREE_FIELDS = ("verbose", "data_dir", "strategy", "tpu", "jit_compile")


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


def _check_resumable(workdir, config, initial_epoch):
    previous = results.read_json(os.path.join(workdir, "config.json"))
    if not initial_epoch or previous is None:
        return
    now = config.to_dict()
    changed = sorted(k for k in now if k not in _RESUME_FREE_FIELDS and previous.get(k) != now[k])
    if changed:
        raise ValueError(
            f"Expected the config of the interrupted run in workdir={workdir!r} to resume it. "
            f"Received changes to {changed}; use a new workdir (or delete {workdir}/backup)."
        )


def _finished(workdir, config):
    """The history of a finished run in `workdir` with this config, else None."""
    history = results.read_json(os.path.join(workdir, "history.json"), default=[])
    previous = results.read_json(os.path.join(workdir, "config.json"))
    backup = os.path.join(workdir, "backup")
    done = len(history) == config.epochs and not os.path.exists(backup)
    same = previous is not None and all(
        previous.get(k) == v for k, v in config.to_dict().items() if k not in _RESUME_FREE_FIELDS)
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


def train_and_evaluate(config, workdir, callbacks=()):
    """Trains `config` in `workdir`, resuming if interrupted; writes the results.

    Args:
        config: A `Config` (or a dict of its fields).
        workdir: Output directory; created if needed. Reusing the workdir of
            an interrupted run resumes it.
        callbacks: Extra Keras callbacks for `fit`. Defaults to none.

    Returns:
        `{config.method: summary}` where the summary (see
        `results.summarize`) holds the best and final top-1 / top-5 test
        errors in percent and the per-epoch test errors.

    Raises:
        ValueError: If the config is invalid, or differs from that of the
            interrupted run in `workdir`.
    """
    if isinstance(config, dict):
        config = Config.from_dict(config)
    config.validate()
    # First: a multi-worker strategy must exist before other TensorFlow ops.
    strategy = get_strategy(config.strategy, config.tpu)
    workdir = task_workdir(workdir, strategy)
    os.makedirs(workdir, exist_ok=True)
    backup_dir = os.path.join(workdir, "backup")
    initial_epoch = backup_epoch(backup_dir)
    _check_resumable(workdir, config, initial_epoch)
    history = _finished(workdir, config)
    if history is None:
        results.write_json(os.path.join(workdir, "config.json"), config.to_dict())
        history = _fit(config, strategy, workdir, backup_dir, initial_epoch, callbacks)
    summary = {config.method: results.summarize(history)}
    results.write_results(workdir, summary, config)
    return summary


def _fit(config, strategy, workdir, backup_dir, initial_epoch, extra_callbacks):
    keras.utils.set_random_seed(config.seed)
    spec = data.dataset_spec(config.dataset, image_size=config.image_size)
    train_ds, steps_per_epoch = input_pipeline.train_dataset(config, spec)
    test_ds = input_pipeline.eval_dataset(config, spec)
    input_pipeline.skip_epochs(train_ds, initial_epoch)
    with strategy.scope():
        model = build_model(config, spec)
        compile_model(model, config, steps_per_epoch)

    history = results.EpochHistory(workdir, initial_epoch)
    best = [e["val_top1"] for e in history.history if "val_top1" in e]
    checkpoints = os.path.join(workdir, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    # History before the backup: a run killed between the two repeats the epoch.
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
    return history.history
