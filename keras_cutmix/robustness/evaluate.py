"""`evaluate_robustness` and its `train_and_evaluate` evaluator: the numbers of Table 11 and Figure 5.

    evaluator = robustness_evaluator(num_images=1000)
    training.run_methods(config, "/tmp/models", evaluators={"robustness": evaluator})

On the first `num_images` test images of a run's data set (`training.method_runs.test_images`, scaled to [0, 1]):
- `clean_top1_acc`, `fgsm_top1_acc` (eps 8/255, Table 11), `pgd_top1_acc` (10 steps of 2/255 from a random start:
  beyond the paper);
- `occlusion`: top-1 accuracy against the side of a centred hole (`"center"`) and of the kept centred square
  (`"boundary"`), Figure 5a;
- `in_between`: top-1 accuracy (either class counts) on `num_pairs` pairs of different classes, against Mixup's lambda
  and CutMix's (the share of the first image, `cutmix_lambda` of each square side), Figure 5b.
All accuracies are in % (the results tables' unit).

References:
    - [Yun et al., 2019](https://arxiv.org/abs/1905.04899), Section 4.4, Table 11, Figure 5.
"""

import numpy as np

from keras_cutmix import checks
from keras_cutmix.mixing import inputs
from keras_cutmix.robustness import predict as predict_lib
from keras_cutmix.robustness.attacks import accuracy_under_attack, fgsm, pgd
from keras_cutmix.robustness.in_between import pairs_for, cutmix_lambda, in_between_accuracy
from keras_cutmix.robustness.occlusion import occlusion_accuracy
from keras_cutmix.training.method_runs import progress_bar, test_images

NUM_SWEEP_POINTS = 11
PIXEL_SCALE = 255.0  # keras_cutmix.models take [0, 255].


def check_options(caller, *, num_images=None, eps=8 / 255, pgd_steps=10, num_pairs=500, seed=0, batch_size=128,
                  verbose=0):
    """The options of `evaluate_robustness` (and `num_images` of the evaluator) checked, as Python numbers.

    Raises:
        ValueError: For a value out of range (messages name `caller` and the argument).
        TypeError: For a `seed` that is not an int.
    """
    options = dict(eps=checks.fraction("eps", eps, caller),
                   pgd_steps=checks.count("pgd_steps", pgd_steps, caller, minimum=0),
                   num_pairs=checks.count("num_pairs", num_pairs, caller), seed=inputs.check_seed(seed, caller),
                   batch_size=checks.count("batch_size", batch_size, caller),
                   verbose=checks.verbosity("verbose", verbose, caller))
    if options["seed"] is None:
        raise TypeError(f"{caller}: Expected `seed` to be an int. Received: seed=None")
    if num_images is not None:
        options["num_images"] = checks.count("num_images", num_images, caller, minimum=2)
    return options


