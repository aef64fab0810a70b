"""Outputs, input handling, normalisation and CAM features of every model."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import models

# (name, input_shape, total stride of the CAM feature map)
SMALL_MODELS = [
    ("small_cnn", (64, 64, 3), 8),
    ("small_cnn", (48, 80, 3), 8),
    ("resnet56", (32, 32, 3), 4),
    ("resnet56", (30, 42, 3), 4),
    ("resnet18", (24, 40, 3), 8),
    ("pyramidnet110", (33, 45, 3), 4),
    ("resnet50", (32, 48, 3), 32),
    ("resnet50_last_stride1", (32, 48, 3), 16),
]


def pixels(batch, shape, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (batch, *shape)).astype("uint8")


@pytest.mark.parametrize("name,shape,stride", SMALL_MODELS)
def test_logits_shape_and_cam_features(name, shape, stride):
    keras.utils.set_random_seed(0)
    model = models.get_model(name, num_classes=7, input_shape=shape)
    x = pixels(3, shape)
    logits = np.asarray(model(x, training=False))
    assert logits.shape == (3, 7) and logits.dtype == np.float32
    assert np.all(np.isfinite(logits))
    head = model.get_layer("head")
    assert head.activation is keras.activations.linear  # logits, no softmax
    # CAM-ready tail: features -> GAP -> head. Recompute the logits in NumPy.
    layer_name = models.cam_feature_layer_name(model)
    assert layer_name == model.cam_feature_layer
    features_model = keras.Model(model.input, model.get_layer(layer_name).output)
    features = np.asarray(features_model(x, training=False), dtype=np.float64)
    assert features.shape[:3] == (
        3,
        math.ceil(shape[0] / stride),
        math.ceil(shape[1] / stride),
    )
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in head.get_weights())
    cams = np.einsum("bhwc,ck->bhwk", features, kernel)  # class activation maps
    expected = cams.mean(axis=(1, 2))
    scale = np.abs(expected).max() + 1.0
    np.testing.assert_allclose(logits - bias, expected, atol=1e-4 * scale)


@pytest.mark.parametrize("name,shape", [("small_cnn", (48, 80, 3)), ("resnet56", (30, 42, 3))])
def test_uint8_and_float_inputs_agree(name, shape):
    keras.utils.set_random_seed(0)  # Else the weights depend on the tests run before.
    model = models.get_model(name, num_classes=4, input_shape=shape)
    x = pixels(2, shape, seed=1)
    from_uint8 = np.asarray(model(x))
    np.testing.assert_array_equal(from_uint8, np.asarray(model(x.astype("float32"))))
    np.testing.assert_array_equal(from_uint8, np.asarray(model(tf.constant(x))))
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(2)
    # Graph vs eager: float32 round-off, relative to the largest logit (~1e3 at random init).
    scale = np.abs(from_uint8).max()
    np.testing.assert_allclose(model.predict(dataset, verbose=0), from_uint8, atol=1e-5 * scale)


def normalize_output(model, x):
    layer = model.get_layer("normalize")
    return np.asarray(keras.Model(model.input, layer.output)(x))


def test_normalization_maps_mean_to_zero():
    mean, std = (10.0, 20.0, 30.0), (2.0, 4.0, 8.0)
    model = models.get_model(
        "small_cnn", num_classes=2, input_shape=(5, 7, 3), mean=mean, std=std
    )
    x = np.zeros((1, 5, 7, 3), "uint8")
    x[0, :, :] = mean
    x[0, 1, 2] = (255, 0, 7)
    out = normalize_output(model, x)
    expected = np.zeros((1, 5, 7, 3), "float32")
    # By hand: (255 - 10) / 2, (0 - 20) / 4, (7 - 30) / 8.
    expected[0, 1, 2] = (122.5, -5.0, -2.875)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_cifar_nets_default_to_cutmix_cifar_statistics():
    model = models.get_model("resnet56", num_classes=10, input_shape=(4, 4, 3))
    x = np.broadcast_to(np.float32([125.3, 123.0, 113.9]), (1, 4, 4, 3))
    np.testing.assert_allclose(normalize_output(model, x), 0.0, atol=1e-5)
    x = np.full((1, 4, 4, 3), 255.0, "float32")
    expected = (255.0 - np.float32([125.3, 123.0, 113.9])) / np.float32([63.0, 62.1, 66.7])
    np.testing.assert_allclose(normalize_output(model, x)[0, 0, 0], expected, rtol=1e-6)


def test_scalar_mean_std_and_one_channel():
    model = models.get_model(
        "small_cnn", num_classes=3, input_shape=(16, 16, 1), mean=100, std=50
    )
    x = np.full((1, 16, 16, 1), 200, "uint8")
    np.testing.assert_allclose(normalize_output(model, x), 2.0)
    assert model(x).shape == (1, 3)


@pytest.mark.parametrize("name,shape", [("small_cnn", (20, 28, 3)), ("resnet56", (12, 20, 3))])
def test_keras_file_round_trip_keeps_outputs_and_cam_layer(name, shape, tmp_path):
    model = models.get_model(name, num_classes=5, input_shape=shape)
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert not hasattr(restored, "cam_feature_layer")  # found from the graph
    assert models.cam_feature_layer_name(restored) == model.cam_feature_layer
    x = pixels(2, shape)
    np.testing.assert_allclose(restored(x), model(x), atol=1e-6)


def test_weights_file_round_trip(tmp_path):
    shape = (16, 24, 3)
    keras.utils.set_random_seed(1)
    model = models.get_model("small_cnn", num_classes=5, input_shape=shape)
    model.get_layer("head").set_weights(
        [np.full((128, 5), 0.01, "float32"), np.arange(5, dtype="float32")]
    )
    path = tmp_path / "small.weights.h5"
    model.save_weights(str(path))
    loaded = models.get_model("small_cnn", num_classes=5, input_shape=shape, weights=path)
    x = pixels(2, shape)
    np.testing.assert_array_equal(loaded(x), model(x))


def test_cam_feature_layer_name_rejects_models_without_the_tail():
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(2, name="head")(keras.layers.Flatten()(inputs))
    with pytest.raises(ValueError, match="GlobalAveragePooling2D"):
        models.cam_feature_layer_name(keras.Model(inputs, outputs))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (
            dict(name="resnet-18"),
            ValueError,
            r"one of \['small_cnn', 'resnet18'.*name='resnet-18'",
        ),
        (dict(num_classes=0), ValueError, "num_classes=0"),
        (dict(num_classes=True), ValueError, "num_classes=True"),
        (dict(input_shape=(32, 32)), ValueError, r"input_shape=\(32, 32\)"),
        (dict(input_shape=(0, 32, 3)), ValueError, "input_shape"),
        (dict(mean=(1.0, 2.0)), ValueError, r"one value per channel \(3\).*mean=\(1.0, 2.0\)"),
        (dict(std=(1.0, 0.0, 1.0)), ValueError, "std"),
        (dict(input_shape=(32, 32, 1)), ValueError, "pass `mean` and `std`"),
        (dict(weights="imagenet"), ValueError, "weights='imagenet'"),
        (dict(weights="/nonexistent/m.weights.h5"), FileNotFoundError, "save_weights"),
    ],
)
def test_argument_errors(kwargs, error, match):
    args = dict(name="resnet56", num_classes=10, input_shape=(32, 32, 3))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        models.get_model(args.pop("name"), **args)


def test_mixed_precision_keeps_float32_logits():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = models.get_model("small_cnn", num_classes=3, input_shape=(16, 24, 3))
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.get_layer("stage1_conv1_conv").compute_dtype == "bfloat16"
    logits = model(pixels(2, (16, 24, 3)))
    assert logits.dtype == "float32"
