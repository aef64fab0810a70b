"""`run_detection`: each method's pretrained backbone fine-tuned as SSD and RetinaNet, VOC07 mAP, Table 10.

    from keras_cutmix import detection
    detection.run_detection("/tmp/det")  # Embedded: four resnet_tiny backbones, synthetic_detection.

Backbones: `backbones={method: source}` (classification workdirs or .keras files), or, on the embedded preset,
`resnet_tiny` classifiers pretrained on synthetic_shapes in `workdir/backbones/<method>/` (`training.run_methods`).
Each detector trains in `workdir/<detector>/<method>/` (`training.resumable`, as classifiers do) and is scored by
VOC07 mAP (IoU 0.5, 11-point) on the test split, every ground-truth object kept. Writes `workdir/results.json`,
`results.md` (Table 10's layout) and `detections_<detector>.png`.

The "voc" preset is ssd.pytorch's SSD300 recipe (github.com/amdegroot/ssd.pytorch: `train.py`, `data/config.py`'s
`voc`, `data/voc0712.py`, `utils/augmentations.py`), which the paper ran on ResNet-50: VOC2007 + VOC2012 trainval
(16,551 images), VOC2007 test (4,952); batch 32; `optim.SGD(lr=1e-3, momentum=0.9, weight_decay=5e-4)` (L2 added
to the gradient: `training.TorchSGD`); the rate /10 at iterations 80K and 100K of 120K; no warm-up or clipping;
difficult objects out of the training targets (`keep_difficult=False`; evaluation keeps them as VOC's "ignore");
`SSDAugmentation` at the original size, then the resize to 300x300. What still departs from ssd.pytorch:

* the network is ours (`ssd_model`: ResNet-50 layer2 + L2Norm, layer3, layer4 and three extras, BatchNorm
  training), pixels normalised by ImageNet's mean and std inside the model; expand fills with the RGB mean;
* augmentation details (`ssd_augment`'s docstring): clipped pixels, a bounded crop search, bilinear resize;
* tfds' boxes are VOC's 1-based corners over the image size (ssd.pytorch subtracts 1 first: a pixel);
* data order: tf.data's shuffle buffer of 2,000 images (the two years drawn in proportion), not a permutation
  each epoch; a training image's objects past the 100th would be dropped;
* evaluation scores detections in the 300x300 frame (ssd.pytorch rescales them: IoU differs only by the
  devkit's +1 pixel), at most 100 per image after per-class NMS (ssd.pytorch: up to 200 per class);
* `--steps` shorter than 120K moves the two rate drops to the same fractions (2/3, 5/6) of the run.

RetinaNet (the stand-in for Faster R-CNN) shares the voc recipe at Lin et al.'s lr 1e-2 and L2 1e-4 on 320x320
images (its FPN needs a multiple of 32), without their 500-iteration warm-up and drops at 2/3 and 8/9 of 90K
iterations of 16 images.

References:
    - [Yun et al., 2019](https://arxiv.org/abs/1905.04899), supplementary Section C, Table 10.
    - [Liu et al., 2016](https://arxiv.org/abs/1512.02325); github.com/amdegroot/ssd.pytorch.
"""

import dataclasses
import os

import keras
import numpy as np

from keras_cutmix import data, training
from keras_cutmix.detection import backbones as backbone_lib
from keras_cutmix.detection import detectors
from keras_cutmix.detection.train import detection_dataset, detector_optimizer, evaluate_detector
from keras_cutmix.training import resumable
from keras_cutmix.training.preset import Preset
from keras_cutmix.training import results as results_io
from keras_cutmix.training.results import Column, markdown_table as write_table

# Table 10: VOC07 test mAP (%) of detectors fine-tuned from each method's ImageNet ResNet-50.
PAPER_MAP = {"baseline": {"ssd": 76.7, "faster_rcnn": 75.6}, "mixup": {"ssd": 76.6, "faster_rcnn": 73.9},
             "cutout": {"ssd": 76.8, "faster_rcnn": 75.0}, "cutmix": {"ssd": 77.6, "faster_rcnn": 76.7}}


