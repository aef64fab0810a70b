"""Learning-rate schedules against the official code's formulas and hand-computed values."""

import math

import numpy as np
import pytest

from keras_cutmix.training import config as config_lib
from keras_cutmix.training import schedules


def official_lr(lr, epoch, epochs, dataset):
    """`adjust_learning_rate` of the official CutMix train.py (clovaai/CutMix-PyTorch)."""
    if dataset == "cifar":
        return lr * (0.1 ** (epoch // (epochs * 0.5))) * (0.1 ** (epoch // (epochs * 0.75)))
    if epochs == 300:
        return lr * (0.1 ** (epoch // 75))
    return lr * (0.1 ** (epoch // 30))


def test_paper_boundaries():
    assert schedules.paper_boundaries("cifar", 300) == (150, 225)
    assert schedules.paper_boundaries("imagenet", 300) == (75, 150, 225)
    # Any other length: every 30 epochs, not at 25%, 50%, 75% of the run.
    assert schedules.paper_boundaries("imagenet", 90) == (30, 60)
    assert schedules.paper_boundaries("imagenet", 100) == (30, 60, 90)
    assert schedules.paper_boundaries("imagenet", 30) == ()
    # epoch // 7.5 first reaches 1 at epoch 8.
    assert schedules.paper_boundaries("cifar", 10) == (5, 8)
    with pytest.raises(ValueError, match="schedule"):
        schedules.paper_boundaries("svhn", 10)


@pytest.mark.parametrize("dataset", ["cifar", "imagenet"])
@pytest.mark.parametrize("epochs", [300, 100, 90, 61, 10, 7])
def test_step_schedule_matches_official_code(dataset, epochs):
    steps_per_epoch = 3
    config = config_lib.Config(lr=0.25, lr_schedule=dataset, epochs=epochs)
    schedule = schedules.get_schedule(config, steps_per_epoch)
    steps = np.arange(epochs * steps_per_epoch)
    got = np.asarray(schedule(steps))  # Every step at once.
    want = np.array([official_lr(0.25, s // steps_per_epoch, epochs, dataset) for s in steps])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_step_schedule_hand_values():
    # PyramidNet-200 on CIFAR-100: 50,000 / 64 -> 782 steps per epoch.
    schedule = schedules.EpochStepDecay(0.25, (150, 225), steps_per_epoch=782)
    for step, lr in [(0, 0.25), (150 * 782 - 1, 0.25), (150 * 782, 0.025),
                     (225 * 782 - 1, 0.025), (225 * 782, 0.0025), (10**7, 0.0025)]:
        assert float(schedule(step)) == pytest.approx(lr, rel=1e-6), step


def test_custom_step_schedule():
    config = config_lib.Config(lr=1.0, lr_schedule="step", lr_boundaries=(2, 3), lr_decay=0.5, epochs=5)
    schedule = schedules.get_schedule(config, steps_per_epoch=10)
    assert [float(schedule(s)) for s in (0, 19, 20, 29, 30, 49)] == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])


def test_cosine_hand_values():
    schedule = schedules.EpochCosineDecay(0.1, epochs=4, steps_per_epoch=25)
    assert float(schedule(0)) == pytest.approx(0.1)
    assert float(schedule(25)) == pytest.approx(0.05 * (1 + math.cos(math.pi / 4)))
    assert float(schedule(50)) == pytest.approx(0.05)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)
    assert float(schedule(1000)) == pytest.approx(0.0, abs=1e-9)


def test_constant_and_serialization():
    assert schedules.get_schedule(config_lib.Config(lr=0.3, lr_schedule="constant"), 5) == 0.3
    schedule = schedules.EpochStepDecay(0.1, (1, 2), 7)
    clone = schedules.EpochStepDecay.from_config(schedule.get_config())
    assert clone.get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        schedules.EpochCosineDecay(0.1, 3, 0)
