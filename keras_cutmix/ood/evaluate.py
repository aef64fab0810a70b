"""`evaluate_ood` and its `train_and_evaluate` evaluator: Table A2 / Table 12's numbers and calibration.

    evaluator = ood_evaluator(default_ood_sets("synthetic_shapes", (64, 64, 3), num_images=1000))
    training.run_methods(config, "/tmp/models", evaluators={"ood": evaluator})

For one model: the maximum softmax score (Hendrycks & Gimpel) of the in-distribution test images (positives) and of
each OOD set (negatives), `detection_metrics` per set (in %), their mean over the sets (Table 12), the ROC curve of
each set sampled at 201 false-positive rates (for the plots), and the expected calibration error (15 bins, %) with its
reliability bins on the in-distribution test images.

OOD sets are `{name: load}` where `load(image_shape)` returns images in the model's pixel scale ([0, 255] for
`keras_cutmix.models`) at that shape, as a NumPy array or a batched `tf.data.Dataset`: see `default_ood_sets`,
`tfds_set` and `folder_set`.

References:
    - [Hendrycks & Gimpel, 2017](https://arxiv.org/abs/1610.02136); [Liang et al., 2018 (ODIN)](
      https://arxiv.org/abs/1706.02690); the CutMix paper's supplementary Section E, Tables 12 and A2.
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.ood.calibration import expected_calibration_error
from keras_cutmix.ood.datasets import embedded_near_ood, folder_ood, gaussian_noise, tfds_ood, uniform_noise
from keras_cutmix.ood.metrics import detection_metrics, roc_curve
from keras_cutmix.ood.scores import checked_probabilities
from keras_cutmix.training.method_runs import progress_bar, test_images

TABLE_METRICS = ("tnr_at_tpr95", "auroc", "detection_accuracy")
ROC_POINTS = 201


def default_ood_sets(dataset, image_shape, num_images=1000, seed=0):
    """ODIN's Uniform and Gaussian noise, and for synthetic_shapes the embedded near-OOD novel shapes.

    The novel shapes are drawn at synthetic_shapes' own 64x64 and resized (bilinear) to the model's input.

    Args:
        dataset: The in-distribution data set's name.
        image_shape: The model's `(H, W, C)`.
        num_images: Images per set (ODIN: 10,000). Defaults to 1000.
        seed: Seed of the sets. Defaults to 0.

    Returns:
        `{name: load(image_shape)}`.

    Raises:
        ValueError: For a `num_images` that is not an int >= 1 or a `seed` that is not an int >= 0 (before any draw).
    """
    caller = "default_ood_sets"
    num_images = checks.count("num_images", num_images, caller)
    seed = checks.count("seed", seed, caller, minimum=0)
    sets = {"uniform": lambda shape: uniform_noise(num_images, image_shape=tuple(shape), seed=seed),
            "gaussian": lambda shape: gaussian_noise(num_images, image_shape=tuple(shape), seed=seed + 1)}
    if dataset == "synthetic_shapes":
        sets["novel_shapes"] = lambda shape: _resized(embedded_near_ood(num_images, seed=seed + 2), shape)
    return sets


def _resized(images, shape):
    """Generated images at the model's input size (as the loader resizes synthetic_shapes)."""
    same = tuple(images.shape[1:3]) == tuple(shape[:2])
    return images if same else tf.image.resize(images, tuple(shape[:2])).numpy()


def tfds_set(name, split="test", data_dir=None, batch_size=256):
    """A `{name: load}` entry reading any tfds data set, resized to the model's input, in batches of `batch_size`.

    Raises:
        ValueError: For a `batch_size` that is not an int >= 1 (checked here, before anything is read).
    """
    batch_size = checks.count("batch_size", batch_size, "tfds_set")
    return lambda shape: tfds_ood(name, split, image_size=tuple(shape[:2]), data_dir=data_dir, batch_size=batch_size)


def folder_set(path, batch_size=256):
    """A `{name: load}` entry reading a folder of images (ODIN's TinyImageNet / LSUN / iSUN layout) in batches.

    Raises:
        ValueError: For a `batch_size` that is not an int >= 1 (checked here, before anything is read).
    """
    batch_size = checks.count("batch_size", batch_size, "folder_set")
    return lambda shape: folder_ood(path, image_size=tuple(shape[:2]), batch_size=batch_size)


def _sampled_roc(in_scores, out_scores):
    """TPR at `ROC_POINTS` evenly spaced FPRs (the upper envelope of the exact ROC's steps)."""
    fpr, tpr = roc_curve(in_scores, out_scores)
    grid = np.linspace(0.0, 1.0, ROC_POINTS)
    sampled = np.array([tpr[fpr <= f].max() if np.any(fpr <= f) else 0.0 for f in grid])
    return {"fpr": [round(float(f), 4) for f in grid], "tpr": [round(float(t), 5) for t in sampled]}


