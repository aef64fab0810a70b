"""`train_and_evaluate(config, workdir)`: one classification run, resumable.

    from keras_cutmix import training
    results = training.train_and_evaluate(training.get_config(method="cutmix"), "/tmp/run")
    results["cutmix"]["top1_error_best"]

Builds the strategy, the pipelines (`input_pipeline`), the model (`keras_cutmix.models.get_model`) and
`TorchSGD` on the epoch-based schedule, and trains through `resumable` (the run machinery detectors and
captioners share; its docstring lists the workdir's files and says how a killed run resumes to the same
weights, tested here on the default strategy), validating on the test split after every epoch.

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - flax examples' `train.py` layout.
"""

import importlib.util
import logging
import os

import keras
import tensorflow as tf

from keras_cutmix import data, models
from keras_cutmix.training import input_pipeline, optimizers, resumable, results, schedules
from keras_cutmix.training.config import Config, ConfigError
from keras_cutmix.training.resumable import WorkdirInUseError  # noqa: F401  (public here)
from keras_cutmix.training.strategy import (AverageNonTrainableAcrossWorkers, MultiWorkerMirroredStrategy,
                                            get_strategy, task_workdir)

# Fields that may change between an interrupted run and its resumption.
_RESUME_FREE_FIELDS = ("verbose", "data_dir", "strategy", "tpu", "jit_compile")


def check_run(config, workdir, overwrite=False):
    """Every check of a run that reads no data and writes nothing.

    Args:
        config: A `Config` (or a dict of its fields).
        workdir: The run's output directory.
        overwrite: Whether the run in `workdir` will be deleted (then any config is accepted). Defaults to False.

    Returns:
        The validated `Config`.

    Raises:
        ConfigError: (a `ValueError`) for an invalid field (an unknown `model` or `dataset` included) or a
            `workdir` that is a file; `error.name` is the field (`"workdir"`).
        WorkdirInUseError: (a `ConfigError`) if `workdir` holds a run of another config (finished or
            interrupted) and not `overwrite`.
        keras_cutmix.data.DatasetNotFoundError: If tfds has not prepared the data set in `config.data_dir`.
        FileNotFoundError: If `config.weights` names a missing local file or folder (`models.check_weights`
            says which forms each model takes).
    """
    config = Config.from_dict(config) if isinstance(config, dict) else config
    config.validate()
    if config.model not in models.MODEL_NAMES:
        raise ConfigError("model", f"Expected `model` to be one of {list(models.MODEL_NAMES)}. "
                                   f"Received: model={config.model!r}")
    try:
        spec = data.dataset_spec(config.dataset)
    except ValueError as error:
        raise ConfigError("dataset", f"Unknown `dataset`. {error}") from None
    resumable.check_workdir(workdir, config.to_dict(), overwrite, _RESUME_FREE_FIELDS)
    try:  # Recognises the form ("imagenet", a preset, a file, ...); loads nothing.
        models.check_weights(config.model, config.weights)
    except ValueError as error:
        raise ConfigError("weights", str(error)) from None
    # tfds must be able to read both splits (no example is read).
    data.check_readable(config.dataset, input_pipeline.splits(config, spec), data_dir=config.data_dir)
    return config


def _tensorboard(workdir):
    """A TensorBoard callback, or none (with a warning) without the tensorboard package."""
    if importlib.util.find_spec("tensorboard") is None:
        logging.warning("TensorBoard logs are off: `pip install tensorboard` to write them.")
        return []
    return [keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard"))]


def build_model(config, spec):
    """The model of `config`, built for `spec`'s images and classes.

    The data set's pixel mean and std normalise the inputs only of models that take them
    (`models.takes_data_statistics`); an ImageNet model keeps the normalisation its weights were trained with
    (e.g. caffe preprocessing for `resnet50_keras` loaded from Keras's ImageNet file).
    """
    statistics = dict(mean=spec.mean, std=spec.std) if models.takes_data_statistics(config.model) else {}
    return models.get_model(config.model, num_classes=spec.num_classes, input_shape=spec.image_shape,
                            weights=config.weights, **statistics)


def compile_model(model, config, steps_per_epoch):
    """Compiles with TorchSGD, cross-entropy on logits, top-1 and top-5 accuracy."""
    model.compile(optimizer=optimizers.get_optimizer(config, schedules.get_schedule(config, steps_per_epoch)),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.CategoricalAccuracy(name="top1"),
                           keras.metrics.TopKCategoricalAccuracy(k=5, name="top5")],
                  jit_compile=config.jit_compile)


def _check_evaluators(evaluators):
    """Raises `ValueError` unless `evaluators` is None or a dict of name -> callable."""
    if evaluators is None:
        return {}
    if not isinstance(evaluators, dict) or not all(isinstance(k, str) and callable(v) for k, v in evaluators.items()):
        raise ValueError("Expected `evaluators` to be None or a dict mapping names (str) to callables "
                         f"`(model, config, workdir) -> dict`. Received: evaluators={evaluators!r}")
    return evaluators


