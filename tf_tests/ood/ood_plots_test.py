"""ROC curves and reliability diagrams are written as PNGs; bad inputs are refused."""

import numpy as np
import pytest
from PIL import Image

from keras_cutmix.ood import expected_calibration_error, plot_reliability_diagram, plot_roc_curves
from keras_cutmix.ood import roc_curve


def _png_size(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_roc_curves_png(tmp_path):
    rng = np.random.default_rng(0)
    curves = {name: roc_curve(rng.normal(shift, 1, 50), rng.normal(0, 1, 40))
              for name, shift in (("baseline", 0.5), ("cutmix", 2.0))}
    path = plot_roc_curves(str(tmp_path / "roc.png"), curves, title="ROC")
    width, height = _png_size(path)
    assert width > 200 and height > 200


def test_reliability_diagram_png(tmp_path):
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(5) * 0.3, 200)
    ece, bins = expected_calibration_error(probabilities, rng.integers(0, 5, 200))
    path = plot_reliability_diagram(str(tmp_path / "rel.png"), bins, title="x", ece=ece)
    width, height = _png_size(path)
    assert width > 200 and height > 200


def test_plot_errors(tmp_path):
    with pytest.raises(ValueError, match="curves_by_name"):
        plot_roc_curves(str(tmp_path / "a.png"), {})
    with pytest.raises(ValueError, match="fpr"):
        plot_roc_curves(str(tmp_path / "a.png"), {"a": ([0, 1], [0, 0.5, 1])})
    bins = {"edges": np.linspace(0, 1, 4), "confidence": np.zeros(3), "accuracy": np.zeros(2),
            "count": np.zeros(3, int)}
    with pytest.raises(ValueError, match="bins"):
        plot_reliability_diagram(str(tmp_path / "b.png"), bins)
