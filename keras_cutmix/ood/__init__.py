"""Out-of-distribution detection and calibration (Section E of the CutMix paper's supplement).

    from keras_cutmix import ood
    in_scores = ood.max_softmax_score(model, test_images)
    out_scores = ood.max_softmax_score(model, ood.uniform_noise(image_shape=(64, 64, 3)))
    metrics = ood.detection_metrics(in_scores, out_scores)   # tnr_at_tpr95, auroc, ...
    ece, bins = ood.expected_calibration_error(probabilities, labels)

Modules: `scores` (the maximum softmax probability, Hendrycks & Gimpel 2017), `metrics` (TNR at TPR 95, AUROC,
detection accuracy, AUPR in/out from the exact ROC, deep_Mahalanobis_detector's `calculate_log.py` conventions),
`datasets` (ODIN's noise sets, any tfds set, a folder of images as ODIN's Tiny-ImageNet / LSUN / iSUN, an embedded
near-OOD set of novel shapes), `calibration` and `plots` (ECE with 15 bins, reliability diagrams, ROC curves),
`evaluate` (`evaluate_ood` / `ood_evaluator`: one model), `report` (Table 12 / A2 in Markdown, the plots) and `run`
(`run_ood`, `examples/ood.py`).
"""

from keras_cutmix import extras
from keras_cutmix.checks import outputs_logits  # The package's one logits rule, re-exported.

extras.require_extra("keras_cutmix.ood")  # One clear ImportError without the extra.

from keras_cutmix.ood.calibration import expected_calibration_error
from keras_cutmix.ood.datasets import (check_tfds_ood, embedded_near_ood, find_images, folder_ood, gaussian_noise,
                                       tfds_ood, uniform_noise)
from keras_cutmix.ood.evaluate import default_ood_sets, evaluate_ood, folder_set, ood_evaluator, tfds_set
from keras_cutmix.ood.metrics import detection_metrics, roc_curve
from keras_cutmix.ood.plots import plot_reliability_diagram, plot_roc_curves
from keras_cutmix.ood.run import run_ood
from keras_cutmix.ood.scores import class_probabilities, max_softmax_score

__all__ = ["check_tfds_ood", "class_probabilities", "default_ood_sets", "detection_metrics", "embedded_near_ood",
           "evaluate_ood", "expected_calibration_error", "find_images", "folder_ood", "folder_set", "gaussian_noise",
           "max_softmax_score", "ood_evaluator", "outputs_logits", "plot_reliability_diagram", "plot_roc_curves",
           "roc_curve", "run_ood", "tfds_ood", "tfds_set", "uniform_noise"]
