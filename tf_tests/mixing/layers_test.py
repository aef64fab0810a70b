"""Tests of the CutMix, MixUp and Cutout layers: what is special to each, plus the shared layer checks.

Label/pixel consistency uses images whose channels one-hot encode the sample index (see layer_checks):
the spatial mean of a mixed image is then the label it must carry, computed without the layer's help.
"""

import gc
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from layer_checks import (
    NON_SQUARE,
    TRIES,
    assert_distinct_mixes,
    assert_rectangle,
    changed_pixels,
    check_config_round_trip,
    check_dtype_kept,
    check_keras_save_load,
    check_training_false_identity,
    distinct_images,
    is_mixed,
    onehot_images,
    pixel_sources,
    quiet_unwrapped_warning,
)

H, W = NON_SQUARE

LAYERS = {
    "CutMix": lambda **kw: kc.CutMix(**{"seed": 11, **kw}),
    "MixUp": lambda **kw: kc.MixUp(**{"seed": 12, "alpha": 0.4, **kw}),
    "Cutout": lambda **kw: kc.Cutout(**{"seed": 13, "size": (3, 4), "fill_value": 7, **kw}),
}
LABEL_MIXERS = ("CutMix", "MixUp")
UNWRAPPED_MESSAGE = "mixed_loss"


# --- Shared checks (layer_checks.py) ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_config_round_trip(name):
    special = {"size": (2, 5), "fill_value": 9} if name == "Cutout" else {"alpha": 0.3, "per_sample": True}
    config = check_config_round_trip(LAYERS[name], num_classes=5, probability=0.5, label_smoothing=0.1,
                                     data_format="channels_first", **special)
    assert config["seed"] == {"CutMix": 11, "MixUp": 12, "Cutout": 13}[name]
    assert config["data_format"] == "channels_first" and config["num_classes"] == 5
    assert config["probability"] == 0.5 and config["label_smoothing"] == 0.1
    if name == "Cutout":
        assert config["size"] == [2, 5] and config["fill_value"] == 9
    else:
        assert config["alpha"] == 0.3 and config["per_sample"] is True


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_keras_save_and_load(name, tmp_path):
    check_keras_save_load(LAYERS[name], tmp_path)


@pytest.mark.parametrize("name,loss", [
    ("CutMix", "categorical_crossentropy"),
    ("CutMix", "sparse_categorical_crossentropy"),
    ("MixUp", keras.losses.CategoricalCrossentropy(from_logits=True)),
])
def test_keras_save_and_load_compiled_with_mixed_loss(name, loss, tmp_path):
    check_keras_save_load(LAYERS[name], tmp_path, mixed_loss=loss)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_training_false_is_identity(name):
    images = distinct_images(3, H, W, dtype="uint8")
    check_training_false_identity(LAYERS[name], images, labels=np.eye(3, dtype="float32"))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_dtype_kept_also_under_mixed_precision(name):
    check_dtype_kept(LAYERS[name])


# --- Inside a model, labels, seeds ------------------------------------------------------------------------


@pytest.mark.parametrize("height,width", [NON_SQUARE, (37, 53)])
def test_cutmix_in_sequential_non_square(height, width):
    batch = 3
    model = keras.Sequential([keras.Input((height, width, 3)), kc.CutMix(seed=5), keras.layers.Identity()])
    images = onehot_images(batch, height, width)
    pasted = 0
    for _ in range(TRIES):
        with quiet_unwrapped_warning():
            out = np.asarray(model(images, training=True))
        # Every pixel is copied whole from one image: still exactly one-hot.
        np.testing.assert_array_equal(out.sum(axis=-1), 1.0)
        np.testing.assert_array_equal(np.sort(out, axis=-1)[..., -1], 1.0)
        changed = changed_pixels(images, out)
        boxes = {assert_rectangle(changed[i]) for i in range(batch) if changed[i].any()}
        assert len(boxes) <= 1, f"per_sample=False pastes one box for the batch, got sizes {boxes}"
        pasted += bool(boxes)
    assert pasted, "no call pasted a box"
    np.testing.assert_array_equal(model.predict(images, verbose=0), images)


