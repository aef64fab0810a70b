"""train_and_evaluate on a tiny config: every method, files, same seed, resume after an interruption."""

import json
import os
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

from keras_cutmix import data, training
from keras_cutmix.training import input_pipeline

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tiny(data_dir, **changes):
    """Two batches of 8 32x32 synthetic_shapes images per epoch, one test batch."""
    fields = dict(epochs=1, batch_size=8, steps_per_epoch=2, eval_steps=1, image_size=32,
                  train_split="train[:32]", test_split="test[:8]", data_dir=data_dir, verbose=0)
    fields.update(changes)
    return training.get_config(**fields)


def saved_arrays(path):
    """Every array of a .weights.h5 file (model and optimizer variables)."""
    arrays = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return arrays


def assert_same_arrays(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_every_method_trains_and_compare_methods_writes_table_and_plot(data_dir, tmp_path):
    """The smoke test of each method, through `compare_methods` (one run per method)."""
    results = training.compare_methods(tiny(data_dir), str(tmp_path))
    assert list(results) == list(training.METHODS)
    for method, summary in results.items():
        run = tmp_path / method
        for key in ("top1_error_best", "top5_error_best", "top1_error_final", "top5_error_final"):
            assert 0.0 <= summary[key] <= 100.0, (method, key)
        assert summary["epochs"] == 1 and summary["best_epoch"] == 1
        saved = json.loads((run / "results.json").read_text())
        assert saved == {method: {k: v for k, v in summary.items() if k != "train_time_s"}}
        assert training.Config.from_dict(json.loads((run / "config.json").read_text())).method == method
        assert f"| {method} |" in (run / "results.md").read_text()
        history = json.loads((run / "history.json").read_text())
        assert {"loss", "top1", "top5", "val_top1", "val_top5", "lr", "epoch_time_s"} <= set(history[0])
        assert (run / "checkpoints" / "last.weights.h5").exists()
        assert (run / "checkpoints" / "best.weights.h5").exists()
        assert (run / "tensorboard").is_dir()
        assert not (run / "backup").exists()  # Deleted once training finished.
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert saved["results"] == results and saved["config"]["epochs"] == 1
    table = (tmp_path / "compare.md").read_text()
    assert all(f"| {method} |" in table for method in training.METHODS)
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_training_batches_follow_the_method(data_dir):
    spec = data.dataset_spec("synthetic_shapes", image_size=32)
    for method in ("baseline", "cutmix"):
        ds, steps = input_pipeline.train_dataset(tiny(data_dir, method=method, probability=1.0), spec)
        assert steps == 2
        images, labels = next(iter(ds))
        assert images.dtype == "uint8" and images.shape == (8, 32, 32, 3)
        assert labels.dtype == "float32" and labels.shape == (8, 10)
        np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, rtol=1e-6)
        one_hot = np.isin(labels.numpy(), [0.0, 1.0]).all()
        assert one_hot == (method == "baseline")


def test_each_pass_is_a_new_epoch(data_dir):
    """What resuming relies on: passes differ, and skip_epochs moves to the next pass."""
    spec = data.dataset_spec("synthetic_shapes", image_size=32)
    config = tiny(data_dir)
    first = lambda ds: next(iter(ds))[0].numpy()  # noqa: E731
    ds, _ = input_pipeline.train_dataset(config, spec)
    epoch0, epoch1 = first(ds), first(ds)
    assert not np.array_equal(epoch0, epoch1)
    ds, _ = input_pipeline.train_dataset(config, spec)
    input_pipeline.skip_epochs(ds, 1)
    np.testing.assert_array_equal(first(ds), epoch1)


class Interrupt(keras.callbacks.Callback):
    """Stands in for a killed process: raises when epoch `epoch` begins."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"simulated interruption at epoch {epoch}")


def test_resume_gives_the_weights_of_an_uninterrupted_run(data_dir, tmp_path):
    config = tiny(data_dir, epochs=3)
    full = training.train_and_evaluate(config, str(tmp_path / "full"))
    other = training.train_and_evaluate(config.replace(seed=1), str(tmp_path / "other"))
    with pytest.raises(KeyboardInterrupt):
        training.train_and_evaluate(config, str(tmp_path / "resumed"), callbacks=[Interrupt(2)])
    assert (tmp_path / "resumed" / "backup").exists()
    assert len(json.loads((tmp_path / "resumed" / "history.json").read_text())) == 2
    with pytest.raises(ValueError, match=r"\['lr'\]"):  # Another config cannot resume it.
        training.train_and_evaluate(config.replace(lr=0.5), str(tmp_path / "resumed"))
    resumed = training.train_and_evaluate(config, str(tmp_path / "resumed"))

    weights = {name: saved_arrays(tmp_path / name / "checkpoints" / "last.weights.h5")
               for name in ("full", "other", "resumed")}
    # Same seed, same model, step count and momentum, though the process was interrupted.
    assert_same_arrays(weights["full"], weights["resumed"])
    assert not all(np.array_equal(weights["full"][k], weights["other"][k]) for k in weights["full"])
    assert full == resumed
    assert full != other
    assert len(json.loads((tmp_path / "resumed" / "history.json").read_text())) == 3
    # A finished run is not trained again (Interrupt would raise if fit ran).
    assert training.train_and_evaluate(config, str(tmp_path / "full"), callbacks=[Interrupt(0)]) == full


def test_classification_script(data_dir, tmp_path):
    command = [
        sys.executable, os.path.join(REPO, "examples", "classification.py"),
        f"--workdir={tmp_path}", "--method=mixup", "--epochs=1", "--batch_size=8",
        "--steps_per_epoch=2", "--eval_steps=1", "--image_size=32", f"--data_dir={data_dir}",
        "--lr_multipliers=head/=10", "--lr_schedule=step", "--lr_boundaries=1",
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=REPO))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "mixup: top-1 error" in out.stdout
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["method"], config["lr_multipliers"], config["lr_boundaries"]) == ("mixup", {"head/": 10.0}, [1])
    assert set(json.loads((tmp_path / "results.json").read_text())) == {"mixup"}


def test_missing_weights_file_is_a_clear_error(data_dir, tmp_path):
    missing = str(tmp_path / "missing.weights.h5")
    with pytest.raises(FileNotFoundError, match="missing.weights.h5"):
        training.train_and_evaluate(tiny(data_dir, weights=missing), str(tmp_path / "run"))


def test_same_seed_same_weights_across_processes(data_dir, tmp_path):
    code = ("import sys; from keras_cutmix import training; "
            "training.train_and_evaluate(training.get_config(**eval(sys.argv[1])), sys.argv[2])")
    fields = dict(epochs=1, batch_size=8, steps_per_epoch=2, eval_steps=1, image_size=32,
                  train_split="train[:32]", test_split="test[:8]", data_dir=data_dir, verbose=0)
    for name in ("a", "b"):
        out = subprocess.run([sys.executable, "-c", code, repr(fields), str(tmp_path / name)],
                             capture_output=True, text=True, timeout=300, cwd=REPO,
                             env=dict(os.environ, PYTHONPATH=REPO))
        assert out.returncode == 0, out.stderr[-3000:]
    assert_same_arrays(saved_arrays(tmp_path / "a" / "checkpoints" / "last.weights.h5"),
                       saved_arrays(tmp_path / "b" / "checkpoints" / "last.weights.h5"))
