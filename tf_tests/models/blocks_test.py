"""Building blocks: shortcuts against NumPy, block layouts, custom layers."""

import keras
import numpy as np
import pytest

from keras_cutmix.models import layers, pyramidnet, resnet_cifar


def avg_pool_ceil(x):
    """PyTorch AvgPool2d(2, 2, ceil_mode=True): mean over the in-bounds pixels."""
    b, h, w, c = x.shape
    out = np.zeros((b, -(-h // 2), -(-w // 2), c), x.dtype)
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            out[:, i, j] = x[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].mean(axis=(1, 2))
    return out


def zero_pad_channels(x, channels):
    pad = np.zeros((*x.shape[:3], channels - x.shape[3]), x.dtype)
    return np.concatenate([x, pad], axis=-1)


def silence_residual(model, bn_name):
    """Zeroes the last BN of the residual branch, so a block returns its shortcut."""
    layer = model.get_layer(bn_name)
    gamma, beta, mean, var = layer.get_weights()
    layer.set_weights([np.zeros_like(gamma), np.zeros_like(beta), mean, var])


@pytest.mark.parametrize(
    "bottleneck,last_bn,out_channels", [(False, "b_bn3", 6), (True, "b_bn4", 24)]
)
@pytest.mark.parametrize("stride", [1, 2])
def test_pyramid_shortcut_is_avg_pool_and_zero_padding(
    bottleneck, last_bn, out_channels, stride
):
    inputs = keras.Input((5, 7, 4))
    outputs = pyramidnet.pyramid_block(inputs, 6, stride, bottleneck, "b")
    model = keras.Model(inputs, outputs)
    silence_residual(model, last_bn)
    x = np.random.RandomState(0).normal(size=(2, 5, 7, 4)).astype("float32")
    expected = avg_pool_ceil(x) if stride == 2 else x
    expected = zero_pad_channels(expected, out_channels)
    np.testing.assert_allclose(model(x, training=False), expected, atol=1e-6)


def test_option_a_shortcut_subsamples_and_zero_pads():
    inputs = keras.Input((5, 7, 4))
    outputs = resnet_cifar.basic_block(inputs, 8, 2, resnet_cifar.option_a_shortcut, "b")
    model = keras.Model(inputs, outputs)
    silence_residual(model, "b_bn2")
    x = np.random.RandomState(0).normal(size=(2, 5, 7, 4)).astype("float32")
    expected = np.maximum(zero_pad_channels(x[:, ::2, ::2], 8), 0.0)  # ReLU after add
    np.testing.assert_allclose(model(x, training=False), expected, atol=1e-6)


def layer_kinds(model, prefix):
    kinds = {
        keras.layers.BatchNormalization: "bn",
        keras.layers.Conv2D: "conv",
        keras.layers.ReLU: "relu",
        keras.layers.Add: "add",
    }
    return [
        kinds[type(layer)]
        for layer in model.layers
        if layer.name.startswith(prefix) and type(layer) in kinds
    ]


def test_pyramid_block_layouts():
    model = keras.Model(*_block_model(bottleneck=False))
    assert layer_kinds(model, "b_") == ["bn", "conv", "bn", "relu", "conv", "bn", "add"]
    model = keras.Model(*_block_model(bottleneck=True))
    assert layer_kinds(model, "b_") == [
        "bn", "conv", "bn", "relu", "conv", "bn", "relu", "conv", "bn", "add",
    ]  # fmt: skip
    assert [model.get_layer(f"b_conv{i}").kernel_size for i in (1, 2, 3)] == [
        (1, 1),
        (3, 3),
        (1, 1),
    ]


def _block_model(bottleneck):
    inputs = keras.Input((8, 8, 16))
    return inputs, pyramidnet.pyramid_block(inputs, 20, 1, bottleneck, "b")


def test_pyramidnet_ends_in_bn_relu_without_stem_relu():
    model = pyramidnet.pyramidnet(
        20, 24, num_classes=3, input_shape=(8, 8, 3), mean=0, std=1, bottleneck=True
    )
    names = [layer.name for layer in model.layers]
    assert names[:4] == ["pixels", "normalize", "stem_conv", "stem_bn"]
    assert names[-4:] == ["final_bn", "final_relu", "global_pool", "head"]
    assert model.cam_feature_layer == "final_relu"


def test_pyramid_widths_follow_the_reference_rounding():
    widths = pyramidnet.pyramid_widths(200, 240, bottleneck=True)
    assert [len(stage) for stage in widths] == [22, 22, 22]
    # 16 + 240 / 66 = 19.64 -> 20; the last block reaches 16 + 240.
    assert widths[0][0] == 20 and widths[2][-1] == 256
    assert pyramidnet.pyramid_widths(110, 48, bottleneck=False)[2][-1] == 64
    with pytest.raises(ValueError, match="depth=111"):
        pyramidnet.pyramid_widths(111, 240, bottleneck=True)


def test_channel_zero_pad_and_config():
    layer = layers.ChannelZeroPad(3)
    x = np.arange(2 * 2 * 3 * 2, dtype="float32").reshape(2, 2, 3, 2)
    np.testing.assert_array_equal(layer(x), zero_pad_channels(x, 5))
    assert layers.ChannelZeroPad.from_config(layer.get_config()).extra == 3
    with pytest.raises(ValueError, match="extra=-1"):
        layers.ChannelZeroPad(-1)


def test_pixel_normalization_reverses_channels_after_normalising():
    layer = layers.PixelNormalization((1.0, 2.0, 3.0), (1.0, 1.0, 2.0), reverse_channels=True)
    x = np.array([[[[11, 22, 33]]]], "uint8")
    np.testing.assert_allclose(layer(x), [[[[15.0, 20.0, 10.0]]]])
    clone = layers.PixelNormalization.from_config(layer.get_config())
    assert (clone.mean, clone.std, clone.reverse_channels) == (
        [1.0, 2.0, 3.0],
        [1.0, 1.0, 2.0],
        True,
    )
    with pytest.raises(ValueError, match="std"):
        layers.PixelNormalization((0.0,), (0.0,))
    with pytest.raises(ValueError, match=r"3 channels.*input_shape=\(2, 4, 4, 1\)"):
        clone(np.zeros((2, 4, 4, 1), "float32"))
