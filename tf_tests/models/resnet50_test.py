"""The paper's ResNet-50 against torchvision's definition: counts, strides, init, NumPy forward."""

import functools

import keras
import numpy as np
import pytest

from keras_cutmix import models
from keras_cutmix.models import resnet50

# torchvision.models.resnet50(): Bottleneck blocks [3, 4, 6, 3] of widths
# [64, 128, 256, 512], expansion 4; the first block of each stage has a
# conv1x1-BN downsample; layers 2-4 stride 2 in the first block's conv2 (3x3).
BLOCKS, WIDTHS = (3, 4, 6, 3), (64, 128, 256, 512)
TORCHVISION_PARAMS = 25_557_032  # sum(p.numel() for p in resnet50().parameters())
TORCHVISION_MEAN = np.array([0.485, 0.456, 0.406]) * 255
TORCHVISION_STD = np.array([0.229, 0.224, 0.225]) * 255


def stage_counts(num_classes):
    """Trainable parameters per part, by hand from the torchvision definition."""
    counts = {"conv1": 7 * 7 * 3 * 64 + 2 * 64}  # conv1 (no bias) + bn1
    inplanes = 64
    for stage, (blocks, width) in enumerate(zip(BLOCKS, WIDTHS)):
        total = 0
        for block in range(blocks):
            total += inplanes * width + 2 * width  # conv1 1x1 + bn1
            total += 9 * width * width + 2 * width  # conv2 3x3 + bn2
            total += width * 4 * width + 2 * 4 * width  # conv3 1x1 + bn3
            if block == 0:
                total += inplanes * 4 * width + 2 * 4 * width  # downsample
            inplanes = 4 * width
        counts[f"stack{stage}"] = total
    counts["head"] = 2048 * num_classes + num_classes
    return counts


@functools.lru_cache(maxsize=None)
def build(name="resnet50", num_classes=1000, input_shape=(64, 64, 3)):
    keras.utils.set_random_seed(0)
    return models.get_model(name, num_classes=num_classes, input_shape=input_shape)


def test_parameter_counts_per_stage_match_torchvision():
    expected = stage_counts(1000)
    assert sum(expected.values()) == TORCHVISION_PARAMS
    model = build()
    got = dict.fromkeys(expected, 0)
    for weight in model.trainable_weights:
        part = weight.path.split("/")[0].split("_")[0]
        got[part] += int(np.prod(weight.shape))
    assert got == expected
    # BatchNorm running mean and variance: one BN after each conv, two per channel.
    bn_channels = 64 + sum(b * 6 * w + 4 * w for b, w in zip(BLOCKS, WIDTHS))
    assert sum(int(np.prod(w.shape)) for w in model.non_trainable_weights) == 2 * bn_channels
    assert 2 * bn_channels == 53_120


@pytest.mark.parametrize("name,last", [("resnet50", 2), ("resnet50_last_stride1", 4)])
def test_stride_sits_in_the_3x3_conv_and_block_outputs(name, last):
    model = build(name)
    sizes = {0: 16, 1: 8, 2: 4, 3: last}  # 64x64 input: stem /4, then stages.
    assert tuple(model.get_layer("pool1_pool").output.shape[1:3]) == (16, 16)
    for stage, blocks in enumerate(BLOCKS):
        stride = 2 if sizes[stage] < sizes.get(stage - 1, 16) else 1
        first = f"stack{stage}_block0"
        assert model.get_layer(f"{first}_1_conv").strides == (1, 1)
        assert model.get_layer(f"{first}_2_conv").strides == (stride, stride)
        assert model.get_layer(f"{first}_0_conv").strides == (stride, stride)
        # Inside the first block: the 1x1 keeps the size, the 3x3 strides.
        before = sizes.get(stage - 1, 16)
        assert model.get_layer(f"{first}_1_conv").output.shape[1] == before
        assert model.get_layer(f"{first}_2_conv").output.shape[1] == sizes[stage]
        for block in range(blocks):
            out = model.get_layer(f"stack{stage}_block{block}_out").output
            size = sizes[stage]
            assert tuple(out.shape[1:]) == (size, size, 4 * WIDTHS[stage])
    assert models.cam_feature_layer_name(model) == "stack3_block2_out"


def test_last_stride_1_gives_14x14_maps_at_224():
    model = resnet50.backbone(image_shape=(224, 224, 3), last_stride=1)
    shapes = {key: tuple(t.shape[1:]) for key, t in model.pyramid_outputs.items()}
    assert shapes == {
        "P2": (56, 56, 256), "P3": (28, 28, 512), "P4": (14, 14, 1024), "P5": (14, 14, 2048),
    }  # fmt: skip


