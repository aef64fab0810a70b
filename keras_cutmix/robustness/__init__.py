"""Robustness (the paper's Section 4.4 and supplementary E): adversarial attacks, occlusion, in-between samples.

Modules: `attacks` (`fgsm`, `pgd`, `accuracy_under_attack`: Table 11, FGSM at eps 8 / 255; PGD is beyond the paper),
`occlusion` (`occlude`, `occlusion_accuracy`, `centred_box`: Figure 5a), `in_between` (`sample_pairs`,
`mixup_between`, `cutmix_between`, `cutmix_lambda`, `in_between_accuracy`: Figure 5b), `predict`
(`predicted_classes`, compiled per model), `evaluate` (`evaluate_robustness`, `robustness_evaluator`: all of the
above for one model), `report` (`markdown_table`, `plot_figure5`: Table 11, Figure 5), `run` (`run_robustness`,
`examples/robustness.py`).

Images are in `[0, 1]` and the model receives `images * pixel_scale` (default 255 for `keras_cutmix.models`, which
take `[0, 255]` and normalise inside; 1.0 for a model taking `[0, 1]`), so that `eps = 8 / 255` means what it means in
the literature whatever the model's normalisation. Attacks return float32 NumPy arrays; `occlude` and the in-between
builders keep the input's type (NumPy or tensor) and dtype. Every public function checks its arguments before any
model pass (`keras_cutmix.checks`): images in `[0, 1]` (a hint for `[0, 255]` pixels), class ids `[N]` / `[N, 1]` or
one-hot rows within the model's classes, fractions and counts (NumPy scalars accepted); logits are told from
probabilities by the package's one rule, `keras_cutmix.checks.outputs_logits`. Accuracies are top-1 fractions in
`[0, 1]` (for in-between samples either class is correct: see `in_between`). The pixels come from `mixing`'s pure
appliers (`erase_boxes`, `box_masks`, `blend_images`, `paste_boxes`).
"""

from keras_cutmix import extras

extras.require_extra("keras_cutmix.robustness")  # One clear ImportError without the extra.

from keras_cutmix.robustness.attacks import accuracy_under_attack, fgsm, pgd
from keras_cutmix.robustness.evaluate import evaluate_robustness, robustness_evaluator
from keras_cutmix.robustness.in_between import (cutmix_between, cutmix_lambda, in_between_accuracy, mixup_between,
                                                sample_pairs)
from keras_cutmix.robustness.occlusion import centred_box, occlude, occlusion_accuracy
from keras_cutmix.robustness.predict import predicted_classes
from keras_cutmix.robustness.run import run_robustness

__all__ = ["accuracy_under_attack", "centred_box", "cutmix_between", "cutmix_lambda", "evaluate_robustness", "fgsm",
           "in_between_accuracy", "mixup_between", "occlude", "occlusion_accuracy", "pgd", "predicted_classes",
           "robustness_evaluator", "run_robustness", "sample_pairs"]
