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


def test_records_follow_the_layer_object_not_its_name():
    # Two models whose mixing layers share a name: each loss must read its own layer's mix.
    ours, theirs = kc.CutMix(num_classes=K, seed=8, name="mix"), kc.CutMix(num_classes=K, seed=9, name="mix")
    loss = ours.mixed_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    images = onehot_images(B, H, W)
    logits = np.random.default_rng(5).normal(size=(B, K)).astype("float32")
    _, sources = mix_until_nontrivial(lambda: ours(images, training=True))
    _, other = mix_until_nontrivial(lambda: theirs(images, training=True))  # the latest record of name "mix"
    assert not np.allclose(sources, other)
    expected = numpy_cross_entropy(sources @ numpy_one_hot(LABELS), logits)
    np.testing.assert_allclose(float(loss(y_true_as("one_hot"), logits)), expected, rtol=1e-5)
    # In one traced function too (records are per graph, and both layers record in this one).
    @tf.function
    def step(x, y, p):
        return ours(x, training=True), theirs(x, training=True), loss(y, p)

    (_, _, value), sources = mix_until_nontrivial(lambda: step(images, y_true_as("one_hot"), logits))
    np.testing.assert_allclose(float(value), numpy_cross_entropy(sources @ numpy_one_hot(LABELS), logits), rtol=1e-5)


def test_a_renamed_layer_keeps_its_loss():
    layer = kc.CutMix(num_classes=K, seed=8, name="before")
    loss = layer.mixed_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    layer.name = "after"  # e.g. renamed to fit a naming scheme after the loss was made
    images = onehot_images(B, H, W)
    logits = np.random.default_rng(6).normal(size=(B, K)).astype("float32")
    _, sources = mix_until_nontrivial(lambda: layer(images, training=True))
    expected = numpy_cross_entropy(sources @ numpy_one_hot(LABELS), logits)
    np.testing.assert_allclose(float(loss(y_true_as("one_hot"), logits)), expected, rtol=1e-5)
    assert loss.get_config()["layer_name"] == "after"  # saved under the name the layer has now


def test_a_loss_from_a_config_follows_the_latest_layer_of_its_name():
    layer = kc.CutMix(num_classes=K, seed=8, name="configured_mix")
    loss = kc.MixedLoss.from_config(layer.mixed_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
                                    .get_config())  # knows the name only, as after `keras.saving.load_model`
    images = onehot_images(B, H, W)
    logits = np.random.default_rng(7).normal(size=(B, K)).astype("float32")
    _, sources = mix_until_nontrivial(lambda: layer(images, training=True))
    expected = numpy_cross_entropy(sources @ numpy_one_hot(LABELS), logits)
    np.testing.assert_allclose(float(loss(y_true_as("one_hot"), logits)), expected, rtol=1e-5)


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


# --- Binary, multi-label and regression targets (issue item 1) ----------------------------------------


def numpy_binary_cross_entropy(targets, logits, smoothing=0.0):
    """Per-sample BCE from logits, mean over the last axis, with Keras's binary smoothing (y -> y(1-e) + e/2)."""
    targets = np.asarray(targets, np.float64) * (1.0 - smoothing) + 0.5 * smoothing
    logits = np.asarray(logits, np.float64)
    log_p, log_not_p = -np.logaddexp(0.0, -logits), -np.logaddexp(0.0, logits)
    return np.mean(-(targets * log_p + (1.0 - targets) * log_not_p), axis=-1)


def head_model(layer, width):
    """Input -> layer -> Flatten -> Dense(width), returning the mixed images too."""
    inputs = keras.Input((H, W, B))
    mixed = layer(inputs)
    head = keras.layers.Dense(width, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=2))
    return keras.Model(inputs, [mixed, head(keras.layers.Flatten()(mixed))])


BINARY = np.array([0, 1, 1, 0, 1, 0])


@pytest.mark.parametrize("layer_class", [kc.CutMix, kc.MixUp])
@pytest.mark.parametrize("y_true", [BINARY.astype("int32"), BINARY[:, None].astype("int64"),
                                    BINARY.astype("float32")], ids=["int_vector", "int_column", "float_vector"])
