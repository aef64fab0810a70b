"""Fine-tuning a detector and scoring it with VOC07 mAP: the input pipeline, the optimiser, evaluation.

    train_ds = detection_dataset("synthetic_detection", "train", training=True, batch_size=16, image_size=128,
                                 mixing_method="cutmix", augment=ssd.augment(128))
    detector.fit(train_ds.repeat(), epochs=10, steps_per_epoch=100)  # run.py: through `training.resumable`.
    metrics = evaluate_detector(lambda images: retinanet.detect(detector, images), test_ds, num_classes=10)

Mixing while fine-tuning is box-aware (`keras_cutmix.mixing.boxes`: beyond the paper, which fine-tunes
without mixing). MixUp's box weights are dropped: keras-hub's RetinaNet has no per-box loss weight.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import data
from keras_cutmix import mixing
from keras_cutmix.detection.voc_eval import voc_map
from keras_cutmix.training import schedules as training_schedules
from keras_cutmix.training.optimizers import TorchSGD

MIXINGS = ("none", "cutmix", "mixup")
_MIX_FUNCTIONS = {"cutmix": mixing.cutmix_fn, "mixup": mixing.mixup_fn}


def detection_dataset(name, split, *, training, batch_size, image_size, seed=0, mixing_method="none",
                      data_dir=None, max_boxes=32, drop_difficult=False, augment=None):
    """Batches `(images float32 [B, S, S, 3] in [0, 255], {"boxes": pixel yxyx [B, M, 4], "labels": [B, M]})`.

    Args:
        name: `data.load_detection` data set name.
        split: Its split.
        training: Shuffle, augment (with `augment`) and mix (with `mixing_method`).
        batch_size: Images per batch.
        image_size: Square input side.
        seed: Seed of order, augmentation and mixing. Defaults to 0.
        mixing_method: One of `MIXINGS`. Defaults to "none".
        data_dir: tfds data_dir. Defaults to None.
        max_boxes: Objects per training image (padding -1): the training targets drop an image's objects past
            it. Evaluation (`training=False`) never drops one: each batch is padded to its most objects.
            Defaults to 32.
        drop_difficult: Drop difficult objects from the training targets. Defaults to False.
        augment: Per-example training augmentation at the original resolution, ending at `image_size`
            (`data.load_detection`'s `augment`, e.g. `ssd.augment(image_size)`); applied before mixing.
            Defaults to None (images resized, not augmented).

    Returns:
        A `tf.data.Dataset`; with `training=False` its elements also carry "difficult" [B, M] as a third item.
    """
    if mixing_method not in MIXINGS:
        raise ValueError(f"Expected `mixing` in {MIXINGS}. Received: mixing={mixing_method!r}")
    ds = data.load_detection(name, split, batch_size=batch_size, training=training, data_dir=data_dir, seed=seed,
                             image_size=image_size, max_boxes=max_boxes if training else None,
                             drop_difficult=drop_difficult and training, augment=augment if training else None)
    if training and mixing_method != "none":
        ds = mixing.map_with_seed(ds, _MIX_FUNCTIONS[mixing_method], seed=seed, bounding_box_format="rel_yxyx",
                                  max_boxes=max_boxes)
    scale = tf.constant([image_size] * 4, tf.float32)

    def to_detector(batch):
        boxes = batch["bounding_boxes"]
        targets = {"boxes": boxes["boxes"] * scale, "labels": tf.cast(boxes["labels"], tf.int32)}
        images = tf.cast(batch["images"], tf.float32)
        return (images, targets) if training else (images, targets, batch["difficult"])

    return ds.map(to_detector, num_parallel_calls=tf.data.AUTOTUNE)


OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "steps")
# ssd.pytorch's lr_steps, 80K and 100K of its 120K iterations, as fractions of the training steps.
STEP_FRACTIONS = (2 / 3, 5 / 6)


def detector_optimizer(name, learning_rate, steps, *, weight_decay, warmup_steps=0, momentum=0.9, clipnorm=10.0,
                       schedule="cosine"):
    """A detector's optimiser and learning-rate schedule.

    Args:
        name: "sgd": PyTorch's `optim.SGD` (momentum buffer of gradients, L2 `weight_decay * w` added to the
            gradient: `training.TorchSGD` without Nesterov), as ssd.pytorch and Detectron's RetinaNet train.
            "adamw": Keras's AdamW (decoupled weight decay; the embedded preset, where detectors learn in
            hundreds of steps instead of thousands).
        learning_rate: Peak learning rate.
        steps: Training steps.
        weight_decay: The L2 coefficient ("sgd") or the decoupled decay ("adamw").
        warmup_steps: Linear warm-up from 0 ("cosine" only). Defaults to 0.
        momentum: SGD's momentum. Defaults to 0.9.
        clipnorm: Global gradient norm clip, or None for none. Defaults to 10.
        schedule: "cosine": after the warm-up, a cosine decay to 0 at `steps`. "steps": `learning_rate`
            divided by 10 from step `round(f * steps)` for f in `STEP_FRACTIONS` on (ssd.pytorch's 80K and 100K
            of 120K; the update of 0-based step 80,000 is the first at lr / 10, as there). Defaults to "cosine".

    Returns:
        A `keras.optimizers.Optimizer`.

    Raises:
        ValueError: for an unknown `name` or `schedule`, or a warm-up with "steps".
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"Expected `optimizer` in {OPTIMIZERS}. Received: optimizer={name!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"Expected `schedule` in {SCHEDULES}. Received: schedule={schedule!r}")
    if schedule == "steps":
        if warmup_steps:
            raise ValueError(f"Expected warmup_steps=0 with schedule='steps'. Received: warmup_steps={warmup_steps}")
        rate = training_schedules.EpochStepDecay(learning_rate, [round(f * steps) for f in STEP_FRACTIONS],
                                                 steps_per_epoch=1)
    else:
        warmup_steps = min(int(warmup_steps), max(0, steps - 1))
        rate = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup_steps else learning_rate, max(1, steps - warmup_steps),
            warmup_target=learning_rate if warmup_steps else None, warmup_steps=warmup_steps)
    if name == "sgd":
        return TorchSGD(rate, momentum=momentum, nesterov=False, weight_decay=weight_decay, global_clipnorm=clipnorm)
    return keras.optimizers.AdamW(rate, weight_decay=weight_decay, global_clipnorm=clipnorm)


