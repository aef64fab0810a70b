"""keras.applications ResNet-50: local weight files (tests download nothing), caffe preprocessing."""

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from keras_cutmix import data, models
from keras_cutmix.models import resnet50_keras
from keras_cutmix.training import config as config_lib
from keras_cutmix.training import train

SHAPE = (32, 48, 3)


def pixels(batch, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (batch, *SHAPE)).astype("uint8")


def randomize(model, seed):
    """Distinct values for every weight, conv biases and BN statistics included."""
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape).astype("float32"))
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


def notop_file(directory, shape=SHAPE, seed=0):
    """Writes a file in the format of keras-applications' ..._notop.h5.

    That is the legacy HDF5 weights layout of
    keras.applications.ResNet50(include_top=False), which `weights=path`
    loading expects. Returns the source model and the path.
    """
    keras.utils.set_random_seed(seed)
    source = keras.applications.ResNet50(include_top=False, weights=None, input_shape=shape)
    randomize(source, seed=seed)
    path = directory / resnet50_keras.BACKBONE_FILE
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    return source, path


def test_notop_backbone_file_loads_and_preprocessing_matches_caffe(tmp_path):
    source, path = notop_file(tmp_path)
    keras.utils.set_random_seed(1)
    model = models.get_model("resnet50_keras", num_classes=3, input_shape=SHAPE, weights=path)
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
    model = models.get_model("resnet50_keras", num_classes=5, input_shape=SHAPE)
    randomize(model, seed=2)
    path = tmp_path / "finetuned.weights.h5"
    model.save_weights(str(path))
    keras.utils.set_random_seed(3)
    loaded = models.get_model("resnet50_keras", num_classes=5, input_shape=SHAPE, weights=str(path))
    x = pixels(2, seed=1)
    np.testing.assert_array_equal(loaded(x, training=False), model(x, training=False))


def test_missing_file_says_how_to_get_it(tmp_path):
    missing = tmp_path / resnet50_keras.BACKBONE_FILE
    with pytest.raises(FileNotFoundError) as info:
        models.get_model("resnet50_keras", num_classes=5, input_shape=SHAPE, weights=missing)
    message = str(info.value)
    assert str(missing) in message
    assert 'keras.applications.ResNet50(weights="imagenet"' in message
    assert "~/.keras/models/" + resnet50_keras.BACKBONE_FILE in message


@pytest.mark.parametrize(
    "weights,match",
    [("hf://timm/resnet50.tv_in1k", "a handle this model cannot load"), ("model.pt", "another format")],
)
def test_bad_weights_arguments(weights, match, tmp_path):
    if weights.endswith(".pt"):
        weights = tmp_path / weights
        weights.write_bytes(b"")
    with pytest.raises(ValueError, match=match):
        models.get_model("resnet50_keras", num_classes=5, input_shape=SHAPE, weights=weights)


def test_needs_three_channels():
    with pytest.raises(ValueError, match="3 channels"):
        models.get_model("resnet50_keras", num_classes=5, input_shape=(32, 32, 1), mean=0, std=1)


def test_training_path_feeds_keras_weights_caffe_preprocessed_pixels(tmp_path):
    # Fine-tuning from Keras's ImageNet file through the training path: the
    # data set's statistics (ImageNet mean and std 58) must not replace the
    # caffe preprocessing (BGR, means subtracted, std 1) the weights expect.
    shape = (32, 32, 3)
    source, path = notop_file(tmp_path, shape=shape, seed=4)
    config = config_lib.get_config(
        dataset="caltech_birds2011", model="resnet50_keras", weights=str(path), image_size=32
    )
    spec = data.dataset_spec(config.dataset, image_size=config.image_size)
    assert spec.std != (1.0, 1.0, 1.0)  # Else the test proves nothing.
    model = train.build_model(config, spec)
    features = keras.Model(model.input, model.get_layer("conv5_block3_out").output)
    x = np.random.RandomState(5).randint(0, 256, (2, *shape)).astype("uint8")
    reference = source(
        keras.applications.resnet50.preprocess_input(x.astype("float32")), training=False
    )
    np.testing.assert_allclose(features(x, training=False), reference, rtol=1e-4, atol=1e-4)


def test_other_normalisation_with_keras_weights_is_refused(tmp_path):
    path = tmp_path / resnet50_keras.BACKBONE_FILE  # Refused before it is read.
    with pytest.raises(ValueError, match=r"belongs to its weights.*std=\(58.4, 57.1, 57.4\)"):
        models.get_model(
            "resnet50_keras", num_classes=5, input_shape=SHAPE, weights=path,
            std=(58.4, 57.1, 57.4),
        )
    assert not models.takes_data_statistics("resnet50_keras")
