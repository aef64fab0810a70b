"""Pretrained weights in the layouts users have, made here (nothing is downloaded).

keras-hub preset folders (`save_to_preset`), timm folders (`config.json` + `model.safetensors`), the
VGG-16 notop files Keras writes, a 1000-class whole-model file of ours, a workdir of
examples/classification.py. Each test compares the loaded model's features with a reference computed
from the source weights without our loader (the source model itself, or a NumPy torchvision forward), so
it fails if loading is skipped, and checks that the head starts fresh where the class count differs.
"""

import functools
import json
import logging
import shutil

import h5py
import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds
from keras.src.legacy.saving import legacy_h5_format

from keras_cutmix import models, training
from keras_cutmix.models import vgg_gap

TORCHVISION_MEAN = np.array([0.485, 0.456, 0.406])  # timm's IMAGENET_DEFAULT_MEAN / _STD (0-1 scale).
TORCHVISION_STD = np.array([0.229, 0.224, 0.225])
SHAPE = (37, 29, 3)  # Odd sizes: every padding and stride shows.
BLOCKS, WIDTHS = (3, 4, 6, 3), (64, 128, 256, 512)
# torchvision's resnet50(), as `timm.create_model("resnet50").pretrained_cfg` describes tv_in1k.
TIMM_CONFIG = {
    "architecture": "resnet50", "num_classes": 1000, "num_features": 2048, "global_pool": "avg",
    "pretrained_cfg": {
        "tag": "tv_in1k", "input_size": [3, 224, 224], "interpolation": "bilinear", "crop_pct": 0.875,
        "crop_mode": "center", "mean": TORCHVISION_MEAN.tolist(), "std": TORCHVISION_STD.tolist(),
        "num_classes": 1000, "pool_size": [7, 7], "first_conv": "conv1", "classifier": "fc"},
}  # fmt: skip
RESNET50_HUB = dict(input_conv_filters=[64], input_conv_kernel_sizes=[7], stackwise_num_filters=list(WIDTHS),
                    stackwise_num_blocks=list(BLOCKS), stackwise_num_strides=[1, 2, 2, 2],
                    block_type="bottleneck_block", use_pre_activation=False)


def pixels(shape=SHAPE, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (2, *shape)).astype("uint8")


def features(model, x, layer=None):
    layer = layer or models.cam_feature_layer_name(model)
    return np.asarray(keras.Model(model.input, model.get_layer(layer).output)(x, training=False), np.float64)


def assert_close(got, expected):
    """float32 through up to 53 convs against float64 or float32: relative to the largest value."""
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4 * np.abs(expected).max())


def assert_fresh_head(model):
    """Keras's Dense init: zero bias, Glorot-uniform kernel (bound sqrt(6 / (fan_in + fan_out)))."""
    kernel, bias = (np.asarray(w, np.float64) for w in model.get_layer("head").get_weights())
    np.testing.assert_array_equal(bias, 0.0)
    bound = np.sqrt(6.0 / sum(kernel.shape))
    assert np.abs(kernel).max() <= bound and abs(kernel.std() / (bound / np.sqrt(3)) - 1) < 0.1


def randomize_batch_norm(model, seed):
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.gamma.shape
            layer.set_weights([rng.uniform(0.5, 1.5, shape), rng.normal(0, 0.2, shape),
                               rng.normal(0, 0.2, shape), rng.uniform(0.5, 2.0, shape)])


# torchvision's ResNet-50 in NumPy: the reference of the ResNet tests, on a state dict in torch's names and
# layouts (timm's resnet50 has torchvision's names).
def torch_state_dict(seed):
    """Random weights of torchvision's `resnet50()`: conv kernels [out, in, kh, kw], BatchNorm, fc."""
    rng = np.random.default_rng(seed)
    state = {}

    def conv_bn(conv, bn, cin, cout, k):
        state[f"{conv}.weight"] = rng.normal(0, np.sqrt(2 / (k * k * cout)), (cout, cin, k, k))
        state.update({f"{bn}.weight": rng.uniform(0.5, 1.5, cout), f"{bn}.bias": rng.normal(0, 0.2, cout),
                      f"{bn}.running_mean": rng.normal(0, 0.2, cout),
                      f"{bn}.running_var": rng.uniform(0.5, 2.0, cout)})

    conv_bn("conv1", "bn1", 3, 64, 7)
    cin = 64
    for stage, (blocks, width) in enumerate(zip(BLOCKS, WIDTHS)):
        for block in range(blocks):
            p = f"layer{stage + 1}.{block}"
            for i, (a, b, k) in enumerate([(cin, width, 1), (width, width, 3), (width, 4 * width, 1)], 1):
                conv_bn(f"{p}.conv{i}", f"{p}.bn{i}", a, b, k)
            if block == 0:
                conv_bn(f"{p}.downsample.0", f"{p}.downsample.1", cin, 4 * width, 1)
            cin = 4 * width
    state.update({"fc.weight": rng.normal(0, 0.01, (1000, 2048)), "fc.bias": rng.normal(0, 0.1, 1000)})
    return {key: value.astype("float32") for key, value in state.items()}