@pytest.mark.parametrize("name", LABEL_MIXERS)
@pytest.mark.parametrize("per_sample", [False, True])
@pytest.mark.parametrize("integer_labels", [True, False])
def test_dict_input_labels_follow_the_pixels(name, per_sample, integer_labels):
    batch = 6
    images = onehot_images(batch, H, W)
    labels = np.arange(batch) if integer_labels else np.eye(batch, dtype="float32")
    masks = np.broadcast_to(np.arange(batch, dtype="int32")[:, None, None], (batch, H, W)).copy()
    layer = LAYERS[name](num_classes=batch, per_sample=per_sample)
    data = {"images": images, "labels": labels, "extra": np.arange(batch)}
    if name == "CutMix":
        data["segmentation_masks"] = masks
    mixed_calls = 0
    for _ in range(TRIES):
        out = layer(data, training=True)
        assert set(out) == set(data)
        np.testing.assert_array_equal(out["extra"], np.arange(batch))
        assert out["images"].dtype == tf.float32 and out["labels"].dtype == tf.float32
        sources = pixel_sources(out["images"])
        np.testing.assert_allclose(out["labels"], sources, atol=1e-6)
        mixed_calls += not np.allclose(sources, np.eye(batch))
        if name == "CutMix":
            changed = changed_pixels(images, out["images"])
            counts = changed.sum(axis=(1, 2))
            # The own-label weight is exactly the fraction of pixels that were not replaced.
            np.testing.assert_allclose(np.diag(np.asarray(out["labels"])), 1.0 - counts / (H * W), atol=1e-6)
            sizes = {assert_rectangle(changed[i]) for i in range(batch) if counts[i]}
            if not per_sample:
                assert len(sizes) <= 1, sizes
            # Masks are pasted with the same box as the images.
            np.testing.assert_array_equal(out["segmentation_masks"], np.argmax(out["images"], axis=-1))
    assert mixed_calls >= TRIES // 2, f"only {mixed_calls} of {TRIES} calls mixed anything"


@pytest.mark.parametrize("name", LABEL_MIXERS)
def test_label_smoothing_is_applied_before_mixing(name):
    batch, smoothing = 5, 0.2
    images = onehot_images(batch, H, W)
    layer = LAYERS[name](num_classes=batch, label_smoothing=smoothing)
    out = layer({"images": images, "labels": np.arange(batch)}, training=True)
    # Mixing is linear with weights summing to 1, so mix(smooth(y)) = (1 - s) * mix(y) + s / K.
    expected = (1 - smoothing) * pixel_sources(out["images"]) + smoothing / batch
    np.testing.assert_allclose(out["labels"], expected, atol=1e-6)


