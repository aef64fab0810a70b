"""Rehearsals of robustness.py and ood.py on the models of earlier real-data classification runs.

The documented commands (the scripts' docstrings, README "Robustness and out-of-distribution detection")
run as written with only size flags added (`--num_images`, `--num_pairs`, `--pgd_steps`,
`--num_ood_images`, `--batch_size`), on tfds mock data with the real data sets' features: `--workdirs` name four
classification workdirs written by `training.train_and_evaluate` (what examples/classification.py runs)
from the paper's presets on CIFAR-100 and ImageNet, with only the size changed (small_cnn, one step, and 32x32
for ImageNet); ood.py's `--tfds_sets=svhn_cropped,cifar10` are mocked too, and its `--folder_sets` are
folders in ODIN's layout (`Imagenet/test/*.jpg`, `LSUN_resize/test/*.jpg`, 32x32 JPEGs) made here.
Each checks the exit status, the numbers in results.json / results.md, and the progress bars in the output.
"""

import json
import math
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import training

METHODS = training.METHODS
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PRESETS = {"cifar100": ("pyramidnet200_cifar100", {}), "imagenet2012": ("resnet50_imagenet", {"image_size": 32})}


@pytest.fixture(scope="module", params=sorted(PRESETS))
def runs(request, tmp_path_factory):
    """`(dataset, {method: workdir})`: four tiny classification runs of the data set's paper preset."""
    dataset = request.param
    preset, sizes = PRESETS[dataset]
    root = tmp_path_factory.mktemp(f"runs_{dataset}")
    workdirs = {}
    with tfds.testing.mock_data(num_examples=4):
        for method in METHODS:
            config = training.get_config(preset, method=method, model="small_cnn", epochs=1, steps_per_epoch=1,
                                         eval_steps=1, batch_size=2, data_dir=str(root / "tfds"),
                                         **sizes)
            workdirs[method] = str(root / method)
            training.train_and_evaluate(config, workdirs[method])
    return dataset, workdirs


def odin_folder(path, count=3):
    """ODIN's layout: `path/test/<i>.jpg`, 32x32 RGB JPEGs."""
    (path / "test").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        (path / "test" / f"{i}.jpg").write_bytes(tf.io.encode_jpeg(image).numpy())
    return path


def table_numbers(markdown, method):
    """The numbers of `method`'s first row in a Markdown table."""
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {method} "))
    return [float(n) for n in re.findall(r"-?\d+\.\d+", row)]


def check_outputs(workdir, process, keys):
    assert process.returncode == 0, process.stderr[-3000:]
    out = ANSI.sub("", process.stdout)
    assert "Loading 4 test images of " in out and re.search(r"\b4/4\b", out), out[-3000:]  # Progress bars.
    results = json.loads((workdir / "results.json").read_text())["results"]
    markdown = (workdir / "results.md").read_text()
    for method in METHODS:
        for key in keys:
            value = results[method]
            for part in key.split("/"):
                value = value[part]
            assert math.isfinite(value) and 0 <= value <= 100, (method, key, value)
        numbers = table_numbers(markdown, method)
        assert numbers and all(math.isfinite(n) for n in numbers), markdown
    return results, markdown


def test_robustness_on_classification_runs(rehearse, tmp_path, runs):
    dataset, workdirs = runs
    command = ["--workdir=" + str(tmp_path / "robustness"),
               "--workdirs=" + ",".join(f"{m}={workdirs[m]}" for m in ("baseline", "mixup", "cutout", "cutmix"))]
    process = rehearse("robustness.py", *command, "--num_images=4", "--num_pairs=2", "--pgd_steps=1",
                        "--batch_size=3")
    results, markdown = check_outputs(tmp_path / "robustness", process,
                                      ("clean_top1_acc", "fgsm_top1_acc", "pgd_top1_acc"))
    assert ("paper" in markdown) == (dataset == "imagenet2012")  # Table 11's paper column on ImageNet.
    assert all(results[m]["num_images"] == 4 for m in METHODS)
    assert re.search(r"Robustness: 4 images, 2 pairs, (\d+) model passes", ANSI.sub("", process.stdout))
    assert (tmp_path / "robustness" / "figure5.png").stat().st_size > 0


def test_ood_on_classification_runs(rehearse, tmp_path, runs):
    dataset, workdirs = runs
    imagenet, lsun = odin_folder(tmp_path / "data" / "Imagenet"), odin_folder(tmp_path / "data" / "LSUN_resize")
    command = ["--workdir=" + str(tmp_path / "ood_cifar"),
               "--workdirs=" + ",".join(f"{m}={workdirs[m]}" for m in ("baseline", "mixup", "cutout", "cutmix")),
               "--tfds_sets=svhn_cropped,cifar10", f"--folder_sets=tin_crop={imagenet},lsun_resize={lsun}",
               "--data_dir=" + str(tmp_path / "tensorflow_datasets")]
    process = rehearse("ood.py", *command, "--num_images=4", "--num_ood_images=3", "--batch_size=3")
    results, markdown = check_outputs(tmp_path / "ood_cifar", process,
                                      ("ece", "mean/auroc", "mean/tnr_at_tpr95", "mean/detection_accuracy"))
    assert ("paper" in markdown) == (dataset == "cifar100")  # Table 12's paper means on CIFAR-100.
    counts = {name: s["num_images"] for name, s in results["cutmix"]["sets"].items()}
    assert counts == {"uniform": 3, "gaussian": 3, "svhn_cropped": 4, "cifar10": 4, "tin_crop": 3, "lsun_resize": 3}
    for name in counts:
        assert (tmp_path / "ood_cifar" / f"roc_{name}.png").stat().st_size > 0
