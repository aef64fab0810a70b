"""`run_wsol` / `examples/cub_wsol.py` on a tiny config; the table's layout; flag errors; the presets;
the run check of imagenet2012 with a wsolevaluation metadata folder."""

import json
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from keras_cutmix import data, localization, training
from keras_cutmix.localization import presets, run, table
from wsol_metadata_files import write_metadata  # tf_tests/

TINY = dict(dataset="synthetic_shapes", model="small_cnn", epochs=1, batch_size=8, steps_per_epoch=2,
            eval_steps=1, image_size=32, train_split="train[:32]", test_split="test[:12]", verbose=0)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


def test_tiny_run_writes_table_pictures_and_reevaluates(data_dir, tmp_path):
    workdir = str(tmp_path)
    config = training.get_config(**TINY, data_dir=data_dir)
    output = localization.run_wsol(config, workdir, methods=("baseline", "cutmix"), seeds=(0, 1), num_examples=4)
    assert list(output["methods"]) == ["baseline", "cutmix"]
    for method in ("baseline", "cutmix"):
        s = output["methods"][method]
        assert sorted(s["seeds"]) == ["0", "1"]
        top1 = [100 * s["seeds"][k]["top1_loc"] for k in ("0", "1")]
        assert s["mean"]["top1_loc"] == pytest.approx(np.mean(top1), abs=1e-3)
        assert s["std"]["top1_loc"] == pytest.approx(np.std(top1, ddof=1), abs=1e-3)
        assert s["seeds"]["0"]["num_images"] == 12
        for seed in (0, 1):
            run_results = json.loads((tmp_path / method / f"seed_{seed}" / "results.json").read_text())
            assert run_results[method]["localization_cam"]["num_images"] == 12
        with Image.open(tmp_path / f"cam_{method}.png") as picture:
            assert picture.size[0] > 100
    assert json.loads((tmp_path / "results.json").read_text())["methods"]["cutmix"]["mean"] == \
        output["methods"]["cutmix"]["mean"]
    markdown = (tmp_path / "results.md").read_text().splitlines()
    header = next(line for line in markdown if line.startswith("| method"))
    assert header == "| method | top-1 Loc | GT-known Loc | MaxBoxAccV2 | top-1 cls error |"
    rows = [line for line in markdown if line.startswith("| ") and not line.startswith("| method")]
    assert [r.split(" | ")[0] for r in rows[:2]] == ["| baseline", "| cutmix"]
    assert "*whole-image box*" in rows[2] and "tuned on the test set" in rows[3]
    assert all(r.count("|") == 6 for r in rows)
    assert (tmp_path / "cam_methods.png").exists()

    # --eval_only on the finished runs, with Grad-CAM: nothing trains, history.json untouched.
    history = tmp_path / "cutmix" / "seed_1" / "history.json"
    mtime = os.path.getmtime(history)
    again = localization.run_wsol(config, workdir, methods=("cutmix",), seeds=(1,), cam_method="gradcam",
                                  eval_only=True)
    assert os.path.getmtime(history) == mtime
    assert again["cam_method"] == "gradcam" and "Grad-CAM" in (tmp_path / "results_gradcam.md").read_text()
    assert (tmp_path / "gradcam_cutmix.png").exists() and (tmp_path / "gradcam_methods.png").exists()
    # CAM's results are still there, in the workdir and in the run's results.json.
    assert json.loads((tmp_path / "results.json").read_text())["cam_method"] == "cam"
    assert "Grad-CAM" not in (tmp_path / "results.md").read_text()
    run_results = json.loads((tmp_path / "cutmix" / "seed_1" / "results.json").read_text())["cutmix"]
    assert run_results["localization_cam"]["num_images"] == run_results["localization_gradcam"]["num_images"] == 12


def test_eval_only_refuses_a_missing_run(tmp_path, data_dir):
    config = training.get_config(**TINY, data_dir=data_dir)
    with pytest.raises(training.ConfigError, match="finished run") as error:
        localization.check_wsol(config, str(tmp_path), ["cutmix"], [0], eval_only=True)
    assert error.value.name == "eval_only"
    assert not os.listdir(tmp_path)


