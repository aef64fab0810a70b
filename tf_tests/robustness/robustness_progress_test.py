"""Long robustness evaluations show one progress bar (keras.utils.Progbar) that counts every model pass."""

import re

import numpy as np

from keras_cutmix.robustness import evaluate_robustness

from robustness_helpers import NUM_CLASSES, linear_model, linear_weights, random_images  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _evaluate(verbose, capsys):
    kernel, bias = linear_weights(0)
    model = linear_model(kernel, bias, input_scale=1 / 255)
    labels = np.arange(5) % NUM_CLASSES  # Several classes: the pairs can be drawn.
    result = evaluate_robustness(model, random_images(5, 1), labels, pgd_steps=2, num_pairs=3, batch_size=2,
                                 verbose=verbose)
    return result, ANSI.sub("", capsys.readouterr().out)


def test_progress_bar_counts_every_model_pass(capsys):
    result, out = _evaluate(1, capsys)
    # 3x4 images: occlusion sides and CutMix sides {0, 1, 2, 3, 4} (5), Mixup lambdas 11. Per image: clean 1,
    # FGSM 1 step + 1 prediction, PGD 2 steps + 1 prediction, 2 occlusion modes x 5 sizes = 16; per pair
    # 11 + 5 = 16. 5 images and 3 pairs: 80 + 48 = 128 passes.
    assert result["occlusion"]["sizes"] == [0, 1, 2, 3, 4] and result["in_between"]["num_pairs"] == 3
    assert "Robustness: 5 images, 3 pairs, 128 model passes" in out, out
    counts = [int(c) for c in re.findall(r"(\d+)/128", out)]
    assert counts and counts[-1] == 128 and counts == sorted(counts), out


def test_verbose_0_prints_nothing(capsys):
    _, out = _evaluate(0, capsys)
    assert out == ""
