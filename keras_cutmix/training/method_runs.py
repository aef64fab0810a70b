"""The one runner over methods x seeds: every script's runs, checked first, then trained or reused.

    from keras_cutmix import training
    runs = training.plan_runs(training.get_config(), "/tmp/compare", seeds=(0, 1, 2))  # checks, writes nothing
    by_method = training.run_all(runs, evaluators={"fgsm": fn})  # {method: {seed: summary}}
    by_method["cutmix"][1]["fgsm"]

A run of method `m` trains with `config.replace(method=m)` in `root/m/`, or with seeds given,
`config.replace(method=m, seed=s)` in `root/m/seed_s/` (`compare_methods`, `localization.run_wsol`). Given
`workdirs={method: dir}` (e.g. from `--workdirs=baseline=DIR,cutmix=DIR`: the robustness and OOD scripts), that
method's run is the classification run in `dir`, read from its own `config.json`. Each run goes through
`train_and_evaluate` (a finished run only loads its last weights, an interrupted one resumes; the evaluators'
results land in its `results.json`). `run_methods` / `method_runs` are the one-seed form.
"""

import os
from typing import NamedTuple

import keras
import numpy as np

from keras_cutmix import data
from keras_cutmix.training import results as results_io
from keras_cutmix.training.config import METHODS, Config, ConfigError, check_methods
from keras_cutmix.training.train import check_run, load_final_model, train_and_evaluate


class Run(NamedTuple):
    """One run of `plan_runs`: its method, seed, `Config`, workdir and whether `run_all` may delete another
    config's run there (never for a given `workdirs` run)."""

    method: str
    seed: int
    config: Config
    workdir: str
    overwrite: bool


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


def check_seeds(seeds):
    """`seeds` as a list of ints after checking they are distinct ints >= 0; else `ConfigError("seeds")`."""
    if np.iterable(seeds) and not isinstance(seeds, (str, bytes)):
        seeds = list(seeds)
    if not isinstance(seeds, list) or not seeds \
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds) \
            or len(set(seeds)) != len(seeds):
        raise ConfigError("seeds", f"Expected a sequence of distinct ints >= 0. Received: seeds={seeds!r}")
    return [int(s) for s in seeds]


def run_dir(root, method, seed=None):
    """`root/<method>` (one run per method), or `root/<method>/seed_<seed>` when the runs have seeds."""
    return os.path.join(root, method) if seed is None else os.path.join(root, method, f"seed_{seed}")


def _workdir_run(method, path):
    saved = results_io.read_json(os.path.join(path, "config.json"))
    if saved is None:
        raise ConfigError("workdirs", f"Expected a classification run (config.json) in the workdir of "
                                      f"{method}. Received: {path!r}, which has none")
    run_config = Config.from_dict(saved)
    if run_config.method != method:
        raise ConfigError("workdirs", f"Expected the run in {path!r} to be trained with {method!r}. "
                                      f"Received: a {run_config.method!r} run")
    return run_config


def plan_runs(config, root, methods=METHODS, seeds=None, workdirs=None, overwrite=False):
    """Every run of methods x seeds, checked (`train.check_run`) before anything trains; writes nothing.

    Args:
        config: A `Config`; its `method` (and with `seeds`, its `seed`) is replaced by each run's.
        root: Where the runs train: `run_dir(root, method, seed)`.
        methods: Methods, in table order. Defaults to all four.
        seeds: Seeds of each method, or None: one run per method with `config.seed`, in `root/<method>/`.
        workdirs: `{method: dir}` of existing classification runs to use instead (one seed). Defaults to None.
        overwrite: Delete a run of another config in a run directory (never in `workdirs`). Defaults to False.

    Returns:
        `[Run(method, seed, config, workdir, overwrite)]` in run order (`run_all`'s input).

    Raises:
        ConfigError: naming the argument (`methods`, `seeds`, `workdirs` (no `config.json` there, or a run
            of another method), a config field or `workdir` (a file, or a run of another config)).
    """
    methods = check_methods(methods)
    seeds = None if seeds is None else check_seeds(seeds)
    workdirs = dict(workdirs or {})
    if os.path.exists(root) and not os.path.isdir(root):
        raise ConfigError("workdir", "Expected `workdir` to be a directory (or not to exist). "
                                     f"Received: workdir={root!r}, which is a file")
    runs = []
    for method in methods:
        for seed in [None] if seeds is None else seeds:
            if method in workdirs:
                path, run_config = workdirs[method], _workdir_run(method, workdirs[method])
            else:
                path = run_dir(root, method, seed)
                run_config = config.replace(method=method, **({} if seed is None else {"seed": seed}))
            run = Run(method, run_config.seed, run_config, path, overwrite and method not in workdirs)
            check_run(run.config, run.workdir, run.overwrite)
            runs.append(run)
    return runs


