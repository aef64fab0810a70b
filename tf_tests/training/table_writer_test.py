"""`results.markdown_table`, the one writer of every results.md: cells, mean ± std, paper columns, layout."""

import pytest

from keras_cutmix.training import results
from keras_cutmix.training.results import Column


def test_a_table_of_numbers_per_seed_lists_and_paper_numbers_written_by_hand():
    rows = {"baseline": {"err": [1.0, 2.0, 4.0], "epoch": 7},  # mean 7/3; sample std sqrt(7/3) = 1.5275
            "cutmix": {"err": [0.5], "epoch": 12}}
    text = results.markdown_table(rows, [Column("top-1 err", "err"), Column("best epoch", "epoch")],
                                  {"paper": {"cutmix": 14.47}, Column("paper (a / b)", digits=1): {"baseline": (1, 2.25)}},
                                  title="## Title", intro="Intro.", note="Note.")
    assert text == ("## Title\n\nIntro.\n\n"
                    "| method | top-1 err | best epoch | paper | paper (a / b) |\n"
                    "|---|---|---|---|---|\n"
                    "| baseline | 2.33 ± 1.53 | 7 | - | 1 / 2.2 |\n"
                    "| cutmix | 0.50 | 12 | 14.47 | - |\n"
                    "\nNote.\n")


def test_precomputed_mean_std_text_and_missing_cells():
    rows = {"a": {"x": {"mean": 1.0, "std": None}, "y": "1, 2"}, "*b*": {"x": {"mean": 3.14159, "std": 0.0}}}
    assert results.markdown_table(rows, [Column("x"), Column("y")], row_title="run") == (
        "| run | x | y |\n|---|---|---|\n| a | 1.00 | 1, 2 |\n| *b* | 3.14 ± 0.00 | - |\n")


def test_best_in_bold_and_differences_to_a_reference_row():
    rows = {"baseline": {"auroc": 80.0}, "mixup": {"auroc": 75.55}, "cutmix": {"auroc": 90.0}}
    lines = results.markdown_table(rows, [Column("AUROC", "auroc", digits=1, best=True, diff_to="baseline")]).splitlines()
    assert lines[2:] == ["| baseline | 80.0 |", "| mixup | 75.5 (-4.5) |", "| cutmix | **90.0 (+10.0)** |"]
    # Without the reference row there is nothing to subtract.
    lines = results.markdown_table({"mixup": rows["mixup"]}, [Column("AUROC", "auroc", digits=1, diff_to="baseline")])
    assert lines.splitlines()[2] == "| mixup | 75.5 |"


def test_mean_std_is_the_sample_std_rounded():
    assert results.mean_std([1.0, 2.0, 4.0]) == (2.3333, 1.5275)
    assert results.mean_std([3.0]) == (3.0, None)
    with pytest.raises(Exception):
        results.mean_std([])
