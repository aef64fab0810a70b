"""score_captions: BLEU, ROUGE-L and CIDEr-D against hand computations and a NumPy CIDEr-D; METEOR; no Java."""

import collections
import math

import numpy as np
import pytest

from keras_cutmix.captioning import scoring

_TINY, _SMALL = 1e-15, 1e-9  # pycocoevalcap's BLEU smoothing: (correct + tiny) / (guess + small).


def _bleu(correct, guess, test_len, ref_len):
    """Corpus BLEU-1..4 from summed clipped matches and guesses per n, with the brevity penalty."""
    ratio = (test_len + _TINY) / (ref_len + _SMALL)  # Smoothed too: just under 1 for equal lengths.
    bp = math.exp(1 - 1 / ratio) if ratio < 1 else 1.0
    precisions = [(c + _TINY) / (g + _SMALL) for c, g in zip(correct, guess)]
    return [bp * np.prod(precisions[:n]) ** (1 / n) for n in range(1, 5)]


def _ngrams(words, n):
    return collections.Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def _cider_d(references, candidates, sigma=6.0):
    """CIDEr-D (Vedantam et al. 2015, as the COCO server computes it), written from the paper's formula."""
    ids = sorted(candidates)
    log_n = np.log(len(ids))
    df = collections.Counter()
    for i in ids:
        df.update(set().union(*[set(_ngrams(r.split(), n)) for r in references[i] for n in range(1, 5)]))

    def tfidf(words, n):
        return {g: c * (log_n - np.log(max(1.0, df[g]))) for g, c in _ngrams(words, n).items()}

    scores = []
    for i in ids:
        cand = candidates[i].split()
        per_ref = []
        for ref in references[i]:
            ref = ref.split()
            sims = []
            for n in range(1, 5):
                vc, vr = tfidf(cand, n), tfidf(ref, n)
                dot = sum(min(v, vr.get(g, 0.0)) * vr.get(g, 0.0) for g, v in vc.items())  # Clipped.
                norms = np.sqrt(sum(v * v for v in vc.values())) * np.sqrt(sum(v * v for v in vr.values()))
                sim = dot / norms if norms else 0.0
                sims.append(sim * np.exp(-((len(cand) - len(ref)) ** 2) / (2 * sigma ** 2)))
            per_ref.append(np.mean(sims))
        scores.append(10.0 * np.mean(per_ref))
    return float(np.mean(scores))


@pytest.fixture
def no_meteor(monkeypatch):
    """METEOR 1.5 loads its paraphrase table for seconds; the tests of the other metrics skip it."""
    monkeypatch.setattr(scoring, "_meteor", lambda gts, res: 0.5)


def test_bleu_exact_match_and_partial_overlap_by_hand(no_meteor):
    exact = scoring.score_captions({"a": ["a b c d"]}, {"a": "a b c d"})
    assert set(exact) == set(scoring.METRICS)
    np.testing.assert_allclose([exact[f"BLEU-{n}"] for n in range(1, 5)], _bleu([4, 3, 2, 1], [4, 3, 2, 1], 4, 4),
                               rtol=1e-12)
    assert exact["BLEU-4"] == pytest.approx(1.0, abs=1e-8)
    assert exact["ROUGE-L"] == pytest.approx(1.0)
    # One image: every n-gram is in every image's references, idf = log(1) - log(1) = 0.
    assert exact["CIDEr"] == 0.0

    # "the cat sat on a mat" vs "the cat sat on the mat": clipped matches 5/6, 3/5, 2/4, 1/3; equal lengths.
    # Corpus BLEU sums the counts over images: with "a b c d" too, 9/10, 6/8, 4/6, 2/4.
    refs = {1: ["a b c d"], 2: ["the cat sat on the mat"]}
    scores = scoring.score_captions(refs, {1: "a b c d", 2: "the cat sat on a mat"})
    np.testing.assert_allclose([scores[f"BLEU-{n}"] for n in range(1, 5)], _bleu([9, 6, 4, 2], [10, 8, 6, 4], 10, 10),
                               rtol=1e-9)
    assert scores["BLEU-2"] == pytest.approx(math.sqrt(9 / 10 * 6 / 8), rel=1e-8)


