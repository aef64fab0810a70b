r"""Pretrains the embedded localization backbone: `cam_vgg` on synthetic_shapes, written as a notop file.

The embedded stand-in for the paper's ImageNet weights (see
`keras_cutmix.localization.pretrain`): the baseline recipe (no mixing) on
another task than the birds', once; every WSOL method then fine-tunes it with
`--weights=synthetic_shapes` (the shipped file) or `--weights=<notop file>`.

    python examples/pretrain_backbone.py --workdir=/tmp/pretrain --install
    #   Writes /tmp/pretrain/backbone_notop.weights.h5 and, with --install,
    #   copies it to keras_cutmix/models/weights/cam_vgg_synthetic_shapes.weights.h5
    #   (the shipped file). Seed 0 (the shipped file): 16 epochs, 0.90% top-1 error
    #   on synthetic_shapes' 1,000 test images (test accuracy per epoch 10.6, 24.9,
    #   27.9, 85.8, 89.1, 95.4, 97.4, 98.4, ... 99.1%); 74 min on 2 CPU cores
    #   shared with five other jobs (101-379 s per epoch).

Resumable after a kill, like classification.py; a finished run is reused.
"""

from absl import app, flags

from keras_cutmix import training
from keras_cutmix.localization import pretrain
from keras_cutmix.training import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory (resumes if it holds a run).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of every random choice.")
_INSTALL = flags.DEFINE_bool("install", False, "Copy the notop file over the shipped one.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Delete a run of another config found in --workdir.")
_EPOCHS = flags.DEFINE_integer("epochs", None, "Training epochs (default: the recipe's).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", None, "Global batch size (default: the recipe's).")
_STEPS = flags.DEFINE_integer("steps_per_epoch", None, "Limit on training steps per epoch.")
_EVAL_STEPS = flags.DEFINE_integer("eval_steps", None, "Limit on test batches per evaluation.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory.")


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    overrides = {name: value for name, value in (
        ("epochs", _EPOCHS.value), ("batch_size", _BATCH_SIZE.value), ("steps_per_epoch", _STEPS.value),
        ("eval_steps", _EVAL_STEPS.value),
        ("data_dir", _DATA_DIR.value)) if value is not None}
    config = cli.checked(lambda: pretrain.pretrain_config(seed=_SEED.value, **overrides))
    cli.checked(lambda: training.check_run(config, _WORKDIR.value, _OVERWRITE.value))
    result = pretrain.pretrain_backbone(_WORKDIR.value, install=_INSTALL.value, overwrite=_OVERWRITE.value,
                                        seed=_SEED.value, **overrides)
    print(f"synthetic_shapes top-1 error after {result['epochs']} epochs (seed {result['seed']}): "
          f"{result['top1_error']:.2f}%; notop file: {result['notop']}")


if __name__ == "__main__":
    flags.mark_flag_as_required("workdir")
    app.run(main, flags_parser=cli.parse_flags)
