"""Property tests on random input: tokenize / detokenize round trips, beam search of width 1 is greedy."""

import numpy as np
import pytest

import nic_reference as reference
from keras_cutmix.captioning import beam_search, build_vocabulary, decoding, detokenize, tokenize
from keras_cutmix.captioning import vocabulary as vocab_lib


def _words(rng, count):
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(letters, rng.integers(1, 7))))
    return sorted(words)


@pytest.mark.parametrize("seed", range(5))
def test_tokenize_detokenize_round_trip_on_random_vocabularies(seed):
    """Known words come back, unknown ones as <unk>, long captions cut to max_length - 2 words."""
    rng = np.random.default_rng(seed)
    words = _words(rng, int(rng.integers(1, 30)))
    known = words[: max(1, len(words) // 2)]
    vocab = vocab_lib.Vocabulary(list(vocab_lib.SPECIAL_TOKENS) + list(rng.permutation(known)))
    max_length = int(rng.integers(2, 12))
    captions = [list(rng.choice(words, rng.integers(0, 15))) for _ in range(int(rng.integers(1, 8)))]
    # Mixed case and punctuation: tokenize lowercases and deletes it.
    texts = [" ".join(w.upper() if rng.random() < 0.3 else w for w in c) + rng.choice(["", ".", "!"])
             for c in captions]
    ids = tokenize(texts, vocab, max_length)
    assert ids.shape == (len(texts), max_length)
    expected = [" ".join(w if w in known else "<unk>" for w in c[: max_length - 2]) for c in captions]
    assert detokenize(ids, vocab) == expected
    for row, caption in zip(ids, captions):  # <start>, the kept words, <end>, then padding.
        kept = min(len(caption), max_length - 2)
        assert row[0] == vocab_lib.START_ID and row[kept + 1] == vocab_lib.END_ID
        assert not row[kept + 2:].any() and vocab_lib.PAD_ID not in row[1:kept + 1]
    # A vocabulary built from the captions holds exactly the words seen, most frequent first.
    built = build_vocabulary(texts, min_count=1).tokens[4:]
    counts = {w: sum(c.count(w) for c in captions) for w in set().union(*map(set, captions))}
    assert built == sorted(counts, key=lambda w: (-counts[w], w))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_beam_one_is_greedy_on_random_models(seed):
    rng = np.random.default_rng(seed)
    model = reference.tiny_nic(seed=seed, scale=float(rng.uniform(0.5, 3.0)), end_bias=float(rng.uniform(-1, 2)))
    images = rng.uniform(0, 255, (int(rng.integers(1, 6)), 7, 5, 3)).astype("float32")
    max_length = int(rng.integers(1, 8))
    greedy_ids, greedy_scores = decoding.greedy_decode(model, images, max_length)
    beam_ids, beam_scores = beam_search(model, images, beam_size=1, max_length=max_length)
    np.testing.assert_array_equal(beam_ids, greedy_ids)
    np.testing.assert_allclose(beam_scores, greedy_scores, rtol=1e-5, atol=1e-6)
    # And greedy is the step-by-step argmax of a NumPy NIC.
    for feature, ids, score in zip(reference.encode(model, images), greedy_ids, greedy_scores):
        want_score, want = reference.greedy_reference(model, feature, max_length)
        assert ids.tolist() == list(want) + [0] * (max_length - len(want))
        np.testing.assert_allclose(score, want_score, rtol=1e-4)
