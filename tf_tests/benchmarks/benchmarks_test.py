"""Smoke tests of the benchmark scripts on tiny shapes: every row runs and the section is written.

Speed itself is measured by running the scripts (`make benchmark`), never in tests.
"""

import os
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "benchmarks")
sys.path.insert(0, BENCHMARKS)

import common  # noqa: E402
import in_model  # noqa: E402
import mixing  # noqa: E402


@pytest.fixture
def results_path(tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmarks\n\n## Other (other.py)\n\nkept\n")
    monkeypatch.setattr(common, "RESULTS_PATH", str(path))
    return path


def test_mixing_benchmark_times_every_row_and_keeps_other_sections(results_path, monkeypatch):
    monkeypatch.setattr(mixing, "SHAPES", ((4, 224, 224, 3),))  # `summary` reads the 224x224 rows.
    results = mixing.run_benchmark(repeats=1)
    names = {r["name"] for r in results}
    assert {"kc.cutmix_fn per-batch, XLA", "kc.mixup_fn per-sample, graph", mixing.BLEND,
            "keras.layers.MixUp (tf.function)"} <= names
    failed = [r for r in results if r.get("note", "").startswith("failed")]
    assert not failed, failed
    mixing.write_results(results, repeats=1)
    text = results_path.read_text()
    assert "## Other (other.py)\n\nkept" in text
    assert text.count("## Mixing (benchmarks/mixing.py)") == 1
    assert "MixUp per-sample, float32: graph" in text
    mixing.write_results(results, repeats=1)  # Rewriting replaces the section instead of appending.
    assert results_path.read_text().count("## Mixing (benchmarks/mixing.py)") == 1


def test_in_model_benchmark_trains_both_models(results_path, monkeypatch):
    monkeypatch.setattr(in_model, "CASES", (("small_cnn", 32, 3, 4),))
    results = in_model.run_benchmark(repeats=1)
    assert len(results) == 1 and results[0]["with_s"] > 0 and results[0]["without_s"] > 0
    in_model.write_results(results, repeats=1)
    assert "| small_cnn | 4x32x32x3 |" in results_path.read_text()
