r"""Weakly-supervised object localization (the paper's Table 9): CAM boxes after each mixing method.

Every method x seed trains in --workdir/<method>/seed_<s>/ (resumable after a
kill, like classification.py), then its final model is evaluated: top-1 Loc
(right class AND IoU > 0.5 with the box of the predicted class's CAM
thresholded at 0.15 x its maximum, largest connected region), GT-known Loc,
MaxBoxAccV2 (Choe et al. 2020) and the top-1 classification error, beside
the trivial boxes (whole image, best fixed centred box). Writes
--workdir/results.json, results.md (Table 9's layout, mean ± std over
--seeds, the paper's top-1 Loc beside), cam_<method>.png and cam_methods.png
(with --cam=gradcam: results_gradcam.json/.md, gradcam_*.png, beside CAM's).

The embedded experiment is a miniature of the paper's protocol (pretrain,
then fine-tune): cam_vgg (VGG-GAP's shape at 128 pixels; a CAM feature sees
154 pixels, measured) starts from the backbone pretrained once on
synthetic_shapes with the baseline recipe (`--weights=synthetic_shapes`,
shipped in the package; remade by examples/pretrain_backbone.py), and every
method fine-tunes it on the embedded CUB-like data (synthetic_birds, 128x128,
10 classes, built offline in ~30-60 s) with the CUB recipe's shape: head at
10x, SGD momentum 0.9, the rate /10 after epoch 4 of 6, resize 146 and random
128 crop. The recipe was fixed from the baseline alone before any other
method ran (keras_cutmix/localization/presets.py says how).

The demo (`make demo`): the same recipe cut to 3 epochs (the rate /10 after
epoch 2; the cut set by time alone), baseline and CutMix, seed 0, 500 test
images:

    python examples/cub_wsol.py --config=wsol_demo --methods=baseline,cutmix --workdir=/tmp/wsol_demo
    #   5 min 44 s from a fresh clone (`make demo`: the venv from pip's cache, the
    #   data, both runs) on 2 CPU cores. It reached (%, seed 0, 500 test images):
    #   method    top-1 Loc  GT-known  MaxBoxAccV2  cls err  PxAP   covered  outside | paper top-1 Loc
    #   baseline    2.40       3.60      28.20      10.60   34.40   59.51    68.65  | CUB 37.12 (VGG-GAP)
    #   cutmix      0.80       2.60      26.73      14.60   28.39   53.69    65.79  |     52.53
    #   whole-image box 9.60 / 11.20; best centred box (0.60 x 0.85, tuned on the
    #   test set) 33.20 / 35.80 (top-1 / GT-known Loc). Both CAMs sit on the
    #   bird's head (cam_methods.png).

The full embedded comparison (four methods, 1,000 test images, three seeds):

    python examples/cub_wsol.py --config=wsol_embedded --seeds=0,1,2 --workdir=/tmp/wsol
    #   12 runs of 6-7 min each on 2 CPU cores shared with a test run (6 epochs
    #   of 30-50 s, ~40 s of evaluation); about 4 min each on a quiet machine,
    #   estimated from the demo. It reached (%, mean ± std over seeds 0, 1, 2,
    #   1,000 test images; the paper's CUB top-1 Loc with VGG-GAP beside):
    #   method    top-1 Loc    GT-known     MaxBoxAccV2   cls err       PxAP          covered       outside
    #   baseline  2.87 ± 0.99  3.90 ± 0.95  28.80 ± 0.41   8.03 ± 0.75  33.52 ± 0.95  58.87 ± 0.63  67.73 ± 0.28 | 37.12
    #   mixup     2.53 ± 0.81  3.93 ± 1.04  26.61 ± 0.57  11.37 ± 1.78  27.53 ± 0.65  53.61 ± 1.87  63.57 ± 0.29 | 41.73
    #   cutout    2.47 ± 0.15  3.73 ± 0.21  28.57 ± 0.29   8.60 ± 0.10  32.12 ± 0.29  57.27 ± 1.99  66.81 ± 1.38 | 44.83
    #   cutmix    1.83 ± 0.32  3.20 ± 0.26  26.88 ± 0.91  10.20 ± 0.61  30.68 ± 0.03  51.28 ± 0.95  62.66 ± 0.92 | 52.53
    #   whole-image box 10.10 / 11.30; best centred box (0.60 x 0.90, tuned on
    #   the test set) 32.63 / 34.50 (top-1 / GT-known Loc). Every method's CAM
    #   is a blob on the bird's head (cam_methods.png); CutMix's is tighter and
    #   covers less of the bird, not more: the miniature does not show the
    #   paper's effect.

From scratch (the earlier embedded experiment: cam_cnn, no pretraining, 6
epochs, cosine schedule):

    python examples/cub_wsol.py --config=wsol_scratch --seeds=0,1,2 --workdir=/tmp/wsol_scratch
    #   About 2 min per method and seed on a quiet machine (~13 s per epoch and
    #   ~30 s of evaluation; 3.5 min on a busy one). It reached (%, mean ± std
    #   over seeds 0, 1, 2, 1,000 test images):
    #   method    top-1 Loc    GT-known Loc  MaxBoxAccV2   top-1 cls err
    #   baseline  3.70 ± 1.08  4.63 ± 1.21   31.41 ± 0.24   7.23 ± 0.29
    #   mixup     3.60 ± 0.44  5.60 ± 0.10   29.98 ± 0.36  14.50 ± 4.45
    #   cutout    3.10 ± 0.10  4.83 ± 0.29   30.59 ± 0.83  13.00 ± 5.01
    #   cutmix    7.57 ± 1.21  9.47 ± 1.20   32.59 ± 0.29  13.70 ± 2.43
    #   whole-image box 10.37 / 11.30; best centred box (0.60 x 0.90, tuned on
    #   the test set) 32.80 / 34.50 (top-1 / GT-known Loc). Every method's CAM
    #   sits on the bird's head (cam_methods.png).

The paper's runs (Table 9, top-1 Loc %, CUB-200-2011 / ImageNet):
VGG-GAP: CAM (baseline) 37.12 / 42.73, Mixup 41.73 / 42.54, Cutout 44.83 /
43.13, CutMix 52.53 / 43.45. ResNet-50: baseline 49.41 / 46.30, Mixup 49.30 /
45.84, Cutout 52.78 / 46.69, CutMix 54.81 / 47.25.

    python examples/cub_wsol.py --config=cub_resnet50 --weights=imagenet \
        --workdir=/tmp/cub_resnet50 --strategy=mirrored --data_dir=/data/tensorflow_datasets
    python examples/cub_wsol.py --config=cub_vgg_gap --weights=imagenet \
        --workdir=/tmp/cub_vgg_gap --strategy=mirrored --data_dir=/data/tensorflow_datasets
    #   CUB: 600 epochs, batch 32, SGD momentum 0.9, weight decay 1e-4, lr /10
    #   every 150 epochs, head 0.01 / rest 0.001 (ResNet-50) or 0.001 / 0.0001
    #   (VGG-GAP); resize 256, random 224 crop and flip. Needs accelerators.
    #   --weights=imagenet: Keras's VGG-16 notop weights / torchvision's ResNet-50
    #   (keras-hub's timm conversion of hf://timm/resnet50.tv_in1k), downloaded and
    #   cached on first use; offline, a local copy (a notop file, a keras-hub or
    #   timm preset folder) or a classification.py workdir: README, "Starting
    #   from ImageNet weights".

--config=imagenet_vgg_gap / imagenet_resnet50 hold the ImageNet recipe (20
epochs, batch 256, head 0.1 / rest 0.01, /10 every 6 epochs). tfds has no
boxes for ImageNet: its validation boxes come from a wsolevaluation metadata
folder (--wsol_metadata, required there and read before training;
`keras_cutmix.data.imagenet_wsol_dataset`: resize 256, centre crop 224, every
box of an image), the images from tfds (or from --image_root, the folder of
the metadata's paths):

    python examples/cub_wsol.py --config=imagenet_resnet50 --weights=imagenet \
        --wsol_metadata=wsolevaluation/metadata/ILSVRC/test \
        --data_dir=/data/tensorflow_datasets --workdir=/tmp/imagenet_resnet50 --strategy=mirrored
    python examples/cub_wsol.py --config=imagenet_vgg_gap --weights=imagenet \
        --wsol_metadata=wsolevaluation/metadata/ILSVRC/test \
        --data_dir=/data/tensorflow_datasets --workdir=/tmp/imagenet_vgg_gap --strategy=mirrored
    #   The localization evaluation of each run (50,000 images) shows a
    #   progress bar; --verbose=0 silences it and Keras's.

Smaller runs of the same commands (what tf_tests/rehearsals/cub_wsol_test.py
runs on mock data): --epochs, --batch_size, --steps_per_epoch (training
batches per epoch), --eval_steps (test batches of each epoch's Keras
evaluation), --image_size (the 256 / 224 resize keeps its ratio),
--max_eval_images (the first N test images of the localization evaluation),
--methods and --seeds (which runs).

--eval_only re-evaluates the finished runs of --workdir (e.g. with
--cam=gradcam) without training; --overwrite deletes runs of another config.
A bad flag prints one line naming it and exits with status 2 before anything
is loaded or written; a missing data set or weights file, or a workdir in use,
exits with status 1.
"""

