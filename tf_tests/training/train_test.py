"""train_and_evaluate on a tiny config: every method, files, same seed, resume after an interruption."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import data, training
from keras_cutmix.training import input_pipeline

from training_helpers import REPO, tiny  # noqa: E402  (same folder)
from helpers import Interrupt, assert_same_arrays, run_files, saved_arrays  # tf_tests/


def test_every_method_trains_and_compare_methods_writes_table_and_plot(data_dir, tmp_path):
    """The smoke test of each method, through `compare_methods` (one run per method)."""
    results = training.compare_methods(tiny(data_dir), str(tmp_path))
    assert list(results) == list(training.METHODS)
    for method, aggregated in results.items():
        assert aggregated["num_seeds"] == 1 and list(aggregated["seeds"]) == ["0"]
        summary = aggregated["seeds"]["0"]
        run = tmp_path / method / "seed_0"
        for key in ("top1_error_best", "top5_error_best", "top1_error_final", "top5_error_final"):
            assert 0.0 <= summary[key] <= 100.0, (method, key)
            assert aggregated["mean"][key] == summary[key] and aggregated["std"][key] is None
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
    assert saved["results"] == results and saved["config"]["epochs"] == 1 and saved["seeds"] == [0]
    table = (tmp_path / "compare.md").read_text()
    assert all(f"| {method} |" in table for method in training.METHODS)
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_methods_reports_mean_and_spread_over_seeds(data_dir, tmp_path):
    results = training.compare_methods(tiny(data_dir), str(tmp_path), methods=["baseline"], seeds=[0, 1, 2])
    # The seeds' own results files, averaged with NumPy.
    errors = {key: [json.loads((tmp_path / "baseline" / f"seed_{s}" / "results.json").read_text())
                    ["baseline"][key] for s in (0, 1, 2)]
              for key in ("top1_error_best", "top5_error_best", "top1_error_final", "top5_error_final")}
    seeds = {s: json.loads((tmp_path / "baseline" / f"seed_{s}" / "config.json").read_text())["seed"]
             for s in (0, 1, 2)}
    assert seeds == {0: 0, 1: 1, 2: 2}
    aggregated = results["baseline"]
    assert aggregated["num_seeds"] == 3
    for key, values in errors.items():
        assert aggregated["mean"][key] == pytest.approx(np.mean(values), abs=1e-4), key
        assert aggregated["std"][key] == pytest.approx(np.std(values, ddof=1), abs=1e-4), key
    table = (tmp_path / "compare.md").read_text()
    mean, std = aggregated["mean"]["top1_error_final"], aggregated["std"]["top1_error_final"]
    assert f"{mean:.2f} ± {std:.2f}" in table and "3 seed(s)" in table
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert saved["seeds"] == [0, 1, 2] and saved["results"]["baseline"]["std"] == aggregated["std"]


def test_compare_methods_checks_every_run_before_training(data_dir, tmp_path):
    with pytest.raises(ValueError, match="seeds"):
        training.compare_methods(tiny(data_dir), str(tmp_path), seeds=[0, 0])
    with pytest.raises(ValueError, match="methods"):
        training.compare_methods(tiny(data_dir), str(tmp_path), methods=["cutmix", "fmix"])
    assert not tmp_path.joinpath("cutmix").exists()


# Colour-coded batches: image i is the constant colour COLOURS[i] and has label i, so every output pixel
# says which images it came from, and every label row which classes.
COLOURS = np.stack([10 + 30 * np.arange(8), 230 - 25 * np.arange(8), (97 * np.arange(8)) % 256], axis=1)


def colour_coded_load(name, split=None, *, batch_size, image_size=None, **kwargs):
    """Stands in for `data.load`: two identical batches of 8 constant-colour images, labels 0..7."""
    side = image_size or 32
    images = np.broadcast_to(COLOURS[:, None, None, :], (batch_size, side, side, 3)).astype("uint8")
    return tf.data.Dataset.from_tensors((images, np.arange(batch_size, dtype="int32"))).repeat(2)


def filled_rectangle(mask):
    """`(height, width)` of `mask`'s True pixels if they fill their bounding box, else None."""
    rows, cols = np.nonzero(mask)
    if not rows.size:
        return (0, 0)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    return (h, w) if mask.sum() == h * w else None


def method_batch(monkeypatch, data_dir, method):
    """The first training batch of `method` (mixing every batch) over the colour-coded images."""
    monkeypatch.setattr(input_pipeline.data, "load", colour_coded_load)
    spec = data.dataset_spec("synthetic_shapes", image_size=32)
    config = tiny(data_dir, method=method, probability=1.0, mixup_cutout_probability=1.0, cutout_size=12)
    ds, steps = input_pipeline.train_dataset(config, spec)
    assert steps == 2
    images, labels = next(iter(ds))
    assert images.shape == (8, 32, 32, 3) and labels.shape == (8, 10) and labels.dtype == "float32"
    return np.asarray(images, "float64"), labels.numpy().astype("float64")


def one_hot(i):
    return np.eye(10)[i]


def test_baseline_batches_are_the_loader_batches_with_one_hot_labels(data_dir):
    """Against `data.load` itself (what the pipeline wraps), same seed: pixels untouched."""
    config = tiny(data_dir, method="baseline")
    spec = data.dataset_spec("synthetic_shapes", image_size=32)
    images, labels = next(iter(input_pipeline.train_dataset(config, spec)[0]))
    want_images, want_labels = next(iter(data.load(
        "synthetic_shapes", "train[:32]", batch_size=8, training=True, data_dir=data_dir, seed=0,
        image_size=32)))
    np.testing.assert_array_equal(images.numpy(), want_images.numpy())
    np.testing.assert_array_equal(labels.numpy(), np.eye(10, dtype="float32")[want_labels.numpy()])


