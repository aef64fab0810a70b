r"""Robustness of each mixing method's model: FGSM (Table 11), occlusion and in-between samples (Figure 5).

On the embedded data (synthetic_shapes, small_cnn, the classification defaults), training the four models
in --workdir/models/<method>/ the first time and reusing them afterwards:

    python examples/robustness.py --workdir=/tmp/robustness
    #   10 min 58 s with the training of the four models (2 quiet CPU cores, bcdb8bf; 24-27 min shared).
    #   It reached (seed 0, 1,000 test images, top-1 accuracy %, this project's 2-core machine, 995d268):
    #   method    clean  FGSM 8/255  PGD-10
    #   baseline  98.3   32.2        11.6
    #   mixup     97.1   28.3         2.8
    #   cutout    98.4   37.4        11.8
    #   cutmix    97.5   38.3        10.9
    #   The README's "Robustness" section has the occlusion and in-between columns and Figure 5.

On the models of earlier classification runs (each run's own config.json and test split are used):

    python examples/robustness.py --workdir=/tmp/robustness \
        --workdirs=baseline=/tmp/base,mixup=/tmp/mixup,cutout=/tmp/cutout,cutmix=/tmp/cutmix

It evaluates the first --num_images test images (default 1000; all of them are held in memory as float32,
0.6 MB each at 224x224, so ImageNet's 50,000 need about 30 GB) in chunks of --batch_size (default 128), with
a progress bar over the loading and one over every model pass.

Writes to --workdir: results.json (every number per method), results.md (Table 11's layout: clean, FGSM
and PGD top-1 accuracy; the paper's ImageNet ResNet-50 FGSM numbers beside ours when the data set is
imagenet2012: baseline 8.2, Mixup 24.4, Cutout 11.5, CutMix 31.0) and figure5.png (centre and boundary
occlusion, Mixup and CutMix in-between samples: top-1 accuracy, one line per method). Each model's numbers
also go into its run's results.json ("robustness"). A bad flag (e.g. --num_images below 2, --num_pairs below 1,
--pgd_steps below 0) prints one line naming it and exits with status 2 before anything is loaded or trained.
"""


from absl import app, flags
import matplotlib

from keras_cutmix import robustness
from keras_cutmix.training import cli

_WORKDIR = flags.DEFINE_string("workdir", "/tmp/keras_cutmix_robustness", "Output directory.")
_RUNS = cli.MethodRunFlags("Seed of the models trained here, PGD's start and the pairs.")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 1000, "Test images evaluated (at least 2, for the pairs).",
                                   lower_bound=2)
_NUM_PAIRS = flags.DEFINE_integer("num_pairs", 500, "In-between pairs.", lower_bound=1)
_PGD_STEPS = flags.DEFINE_integer("pgd_steps", 10, "PGD steps (0: no PGD).", lower_bound=0)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 128, "Images per model call (lower it if memory runs out).",
                                   lower_bound=1)


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    config, workdirs, models_dir = _RUNS.checked(_WORKDIR.value)
    results = robustness.run_robustness(_WORKDIR.value, config, workdirs, models_dir, _RUNS.methods.value,
                                        _RUNS.seed.value, _NUM_IMAGES.value, _NUM_PAIRS.value, _PGD_STEPS.value,
                                        _BATCH_SIZE.value)
    for method, r in results.items():
        print(f"{method}: clean {r['clean_top1_acc']:.2f}%, FGSM {r['fgsm_top1_acc']:.2f}%"
              + (f", PGD {r['pgd_top1_acc']:.2f}%" if "pgd_top1_acc" in r else ""))
    print(f"Table in {_WORKDIR.value}/results.md, Figure 5 in {_WORKDIR.value}/figure5.png")


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