from absl import app, flags
import matplotlib

from keras_cutmix import localization, training
from keras_cutmix.training import cli

_CONFIG = flags.DEFINE_enum("config", "wsol_embedded", sorted(localization.WSOL_PRESETS), "Preset.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory (resumes the runs it holds).")
flags.mark_flag_as_required("workdir")
_METHODS = flags.DEFINE_list("methods", list(training.METHODS), "Methods to compare.")
_CAM = flags.DEFINE_enum("cam", "cam", ["cam", "gradcam"], "Localization map.")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds per method (mean and std over them).")
_EVAL_ONLY = flags.DEFINE_bool("eval_only", False, "Only evaluate the finished runs in --workdir.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Delete runs of another config found in --workdir.")
_WSOL_METADATA = flags.DEFINE_string(
    "wsol_metadata", None, "imagenet2012: wsolevaluation metadata folder (e.g. metadata/ILSVRC/test).")
_IMAGE_ROOT = flags.DEFINE_string(
    "image_root", None, "imagenet2012: folder of the metadata's image paths (default: tfds images).")
_MAX_EVAL_IMAGES = flags.DEFINE_integer(
    "max_eval_images", None, "Localization: evaluate the first N test images only (default: all).")
_VERBOSE = flags.DEFINE_enum(
    "verbose", None, ["0", "1", "2"], "Progress bars of training and evaluation: 0 none (default: shown).")