def np_conv(x, weight, stride=1, pad=0):
    """torch.nn.Conv2d(bias=False) with a torch-layout `weight`, on channels-last `x`."""
    kernel = weight.transpose(2, 3, 1, 0).astype(np.float64)
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh, kw = kernel.shape[:2]
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for i in range(kh):
        for j in range(kw):
            rows, cols = slice(i, i + stride * (oh - 1) + 1, stride), slice(j, j + stride * (ow - 1) + 1, stride)
            out += x[:, rows, cols] @ kernel[i, j]
    return out


def torchvision_features(state, x, last_stride):
    """torchvision's ResNet-50 in eval mode up to layer4, float64, on RGB pixels in [0, 255]."""
    def bn(x, name):
        s = {k: state[f"{name}.{k}"].astype(np.float64) for k in ("weight", "bias", "running_mean", "running_var")}
        return (x - s["running_mean"]) / np.sqrt(s["running_var"] + 1e-5) * s["weight"] + s["bias"]

    relu = functools.partial(np.maximum, 0.0)
    x = (x.astype(np.float64) / 255 - TORCHVISION_MEAN) / TORCHVISION_STD
    x = relu(bn(np_conv(x, state["conv1.weight"], 2, 3), "bn1"))
    x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)  # MaxPool2d(3, 2, padding=1)
    oh, ow = (x.shape[1] - 3) // 2 + 1, (x.shape[2] - 3) // 2 + 1
    x = np.max([x[:, i : i + 2 * oh - 1 : 2, j : j + 2 * ow - 1 : 2] for i in range(3) for j in range(3)], axis=0)
    for stage, blocks in enumerate(BLOCKS):
        for block in range(blocks):
            p = f"layer{stage + 1}.{block}"
            stride = (1, 2, 2, last_stride)[stage] if block == 0 else 1
            out = relu(bn(np_conv(x, state[f"{p}.conv1.weight"]), f"{p}.bn1"))
            out = relu(bn(np_conv(out, state[f"{p}.conv2.weight"], stride, 1), f"{p}.bn2"))
            out = bn(np_conv(out, state[f"{p}.conv3.weight"]), f"{p}.bn3")
            if block == 0:
                x = bn(np_conv(x, state[f"{p}.downsample.0.weight"], stride), f"{p}.downsample.1")
            x = relu(out + x)
    return x


def keras_to_torch(model):
    """The state dict of a `resnet50` model in torchvision's names and layouts (for the reference)."""
    state = {}
    for layer in model.layers:
        name = {"conv1_conv": "conv1", "conv1_bn": "bn1"}.get(layer.name, layer.name)
        if name.startswith("stack") and layer.weights:  # stack{s}_block{b}_{i}_{conv|bn}
            stage, block, i, kind = name[5:].replace("block", "").split("_")
            base = f"layer{int(stage) + 1}.{block}."
            name = base + (f"downsample.{int(kind == 'bn')}" if i == "0" else f"{kind}{i}")
        if isinstance(layer, keras.layers.Conv2D):
            state[f"{name}.weight"] = np.asarray(layer.kernel).transpose(3, 2, 0, 1)
        elif isinstance(layer, keras.layers.BatchNormalization):
            for key, value in zip(("weight", "bias", "running_mean", "running_var"), layer.get_weights()):
                state[f"{name}.{key}"] = value
    assert len(state) == 53 * 5  # Every conv and BatchNorm of ResNet-50.
    return state


@pytest.fixture(scope="module")
def hub_preset(tmp_path_factory):
    """A keras-hub ResNet-50 preset folder written by keras-hub (`save_to_preset`), with the image converter
    of keras-hub's ImageNet presets (torchvision's mean and std), and the source backbone."""
    import keras_hub  # pylint: disable=g-import-not-at-top

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.ResNetBackbone(**RESNET50_HUB, image_shape=(None, None, 3))
    randomize_batch_norm(backbone, seed=0)
    folder = str(tmp_path_factory.mktemp("hub") / "resnet_50_imagenet")
    backbone.save_to_preset(folder)
    keras_hub.layers.ResNetImageConverter(
        image_size=(224, 224), scale=(1 / (255 * TORCHVISION_STD)).tolist(),
        offset=(-TORCHVISION_MEAN / TORCHVISION_STD).tolist()).save_to_preset(folder)
    return folder, backbone