def test_cutout_erases_one_hole_per_image_and_keeps_labels():
    batch = 4
    images = distinct_images(batch, H, W, dtype="uint8") + 10  # no pixel equals the fill value 7
    layer = LAYERS["Cutout"](num_classes=3)
    labels = np.array([0, 2, 1, 2])
    out = layer({"images": images, "labels": labels}, training=True)
    np.testing.assert_array_equal(out["labels"], np.eye(3)[labels])
    changed = changed_pixels(images, out["images"])
    for i in range(batch):
        hole_h, hole_w = assert_rectangle(changed[i])
        assert 0 < hole_h <= 3 and 0 < hole_w <= 4, (hole_h, hole_w)
        np.testing.assert_array_equal(np.asarray(out["images"])[i][changed[i]], 7)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_same_seed_same_sequence_and_successive_calls_differ(name):
    images = tf.constant(distinct_images(6, H, W, dtype="float32"))
    first, second, other = LAYERS[name](), LAYERS[name](), LAYERS[name](seed=99)
    run_a = [np.asarray(first(images, training=True)) for _ in range(TRIES)]
    run_b = [np.asarray(second(images, training=True)) for _ in range(TRIES)]
    for a, b in zip(run_a, run_b):
        np.testing.assert_array_equal(a, b)
    assert_distinct_mixes(images, run_a)
    run_other = [np.asarray(other(images, training=True)) for _ in range(TRIES)]
    assert not all(np.array_equal(a, o) for a, o in zip(run_a, run_other)), "seeds 99 and the default agree"


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_channels_first_matches_channels_last(name):
    batch = 5
    last = onehot_images(batch, H, W)
    first = onehot_images(batch, H, W, data_format="channels_first")
    layer_last = LAYERS[name](data_format="channels_last")
    layer_first = LAYERS[name](data_format="channels_first")
    changed_any = False
    for _ in range(3):
        out_last = np.asarray(layer_last(last, training=True))
        out_first = np.asarray(layer_first(first, training=True))
        assert out_first.shape == (batch, batch, H, W)
        # Same seed and image size: the same box and partners, whatever the layout.
        np.testing.assert_array_equal(out_first.transpose(0, 2, 3, 1), out_last)
        changed_any = changed_any or is_mixed(last, out_last)
        if name == "CutMix":
            changed = changed_pixels(first, out_first, "channels_first")
            assert len({assert_rectangle(m) for m in changed if m.any()}) <= 1
    assert changed_any, "no call changed anything"


def test_channels_first_labels_follow_pixels():
    batch = 4
    images = onehot_images(batch, H, W, data_format="channels_first")
    layer = kc.CutMix(num_classes=batch, data_format="channels_first", seed=21)
    out = layer({"images": images, "labels": np.arange(batch)}, training=True)
    np.testing.assert_allclose(out["labels"], pixel_sources(out["images"], "channels_first"), atol=1e-6)


