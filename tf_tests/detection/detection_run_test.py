"""The detection experiment end to end on tiny data: configs at other sizes, the pipeline, mAP wiring, the script."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import models, training
from keras_cutmix.data import detection_loaders, synthetic_detection
from keras_cutmix.detection import backbones, run, ssd, ssd_anchors, ssd_model
from keras_cutmix.detection.train import detection_dataset, detector_optimizer, evaluate_detector
from helpers import (Interrupt, assert_same_arrays, assert_script_refuses_another_config, run_files,  # tf_tests/
                     saved_arrays)

TINY = run.DetectionRecipe(
    "synthetic_detection", "train", "test", 64, 4, {"ssd": 2, "retinanet": 2}, {"ssd": 1e-3, "retinanet": 1e-2}, 2,
    optimizer="adamw", warmup_steps=1, pretrain=dict(model="resnet_tiny", epochs=1, steps_per_epoch=2, eval_steps=1, batch_size=8,
                  train_split="train[:16]", test_split="test[:8]", verbose=0))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """synthetic_detection made tiny (16 train / 8 test), and synthetic_shapes for the backbones."""
    tiny = synthetic_detection.SyntheticDetectionConfig(name="default", num_train=16, num_test=8, seed=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthetic_detection.SyntheticDetection, "BUILDER_CONFIGS", [tiny])
        path = str(tmp_path_factory.mktemp("tfds"))
        detection_loaders.prepare_detection("synthetic_detection", data_dir=path)
        yield path


def test_ssd_config_keeps_voc300_and_scales_the_design():
    assert ssd_anchors.ssd_config(300) is ssd_anchors.VOC_300
    assert ssd_model._extras(ssd_anchors.VOC_300) == ssd_model.EXTRAS
    config = ssd_anchors.ssd_config(128)
    assert config["feature_maps"] == (16, 8, 4, 2, 1)
    assert config["aspect_ratios"] == ((2,), (2, 3), (2, 3), (2,), (2,))
    counts = ssd_anchors.boxes_per_location(config)
    assert len(ssd_anchors.default_boxes(config)) == sum(f * f * k for f, k in zip(config["feature_maps"], counts))
    np.testing.assert_allclose(config["min_sizes"][0], 12.8)  # 0.1 of the image, as 30 of 300.


def test_ssd_on_a_tiny_backbone_at_128():
    encoder = backbones.pyramid_encoder(models.get_model("resnet_tiny", num_classes=10, input_shape=(128, 128, 3)))
    model = ssd.build(encoder, num_classes=10, image_size=128)
    assert model.output.shape[1:] == (len(model.anchors), 4 + 11)


def test_at_input_size_keeps_the_weights():
    small = models.get_model("resnet_tiny", num_classes=10, input_shape=(64, 64, 3))
    large = backbones.at_input_size(small, 96)
    assert large.input_shape[1:3] == (96, 96)
    reference = models.get_model("resnet_tiny", num_classes=10, input_shape=(96, 96, 3))
    reference.set_weights(small.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype(np.float32)
    np.testing.assert_allclose(large(x, training=False), reference(x, training=False), rtol=1e-5, atol=1e-5)


def test_pipeline_scales_boxes_and_mixes(data_dir):
    plain = next(iter(detection_dataset("synthetic_detection", "train", training=True, batch_size=4, image_size=64,
                                        data_dir=data_dir, max_boxes=8)))
    mixed = next(iter(detection_dataset("synthetic_detection", "train", training=True, batch_size=4, image_size=64,
                                        data_dir=data_dir, max_boxes=8, mixing_method="cutmix")))
    images, targets = plain
    assert images.dtype == tf.float32 and float(tf.reduce_max(images)) > 1.0  # Pixels, not [0, 1].
    boxes, labels = targets["boxes"].numpy(), targets["labels"].numpy()
    assert boxes.max() > 1.0 and boxes.max() <= 64 and ((labels == -1) == (boxes == 0).all(-1)).all()
    assert not np.array_equal(mixed[0].numpy(), images.numpy())  # The same batch, CutMixed.
    test = next(iter(detection_dataset("synthetic_detection", "test", training=False, batch_size=4, image_size=64,
                                       data_dir=data_dir, max_boxes=8)))
    assert len(test) == 3 and test[2].dtype == tf.bool


@pytest.mark.parametrize("name, kind", [("sgd", "TorchSGD"), ("adamw", "AdamW")])
def test_detector_optimizer_warms_up_then_decays(name, kind):
    optimizer = detector_optimizer(name, 0.2, 110, weight_decay=1e-4, warmup_steps=10)
    assert type(optimizer).__name__ == kind and optimizer.get_config()["weight_decay"] == 1e-4

    def rate_at(opt, step):
        opt.iterations.assign(step)
        return float(opt.learning_rate)

    # Linear from 0 to 0.2 over 10 steps, then 0.2 * (1 + cos(pi * t / 100)) / 2 over the next 100.
    for step, expected in [(0, 0.0), (5, 0.1), (10, 0.2), (60, 0.1), (85, 0.2 * (1 + np.cos(0.75 * np.pi)) / 2),
                           (110, 0.0)]:
        np.testing.assert_allclose(rate_at(optimizer, step), expected, atol=1e-6)
    no_warmup = detector_optimizer(name, 0.2, 100, weight_decay=0.0)
    np.testing.assert_allclose([rate_at(no_warmup, s) for s in (0, 50, 100)], [0.2, 0.1, 0.0], atol=1e-6)
    with pytest.raises(ValueError, match=r"Expected `optimizer` in \('sgd', 'adamw'\). Received: optimizer='adam'"):
        detector_optimizer("adam", 0.1, 10, weight_decay=0.0)


def test_map_of_a_perfect_and_of_a_blind_detector(data_dir):
    test_ds = detection_dataset("synthetic_detection", "test", training=False, batch_size=4, image_size=64,
                                data_dir=data_dir, max_boxes=8)
    truth = [(t["boxes"].numpy(), t["labels"].numpy()) for _, t, _ in test_ds]
    batches = iter(truth)

    def perfect(images):
        boxes, labels = next(batches)
        counts = (labels >= 0).sum(1)
        order = np.argsort(labels < 0, axis=1, kind="stable")  # Real boxes first.
        return (np.take_along_axis(boxes, order[..., None], 1), np.ones(labels.shape),
                np.take_along_axis(labels, order, 1), counts)

    def blind(images):
        count = images.shape[0]
        return np.zeros((count, 1, 4)), np.zeros((count, 1)), np.zeros((count, 1), np.int64), np.zeros(count, int)

    # Non-difficult ground truth found exactly: AP 1 for every class present (and NaN ones excluded).
    assert evaluate_detector(perfect, test_ds, 10)["map"] == pytest.approx(1.0)
    assert evaluate_detector(blind, test_ds, 10)["map"] == 0.0


def test_run_detection_writes_table_pictures_and_reuses(data_dir, tmp_path):
    workdir = str(tmp_path / "det")
    results = run.run_detection(workdir, preset=TINY, methods=("baseline", "cutmix"), data_dir=data_dir, verbose=0)
    assert set(results) == {"baseline", "cutmix"} and set(results["cutmix"]) == {"ssd", "retinanet"}
    assert all(0.0 <= r["map"] <= 1.0 and r["num_images"] == 8 for m in results.values() for r in m.values())
    table = (tmp_path / "det" / "results.md").read_text()
    assert "| backbone's method | SSD mAP | RetinaNet mAP | paper SSD | paper Faster R-CNN |" in table
    assert "| cutmix |" in table and "| 77.6 | 76.7 |" in table and "stands in for the paper's Faster R-CNN" in table
    for name in ("detections_ssd.png", "detections_retinanet.png", "results.json"):
        assert (tmp_path / "det" / name).exists()
    mtime = os.path.getmtime(tmp_path / "det" / "ssd" / "cutmix" / "checkpoints" / "last.weights.h5")
    again = run.run_detection(workdir, preset=TINY, methods=("baseline", "cutmix"), data_dir=data_dir, verbose=0)
    assert os.path.getmtime(tmp_path / "det" / "ssd" / "cutmix" / "checkpoints" / "last.weights.h5") == mtime
    assert again == results  # Reloaded weights, the same detections.
    assert json.loads((tmp_path / "det" / "results.json").read_text())["results"] == results


@pytest.mark.parametrize("flag, message", [
    ("--backbones=foo=/x", "--backbones: Expected --backbones=METHOD=DIR"),
    ("--detectors=frcnn", "--detectors: Expected detectors among"),
    ("--preset=voc", "--backbones: Expected a backbone for every method"),
    ("--methods=cutmix,cutmix", "--methods: Expected distinct methods"),
    ("--num_eval_images=0", "--num_eval_images: Expected --num_eval_images >= 1. Received: 0"),
    # The missing backbone is refused before the others pretrain (issue 17).
    ("--backbones=cutmix=/no/such/run", "--backbones: Expected every --backbones path to be a classification"),
])
def test_flag_errors_are_one_line(run_script, flag, message):
    status, stderr, workdir = run_script("voc_detection.py", flag)
    assert status == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("voc_detection.py: error: ") and message in last, last
    assert not workdir.exists()


def test_keras_hub_detector_flag_errors_are_one_line(run_script):
    """--steps=-1 used to train on the whole data set; now one line, exit 2, before anything is loaded."""
    status, stderr, workdir = run_script("keras_hub_detector.py", "--steps=-1")
    assert status == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("keras_hub_detector.py: error: ") and "--steps=-1" in last, last
    assert not workdir.exists()


def test_a_run_of_another_config_is_refused_untouched_unless_overwrite(data_dir, tmp_path):
    """Issue 18: a workdir's detectors used to be reloaded whatever changed (mixing, steps) and reported as the
    new config's, exit 0. Now each detector's run is one `training.resumable` run: refused, not a byte touched,
    unless `overwrite=True`, which trains the new config (its config.json says so)."""
    workdir = tmp_path / "det"
    same = dict(detector_names=("ssd",), methods=("baseline",), data_dir=data_dir, verbose=0)
    first = run.run_detection(str(workdir), preset=TINY, **same)
    before = run_files(workdir)
    for change, field in ((dict(mixing_method="cutmix"), "mixing"), (dict(steps=4), "steps")):
        with pytest.raises(training.WorkdirInUseError, match=rf"finished run with other values of \[.*'{field}'"):
            run.run_detection(str(workdir), preset=TINY, **same, **change)
        assert run_files(workdir) == before, change
    mixed = run.run_detection(str(workdir), preset=TINY, **same, mixing_method="cutmix", overwrite=True)
    saved = json.loads((workdir / "ssd" / "baseline" / "config.json").read_text())
    assert saved["mixing"] == "cutmix" and saved["steps"] == 2
    weights = "ssd/baseline/checkpoints/last.weights.h5"
    assert run_files(workdir)[weights] != before[weights] and mixed != first


def test_a_killed_detector_resumes_to_the_weights_of_an_uninterrupted_run(data_dir, tmp_path):
    """Killed after its first epoch (of 2 steps, CutMixed batches), the run resumes from the backup on the batches
    an uninterrupted run reads next: the same weights and optimizer state, bit for bit (one process, same
    threads: nothing differs but the interruption), and the same mAP."""
    backbone = str(tmp_path / "backbone")
    training.train_and_evaluate(training.get_config(**TINY.pretrain, data_dir=data_dir), backbone)
    same = dict(preset=TINY, backbones={"baseline": backbone}, detector_names=("ssd",), methods=("baseline",),
                mixing_method="cutmix", steps=4, data_dir=data_dir, verbose=0)
    full = run.run_detection(str(tmp_path / "full"), **same)
    with pytest.raises(KeyboardInterrupt):
        run.run_detection(str(tmp_path / "killed"), **same, callbacks=[Interrupt(1)])
    killed = tmp_path / "killed" / "ssd" / "baseline"
    assert (killed / "backup").exists() and len(json.loads((killed / "history.json").read_text())) == 1
    assert run.run_detection(str(tmp_path / "killed"), **same) == full
    expected = saved_arrays(tmp_path / "full" / "ssd" / "baseline" / "checkpoints" / "last.weights.h5")
    resumed = saved_arrays(killed / "checkpoints" / "last.weights.h5")
    assert any("optimizer" in name for name in expected)
    assert_same_arrays(resumed, expected)
    assert [e["epoch"] for e in json.loads((killed / "history.json").read_text())] == [0, 1]


def test_the_script_refuses_a_workdir_of_another_config_in_one_line(run_script, tmp_path):
    """voc_detection.py on a workdir whose SSD ran with another config: one line naming --workdir, exit 1 (as
    classification.py), before any backbone pretrains; nothing touched."""
    run_dir = tmp_path / "w" / "ssd" / "baseline"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"detector": "ssd", "method": "baseline", "mixing": "cutmix",
                                                     "epochs": 1}))
    (run_dir / "history.json").write_text(json.dumps([{"epoch": 0, "loss": 1.0}]))
    assert_script_refuses_another_config(run_script, "voc_detection.py", tmp_path / "w", run_dir, "mixing",
                                         "--methods=baseline")
