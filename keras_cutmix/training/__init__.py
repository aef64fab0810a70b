"""Training: configs, schedules, the paper's SGD, and `train_and_evaluate`.

    from keras_cutmix import training
    config = training.get_config("pyramidnet200_cifar100", method="cutmix")
    training.train_and_evaluate(config, workdir="/tmp/pyramidnet")

| module           | what it holds                                                |
|------------------|--------------------------------------------------------------|
| `config`         | `Config`, the paper's `PRESETS` and `PAPER_RESULTS`          |
| `schedules`      | epoch-based step and cosine schedules, evaluated per step    |
| `optimizers`     | `TorchSGD`: PyTorch's SGD update, per-layer lr multipliers   |
| `strategy`       | `tf.distribute` strategies by name                           |
| `input_pipeline` | data loading and the method's mix                            |
| `resumable`      | one resumable run in a workdir: config.json, resume, reuse, refuse |
| `train`          | `train_and_evaluate(config, workdir, evaluators=...)`        |
| `results`        | history, `results.json`, the one table writer `markdown_table` |
| `compare`        | `compare_methods`: every method, same seeds and budget, plot |
| `method_runs`    | the runner over methods x seeds: `plan_runs`, `run_all`, `run_methods` |
| `cli`            | the scripts' flag errors: one line naming the flag, exit 2/1 |
"""

from keras_cutmix import extras

extras.require_extra("keras_cutmix.training")  # One clear ImportError without the extra.

from keras_cutmix.training.compare import compare_methods
from keras_cutmix.training.config import (
    LR_SCHEDULES,
    METHODS,
    PAPER_RESULTS,
    PRESETS,
    STRATEGIES,
    Config,
    ConfigError,
    check_methods,
    get_config,
)
from keras_cutmix.training.method_runs import (
    check_seeds,
    method_runs,
    parse_method_dirs,
    plan_runs,
    run_all,
    run_methods,
)
from keras_cutmix.training.optimizers import TorchSGD, get_optimizer
from keras_cutmix.training.resumable import TrainingDivergedError
from keras_cutmix.training.schedules import EpochCosineDecay, EpochStepDecay, get_schedule
from keras_cutmix.training.strategy import get_strategy
from keras_cutmix.training.train import WorkdirInUseError, check_run, is_finished, load_final_model, train_and_evaluate

__all__ = [
    "LR_SCHEDULES",
    "METHODS",
    "PAPER_RESULTS",
    "PRESETS",
    "STRATEGIES",
    "Config",
    "ConfigError",
    "check_methods",
    "check_seeds",
    "EpochCosineDecay",
    "EpochStepDecay",
    "TorchSGD",
    "TrainingDivergedError",
    "WorkdirInUseError",
    "check_run",
    "compare_methods",
    "get_config",
    "get_optimizer",
    "get_schedule",
    "get_strategy",
    "is_finished",
    "load_final_model",
    "method_runs",
    "parse_method_dirs",
    "plan_runs",
    "run_all",
    "run_methods",
    "train_and_evaluate",
]
