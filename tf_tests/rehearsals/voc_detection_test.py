"""Rehearsal of the paper's detection command (voc_detection.py's docstring, the README's "Detection"):

    python examples/voc_detection.py --preset=voc --data_dir=DIR --workdir=/tmp/voc \
        --backbones=baseline=/runs/base,mixup=/runs/mixup,cutout=/runs/cutout,cutmix=/runs/cutmix

run as written on tfds mock data for voc/2007 and voc/2012 (what `load_detection("voc/2007+2012")` reads:
both years' train + validation for training, voc/2007 test for testing), with only size flags added
(--steps, --batch_size, --num_eval_images), once on the default strategy and once with --strategy=mirrored
on two logical CPUs. The backbones are in the layouts users have: a classification workdir written by
`training.train_and_evaluate` (what examples/classification.py runs) and `.keras` files of
`keras_cutmix.models.get_model`, tiny (resnet_tiny) to be fast.
"""

import json
import math
import shutil

import pytest

from keras_cutmix import models, training

DOCUMENTED = ["--preset=voc"]  # Then --data_dir (the fixture's), --workdir and --backbones, as the docstring.
SIZE_FLAGS = ["--steps=1", "--batch_size=2", "--num_eval_images=3"]


@pytest.fixture(scope="module")
def backbones(tmp_path_factory):
    """`--backbones` text: baseline is a classification workdir, the others .keras files (both layouts)."""
    root = tmp_path_factory.mktemp("runs")
    config = training.get_config(model="resnet_tiny", epochs=1, steps_per_epoch=1, eval_steps=1, batch_size=4,
                                 train_split="train[:8]", test_split="test[:4]", verbose=0,
                                 data_dir=str(root / "tfds"))
    training.train_and_evaluate(config, str(root / "base"))
    model = models.get_model("resnet_tiny", num_classes=10, input_shape=(32, 32, 3))
    for name in ("mixup", "cutout", "cutmix"):
        model.save(str(root / f"{name}.keras"))
    return (f"baseline={root / 'base'},mixup={root / 'mixup.keras'},cutout={root / 'cutout.keras'},"
            f"cutmix={root / 'cutmix.keras'}")


@pytest.mark.parametrize("strategy, logical_cpus", [(None, 1), ("mirrored", 2)])
def test_documented_voc_command_runs(rehearse, backbones, tmp_path, strategy, logical_cpus):
    workdir = tmp_path / "voc"
    flags = [*DOCUMENTED, f"--workdir={workdir}", f"--backbones={backbones}", *SIZE_FLAGS]
    if strategy:
        flags.append(f"--strategy={strategy}")
    process = rehearse("voc_detection.py", *flags, num_examples=4, logical_cpus=logical_cpus)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-5000:]
    saved = json.loads((workdir / "results.json").read_text())
    assert saved["preset"] == "voc" and sorted(saved["results"]) == ["baseline", "cutmix", "cutout", "mixup"]
    for by_detector in saved["results"].values():
        assert set(by_detector) == {"ssd", "retinanet"}
        for result in by_detector.values():
            assert result["num_images"] == 3 and len(result["ap"]) == 20
            assert math.isfinite(result["map"]) and 0.0 <= result["map"] <= 1.0
    table = (workdir / "results.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| cutmix |")]
    assert len(rows) == 1 and all(cell.strip().replace(".", "").isdigit() for cell in rows[0].split("|")[2:6])
    for name in ("ssd", "retinanet"):
        assert (workdir / f"detections_{name}.png").stat().st_size > 0
        assert (workdir / name / "cutmix" / "checkpoints" / "last.weights.h5").exists()
    assert "VOC07 mAP on voc/2007+2012 test" in process.stdout
    if strategy:  # Both logical CPUs trained.
        assert "MirroredStrategy with devices" in process.stderr and "device:CPU:1" in process.stderr
    shutil.rmtree(workdir)
