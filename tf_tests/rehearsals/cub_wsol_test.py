"""Rehearsals of the paper's localization commands in examples/cub_wsol.py's docstring (Table 9).

Each test takes its command from the docstring itself (so the two cannot drift apart), swaps the paths
(--workdir, --data_dir, --weights, --wsol_metadata) for files made here, adds size flags only, and runs it on
tfds mock data through the `rehearse` fixture (conftest.py), unpatched, under `--strategy=mirrored` on two
logical CPUs as written. ImageNet's boxes come from a wsolevaluation metadata folder in the real layout,
written for the mock validation images (their file names, labels and sizes).

Weights: the documented `--weights=imagenet` gets its offline stand-ins, made in the real layouts: for the
CUB presets a keras-hub ResNet-50 preset folder (`save_to_preset`, with the image converter of keras-hub's
ImageNet presets) and the VGG-16 notop file that Keras writes (`keras.applications.VGG16(include_top=False)
.save_weights`), checked in the log; for the ImageNet presets a 1000-class whole-model `.weights.h5` file of
the same model (an ImageNet run of classification.py), whose head starts anew as in the paper's recipe.

Sizes: 32x32 images, one training step, one test batch, the 4 mock test images, and one method per command
(--methods; the four rehearsals cover the four methods): a run costs ~10 s (VGG-GAP) to ~40-60 s
(ResNet-50, its compiled training step) of two CPU cores, and the docstring's commands run all four. VGG-GAP
trains on batches of 2 (one image per replica); ResNet-50 on 4, as one image per replica drives its
BatchNorm statistics to NaN at 32x32.
"""

import ast
import json
import math
import os
import pathlib
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_cutmix import models
from wsol_metadata_files import write_metadata  # tf_tests/

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "examples", "cub_wsol.py")
NUM_EXAMPLES = 4  # Mock examples per split.
SIZE_FLAGS = ["--epochs=1", "--steps_per_epoch=1", "--eval_steps=1", "--image_size=32",
              f"--max_eval_images={NUM_EXAMPLES}"]
COLUMNS = ("top1_loc", "gt_known_loc", "max_box_acc_v2", "top1_cls_error")


def documented_flags(preset):
    """The flags of the docstring's `python examples/cub_wsol.py --config=<preset> ...` command."""
    with open(SCRIPT) as f:
        text = ast.get_docstring(ast.parse(f.read())).replace("\\\n", " ")
    commands = [line.split()[2:] for line in text.splitlines()
                if line.split()[:2] == ["python", "examples/cub_wsol.py"] and f"--config={preset}" in line.split()]
    assert len(commands) == 1, f"Expected one documented command of --config={preset}. Received: {commands}"
    return commands[0]


def with_paths(flags, **paths):
    """`flags` with the value of each `--name=` in `paths` replaced (or the flag dropped for None)."""
    result, replaced = [], set()
    for flag in flags:
        name = flag[2:].split("=", 1)[0]
        if name in paths:
            replaced.add(name)
            if paths[name] is not None:
                result.append(f"--{name}={paths[name]}")
        else:
            result.append(flag)
    assert replaced == set(paths), f"Expected the documented command to give {sorted(paths)}: {flags}"
    return result


