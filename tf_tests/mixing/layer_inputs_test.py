"""How a Keras user calls the mixing layers: input forms, when they mix, NumPy arguments, symbolic specs.

Label/pixel consistency uses `onehot_images` (layer_checks.py): the spatial mean of mixed image i is the
label it must carry when the labels are the one-hot sample ids, so expected labels come from the pixels.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from layer_checks import TRIES, distinct_images, is_mixed, onehot_images, pixel_sources, quiet_unwrapped_warning

B, H, W = 5, 6, 7
LAYERS = {
    "CutMix": lambda **kw: kc.CutMix(**{"num_classes": B, "seed": 3, **kw}),
    "MixUp": lambda **kw: kc.MixUp(**{"num_classes": B, "seed": 4, **kw}),
    "Cutout": lambda **kw: kc.Cutout(**{"num_classes": B, "seed": 5, "size": 3, **kw}),
}
LABEL_MIXERS = ("CutMix", "MixUp")


def _first_mixed(call, before):
    """Calls `call()` up to TRIES times and returns the first output whose images differ from `before`."""
    for _ in range(TRIES):
        out = call()
        images = out["images"] if isinstance(out, dict) else out[0] if isinstance(out, tuple) else out
        if is_mixed(before, images):
            return out
    raise AssertionError(f"{TRIES} calls never mixed the batch")


# --- item 10: (images, labels) tuples, dicts, images alone ---------------------------------------------


@pytest.mark.parametrize("name", LABEL_MIXERS)
def test_tuple_input_mixes_labels_with_the_pixels(name):
    layer = LAYERS[name]()
    images = onehot_images(B, H, W)
    ids = np.arange(B)
    out = _first_mixed(lambda: layer((images, ids), training=True), images)
    assert isinstance(out, tuple) and len(out) == 2
    mixed_images, labels = out
    assert labels.dtype == tf.float32 and tuple(labels.shape) == (B, B)
    np.testing.assert_allclose(labels.numpy(), pixel_sources(mixed_images), rtol=0, atol=1e-6)


def test_tuple_with_sample_weight_passes_the_weights_through():
    layer = LAYERS["CutMix"]()
    images = onehot_images(B, H, W)
    weights = tf.constant([0.5, 1.0, 2.0, 3.0, 4.0])
    out = _first_mixed(lambda: layer((images, np.arange(B), weights), training=True), images)
    assert len(out) == 3 and out[2] is weights
    np.testing.assert_allclose(out[1].numpy(), pixel_sources(out[0]), rtol=0, atol=1e-6)


def test_list_input_is_a_tuple_and_other_lengths_raise():
    layer = LAYERS["CutMix"]()
    images = onehot_images(B, H, W)
    out = layer([images, np.arange(B)], training=True)
    assert isinstance(out, tuple) and tuple(out[1].shape) == (B, B)
    with pytest.raises(ValueError, match=r"CutMix: Expected images, a dict, .*Received: a tuple of 4 entries"):
        layer((images, np.arange(B), np.ones(B), np.ones(B)), training=True)


def test_cutout_tuple_one_hot_encodes_and_keeps_labels():
    out = LAYERS["Cutout"]()((distinct_images(B, H, W), np.arange(B)), training=True)
    np.testing.assert_array_equal(out[1].numpy(), np.eye(B))


# --- item 11: on its own the layer mixes unless training=False; in a model only in training --------------


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_called_on_its_own_the_layer_mixes_without_training_argument(name):
    layer = LAYERS[name]()
    images = distinct_images(B, H, W)
    mixed = [layer({"images": images, "labels": np.arange(B)})["images"] for _ in range(TRIES)]
    assert any(is_mixed(images, m) for m in mixed), "layer(batch) never mixed"
    assert not is_mixed(images, layer(images, training=False))


@pytest.mark.parametrize("name", LABEL_MIXERS)
def test_dataset_map_of_the_layer_mixes_dict_batches(name):
    images = onehot_images(B, H, W)
    ds = tf.data.Dataset.from_tensors({"images": images, "labels": np.arange(B)}).repeat(TRIES)
    outs = list(ds.map(LAYERS[name]()))
    mixed = [o for o in outs if is_mixed(images, o["images"])]
    assert mixed, "ds.map(layer) never mixed"
    for out in mixed:
        np.testing.assert_allclose(out["labels"].numpy(), pixel_sources(out["images"]), rtol=0, atol=1e-6)


def test_custom_loop_in_tf_function_mixes():
    layer = LAYERS["CutMix"]()
    images = distinct_images(B, H, W)
    step = tf.function(lambda x: layer(x))
    assert any(is_mixed(images, step(images)) for _ in range(TRIES))


def test_inside_a_model_mixes_only_in_training():
    layer = LAYERS["CutMix"]()
    images = distinct_images(B, H, W)
    model = keras.Sequential([keras.Input((H, W, 3), dtype="uint8"), layer])
    for _ in range(TRIES):
        assert not is_mixed(images, model(images))
        assert not is_mixed(images, model(images, training=False))
    with quiet_unwrapped_warning():
        assert any(is_mixed(images, model(images, training=True)) for _ in range(TRIES))


# --- item 12: NumPy scalars wherever a Python number goes -------------------------------------------------


def test_layers_take_numpy_scalars_and_save_python_numbers():
    y = np.arange(B)
    layers = [
        kc.CutMix(num_classes=y.max() + 1, alpha=np.float32(0.25), probability=np.float64(1.0),
                  label_smoothing=np.float32(0.125), seed=np.int64(3), per_sample=np.bool_(True)),
        kc.MixUp(num_classes=np.int32(B), alpha=np.float32(0.25), seed=np.int64(3)),
        kc.Cutout(size=np.int64(4), fill_value=np.uint8(7), num_classes=np.int64(B), seed=np.int64(3)),
        kc.Cutout(size=(np.int64(2), np.int32(3)), probability=np.float32(0.5)),
    ]
    for layer in layers:
        config = layer.get_config()
        json.dumps(config)  # Plain JSON data, as a .keras file needs.
        for key in ("num_classes", "alpha", "probability", "label_smoothing", "seed", "fill_value"):
            if config.get(key) is not None:
                assert type(config[key]) in (int, float), (key, type(config[key]))
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    assert layers[0].num_classes == B and layers[0].per_sample is True
    assert layers[2].get_config()["size"] == [4, 4] and layers[3].get_config()["size"] == [2, 3]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_with_numpy_arguments_equals_layer_with_python_arguments(name):
    numpy_kwargs = {"num_classes": np.int64(B), "seed": np.int64(9)}
    if name == "Cutout":
        numpy_kwargs["size"] = np.int64(3)
    else:
        numpy_kwargs["alpha"] = np.float32(0.5)
    python_kwargs = {k: v.item() for k, v in numpy_kwargs.items()}
    images = distinct_images(B, H, W)
    a = LAYERS[name](**numpy_kwargs)((images, np.arange(B)), training=True)
    b = LAYERS[name](**python_kwargs)((images, np.arange(B)), training=True)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


# --- item 16: symbolic output spec -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_symbolic_dict_with_integer_labels_gives_float_one_hot_spec(name):
    data = {"images": keras.Input((H, W, 3)), "labels": keras.Input((), dtype="int32")}
    out = LAYERS[name]()(data)
    assert tuple(out["labels"].shape) == (None, B) and out["labels"].dtype == "float32"
    assert tuple(out["images"].shape) == (None, H, W, 3) and out["images"].dtype == "float32"
    # The spec is what the layer returns in training.
    real = LAYERS[name]()({"images": distinct_images(B, H, W, dtype="float32"), "labels": np.arange(B)},
                          training=True)
    assert real["labels"].dtype == out["labels"].dtype and real["labels"].shape[1:] == out["labels"].shape[1:]


def test_symbolic_tuple_spec_and_float_labels_kept():
    layer = LAYERS["CutMix"]()
    images, labels = keras.Input((H, W, 3)), keras.Input((1,), dtype="int64")
    out = layer.compute_output_spec((images, labels))
    assert tuple(out[1].shape) == (None, B) and out[1].dtype == "float32"
    soft = keras.Input((B,), dtype="float16")
    out = layer.compute_output_spec({"images": images, "labels": soft})
    assert tuple(out["labels"].shape) == (None, B) and out["labels"].dtype == "float16"
