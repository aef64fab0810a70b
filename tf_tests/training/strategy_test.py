"""Strategies by name, and a training smoke test under MirroredStrategy (two logical CPU replicas, in a subprocess)."""

import json
import os
import subprocess
import sys

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


_MIRRORED_RUN = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_cutmix import training
config = training.get_config(**json.loads(sys.argv[1]))
results = training.train_and_evaluate(config, sys.argv[2])
print("NUM_REPLICAS", training.strategy.get_strategy("mirrored").num_replicas_in_sync)
print("TOP1", results["cutmix"]["top1_error_final"])
"""


def test_training_under_mirrored_strategy(data_dir, tmp_path):
    # In a fresh process: TF's collective ops keep per-process instance keys, and a second
    # MirroredStrategy over the same devices in one pytest worker (tf_tests/mixing/distribute_test.py)
    # collides with them ("Shape mismatch in the collective instance").
    workdir = tmp_path / "run"
    fields = dict(strategy="mirrored", epochs=1, batch_size=8, steps_per_epoch=2, eval_steps=1,
                  image_size=32, train_split="train[:32]", test_split="test[:8]", data_dir=data_dir,
                  verbose=0, lr_multipliers={"head/": 10.0})
    out = subprocess.run([sys.executable, "-c", _MIRRORED_RUN, json.dumps(fields), str(workdir)],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "NUM_REPLICAS 2" in out.stdout
    top1 = float(out.stdout.split("TOP1")[1].split()[0])
    assert 0.0 <= top1 <= 100.0
    assert json.loads((workdir / "config.json").read_text())["strategy"] == "mirrored"
