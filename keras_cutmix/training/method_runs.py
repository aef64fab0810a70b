"""`run_methods`: one model per mixing method, trained or reused, with evaluators run on each.

    from keras_cutmix import training
    results = training.run_methods(training.get_config(), "/tmp/models", evaluators={"fgsm": fn})
    results["cutmix"]["fgsm"]

The robustness and out-of-distribution scripts evaluate the models of the
classification runs, one per method. Given `workdirs={method: dir}` (e.g.
from `--workdirs=baseline=DIR,cutmix=DIR`), each run's own `config.json` is
read and `train_and_evaluate` reuses it (a finished run only loads its last
weights; an interrupted one resumes). Otherwise each method trains with
`config` in `models_dir/<method>/` (reused as well on the next call). Either
way the evaluators run after training, through `train_and_evaluate`, and
their results land in each run's `results.json` beside the training summary.
"""

import os

import keras
import numpy as np

from keras_cutmix import data
from keras_cutmix.training import results as results_io
from keras_cutmix.training.config import METHODS, Config, ConfigError, check_methods
from keras_cutmix.training.train import check_run, load_final_model, train_and_evaluate


def parse_method_dirs(text, flag="workdirs"):
    """`{method: dir}` of `"baseline=DIR,cutmix=DIR"` (empty text: `{}`).

    Raises:
        ConfigError: naming `flag`, for an unknown or repeated method or an item without `=`.
    """
    result = {}
    for item in [i for i in (text or "").split(",") if i.strip()]:
        method, sep, path = item.partition("=")
        method = method.strip()
        if not sep or not path or method not in METHODS or method in result:
            raise ConfigError(flag, f"Expected --{flag}=METHOD=DIR[,METHOD=DIR...] with distinct methods among "
                                    f"{list(METHODS)}. Received: {text!r}")
        result[method] = path
    return result


def method_runs(config, models_dir, methods=METHODS, workdirs=None, overwrite=False):
    """The runs of `run_methods`, checked before anything trains: `[(method, config, run_dir)]`.

    Args: as `run_methods`.

    Raises:
        ConfigError: naming the argument (`methods`, `workdirs` (no `config.json` there, or a run of another
            method), a config field or `workdir`).
    """
    methods = check_methods(methods)
    workdirs = dict(workdirs or {})
    runs = []
    for method in methods:
        if method in workdirs:
            path = workdirs[method]
            saved = results_io.read_json(os.path.join(path, "config.json"))
            if saved is None:
                raise ConfigError("workdirs", f"Expected a classification run (config.json) in the workdir of "
                                              f"{method}. Received: {path!r}, which has none")
            run_config = Config.from_dict(saved)
            if run_config.method != method:
                raise ConfigError("workdirs", f"Expected the run in {path!r} to be trained with {method!r}. "
                                              f"Received: a {run_config.method!r} run")
        else:
            run_config, path = config.replace(method=method), os.path.join(models_dir, method)
        check_run(run_config, path, overwrite and method not in workdirs)
        runs.append((method, run_config, path))
    return runs


def run_methods(config, models_dir, methods=METHODS, evaluators=None, workdirs=None, overwrite=False):
    """Trains (or reuses) one model per method and runs `evaluators` on each.

    Args:
        config: A `Config` for the methods not in `workdirs`; its `method` is replaced by each.
        models_dir: Where those train: `models_dir/<method>/`.
        methods: Methods, in table order. Defaults to all four.
        evaluators: `{name: fn(model, config, workdir) -> dict}`, as `train_and_evaluate` takes.
        workdirs: `{method: dir}` of existing classification runs to evaluate instead. Defaults to None.
        overwrite: Delete a run of another config in `models_dir/<method>/` (never in `workdirs`).

    Returns:
        `{method: summary}`: the training summary of each run with one entry per evaluator.
    """
    runs = method_runs(config, models_dir, methods, workdirs, overwrite)
    results = {}
    for method, run_config, path in runs:
        print(f"== {method}: {path}", flush=True)
        results[method] = train_and_evaluate(run_config, path, overwrite=overwrite and method not in (workdirs or {}),
                                             evaluators=evaluators)[method]
    return results


def progress_bar(target, verbose, title=None):
    """A `keras.utils.Progbar` of `target` images (None: unknown) for a long evaluation, after a `title` line.

    Args:
        target: Units the evaluation will count, or None.
        verbose: Keras verbosity (a `Config.verbose`): "auto" or 1 shows the bar, 2 one line at the end, 0
            nothing (no title either).
        title: Printed first unless silent. Defaults to None.

    Returns:
        The `Progbar`; call its `add(n)` as the work goes.
    """
    verbose = 1 if verbose == "auto" else int(verbose)
    if verbose and title:
        print(title, flush=True)
    return keras.utils.Progbar(target, verbose=verbose, unit_name="image")


def test_images(config, num_images, batch_size=256, verbose=0):
    """The first `num_images` test images of a run's config, as evaluators read them.

    Args:
        config: The run's `Config` (its data set, test split, image size, recipe and data_dir).
        num_images: How many (fewer if the split is smaller).
        batch_size: Images per loaded batch. Defaults to 256.
        verbose: Keras verbosity of a progress bar over the loaded images (`progress_bar`). Defaults to 0.

    Returns:
        `(images, labels)`: float32 pixels [N, H, W, C] in [0, 255] (the test recipe of
        `data.load(..., training=False)`) and int64 labels [N].

    Raises:
        ValueError: If the split has no image.
    """
    dataset = data.load(config.dataset, config.test_split, batch_size=batch_size, training=False,
                        image_size=config.image_size, augmentation=config.augmentation, data_dir=config.data_dir)
    progress = progress_bar(num_images, verbose, f"Loading {num_images} test images of {config.dataset}")
    images, labels, count = [], [], 0
    for batch_images, batch_labels in dataset:
        images.append(np.asarray(batch_images, np.float32))
        labels.append(np.asarray(batch_labels).reshape(-1).astype(np.int64))
        count += len(images[-1])
        progress.update(min(count, num_images), finalize=count >= num_images)
        if count >= num_images:
            break
    if count < num_images:  # A smaller split: the bar ends where the images do.
        progress.update(count, finalize=True)
    if not images:
        raise ValueError(f"Expected test images in {config.dataset!r} split {config.test_split!r}. Received none")
    return np.concatenate(images)[:num_images], np.concatenate(labels)[:num_images]


def load_classifier(source):
    """The trained classifier of a classification workdir (its config.json and last weights) or a .keras file.

    Raises:
        ValueError: If `source` is neither.
    """
    source = os.fspath(source)
    if os.path.isdir(source) and os.path.isfile(os.path.join(source, "config.json")):
        config = Config.from_dict(results_io.read_json(os.path.join(source, "config.json")))
        return load_final_model(config, source)
    if source.endswith(".keras") and os.path.isfile(source):
        return keras.saving.load_model(source)
    raise ValueError(f"Expected a classification workdir (with config.json) or a .keras model file. "
                     f"Received: {source!r}")
