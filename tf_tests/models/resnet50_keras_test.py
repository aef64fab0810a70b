"""ResNet-50: local weight files (never downloaded) and caffe preprocessing."""

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from keras_cutmix import models
from keras_cutmix.models import resnet50

SHAPE = (32, 48, 3)


def pixels(batch, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (batch, *SHAPE)).astype("uint8")


def randomize(model, seed):
    """Distinct values for every weight, BN statistics included."""
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.0, gamma.shape).astype("float32"),
                    rng.normal(0, 0.1, beta.shape).astype("float32"),
                    rng.normal(0, 0.1, mean.shape).astype("float32"),
                    rng.uniform(0.5, 2.0, var.shape).astype("float32"),
                ]
            )


def test_notop_backbone_file_loads_and_preprocessing_matches_caffe(tmp_path):
    # A file in the format of keras-applications' ..._notop.h5 (legacy HDF5
    # weights of keras.applications.ResNet50(include_top=False)).
    keras.utils.set_random_seed(0)
    source = keras.applications.ResNet50(include_top=False, weights=None, input_shape=SHAPE)
    randomize(source, seed=0)
    path = tmp_path / resnet50.BACKBONE_FILE
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)

    keras.utils.set_random_seed(1)
    model = models.get_model("resnet50", num_classes=3, input_shape=SHAPE, weights=path)
    for layer in source.layers[1:]:  # all but the input layer
        loaded = model.get_layer(layer.name).get_weights()
        for expected, got in zip(layer.get_weights(), loaded):
            np.testing.assert_array_equal(got, expected)

    # The model takes RGB pixels and normalises inside exactly as the weights
    # expect: keras.applications.resnet50.preprocess_input (BGR, caffe means).
    x = pixels(2)
    features = keras.Model(model.input, model.get_layer("conv5_block3_out").output)
    reference = source(
        keras.applications.resnet50.preprocess_input(x.astype("float32")), training=False
    )
    np.testing.assert_allclose(features(x, training=False), reference, rtol=1e-4, atol=1e-4)
    assert models.cam_feature_layer_name(model) == "conv5_block3_out"


def test_whole_model_weights_round_trip(tmp_path):
    keras.utils.set_random_seed(2)
    model = models.get_model("resnet50", num_classes=5, input_shape=SHAPE)
    randomize(model, seed=2)
    path = tmp_path / "finetuned.weights.h5"
    model.save_weights(str(path))
    keras.utils.set_random_seed(3)
    loaded = models.get_model("resnet50", num_classes=5, input_shape=SHAPE, weights=str(path))
    x = pixels(2, seed=1)
    np.testing.assert_array_equal(loaded(x, training=False), model(x, training=False))


def test_missing_file_says_how_to_get_it(tmp_path):
    missing = tmp_path / resnet50.BACKBONE_FILE
    with pytest.raises(FileNotFoundError) as info:
        models.get_model("resnet50", num_classes=5, input_shape=SHAPE, weights=missing)
    message = str(info.value)
    assert str(missing) in message
    assert 'keras.applications.ResNet50(weights="imagenet"' in message
    assert "~/.keras/models/" + resnet50.BACKBONE_FILE in message


@pytest.mark.parametrize(
    "weights,match", [("imagenet", "nothing is downloaded"), ("model.pt", "'.h5'")]
)
def test_bad_weights_arguments(weights, match, tmp_path):
    if weights.endswith(".pt"):
        weights = tmp_path / weights
        weights.write_bytes(b"")
    with pytest.raises(ValueError, match=match):
        models.get_model("resnet50", num_classes=5, input_shape=SHAPE, weights=weights)


def test_needs_three_channels():
    with pytest.raises(ValueError, match="3 channels"):
        models.get_model("resnet50", num_classes=5, input_shape=(32, 32, 1), mean=0, std=1)
