"""Mixing under tf.distribute.MirroredStrategy on two logical CPUs (made by tf_tests/conftest.py).

Each replica must draw its own mix (the layer folds the replica id into its seed) and its loss must use
that replica's own mix. These tests fail, never skip, when the two CPUs are missing.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from keras_cutmix.mixing import core, cutmix
from layer_checks import onehot_images, pixel_sources

DEVICES = ["/cpu:0", "/cpu:1"]
B, K, H, W = 8, 3, 5, 7  # global batch; 4 per replica


@pytest.fixture(scope="module")
def strategy():
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert len(names) >= 2, f"tf_tests/conftest.py should have made 2 logical CPUs, found {names}"
    strategy = tf.distribute.MirroredStrategy(DEVICES)
    assert strategy.num_replicas_in_sync == 2
    return strategy


def numpy_cross_entropy(targets, logits):
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(np.mean(-(targets * log_probs).sum(axis=-1)))


def replay_step(images, labels, seed, kernel, bias):
    """NumPy loss of one distributed step, with each replica's own mix and with the replicas' mixes swapped."""
    per_replica = B // 2
    mixes, targets, logits = [], [], []
    for replica in range(2):
        rows = slice(replica * per_replica, (replica + 1) * per_replica)
        # The layer's draw: the shared step seed folded with the replica id.
        mixed, _ = core.mix_inputs(cutmix.METHOD, core.check_args(), images[rows], None,
                                   tf.constant(seed, tf.int64), seed_salt=tf.constant(replica, tf.int32))
        mixes.append(pixel_sources(mixed))
        targets.append(np.eye(K)[labels[rows]])
        logits.append(np.asarray(mixed).reshape(per_replica, -1) @ kernel + bias)
    own = np.mean([numpy_cross_entropy(mixes[r] @ targets[r], logits[r]) for r in range(2)])
    swapped = np.mean([numpy_cross_entropy(mixes[1 - r] @ targets[r], logits[r]) for r in range(2)])
    return own, swapped, not np.allclose(mixes[0], mixes[1])


# Under a strategy, fit hands integer NumPy labels to the loss as float64: every loss form must take them
# (the README's example wraps CategoricalCrossentropy; it used to fail here and only here).
@pytest.mark.parametrize("loss", [
    lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
    lambda: "categorical_crossentropy",  # on probabilities: the model ends in a softmax
], ids=["sparse", "categorical", "categorical_by_name"])
def test_fit_with_mixed_loss_uses_each_replicas_own_mix(strategy, loss):
    per_replica, epochs = B // 2, 3
    images = np.concatenate([onehot_images(per_replica, H, W)] * 2)  # channel c: sample c of its replica
    labels = np.array([0, 1, 2, 0, 2, 2, 1, 0])
    with strategy.scope():
        layer = kc.CutMix(num_classes=K, seed=6)
        model = keras.Sequential([keras.Input((H, W, per_replica)), layer, keras.layers.Flatten(),
                                  keras.layers.Dense(K, kernel_initializer=keras.initializers.RandomNormal(seed=3))])
        if isinstance(loss(), str):
            model.add(keras.layers.Softmax())
        model.compile(optimizer=keras.optimizers.SGD(0.0),
                      loss=layer.mixed_loss(loss()))
    history = model.fit(images, labels, batch_size=B, epochs=epochs, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    np.testing.assert_array_equal(layer.seed_generator.state.numpy(), [6, epochs])

    # Replay each one-step epoch: replica r holds rows [4r, 4r + 4) and draws with seed [6, step] and salt r.
    kernel, bias = (np.asarray(v) for v in model.layers[2].weights)  # the Dense layer (logits)
    told_apart = 0
    for step in range(epochs):
        own, swapped, replicas_differ = replay_step(images, labels, [6, step], kernel, bias)
        np.testing.assert_allclose(history.history["loss"][step], own, rtol=1e-5)
        # Had a replica used the other one's record, the loss would differ.
        told_apart += replicas_differ and abs(swapped - own) > 1e-4
    assert told_apart >= 2, "the replicas should draw different mixes"


def test_replicas_draw_different_mixes(strategy):
    images = tf.constant(onehot_images(4, H, W))
    with strategy.scope():
        layer = kc.CutMix(num_classes=4, seed=2)

    @tf.function
    def step(x):
        return strategy.run(lambda x: layer({"images": x, "labels": tf.range(4)}, training=True), args=(x,))

    steps, differ = 3, 0
    for _ in range(steps):
        outputs = strategy.experimental_local_results(step(images))
        assert len(outputs) == 2
        first, second = (np.asarray(o["images"]) for o in outputs)
        differ += not np.array_equal(first, second)
        for out in outputs:  # each replica's labels follow its own pixels
            np.testing.assert_allclose(out["labels"], pixel_sources(out["images"]), atol=1e-6)
            np.testing.assert_array_equal(np.asarray(out["images"]).sum(axis=-1), 1.0)
    # Both replicas leave the batch unchanged once in a while (then they agree); not twice in three steps.
    assert differ >= steps - 1, f"the replicas drew the same mix in {steps - differ} of {steps} steps"
    np.testing.assert_array_equal(layer.seed_generator.state.numpy(), [2, steps])  # one shared draw per step


def test_cutmix_fn_inside_strategy_run(strategy):
    images, labels = onehot_images(4, H, W), np.array([0, 1, 2, 3])

    @tf.function
    def seeded(x, y, seed):
        return strategy.run(lambda x, y: kc.cutmix_fn(x, y, num_classes=4, seed=seed), args=(x, y))

    changed = 0
    for s in range(3):
        seed = tf.constant([s, 0], tf.int64)  # the same as seed=s
        expected_images, expected_labels = kc.cutmix_fn(images, labels, num_classes=4, seed=s)  # eager
        changed += not np.array_equal(expected_images, images)
        for out_images, out_labels in strategy.experimental_local_results(seeded(images, labels, seed)):
            np.testing.assert_array_equal(out_images, expected_images)
            np.testing.assert_array_equal(out_labels, expected_labels)
    assert changed >= 2

    @tf.function
    def unseeded(x, y):
        return strategy.run(lambda x, y: kc.cutmix_fn(x, y, num_classes=4), args=(x, y))

    for out_images, out_labels in strategy.experimental_local_results(unseeded(images, labels)):
        np.testing.assert_allclose(out_labels, pixel_sources(out_images), atol=1e-6)
