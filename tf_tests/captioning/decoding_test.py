"""Greedy and beam-search decoding against a brute-force NumPy search."""

import numpy as np
import pytest

import nic_reference as reference
from keras_cutmix.captioning import decoding

MAX_LENGTH = 3


@pytest.fixture(scope="module")
def case():
    # 2 words + <unk> + <end>: 4 generable tokens. With this seed and scale,
    # greedy misses the best caption on images 0 and 1 (asserted below).
    model = reference.tiny_nic(words=["red", "star"], seed=5, scale=2.0)
    images = np.random.default_rng(0).uniform(0, 255, (3, 7, 5, 3)).astype("float32")
    return model, images, reference.encode(model, images)


def _padded(seq):
    return list(seq) + [0] * (MAX_LENGTH - len(seq))


def test_greedy_matches_numpy_step_by_step(case):
    model, images, features = case
    ids, scores = decoding.greedy_decode(model, images, max_length=MAX_LENGTH)
    for i, feature in enumerate(features):
        score, seq = reference.greedy_reference(model, feature, MAX_LENGTH)
        assert ids[i].tolist() == _padded(seq)
        np.testing.assert_allclose(scores[i], score, rtol=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_beam_search_finds_the_exhaustive_best(case, alpha):
    model, images, features = case
    # 16 = 4**2 beams keep every prefix of length 2: exact for 3 tokens.
    ids, scores = decoding.beam_search(
        model, images, beam_size=16, max_length=MAX_LENGTH, length_normalization=alpha
    )
    for i, feature in enumerate(features):
        score, seq = reference.exhaustive_best(model, feature, MAX_LENGTH, alpha=alpha)
        assert ids[i].tolist() == _padded(seq)
        np.testing.assert_allclose(scores[i], score, rtol=1e-4)


def test_the_case_is_one_where_greedy_is_not_best(case):
    model, _, features = case
    for feature in features[:2]:
        best_score, best = reference.exhaustive_best(model, feature, MAX_LENGTH)
        greedy_score, greedy = reference.greedy_reference(model, feature, MAX_LENGTH)
        assert best != greedy and best_score > greedy_score + 0.05
    small_ids, _ = decoding.beam_search(model, case[1], beam_size=2, max_length=MAX_LENGTH)
    assert small_ids[0].tolist() == _padded(reference.exhaustive_best(model, features[0], 3)[1])


def test_beam_one_equals_greedy():
    model = reference.tiny_nic(seed=3, scale=1.5)
    images = np.random.default_rng(1).uniform(0, 255, (4, 7, 5, 3)).astype("float32")
    greedy_ids, greedy_scores = decoding.greedy_decode(model, images, max_length=6)
    beam_ids, beam_scores = decoding.beam_search(model, images, beam_size=1, max_length=6)
    np.testing.assert_array_equal(beam_ids, greedy_ids)
    np.testing.assert_allclose(beam_scores, greedy_scores, rtol=1e-5)


def test_ids_stop_at_end_and_never_contain_start(case):
    model, images, _ = case
    ids, _ = decoding.beam_search(model, images, beam_size=3, max_length=8)
    for row in ids.tolist():
        assert 2 not in row
        if 3 in row:
            assert set(row[row.index(3) + 1 :]) <= {0}
        else:
            assert 0 not in row


def test_bad_arguments_are_named(case):
    model, images, _ = case
    with pytest.raises(ValueError, match="beam_size"):
        decoding.beam_search(model, images, beam_size=0)
    with pytest.raises(ValueError, match="length_normalization"):
        decoding.beam_search(model, images, length_normalization=-1.0)
    with pytest.raises(ValueError, match="max_length"):
        decoding.greedy_decode(model, images, max_length=0)


@pytest.mark.parametrize(
    "seed, end_bias, alpha, beam_size",
    # The first two are cases where ranking by the raw sum instead of the
    # normalised score changes the answer (checked by breaking the code).
    [(1, 2.0, 1.0, 2), (5, 3.0, 3.0, 2), (5, 0.0, 0.0, 3)],
)
def test_small_beams_match_a_textbook_beam_search(seed, end_bias, alpha, beam_size):
    model = reference.tiny_nic(seed=seed, end_bias=end_bias)
    images = np.random.default_rng(0).uniform(0, 255, (3, 7, 5, 3)).astype("float32")
    ids, scores = decoding.beam_search(
        model, images, beam_size=beam_size, max_length=5, length_normalization=alpha
    )
    for i, feature in enumerate(reference.encode(model, images)):
        score, seq = reference.beam_reference(model, feature, beam_size, 5, alpha=alpha)
        assert ids[i].tolist() == list(seq) + [0] * (5 - len(seq))
        np.testing.assert_allclose(scores[i], score, rtol=1e-4)