def test_binary_targets_are_mixed_as_floats(layer_class, y_true):
    layer = layer_class(seed=8)
    model = head_model(layer, 1)
    loss = layer.mixed_loss(keras.losses.BinaryCrossentropy(from_logits=True))
    images = onehot_images(B, H, W)
    (_, logits), sources = mix_until_nontrivial(lambda: model(images, training=True))
    value = loss(y_true, logits)
    targets = sources @ BINARY.astype(np.float64)[:, None]
    np.testing.assert_allclose(float(value), numpy_binary_cross_entropy(targets, logits).mean(), rtol=1e-5)
    # Outside training: the plain targets, as BinaryCrossentropy itself scores them.
    layer(images, training=False)
    np.testing.assert_allclose(float(loss(y_true, logits)), numpy_binary_cross_entropy(BINARY[:, None], logits).mean(),
                               rtol=1e-5)


def test_multi_label_and_regression_targets_are_mixed_as_floats():
    layer = kc.MixUp(seed=8)
    rng = np.random.default_rng(5)
    multi_hot = (rng.random((B, K)) > 0.5).astype("int32")
    values = rng.normal(size=B).astype("float32")
    bce = layer.mixed_loss(keras.losses.BinaryCrossentropy(from_logits=True, reduction="none"))
    mse = layer.mixed_loss(keras.losses.MeanSquaredError(reduction="none"))
    model = head_model(layer, K)
    images = onehot_images(B, H, W)
    (_, logits), sources = mix_until_nontrivial(lambda: model(images, training=True))
    np.testing.assert_allclose(bce(multi_hot, logits), numpy_binary_cross_entropy(sources @ multi_hot, logits),
                               rtol=1e-5)
    predictions = np.zeros((B, 1), "float32")
    np.testing.assert_allclose(mse(values, predictions), (sources @ values.astype(np.float64)) ** 2, rtol=1e-5)


def test_regression_targets_outside_training_score_zero_against_themselves():
    # The issue: MixedLoss("mse") on y=[1,2,3] against identical predictions gave 4.67.
    loss = kc.MixedLoss("mse", layer_name="no_such_layer_ran")
    assert float(loss([1, 2, 3], np.array([[1.0], [2.0], [3.0]], "float32"))) == 0.0
    assert float(loss([1, 2, 3], np.array([1.0, 2.0, 3.0], "float32"))) == 0.0
    assert float(loss(np.array([[1], [2], [3]]), np.array([[1.0], [2.0], [3.0]], "float32"))) == 0.0


def test_binary_model_learns_the_right_answer_with_cutmix():
    # The repro: Dense(1) + BinaryCrossentropy(from_logits=True) behind a CutMix layer predicted
    # the opposite class (accuracy 0.000) with the wrapped loss.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=64)
    images = (labels[:, None, None, None] * 0.8 + rng.random((64, 4, 4, 1)) * 0.2).astype("float32")
    layer = kc.CutMix(seed=1)
    model = keras.Sequential([keras.Input((4, 4, 1)), layer, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1),
                  loss=layer.mixed_loss(keras.losses.BinaryCrossentropy(from_logits=True)))
    model.fit(images, labels, batch_size=16, epochs=15, verbose=0)
    accuracy = np.mean((model.predict(images, verbose=0)[:, 0] > 0) == labels)
    assert accuracy > 0.95, accuracy


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("column", [False, True])
def test_class_ids_as_floats_are_class_ids_for_every_loss(dtype, column):
    """Keras's sparse losses take float class ids, and fit under tf.distribute hands integer labels over as
    float64: `[B]` / `[B, 1]` ids against predictions of width > 1 are class ids whatever their dtype."""
    logits = np.random.RandomState(0).normal(size=(B, K)).astype("float32")
    y_true = LABELS.astype(dtype)[:, None] if column else LABELS.astype(dtype)
    expected = numpy_cross_entropy(numpy_one_hot(LABELS), logits)
    for wrapped in ("categorical_crossentropy", keras.losses.CategoricalCrossentropy(from_logits=True),
                    keras.losses.SparseCategoricalCrossentropy(from_logits=True)):
        loss = kc.MixedLoss(wrapped, layer_name="no_layer_mixed_here")  # unmixed: plain cross-entropy
        predictions = logits if not isinstance(wrapped, str) else tf.nn.softmax(logits)
        np.testing.assert_allclose(float(loss(y_true, predictions)), expected, rtol=1e-5)


