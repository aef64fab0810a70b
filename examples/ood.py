r"""Out-of-distribution detection and calibration of each mixing method's model (Tables 12 and A2).

On the embedded data (synthetic_shapes, small_cnn, the classification defaults), training the four models
in --models_dir (default --workdir/models) the first time and reusing them afterwards; the OOD sets are
ODIN's Uniform and Gaussian noise and the embedded near-OOD set (novel shapes the classifier never saw):

    python examples/ood.py --workdir=/tmp/ood
    #   21 s here on the models robustness.py trained (--models_dir shared). It reached (seed 0, 1,000 test
    #   images, mean over the 3 OOD sets, %; this project's 2-core machine, 995d268):
    #   method    TNR at TPR 95  AUROC  detection acc.  ECE
    #   baseline  18.4           76.6   72.6             1.63
    #   mixup     13.5           60.2   64.0            22.15
    #   cutout    47.7           90.5   84.7             1.89
    #   cutmix    13.7           31.4   59.7            10.04

Share the models with examples/robustness.py by giving both the same --models_dir. On earlier classification
runs, with more sets (any tfds data set by name; ODIN's TinyImageNet / LSUN / iSUN folders, from the links in
github.com/facebookresearch/odin's README, unpacked anywhere):

    python examples/ood.py --workdir=/tmp/ood_cifar \
        --workdirs=baseline=/tmp/base,mixup=/tmp/mixup,cutout=/tmp/cutout,cutmix=/tmp/cutmix \
        --tfds_sets=svhn_cropped,cifar10 --folder_sets=tin_crop=/data/Imagenet,lsun_resize=/data/LSUN_resize \
        --data_dir=/data/tensorflow_datasets

The --tfds_sets are read from --data_dir (`tfds build svhn_cropped --data_dir=DIR` prepares one) and checked
before any model loads: one that tfds cannot read stops the script with tfds' advice (status 1). Every set is
scored in batches of --batch_size (default 256) with a progress bar; the first --num_images test images are
held in memory (float32; ImageNet's 50,000 at 224x224 need about 30 GB).

Writes to --workdir: results.json, results.md (Table 12's mean over the sets with ECE, then Table A2 per
set: TNR at TPR 95, AUROC, detection accuracy, the difference to the baseline in brackets, best in bold; the
paper's CIFAR-100 PyramidNet-200 means beside ours on cifar100: baseline 26.3 / 87.3 / 82.0, Mixup 11.8 /
49.3 / 60.9, Cutout 18.8 / 68.7 / 71.3, CutMix 69.0 / 94.4 / 89.1), roc_<set>.png and
reliability_<method>.png. A bad flag (e.g. --num_images or --num_ood_images below 1) prints one line naming it
and exits with status 2 before anything is loaded or trained.
"""

import os

from absl import app, flags
import matplotlib

from keras_cutmix import data, ood, training
from keras_cutmix.training import cli

_WORKDIR = flags.DEFINE_string("workdir", "/tmp/keras_cutmix_ood", "Output directory.")
_RUNS = cli.MethodRunFlags("Seed of the models trained here and of the generated OOD sets.")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 1000, "In-distribution test images.", lower_bound=1)
_NUM_OOD = flags.DEFINE_integer("num_ood_images", 1000, "Images per generated OOD set (ODIN: 10000).",
                                lower_bound=1)
_TFDS_SETS = flags.DEFINE_list("tfds_sets", [], "tfds data sets used as OOD sets (NAME or NAME:SPLIT).")
_FOLDER_SETS = flags.DEFINE_list("folder_sets", [], "NAME=FOLDER of images used as OOD sets.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 256, "Images per model call and per batch read from disk.",
                                   lower_bound=1)


def extra_sets():
    """The `{name: load}` sets of --tfds_sets and --folder_sets, each checked (tfds can read it, the folder exists).

    Raises:
        training.ConfigError: naming the flag, for a malformed item, a name tfds does not know or a missing
            folder.
    """
    sets = {}
    for item in _TFDS_SETS.value:
        name, _, split = item.partition(":")
        try:
            ood.check_tfds_ood(name, split or "test", _RUNS.data_dir.value)
        except data.DatasetNotFoundError as error:
            cli.fail(f"--tfds_sets / --data_dir: {error}", cli.RUN_ERROR)
        except ValueError as error:
            raise training.ConfigError("tfds_sets", f"{error} (from --tfds_sets item {item!r})") from None
        sets[item] = ood.tfds_set(name, split or "test", _RUNS.data_dir.value, _BATCH_SIZE.value)
    for item in _FOLDER_SETS.value:
        name, sep, path = item.partition("=")
        if not sep or not name or not os.path.isdir(path):
            raise training.ConfigError("folder_sets", f"Expected NAME=FOLDER with an existing folder. "
                                                      f"Received: {item!r}")
        sets[name] = ood.folder_set(path, _BATCH_SIZE.value)
    return sets


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    config, workdirs, models_dir = _RUNS.checked(_WORKDIR.value)
    sets = cli.checked(extra_sets)
    results = ood.run_ood(_WORKDIR.value, config, workdirs, models_dir, _RUNS.methods.value, _RUNS.seed.value,
                          _NUM_IMAGES.value, _NUM_OOD.value, sets, _BATCH_SIZE.value)
    for method, r in results.items():
        mean = r["mean"]
        print(f"{method}: TNR at TPR 95 {mean['tnr_at_tpr95']:.1f}%, AUROC {mean['auroc']:.1f}%, "
              f"detection acc. {mean['detection_accuracy']:.1f}%, ECE {r['ece']:.2f}%")
    print(f"Tables in {_WORKDIR.value}/results.md, plots {_WORKDIR.value}/roc_*.png, reliability_*.png")


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
