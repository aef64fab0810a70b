r"""Mini reproduction: baseline, Mixup, Cutout and CutMix, same seeds and budget.

    python examples/compare_methods.py --workdir=/tmp/compare --seeds=0,1,2

Trains small_cnn on the embedded synthetic_shapes data set (4000 train / 1000
test images, 64x64, 10 classes) once per method and seed: 12 epochs each,
batch 64, SGD (Nesterov, momentum 0.9, weight decay 5e-4), cosine schedule
from lr 0.1. Only the method changes between the runs of one seed: CutMix
(alpha 1, p 0.5, the paper's CIFAR setting), Mixup (alpha 1, every batch),
Cutout (32x32, half the side, every batch), none. Writes compare.md (mean and
sample standard deviation over the seeds of the best and final top-1 / top-5
test errors, and each seed's final error), compare.json and compare.png (mean
test error per epoch, the seeds' range shaded), and one resumable run per
method and seed in --workdir/<method>/seed_<seed>/ (rerunning the command
skips finished runs and resumes an interrupted one).

Results (the command above at commit db9666a, 2 shared
CPU cores, 46 min in all; top-1 test error %, best epoch, mean ± sample std
over seeds 0, 1, 2; final-epoch error per seed):

    baseline 1.80 ± 0.36   (1.80, 2.40, 1.50)
    mixup    2.43 ± 0.49   (2.10, 2.20, 3.00)
    cutout   1.67 ± 0.23   (1.40, 1.80, 1.80)
    cutmix   2.30 ± 0.53   (2.50, 2.70, 1.70)

Every method ends near 2% error and the gaps (at most 0.8 points, 8 of the
1000 test images) are about one or two standard deviations: on this easy data
set and budget the experiment shows that the four pipelines train, not which
method is better. The paper's CIFAR-100 / ImageNet gaps need its data and
budget (examples/classification.py presets). Read a difference between two
methods as real only if it is clearly larger than their standard deviations;
0.1 points is one of the 1000 test images.
"""

from absl import app, flags
import matplotlib

from keras_cutmix import training
from keras_cutmix.training import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.")
flags.mark_flag_as_required("workdir")
_METHODS = flags.DEFINE_list("methods", list(training.METHODS), "Methods to compare.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; each method trains once per seed.")
_EPOCHS = flags.DEFINE_integer("epochs", None, "Epochs per run (default: the config's, 12).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory.")
_STEPS = flags.DEFINE_integer("steps_per_epoch", None, "Limit on steps per epoch (smoke runs).")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Delete runs of another config found in --workdir, then train.")


def seeds_from_flag():
    """The --seeds list as ints."""
    try:
        seeds = [int(s) for s in _SEEDS.value]
    except ValueError:
        raise training.ConfigError(
            "seeds", f"Expected --seeds=INT[,INT...]. Received: {','.join(_SEEDS.value)!r}") from None
    return training.check_seeds(seeds)


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    overrides = dict(epochs=_EPOCHS.value, data_dir=_DATA_DIR.value, steps_per_epoch=_STEPS.value)
    # Every check before any data is loaded or any file is written.
    config = cli.checked(
        lambda: training.get_config(**{k: v for k, v in overrides.items() if v is not None}))
    seeds = cli.checked(seeds_from_flag)
    cli.checked(lambda: training.plan_runs(config, _WORKDIR.value, _METHODS.value, seeds, overwrite=_OVERWRITE.value))
    training.compare_methods(config, _WORKDIR.value, _METHODS.value, seeds, _OVERWRITE.value)
    with open(f"{_WORKDIR.value}/compare.md") as f:
        print(f.read())


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