def test_float_class_ids_must_be_whole_numbers():
    loss = kc.MixedLoss("categorical_crossentropy", layer_name="cut_mix")
    with pytest.raises(tf.errors.InvalidArgumentError, match="whole numbers"):
        loss(np.array([0, 1.5, 2, 3, 1, 2], "float32"), np.full((B, K), 0.25, "float32"))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_classes=4\): labels must be < 4"):
        loss(np.array([0, 1, 2, 4, 1, 2], "float32"), np.full((B, K), 0.25, "float32"))


def test_ambiguous_targets_raise():
    loss = kc.MixedLoss("categorical_crossentropy", layer_name="cut_mix")
    with pytest.raises(ValueError, match=r"Received: y_true.shape=\(6, 3\), y_true.dtype=float32, y_pred.shape=\(6, 4\)"):
        loss(np.zeros((B, 3), "float32"), np.zeros((B, K), "float32"))
    smoothed = kc.CutMix(label_smoothing=0.1).mixed_loss(keras.losses.BinaryCrossentropy())
    with pytest.raises(ValueError, match=r"cannot apply to one output.*Received: label_smoothing=0.1"):
        smoothed(BINARY, np.full((B, 1), 0.5, "float32"))


# --- The wrapped loss's own settings (issue item 2) -------------------------------------------------------


def numpy_reduce(per_sample, reduction, sample_weight=None):
    weighted = per_sample * (1.0 if sample_weight is None else np.asarray(sample_weight, np.float64))
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight":
        return weighted.sum() / (len(per_sample) if sample_weight is None else np.sum(sample_weight))
    return weighted.sum() / weighted.size  # "sum_over_batch_size"


def numpy_categorical(targets, logits, from_logits, smoothing=0.0):
    targets = np.asarray(targets, np.float64) * (1.0 - smoothing) + smoothing / np.shape(targets)[-1]
    logits = np.asarray(logits, np.float64)
    if from_logits:
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        log_probs = np.log(logits / logits.sum(axis=-1, keepdims=True))
    return -(targets * log_probs).sum(axis=-1)