def test_table_layout_with_paper_numbers_and_hand_computed_mean_std():
    def metrics(top1, gt_known, v2, err):
        centred = {"gt_known_loc": 0.3, "top1_loc": 0.2, "box": [1, 2, 3, 4], "height_fraction": 0.5,
                   "width_fraction": 0.25, "note": "n"}
        return {"top1_loc": top1, "gt_known_loc": gt_known, "top1_cls_error": err,
                "max_box_acc_v2": {"mean": v2, "0.3": v2, "0.5": v2, "0.7": v2},
                "baselines": {"whole_image": {"gt_known_loc": 0.1, "top1_loc": 0.05}, "best_centred_box": centred}}
    per_seed = {"baseline": {0: metrics(0.40, 0.5, 0.6, 0.2), 1: metrics(0.50, 0.7, 0.6, 0.1)},
                "cutmix": {0: metrics(0.55, 0.6, 0.7, 0.3)}}
    summary = table.summarize(per_seed, presets.PAPER_TOP1_LOC["cub_resnet50"])
    config = training.get_config(dataset="caltech_birds2011", model="resnet50_last_stride1")
    lines = table.markdown_table(summary, table.summarize_baselines(per_seed), config, "cam", [0, 1]).splitlines()
    # mean 45, sample std of (40, 50) = 7.07; GT-known (50, 70): 60 ± 14.14.
    assert "| baseline | 45.00 ± 7.07 | 60.00 ± 14.14 | 60.00 ± 0.00 | 15.00 ± 7.07 | 49.41 |" in lines
    assert "| cutmix | 55.00 | 60.00 | 70.00 | 30.00 | 54.81 |" in lines
    assert any(line.startswith("| method |") and line.endswith("| paper top-1 Loc |") for line in lines)
    assert "| *whole-image box* | 5.00 ± 0.00 | 10.00 ± 0.00 | - | - | - |" in lines


def test_presets_hold_the_papers_recipes():
    cub = presets.get_wsol_config("cub_resnet50")
    assert (cub.dataset, cub.model, cub.epochs, cub.batch_size) == (
        "caltech_birds2011", "resnet50_last_stride1", 600, 32)
    assert (cub.lr, cub.lr_multipliers, cub.lr_boundaries, cub.lr_decay) == (0.001, {"head": 10.0}, (150, 300, 450), 0.1)
    assert (cub.momentum, cub.weight_decay, cub.augmentation, cub.image_size) == (0.9, 1e-4, "resize_crop", 224)
    assert presets.get_wsol_config("cub_vgg_gap").lr == 0.0001
    imagenet = presets.get_wsol_config("imagenet_vgg_gap")
    assert (imagenet.epochs, imagenet.batch_size, imagenet.lr, imagenet.lr_boundaries) == (20, 256, 0.01, (6, 12, 18))
    assert presets.PAPER_TOP1_LOC["cub_vgg_gap"]["cutmix"] == 52.53
    assert presets.PAPER_TOP1_LOC["imagenet_resnet50"]["baseline"] == 46.30
    with pytest.raises(training.ConfigError, match="config="):
        presets.get_wsol_config("cub")


@pytest.mark.parametrize("flag, message, expected_status", [
    ("--methods=cutmix,foo", "--methods: Expected distinct methods", 2),
    ("--seeds=0,x", "--seeds: Expected --seeds=INT", 2),
    ("--config=imagenet_resnet50", "--wsol_metadata: Expected a wsolevaluation metadata folder", 2),
    ("--dataset=cifar10", "--dataset: Expected a data set with boxes", 2),
    ("--max_eval_images=0", "--max_eval_images: Expected an int >= 1", 2),
    ("--verbose=3", "flag --verbose=3: value should be one of", 2),
    ("--eval_only", "--eval_only: Expected a finished run", 2),
])
def test_script_flag_errors_are_one_line(run_script, flag, message, expected_status):
    status, stderr, workdir = run_script("cub_wsol.py", flag)
    assert status == expected_status, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("cub_wsol.py: error: ") and message in last, last
    assert not workdir.exists()


def test_imagenet_boxes_come_from_imagenet_wsol_dataset(monkeypatch, tmp_path):
    """imagenet2012: the evaluator reads `data.imagenet_wsol_dataset(metadata, image_root, data_dir, ...)`."""
    import evaluate_test  # noqa: E402  (same folder: the hand-built model and data set)

    calls = []

    def fake(metadata_folder, image_root=None, data_dir=None, *, batch_size, image_size=224, resize_size=256,
             **kwargs):
        calls.append((metadata_folder, image_root, data_dir, batch_size, image_size, resize_size))
        return evaluate_test._dataset()

    monkeypatch.setattr(data, "imagenet_wsol_dataset", fake, raising=False)
    config = presets.get_wsol_config("imagenet_resnet50", data_dir="/tfds")
    evaluator = run.localization_evaluator("cam", num_examples=2, batch_size=16, wsol_metadata="/meta",
                                           image_root="/images")
    metrics = evaluator(evaluate_test._model(), config, str(tmp_path))
    assert calls == [("/meta", "/images", "/tfds", 16, 224, 256)]
    assert metrics["top1_loc"] == pytest.approx(0.5) and metrics["gt_known_loc"] == pytest.approx(0.75)
    assert (tmp_path / "localization_examples_cam.npz").exists()
    # A smaller image keeps the paper's 256 / 224 resize before the centre crop: 32 * 256 / 224 = 36.6.
    evaluator = run.localization_evaluator("cam", batch_size=16, wsol_metadata="/meta", max_images=3)
    metrics = evaluator(evaluate_test._model(), config.replace(image_size=32), str(tmp_path))
    assert calls[-1] == ("/meta", None, "/tfds", 16, 32, 37)
    assert metrics["num_images"] == 3  # max_images: img0, img1 and img2 (the first of the second batch).


