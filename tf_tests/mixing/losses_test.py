"""Tests of MixedLoss: exactly the cross-entropy against hand-mixed targets, computed in NumPy.

The mix is read from the pixels, not from the library: the model's input images one-hot encode the
sample index in their channels, so the spatial mean of each mixed image is the row of the mixing matrix
M (M[i, k] = share of image i that came from sample k), and the mixed targets are M @ smooth(one_hot(y)).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from keras_cutmix.mixing import losses as losses_lib
from layer_checks import TRIES, dtype_policy, onehot_images, pixel_sources

B, K, H, W = 6, 4, 5, 7
LABELS = np.array([0, 1, 2, 3, 1, 2])


def numpy_one_hot(labels, smoothing=0.0):
    targets = np.eye(K)[np.asarray(labels).reshape(-1)]
    return targets * (1.0 - smoothing) + smoothing / K


def numpy_cross_entropy(targets, predictions, from_logits=True):
    predictions = np.asarray(predictions, np.float64)
    if from_logits:
        shifted = predictions - predictions.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        log_probs = np.log(predictions / predictions.sum(axis=-1, keepdims=True))
    return float(np.mean(-(targets * log_probs).sum(axis=-1)))


def y_true_as(form):
    if form == "sparse":
        return LABELS.astype("int32")
    if form == "sparse_column":
        return LABELS[:, None].astype("int64")
    return np.eye(K, dtype="float32")[LABELS]


def mixing_model(layer):
    """Input -> layer -> Flatten -> Dense, returning the mixed images too (to read the mix off them)."""
    inputs = keras.Input((H, W, B))
    mixed = layer(inputs)
    logits = keras.layers.Dense(K, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=2))(
        keras.layers.Flatten()(mixed))
    return keras.Model(inputs, [mixed, logits])


def is_trivial(sources):
    return np.allclose(sources, np.eye(B))


def mix_until_nontrivial(call):
    """Runs `call()`, a training call returning the mixed images (or a tuple led by them), until it mixes.

    One draw may change nothing (see layer_checks.TRIES), and a check against an unmixed batch would pass
    for a loss that ignores the mix. Returns what `call` returned and the mixing matrix of its images.
    """
    for _ in range(TRIES):
        result = call()
        sources = pixel_sources(result[0] if isinstance(result, (tuple, list)) else result)
        if not is_trivial(sources):
            return result, sources
    raise AssertionError(f"{TRIES} training calls in a row mixed nothing")


@pytest.mark.parametrize("layer_class", [kc.CutMix, kc.MixUp])
@pytest.mark.parametrize("form,smoothing", [("sparse", 0.0), ("sparse_column", 0.1), ("one_hot", 0.0),
                                            ("one_hot", 0.2)])
def test_training_step_loss_is_cross_entropy_against_hand_mixed_targets(layer_class, form, smoothing):
    layer = layer_class(num_classes=K, label_smoothing=smoothing, seed=8)
    model = mixing_model(layer)
    loss = layer.mixed_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    images = onehot_images(B, H, W)
    mixed_steps = 0
    for _ in range(TRIES):
        with tf.GradientTape() as tape:
            mixed, logits = model(images, training=True)
            value = loss(y_true_as(form), logits)
        grads = tape.gradient(value, model.trainable_variables)
        assert all(g is not None for g in grads)
        sources = pixel_sources(mixed)
        targets = sources @ numpy_one_hot(LABELS, smoothing)
        np.testing.assert_allclose(float(value), numpy_cross_entropy(targets, logits), rtol=1e-5, atol=1e-6)
        if not is_trivial(sources):
            mixed_steps += 1
            # Hence not the loss against the unmixed targets.
            assert abs(float(value) - numpy_cross_entropy(numpy_one_hot(LABELS, smoothing), logits)) > 1e-4
    assert 2 * mixed_steps >= TRIES, f"only {mixed_steps} of {TRIES} steps mixed anything"


def test_fit_step_loss_is_cross_entropy_against_hand_mixed_targets():
    layer = kc.CutMix(num_classes=K, seed=3)
    model = keras.Sequential([keras.Input((H, W, B)), layer, keras.layers.Flatten(),
                              keras.layers.Dense(K, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=layer.mixed_loss("sparse_categorical_crossentropy"))
    images = onehot_images(B, H, W)
    epochs = 3
    history = model.fit(images, LABELS, batch_size=B, epochs=epochs, shuffle=False, verbose=0)
    # Replay the steps' mixes: a fresh layer with the same seed draws the same sequence.
    replay = kc.CutMix(num_classes=K, seed=3)
    mixed_steps = 0
    for epoch in range(epochs):
        mixed = replay(images, training=True)
        probs = model.layers[-1](model.layers[-2](mixed))
        sources = pixel_sources(mixed)
        mixed_steps += not is_trivial(sources)
        expected = numpy_cross_entropy(sources @ numpy_one_hot(LABELS), probs, from_logits=False)
        np.testing.assert_allclose(history.history["loss"][epoch], expected, rtol=1e-5)
    assert mixed_steps >= 2


@pytest.mark.parametrize("loss,from_logits", [
    ("sparse_categorical_crossentropy", False),
    (keras.losses.sparse_categorical_crossentropy, False),
    (keras.losses.SparseCategoricalCrossentropy(), False),
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True), True),
    ("categorical_crossentropy", False),
    (keras.losses.CategoricalCrossentropy(from_logits=True), True),
])
def test_sparse_losses_become_categorical(loss, from_logits):
    layer = kc.CutMix(num_classes=K, seed=8)
    mixed_loss = layer.mixed_loss(loss)
    base = mixed_loss.base_loss
    if isinstance(base, losses_lib._FunctionLoss):  # A loss name or function: wrapped as it is.
        assert base.fn is keras.losses.categorical_crossentropy
    else:
        assert isinstance(base, keras.losses.CategoricalCrossentropy)
        assert base.get_config()["from_logits"] is from_logits
    images = onehot_images(B, H, W)
    _, sources = mix_until_nontrivial(lambda: layer(images, training=True))
    logits = np.random.default_rng(0).normal(size=(B, K)).astype("float32")
    predictions = logits if from_logits else np.asarray(keras.activations.softmax(logits))
    targets = sources @ numpy_one_hot(LABELS)
    for y_true in (y_true_as("sparse"), y_true_as("sparse_column"), y_true_as("one_hot")):
        np.testing.assert_allclose(float(mixed_loss(y_true, predictions)),
                                   numpy_cross_entropy(targets, predictions, from_logits), rtol=1e-5)


def test_num_classes_defaults_to_the_prediction_width():
    layer = kc.CutMix(seed=8)  # no num_classes
    loss = layer.mixed_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    images = onehot_images(B, H, W)
    _, sources = mix_until_nontrivial(lambda: layer(images, training=True))
    logits = np.random.default_rng(1).normal(size=(B, K)).astype("float32")
    targets = sources @ numpy_one_hot(LABELS)
    np.testing.assert_allclose(float(loss(LABELS, logits)), numpy_cross_entropy(targets, logits), rtol=1e-5)


def test_evaluation_uses_plain_targets():
    layer = kc.CutMix(num_classes=K, seed=8, label_smoothing=0.1)
    model = keras.Sequential([keras.Input((H, W, B)), layer, keras.layers.Flatten(), keras.layers.Dense(K)])
    model.compile(optimizer="sgd", loss=layer.mixed_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True)))
    images = onehot_images(B, H, W)
    model.fit(images, LABELS, batch_size=B, epochs=1, verbose=0)  # leaves a training record behind
    logits = model.predict(images, verbose=0)
    expected = numpy_cross_entropy(numpy_one_hot(LABELS), logits)  # neither mixed nor smoothed
    np.testing.assert_allclose(model.evaluate(images, LABELS, batch_size=B, verbose=0), expected, rtol=1e-5)
    # Eagerly: a training call records a mix, a training=False call clears it.
    layer(images, training=True)
    assert losses_lib.current_mix(layer.name) is not None
    layer(images, training=False)
    assert losses_lib.current_mix(layer.name) is None
    np.testing.assert_allclose(float(model.loss(LABELS, logits)), expected, rtol=1e-5)


def test_records_from_another_graph_are_ignored():
    layer = kc.CutMix(num_classes=K, seed=8)
    loss = layer.mixed_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    images = onehot_images(B, H, W)
    logits = np.random.default_rng(2).normal(size=(B, K)).astype("float32")
    y_true = y_true_as("one_hot")
    plain = numpy_cross_entropy(numpy_one_hot(LABELS), logits)

    in_graph = tf.function(lambda x: layer(x, training=True))
    mix_until_nontrivial(lambda: in_graph(images))  # records a real mix inside that graph
    np.testing.assert_allclose(float(loss(y_true, logits)), plain, rtol=1e-5)  # eager: not that graph
    other_graph = tf.function(lambda y, p: loss(y, p))
    np.testing.assert_allclose(float(other_graph(y_true, logits)), plain, rtol=1e-5)

    # An eager record is not used inside a graph either.
    mix_until_nontrivial(lambda: layer(images, training=True))
    np.testing.assert_allclose(float(other_graph(y_true, logits)), plain, rtol=1e-5)

    # Control: in the graph that recorded it, the mix is used.
    @tf.function
    def same_graph(x, y, p):
        return layer(x, training=True), loss(y, p)

    (_, value), sources = mix_until_nontrivial(lambda: same_graph(images, y_true, logits))
    expected = numpy_cross_entropy(sources @ numpy_one_hot(LABELS), logits)
    np.testing.assert_allclose(float(value), expected, rtol=1e-5)
    assert abs(expected - plain) > 1e-4


def test_records_are_per_layer_name():
    first, second = kc.CutMix(num_classes=K, seed=8), kc.CutMix(num_classes=K, seed=9)
    loss = second.mixed_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    images = onehot_images(B, H, W)
    _, sources = mix_until_nontrivial(lambda: second(images, training=True))
    first(images, training=True)  # another layer's mix must not replace `second`'s
    logits = np.random.default_rng(3).normal(size=(B, K)).astype("float32")
    targets = sources @ numpy_one_hot(LABELS)
    np.testing.assert_allclose(float(loss(y_true_as("one_hot"), logits)), numpy_cross_entropy(targets, logits),
                               rtol=1e-5)


@pytest.mark.parametrize("base", ["categorical_crossentropy", "sparse_categorical_crossentropy",
                                  keras.losses.SparseCategoricalCrossentropy(from_logits=True)])
def test_get_config_from_config_round_trip(base):
    layer = kc.CutMix(num_classes=K, label_smoothing=0.1, seed=8, name="round_trip_cutmix")
    loss = layer.mixed_loss(base)
    config = loss.get_config()
    assert config["layer_name"] == "round_trip_cutmix" and config["num_classes"] == K
    assert config["label_smoothing"] == 0.1
    clone = kc.MixedLoss.from_config(config)
    assert clone.get_config() == config
    revived = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(revived, kc.MixedLoss) and revived.get_config() == config
    images = onehot_images(B, H, W)
    _, sources = mix_until_nontrivial(lambda: layer(images, training=True))
    predictions = np.asarray(keras.activations.softmax(np.random.default_rng(4).normal(size=(B, K))), "float32")
    from_logits = isinstance(base, keras.losses.Loss)
    if from_logits:
        predictions = np.log(predictions)  # logits whose softmax is `predictions`
    targets = sources @ numpy_one_hot(LABELS, 0.1)
    expected = numpy_cross_entropy(targets, predictions, from_logits)
    for each in (loss, clone, revived):
        np.testing.assert_allclose(float(each(LABELS, predictions)), expected, rtol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_logits(policy):
    with dtype_policy(policy):
        layer = kc.CutMix(num_classes=K, seed=8)
        model = mixing_model(layer)
        loss = layer.mixed_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        images = onehot_images(B, H, W)
        (mixed, logits), sources = mix_until_nontrivial(lambda: model(images, training=True))
        value = loss(LABELS, logits)
    assert mixed.dtype == tf.float32 and logits.dtype == tf.as_dtype(policy.split("_")[1])
    targets = sources @ numpy_one_hot(LABELS)
    # Targets are mixed in the logits' half precision: agree to its resolution, not to 1e-5.
    np.testing.assert_allclose(float(value), numpy_cross_entropy(targets, np.asarray(tf.cast(logits, tf.float32))),
                               rtol=2e-2)