def test_initialisation_and_batch_norm_as_torchvision():
    model = build()
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 53 and not any(layer.use_bias for layer in convs)
    for layer in convs:
        kernel = np.asarray(layer.kernel, dtype=np.float64)
        kh, kw, _, out = kernel.shape
        std = np.sqrt(2.0 / (kh * kw * out))  # kaiming_normal_(mode="fan_out")
        if kernel.size >= 100_000:
            assert abs(kernel.std() / std - 1) < 0.02, layer.name
            assert abs(kernel.mean()) < 0.02 * std, layer.name
            assert np.abs(kernel).max() > 4 * std, layer.name  # not truncated at 2 std
    # Same-shaped convs start different (one initializer each).
    assert not np.array_equal(
        model.get_layer("stack2_block1_2_conv").kernel,
        model.get_layer("stack2_block2_2_conv").kernel,
    )
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 53
    for layer in bns:  # PyTorch BatchNorm2d defaults; no zero-initialised residual BN.
        assert (layer.momentum, layer.epsilon) == (0.9, 1e-5)
        np.testing.assert_array_equal(layer.gamma, 1.0)
        np.testing.assert_array_equal(layer.beta, 0.0)


def randomize_batch_norm(model, seed):
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.gamma.shape
            layer.set_weights([
                rng.uniform(0.5, 1.5, shape), rng.normal(0, 0.2, shape),
                rng.normal(0, 0.2, shape), rng.uniform(0.5, 2.0, shape),
            ])  # fmt: skip


def np_conv(x, kernel, stride, pad):
    """torch.nn.Conv2d(padding=pad, stride=stride, bias=False), channels-last."""
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh, kw = kernel.shape[:2]
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * (oh - 1) + 1, stride)
            cols = slice(j, j + stride * (ow - 1) + 1, stride)
            out += x[:, rows, cols] @ kernel[i, j]
    return out


def np_max_pool(x):
    """torch.nn.MaxPool2d(3, stride=2, padding=1): pads with -inf."""
    x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    oh, ow = (x.shape[1] - 3) // 2 + 1, (x.shape[2] - 3) // 2 + 1
    return np.max(
        [x[:, i : i + 2 * oh - 1 : 2, j : j + 2 * ow - 1 : 2] for i in range(3) for j in range(3)],
        axis=0,
    )


def torchvision_forward(model, pixels, last_stride):
    """torchvision's ResNet.forward in eval mode, in float64, with `model`'s weights."""
    w = {v.path: np.asarray(v, dtype=np.float64) for v in model.weights}

    def conv(x, name, stride=1, pad=0):
        return np_conv(x, w[f"{name}/kernel"], stride, pad)

    def bn(x, name):
        scale = w[f"{name}/gamma"] / np.sqrt(w[f"{name}/moving_variance"] + 1e-5)
        return (x - w[f"{name}/moving_mean"]) * scale + w[f"{name}/beta"]

    relu = functools.partial(np.maximum, 0.0)
    x = (pixels.astype(np.float64) - TORCHVISION_MEAN) / TORCHVISION_STD
    x = np_max_pool(relu(bn(conv(x, "conv1_conv", 2, 3), "conv1_bn")))
    for stage, blocks in enumerate(BLOCKS):
        for block in range(blocks):
            p = f"stack{stage}_block{block}"
            stride = (1, 2, 2, last_stride)[stage] if block == 0 else 1
            out = relu(bn(conv(x, f"{p}_1_conv"), f"{p}_1_bn"))
            out = relu(bn(conv(out, f"{p}_2_conv", stride, 1), f"{p}_2_bn"))
            out = bn(conv(out, f"{p}_3_conv"), f"{p}_3_bn")
            identity = bn(conv(x, f"{p}_0_conv", stride), f"{p}_0_bn") if block == 0 else x
            x = relu(out + identity)
    features = x
    logits = features.mean(axis=(1, 2)) @ w["head/kernel"] + w["head/bias"]
    return features, logits


