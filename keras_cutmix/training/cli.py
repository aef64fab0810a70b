"""What the example scripts share: flag errors as one line, before anything runs.

    if __name__ == "__main__":
        app.run(main, flags_parser=cli.parse_flags)

    def main(argv):
        config = cli.checked(lambda: training.get_config(**overrides))
        cli.checked(lambda: training.check_run(config, workdir, overwrite))
        training.train_and_evaluate(config, workdir, overwrite=overwrite)

A bad flag (absl cannot parse it, or the `Config` rejects it) prints one line
`<script>: error: --<flag>: <what was expected and received>` to stderr and exits with status 2; a missing data
set, weights file or a workdir holding another run prints the same way and exits with status 1. No traceback,
and nothing is loaded or written before these checks.
"""

import os
import sys

from absl import flags

from keras_cutmix import data
from keras_cutmix.training.config import METHODS, ConfigError, get_config
from keras_cutmix.training.method_runs import method_runs, parse_method_dirs
from keras_cutmix.training.train import WorkdirInUseError

USAGE_ERROR = 2
RUN_ERROR = 1


def fail(message, status):
    """Prints `<script>: error: <message>` to stderr and exits with `status`."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(status)


def parse_flags(argv):
    """`app.run`'s `flags_parser`: a flag absl cannot parse exits 2 with one line naming it."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:  # "flag --epochs=abc: ...", "Unknown command line flag 'x'".
        fail(str(error), USAGE_ERROR)


def checked(fn, flag_names=None):
    """Returns `fn()`, or exits with one line naming the flag of the error it raises.

    Args:
        fn: A function that validates (e.g. builds a `Config` or calls `training.check_run`); it must not have
            written anything when it raises.
        flag_names: Optional `{field: flag}` where a `ConfigError` field is not spelled as its flag. Defaults to
            the same name.

    Returns:
        What `fn` returns.
    """
    flag_names = flag_names or {}
    try:
        return fn()
    except ConfigError as error:
        status = RUN_ERROR if isinstance(error, WorkdirInUseError) else USAGE_ERROR
        fail(f"--{flag_names.get(error.name, error.name)}: {error}", status)
    except data.DatasetNotFoundError as error:
        fail(f"--dataset / --data_dir: {error}", RUN_ERROR)
    except FileNotFoundError as error:  # check_run's missing weights file.
        fail(f"--weights: {error}", RUN_ERROR)


class MethodRunFlags:
    """The flags of the scripts that evaluate one model per method (robustness.py, ood.py).

    Defines --workdirs, --models_dir, --methods, --seed, --epochs and --data_dir; `checked(workdir)` turns
    them into `(config, workdirs, models_dir)` for `training.run_methods` after every check, exiting
    with one line naming the flag on an error.
    """

    def __init__(self, seed_help):
        self.workdirs = flags.DEFINE_string("workdirs", "", "METHOD=DIR,... of classification runs to evaluate.")
        self.models_dir = flags.DEFINE_string("models_dir", None, "Where models without --workdirs train "
                                                                  "(default: --workdir/models).")
        self.methods = flags.DEFINE_list("methods", list(METHODS), "Methods to evaluate.")
        self.seed = flags.DEFINE_integer("seed", 0, seed_help)
        self.epochs = flags.DEFINE_integer("epochs", None, "Epochs of the models trained here (default: the config's).")
        self.data_dir = flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory.")

    def checked(self, workdir):
        """`(config, workdirs, models_dir)`, every run checked before anything is loaded or written."""
        workdirs = checked(lambda: parse_method_dirs(self.workdirs.value))
        overrides = {k: f.value for k, f in (("epochs", self.epochs), ("data_dir", self.data_dir))
                     if f.value is not None}
        config = checked(lambda: get_config(seed=self.seed.value, **overrides))
        models_dir = self.models_dir.value or os.path.join(workdir, "models")
        checked(lambda: method_runs(config, models_dir, self.methods.value, workdirs))
        return config, workdirs, models_dir