def test_keras_hub_preset_folder_loads_into_resnet50(hub_preset):
    folder, source = hub_preset
    keras.utils.set_random_seed(1)
    model = models.get_model("resnet50", num_classes=7, input_shape=SHAPE, weights=folder)
    x = pixels()
    normalized = ((x / 255 - TORCHVISION_MEAN) / TORCHVISION_STD).astype("float32")
    assert_close(features(model, x), np.asarray(source(normalized, training=False), np.float64))
    assert_fresh_head(model)


def test_timm_folder_loads_into_resnet50_last_stride1(tmp_path, caplog):
    from safetensors.numpy import save_file  # pylint: disable=g-import-not-at-top

    state = torch_state_dict(seed=2)
    folder = tmp_path / "resnet50.tv_in1k"  # What hf://timm/resnet50.tv_in1k holds.
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(TIMM_CONFIG))
    save_file(state, str(folder / "model.safetensors"))
    keras.utils.set_random_seed(3)
    with caplog.at_level(logging.INFO):
        model = models.get_model("resnet50_last_stride1", num_classes=200, input_shape=SHAPE, weights=folder)
    x = pixels(seed=4)
    got = features(model, x)
    assert got.shape == (2, 3, 2, 2048)  # Last stage at stride 1: 3x2, not 2x1.
    assert_close(got, torchvision_features(state, x, last_stride=1))
    assert_fresh_head(model)  # fc (1000 classes, nonzero bias) is not loaded.
    assert "starts fresh" in caplog.text


def test_presets_of_another_network_or_normalisation_are_refused(hub_preset, tmp_path):
    import keras_hub  # pylint: disable=g-import-not-at-top

    folder = shutil.copytree(hub_preset[0], tmp_path / "inception_style")
    keras_hub.layers.ResNetImageConverter(scale=1 / 127.5, offset=-1.0).save_to_preset(str(folder))
    with pytest.raises(ValueError, match=r"normalises with mean \[127.5, 127.5, 127.5\] and std \[127.5"):
        models.get_model("resnet50", num_classes=7, input_shape=SHAPE, weights=folder)
    resnet18 = tmp_path / "resnet18"
    keras_hub.models.ResNetBackbone(**dict(RESNET50_HUB, stackwise_num_blocks=[2, 2, 2, 2],
                                           block_type="basic_block")).save_to_preset(str(resnet18))
    with pytest.raises(ValueError, match="Expected `weights` to be a ResNetBackbone preset with.*basic_block"):
        models.get_model("resnet50_last_stride1", num_classes=7, input_shape=SHAPE, weights=resnet18)


def test_whole_resnet50_file_of_1000_classes_starts_cub_resnet50(tmp_path, caplog):
    # The ImageNet model of examples/classification.py (resnet50, 1000 classes) starts cub_resnet50's
    # model (resnet50_last_stride1, 200 classes; 5 here): every layer but the head.
    keras.utils.set_random_seed(5)
    source = models.get_model("resnet50", num_classes=1000, input_shape=SHAPE)
    randomize_batch_norm(source, seed=5)
    source.get_layer("head").bias.assign(np.full(1000, 0.5, "float32"))
    path = tmp_path / "resnet50_imagenet.weights.h5"
    source.save_weights(str(path))
    assert models.check_weights("resnet50_last_stride1", str(path)) == "model_file"
    with caplog.at_level(logging.WARNING):
        model = models.get_model("resnet50_last_stride1", num_classes=5, input_shape=SHAPE, weights=path)
    assert "except its head (1000 classes; this model has 5): the head starts fresh" in caplog.text
    x = pixels(seed=6)
    assert_close(features(model, x), torchvision_features(keras_to_torch(source), x, last_stride=1))
    assert_fresh_head(model)


def vgg16_source(seed):
    keras.utils.set_random_seed(seed)
    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    rng = np.random.default_rng(seed)
    for layer in source.layers:
        if layer.weights:
            layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape).astype("float32"))
    return source


def write_legacy_h5(model, path):  # The layout of Keras's hosted ..._notop.h5.
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


@pytest.mark.parametrize("file_name,write", [
    ("vgg16_notop.weights.h5", lambda m, p: m.save_weights(p)),  # Keras 3's save_weights.
    ("vgg16_notop.keras", lambda m, p: m.save(p)),
    (vgg_gap.BACKBONE_FILE, write_legacy_h5),  # What weights="imagenet" downloads.
])  # fmt: skip
def test_vgg16_notop_files_load_into_vgg_gap(file_name, write, tmp_path):
    source = vgg16_source(seed=7)
    path = str(tmp_path / file_name)
    write(source, path)
    assert models.check_weights("vgg_gap", path) == "backbone_file"
    keras.utils.set_random_seed(8)
    model = models.get_model("vgg_gap", num_classes=200, input_shape=(32, 32, 3), weights=path)
    x = pixels((32, 32, 3), seed=9)
    reference = keras.Model(source.input, source.get_layer("block5_conv3").output)(
        keras.applications.vgg16.preprocess_input(x.astype("float32")))  # Caffe: BGR, means subtracted.
    assert_close(features(model, x, "block5_conv3"), np.asarray(reference, np.float64))
    np.testing.assert_array_equal(model.get_layer("conv6").bias, 0.0)  # conv6 and the head start fresh.
    assert_fresh_head(model)


