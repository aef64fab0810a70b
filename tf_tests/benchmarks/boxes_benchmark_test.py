"""Smoke test of benchmarks/boxes.py: the batch it times, its rows, its section.

Speed itself is measured by running the script, never in tests.
"""

import os
import sys

import numpy as np

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "benchmarks")
sys.path.insert(0, BENCHMARKS)

import boxes  # noqa: E402
import common  # noqa: E402


def test_batch_is_the_issues_case():
    images, rel_boxes, labels = boxes.make_batch()
    assert images.shape == (32, 300, 300, 3) and images.dtype == "uint8"
    assert rel_boxes.shape == (32, 50, 4) and labels.shape == (32, 50)
    b = rel_boxes.numpy()
    assert (b >= 0).all() and (b <= 1).all() and (b[..., 2:] >= b[..., :2]).all()
    assert (labels.numpy()[:, -10:] == -1).all() and (labels.numpy()[:, :-10] >= 0).all()


def test_rows_and_section(tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmarks\n\n## Other (other.py)\n\nkept\n")
    monkeypatch.setattr(common, "RESULTS_PATH", str(path))
    monkeypatch.setattr(boxes, "BATCH", 4)
    rows = boxes.run_benchmark(repeats=1)
    assert [(mode, mix) for mode, mix, _, _ in rows] == [
        ("graph", "per-batch"), ("graph", "per-sample"), ("XLA", "per-batch"), ("XLA", "per-sample")]
    assert all(np.isfinite(a) and a > 0 and np.isfinite(b) and b > 0 for _, _, a, b in rows)
    boxes.write_results(rows, 1)
    text = path.read_text()
    assert "## Other (other.py)\n\nkept" in text and text.count(f"## {boxes.TITLE}") == 1
    assert "| XLA | per-sample |" in text and "worst ratio" in text