def is_finished(config, workdir):
    """Whether `workdir` holds a finished run of `config` (every epoch, no backup left, its last checkpoint).

    The one rule for "is this run finished": `train_and_evaluate` reuses such a run, `run_wsol(eval_only=True)`
    evaluates only such runs.
    """
    config = Config.from_dict(config) if isinstance(config, dict) else config
    return (resumable.finished(workdir, config.to_dict(), _RESUME_FREE_FIELDS) is not None
            and os.path.isfile(resumable.last_weights(workdir)))


def load_final_model(config, workdir, strategy=None):
    """The model of a finished run in `workdir`: rebuilt from `config`, `checkpoints/last.weights.h5` loaded.

    Args:
        config: The run's `Config`.
        workdir: The run's workdir.
        strategy: The `tf.distribute` strategy to build it in. Defaults to None: the default strategy.

    Returns:
        The `keras.Model` with the last epoch's weights (uncompiled).

    Raises:
        FileNotFoundError: If the workdir has no `checkpoints/last.weights.h5`.
    """
    path = resumable.last_weights(workdir)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected the last checkpoint of a finished run. Received: workdir={workdir!r} "
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
        workdir: Output directory; created if needed. Reusing the workdir of an interrupted run resumes it;
            that of a finished run with the same config only rewrites its results.
        callbacks: Extra Keras callbacks for `fit`. Defaults to none.
        overwrite: Whether to delete the run found in `workdir`, if any (finished or interrupted, any config;
            only `resumable.RUN_FILES` and `RUN_DIRS`), and train afresh. Defaults to False: a workdir holding
            a run of another config raises `ConfigError`.
        evaluators: `{name: fn}` run in order after training on the final model (last epoch's weights), each
            `fn(model, config, workdir) -> dict` (JSON-ready, string keys), stored in `results.json` as
            `results[config.method][name]`. On a finished run the model is rebuilt from
            `checkpoints/last.weights.h5`, so evaluators run without training, and the results other
            evaluators stored there earlier are kept. Defaults to None.

    Returns:
        `{config.method: summary}`: `results.summarize`'s best and final top-1 / top-5 test errors (%) and
        per-epoch test errors, plus one entry per evaluator.

    Raises:
        ConfigError, WorkdirInUseError, keras_cutmix.data.DatasetNotFoundError, FileNotFoundError: As
            `check_run`, which runs first: nothing is written then.
    """
    config = Config.from_dict(config) if isinstance(config, dict) else config
    config.validate()
    evaluators = _check_evaluators(evaluators)
    # First: a multi-worker strategy must exist before other TensorFlow ops.
    strategy = get_strategy(config.strategy, config.tpu)
    workdir = task_workdir(workdir, strategy)
    check_run(config, workdir, overwrite)
    history = None if overwrite else resumable.finished(workdir, config.to_dict(), _RESUME_FREE_FIELDS)
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
        initial_epoch = resumable.start(workdir, config.to_dict(), overwrite)
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

    Each worker builds the same seeded pipeline (the mix applied to the whole global batch, as on one device)
    and `tf.distribute` splits every global batch between the workers. The default policy, sharding by file,
    fails when a split has fewer files than workers. No effect on one machine.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _fit(config, strategy, workdir, spec, datasets, initial_epoch, extra_callbacks):
    """The classifier built and compiled in `strategy`, trained by `resumable.fit`; `(history, model)`."""
    train_ds, steps_per_epoch, test_ds = datasets
    train_ds, test_ds = _data_sharded(train_ds), _data_sharded(test_ds)
    input_pipeline.skip_epochs(train_ds, initial_epoch)
    with strategy.scope():
        model = build_model(config, spec)
        compile_model(model, config, steps_per_epoch)

    earlier = results.read_json(os.path.join(workdir, "history.json"), default=[])
    best = [e["val_top1"] for e in earlier if e["epoch"] < initial_epoch and "val_top1" in e]
    if isinstance(strategy, MultiWorkerMirroredStrategy):  # Same BatchNorm statistics on every worker.
        extra_callbacks = [AverageNonTrainableAcrossWorkers(strategy), *extra_callbacks]
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            os.path.join(workdir, "checkpoints", "best.weights.h5"), save_weights_only=True,
            monitor="val_top1", mode="max", save_best_only=True,
            initial_value_threshold=max(best) if best else None),
        *_tensorboard(workdir),
        *extra_callbacks,
    ]
    # One iterator over all epochs; epoch e is the e-th pass (see input_pipeline).
    history = resumable.fit(model, workdir, lambda _: train_ds.repeat(), epochs=config.epochs,
                            steps_per_epoch=steps_per_epoch, initial_epoch=initial_epoch, validation_data=test_ds,
                            callbacks=callbacks, verbose=config.verbose)
    return history, model
