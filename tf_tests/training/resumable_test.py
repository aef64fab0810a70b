"""`training.resumable`'s workdir rules on hand-written workdirs (no training): reuse, refuse, overwrite;
and, on a one-weight model, that an epoch which diverges stays out of the workdir."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.training import resumable

CONFIG = {"epochs": 2, "steps": (4, 8), "preset": {"sizes": (1, 2)}, "data_dir": "/a"}


def _write(workdir, config, epochs, backup=False):
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "history.json").write_text(json.dumps([{"epoch": e} for e in range(epochs)]))
    if backup:
        (workdir / "backup").mkdir()


def test_a_finished_run_of_the_same_config_is_reused_tuples_and_free_fields_included(tmp_path):
    _write(tmp_path, CONFIG, 2)  # Saved as JSON: the tuples read back as lists.
    moved = dict(CONFIG, data_dir="/b")
    resumable.check_workdir(tmp_path, moved, free_fields=("data_dir",))
    assert resumable.finished(tmp_path, moved, free_fields=("data_dir",)) == [{"epoch": 0}, {"epoch": 1}]
    with pytest.raises(resumable.WorkdirInUseError, match=r"finished run with other values of \['data_dir'\]"):
        resumable.check_workdir(tmp_path, moved)
    assert resumable.finished(tmp_path, moved) is None


def test_other_configs_are_refused_naming_the_fields_and_the_state(tmp_path):
    _write(tmp_path / "stopped", CONFIG, 1)
    with pytest.raises(resumable.WorkdirInUseError, match=r"a run stopped after 1 of 2 epochs .*\['steps'\]"):
        resumable.check_workdir(tmp_path / "stopped", dict(CONFIG, steps=(4, 9)))
    _write(tmp_path / "killed", CONFIG, 1, backup=True)
    with pytest.raises(resumable.WorkdirInUseError, match=r"interrupted run .*Received changes to \['preset'\]") as error:
        resumable.check_workdir(tmp_path / "killed", dict(CONFIG, preset={"sizes": (1, 3)}))
    assert error.value.name == "workdir"
    assert resumable.finished(tmp_path / "killed", CONFIG) is None  # Interrupted: resumed, not reused.
    resumable.check_workdir(tmp_path / "killed", dict(CONFIG, steps=(1,)), overwrite=True)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(resumable.ConfigError, match="which is a file"):
        resumable.check_workdir(tmp_path / "a_file", CONFIG)


def test_start_with_overwrite_deletes_only_the_run_files(tmp_path):
    _write(tmp_path, CONFIG, 1, backup=True)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.weights.h5").write_text("old")
    (tmp_path / "nic.keras").write_text("not a run file")
    (tmp_path / "backup" / "training_metadata.json").write_text(json.dumps({"epoch": 1}))
    assert resumable.start(tmp_path, CONFIG) == 1  # Resumes after the backup's epoch.
    new = dict(CONFIG, epochs=3)
    assert resumable.start(tmp_path, new, overwrite=True) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "nic.keras"]
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 3


def _one_weight_model(learning_rate):
    """y = w x with w = 1, mean squared error, plain SGD at `learning_rate`."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def _batches(inputs):
    """One batch of one example per input, target 0."""
    return tf.data.Dataset.from_tensor_slices((np.asarray(inputs, np.float32)[:, None, None],
                                               np.zeros((len(inputs), 1, 1), np.float32)))


def _one_weight_run(workdir, inputs, learning_rate):
    """Trains `_one_weight_model` on `inputs` (one batch per step, one step per epoch)."""
    return resumable.train(str(workdir), {"epochs": len(inputs)}, lambda: _one_weight_model(learning_rate),
                           resumable.skip_batches(_batches(inputs), 1), steps_per_epoch=1, verbose=0)


def test_an_epoch_that_diverges_raises_and_the_workdir_keeps_the_last_finite_one(tmp_path):
    # Epoch 1: x = 1, w = 1 - 0.1 * 2 = 0.8. Epoch 2: x = inf, the loss and w are NaN.
    with pytest.raises(resumable.TrainingDivergedError,
                       match=rf"{tmp_path}: training diverged in epoch 2. .*Received: loss (nan|inf)"
                             r".*stays at epoch 1"):
        _one_weight_run(tmp_path, [1.0, np.inf], learning_rate=0.1)
    assert [entry["epoch"] for entry in json.loads((tmp_path / "history.json").read_text())] == [0]
    assert resumable.backup_epoch(str(tmp_path / "backup")) == 1
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.load_weights(resumable.last_weights(str(tmp_path)))
    np.testing.assert_allclose(model.get_weights()[0], [[0.8]], rtol=1e-6)


def test_weights_that_overflow_under_a_finite_loss_are_caught(tmp_path):
    # x = 1e18: loss (w x)^2 = 1e36 is finite in float32, the step 1e3 * 2e36 overflows w to -inf.
    with pytest.raises(resumable.TrainingDivergedError, match=r"epoch 1. .*Received: NaN or infinite values in 1 "
                                                              r"weights \(first: .*kernel\).*stays at epoch 0"):
        _one_weight_run(tmp_path, [1e18], learning_rate=1e3)
    assert not (tmp_path / "history.json").exists() or json.loads((tmp_path / "history.json").read_text()) == []
    assert not (tmp_path / "checkpoints" / "last.weights.h5").exists()


def test_a_nan_validation_loss_alone_is_not_divergence(tmp_path):
    # A non-finite validation loss (degenerate test batches) leaves training alone.
    model = _one_weight_model(0.1)
    history = resumable.fit(model, str(tmp_path), resumable.skip_batches(_batches([1.0]), 1), epochs=2,
                            steps_per_epoch=1, validation_data=_batches([np.inf]), verbose=0)
    assert [math.isfinite(entry["val_loss"]) for entry in history] == [False, False]
    np.testing.assert_allclose(model.get_weights()[0], [[0.64]], rtol=1e-6)  # 1 -> 0.8 -> 0.64.
