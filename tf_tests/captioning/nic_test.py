"""NIC: teacher-forced logits and loss against a NumPy LSTM, save/load."""

import keras
import numpy as np
import pytest

import nic_reference as reference
from keras_cutmix.captioning import decoding
from keras_cutmix.captioning import nic as nic_lib

IDS = np.array(
    [
        [2, 4, 5, 6, 7, 3, 0],  # <start> red star blue circle <end> <pad>
        [2, 6, 1, 3, 0, 0, 0],  # <start> blue <unk> <end> ...
    ],
    dtype="int32",
)


@pytest.fixture(scope="module")
def model():
    return reference.tiny_nic(seed=1)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(2).uniform(0, 255, (2, 7, 5, 3)).astype("float32")


def test_logits_match_numpy_lstm(model, images):
    logits = model.predict([images, IDS[:, :-1]], verbose=0)
    expected = reference.teacher_forced_logits(
        model, reference.encode(model, images), IDS[:, :-1]
    )
    assert logits.shape == (2, 6, 8)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)


def test_loss_is_cross_entropy_over_non_pad_targets(model, images):
    inputs, targets = IDS[:, :-1], IDS[:, 1:]
    logits = reference.teacher_forced_logits(model, reference.encode(model, images), inputs)
    log_probs = reference.log_softmax(logits)
    # By hand: 5 targets in row 0 (red star blue circle <end>), 3 in row 1.
    terms = [-log_probs[0, t, targets[0, t]] for t in range(5)]
    terms += [-log_probs[1, t, targets[1, t]] for t in range(3)]
    expected = sum(terms) / 8
    loss = nic_lib.caption_loss(targets, model([images, inputs]))
    np.testing.assert_allclose(float(loss), expected, rtol=1e-4)


def test_logits_at_step_t_ignore_later_words(model, images):
    inputs = IDS[:, :-1].copy()
    changed = inputs.copy()
    changed[:, 3:] = 5
    a = model.predict([images, inputs], verbose=0)
    b = model.predict([images, changed], verbose=0)
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-6)
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_image_changes_the_logits(model, images):
    a = model.predict([images, IDS[:, :-1]], verbose=0)
    b = model.predict([images[::-1], IDS[:, :-1]], verbose=0)
    assert not np.allclose(a[0], b[0])


def test_pooled_encoder_stops_at_global_pool():
    classifier = reference.tiny_classifier()
    encoder = nic_lib.pooled_encoder(classifier)
    x = np.random.default_rng(0).uniform(0, 255, (2, 7, 5, 3)).astype("float32")
    pooled = encoder.predict(x, verbose=0)
    head = classifier.get_layer("head")
    kernel, bias = head.get_weights()
    np.testing.assert_allclose(pooled @ kernel + bias, classifier.predict(x, verbose=0), rtol=1e-5)
    with pytest.raises(ValueError, match="GlobalAveragePooling2D"):
        flat = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        nic_lib.pooled_encoder(flat)


def test_frozen_encoder_is_not_trained():
    frozen = reference.tiny_nic(seed=0)
    tuned = reference.tiny_nic(seed=0, trainable_encoder=True)
    n_encoder = len(tuned.get_layer("encoder").trainable_weights)
    assert n_encoder > 0 and not frozen.get_layer("encoder").trainable_weights
    assert len(tuned.trainable_weights) == len(frozen.trainable_weights) + n_encoder
    before = [w.numpy().copy() for w in frozen.get_layer("encoder").weights]
    frozen.compile(optimizer=keras.optimizers.Adam(0.1), loss=nic_lib.caption_loss)
    images = np.random.default_rng(0).uniform(0, 255, (2, 7, 5, 3)).astype("float32")
    frozen.fit([images, IDS[:, :-1]], IDS[:, 1:], epochs=2, verbose=0)
    for w, b in zip(frozen.get_layer("encoder").weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


def test_save_load_safe_mode_keeps_logits_and_vocabulary(model, images, tmp_path):
    path = str(tmp_path / "nic.keras")
    model.compile(optimizer="adam", loss=nic_lib.caption_loss)
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert nic_lib.vocabulary_of(loaded).tokens == nic_lib.vocabulary_of(model).tokens
    np.testing.assert_allclose(
        loaded.predict([images, IDS[:, :-1]], verbose=0),
        model.predict([images, IDS[:, :-1]], verbose=0),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        decoding.beam_search(loaded, images, beam_size=3, max_length=5)[0],
        decoding.beam_search(model, images, beam_size=3, max_length=5)[0],
    )


def test_paper_recipe_follows_the_reference_code():
    recipe = nic_lib.PAPER_RECIPE
    assert (recipe["batch_size"], recipe["learning_rate"], recipe["epochs"]) == (20, 1e-3, 100)
    assert recipe["optimizer"] == "adam" and recipe["trainable_encoder"] is False
    assert recipe["beam_size"] == 20 and recipe["units"] == 512


def test_caption_decoder_is_nic_on_features_with_shared_weights(model, images):
    decoder = nic_lib.caption_decoder(model)
    features = reference.encode(model, images)
    logits = decoder.predict([features, IDS[:, :-1]], verbose=0)
    np.testing.assert_allclose(logits, reference.teacher_forced_logits(model, features, IDS[:, :-1]),
                               rtol=1e-4, atol=1e-5)
    # Training the decoder trains the model: the same variables, all but the encoder's.
    shared = {id(v) for v in model.weights}
    encoder = {id(v) for v in model.get_layer("encoder").weights}
    assert {id(v) for v in decoder.weights} == shared - encoder