def run_all(runs, evaluators=None, by_seed=True):
    """Trains (or reuses) every run of `plan_runs` and runs `evaluators` on each.

    Args:
        runs: `plan_runs`'s list.
        evaluators: `{name: fn(model, config, workdir) -> dict}`, as `train_and_evaluate` takes.
        by_seed: Whether the progress lines name the seed. Defaults to True.

    Returns:
        `{method: {seed: summary}}`: each run's training summary (with `train_time_s`, the sum of its epoch
        times) and one entry per evaluator.
    """
    results = {}
    for run in runs:
        print(f"== {run.method}, seed {run.seed}: {run.workdir}" if by_seed else f"== {run.method}: {run.workdir}",
              flush=True)
        summary = train_and_evaluate(run.config, run.workdir, overwrite=run.overwrite,
                                     evaluators=evaluators)[run.method]
        history = results_io.read_json(os.path.join(run.workdir, "history.json"), default=[])
        summary["train_time_s"] = round(sum(e.get("epoch_time_s", 0.0) for e in history), 1)
        results.setdefault(run.method, {})[run.seed] = summary
    return results


def method_runs(config, models_dir, methods=METHODS, workdirs=None, overwrite=False):
    """The runs of `run_methods`, checked before anything trains: `[(method, config, run_dir)]`.

    Args: as `run_methods`.

    Raises:
        ConfigError: as `plan_runs`.
    """
    return [(r.method, r.config, r.workdir) for r in plan_runs(config, models_dir, methods, None, workdirs, overwrite)]


def run_methods(config, models_dir, methods=METHODS, evaluators=None, workdirs=None, overwrite=False):
    """Trains (or reuses) one model per method and runs `evaluators` on each: `run_all` with one seed.

    Args:
        config, methods, workdirs, overwrite: As `plan_runs`'s (without seeds).
        models_dir: Where the methods not in `workdirs` train: `models_dir/<method>/` (`plan_runs`'s `root`).
        evaluators: `{name: fn(model, config, workdir) -> dict}`, as `train_and_evaluate` takes.

    Returns:
        `{method: summary}`: the training summary of each run with one entry per evaluator.
    """
    runs = plan_runs(config, models_dir, methods, None, workdirs, overwrite)
    return {m: next(iter(by_seed.values())) for m, by_seed in run_all(runs, evaluators, by_seed=False).items()}


def progress_bar(target, verbose, title=None):
    """A `keras.utils.Progbar` of `target` images (None: unknown) for a long evaluation, after a `title` line.

    Args:
        target: Units the evaluation will count, or None.
        verbose: Keras verbosity (a `Config.verbose`): "auto" or 1 shows the bar, 2 one line at the end, 0 nothing
            (no title either).
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
        return load_final_model(Config.from_dict(results_io.read_json(os.path.join(source, "config.json"))), source)
    if source.endswith(".keras") and os.path.isfile(source):
        return keras.saving.load_model(source)
    raise ValueError(f"Expected a classification workdir (with config.json) or a .keras model file. "
                     f"Received: {source!r}")
