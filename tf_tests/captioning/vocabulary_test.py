"""Caption vocabulary: counting, special ids, tokenize/detokenize."""

import numpy as np
import pytest

from keras_cutmix.captioning import vocabulary as v

CAPTIONS = [
    "A red star above a blue circle.",
    "a red star, a blue circle",
    "The red STAR!",
    "a star",
]
# Counts (lowercased, punctuation deleted): a 5, star 4, red 3, blue 2,
# circle 2, above 1, the 1.


def test_min_count_and_order():
    vocab = v.build_vocabulary(CAPTIONS, min_count=2)
    assert vocab.tokens == ["<pad>", "<unk>", "<start>", "<end>",
                            "a", "star", "red", "blue", "circle"]
    assert v.build_vocabulary(CAPTIONS, min_count=4).tokens[4:] == ["a", "star"]
    assert v.build_vocabulary(CAPTIONS, min_count=1, max_tokens=6).tokens[4:] == ["a", "star"]
    assert len(v.build_vocabulary(CAPTIONS, min_count=1)) == 4 + 7


def test_special_ids_match_string_lookup():
    vocab = v.build_vocabulary(CAPTIONS, min_count=2)
    assert vocab.lookup.get_vocabulary() == vocab.tokens
    ids = vocab.lookup(["<pad>", "<unk>", "<start>", "<end>", "zebra"]).numpy().tolist()
    assert ids == [v.PAD_ID, v.UNK_ID, v.START_ID, v.END_ID, v.UNK_ID] == [0, 1, 2, 3, 1]


def test_tokenize_pads_and_marks_unknown_words():
    vocab = v.build_vocabulary(CAPTIONS, min_count=2)
    ids = v.tokenize(["A red zebra.", "star"], vocab, max_length=7)
    np.testing.assert_array_equal(
        ids, [[2, 4, 6, 1, 3, 0, 0], [2, 5, 3, 0, 0, 0, 0]]
    )
    assert ids.dtype == np.int32


def test_tokenize_cuts_long_captions_but_keeps_end():
    vocab = v.build_vocabulary(CAPTIONS, min_count=2)
    ids = v.tokenize(["a red star above a blue circle"], vocab, max_length=5)
    np.testing.assert_array_equal(ids, [[2, 4, 6, 5, 3]])


def test_round_trip():
    vocab = v.build_vocabulary(CAPTIONS, min_count=2)
    captions = ["a red star a blue circle", "star", "blue blue red"]
    ids = v.tokenize(captions, vocab, max_length=10)
    assert v.detokenize(ids, vocab) == captions
    assert v.detokenize([[5, 3, 4, 4], [0, 2, 6, 0]], vocab) == ["star", "red"]
    assert v.detokenize(v.tokenize(["A Red, zebra!"], vocab, 6), vocab) == ["a red <unk>"]


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="min_count"):
        v.build_vocabulary(CAPTIONS, min_count=0)
    with pytest.raises(ValueError, match="max_tokens"):
        v.build_vocabulary(CAPTIONS, max_tokens=2)
    with pytest.raises(ValueError, match="max_length"):
        v.tokenize(CAPTIONS, v.build_vocabulary(CAPTIONS), max_length=1)
    with pytest.raises(ValueError, match="tokens"):
        v.Vocabulary(["a", "b"])