@dataclasses.dataclass(frozen=True)
class DetectionRecipe:
    """A detection `training.Preset`'s `recipe`: fine-tuning per detector and, if given, backbone pretraining.

    Attributes:
        dataset, train_split, test_split: `data.load_detection`'s name and splits.
        image_size: Square input side, or `{detector: side}`.
        batch_size: Training images per step (global, split across replicas).
        steps: `{detector: training steps}`.
        learning_rate: `{detector: peak learning rate}`.
        steps_per_epoch: Steps between checkpoints (the resumable run's epochs).
        optimizer: `train.detector_optimizer`'s "sgd" (PyTorch's coupled L2) or "adamw".
        schedule: "cosine" or "steps" (/10 at 2/3 and 5/6 of the steps).
        clipnorm: Global gradient norm clip, or None.
        warmup_steps: Linear warm-up ("cosine" only).
        drop_difficult: Drop difficult objects from the training targets.
        max_boxes: Objects per training image kept in the targets (evaluation keeps every object).
        pretrain: `training.get_config` fields of the backbone classifiers, or None (backbones are given).
    """

    dataset: str
    train_split: str
    test_split: str
    image_size: int
    batch_size: int
    steps: dict
    learning_rate: dict
    steps_per_epoch: int
    optimizer: str = "sgd"
    schedule: str = "cosine"
    clipnorm: float = 10.0
    warmup_steps: int = 0
    drop_difficult: bool = False
    max_boxes: int = 32
    pretrain: dict = None

    def input_size(self, detector):
        """`detector`'s square input side."""
        return self.image_size[detector] if isinstance(self.image_size, dict) else self.image_size


PRESETS = {
    "voc": Preset("voc", dataclasses.asdict(DetectionRecipe(
        "voc/2007+2012", "trainval", "test", {"ssd": 300, "retinanet": 320}, 32, {"ssd": 120_000, "retinanet": 120_000},
        {"ssd": 1e-3, "retinanet": 1e-2}, 1000, optimizer="sgd", schedule="steps", clipnorm=None,
        drop_difficult=True, max_boxes=100)), paper=PAPER_MAP, paper_table="Table 10",
        command="python examples/voc_detection.py --preset=voc --data_dir=DIR --workdir=/tmp/voc "
                "--backbones=baseline=/runs/base,mixup=/runs/mixup,cutout=/runs/cutout,cutmix=/runs/cutmix"),
    # Minutes on a CPU: 128x128 scenes, resnet_tiny backbones pretrained 6 epochs on synthetic_shapes, AdamW with a
    # 30-step warm-up (SGD at these rates barely moves); RetinaNet's step costs about 3x SSD's: half the steps.
    "embedded": Preset("embedded", dataclasses.asdict(DetectionRecipe(
        "synthetic_detection", "train", "test", 128, 16, {"ssd": 250, "retinanet": 120},
        {"ssd": 2e-3, "retinanet": 1e-3}, 50, optimizer="adamw", warmup_steps=30,
        pretrain=dict(model="resnet_tiny", epochs=6))),
        command="python examples/voc_detection.py --workdir=/tmp/detection",
        time_here="21 min 18 s on 2 CPU cores from nothing (data and backbones included), at commit 6638f03",
        reached={"baseline": {"ssd": 5.94, "retinanet": 7.91}, "mixup": {"ssd": 2.11, "retinanet": 5.96},
                 "cutout": {"ssd": 1.74, "retinanet": 4.68}, "cutmix": {"ssd": 5.07, "retinanet": 6.04}}),
}


def recipe(preset):
    """The `DetectionRecipe` of a `PRESETS` name, a detection `training.Preset` or a `DetectionRecipe`."""
    preset = PRESETS[preset] if isinstance(preset, str) else preset
    return DetectionRecipe(**preset.fields()) if isinstance(preset, Preset) else preset


# Fields of a detector's run config that may change between calls (as classification's data_dir and strategy).
FREE_FIELDS = ("data_dir", "strategy")