def evaluate_ood(model, images, labels, ood_sets, batch_size=256, verbose=0):
    """OOD detection metrics per set, their mean, and calibration, for one model.

    Args:
        model: A `keras.Model` classifier taking the images' pixel scale, outputting `[N, K]`.
        images: In-distribution test images [N, H, W, C], N >= 1 (float, [0, 255] for our models).
        labels: Class ids [N] or [N, 1], or one-hot rows [N, K], in [0, K).
        ood_sets: `{name: load(image_shape)}`.
        batch_size: Images per model call, an int >= 1. Defaults to 256.
        verbose: Keras verbosity of a progress bar over the test images, then one per OOD set (a set read
            from disk counts its images as they come); 0 is silent. Defaults to 0.

    Returns:
        JSON-ready dict: `sets` (`{name: metrics in % (plus num_images and roc)}`), `mean` (the three table
        metrics averaged over the sets), `top1_acc` and `ece` (%), `reliability` (the ECE bins as lists).

    Raises:
        ValueError: For images that are not finite [N, H, W, C] numbers or hold no image, labels of another shape or
            count or outside the model's classes (checked before any OOD set is loaded), malformed `ood_sets`, or a
            bad `batch_size` or `verbose`.
        TypeError: For a `model` that is not a `keras.Model`.
    """
    caller = "evaluate_ood"
    images = checks.images("images", images.numpy() if tf.is_tensor(images) else images, caller)
    if len(images) == 0:
        raise ValueError(f"{caller}: Expected at least one in-distribution image. Received: "
                         f"images.shape={images.shape}")
    ood_sets = check_sets(ood_sets, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    verbose = checks.verbosity("verbose", verbose, caller)
    progress = progress_bar(len(images), verbose, f"OOD: {len(images)} in-distribution test images")
    probabilities = checked_probabilities(model, images, None, batch_size, progress, caller)
    labels = checks.class_ids("labels", labels.numpy() if tf.is_tensor(labels) else labels, caller,
                              num_classes=probabilities.shape[1], length=len(images))
    in_scores = probabilities.max(axis=-1)
    ece, bins = expected_calibration_error(probabilities, labels)
    sets = {}
    for name, load in ood_sets.items():
        out_images = load(images.shape[1:])
        target = None if isinstance(out_images, tf.data.Dataset) else len(out_images)
        progress = progress_bar(target, verbose, f"OOD set {name}" + (f": {target} images" if target else ""))
        out_probabilities = checked_probabilities(model, out_images, None, batch_size, progress,
                                                 f"{caller} (OOD set {name!r})")
        if target is None:
            progress.update(len(out_probabilities), finalize=True)
        out_scores = out_probabilities.max(axis=-1)
        metrics = detection_metrics(in_scores, out_scores)
        sets[name] = {**{k: round(100.0 * float(v), 4) for k, v in metrics.items()},
                      "num_images": int(len(out_scores)), "roc": _sampled_roc(in_scores, out_scores)}
    mean = {k: round(float(np.mean([s[k] for s in sets.values()])), 4) for k in TABLE_METRICS} if sets else {}
    return {"num_in_images": int(len(images)),
            "top1_acc": round(100.0 * float(np.mean(probabilities.argmax(-1) == labels)), 4),
            "ece": round(100.0 * float(ece), 4), "reliability": {k: np.asarray(v).tolist() for k, v in bins.items()},
            "sets": sets, "mean": mean}


def check_sets(ood_sets, caller):
    """Raises ValueError naming `caller` unless `ood_sets` is `{name: load(image_shape)}`; returns it."""
    if not isinstance(ood_sets, dict) or not all(isinstance(k, str) and callable(v) for k, v in ood_sets.items()):
        raise ValueError(f"{caller}: Expected `ood_sets` as {{name: load(image_shape)}} (see default_ood_sets, "
                         f"tfds_set, folder_set). Received: {ood_sets!r}"[:300])
    return ood_sets


def ood_evaluator(ood_sets, num_images=1000, batch_size=256):
    """A `train_and_evaluate` evaluator: `evaluate_ood` on the run's first `num_images` test images.

    Every argument is checked here, before any model trains; progress bars show unless `Config.verbose` is 0.

    Args:
        ood_sets: `{name: load(image_shape)}`.
        num_images: In-distribution test images, an int >= 1. Defaults to 1000.
        batch_size: Images per model call, an int >= 1. Defaults to 256.

    Returns:
        `evaluate(model, config, workdir)`.

    Raises:
        ValueError: For malformed `ood_sets` or a `num_images` / `batch_size` that is not an int >= 1.
    """
    caller = "ood_evaluator"
    ood_sets = check_sets(ood_sets, caller)
    num_images = checks.count("num_images", num_images, caller)
    batch_size = checks.count("batch_size", batch_size, caller)

    def evaluate(model, config, workdir):
        del workdir
        images, labels = test_images(config, num_images, verbose=config.verbose)
        return evaluate_ood(model, images, labels, ood_sets, batch_size, verbose=config.verbose)
    return evaluate
