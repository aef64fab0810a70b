"""Checks every mixing layer needs (STYLE.md, item 10), shared by layers_test.py and the other layer tests.

Each `check_*` takes a `make_layer(**overrides)` factory (so a check can build fresh layers, e.g. under a
mixed precision policy) and raises AssertionError with a readable message when the layer falls short.
The expected values are written by hand or computed here in NumPy, never by the layer under test.

`onehot_images` builds a batch whose channels one-hot encode the sample index. Then, for any CutMix or
MixUp of it, the spatial mean of output image i is exactly the mixed label of sample i (labels = one-hot
sample ids): each pixel says where it came from. This is what makes label/pixel consistency testable
without reading the layer's own record of what it did.
"""

import contextlib
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

NON_SQUARE = (5, 7)
DTYPES = ("uint8", "float16", "bfloat16", "float32")
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")
# One draw may leave a batch unchanged (an empty box, every image its own partner, a lambda of 1), so
# tests that need a visible mix try a few successive draws instead of trusting one seed's luck.
TRIES = 6


def onehot_images(batch, height, width, data_format="channels_last", dtype="float32"):
    """Images [B, H, W, B] (or [B, B, H, W]) whose channels one-hot encode the sample index."""
    codes = np.eye(batch, dtype=np.float32)[:, None, None, :]
    images = np.broadcast_to(codes, (batch, height, width, batch)).copy()
    if data_format == "channels_first":
        images = images.transpose(0, 3, 1, 2).copy()
    return images.astype(dtype)


def pixel_sources(mixed, data_format="channels_last"):
    """For `onehot_images` after mixing: float64 [B, B], fraction of image i's pixels from each sample."""
    mixed = np.asarray(tf.cast(mixed, tf.float32)).astype(np.float64)
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    return mixed.mean(axis=axes)