RNG = np.random.default_rng(7)
CLASS_LOGITS = RNG.normal(size=(B, K)).astype("float32")
BINARY_LOGITS = RNG.normal(size=(B, 1)).astype("float32")
SAMPLE_WEIGHT = np.array([1.0, 0.5, 2.0, 0.0, 1.5, 2.0], "float32")  # sums to 7, not B
SETTINGS = {
    "cce_sum": (keras.losses.CategoricalCrossentropy(from_logits=True, reduction="sum"), "one_hot"),
    "cce_none_smoothing": (keras.losses.CategoricalCrossentropy(from_logits=True, reduction="none",
                                                                label_smoothing=0.2), "one_hot"),
    "cce_probs_mean_weight": (keras.losses.CategoricalCrossentropy(reduction="mean_with_sample_weight"), "probs"),
    "scce_none": (keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none"), "sparse"),
    "scce_sum": (keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"), "sparse"),
    "bce_sum_smoothing": (keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum", label_smoothing=0.1),
                          "binary"),
    "bce_none": (keras.losses.BinaryCrossentropy(from_logits=True, reduction="none"), "binary"),
    "mse_none": (keras.losses.MeanSquaredError(reduction="none"), "regression"),
    "mae_sum": (keras.losses.MeanAbsoluteError(reduction="sum"), "regression"),
}


def inputs_for(kind):
    if kind == "one_hot":
        return np.eye(K, dtype="float32")[LABELS], CLASS_LOGITS
    if kind == "probs":
        return np.eye(K, dtype="float32")[LABELS], np.asarray(keras.activations.softmax(CLASS_LOGITS))
    if kind == "sparse":
        return LABELS.astype("int32"), CLASS_LOGITS
    if kind == "binary":
        return BINARY[:, None].astype("float32"), BINARY_LOGITS
    return RNG.normal(size=(B, 1)).astype("float32"), BINARY_LOGITS


def numpy_value(name, y_true, y_pred, sample_weight):
    loss, _ = SETTINGS[name]
    config = loss.get_config()
    if "binary" in config["name"]:
        per_sample = numpy_binary_cross_entropy(y_true, y_pred, config["label_smoothing"])
    else:
        targets = np.eye(K)[y_true] if y_true.ndim == 1 else y_true
        per_sample = numpy_categorical(targets, y_pred, config["from_logits"], config.get("label_smoothing", 0.0))
    return numpy_reduce(per_sample, loss.reduction, sample_weight)


@pytest.mark.parametrize("sample_weight", [None, SAMPLE_WEIGHT], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_unmixed_value_is_the_wrapped_losses_own(name, sample_weight):
    loss, kind = SETTINGS[name]
    layer = kc.CutMix(seed=8)
    wrapped = layer.mixed_loss(loss)
    y_true, y_pred = inputs_for(kind)
    expected = np.asarray(loss(y_true, y_pred, sample_weight=sample_weight))
    for record_no_mix in (False, True):  # never called, or called with training=False
        if record_no_mix:
            layer(onehot_images(B, H, W), training=False)
        value = np.asarray(wrapped(y_true, y_pred, sample_weight=sample_weight))
        assert value.shape == expected.shape, (value.shape, expected.shape)
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
        in_graph = tf.function(lambda y, p: wrapped(y, p, sample_weight=sample_weight))
        np.testing.assert_allclose(in_graph(y_true, y_pred), expected, rtol=1e-5, atol=1e-6)
    if kind in ("one_hot", "probs", "sparse", "binary"):  # Independently of Keras, for CCE and BCE.
        np.testing.assert_allclose(value, numpy_value(name, y_true, y_pred, sample_weight), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["cce_none_smoothing", "scce_sum", "bce_sum_smoothing"])
def test_mixed_value_keeps_the_wrapped_losses_settings(name):
    loss, kind = SETTINGS[name]
    layer = kc.CutMix(seed=8)
    wrapped = layer.mixed_loss(loss)
    y_true, y_pred = inputs_for(kind)
    _, sources = mix_until_nontrivial(lambda: layer(onehot_images(B, H, W), training=True))
    dense = np.eye(K)[y_true] if y_true.ndim == 1 else y_true
    value = np.asarray(wrapped(y_true, y_pred, sample_weight=SAMPLE_WEIGHT))
    expected = numpy_value(name, sources @ dense, y_pred, SAMPLE_WEIGHT)
    assert value.shape == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)


def test_ignore_class_cannot_apply_to_mixed_targets():
    with pytest.raises(ValueError, match=r"`ignore_class` cannot apply to mixed targets.*Received: ignore_class=0"):
        kc.CutMix(num_classes=K).mixed_loss(keras.losses.SparseCategoricalCrossentropy(ignore_class=0))


def test_reduction_of_a_loss_instance_is_its_own():
    loss = keras.losses.CategoricalCrossentropy(reduction="sum")
    assert kc.MixedLoss(loss, layer_name="cut_mix").reduction == "sum"
    with pytest.raises(ValueError, match=r"Expected `reduction` to be left out.*Received: reduction='none'"):
        kc.MixedLoss(loss, layer_name="cut_mix", reduction="none")
    assert kc.MixedLoss("mse", layer_name="cut_mix", reduction="sum").reduction == "sum"


# --- Out-of-range class ids (issue item 3) ----------------------------------------------------------------


def test_out_of_range_labels_fail_fit():
    # The issue: `fit` with labels 1..5 and num_classes=5 trained, label 5 becoming an all-zero row.
    layer = kc.CutMix(num_classes=5, seed=1)
    model = keras.Sequential([keras.Input((H, W, 3)), layer, keras.layers.Flatten(), keras.layers.Dense(5)])
    model.compile(optimizer="sgd", loss=layer.mixed_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
                  jit_compile=False)
    images = np.zeros((10, H, W, 3), "float32")
    labels = np.arange(10) % 5 + 1  # 1..5
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected integer labels in \[0, num_classes=5\)"):
        model.fit(images, labels, batch_size=5, epochs=1, verbose=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_classes=5"):
        model.evaluate(images, labels, batch_size=5, verbose=0)
    model.fit(images, labels - 1, batch_size=5, epochs=1, verbose=0)  # control: 0..4 trains


def test_out_of_range_labels_give_a_nan_loss_in_fit_under_xla():
    # jit_compile=True (what jit_compile="auto" picks on a GPU): the assertion is dropped, the loss is NaN.
    layer = kc.CutMix(num_classes=5, seed=1)
    model = keras.Sequential([keras.Input((H, W, 3)), layer, keras.layers.Flatten(), keras.layers.Dense(5)])
    model.compile(optimizer="sgd", loss=layer.mixed_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
                  jit_compile=True)
    images = np.random.default_rng(0).random((10, H, W, 3)).astype("float32")
    history = model.fit(images, np.arange(10) % 5 + 1, batch_size=5, epochs=1, verbose=0)
    assert np.isnan(history.history["loss"][0]), history.history


def test_out_of_range_labels_raise_eagerly_and_give_nan_under_xla():
    loss = kc.MixedLoss(keras.losses.CategoricalCrossentropy(from_logits=True, reduction="none"), layer_name="x",
                        num_classes=K)
    bad = np.array([0, 1, 4, 2, 3, 1])  # 4 >= K
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected integer labels in \[0, num_classes=4\)"):
        loss(bad, CLASS_LOGITS[:, :K])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_classes=4"):
        tf.function(loss)(bad, CLASS_LOGITS[:, :K])
    values = np.asarray(tf.function(loss, jit_compile=True)(bad, CLASS_LOGITS[:, :K]))
    np.testing.assert_array_equal(np.isnan(values), bad >= K)


# --- A mixed loss whose layer is not in the model (issue item 17) -----------------------------------------


def missing_layer_warnings(record):
    return [w for w in record if "did not run in this step" in str(w.message)]


def test_warns_once_when_the_layer_is_not_in_the_model():
    layer = kc.CutMix(num_classes=K, seed=1)
    model = keras.Sequential([keras.Input((H, W, B)), keras.layers.Flatten(), keras.layers.Dense(K)])
    model.compile(optimizer="sgd", loss=layer.mixed_loss("sparse_categorical_crossentropy"))
    images = onehot_images(B, H, W)
    with pytest.warns(UserWarning) as record:
        model.fit(images, LABELS, batch_size=3, epochs=2, verbose=0)
        model.evaluate(images, LABELS, batch_size=3, verbose=0)
    found = missing_layer_warnings(record)
    assert len(found) == 1, [str(w.message) for w in record]
    assert f"layer '{layer.name}'" in str(found[0].message)


@pytest.mark.parametrize("layer_class", [kc.CutMix, kc.MixUp, kc.Cutout])
def test_does_not_warn_when_the_layer_is_in_the_model(layer_class, recwarn):
    layer = layer_class(num_classes=K, seed=1)
    model = keras.Sequential([keras.Input((H, W, B)), layer, keras.layers.Flatten(), keras.layers.Dense(K)])
    model.compile(optimizer="sgd", loss=layer.mixed_loss("sparse_categorical_crossentropy"))
    images = onehot_images(B, H, W)
    model.fit(images, LABELS, batch_size=3, epochs=2, verbose=0)
    model.evaluate(images, LABELS, batch_size=3, verbose=0)
    assert missing_layer_warnings(recwarn.list) == []
