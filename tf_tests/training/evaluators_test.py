"""`train_and_evaluate(..., evaluators=...)`: run on the final model, stored in results.json, no retraining."""

import json
import os

import keras
import numpy as np
import pytest

from keras_cutmix import training

from training_helpers import tiny  # noqa: E402  (same folder)


class _CountTraining(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def _probe(calls):
    """An evaluator returning the logits of a fixed input (so two models can be compared)."""
    def evaluate(model, config, workdir):
        calls.append((config.method, workdir))
        inputs = np.linspace(0, 255, 2 * 32 * 32 * 3, dtype=np.float32).reshape(2, 32, 32, 3)
        return {"logits": np.asarray(model(inputs, training=False)).round(5).tolist()}
    return evaluate


def test_evaluators_run_on_the_final_model_and_again_on_a_finished_workdir(data_dir, tmp_path):
    config = tiny(data_dir, method="mixup")
    workdir = str(tmp_path)
    calls = []
    first = training.train_and_evaluate(config, workdir, evaluators={"probe": _probe(calls)})
    assert calls == [("mixup", workdir)]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["mixup"]["probe"] == first["mixup"]["probe"]
    assert "top1_error_best" in saved["mixup"]  # The training summary is kept.
    history_mtime = os.path.getmtime(tmp_path / "history.json")

    # Finished run: the model is rebuilt from checkpoints/last.weights.h5, nothing trains.
    counter = _CountTraining()
    second = training.train_and_evaluate(
        config, workdir, callbacks=[counter], evaluators={"probe": _probe(calls), "other": lambda m, c, w: {"x": 1}})
    assert counter.batches == 0
    assert os.path.getmtime(tmp_path / "history.json") == history_mtime
    np.testing.assert_allclose(second["mixup"]["probe"]["logits"], first["mixup"]["probe"]["logits"], atol=1e-4)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["mixup"]["other"] == {"x": 1} and "probe" in saved["mixup"]

    # Another evaluator alone (e.g. Grad-CAM after CAM) keeps what the others stored.
    third = training.train_and_evaluate(config, workdir, evaluators={"other": lambda m, c, w: {"x": 2}})
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["mixup"]["other"] == {"x": 2} == third["mixup"]["other"]
    assert saved["mixup"]["probe"] == first["mixup"]["probe"] == third["mixup"]["probe"]


def test_load_final_model_equals_the_trained_model(data_dir, tmp_path):
    config = tiny(data_dir, method="baseline")
    models_seen = []
    training.train_and_evaluate(config, str(tmp_path), evaluators={"keep": lambda m, c, w: models_seen.append(m) or {}})
    loaded = training.load_final_model(config, str(tmp_path))
    trained = models_seen[0]
    assert len(loaded.weights) == len(trained.weights)
    for a, b in zip(loaded.weights, trained.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


@pytest.mark.parametrize("evaluators", [["probe"], {"probe": 3}, {1: lambda m, c, w: {}}])
def test_bad_evaluators_are_refused_before_anything_is_written(data_dir, tmp_path, evaluators):
    with pytest.raises(ValueError, match="Expected `evaluators`"):
        training.train_and_evaluate(tiny(data_dir), str(tmp_path / "run"), evaluators=evaluators)
    assert not (tmp_path / "run").exists()


def test_load_final_model_without_a_checkpoint_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="last.weights.h5"):
        training.load_final_model(training.get_config(), str(tmp_path))