def distinct_images(batch, height, width, channels=3, dtype="uint8", data_format="channels_last", seed=0):
    """Random images whose pixels differ between any two samples in every channel (so changes are visible)."""
    rng = np.random.default_rng(seed)
    high = 120 if dtype == "uint8" else 100
    base = rng.integers(0, high // batch, size=(1, height, width, channels))
    images = base + (high // batch) * np.arange(batch)[:, None, None, None]
    if data_format == "channels_first":
        images = images.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(images).astype(dtype)


def is_mixed(before, after):
    """Whether `after` differs from `before` anywhere."""
    return not np.array_equal(np.asarray(tf.cast(before, tf.float32)), np.asarray(tf.cast(after, tf.float32)))


def assert_distinct_mixes(before, outputs, what="calls"):
    """Outputs that changed `before` are pairwise different, and at least half of the outputs changed it.

    Unchanged outputs may repeat (see TRIES); two changed ones are the same mix drawn twice.
    """
    arrays = [np.asarray(tf.cast(o, tf.float32)) for o in outputs]
    mixed = [i for i, a in enumerate(arrays) if is_mixed(before, a)]
    assert 2 * len(mixed) >= len(arrays), f"only {what} {mixed} of {len(arrays)} changed the batch"
    for n, i in enumerate(mixed):
        for j in mixed[:n]:
            assert not np.array_equal(arrays[i], arrays[j]), f"{what} {j} and {i} drew the same mix"


def changed_pixels(before, after, data_format="channels_last"):
    """Bool [B, H, W]: pixels where any channel changed."""
    channel_axis = 3 if data_format == "channels_last" else 1
    before = np.asarray(tf.cast(before, tf.float32))
    after = np.asarray(tf.cast(after, tf.float32))
    return np.any(before != after, axis=channel_axis)


def assert_rectangle(mask):
    """Asserts a bool [H, W] mask is empty or one filled axis-aligned rectangle; returns its (h, w)."""
    if not mask.any():
        return 0, 0
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    box = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    assert box.all() and mask.sum() == box.size, f"changed pixels are not one rectangle:\n{mask.astype(int)}"
    return box.shape


def check_config_round_trip(make_layer, **kwargs):
    """`from_config(get_config())` gives a layer of the same class with an equal config."""
    layer = make_layer(**kwargs)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == config, (clone.get_config(), config)
    # The config is plain data (it goes into a .keras file as JSON).
    keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    return config


def check_training_false_identity(make_layer, images, labels=None):
    """With training=False, and inside a model that is not training, the layer returns its inputs exactly.

    (Called on its own without `training`, the layer mixes, as `keras.layers.CutMix` does: see
    layers_test.py.)
    """
    layer = make_layer()
    out = layer(images, training=False)
    np.testing.assert_array_equal(np.asarray(tf.cast(out, tf.float32)), np.asarray(tf.cast(images, tf.float32)))
    assert out.dtype == tf.convert_to_tensor(images).dtype
    if labels is not None:
        out = layer({"images": images, "labels": labels}, training=False)
        assert set(out) == {"images", "labels"}
        np.testing.assert_array_equal(np.asarray(out["images"]), np.asarray(images))
        np.testing.assert_array_equal(np.asarray(out["labels"]), np.asarray(labels))
    model = keras.Sequential([keras.Input(images.shape[1:], dtype=str(tf.as_dtype(images.dtype).name)), layer])
    np.testing.assert_array_equal(np.asarray(model.predict(images, verbose=0)), np.asarray(images))
    for out in (model(images), model(images, training=False)):  # Inside a model, no training: no mix.
        np.testing.assert_array_equal(np.asarray(tf.cast(out, tf.float32)),
                                      np.asarray(tf.cast(images, tf.float32)))


def check_keras_save_load(make_layer, tmp_path, input_shape=(*NON_SQUARE, 3), num_classes=3, mixed_loss=None):
    """A model holding the layer saves to .keras and loads in safe mode without `custom_objects`.

    With `mixed_loss` (a loss name or instance), the model is compiled with `layer.mixed_loss(mixed_loss)`
    and the loaded model must come back compiled with an equal `MixedLoss` that still trains.
    """
    from keras_cutmix.mixing import losses as losses_lib

    layer = make_layer(num_classes=num_classes) if mixed_loss is not None else make_layer()
    model = keras.Sequential([
        keras.Input(input_shape), layer, keras.layers.Flatten(), keras.layers.Dense(num_classes),
    ])
    if mixed_loss is not None:
        model.compile(optimizer="sgd", loss=layer.mixed_loss(mixed_loss))
    path = os.path.join(str(tmp_path), f"{layer.name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True, custom_objects=None: the defaults.
    loaded_layer = loaded.layers[0]
    assert type(loaded_layer) is type(layer)
    assert loaded_layer.get_config() == layer.get_config()
    images = np.random.default_rng(0).random((4, *input_shape)).astype("float32")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-6)
    if mixed_loss is not None:
        assert isinstance(loaded.loss, losses_lib.MixedLoss), type(loaded.loss)
        assert loaded.loss.get_config() == model.loss.get_config()
        assert loaded.loss.layer_name == loaded_layer.name
        labels = np.arange(4) % num_classes
        if not isinstance(mixed_loss, str) or "sparse" not in mixed_loss:
            labels = np.eye(num_classes, dtype="float32")[labels]
        loss = loaded.train_on_batch(images, labels)
        assert np.isfinite(loss), loss
    return loaded


@contextlib.contextmanager
def quiet_unwrapped_warning():
    """Silences the "labels are not mixed" warning where a test calls a model on images only on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*UNMIXED labels")
        yield


@contextlib.contextmanager
def dtype_policy(name):
    """Sets the global Keras dtype policy, and restores the previous one afterwards (even on failure)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def check_dtype_kept(make_layer, shape=(4, *NON_SQUARE, 3), dtypes=DTYPES, policies=(None, *MIXED_POLICIES),
                     data_format="channels_last"):
    """training=True keeps the input dtype and changes the images, with and without mixed precision.

    Under a policy the layer is built inside the policy, called directly and inside a Sequential model
    whose `keras.Input` has the dtype.
    """
    images_by_dtype = {d: distinct_images(*shape, dtype=d, data_format=data_format) for d in dtypes}
    for policy in policies:
        with dtype_policy(policy) if policy else contextlib.nullcontext():
            for dtype, images in images_by_dtype.items():
                layer = make_layer()
                changed = False
                for _ in range(TRIES):
                    out = layer(tf.constant(images), training=True)
                    assert out.dtype == tf.as_dtype(dtype), f"policy={policy}: {dtype} came back as {out.dtype.name}"
                    assert out.shape == images.shape
                    changed = is_mixed(images, out)
                    if changed:
                        break
                assert changed, f"policy={policy}, dtype={dtype}: training=True never changed the images"
                model_layer = make_layer()
                model = keras.Sequential([keras.Input(shape[1:], dtype=dtype), model_layer])
                with quiet_unwrapped_warning():
                    out = model(tf.constant(images), training=True)
                assert out.dtype == tf.as_dtype(dtype), f"policy={policy}: in a model {dtype} became {out.dtype.name}"
    assert keras.config.dtype_policy().name == "float32", "the dtype policy leaked out of the check"