def check_runs(workdir, *, preset="embedded", backbones=None, detector_names=("ssd", "retinanet"),
               methods=training.METHODS, mixing_method="none", seed=0, data_dir=None, steps=None, batch_size=None,
               strategy="default", overwrite=False):
    """Every run of `run_detection` checked before anything trains: backbones to pretrain and detectors.

    Returns:
        `(spec, {method: backbone source}, {(detector, method): run config}, backbone runs)`, the backbone runs
        being `training.method_runs`'s for the methods without a backbone (pretrained in `workdir/backbones/`).

    Raises:
        training.ConfigError: naming "backbones" when the preset cannot pretrain a missing one.
        training.WorkdirInUseError: naming "workdir" if a backbone's or a detector's workdir holds a run of
            another config (finished or interrupted) and not `overwrite`. Nothing is written either way.
    """
    spec = recipe(preset)
    sources, pretrain = dict(backbones or {}), []
    missing = [m for m in methods if m not in sources]
    if missing:
        if spec.pretrain is None:
            raise training.ConfigError("backbones", f"Expected a backbone for every method on this preset "
                                                    f"(--backbones=METHOD=PATH,...). Received none for {missing}")
        config = training.get_config(**{"seed": seed, "data_dir": data_dir, **spec.pretrain})
        pretrain = training.method_runs(config, os.path.join(workdir, "backbones"), missing, overwrite=overwrite)
        sources.update({m: os.path.join(workdir, "backbones", m) for m in missing})
    configs = {}
    for name in detector_names:
        for method in methods:
            total = steps or spec.steps[name]  # "epochs" of `spec.steps_per_epoch` steps: the checkpoints.
            configs[name, method] = {
                "detector": name, "method": method, "backbone": os.fspath(sources[method]), "mixing": mixing_method,
                "seed": seed, "steps": total, "batch_size": batch_size or spec.batch_size,
                "epochs": max(1, total // spec.steps_per_epoch), "steps_per_epoch": min(total, spec.steps_per_epoch),
                "preset": dataclasses.asdict(spec), "data_dir": data_dir, "strategy": strategy}
            resumable.check_workdir(os.path.join(workdir, name, method), configs[name, method], overwrite,
                                    FREE_FIELDS)
    return spec, sources, configs, pretrain


def markdown_table(results, preset_name, detector_names):
    """Table 10's layout: method rows, each detector's mAP (%), the paper's beside (`training.results`'s writer)."""
    rows = {method: {d: 100 * by_detector[d]["map"] for d in detector_names if d in by_detector}
            for method, by_detector in results.items()}
    return write_table(
        rows, [Column(f"{detectors.TITLES[d]} mAP", d) for d in detector_names],
        {Column(f"paper {title}", digits=1): {m: paper[key] for m, paper in PAPER_MAP.items()}
         for key, title in (("ssd", "SSD"), ("faster_rcnn", "Faster R-CNN"))},
        title=f"## Detection: {preset_name}", row_title="backbone's method",
        intro="VOC07 mAP (IoU 0.5, 11-point) in %. RetinaNet (keras-hub) stands in for the paper's Faster R-CNN, "
              "which no maintained Keras library has: its column is not the paper's detector.")


def _picture(path, kind, models_by_method, test_ds, class_names, num_images=6, per_image=4, min_score=0.05):
    """Ground truth, then each method's `per_image` best detections (score >= `min_score`) on test images."""
    from keras_cutmix.visualization import plot_box_grid  # pylint: disable=g-import-not-at-top  (matplotlib)

    images, targets, _ = next(iter(test_ds))
    images = np.asarray(images)[:num_images]
    rows = [{"title": "ground truth", "images": images.astype(np.uint8),
             "boxes": np.asarray(targets["boxes"])[:num_images], "labels": np.asarray(targets["labels"])[:num_images]}]
    for method, model in models_by_method.items():
        boxes, scores, classes, counts = (np.asarray(t)[:num_images] for t in kind.detect(model, images))
        boxes = np.clip(np.nan_to_num(boxes), 0, images.shape[1])
        # Scores come sorted: the first `per_image` of each image, above `min_score`.
        keep = (scores >= min_score) & (np.arange(scores.shape[1])[None] < np.minimum(counts, per_image)[:, None])
        rows.append({"title": method, "images": images.astype(np.uint8), "boxes": boxes,
                     "labels": np.where(keep, classes, -1), "origins": np.ones(classes.shape, np.int64),
                     "weights": np.where(keep, scores, 0.0), "weight_prefix": ""})
    return plot_box_grid(path, rows, class_names=class_names,
                         title=f"{kind.title}: ground truth (yellow); each image's {per_image} best detections "
                               f"with score >= {min_score} (cyan, with their score)")


def preset_optimizer(spec, detector, steps):
    """`train.detector_optimizer` of `spec` (a `recipe` argument) for `detector` over `steps` steps."""
    spec = recipe(spec)
    return detector_optimizer(spec.optimizer, spec.learning_rate[detector], steps,
                              weight_decay=detectors.DETECTORS[detector].weight_decay, warmup_steps=spec.warmup_steps,
                              clipnorm=spec.clipnorm, schedule=spec.schedule)


def training_batches(spec, detector, *, batch_size=None, seed=0, mixing_method="none", data_dir=None):
    """`detector`'s training batches on `spec` (a `recipe` argument): augmented, capped, mixed."""
    spec = recipe(spec)
    kind, size = detectors.DETECTORS[detector], spec.input_size(detector)
    ds = detection_dataset(spec.dataset, spec.train_split, training=True, batch_size=batch_size or spec.batch_size,
                           image_size=size, seed=seed, mixing_method=mixing_method, data_dir=data_dir,
                           max_boxes=spec.max_boxes, drop_difficult=spec.drop_difficult,
                           augment=kind.augment and kind.augment(size))
    return kind.training_data(ds, size)


def evaluation_batches(spec, detector, data_dir=None, batch_size=32):
    """`spec`'s (a `recipe` argument) test split at `detector`'s input size, for `evaluate_detector`."""
    spec = recipe(spec)
    return detection_dataset(spec.dataset, spec.test_split, training=False, batch_size=batch_size,
                             image_size=spec.input_size(detector), data_dir=data_dir)


def run_detection(workdir, *, preset="embedded", backbones=None, detector_names=("ssd", "retinanet"),
                  methods=training.METHODS, mixing_method="none", seed=0, data_dir=None, steps=None, verbose=1,
                  batch_size=None, num_eval_images=None, strategy="default", overwrite=False, callbacks=()):
    """Fine-tunes each method's backbone as each detector, scores VOC07 mAP, writes the table and pictures
    (the module docstring: where each run trains, what is written).

    Args:
        workdir: Output directory.
        preset: A `PRESETS` name, a detection `training.Preset` or a `DetectionRecipe`. Defaults to "embedded".
        backbones: `{method: classification workdir or .keras file}`. Defaults to None (embedded: pretrain).
        detector_names: Detectors, from `detectors.DETECTORS`. Defaults to ("ssd", "retinanet").
        methods: Methods, in table order. Defaults to all four.
        mixing_method: Box-aware mixing while fine-tuning: "none", "cutmix" or "mixup". Defaults to "none".
        seed: Seed of everything drawn here. Defaults to 0.
        data_dir: tfds data_dir. Defaults to None.
        steps: Training steps per detector, overriding the preset's (a "steps" schedule keeps its fractions).
            Defaults to None.
        verbose: Keras progress bars (1) or none (0). Defaults to 1.
        batch_size: Training batch, overriding the preset's. Defaults to None.
        num_eval_images: Score the first this many test images. Defaults to None (all).
        strategy: `training.get_strategy` name the detectors train under. Defaults to "default".
        overwrite: Delete the runs of another config found in `workdir` (detectors and pretrained
            backbones) and train these. Defaults to False.
        callbacks: Extra Keras callbacks of every detector's `fit`. Defaults to none.

    Returns:
        `{method: {detector: {"map", "ap", "num_images"}}}` (also in `workdir/results.json`).

    Raises:
        training.WorkdirInUseError: (a `training.ConfigError` naming "workdir") if a run in `workdir` has
            another config and not `overwrite`, before anything trains or is written.
    """
    spec, sources, configs, pretrain = check_runs(
        workdir, preset=preset, backbones=backbones, detector_names=detector_names, methods=methods,
        mixing_method=mixing_method, seed=seed, data_dir=data_dir, steps=steps, batch_size=batch_size,
        strategy=strategy, overwrite=overwrite)
    preset = preset if isinstance(preset, str) else getattr(preset, "name", "custom")
    num_classes = data.detection_spec(spec.dataset).num_classes
    if pretrain:
        training.run_methods(pretrain[0][1], os.path.join(workdir, "backbones"), [m for m, _, _ in pretrain],
                             overwrite=overwrite)
    distribution = training.get_strategy(strategy)
    results = {m: {} for m in methods}
    for name in detector_names:
        kind, size = detectors.DETECTORS[name], spec.input_size(name)
        test_ds = evaluation_batches(spec, name, data_dir)
        trained = {}
        for method in methods:
            config = configs[name, method]

            def build(source=sources[method], total=config["steps"]):
                with distribution.scope():
                    classifier = backbone_lib.at_input_size(backbone_lib.load_classifier(source), size)
                    model = kind.build(backbone_lib.pyramid_encoder(classifier), num_classes, size)
                    kind.compile(model, preset_optimizer(spec, name, total))
                return model

            def train_data(initial_epoch, config=config):
                ds = training_batches(spec, name, batch_size=config["batch_size"], seed=seed,
                                      mixing_method=mixing_method, data_dir=data_dir)
                return resumable.skip_batches(ds, config["steps_per_epoch"])(initial_epoch)

            keras.utils.set_random_seed(seed)
            print(f"== {name}, {method} backbone: {sources[method]}", flush=True)
            model, _ = resumable.train(os.path.join(workdir, name, method), config, build, train_data,
                                       steps_per_epoch=config["steps_per_epoch"], overwrite=overwrite,
                                       free_fields=FREE_FIELDS, callbacks=callbacks, verbose=verbose)
            print(f"== {name}, {method}: VOC07 mAP on {spec.dataset} {spec.test_split}", flush=True)
            results[method][name] = evaluate_detector(lambda images: kind.detect(model, images), test_ds,
                                                      num_classes, max_images=num_eval_images, verbose=verbose)
            trained[method] = model
        _picture(os.path.join(workdir, f"detections_{name}.png"), kind, trained, test_ds,
                 data.detection_spec(spec.dataset).class_names)
    os.makedirs(workdir, exist_ok=True)
    results_io.write_json(os.path.join(workdir, "results.json"), {
        "preset": preset, "mixing": mixing_method, "backbones": sources, "results": results})
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(markdown_table(results, f"{preset} ({spec.dataset}), fine-tuning mixing: {mixing_method}",
                               detector_names))
    return results
