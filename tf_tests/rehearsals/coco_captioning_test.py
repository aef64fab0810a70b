"""Rehearsal of examples/coco_captioning.py --preset=coco (the paper's Table A1) on COCO mock data.

The command of the script's docstring and the README, as written, on four ImageNet ResNet-50 classification
workdirs in the layout `examples/classification.py --config=resnet50_imagenet` leaves (config.json and
checkpoints/last.weights.h5; random weights here), with only size flags added: one NIC epoch, beam 3.
The encoder runs at the preset's 224x224 on tfds' mock coco_captions (4 images per Karpathy split).
"""

import json
import os
import re

import pytest

from keras_cutmix import data, training
from keras_cutmix.training import results as results_io
from keras_cutmix.training.train import build_model

METHODS = ("baseline", "mixup", "cutout", "cutmix")


@pytest.fixture
def resnet50_runs(tmp_path):
    """`{method: workdir}` of ImageNet ResNet-50 classification runs as users have them (one weights file)."""
    config = training.get_config("resnet50_imagenet")
    model = build_model(config.replace(weights=None), data.dataset_spec("imagenet2012", image_size=config.image_size))
    weights = tmp_path / "resnet50.weights.h5"
    model.save_weights(str(weights))
    runs = {}
    for method in METHODS:
        runs[method] = tmp_path / "runs" / method
        os.makedirs(runs[method] / "checkpoints")
        results_io.write_json(str(runs[method] / "config.json"), config.replace(method=method).to_dict())
        os.link(weights, runs[method] / "checkpoints" / "last.weights.h5")
    return runs


def test_coco_preset_as_documented(rehearse, resnet50_runs, tmp_path):
    workdir, data_dir = tmp_path / "coco", tmp_path / "tfds"
    backbones = ",".join(f"{m}={resnet50_runs[m]}" for m in METHODS)
    process = rehearse("coco_captioning.py", "--preset=coco", f"--data_dir={data_dir}", f"--workdir={workdir}",
                       f"--backbones={backbones}",
                       "--epochs=1", "--beam_size=3")  # Size flags.
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-5000:]
    assert "Captioning 4 test images (beam 3)" in process.stdout and "4/4" in process.stdout  # Progress bar.

    saved = json.loads((workdir / "results.json").read_text())
    assert saved["preset"] == "coco" and saved["overrides"] == {"epochs": 1}
    assert set(saved["results"]) == {*METHODS, "blind"}
    for scores in saved["results"].values():
        assert set(scores) == {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr"}
        assert all(isinstance(v, float) and 0.0 <= v <= 10.0 for v in scores.values()), scores  # Java: METEOR.
    table = (workdir / "results.md").read_text()
    assert "## Captioning: coco_captions, beam 3" in table
    for method in (*METHODS, "blind"):
        row = next(line for line in table.splitlines() if line.startswith(f"| {method} |"))
        cells = [c.strip() for c in row.split("|")[2:9]]  # BLEU-1..4, METEOR, ROUGE-L, CIDEr.
        assert all(re.fullmatch(r"\d+\.\d", c) for c in cells), row
    assert (workdir / "captions.png").stat().st_size > 10_000