@pytest.mark.parametrize("name,last_stride", [("resnet50", 2), ("resnet50_last_stride1", 1)])
def test_forward_matches_a_numpy_torchvision_resnet50(name, last_stride):
    shape = (37, 29, 3)  # Odd sizes: every padding and stride shows.
    keras.utils.set_random_seed(1)
    model = models.get_model(name, num_classes=5, input_shape=shape)
    randomize_batch_norm(model, seed=1)
    pixels = np.random.RandomState(2).randint(0, 256, (2, *shape)).astype("uint8")
    features_model = keras.Model(
        model.input, [model.get_layer("stack3_block2_out").output, model.output]
    )
    features, logits = (np.asarray(t, np.float64) for t in features_model(pixels, training=False))
    expected_features, expected_logits = torchvision_forward(model, pixels, last_stride)
    # 37x29 -> stem 19x15 -> pool 10x8 -> 10x8, 5x4, 3x2, then 2x1 (stride 2) or 3x2.
    size = {2: (2, 1), 1: (3, 2)}[last_stride]
    assert features.shape == expected_features.shape == (2, *size, 2048)
    scale = np.abs(expected_features).max()
    np.testing.assert_allclose(features, expected_features, atol=1e-4 * scale)
    logit_scale = np.abs(expected_logits).max() + 1
    np.testing.assert_allclose(logits, expected_logits, atol=1e-4 * logit_scale)


def test_backbone_is_keras_hubs_with_the_classifiers_layers():
    import keras_hub  # pylint: disable=g-import-not-at-top

    model = build()
    keras.utils.set_random_seed(3)
    backbone = resnet50.backbone(image_shape=(64, 64, 3))
    assert isinstance(backbone, keras_hub.models.ResNetBackbone)
    # He fan-out init here too.
    kernel = np.asarray(backbone.get_layer("stack3_block0_2_conv").kernel)
    assert abs(kernel.std() / np.sqrt(2.0 / (9 * 512)) - 1) < 0.02
    for layer in backbone.layers[1:]:  # All but its input layer.
        layer.set_weights(model.get_layer(layer.name).get_weights())
    pixels = np.random.RandomState(4).randint(0, 256, (2, 64, 64, 3)).astype("float32")
    features = keras.Model(model.input, model.get_layer("stack3_block2_out").output)
    normalized = (pixels - TORCHVISION_MEAN) / TORCHVISION_STD
    expected = np.asarray(features(pixels))
    got = np.asarray(backbone(normalized.astype("float32")))
    np.testing.assert_allclose(got, expected, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("file_name", ["finetuned.weights.h5", "finetuned.keras"])
def test_whole_model_file_round_trip(file_name, tmp_path):
    model = build("resnet50", 5, (32, 32, 3))
    path = tmp_path / file_name
    keras.utils.set_random_seed(7)
    if file_name.endswith(".keras"):  # Reloads without keras_hub's classes.
        model.save(str(path))
        loaded = keras.saving.load_model(str(path))
        assert models.cam_feature_layer_name(loaded) == "stack3_block2_out"
    else:
        model.save_weights(str(path))
        loaded = models.get_model("resnet50", num_classes=5, input_shape=(32, 32, 3), weights=path)
    pixels = np.random.RandomState(5).randint(0, 256, (2, 32, 32, 3)).astype("uint8")
    np.testing.assert_array_equal(loaded(pixels), model(pixels))


def test_normalisation_is_torchvision_imagenet_and_belongs_to_the_model():
    model = build()
    x = np.broadcast_to(np.float32(TORCHVISION_MEAN + TORCHVISION_STD), (1, 64, 64, 3))
    normalized = keras.Model(model.input, model.get_layer("normalize").output)(x)
    np.testing.assert_allclose(normalized, 1.0, rtol=1e-5)
    assert not models.takes_data_statistics("resnet50")
    assert not models.takes_data_statistics("resnet50_last_stride1")
    assert models.takes_data_statistics("pyramidnet200")


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(weights="w.h5"), ValueError, "resnet50_keras"),  # Keras's ImageNet file
        (dict(weights="missing.weights.h5"), FileNotFoundError, "missing.weights.h5"),
        (dict(weights="w.weights.h5", mean=(0, 0, 0)), ValueError, r"mean=\(0, 0, 0\)"),
    ],
)
def test_weights_errors(kwargs, error, match, tmp_path):
    for file_name in ("w.h5", "w.weights.h5"):
        (tmp_path / file_name).write_bytes(b"")
    kwargs["weights"] = tmp_path / kwargs["weights"]
    with pytest.raises(error, match=match):
        models.get_model("resnet50", num_classes=5, input_shape=(32, 32, 3), **kwargs)


@pytest.mark.parametrize("last_stride", [0, 3, True, "2"])
def test_last_stride_must_be_1_or_2(last_stride):
    with pytest.raises(ValueError, match=f"last_stride={last_stride!r}"):
        resnet50.resnet50(num_classes=5, input_shape=(32, 32, 3), last_stride=last_stride)