@pytest.mark.parametrize("name", ["Cutout"])  # CutMix under XLA: test_fit_with_jit_compile_matches_plain_fit.
def test_xla_call_matches_eager(name):
    images = tf.constant(distinct_images(4, H, W, dtype="float32"))
    eager_layer, xla_layer = LAYERS[name](), LAYERS[name]()
    compiled = tf.function(lambda x: xla_layer(x, training=True), jit_compile=True)
    for _ in range(2):  # The seed generator advances inside XLA too.
        np.testing.assert_allclose(compiled(images), eager_layer(images, training=True), rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(xla_layer.seed_generator.state.numpy(), [LAYERS[name]().seed, 2])


# --- Training with fit ------------------------------------------------------------------------------------


def _frozen_fit(seed, weights=None, jit_compile=False, epochs=3):
    """Fits a tiny CutMix model with learning rate 0: each epoch's loss depends only on that epoch's mix."""
    batch, classes = 6, 3
    layer = kc.CutMix(num_classes=classes, seed=seed)
    model = keras.Sequential([keras.Input((H, W, 3)), layer, keras.layers.Flatten(),
                              keras.layers.Dense(classes, kernel_initializer=keras.initializers.RandomNormal(seed=1))])
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=jit_compile,
                  loss=layer.mixed_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True)))
    images = distinct_images(batch, H, W, dtype="float32") / 100.0
    labels = np.arange(batch) % classes
    history = model.fit(images, labels, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
    return history.history["loss"], layer, model


def test_fit_epochs_get_different_mixes_and_same_seed_repeats():
    losses, layer, model = _frozen_fit(seed=4)
    # An epoch whose draw changes nothing scores the plain loss; two such epochs may tie, no others.
    assert len(set(losses)) >= 2 and len(set(losses)) >= len(losses) - 1, f"epochs reused a mix: {losses}"
    np.testing.assert_array_equal(layer.seed_generator.state.numpy(), [4, 3])  # one draw per step
    again, _, _ = _frozen_fit(seed=4, weights=model.get_weights())
    np.testing.assert_array_equal(again, losses)
    other, _, _ = _frozen_fit(seed=5, weights=model.get_weights())
    assert not np.allclose(other, losses)


def test_fit_with_jit_compile_matches_plain_fit():
    losses, _, model = _frozen_fit(seed=4, epochs=2)
    xla_losses, xla_layer, _ = _frozen_fit(seed=4, weights=model.get_weights(), jit_compile=True, epochs=2)
    assert np.all(np.isfinite(xla_losses))
    np.testing.assert_allclose(xla_losses, losses, rtol=1e-5)
    np.testing.assert_array_equal(xla_layer.seed_generator.state.numpy(), [4, 2])


def _train(layer, wrap):
    """Fits two one-step epochs, then runs one more training call eagerly (the layer's `call` runs again)."""
    classes = 3
    model = keras.Sequential([keras.Input((H, W, 3)), layer, keras.layers.Flatten(), keras.layers.Dense(classes)])
    loss = "sparse_categorical_crossentropy"
    model.compile(optimizer="sgd", loss=layer.mixed_loss(loss) if wrap else loss)
    images, labels = distinct_images(4, H, W, dtype="float32"), np.arange(4) % classes
    model.fit(images, labels, batch_size=4, epochs=2, verbose=0)
    model(images, training=True)


def _unwrapped_warnings(record):
    return [w for w in record if UNWRAPPED_MESSAGE in str(w.message) and "UNMIXED" in str(w.message)]


@pytest.mark.parametrize("name", LABEL_MIXERS)
def test_unwrapped_loss_warns_exactly_once(name):
    layer = LAYERS[name](name=f"unwrapped_{name.lower()}")
    with pytest.warns(UserWarning) as record:
        _train(layer, wrap=False)
    found = _unwrapped_warnings(record)
    assert len(found) == 1, [str(w.message) for w in record]
    message = str(found[0].message)
    assert name in message and layer.name in message


@pytest.mark.parametrize("name", LABEL_MIXERS)
def test_wrapped_loss_does_not_warn(name):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _train(LAYERS[name](name=f"wrapped_{name.lower()}"), wrap=True)
    assert not _unwrapped_warnings(record)


def test_cutout_does_not_warn():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _train(LAYERS["Cutout"](name="cutout_no_warning"), wrap=False)
    assert not _unwrapped_warnings(record)


def test_direct_call_does_not_warn():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        kc.CutMix(seed=1, name="direct_call")(distinct_images(2, H, W), training=True)
    assert not _unwrapped_warnings(record)


def test_unwrapped_layer_warns_even_if_an_earlier_layer_of_that_name_was_wrapped():
    # Names repeat across models, and after `keras.backend.clear_session()` auto names start over
    # ("cut_mix" again). Wrapping the loss of one model must not silence the warning for another.
    wrapped = kc.CutMix(seed=1, name="reused_name")
    _train(wrapped, wrap=True)
    unwrapped = kc.CutMix(seed=2, name="reused_name")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _train(unwrapped, wrap=False)
    assert len(_unwrapped_warnings(record)) == 1, "training on unmixed labels went unreported"


def test_a_freed_loaded_loss_no_longer_silences_its_layer_name():
    # A loss loaded from a config follows a layer by name; while it lives, that name's layers do not warn. Once
    # it is freed, a new unwrapped layer of that name trains on unmixed labels and must say so.
    loaded = keras.losses.deserialize(keras.losses.serialize(kc.CutMix(name="once_loaded").mixed_loss("mse")))
    silenced = kc.CutMix(seed=1, name="once_loaded")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _train(silenced, wrap=False)
    assert not _unwrapped_warnings(record), "a live loaded loss follows this name"
    del loaded
    gc.collect()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _train(kc.CutMix(seed=2, name="once_loaded"), wrap=False)
    assert len(_unwrapped_warnings(record)) == 1, "training on unmixed labels went unreported"


def test_mixup_is_not_a_cutmix():
    """A MixUp layer must never pass an `isinstance(layer, CutMix)` check (the issue's simplification)."""
    assert not issubclass(kc.MixUp, kc.CutMix)
    assert kc.MixUp(alpha=0.2, per_sample=True).get_config()["alpha"] == 0.2