def mock_imagenet_metadata(folder, data_dir):
    """A wsolevaluation metadata folder (`val/<file name>` paths) for the mock imagenet2012 validation images.

    Two boxes per image (corners included): the lower-right three quarters and the upper-left third.
    """
    images = []
    with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
        ds = tfds.load("imagenet2012", split="validation", data_dir=data_dir,
                       decoders={"image": tfds.decode.SkipDecoding()})
        for example in ds:
            height, width = tf.io.decode_image(example["image"], channels=3).shape[:2]
            boxes = [(width // 4, height // 4, width - 1, height - 1), (0, 0, width // 3, height // 3)]
            images.append((f"val/{example['file_name'].numpy().decode()}", int(example["label"]),
                           (width, height), boxes))
    assert len(images) == NUM_EXAMPLES
    return write_metadata(folder, images)


TORCHVISION_MEAN = np.array([0.485, 0.456, 0.406])
TORCHVISION_STD = np.array([0.229, 0.224, 0.225])


def resnet50_preset(folder):
    """A keras-hub ResNet-50 preset folder as `save_to_preset` writes it (random weights)."""
    import keras_hub  # pylint: disable=g-import-not-at-top

    keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[7], stackwise_num_filters=[64, 128, 256, 512],
        stackwise_num_blocks=[3, 4, 6, 3], stackwise_num_strides=[1, 2, 2, 2], block_type="bottleneck_block",
        use_pre_activation=False, image_shape=(None, None, 3)).save_to_preset(str(folder))
    keras_hub.layers.ResNetImageConverter(
        image_size=(224, 224), scale=(1 / (255 * TORCHVISION_STD)).tolist(),
        offset=(-TORCHVISION_MEAN / TORCHVISION_STD).tolist()).save_to_preset(str(folder))
    return str(folder)


def vgg16_notop(path):
    """The notop file Keras writes for VGG-16 (random weights)."""
    keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(str(path))
    return str(path)


def whole_model_weights(path, model):
    """A whole-model `.weights.h5` file of `model` with ImageNet's 1000 classes (random weights)."""
    models.get_model(model, num_classes=1000, input_shape=(32, 32, 3)).save_weights(path)
    return str(path)


def check_outputs(workdir, methods, num_test_images):
    """Exit 0 checked by the caller; here: results.json / results.md hold finite numbers for every method."""
    results = json.loads((workdir / "results.json").read_text())
    assert list(results["methods"]) == methods
    for method in methods:
        mean = results["methods"][method]["mean"]
        for key in COLUMNS:
            assert isinstance(mean[key], float) and 0 <= mean[key] <= 100, (method, key, mean[key])
        run = results["methods"][method]["seeds"]["0"]
        assert run["num_images"] + run["num_skipped"] == num_test_images and run["num_images"] >= 1, run
        history = json.loads((workdir / method / "seed_0" / "history.json").read_text())
        assert len(history) == 1 and all(math.isfinite(history[0][k]) for k in ("loss", "val_loss")), history
    number = r" (\d+\.\d\d) \|"
    rows = [line for line in (workdir / "results.md").read_text().splitlines()
            if re.match(rf"\| ({'|'.join(methods)}) \|{number * 4}", line)]
    assert [row.split(" | ")[0][2:] for row in rows] == methods, rows
    assert (workdir / "cam_methods.png").is_file()


def run_and_check(rehearse, flags, method, batch_size, num_test_images):
    extra = [f"--batch_size={batch_size}", f"--methods={method}"]
    process = rehearse("cub_wsol.py", *flags, *SIZE_FLAGS, *extra, num_examples=NUM_EXAMPLES, logical_cpus=2)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-5000:]
    workdir = next(f.split("=", 1)[1] for f in flags if f.startswith("--workdir="))
    check_outputs(pathlib.Path(workdir), [method], num_test_images)
    return process


@pytest.mark.parametrize("preset, model, layers, batch_size, method", [
    ("cub_vgg_gap", "vgg_gap", 13, 2, "mixup"),  # VGG-16's 13 convs.
    ("cub_resnet50", "resnet50_last_stride1", 106, 4, "cutmix"),  # 53 convs + 53 BatchNorms.
])
def test_cub(rehearse, tmp_path, preset, model, layers, batch_size, method):
    if model == "vgg_gap":
        weights = vgg16_notop(tmp_path / "vgg16_notop.weights.h5")
    else:
        weights = resnet50_preset(tmp_path / "resnet_50_imagenet")
    flags = with_paths(documented_flags(preset), workdir=tmp_path / "w", data_dir=tmp_path / "tfds",
                       weights=weights)
    assert "--strategy=mirrored" in flags and "--weights=imagenet" in documented_flags(preset)
    process = run_and_check(rehearse, flags, method, batch_size, NUM_EXAMPLES)
    assert f"Loaded {weights} into {layers} layers of {model}" in process.stderr  # The ImageNet weights.


@pytest.mark.parametrize("preset, model, batch_size, method", [
    ("imagenet_vgg_gap", "vgg_gap", 2, "cutout"),
    ("imagenet_resnet50", "resnet50_last_stride1", 4, "baseline"),
])
def test_imagenet(rehearse, tmp_path, preset, model, batch_size, method):
    data_dir = tmp_path / "tfds"
    metadata = mock_imagenet_metadata(tmp_path / "wsolevaluation" / "metadata" / "ILSVRC" / "test", data_dir)
    flags = with_paths(documented_flags(preset), workdir=tmp_path / "w", data_dir=data_dir,
                       weights=whole_model_weights(tmp_path / f"{model}_imagenet.weights.h5", model),
                       wsol_metadata=metadata)
    assert "--strategy=mirrored" in flags
    process = run_and_check(rehearse, flags, method, batch_size, NUM_EXAMPLES)
    results = json.loads((tmp_path / "w" / "results.json").read_text())
    # Every metadata image was evaluated with its boxes (none skipped), under a progress bar (Keras's own
    # bars count steps).
    assert results["methods"][method]["seeds"]["0"]["num_images"] == NUM_EXAMPLES
    assert "/batch" in process.stdout
