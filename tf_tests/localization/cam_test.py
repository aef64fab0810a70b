"""CAM and Grad-CAM against NumPy / OpenCV references computed from the model's own features.

The references are wsolevaluation's pipeline written out: the weighted sum of feature maps in NumPy,
`cv2.resize(..., cv2.INTER_CUBIC)`, then its `normalize_scoremap` (min-max; constant -> zeros).
"""

import importlib

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import localization
from keras_cutmix.models import function_cache

# The package exports the function `cam`, which hides the module of the same name.
cam_module = importlib.import_module("keras_cutmix.localization.cam")


def tiny_model(input_shape=(8, 10, 3), stride=1, num_classes=3, seed=0):
    """Linear conv features (negative values too) -> GAP -> Dense("head")."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(input_shape)
    features = keras.layers.Conv2D(4, 3, strides=stride, padding="same", name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    logits = keras.layers.Dense(num_classes, name="head")(pooled)
    return keras.Model(inputs, logits)


def two_layer_model(seed=1):
    """conv (4) -> linear 1x1 conv, no bias (5) -> GAP -> head.

    Grad-CAM at the first conv is then ReLU of the CAM at the second.
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6, 7, 3))
    first = keras.layers.Conv2D(4, 3, padding="same", name="first")(inputs)
    second = keras.layers.Conv2D(5, 1, use_bias=False, name="second")(first)
    logits = keras.layers.Dense(3, name="head")(keras.layers.GlobalAveragePooling2D()(second))
    return keras.Model(inputs, logits)


def images(shape=(8, 10, 3), count=5, seed=0):
    return np.random.default_rng(seed).normal(size=(count,) + shape).astype(np.float32)


def features_and_logits(model, x, layer="features"):
    probe = keras.Model(model.input, [model.get_layer(layer).output, model.outputs[0]])
    features, logits = probe(x, training=False)
    return np.asarray(features, np.float64), np.asarray(logits)


def normalize_scoremap(m):
    """wsolevaluation's inference.normalize_scoremap."""
    m = np.array(m, np.float64)
    if np.isnan(m).any() or m.min() == m.max():
        return np.zeros_like(m)
    m -= m.min()
    return m / m.max()


def raw_cams(model, x, classes, layer="features"):
    features, _ = features_and_logits(model, x, layer)
    kernel = np.asarray(model.get_layer("head").kernel, np.float64)
    return np.stack([features[i] @ kernel[:, c] for i, c in enumerate(classes)])


