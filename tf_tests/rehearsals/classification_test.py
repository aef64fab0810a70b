"""Rehearsals of the paper's classification commands (README "Classification", examples/classification.py).

Each runs the documented command as written, with only size flags added (one epoch of one step, one test
batch, a batch of 2 or 4, and for ImageNet 32x32 images), on tfds mock data with the real data set's
features. ImageNet runs `--strategy=mirrored` on 2 logical CPUs (2 replicas), a scaled batch of 4 in place of
the documented 256; CIFAR-100's runs it on one device. The documented way to time a preset (`--epochs=1
--steps_per_epoch=5 --eval_steps=1`, then read `epoch_time_s` in history.json) is what the size flags do.
"""

import json
import math
import re

import pytest

SIZE = ["--epochs=1", "--steps_per_epoch=1", "--eval_steps=1"]

# (README's command, size flags, logical CPUs).
COMMANDS = {
    "pyramidnet200_cifar100": (
        ["--config=pyramidnet200_cifar100", "--method=cutmix", "--workdir={w}/pyramidnet_cutmix",
         "--data_dir={w}/tensorflow_datasets", "--strategy=mirrored"],
        SIZE + ["--batch_size=2"], 1),
    "resnet50_imagenet": (
        ["--config=resnet50_imagenet", "--method=cutmix", "--workdir={w}/resnet50_cutmix",
         "--data_dir={w}/tensorflow_datasets", "--strategy=mirrored"],
        SIZE + ["--batch_size=4", "--image_size=32"], 2),
}


def check_tables(workdir, method):
    """results.json and results.md hold finite error numbers for `method`."""
    results = json.loads((workdir / "results.json").read_text())[method]
    for key in ("top1_error_best", "top5_error_best", "top1_error_final", "top5_error_final"):
        assert 0.0 <= results[key] <= 100.0, (key, results)
    row = next(line for line in (workdir / "results.md").read_text().splitlines() if line.startswith(f"| {method} "))
    numbers = [float(n) for n in re.findall(r"\d+\.\d+", row)]
    assert len(numbers) >= 4 and all(math.isfinite(n) for n in numbers), row


@pytest.mark.parametrize("preset", sorted(COMMANDS))
def test_paper_command(rehearse, tmp_path, preset):
    command, size, cpus = COMMANDS[preset]
    flags = [flag.format(w=tmp_path) for flag in command] + size
    process = rehearse("classification.py", *flags, logical_cpus=cpus)
    assert process.returncode == 0, process.stderr[-3000:]
    workdir = tmp_path / command[2].split("/")[-1]
    check_tables(workdir, "cutmix")
    config = json.loads((workdir / "config.json").read_text())
    assert (config["dataset"], config["strategy"]) == (
        {"pyramidnet200_cifar100": "cifar100", "resnet50_imagenet": "imagenet2012"}[preset], "mirrored")
    history = json.loads((workdir / "history.json").read_text())
    assert len(history) == 1 and history[0]["epoch_time_s"] > 0
    if cpus > 1:  # Both logical devices trained: MirroredStrategy said so.
        assert re.search(r"MirroredStrategy with devices \([^)]*CPU:0[^)]*CPU:1", process.stderr), process.stderr[-3000:]
