"""Rehearsal: examples/cub_wsol.py's CUB commands (Table 9) started from ImageNet weights with one flag.

    python examples/cub_wsol.py --config=cub_resnet50 --weights=IMAGENET_WEIGHTS \\
        --workdir=/tmp/cub_resnet50 --strategy=mirrored --data_dir=/data/tensorflow_datasets
    python examples/cub_wsol.py --config=cub_vgg_gap --weights=IMAGENET_WEIGHTS \\
        --workdir=/tmp/cub_vgg_gap --strategy=mirrored --data_dir=/data/tensorflow_datasets

With internet, IMAGENET_WEIGHTS is `imagenet`; here --weights gets its offline stand-ins, made in the real
layouts: a keras-hub ResNet-50 preset folder (`save_to_preset`, with the image converter of keras-hub's
ImageNet presets) and the VGG-16 notop file that Keras writes
(`keras.applications.VGG16(include_top=False).save_weights`). Only size flags are added (32x32 images, one
training step, one test batch, the 4 mock test images, one method), on tfds mock data through the `rehearse`
fixture, unpatched, under --strategy=mirrored on two logical CPUs as written. ResNet-50 trains on batches of
4 (2 per replica: one image per replica drives its BatchNorm statistics to NaN at 32x32).
"""

import json
import math

import keras
import numpy as np
import pytest

NUM_EXAMPLES = 4  # Mock examples per split.
SIZE_FLAGS = ["--epochs=1", "--steps_per_epoch=1", "--eval_steps=1", "--image_size=32",
              f"--max_eval_images={NUM_EXAMPLES}"]
COLUMNS = ("top1_loc", "gt_known_loc", "max_box_acc_v2", "top1_cls_error")
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


@pytest.mark.parametrize("preset, model, layers, batch_size, method", [
    ("cub_resnet50", "resnet50_last_stride1", 106, 4, "cutmix"),  # 53 convs + 53 BatchNorms.
    ("cub_vgg_gap", "vgg_gap", 13, 2, "baseline"),  # VGG-16's 13 convs.
])  # fmt: skip
def test_cub_from_imagenet_weights(rehearse, tmp_path, preset, model, layers, batch_size, method):
    if model == "vgg_gap":
        weights = vgg16_notop(tmp_path / "vgg16_notop.weights.h5")
    else:
        weights = resnet50_preset(tmp_path / "resnet_50_imagenet")
    workdir = tmp_path / "w"
    flags = [f"--config={preset}", f"--weights={weights}", f"--workdir={workdir}", "--strategy=mirrored",
             f"--data_dir={tmp_path / 'tfds'}"]
    process = rehearse("cub_wsol.py", *flags, *SIZE_FLAGS, f"--batch_size={batch_size}", f"--methods={method}",
                       num_examples=NUM_EXAMPLES, logical_cpus=2)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-5000:]
    assert f"Loaded {weights} into {layers} layers of {model}" in process.stderr  # The ImageNet weights.
    results = json.loads((workdir / "results.json").read_text())
    mean = results["methods"][method]["mean"]
    for key in COLUMNS:
        assert isinstance(mean[key], float) and 0 <= mean[key] <= 100, (key, mean[key])
    history = json.loads((workdir / method / "seed_0" / "history.json").read_text())
    assert len(history) == 1 and all(math.isfinite(history[0][k]) for k in ("loss", "val_loss")), history
    row = next(line for line in (workdir / "results.md").read_text().splitlines()
               if line.startswith(f"| {method} |"))
    assert len([cell for cell in row.split("|") if cell.strip().replace(".", "").isdigit()]) >= 4, row
