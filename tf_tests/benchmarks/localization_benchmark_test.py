"""Smoke test of benchmarks/localization.py on tiny maps: rows agree, the section is written, others kept.

Speed itself is measured by running the script, never in tests.
"""

import os
import sys

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "benchmarks")
sys.path.insert(0, BENCHMARKS)

import common  # noqa: E402
import localization  # noqa: E402


def test_localization_benchmark_agrees_with_opencv_and_writes_its_section(tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmarks\n\n## Other (other.py)\n\nkept\n")
    monkeypatch.setattr(common, "RESULTS_PATH", str(path))
    results = localization.run_benchmark(num_maps=4, size=20)  # Asserts identical boxes and accuracies.
    assert len(results["rows"]) == 4 and all(seconds > 0 for _, seconds in results["rows"])
    localization.write_results(results)
    localization.write_results(results)
    text = path.read_text()
    assert "## Other (other.py)\n\nkept" in text
    assert text.count(f"## {localization.TITLE}") == 1
    assert "| max_box_acc V2, 1,000 thresholds (numba union-find sweep) |" in text
