r"""Image classification with CutMix, Mixup, Cutout or no mixing (baseline).

The embedded data set (synthetic_shapes, 64x64, 10 classes, built offline in
about 10 s), small_cnn, CutMix, 12 epochs:

    python examples/classification.py --workdir=/tmp/cutmix --method=cutmix

It ends near 2% top-1 test error: CutMix 2.30 ± 0.53% (best epoch, mean ±
std over 3 seeds), 12 epochs of 4-15 s each on 2 shared CPU cores, from the
mini reproduction, which trains every method with several seeds:

    python examples/compare_methods.py --workdir=/tmp/compare --seeds=0,1,2

The paper's runs (`--config` presets; `--method` and any other flag override
them). Top-1 / top-5 test error of the paper, best epoch:

    python examples/classification.py --config=pyramidnet200_cifar100 \
        --method=cutmix --workdir=/tmp/pyramidnet_cutmix --strategy=mirrored
    #   CIFAR-100, PyramidNet-200 (widening 240), 300 epochs, batch 64, lr 0.25
    #   /10 at epochs 150 and 225, CutMix p=0.5 (Table 4):
    #   baseline 16.45 / 3.69, Cutout 16.53 / 3.65, Mixup 15.63 / 3.99,
    #   CutMix 14.47 / 2.97. 782 steps per epoch; 300 epochs need GPUs
    #   (--strategy=mirrored).

    python examples/classification.py --config=resnet50_imagenet \
        --method=cutmix --workdir=/tmp/resnet50_cutmix --strategy=mirrored \
        --data_dir=/data/tensorflow_datasets
    #   ImageNet, ResNet-50, 300 epochs, batch 256, lr 0.1 /10 at epochs 75,
    #   150 and 225, CutMix p=1.0 (Table 3):
    #   baseline 23.68 / 7.05, Cutout 22.93 / 6.66, Mixup 22.58 / 6.40,
    #   CutMix 21.40 / 5.92. 5005 steps per epoch; it needs accelerators
    #   (--strategy=mirrored, multi_worker or tpu) and ImageNet prepared for
    #   tfds (the error message says how).

To measure the time per epoch of a preset on your machine, train a few
steps and scale: add --epochs=1 --steps_per_epoch=5 --eval_steps=1 and read
epoch_time_s in --workdir/history.json (the first steps include tracing).

Writes to --workdir: config.json, history.json/.csv, results.json (top-1 and
top-5 error, best and final), results.md, checkpoints/{last,best}.weights.h5,
tensorboard/. Kill it and run the same command again: it resumes from the
last finished epoch (keras.callbacks.BackupAndRestore) with the same batches,
so it ends with the same weights as an uninterrupted run. A workdir holding a
run of another config is refused (nothing is touched) unless --overwrite,
which deletes that run first.

Several machines (--strategy=multi_worker): run the same command on each,
with TF_CONFIG naming every worker and this one's index, e.g. on the first
of two machines

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}' \
        python examples/classification.py --strategy=multi_worker --workdir=/tmp/run

and "index": 1 on host2. --batch_size is the global batch. Worker 0 writes
the results to --workdir; worker i writes its copy to --workdir/workers/worker_i.

A bad flag prints one line naming it and exits with status 2 before anything
is loaded or written; a missing data set or weights file, or a workdir in use,
exits with status 1.

--weights starts from pretrained weights: a .weights.h5 / .keras file of the
same model or the workdir of an earlier run (any class count: the head starts
fresh when it differs), or, for the ImageNet models, --weights=imagenet
(downloaded and cached by keras-hub / Keras) or its offline stand-ins (a
keras-hub or timm preset folder for resnet50*, a notop file for vgg_gap and
resnet50_keras; keras_cutmix.models.pretrained lists them; the error says how
to get one). --lr_multipliers="head/=10" trains variables whose path matches
the regex at 10x the learning rate.
"""

from absl import app, flags

from keras_cutmix import training
from keras_cutmix.training import cli