def _metadata(folder):
    return write_metadata(folder, [("val/ILSVRC2012_val_00000001.JPEG", 65, (40, 30), [(10, 3, 29, 26)])])


def test_imagenet_with_a_metadata_folder_passes_the_run_check(tmp_path):
    """imagenet2012 has no boxes of its own in tfds: the metadata folder's stand in for them."""
    config = presets.get_wsol_config("imagenet_vgg_gap", data_dir=str(tmp_path / "tfds"))
    with tfds.testing.mock_data(num_examples=2):  # tfds can read imagenet2012's splits.
        runs = localization.check_wsol(config, str(tmp_path / "w"), ["baseline", "cutmix"], [0],
                                       wsol_metadata=_metadata(tmp_path / "metadata"))
        assert [(r.method, r.seed, r.config.dataset) for r in runs] == [
            ("baseline", 0, "imagenet2012"), ("cutmix", 0, "imagenet2012")]
        # A data set without boxes of its own is still refused.
        with pytest.raises(training.ConfigError, match="dataset='cifar10'") as error:
            localization.check_wsol(config.replace(dataset="cifar10"), str(tmp_path / "w"), ["cutmix"], [0],
                                    wsol_metadata=str(tmp_path / "metadata"))
        assert error.value.name == "dataset"
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("problem, match", [
    (None, "Received: wsol_metadata=None"),
    ("missing folder", "not a folder"),
    ("no localization.txt", "localization.txt"),
    ("bad line", "class_labels.txt, line 1"),
])
def test_imagenet_metadata_is_checked_before_training(tmp_path, problem, match):
    folder = None if problem is None else str(tmp_path / "metadata")
    if problem in ("no localization.txt", "bad line"):
        _metadata(folder)
    if problem == "no localization.txt":
        os.remove(os.path.join(folder, "localization.txt"))
    if problem == "bad line":
        (tmp_path / "metadata" / "class_labels.txt").write_text("val/ILSVRC2012_val_00000001.JPEG,cat")
    config = presets.get_wsol_config("imagenet_resnet50")
    with pytest.raises(training.ConfigError, match=match) as error:
        localization.check_wsol(config, str(tmp_path / "w"), ["cutmix"], [0], wsol_metadata=folder)
    assert error.value.name == "wsol_metadata"
    if problem == "missing folder":
        assert f"wsol_metadata={folder!r}" in str(error.value)


def test_image_root_must_be_a_folder(tmp_path):
    config = presets.get_wsol_config("imagenet_resnet50")
    with pytest.raises(training.ConfigError, match="image_root=") as error:
        localization.check_wsol(config, str(tmp_path / "w"), ["cutmix"], [0],
                                wsol_metadata=_metadata(tmp_path / "metadata"), image_root=str(tmp_path / "no"))
    assert error.value.name == "image_root"



@pytest.mark.parametrize("kwargs,name,match", [
    (dict(seeds=3), "seeds", r"Expected a sequence of distinct ints >= 0\. Received: seeds=3"),
    (dict(num_examples=-1), "num_examples", r"Expected an int >= 0 .*Received: num_examples=-1"),
    (dict(num_examples=2.5), "num_examples", r"Received: num_examples=2\.5"),
    (dict(config=["wsol_demo"]), "config", r"Expected a preset name, a Config or a dict"),
])
def test_run_wsol_arguments_fail_before_anything_is_written(tmp_path, kwargs, name, match):
    args = dict(config="wsol_demo", workdir=str(tmp_path / "w"), methods=["cutmix"], seeds=[0])
    args.update(kwargs)
    with pytest.raises(training.ConfigError, match=match) as error:
        localization.run_wsol(**args)
    assert error.value.name == name and not (tmp_path / "w").exists()


def test_get_wsol_config_names_an_unhashable_preset():
    with pytest.raises(training.ConfigError, match=r"Expected `config` to be one of .*Received: config=\['cub'\]"):
        presets.get_wsol_config(["cub"])
