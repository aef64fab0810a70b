"""Issue 20's miniature, the user's path: examples/pretrain_backbone.py as its docstring gives it (size flags
added), its notop file as `--weights` of `examples/cub_wsol.py --config=wsol_embedded`, and `--install`; `make demo`'s command as written, on the
shipped weights."""

import json
import os
import re
import subprocess
import sys

import pytest

from keras_cutmix import models
from keras_cutmix.localization import presets, pretrain
from keras_cutmix.models import cam_vgg

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZE_FLAGS = ["--epochs=1", "--steps_per_epoch=2", "--eval_steps=1"]


@pytest.fixture(scope="module")
def shapes_dir(tiny_shapes_dir):
    return tiny_shapes_dir


def _script(name, *flags):
    process = subprocess.run([sys.executable, os.path.join(REPO, "examples", name), *flags], capture_output=True,
                             text=True, cwd=REPO, timeout=600, env=dict(os.environ, PYTHONPATH=REPO))
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout


@pytest.fixture(scope="module")
def pretrained(shapes_dir, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("pretrain"))
    out = _script("pretrain_backbone.py", f"--workdir={workdir}", f"--data_dir={shapes_dir}", "--batch_size=8",
                  *SIZE_FLAGS)
    return workdir, out


def test_pretrain_script_writes_a_notop_file_of_the_trained_model(pretrained, shapes_dir):
    workdir, out = pretrained
    notop = os.path.join(workdir, pretrain.NOTOP_FILE)
    assert "synthetic_shapes top-1 error after 1 epochs (seed 0)" in out and notop in out
    assert models.check_weights("cam_vgg", notop) == "backbone_file"
    config = json.load(open(os.path.join(workdir, "config.json")))
    assert {k: config[k] for k in ("dataset", "model", "method", "image_size", "augmentation")} == {
        "dataset": "synthetic_shapes", "model": "cam_vgg", "method": "baseline", "image_size": 128,
        "augmentation": "resize_crop"}
    # The notop file holds the finished run's weights: every layer of its last checkpoint but the head.
    trained = models.get_model("cam_vgg", num_classes=10, input_shape=(128, 128, 3),
                               weights=os.path.join(workdir, "checkpoints", "last.weights.h5"))
    loaded = models.get_model("cam_vgg", num_classes=10, input_shape=(128, 128, 3), weights=notop)
    for layer in trained.layers:
        if layer.weights and layer.name != "head":
            for a, b in zip(layer.get_weights(), loaded.get_layer(layer.name).get_weights()):
                assert (a == b).all(), layer.name


def test_install_replaces_the_shipped_file(pretrained, shapes_dir, monkeypatch, tmp_path):
    workdir, _ = pretrained
    target = tmp_path / "weights" / "shipped.weights.h5"
    monkeypatch.setattr(cam_vgg, "PRETRAINED_FILE", str(target))
    result = pretrain.pretrain_backbone(workdir, install=True, data_dir=shapes_dir, epochs=1, batch_size=8,
                                        steps_per_epoch=2,
                                        eval_steps=1, verbose=0)  # The finished run: reused, not retrained.
    assert target.read_bytes() == open(result["notop"], "rb").read()


def test_the_miniature_fine_tunes_from_the_notop_file(pretrained, tiny_birds_dir, tmp_path):
    workdir, _ = pretrained
    notop = os.path.join(workdir, pretrain.NOTOP_FILE)
    _script("cub_wsol.py", "--config=wsol_embedded", "--seeds=0", f"--workdir={tmp_path}", "--methods=baseline",
            f"--weights={notop}", f"--data_dir={tiny_birds_dir}", "--batch_size=8", *SIZE_FLAGS)
    results = json.load(open(tmp_path / "results.json"))
    baseline = results["methods"]["baseline"]["seeds"]["0"]
    assert baseline["num_images"] == 12 and 0 <= baseline["pxap"] <= 1
    assert set(baseline["object_coverage"]) == {"object_covered", "outside_object"}
    header = next(line for line in open(tmp_path / "results.md") if line.startswith("| method"))
    assert "PxAP" in header and "object covered" in header
    run_config = json.load(open(tmp_path / "baseline" / "seed_0" / "config.json"))
    assert run_config["weights"] == notop and run_config["lr_multipliers"] == {"head": 10.0}


def test_make_demo_runs_as_written_on_the_shipped_backbone(tiny_birds_dir, tmp_path):
    """The Makefile's demo command, only size flags (and the small build of its data set, whose 12 test images
    are all of `--test_split`) added."""
    recipe = re.search(r"^demo:.*\n\t\$\(BIN\)/python (.+)$", open(os.path.join(REPO, "Makefile")).read(), re.M)
    script, *flags = recipe.group(1).replace("$(WORKDIR)", str(tmp_path)).split()
    _script(os.path.basename(script), *flags, f"--data_dir={tiny_birds_dir}", "--test_split=test", "--batch_size=8",
            *SIZE_FLAGS)
    results = json.load(open(tmp_path / "results.json"))
    assert results["preset"] == "wsol_demo" and list(results["methods"]) == ["baseline", "cutmix"]
    for method in ("baseline", "cutmix"):
        run_config = json.load(open(tmp_path / method / "seed_0" / "config.json"))
        assert run_config["weights"] == "synthetic_shapes" and run_config["model"] == "cam_vgg"
        assert (tmp_path / f"cam_{method}.png").exists()
    assert (tmp_path / "cam_methods.png").exists()
    table = open(tmp_path / "results.md").read()
    header = next(line for line in table.splitlines() if line.startswith("| method"))
    assert header.split(" | ")[1:] == ["top-1 Loc", "GT-known Loc", "MaxBoxAccV2", "top-1 cls error", "PxAP",
                                       "object covered", "CAM outside object",
                                       "paper top-1 Loc, CUB-200-2011, VGG-GAP (Table 9) |"]
    cutmix_row = next(line for line in table.splitlines() if line.startswith("| cutmix"))
    assert cutmix_row.rstrip(" |").endswith("52.53") and "best centred box" in table


@pytest.mark.parametrize("name", ["wsol_embedded", "wsol_scratch"])
def test_the_embedded_presets_commands_run_as_written(name, tiny_birds_dir, tmp_path):
    """Each embedded preset's documented command (README, cub_wsol.py), size flags added: one seed, two
    methods, one short epoch on the small build of synthetic_birds."""
    command = presets.WSOL_PRESETS[name].command.replace("/tmp/", f"{tmp_path}/")
    script, *flags = command.split()[1:]
    _script(os.path.basename(script), *flags, "--seeds=0", "--methods=baseline,cutmix", f"--data_dir={tiny_birds_dir}",
            "--test_split=test", "--batch_size=8", *SIZE_FLAGS)
    workdir = next(f.split("=", 1)[1] for f in flags if f.startswith("--workdir="))
    results = json.load(open(os.path.join(workdir, "results.json")))
    assert results["preset"] == name and list(results["methods"]) == ["baseline", "cutmix"]
    run_config = json.load(open(os.path.join(workdir, "cutmix", "seed_0", "config.json")))
    expected = presets.get_wsol_config(name)
    assert (run_config["model"], run_config["weights"], run_config["lr"]) == (expected.model, expected.weights,
                                                                              expected.lr)
    assert os.path.exists(os.path.join(workdir, "cam_methods.png"))