def test_bleu_brevity_penalty_closest_reference_and_rouge_l_by_hand(no_meteor):
    # Candidate of 3 words; references of 6 and 4 words: the closest is 4, BP = exp(1 - 4/3).
    # Precisions 3/3, 2/2, 1/1, and 0/0 for 4-grams, which pycocoevalcap smooths to 1e-15 / 1e-9.
    refs = {7: ["The cat sat on the mat.", "a cat is sitting"]}
    scores = scoring.score_captions(refs, {7: "the cat sat"})
    np.testing.assert_allclose([scores[f"BLEU-{n}"] for n in range(1, 5)], _bleu([3, 2, 1, 0], [3, 2, 1, 0], 3, 4),
                               rtol=1e-8)
    assert scores["BLEU-1"] == pytest.approx(math.exp(1 - 4 / 3), rel=1e-8)
    # ROUGE-L: LCS with the first reference 3 (P 3/3, R 3/6), with the second 1 ("cat": P 1/3, R 1/4);
    # the best P and the best R: 1 and 1/2, F with beta 1.2.
    beta2 = 1.2 ** 2
    assert scores["ROUGE-L"] == pytest.approx((1 + beta2) * 1 * 0.5 / (0.5 + beta2 * 1), rel=1e-12)


def test_cider_d_matches_numpy_formula(no_meteor):
    refs = {
        1: ["a red star above a blue circle", "a blue circle below a red star", "there is a red star"],
        2: ["a small green square left of a ring", "a green square and a yellow ring"],
    }
    cands = {1: "a red star above a circle", 2: "a green ring left of a square"}
    scores = scoring.score_captions(refs, cands)
    expected = _cider_d(refs, cands)
    assert expected > 0.5
    assert scores["CIDEr"] == pytest.approx(expected, rel=1e-9)


def test_meteor_in_range_and_prefers_the_better_candidate():
    refs = {1: ["a large red star above a small blue circle", "a small blue circle below a big red star"],
            2: ["a green square left of a yellow ring", "a yellow ring right of a green square"]}
    good = scoring.score_captions(refs, {1: "a red star above a blue circle", 2: "a green square left of a ring"})
    bad = scoring.score_captions(refs, {1: "a green ring", 2: "two blue triangles"})
    assert 0.0 < good["METEOR"] <= 1.0 and 0.0 <= bad["METEOR"] < good["METEOR"]
    assert good["CIDEr"] > bad["CIDEr"] and good["BLEU-1"] > bad["BLEU-1"]


def test_without_java_other_metrics_still_run(no_meteor, monkeypatch):
    refs = {1: ["a red star above a blue circle", "a blue circle below a red star"],
            2: ["a green square and a ring", "a ring right of a green square"]}
    cands = {1: "A red star above a circle.", 2: "a green square, and a ring"}
    with_java = scoring.score_captions(refs, cands)

    def no_tokenizer(*args, **kwargs):
        raise AssertionError("the PTB tokenizer needs Java")

    monkeypatch.setattr(scoring.shutil, "which", lambda name: None)
    monkeypatch.setattr(scoring, "PTBTokenizer", no_tokenizer)
    with pytest.warns(RuntimeWarning, match="apt-get install default-jre"):
        without = scoring.score_captions(refs, cands)
    assert without["METEOR"] is None and with_java["METEOR"] == 0.5
    for name in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr"):
        assert without[name] == pytest.approx(with_java[name], rel=1e-12), name
    assert scoring.simple_tokenize("A red star, above a BLUE circle!") == "a red star above a blue circle"


@pytest.mark.parametrize("refs, cands, message", [
    ({1: ["a"]}, {2: "a"}, "same image ids"),
    ({1: ["a"]}, {1: ["a"]}, r"candidates\[1\] to be one string"),
    ({1: []}, {1: "a"}, r"references\[1\] to be a non-empty list"),
    ({1: "a b"}, {1: "a"}, r"references\[1\] to be a non-empty list"),
    ({}, {}, "`references` to be a non-empty dict"),
    ({1: ["a"]}, [("a")], "`candidates` to be a non-empty dict"),
])
def test_errors_name_the_argument(refs, cands, message):
    with pytest.raises(ValueError, match=message):
        scoring.score_captions(refs, cands)
