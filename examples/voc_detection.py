r"""Transfer to object detection (the paper's Table 10): each method's backbone fine-tuned as SSD and RetinaNet.

On the embedded data (synthetic_detection: 128x128 scenes of 3-8 shapes, 2,000 train / 500 test images),
four resnet_tiny backbones pretrain on synthetic_shapes (one per method, in --workdir/backbones/, reused
when they exist), then each is fine-tuned as each detector and scored by VOC07 mAP:

    python examples/voc_detection.py --workdir=/tmp/detection
    #   21 min 18 s on 2 CPU cores from nothing (data and backbones included), at commit 6638f03. It reached
    #   VOC07 mAP (%, 500 test scenes, one seed; the README's "Detection" section reads it):
    #   backbone's method   SSD    RetinaNet
    #   baseline            5.94   7.91
    #   mixup               2.11   5.96
    #   cutout              1.74   4.68
    #   cutmix              5.07   6.04

The paper's setup (Pascal VOC 07+12 trainval, VOC07 test, SSD300 on the method's ImageNet ResNet-50, with
ssd.pytorch's recipe: `keras_cutmix/detection/run.py` says what it follows and where it departs; the
backbones are classification workdirs of `examples/classification.py --config=resnet50_imagenet ...` or
.keras files, and VOC must be prepared for tfds: `tfds build voc/2007 voc/2012 --data_dir=DIR`):

    python examples/voc_detection.py --preset=voc --data_dir=DIR --workdir=/tmp/voc \
        --backbones=baseline=/runs/base,mixup=/runs/mixup,cutout=/runs/cutout,cutmix=/runs/cutmix
    #   Table 10 (VOC07 mAP, SSD / Faster R-CNN): baseline 76.7 / 75.6, Mixup 76.6 / 73.9, Cutout 76.8 /
    #   75.0, CutMix 77.6 / 76.7. The second detector here is keras-hub's RetinaNet: it stands in for Faster R-CNN,
    #   which no maintained Keras library has, and its mAP is not comparable to that column.
    #   Not run here on real VOC (120K steps per detector and method); tf_tests/rehearsals/voc_detection_test.py
    #   runs this command on tfds mock data with --steps=1 --batch_size=2 --num_eval_images=3 added, also with
    #   --strategy=mirrored.

--strategy=mirrored trains on every GPU of the machine (--batch_size is the global batch). --steps,
--batch_size and --num_eval_images shrink a run (a smoke test); the preset's recipe stays. The evaluation of
the 4,952 test images shows a progress bar.
--mixing=cutmix|mixup mixes the detection batches box-aware while fine-tuning (beyond the paper). Each
detector trains in --workdir/<detector>/<method>/ (config.json, history.json, checkpoints/) and resumes
after a kill; a finished one is reused when the flags that shape it (--mixing, --steps, --batch_size, --seed,
--backbones, ...) are the same, and a workdir holding runs of another config is refused (exit status 1,
nothing touched) unless --overwrite, which deletes those runs first. Writes --workdir/results.json,
results.md (Table 10's layout) and detections_<detector>.png (ground truth and each method's detections
on test images). A bad flag prints one line and exits with status 2.
"""

import os

from absl import app, flags
import matplotlib

from keras_cutmix import training
from keras_cutmix.detection import detectors
from keras_cutmix.detection import run as detection_run
from keras_cutmix.detection.train import MIXINGS
from keras_cutmix.training import cli

_WORKDIR = flags.DEFINE_string("workdir", "/tmp/keras_cutmix_detection", "Output directory.")
_PRESET = flags.DEFINE_enum("preset", "embedded", sorted(detection_run.PRESETS), "Data and recipe.")
_BACKBONES = flags.DEFINE_string("backbones", "", "METHOD=PATH,... classification workdirs or .keras files.")
_DETECTORS = flags.DEFINE_list("detectors", ["ssd", "retinanet"], f"Detectors among {sorted(detectors.DETECTORS)}.")
_METHODS = flags.DEFINE_list("methods", list(training.METHODS), "Methods (backbones) to compare.")
_MIXING = flags.DEFINE_enum("mixing", "none", MIXINGS, "Box-aware mixing while fine-tuning.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the backbones trained here, the data order and the mixes.")
_STEPS = flags.DEFINE_integer("steps", None, "Training steps per detector (default: the preset's).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", None, "Training batch (default: the preset's).")
_NUM_EVAL_IMAGES = flags.DEFINE_integer("num_eval_images", None, "Score the first N test images (default: all).")
_STRATEGY = flags.DEFINE_enum("strategy", "default", training.STRATEGIES, "tf.distribute strategy of the training.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory.")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Delete the runs of another config found in --workdir (detectors, backbones), then train.")


def _run_arguments(backbones):
    """`run_detection`'s keyword arguments from the flags."""
    return dict(preset=_PRESET.value, backbones=backbones, detector_names=tuple(_DETECTORS.value),
                methods=tuple(_METHODS.value), mixing_method=_MIXING.value, seed=_SEED.value,
                data_dir=_DATA_DIR.value, steps=_STEPS.value, batch_size=_BATCH_SIZE.value, strategy=_STRATEGY.value,
                overwrite=_OVERWRITE.value)


def check_flags():
    """`{method: path}` of --backbones after every flag check (raises ConfigError naming the flag)."""
    backbones = training.parse_method_dirs(_BACKBONES.value, flag="backbones")
    unknown = [d for d in _DETECTORS.value if d not in detectors.DETECTORS]
    if unknown or not _DETECTORS.value:
        raise training.ConfigError("detectors", f"Expected detectors among {sorted(detectors.DETECTORS)}. "
                                                f"Received: {_DETECTORS.value}")
    methods = training.check_methods(_METHODS.value)
    for flag in (_STEPS, _BATCH_SIZE, _NUM_EVAL_IMAGES):
        if flag.value is not None and flag.value < 1:
            raise training.ConfigError(flag.name, f"Expected --{flag.name} >= 1. Received: {flag.value}")
    missing = {m: p for m, p in backbones.items() if not os.path.exists(p)}
    if missing:  # Before any backbone pretrains or any detector trains.
        raise training.ConfigError("backbones", f"Expected every --backbones path to be a classification "
                                                f"workdir or a .keras file. Received missing paths: {missing}")
    if detection_run.recipe(_PRESET.value).pretrain is None and set(methods) - set(backbones):
        raise training.ConfigError("backbones", f"Expected a backbone for every method with --preset="
                                                f"{_PRESET.value}. Received: {_BACKBONES.value!r}")
    detection_run.check_runs(_WORKDIR.value, **_run_arguments(backbones))  # A workdir holding another config's runs.
    return backbones


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    backbones = cli.checked(check_flags)
    results = detection_run.run_detection(_WORKDIR.value, **_run_arguments(backbones),
                                          num_eval_images=_NUM_EVAL_IMAGES.value)
    for method, by_detector in results.items():
        print(f"{method}: " + ", ".join(f"{d} mAP {100 * r['map']:.2f}%" for d, r in by_detector.items()))
    print(f"Table in {_WORKDIR.value}/results.md, pictures {_WORKDIR.value}/detections_*.png")


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