def evaluate_robustness(model, images, labels, *, eps=8 / 255, pgd_steps=10, num_pairs=500, seed=0,
                        batch_size=128, verbose=0):
    """Every robustness number of one model on `images` in [0, 1] (NHWC) and their class ids `labels`.

    Args:
        model: A `keras.Model` classifier taking pixels in [0, 255] (`keras_cutmix.models`).
        images: float [N, H, W, C] in [0, 1], N >= 2 (the in-between pairs need two images).
        labels: Class ids [N] or [N, 1], or one-hot rows [N, K], of at least two classes.
        eps: FGSM / PGD budget in [0, 1] pixel units. Defaults to 8/255.
        pgd_steps: PGD steps (step 2/255, random start), an int >= 0; 0 skips PGD. Defaults to 10.
        num_pairs: In-between pairs, an int >= 1. Defaults to 500.
        seed: Int seed of PGD's start and of the pairs. Defaults to 0.
        batch_size: Images per compiled call. Defaults to 128.
        verbose: Keras verbosity of one progress bar over every model pass on an image (clean, FGSM, PGD's
            steps, each occlusion size and in-between value); 0 is silent. Defaults to 0.

    Returns:
        JSON-ready dict of accuracies in % (see the module docstring) and the sweeps' x values.

    Raises:
        ValueError: For images outside [0, 1] or fewer than 2, labels of another shape, outside the
            model's classes or of a single class, or an option out of range; all before any model pass.
        TypeError: For a `model` that is not a `keras.Model` or a `seed` that is not an int.
    """
    caller = "evaluate_robustness"
    options = check_options(caller, eps=eps, pgd_steps=pgd_steps, num_pairs=num_pairs, seed=seed,
                            batch_size=batch_size, verbose=verbose)
    eps, pgd_steps, num_pairs, seed, batch_size, verbose = options.values()  # In check_options' order.
    checks.keras_model(model, caller)
    images = predict_lib.check_images(images, caller)
    if len(images) < 2:
        raise ValueError(f"{caller}: Expected at least 2 `images` (the in-between pairs need two). Received: "
                         f"images.shape={images.shape}")
    labels = predict_lib.class_ids(model, images, labels, PIXEL_SCALE, caller)
    pairs = pairs_for(len(images), num_pairs, seed, labels, caller)
    height, width = images.shape[1], images.shape[2]
    sizes = sorted({int(round(s)) for s in np.linspace(0, max(height, width), NUM_SWEEP_POINTS)})
    lambdas = np.linspace(0.0, 1.0, NUM_SWEEP_POINTS)
    pct = lambda values: [round(100.0 * float(v), 4) for v in np.atleast_1d(values)]  # noqa: E731
    count = len(images)
    passes = count * (1 + 2 + (pgd_steps + 1 if pgd_steps else 0) + 2 * len(sizes)) + len(pairs) * (
        len(lambdas) + len(sizes))
    progress = progress_bar(passes, verbose, f"Robustness: {count} images, {len(pairs)} pairs, {passes} model passes")
    run = dict(batch_size=batch_size, progress=progress)
    clean = np.mean(predict_lib.predictions(model, images, PIXEL_SCALE, batch_size, progress) == labels)
    result = {"num_images": int(count), "eps": float(eps), "clean_top1_acc": pct(clean)[0],
              "fgsm_top1_acc": pct(accuracy_under_attack(model, (images, labels), fgsm, eps=eps, **run))[0]}
    if pgd_steps:
        result["pgd_top1_acc"] = pct(accuracy_under_attack(model, (images, labels), pgd, eps=eps, steps=pgd_steps,
                                                           seed=seed, **run))[0]
        result["pgd_steps"] = int(pgd_steps)
    result["occlusion"] = {"sizes": sizes, **{
        mode: pct(occlusion_accuracy(model, images, labels, sizes, mode, **run)) for mode in ("center", "boundary")}}
    result["in_between"] = {
        "num_pairs": int(len(pairs)), "mixup_lambdas": [float(v) for v in lambdas],
        "mixup": pct(in_between_accuracy(model, images, labels, pairs, lambdas, "mixup", **run)),
        "cutmix_sides": sizes, "cutmix_lambdas": [round(cutmix_lambda(s, height, width), 6) for s in sizes],
        "cutmix": pct(in_between_accuracy(model, images, labels, pairs, sizes, "cutmix", **run))}
    return result


def robustness_evaluator(num_images=1000, *, eps=8 / 255, pgd_steps=10, num_pairs=500, seed=0, batch_size=128):
    """A `train_and_evaluate` evaluator: `evaluate_robustness` on the run's first `num_images` test images.

    Every argument is checked here, before any model trains; progress bars show unless `Config.verbose` is 0.

    Args:
        num_images: Test images evaluated, an int >= 2. Defaults to 1000.
        eps, pgd_steps, num_pairs, seed, batch_size: As `evaluate_robustness`.

    Returns:
        `evaluate(model, config, workdir)`.

    Raises:
        ValueError, TypeError: As `evaluate_robustness`'s options.
    """
    options = check_options("robustness_evaluator", num_images=num_images, eps=eps, pgd_steps=pgd_steps,
                            num_pairs=num_pairs, seed=seed, batch_size=batch_size)
    num_images = options.pop("num_images")
    options.pop("verbose")

    def evaluate(model, config, workdir):
        del workdir
        images, labels = test_images(config, num_images, verbose=config.verbose)
        return evaluate_robustness(model, images / 255.0, labels, verbose=config.verbose, **options)
    return evaluate