def test_whole_vgg_gap_file_of_1000_classes_loads_all_but_the_head(tmp_path):
    keras.utils.set_random_seed(10)
    source = models.get_model("vgg_gap", num_classes=1000, input_shape=(32, 32, 3))
    source.get_layer("conv6").bias.assign(np.full(1024, 0.1, "float32"))
    path = str(tmp_path / "imagenet_vgg_gap.keras")
    source.save(path)
    keras.utils.set_random_seed(11)
    model = models.get_model("vgg_gap", num_classes=3, input_shape=(32, 32, 3), weights=path)
    x = pixels((32, 32, 3), seed=12)
    assert_close(features(model, x), features(source, x))  # conv6 included.
    assert_fresh_head(model)


def test_workdir_of_classification_py_loads_its_last_checkpoint(tmp_path):
    keras.utils.set_random_seed(13)
    source = models.get_model("small_cnn", num_classes=10, input_shape=(16, 16, 3))
    (tmp_path / "checkpoints").mkdir()
    source.save_weights(str(tmp_path / "checkpoints" / "last.weights.h5"))
    model = models.get_model("small_cnn", num_classes=4, input_shape=(16, 16, 3), weights=tmp_path)
    x = pixels((16, 16, 3), seed=14)
    assert_close(features(model, x), features(source, x))
    assert_fresh_head(model)


@pytest.mark.parametrize("name,weights,kind", [
    ("resnet50", "imagenet", "imagenet"),
    ("resnet50_last_stride1", "imagenet", "imagenet"),
    ("vgg_gap", "imagenet", "imagenet"),
    ("resnet50_keras", "imagenet", "imagenet"),
    ("resnet50_last_stride1", "resnet_50_imagenet", "preset"),
    ("resnet50_last_stride1", "hf://timm/resnet50.tv_in1k", "preset"),
    ("resnet50", "kaggle://keras/resnetv1/keras/resnet_50_imagenet/3", "preset"),
    ("resnet56", "imagenet", ValueError),
    ("vgg_gap", "hf://timm/vgg16.tv_in1k", ValueError),
    ("resnet50", "https://example.com/resnet50.pth", ValueError),
    ("resnet50", "resnet_50_imagenett", FileNotFoundError),
    ("vgg_gap", "weights/vgg16_notop.h5", FileNotFoundError),
])  # fmt: skip
def test_check_weights_recognises_the_forms(name, weights, kind):
    if isinstance(kind, str):
        assert models.check_weights(name, weights) == kind
    else:
        with pytest.raises(kind, match=f"Received: weights='{weights}'|at weights='{weights}'"):
            models.check_weights(name, weights)


def test_check_weights_on_local_folders_and_files(tmp_path):
    assert models.check_weights("resnet50", None) is None
    with pytest.raises(ValueError, match="neither checkpoints/last.weights.h5 nor a preset's config.json"):
        models.check_weights("resnet50", tmp_path)
    (tmp_path / "config.json").write_text("{}")
    assert models.check_weights("resnet50", tmp_path) == "preset"
    with pytest.raises(ValueError, match="a folder without checkpoints/last.weights.h5"):
        models.check_weights("vgg_gap", tmp_path)
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ValueError, match="a file of another format"):
        models.check_weights("vgg_gap", tmp_path / "notes.txt")


def test_check_run_accepts_every_form_and_refuses_a_missing_path(tmp_path):
    preset = tmp_path / "preset"
    preset.mkdir()
    (preset / "config.json").write_text("{}")
    config = training.Config(dataset="caltech_birds2011", model="resnet50_last_stride1",
                             data_dir=str(tmp_path / "tfds"))
    with tfds.testing.mock_data(num_examples=2):
        for weights in ("imagenet", "resnet_50_imagenet", "hf://timm/resnet50.tv_in1k", str(preset)):
            assert training.check_run(config.replace(weights=weights), str(tmp_path / "run")).weights == weights
        with pytest.raises(FileNotFoundError, match="resnet50_imagenet.weights.h5"):
            training.check_run(config.replace(weights="resnet50_imagenet.weights.h5"), str(tmp_path / "run"))
        with pytest.raises(training.ConfigError, match="a handle this model cannot load") as info:
            training.check_run(config.replace(model="vgg_gap", weights="hf://timm/resnet50.tv_in1k"),
                               str(tmp_path / "run"))
    assert info.value.name == "weights"
    assert not (tmp_path / "run").exists()