def test_cam_equals_weighted_sum_of_feature_maps():
    # Stride 1: the feature grid is the input grid, so no upsampling is involved.
    model, x, classes = tiny_model(), images(), np.array([0, 1, 2, 1, 0])
    expected = np.stack([normalize_scoremap(m) for m in raw_cams(model, x, classes)])
    got = localization.cam(model, x, class_ids=classes)
    assert got.dtype == np.float32 and got.shape == (5, 8, 10)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_cam_upsampled_as_opencv_bicubic():
    # 16x20 input, stride 2: 8x10 maps resized to 16x20 (non-square on purpose).
    model = tiny_model(input_shape=(16, 20, 3), stride=2)
    x, classes = images((16, 20, 3)), np.array([2, 0, 1, 1, 2])
    expected = np.stack(
        [
            normalize_scoremap(cv2.resize(m.astype(np.float32), (20, 16), interpolation=cv2.INTER_CUBIC))
            for m in raw_cams(model, x, classes)
        ]
    )
    got = localization.cam(model, x, class_ids=classes)
    assert got.shape == (5, 16, 20)
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("src,dst", [(7, 224), (3, 37), (5, 4), (14, 14), (1, 6)])
def test_resize_matrix_is_opencv_inter_cubic(src, dst):
    signal = np.random.default_rng(src).normal(size=(src, 3)).astype(np.float32)
    expected = cv2.resize(signal, (3, dst), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_allclose(cam_module.resize_matrix(src, dst) @ signal, expected, atol=1e-5)


def test_gradcam_is_relu_of_cam_for_gap_dense():
    model, x, classes = tiny_model(), images(), np.array([0, 1, 2, 1, 0])
    raw = raw_cams(model, x, classes)
    relu = np.stack([normalize_scoremap(np.maximum(m, 0)) for m in raw])
    plain = np.stack([normalize_scoremap(m) for m in raw])
    # The ReLU matters on these maps: without it the normalised maps differ.
    assert np.abs(relu - plain).max() > 0.1
    np.testing.assert_allclose(localization.gradcam(model, x, class_ids=classes), relu, atol=1e-5)


def test_gradcam_upsampled_as_opencv_bicubic():
    model = tiny_model(input_shape=(16, 20, 3), stride=2)
    x, classes = images((16, 20, 3)), np.array([2, 0, 1, 1, 2])
    expected = np.stack(
        [
            normalize_scoremap(
                cv2.resize(np.maximum(m, 0).astype(np.float32), (20, 16), interpolation=cv2.INTER_CUBIC)
            )
            for m in raw_cams(model, x, classes)
        ]
    )
    np.testing.assert_allclose(localization.gradcam(model, x, class_ids=classes), expected, atol=1e-5)


def test_gradcam_at_an_earlier_layer():
    # d logit_c / d first = W2 @ w_c / (h w) at every position, so Grad-CAM at "first" is
    # ReLU(first @ W2 @ w_c), i.e. ReLU of the CAM at "second".
    model = two_layer_model()
    x, classes = images((6, 7, 3), count=4), np.array([0, 2, 1, 2])
    first, _ = features_and_logits(model, x, "first")
    w2 = np.asarray(model.get_layer("second").kernel, np.float64)[0, 0]  # [4, 5]
    kernel = np.asarray(model.get_layer("head").kernel, np.float64)
    expected = np.stack(
        [normalize_scoremap(np.maximum(first[i] @ w2 @ kernel[:, c], 0)) for i, c in enumerate(classes)]
    )
    got = localization.gradcam(model, x, class_ids=classes, layer_name="first")
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_constant_map_gives_zeros():
    model = tiny_model()
    model.get_layer("head").kernel.assign(np.zeros((4, 3), np.float32))
    for method in (localization.cam, localization.gradcam):
        got = method(model, images())
        assert not np.isnan(got).any()
        np.testing.assert_array_equal(got, np.zeros((5, 8, 10), np.float32))


def test_nan_map_gives_zeros_as_wsolevaluation():
    model = tiny_model()
    kernel = np.asarray(model.get_layer("head").kernel).copy()
    kernel[0, 0] = np.nan
    model.get_layer("head").kernel.assign(kernel)
    got = localization.cam(model, images(), class_ids=[0, 1, 0, 1, 0])
    np.testing.assert_array_equal(got[0::2], np.zeros((3, 8, 10)))
    assert np.isfinite(got).all() and got[1].max() == pytest.approx(1.0)
    # One NaN in an otherwise fine map (the upsampling spreads it to a few neighbours only).
    maps = np.random.default_rng(0).normal(size=(2, 6, 6)).astype(np.float32)
    maps[0, 0, 0] = np.nan
    got = cam_module._upsample_and_normalize(tf.constant(maps), 12, 12).numpy()
    np.testing.assert_array_equal(got[0], np.zeros((12, 12)))
    assert got[1].max() == pytest.approx(1.0)


def test_all_negative_gradcam_gives_zeros():
    # All-positive features (a large bias) and all-negative class weights: every weighted sum is < 0.
    model, x = tiny_model(), images()
    model.get_layer("features").bias.assign(np.full(4, 100.0, np.float32))
    model.get_layer("head").kernel.assign(-np.ones((4, 3), np.float32))
    np.testing.assert_array_equal(localization.gradcam(model, x, class_ids=[0] * 5), np.zeros((5, 8, 10)))
    # CAM has no ReLU: the same maps are not constant and normalise to [0, 1].
    assert localization.cam(model, x, class_ids=[0] * 5).max() == pytest.approx(1.0)


def test_class_ids_none_uses_the_predicted_class():
    model, x = tiny_model(), images(count=8)
    _, logits = features_and_logits(model, x)
    predicted = logits.argmax(axis=1)
    other = (predicted + 1) % 3
    for method in (localization.cam, localization.gradcam):
        by_default = method(model, x)
        np.testing.assert_allclose(by_default, method(model, x, class_ids=predicted), atol=1e-6)
        # Discriminates: another class gives other maps.
        assert np.abs(by_default - method(model, x, class_ids=other)).max() > 0.1


def test_chunks_uint8_and_tensor_inputs_agree_and_the_function_is_cached():
    model = tiny_model()
    x = np.random.default_rng(3).integers(0, 256, (7, 8, 10, 3)).astype(np.uint8)
    whole = localization.cam(model, x)
    np.testing.assert_allclose(localization.cam(model, x, batch_size=3), whole, atol=1e-6)
    np.testing.assert_allclose(localization.cam(model, tf.constant(x)), whole, atol=1e-6)
    # One function per method, layer, image shape and dtype, and number of class choices; any batch size.
    assert function_cache.cached_keys(model) == {("cam", "features", (8, 10, 3), "uint8", 1)}
    localization.gradcam(model, x, batch_size=2)
    assert function_cache.cached_keys(model) == {("cam", "features", (8, 10, 3), "uint8", 1),
                                                 ("gradcam", "features", (8, 10, 3), "uint8", 1)}


@pytest.mark.parametrize(
    "name,shape", [("small_cnn", (24, 16, 3)), ("cam_cnn", (40, 24, 3)), ("vgg_gap", (32, 32, 3))]
)
def test_works_on_keras_cutmix_models(name, shape):
    from keras_cutmix import models

    model = models.get_model(name, num_classes=4, input_shape=shape)
    x = np.random.default_rng(0).integers(0, 256, (3, *shape)).astype(np.uint8)
    for method in (localization.cam, localization.gradcam):
        maps = method(model, x)
        assert maps.shape == (3, *shape[:2]) and maps.dtype == np.float32
        assert maps.min() >= 0 and maps.max() <= 1


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(class_ids=[0, 1]), "class_ids"),
        (dict(class_ids=[0, 1, 2, 3, 4]), r"\[0, num_classes=3\)"),
        (dict(class_ids=[0.5] * 5), "class_ids"),
        (dict(layer_name="nope"), "layer_name"),
        (dict(layer_name="head"), "4-D"),
        (dict(batch_size=0), "batch_size"),
    ],
)
def test_errors_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        localization.cam(tiny_model(), images(), **kwargs)


