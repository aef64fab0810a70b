"""Greedy and beam-search decoding for `nic` models, batched and compiled.

Both run the trained layers one token at a time (the "step model"): the encoder and "image_embedding" give the LSTM's
first input, whose state starts the caption; each step embeds the previous token ("word_embedding"), advances the LSTM
cell ("lstm") and scores the next token ("logits"). `<pad>` and `<start>` are never generated. A caption ends at
`<end>` (kept in the ids and counted in the length and the score) or after `max_length` tokens.

Returned ids are `[B, max_length]` int32 without `<start>`, padded with 0 after `<end>` (`detokenize`: strings).

References:
    - [Vinyals et al., 2015, Show and Tell](https://arxiv.org/abs/1411.4555) (beam size 20 in CutMix's Table A1)
    - Length normalisation `score / length**alpha`: [Wu et al., 2016, Google's Neural Machine Translation
      System](https://arxiv.org/abs/1609.08144) (simplified form).
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.captioning.nic import check_nic
from keras_cutmix.captioning.vocabulary import END_ID, PAD_ID, START_ID
from keras_cutmix.models.function_cache import compiled

_NEG_INF = -1e9


def _initial_state(model, images):
    features = model.get_layer("encoder")(images, training=False)
    image = model.get_layer("image_embedding")(features)
    cell = model.get_layer("lstm").cell
    zeros = tf.zeros([tf.shape(image)[0], cell.units], image.dtype)
    _, state = cell(image, [zeros, zeros], training=False)
    return state


def _step(model, tokens, state):
    """One decoding step: log-probs `[N, V]` of the next token, new state."""
    words = model.get_layer("word_embedding")(tokens)
    hidden, state = model.get_layer("lstm").cell(words, state, training=False)
    logits = tf.cast(model.get_layer("logits")(hidden), tf.float32)
    banned = tf.one_hot(PAD_ID, tf.shape(logits)[-1]) + tf.one_hot(START_ID, tf.shape(logits)[-1])
    logits = tf.where(banned > 0, _NEG_INF, logits)
    return tf.nn.log_softmax(logits), state


def _greedy(model, images, max_length):
    state = _initial_state(model, images)
    batch = tf.shape(images)[0]
    tokens = tf.fill([batch], START_ID)
    done = tf.zeros([batch], tf.bool)
    score = tf.zeros([batch])
    ids = tf.TensorArray(tf.int32, size=max_length)
    for t in tf.range(max_length):
        log_probs, state = _step(model, tokens, state)
        best = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
        score += tf.where(done, 0.0, tf.reduce_max(log_probs, axis=-1))
        tokens = tf.where(done, PAD_ID, best)
        ids = ids.write(t, tokens)
        done = done | tf.equal(tokens, END_ID)
    return tf.transpose(ids.stack()), score


def _beam(model, images, beam_size, max_length, alpha):
    batch = tf.shape(images)[0]
    state = _initial_state(model, images)
    # [B, ...] -> [B * K, ...], beam-major within each image.
    state = [tf.repeat(s, beam_size, axis=0) for s in state]
    scores = tf.tile(tf.concat([[0.0], tf.fill([beam_size - 1], _NEG_INF * 10)], 0)[None], [batch, 1])
    lengths = tf.zeros([batch, beam_size])
    done = tf.zeros([batch, beam_size], tf.bool)
    tokens = tf.fill([batch * beam_size], START_ID)
    ids = tf.zeros([batch, beam_size, max_length], tf.int32)
    for t in tf.range(max_length):
        log_probs, state = _step(model, tokens, state)
        vocab = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, [batch, beam_size, vocab])
        # A finished beam continues only with <pad>, at no cost.
        pad_only = tf.where(tf.one_hot(PAD_ID, vocab) > 0, 0.0, _NEG_INF)
        log_probs = tf.where(done[..., None], pad_only, log_probs)
        total = scores[..., None] + log_probs
        new_len = lengths + tf.cast(~done, tf.float32)
        rank = total / tf.pow(tf.maximum(new_len, 1.0), alpha)[..., None] if alpha > 0 else total
        _, flat = tf.math.top_k(tf.reshape(rank, [batch, -1]), k=beam_size)
        parent, token = flat // vocab, flat % vocab
        scores = tf.gather(tf.reshape(total, [batch, -1]), flat, batch_dims=1)
        lengths = tf.gather(new_len, parent, batch_dims=1)
        done = tf.gather(done, parent, batch_dims=1) | tf.equal(token, END_ID)
        ids = tf.gather(ids, parent, batch_dims=1)
        ids += token[..., None] * tf.one_hot(t, max_length, dtype=tf.int32)
        rows = tf.reshape(parent + beam_size * tf.range(batch)[:, None], [-1])
        state = [tf.gather(s, rows) for s in state]
        tokens = tf.reshape(token, [-1])
    final = scores / tf.pow(tf.maximum(lengths, 1.0), alpha) if alpha > 0 else scores
    best = tf.argmax(final, axis=1, output_type=tf.int32)
    return tf.gather(ids, best, batch_dims=1), tf.gather(final, best, batch_dims=1)


def _decoder(model_ref, key, fn):
    """`fn(model, images, *settings)` compiled for any batch size: one trace per model and settings."""
    shape = [None] + list(model_ref().get_layer("encoder").inputs[0].shape[1:])
    return tf.function(lambda images: fn(model_ref(), images, *key[1:]),
                       input_signature=[tf.TensorSpec(shape, tf.float32)])


def _images(model, images, caller):
    """The model's and the images' checks at the door: float32 pixels [B, H, W, C] in [0, 255]."""
    check_nic(model, caller)
    shape = tuple(model.get_layer("encoder").inputs[0].shape[1:])
    return checks.pixel_images("images", images, caller, shape=shape)


def _run(model, key, fn, images, max_length):
    if not len(images):  # Nothing to caption (a traced empty batch would fail inside the encoder).
        return np.zeros([0, max_length], np.int32), np.zeros([0], np.float32)
    ids, scores = compiled(model, key, lambda model_ref: _decoder(model_ref, key, fn))(images)
    return ids.numpy(), scores.numpy()


def greedy_decode(model, images, max_length=20):
    """Picks the most likely next token at each step.

    Args:
        model: A `nic` model.
        images: Pixels in [0, 255] `[B, H, W, C]` (uint8 or float), the size the model's encoder takes.
        max_length: Most tokens generated (`<end>` included). Defaults to 20.

    Returns:
        `(ids, scores)`: int32 NumPy `[B, max_length]` and float32 `[B]`, the caption's log-probability (to `<end>`).

    Raises:
        ValueError: If `model` is not a `nic` model, `images` are not its encoder's pixels or `max_length` < 1.
    """
    images = _images(model, images, "greedy_decode")
    max_length = checks.count("max_length", max_length, "greedy_decode")
    return _run(model, ("greedy", max_length), _greedy, images, max_length)


def beam_search(model, images, beam_size=20, max_length=20, length_normalization=0.0):
    """Keeps the `beam_size` best partial captions per image at each step.

    Args:
        model, images, max_length: As `greedy_decode`.
        beam_size: Beams per image. Defaults to 20 (Table A1).
        length_normalization: `alpha` > 0 ranks beams by `log_prob_sum / length**alpha`. Defaults to 0 (plain sum).

    Returns:
        `(ids, scores)`: int32 NumPy `[B, max_length]` (the best beam) and float32 `[B]`, its (normalised) score.

    Raises:
        ValueError: If `model` is not a `nic` model, `images` are not pixels of its encoder's shape, `beam_size` or
            `max_length` < 1, or `length_normalization` < 0.
    """
    images = _images(model, images, "beam_search")
    beam_size = checks.count("beam_size", beam_size, "beam_search")
    max_length = checks.count("max_length", max_length, "beam_search")
    alpha = checks.number("length_normalization", length_normalization, "beam_search", minimum=0)
    return _run(model, ("beam", beam_size, max_length, alpha), _beam, images, max_length)
