"""Strategies by name, and a training smoke test under MirroredStrategy (one CPU replica here)."""

import json

import pytest
import tensorflow as tf

from keras_cutmix import training
from keras_cutmix.training import strategy as strategy_lib


def test_default_strategy_is_the_chief():
    strategy = strategy_lib.get_strategy("default")
    assert strategy is tf.distribute.get_strategy()
    assert strategy_lib.is_chief(strategy)
    assert strategy_lib.task_workdir("/tmp/run", strategy) == "/tmp/run"


def test_unknown_strategy():
    with pytest.raises(ValueError, match="name"):
        strategy_lib.get_strategy("horovod")


def test_training_under_mirrored_strategy(data_dir, tmp_path):
    workdir = tmp_path
    config = training.get_config(
        strategy="mirrored", epochs=1, batch_size=8, steps_per_epoch=2, eval_steps=1,
        image_size=32, train_split="train[:32]", test_split="test[:8]", data_dir=data_dir,
        verbose=0, lr_multipliers={"head/": 10.0})
    results = training.train_and_evaluate(config, str(workdir))
    assert 0.0 <= results["cutmix"]["top1_error_final"] <= 100.0
    assert json.loads((workdir / "config.json").read_text())["strategy"] == "mirrored"