# Each flag overrides the preset only when given.
_OVERRIDES = [
    flags.DEFINE_string("dataset", None, "keras_cutmix.data name with boxes."),
    flags.DEFINE_string("weights", None, "Weights to start from: imagenet, a keras-hub / timm preset folder or name, a notop file, a "
                        "whole-model file or a classification.py workdir (README: Starting from ImageNet weights)."),
    flags.DEFINE_enum("strategy", None, training.STRATEGIES, "tf.distribute strategy."),
    flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory."),
    flags.DEFINE_integer("epochs", None, "Training epochs."),
    flags.DEFINE_integer("batch_size", None, "Global batch size."),
    flags.DEFINE_integer("steps_per_epoch", None, "Limit on training steps per epoch."),
    flags.DEFINE_integer("eval_steps", None, "Limit on test batches per epoch's test evaluation."),
    flags.DEFINE_integer("image_size", None, "Image side (default: the preset's, 224 for the paper's)."),
    flags.DEFINE_string("train_split", None, "tfds training split, e.g. 'train[:10%]'."),
    flags.DEFINE_string("test_split", None, "tfds test split."),
]


def _seeds():
    try:
        return [int(s) for s in _SEEDS.value]
    except ValueError:
        raise training.ConfigError(
            "seeds", f"Expected --seeds=INT[,INT...]. Received: {','.join(_SEEDS.value)!r}") from None


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    overrides = {f.name: f.value for f in _OVERRIDES if f.value is not None}
    if _VERBOSE.value is not None:
        overrides["verbose"] = int(_VERBOSE.value)
    seeds = cli.checked(_seeds)
    # Every check before any data is loaded or any file is written.
    config, _ = cli.checked(lambda: localization.run.resolve_config(_CONFIG.value, **overrides))
    cli.checked(lambda: localization.check_wsol(
        config, _WORKDIR.value, _METHODS.value, seeds, _CAM.value, _EVAL_ONLY.value, _OVERWRITE.value,
        _WSOL_METADATA.value, _IMAGE_ROOT.value, _MAX_EVAL_IMAGES.value))
    output = localization.run_wsol(
        _CONFIG.value, _WORKDIR.value, methods=_METHODS.value, seeds=seeds, cam_method=_CAM.value,
        eval_only=_EVAL_ONLY.value, overwrite=_OVERWRITE.value, wsol_metadata=_WSOL_METADATA.value,
        image_root=_IMAGE_ROOT.value, max_eval_images=_MAX_EVAL_IMAGES.value, **overrides)
    for method, s in output["methods"].items():
        print(f"{method}: top-1 Loc {s['mean']['top1_loc']:.2f}%, GT-known Loc {s['mean']['gt_known_loc']:.2f}%, "
              f"MaxBoxAccV2 {s['mean']['max_box_acc_v2']:.2f}%")
    print(f"Table in {_WORKDIR.value}/{localization.run.results_basename(_CAM.value)}.md, "
          f"pictures {_WORKDIR.value}/{_CAM.value}_*.png")


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
