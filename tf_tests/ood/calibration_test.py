"""expected_calibration_error on a hand case, against a plain loop, and its errors."""

import numpy as np
import pytest

from keras_cutmix.ood import expected_calibration_error

# Confidences 0.9 (right), 0.8 (wrong), 0.6 (right), 0.5 (argmax is class 0: wrong), 0.7 (right),
# 0.75 (wrong). With 4 bins (b/4, (b+1)/4]: 0.5 in bin 1; 0.6, 0.7, 0.75 in bin 2; 0.8, 0.9 in bin 3.
PROBABILITIES = [[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.5, 0.5], [0.3, 0.7], [0.25, 0.75]]
LABELS = [0, 1, 0, 1, 1, 0]


def test_hand_case():
    ece, bins = expected_calibration_error(PROBABILITIES, LABELS, num_bins=4)
    np.testing.assert_array_equal(bins["count"], [0, 1, 3, 2])
    np.testing.assert_allclose(bins["confidence"], [0, 0.5, (0.6 + 0.7 + 0.75) / 3, 0.85])
    np.testing.assert_allclose(bins["accuracy"], [0, 0, 2 / 3, 0.5])
    np.testing.assert_allclose(bins["edges"], [0, 0.25, 0.5, 0.75, 1])
    gaps = [0.5, abs(2 / 3 - 2.05 / 3), 0.35]
    assert ece == pytest.approx((1 * gaps[0] + 3 * gaps[1] + 2 * gaps[2]) / 6)  # 1.25 / 6
    one_hot = np.eye(2)[LABELS]
    assert expected_calibration_error(PROBABILITIES, one_hot, num_bins=4)[0] == ece


def test_matches_a_plain_loop_with_15_bins():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (500, 10))
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 10, 500)
    labels[:300] = probabilities[:300].argmax(1)  # Some right, some wrong.
    ece, bins = expected_calibration_error(probabilities, labels)
    confidence, correct = probabilities.max(1), probabilities.argmax(1) == labels
    expected = 0.0
    for b in range(15):
        inside = (confidence > b / 15) & (confidence <= (b + 1) / 15)
        assert bins["count"][b] == inside.sum()
        if inside.any():
            expected += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    assert ece == pytest.approx(expected, abs=1e-12)
    assert bins["count"].sum() == 500


def test_perfectly_calibrated_and_overconfident():
    # Confidence 1 and always right: ECE 0. Confidence 1 and always wrong: ECE 1.
    probabilities = np.eye(3)[[0, 1, 2, 0]]
    assert expected_calibration_error(probabilities, [0, 1, 2, 0])[0] == 0.0
    assert expected_calibration_error(probabilities, [1, 2, 0, 1])[0] == 1.0


@pytest.mark.parametrize("probabilities, labels, num_bins, message", [
    (np.ones((0, 3)), np.zeros(0, int), 15, "probabilities"),
    (np.ones(3), np.zeros(3, int), 15, "probabilities"),
    (np.ones((4, 3)) / 3, np.zeros(5, int), 15, "labels"),
    (np.ones((4, 3)) / 3, np.zeros(4, int), 0, "num_bins"),
    (np.ones((4, 3)) / 3, np.zeros(4, int), 2.5, "num_bins"),
])
def test_errors_name_the_argument(probabilities, labels, num_bins, message):
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(probabilities, labels, num_bins=num_bins)