def test_baseline_leaves_pixels_and_labels_alone(monkeypatch, data_dir):
    images, labels = method_batch(monkeypatch, data_dir, "baseline")
    for i in range(8):
        assert (images[i] == COLOURS[i]).all(), i
        np.testing.assert_array_equal(labels[i], one_hot(i))


def test_cutout_zeroes_a_square_and_keeps_labels(monkeypatch, data_dir):
    images, labels = method_batch(monkeypatch, data_dir, "cutout")
    sides = []
    for i in range(8):
        np.testing.assert_array_equal(labels[i], one_hot(i))
        zero = (images[i] == 0).all(axis=-1)
        assert (images[i][~zero] == COLOURS[i]).all(), i  # Only the cut pixels changed...
        rectangle = filled_rectangle(zero)  # ... and they form a rectangle,
        assert rectangle is not None and max(rectangle) <= 12, (i, rectangle)  # the clipped square.
        sides.append(rectangle)
    assert (12, 12) in sides and all(s != (0, 0) for s in sides), sides


def partner(label_row, i):
    """The other class in a mixed label row (i itself if the row is one-hot), and i's weight."""
    others = [k for k in np.nonzero(label_row > 1e-6)[0] if k != i]
    assert len(others) <= 1, label_row
    return (others[0] if others else i), label_row[i]


def test_mixup_blends_whole_images_with_two_hot_labels(monkeypatch, data_dir):
    images, labels = method_batch(monkeypatch, data_dir, "mixup")
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-6)
    mixed = 0
    for i in range(8):
        j, lam = partner(labels[i], i)
        np.testing.assert_allclose(labels[i], lam * one_hot(i) + (1 - lam) * one_hot(j), atol=1e-6)
        blend = lam * COLOURS[i] + (1 - lam) * COLOURS[j]
        # Every pixel is the same blend, rounded back to uint8.
        np.testing.assert_allclose(images[i], np.broadcast_to(blend, images[i].shape), atol=0.5 + 1e-4)
        mixed += j != i and 0.01 < lam < 0.99
    assert mixed >= 4


def test_cutmix_pastes_a_rectangle_and_mixes_labels_by_its_area(monkeypatch, data_dir):
    images, labels = method_batch(monkeypatch, data_dir, "cutmix")
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-6)
    mixed = 0
    for i in range(8):
        j, lam = partner(labels[i], i)
        pasted = (images[i] == COLOURS[j]).all(axis=-1) & (j != i)
        kept = (images[i] == COLOURS[i]).all(axis=-1)
        assert (pasted | kept).all(), i  # Every pixel is the image's own or its partner's, unblended.
        h, w = filled_rectangle(pasted)
        area = h * w / (32 * 32)
        # The label weight is the area that was pasted.
        np.testing.assert_allclose(labels[i], (1 - area) * one_hot(i) + area * one_hot(j), atol=1e-6)
        mixed += 0 < area < 1
    assert mixed >= 4


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


def test_a_finished_run_is_kept_unless_overwrite(data_dir, tmp_path):
    workdir = tmp_path / "run"
    config = tiny(data_dir)
    training.train_and_evaluate(config, str(workdir))
    before = run_files(workdir)
    other = config.replace(lr=0.5, method="mixup")
    with pytest.raises(training.ConfigError, match=r"finished run .*\['lr', 'method'\].*overwrite") as error:
        training.train_and_evaluate(other, str(workdir), callbacks=[Interrupt(0)])
    assert error.value.name == "workdir"
    assert run_files(workdir) == before  # Not one byte changed: config, history, checkpoints, results.
    summary = training.train_and_evaluate(other, str(workdir), overwrite=True)
    assert list(summary) == ["mixup"]
    assert json.loads((workdir / "config.json").read_text())["lr"] == 0.5
    assert json.loads((workdir / "results.json").read_text()) == summary
    assert "| mixup |" in (workdir / "results.md").read_text()
    assert len(json.loads((workdir / "history.json").read_text())) == 1
    # The old run's files are gone (TensorBoard event files are named anew), not mixed with the new ones.
    after = run_files(workdir)
    old_events = {p for p in before if p.startswith("tensorboard")}
    assert old_events and not old_events & set(after)
    assert after["checkpoints/last.weights.h5"] != before["checkpoints/last.weights.h5"]


def test_workdir_and_data_errors_come_before_any_file_is_written(tmp_path):
    for field, value in (("model", "resnet9000"), ("dataset", "mnist")):
        with pytest.raises(training.ConfigError, match=value) as error:
            training.train_and_evaluate(training.Config(**{field: value}), str(tmp_path / "run"))
        assert error.value.name == field
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    with pytest.raises(training.ConfigError, match="workdir") as error:
        training.train_and_evaluate(training.Config(), str(a_file))
    assert error.value.name == "workdir" and a_file.read_text() == "keep me"
    empty = tmp_path / "no_tfds_here"
    with pytest.raises(data.DatasetNotFoundError, match="cifar10"):
        training.train_and_evaluate(training.Config(dataset="cifar10", model="resnet56", data_dir=str(empty)),
                                    str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


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


def test_check_run_asks_tfds_whether_it_can_read_the_splits(tmp_path):
    """Under mock_data tfds reads cifar10 without preparing it: the run check lets it through (it used to
    refuse every data set `is_prepared()` denied); without data it is still refused, before any write."""
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

    empty = str(tmp_path / "no_tfds_here")
    config = training.Config(dataset="cifar10", model="resnet56", data_dir=empty)
    with tfds.testing.mock_data(num_examples=4):
        assert training.check_run(config, str(tmp_path / "run")).dataset == "cifar10"
    with pytest.raises(data.DatasetNotFoundError, match="cifar10"):
        training.check_run(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