def to_voc(boxes):
    """Pixel yxyx boxes (max exclusive) as VOC's inclusive [xmin, ymin, xmax, ymax]."""
    boxes = np.asarray(boxes, np.float64)
    return np.stack([boxes[..., 1], boxes[..., 0], boxes[..., 3] - 1, boxes[..., 2] - 1], axis=-1)


def evaluate_detector(detect, test_ds, num_classes, max_images=None, use_07_metric=True, verbose=1):
    """VOC mAP at IoU 0.5 of `detect` on `test_ds` (`detection_dataset(..., training=False)`).

    Every ground-truth object of the batches is scored (none cut: a dropped ground truth would turn its
    detection into a false positive).

    Args:
        detect: `detect(images) -> (boxes [B, D, 4] pixel yxyx, scores [B, D], classes [B, D], counts [B])`.
        test_ds: Batches `(images, {"boxes", "labels"}, difficult)`, labels -1 for padding.
        num_classes: Object classes.
        max_images: Stop after this many images. Defaults to None (all).
        use_07_metric: VOC07's 11-point AP (True) or all-point AP. Defaults to True.
        verbose: A progress bar over the batches (1) or none (0). Defaults to 1.

    Returns:
        `{"map": fraction, "ap": [per class], "num_images": n}`.
    """
    batches = int(test_ds.cardinality())
    progress = keras.utils.Progbar(batches if batches >= 0 else None, verbose=verbose, unit_name="batch")
    detections, ground_truths, step = [], [], 0
    for step, (images, targets, difficult) in enumerate(test_ds, 1):
        if step == 1 and max_images is not None:  # The batches that hold `max_images` images.
            needed = -(-int(max_images) // len(images))
            progress.target = needed if progress.target is None else min(progress.target, needed)
        boxes, scores, classes, counts = (np.asarray(t) for t in detect(images))
        labels = np.asarray(targets["labels"])
        for i in range(len(labels)):
            n, gt = int(counts[i]), np.asarray(targets["boxes"])[i]
            # Boxes without area (tfds mock VOC has inverted ones) are no objects, as in ssd.training_data.
            valid = (labels[i] >= 0) & (gt[:, 2] > gt[:, 0]) & (gt[:, 3] > gt[:, 1])
            detections.append((to_voc(boxes[i, :n]), scores[i, :n], classes[i, :n].astype(np.int64)))
            ground_truths.append((to_voc(gt[valid]), labels[i][valid],
                                  np.asarray(difficult)[i][valid].astype(bool)))
        done = max_images is not None and len(detections) >= max_images
        progress.update(step, finalize=done)
        if done:
            break
    else:
        progress.update(step, finalize=True)
    detections, ground_truths = detections[:max_images], ground_truths[:max_images]
    result = voc_map(detections, ground_truths, num_classes, iou_threshold=0.5, use_07_metric=use_07_metric)
    return {"map": float(result["map"]), "ap": [float(a) for a in result["ap"]], "num_images": len(detections)}