def test_cam_refuses_a_layer_with_other_channels_but_gradcam_takes_it():
    model = two_layer_model()
    x = images((6, 7, 3), count=2)
    with pytest.raises(ValueError, match="gradcam"):
        localization.cam(model, x, layer_name="first")
    assert localization.gradcam(model, x, layer_name="first").shape == (2, 6, 7)


def test_cam_refuses_a_model_without_gap_dense_tail():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, name="features")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match="GlobalAveragePooling2D"):
        localization.cam(model, images((8, 8, 3)))


@pytest.mark.parametrize("method", ["cam", "gradcam"])
def test_maps_and_logits_gives_each_class_choice_from_one_forward_pass(method):
    model, x = tiny_model(), images(count=7)
    true = np.array([2, 0, 1, 1, 2, 0, 0])
    calls = []
    original_call = model.layers[1].call

    def counting_call(*args, **kwargs):
        calls.append(1)  # Counted at trace time: once per traced forward pass.
        return original_call(*args, **kwargs)

    model.layers[1].call = counting_call
    (pred_maps, true_maps), logits = cam_module.maps_and_logits(model, x, [None, true], method, batch_size=7)
    assert len(calls) == 1
    _, expected_logits = features_and_logits(model, x)
    np.testing.assert_allclose(logits, expected_logits, atol=1e-5)
    # The hand-computed maps of the predicted and of the true classes.
    for maps, classes in ((pred_maps, expected_logits.argmax(-1)), (true_maps, true)):
        raw = raw_cams(model, x, classes)
        expected = np.stack([normalize_scoremap(np.maximum(m, 0) if method == "gradcam" else m) for m in raw])
        np.testing.assert_allclose(maps, expected, atol=1e-5)
