"""The localization models: VGG-GAP (shapes, parameters, Keras's VGG-16 file), cam_cnn, the 10x head rate."""

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from keras_cutmix import models
from keras_cutmix.models import vgg_gap
from keras_cutmix.training import TorchSGD

# VGG-16's conv layers: (block, convs, channels).
VGG16_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))


def trainable_count(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def vgg_gap_count(num_classes):
    """By hand: 3x3 convs with biases, conv6 3x3 512 -> 1024 with bias, head 1024 -> K."""
    total, channels = 0, 3
    for _, convs, width in VGG16_BLOCKS:
        for _ in range(convs):
            total += 9 * channels * width + width
            channels = width
    assert total == 14_714_688  # VGG-16 without its classifier, as keras.applications lists it.
    total += 9 * 512 * 1024 + 1024
    return total + 1024 * num_classes + num_classes


def test_vgg_gap_parameter_count():
    model = models.get_model("vgg_gap", num_classes=200, input_shape=(224, 224, 3))
    assert trainable_count(model) == vgg_gap_count(200) == 19_639_304
    assert vgg_gap_count(1000) == 20_459_304


@pytest.mark.parametrize("size,grid", [(224, 14), (32, 2)])
def test_vgg_gap_layer_shapes(size, grid):
    model = models.get_model("vgg_gap", num_classes=7, input_shape=(size, size, 3))
    for block, convs, width in VGG16_BLOCKS:
        side = size // 2 ** (block - 1)
        for c in range(1, convs + 1):
            assert model.get_layer(f"block{block}_conv{c}").output.shape == (None, side, side, width)
        if block < 5:
            assert model.get_layer(f"block{block}_pool").output.shape == (None, side // 2, side // 2, width)
    names = [layer.name for layer in model.layers]
    assert "block5_pool" not in names  # the last pooling is removed
    assert names[-5:] == ["block5_conv3", "conv6", "conv6_relu", "global_pool", "head"]
    assert model.get_layer("conv6").kernel.shape == (3, 3, 512, 1024)
    assert models.cam_feature_layer_name(model) == "conv6_relu"
    assert model.get_layer("conv6_relu").output.shape == (None, grid, grid, 1024)
    assert model.output.shape == (None, 7)


def test_vgg_gap_loads_keras_vgg16_notop_file_and_preprocesses_as_caffe(tmp_path):
    # A file in the layout of keras-applications' vgg16_..._notop.h5 (legacy HDF5 weights of
    # keras.applications.VGG16(include_top=False)), with random weights.
    keras.utils.set_random_seed(0)
    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    for layer in source.layers:
        if layer.weights:
            layer.bias.assign(np.random.default_rng(1).normal(0, 0.1, layer.bias.shape).astype("float32"))
    path = tmp_path / vgg_gap.BACKBONE_FILE
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    keras.utils.set_random_seed(5)
    model = models.get_model("vgg_gap", num_classes=3, input_shape=(32, 32, 3), weights=path)
    conv_layers = [layer for layer in source.layers if layer.weights]
    assert len(conv_layers) == 13
    for layer in conv_layers:
        for expected, got in zip(layer.get_weights(), model.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(got, expected)
    x = np.random.default_rng(2).integers(0, 256, (2, 32, 32, 3)).astype("uint8")
    features = keras.Model(model.input, model.get_layer("block5_conv3").output)
    reference = keras.Model(source.input, source.get_layer("block5_conv3").output)(
        keras.applications.vgg16.preprocess_input(x.astype("float32"))
    )
    np.testing.assert_allclose(features(x), reference, rtol=1e-4, atol=1e-4)


def test_vgg_gap_weights_errors(tmp_path):
    missing = tmp_path / vgg_gap.BACKBONE_FILE
    with pytest.raises(FileNotFoundError, match="keras.applications.VGG16"):
        models.get_model("vgg_gap", num_classes=3, input_shape=(32, 32, 3), weights=missing)
    missing.write_bytes(b"")
    with pytest.raises(ValueError, match="belongs to its weights"):
        models.get_model("vgg_gap", num_classes=3, input_shape=(32, 32, 3), weights=missing, mean=0)
    assert not models.takes_data_statistics("vgg_gap")


def cam_cnn_count(num_classes):
    """By hand: bias-free 3x3 convs, BatchNorm gamma and beta, head."""
    total, channels = 0, 3
    for width in (16, 32, 32, 64, 64, 128, 128):
        total += 9 * channels * width + 2 * width
        channels = width
    return total + 128 * num_classes + num_classes


def test_cam_cnn_parameters_and_16x16_map_at_128():
    model = models.get_model("cam_cnn", num_classes=10, input_shape=(128, 128, 3))
    assert trainable_count(model) == cam_cnn_count(10) == 292_954
    assert model.get_layer(models.cam_feature_layer_name(model)).output.shape == (None, 16, 16, 128)
    assert models.takes_data_statistics("cam_cnn")


def test_cam_cnn_odd_sizes_give_ceil_of_an_eighth():
    model = models.get_model("cam_cnn", num_classes=3, input_shape=(37, 53, 3))
    assert model.get_layer(models.cam_feature_layer_name(model)).output.shape == (None, 5, 7, 128)
    with pytest.raises(ValueError, match="layers"):
        models.cam_cnn.cam_cnn(num_classes=3, input_shape=(8, 8, 3), mean=0, std=1, layers=[(0, 1)])


def test_head_learns_at_ten_times_the_backbone_rate():
    # TorchSGD with momentum 0 and weight decay 0: w <- w - lr * multiplier * g.
    model = models.get_model("cam_cnn", num_classes=4, input_shape=(16, 16, 3))
    lr, g = 0.01, 0.25
    optimizer = TorchSGD(lr, momentum=0.0, nesterov=False, lr_multipliers={"head": 10.0})
    before = [np.asarray(v) for v in model.trainable_variables]
    grads = [np.full(v.shape, g, "float32") for v in model.trainable_variables]
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    head_paths = []
    for variable, old in zip(model.trainable_variables, before):
        step = old - np.asarray(variable)
        if variable.path.startswith("head/"):
            head_paths.append(variable.path)
            np.testing.assert_allclose(step, 10 * lr * g, rtol=1e-5)
        else:
            np.testing.assert_allclose(step, lr * g, rtol=1e-5)
    assert sorted(head_paths) == ["head/bias", "head/kernel"]
