"""`cam_vgg`: the hand-counted shape, the measured receptive field, and the weights it loads."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import models
from keras_cutmix.models import cam_vgg, pretrained


def _count_by_hand(num_classes):
    """3x3 convs without bias, BN's gamma and beta, conv6 64 -> 128, head 128 -> K with bias."""
    total, channels = 0, 3
    for width, convs in ((8, 1), (16, 2), (32, 3), (64, 3), (64, 3), (128, 1)):
        for _ in range(convs):
            total += 9 * channels * width + 2 * width
            channels = width
    return total + 128 * num_classes + num_classes


def test_parameters_and_cam_grid():
    model = models.get_model("cam_vgg", num_classes=10, input_shape=(128, 128, 3))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == _count_by_hand(10) == 305_778
    assert models.cam_feature_layer_name(model) == "conv6_relu"
    assert tuple(model.get_layer("conv6_relu").output.shape) == (None, 16, 16, 128)


def test_receptive_field_measured_from_gradients():
    """The input pixels that reach the centre conv6 feature of a 256-pixel image span 154 pixels."""
    keras.utils.set_random_seed(0)
    model = models.get_model("cam_vgg", num_classes=3, input_shape=(256, 256, 3))
    features = cam_vgg.backbone(model)
    reached = np.zeros((256, 256), bool)
    for seed in range(4):
        images = tf.Variable(tf.random.stateless_uniform((1, 256, 256, 3), (seed, 1), 0, 255))
        with tf.GradientTape() as tape:
            centre = tf.reduce_sum(features(images, training=False)[0, 16, 16])
        reached |= np.abs(tape.gradient(centre, images).numpy()[0]).sum(-1) > 0
    rows, cols = np.nonzero(reached.any(1))[0], np.nonzero(reached.any(0))[0]
    assert rows.max() - rows.min() + 1 == cols.max() - cols.min() + 1 == 154 == cam_vgg.RECEPTIVE_FIELD


def test_normalisation_belongs_to_the_weights():
    with pytest.raises(ValueError, match="belongs to its weights"):
        models.get_model("cam_vgg", num_classes=2, input_shape=(32, 32, 3), mean=0.0,
                         weights=cam_vgg.PRETRAINED)


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def test_notop_file_loads_every_layer_but_the_head(tmp_path):
    keras.utils.set_random_seed(1)
    source = models.get_model("cam_vgg", num_classes=10, input_shape=(64, 64, 3))
    path = os.fspath(tmp_path / "notop.weights.h5")
    cam_vgg.backbone(source).save_weights(path)
    assert models.check_weights("cam_vgg", path) == pretrained.BACKBONE_FILE
    keras.utils.set_random_seed(2)
    target = models.get_model("cam_vgg", num_classes=10, input_shape=(128, 128, 3), weights=path)
    for layer in source.layers:
        if layer.weights:
            assert _same(layer, target.get_layer(layer.name)) == (layer.name != "head"), layer.name
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_array_equal(cam_vgg.backbone(source)(images), cam_vgg.backbone(
        models.get_model("cam_vgg", num_classes=4, input_shape=(64, 64, 3), weights=path))(images))


def test_whole_model_file_of_another_class_count(tmp_path):
    source = models.get_model("cam_vgg", num_classes=10, input_shape=(64, 64, 3))
    path = os.fspath(tmp_path / "whole.weights.h5")
    source.save_weights(path)
    target = models.get_model("cam_vgg", num_classes=5, input_shape=(64, 64, 3), weights=path)
    assert _same(source.get_layer("conv6_conv"), target.get_layer("conv6_conv"))
    same_count = models.get_model("cam_vgg", num_classes=10, input_shape=(64, 64, 3), weights=path)
    assert _same(source, same_count)


def test_the_shipped_backbone_is_a_notop_file_of_this_net():
    assert os.path.isfile(cam_vgg.PRETRAINED_FILE)
    assert pretrained.saved_num_classes(cam_vgg.PRETRAINED_FILE) is None  # No head: a notop file.
    model = models.get_model("cam_vgg", num_classes=10, input_shape=(128, 128, 3), weights="synthetic_shapes")
    notop = cam_vgg.backbone(models.get_model("cam_vgg", num_classes=1, input_shape=(128, 128, 3)))
    notop.load_weights(cam_vgg.PRETRAINED_FILE)
    assert _same(notop.get_layer("conv6_conv"), model.get_layer("conv6_conv"))


def test_bad_weights_name_the_forms():
    with pytest.raises(ValueError, match="synthetic_shapes"):
        models.get_model("cam_vgg", num_classes=2, input_shape=(32, 32, 3), weights="imagenet")
    with pytest.raises(FileNotFoundError, match="weights="):
        models.check_weights("cam_vgg", "/no/such/file.weights.h5")
