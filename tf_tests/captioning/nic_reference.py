"""NumPy re-derivation of NIC (for the captioning tests), and a tiny model.

Written from the equations, not from keras_cutmix: Keras' LSTM gate order is
(input, forget, cell, output), `z = x W + h U + b`, `c' = f c + i tanh(z_c)`,
`h' = o tanh(c')`.
"""

import keras
import numpy as np

from keras_cutmix.captioning import nic as nic_lib
from keras_cutmix.captioning import vocabulary as vocab_lib

WORDS = ["red", "star", "blue", "circle"]


def tiny_vocabulary(words=WORDS):
    return vocab_lib.Vocabulary(list(vocab_lib.SPECIAL_TOKENS) + list(words))


def tiny_classifier(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((7, 5, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(x), name="tiny")


def tiny_nic(words=WORDS, seed=0, scale=1.0, end_bias=0.0, **kwargs):
    """A small NIC; `scale` multiplies every decoder weight (peakier softmax),
    `end_bias` is added to the `<end>` logit."""
    model = nic_lib.nic(
        tiny_vocabulary(words),
        nic_lib.pooled_encoder(tiny_classifier(seed)),
        embedding_dim=5,
        units=6,
        dropout=0.0,
        **kwargs,
    )
    rng = np.random.default_rng(seed)
    for name in ["image_embedding", "word_embedding", "lstm", "logits"]:
        layer = model.get_layer(name)
        layer.set_weights([scale * rng.normal(size=w.shape) for w in layer.get_weights()])
    kernel, bias = model.get_layer("logits").get_weights()
    bias[vocab_lib.END_ID] += end_bias
    model.get_layer("logits").set_weights([kernel, bias])
    return model


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def weights(model):
    w = {}
    w["Wi"], w["bi"] = model.get_layer("image_embedding").get_weights()
    (w["E"],) = model.get_layer("word_embedding").get_weights()
    w["W"], w["U"], w["b"] = model.get_layer("lstm").get_weights()
    w["Wo"], w["bo"] = model.get_layer("logits").get_weights()
    w = {k: v.astype(np.float64) for k, v in w.items()}
    return w


def lstm_step(w, x, h, c):
    z = x @ w["W"] + h @ w["U"] + w["b"]
    zi, zf, zc, zo = np.split(z, 4, axis=-1)
    c = _sigmoid(zf) * c + _sigmoid(zi) * np.tanh(zc)
    h = _sigmoid(zo) * np.tanh(c)
    return h, c


def encode(model, images):
    """The encoder's pooled features (the encoder is not under test here)."""
    return model.get_layer("encoder").predict(images, verbose=0).astype(np.float64)


def initial_state(model, features):
    w = weights(model)
    units = w["U"].shape[0]
    zeros = np.zeros((len(features), units))
    return lstm_step(w, features @ w["Wi"] + w["bi"], zeros, zeros)


def teacher_forced_logits(model, features, caption_ids):
    """Logits `[B, T, V]` for inputs `caption_ids`, step by step."""
    w = weights(model)
    h, c = initial_state(model, features)
    out = []
    for t in range(caption_ids.shape[1]):
        h, c = lstm_step(w, w["E"][caption_ids[:, t]], h, c)
        out.append(h @ w["Wo"] + w["bo"])
    return np.stack(out, axis=1)


def log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def next_log_probs(model, feature, prefix):
    """Log-probs of the token after `<start> + prefix`, `<pad>`/`<start>` banned."""
    logits = teacher_forced_logits(model, feature[None], np.array([[2] + list(prefix)]))[0, -1]
    allowed = np.ones_like(logits, bool)
    allowed[[vocab_lib.PAD_ID, vocab_lib.START_ID]] = False
    out = np.full_like(logits, -np.inf)
    out[allowed] = log_softmax(logits[allowed])
    return out


def exhaustive_best(model, feature, max_length, alpha=0.0):
    """Best caption over every sequence of <= max_length tokens, by brute force.

    Candidates: sequences ending in `<end>`, and sequences of exactly
    `max_length` tokens without it. Score = sum of log-probs, divided by
    length**alpha when alpha > 0.
    """
    best = (-np.inf, None)
    frontier = [((), 0.0)]
    for depth in range(1, max_length + 1):
        new_frontier = []
        for prefix, score in frontier:
            lp = next_log_probs(model, feature, prefix)
            for token in np.flatnonzero(np.isfinite(lp)):
                seq, total = prefix + (int(token),), score + lp[token]
                if token == vocab_lib.END_ID or depth == max_length:
                    ranked = total / depth**alpha if alpha > 0 else total
                    if ranked > best[0]:
                        best = (ranked, seq)
                else:
                    new_frontier.append((seq, total))
        frontier = new_frontier
    return best


def greedy_reference(model, feature, max_length):
    seq, total = (), 0.0
    for _ in range(max_length):
        lp = next_log_probs(model, feature, seq)
        token = int(np.argmax(lp))
        seq, total = seq + (token,), total + lp[token]
        if token == vocab_lib.END_ID:
            break
    return total, seq


def beam_reference(model, feature, beam_size, max_length, alpha=0.0):
    """Textbook beam search on Python lists (finished captions stay in the beam).

    Each step expands every unfinished hypothesis by every allowed token,
    keeps finished ones as they are, ranks all by `score / length**alpha`
    (plain score when alpha == 0) and keeps the best `beam_size`.
    """
    rank = lambda h: h[1] / len(h[0]) ** alpha if alpha > 0 else h[1]
    beam = [((), 0.0, False)]
    for _ in range(max_length):
        candidates = []
        for seq, score, done in beam:
            if done:
                candidates.append((seq, score, done))
                continue
            lp = next_log_probs(model, feature, seq)
            for token in np.flatnonzero(np.isfinite(lp)):
                candidates.append(
                    (seq + (int(token),), score + lp[token], token == vocab_lib.END_ID)
                )
        beam = sorted(candidates, key=rank, reverse=True)[:beam_size]
    best = beam[0]
    return rank(best), best[0]