_PRESET = flags.DEFINE_enum("config", None, sorted(training.PRESETS), "Preset of the paper's runs.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory (resumes if it holds a run).")
flags.mark_flag_as_required("workdir")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Delete a run of another config found in --workdir, then train.")
# Each flag overrides the preset (or the defaults) only when given.
_OVERRIDES = [
    flags.DEFINE_string("dataset", None, "keras_cutmix.data name."),
    flags.DEFINE_string("model", None, "keras_cutmix.models name."),
    flags.DEFINE_enum("method", None, training.METHODS, "Mixing method."),
    flags.DEFINE_float("alpha", None, "Beta(alpha, alpha) of CutMix and Mixup."),
    flags.DEFINE_float("probability", None, "Probability that CutMix mixes a batch (paper's p)."),
    flags.DEFINE_float("mixup_cutout_probability", None, "Same for Mixup and Cutout (default 1)."),
    flags.DEFINE_integer("cutout_size", None, "Cutout square side (default: half the image)."),
    flags.DEFINE_integer("epochs", None, "Training epochs."),
    flags.DEFINE_integer("batch_size", None, "Global batch size."),
    flags.DEFINE_float("lr", None, "Initial learning rate."),
    flags.DEFINE_enum("lr_schedule", None, training.LR_SCHEDULES, "Learning-rate schedule."),
    flags.DEFINE_list("lr_boundaries", None, "Epochs of the 'step' schedule's decays."),
    flags.DEFINE_list("lr_multipliers", None, "REGEX=FACTOR pairs on variable paths."),
    flags.DEFINE_float("weight_decay", None, "L2 weight decay (coupled, as PyTorch SGD)."),
    flags.DEFINE_integer("seed", None, "Seed of every random choice."),
    flags.DEFINE_enum("strategy", None, training.STRATEGIES, "tf.distribute strategy."),
    flags.DEFINE_string("tpu", None, "TPU address for --strategy=tpu."),
    flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory."),
    flags.DEFINE_string("weights", None, "Weights to start from: imagenet, a preset, a file or workdir."),
    flags.DEFINE_integer("steps_per_epoch", None, "Limit on training steps per epoch."),
    flags.DEFINE_integer("eval_steps", None, "Limit on test batches per evaluation."),
    flags.DEFINE_integer("image_size", None, "Image side, if not the data set's."),
    flags.DEFINE_string("train_split", None, "tfds training split, e.g. 'train[:10%]'."),
    flags.DEFINE_string("test_split", None, "tfds test split."),
]


def _parsed(name, text, parse):
    try:
        return parse(text)
    except ValueError:
        raise training.ConfigError(
            name, f"Expected every item of --{name} to be a number. Received: {text!r}") from None


def config_from_flags():
    """The preset (or defaults) with every given flag applied.

    Raises:
        ConfigError: naming the flag, for a value the config rejects.
    """
    overrides = {f.name: f.value for f in _OVERRIDES if f.value is not None}
    if "lr_boundaries" in overrides:
        overrides["lr_boundaries"] = tuple(
            _parsed("lr_boundaries", b, int) for b in overrides["lr_boundaries"])
    if "lr_multipliers" in overrides:
        pairs = [item.rsplit("=", 1) for item in overrides["lr_multipliers"]]
        if any(len(p) != 2 or not p[0] for p in pairs):
            raise training.ConfigError(
                "lr_multipliers", "Expected --lr_multipliers=REGEX=FACTOR[,REGEX=FACTOR...]. "
                f"Received: {','.join(overrides['lr_multipliers'])!r}")
        overrides["lr_multipliers"] = {p: _parsed("lr_multipliers", f, float) for p, f in pairs}
    return training.get_config(_PRESET.value, **overrides)


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    # Every check before any data is loaded or any file is written.
    config = cli.checked(config_from_flags)
    cli.checked(lambda: training.check_run(config, _WORKDIR.value, _OVERWRITE.value))
    results = training.train_and_evaluate(config, _WORKDIR.value, overwrite=_OVERWRITE.value)
    for method, r in results.items():
        print(f"{method}: top-1 error {r['top1_error_best']:.2f}% (best, epoch {r['best_epoch']}), "
              f"{r['top1_error_final']:.2f}% (final); results in {_WORKDIR.value}/results.md")


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
