"""`score_captions`: BLEU-1..4, METEOR, ROUGE-L and CIDEr-D, as the COCO caption evaluation computes them.

    from keras_cutmix.captioning import score_captions
    scores = score_captions(
        references={1: ["a red star above a blue circle", "a blue circle below a red star"]},
        candidates={1: "a red star above a blue circle"})
    scores["BLEU-4"], scores["CIDEr"]  # Fractions (CIDEr unscaled), as pycocoevalcap reports them.

The numbers are pycocoevalcap's (the code of the COCO caption server, which every captioning paper reports): the
captions go through its Stanford PTB tokenizer (lower case, punctuation removed), then `Bleu(4)` (corpus BLEU,
"closest" reference length), `Meteor()` (METEOR 1.5), `Rouge()` (ROUGE-L, beta 1.2) and `Cider()` (CIDEr-D: tf-idf
over the references of the scored set, clipping, a Gaussian length penalty with sigma 6, times 10). Multiply by 100 to
compare with papers' tables. SPICE is left out: it downloads Stanford CoreNLP models on first use (not offline).

The tokenizer and METEOR run Java. Without a `java` on the PATH, a warning says how to install one, the captions are
tokenised by `simple_tokenize` (a Python stand-in for the PTB tokenizer: the same for plain lower-case words, not for
contractions or hyphens), BLEU, ROUGE-L and CIDEr are computed as usual, and "METEOR" is None.

References:
    - Chen et al., "Microsoft COCO Captions: Data Collection and Evaluation Server", https://arxiv.org/abs/1504.00325
    - https://github.com/salaniz/pycocoevalcap
"""

import functools
import re
import shutil
import warnings

import numpy as np
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

METRICS = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr")
JAVA_MISSING = ("No Java runtime found (`java` is not on the PATH): pycocoevalcap's PTB tokenizer and METEOR need "
                "one. METEOR is reported as None and the captions are tokenised by a Python stand-in. Install Java to "
                "get COCO's exact numbers, e.g. `sudo apt-get install default-jre` (Debian/Ubuntu), `brew install "
                "openjdk` (macOS) or `conda install -c conda-forge openjdk`.")
_NOT_WORD = re.compile(r"[^\w\s]")


def java_available():
    """Whether a `java` executable is on the PATH (pycocoevalcap's tokenizer and METEOR need it)."""
    return shutil.which("java") is not None


def simple_tokenize(text):
    """Tokenises like COCO's PTB tokenizer for plain sentences: lower case, punctuation dropped.

    Args:
        text: A caption.

    Returns:
        The tokens joined by single spaces.
    """
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def _validate(references, candidates):
    """Checks the two dicts; returns them as `{id: [str, ...]}` and `{id: str}`."""
    for arg, value in (("references", references), ("candidates", candidates)):
        if not isinstance(value, dict) or not value:
            raise ValueError(f"score_captions: Expected `{arg}` to be a non-empty dict keyed by image id. "
                             f"Received: {arg}={type(value).__name__} of length "
                             f"{len(value) if hasattr(value, '__len__') else 'n/a'}")
    if set(references) != set(candidates):
        only_refs = sorted(map(str, set(references) - set(candidates)))[:5]
        only_cands = sorted(map(str, set(candidates) - set(references)))[:5]
        raise ValueError("score_captions: Expected `references` and `candidates` to have the same image ids. "
                         f"Received: ids only in references={only_refs}, only in candidates={only_cands}")
    refs, cands = {}, {}
    for image_id, candidate in candidates.items():
        if not isinstance(candidate, str):
            raise ValueError(f"score_captions: Expected candidates[{image_id!r}] to be one string. "
                             f"Received: candidates[{image_id!r}]={candidate!r}")
        captions = references[image_id]
        captions = list(captions) if np.iterable(captions) and not isinstance(captions, (str, bytes, dict)) else []
        if not captions or not all(isinstance(c, str) and simple_tokenize(c) for c in captions):
            raise ValueError(f"score_captions: Expected references[{image_id!r}] to be a non-empty list of "
                             f"captions (strings with at least one word). Received: "
                             f"references[{image_id!r}]={references[image_id]!r}")
        refs[image_id], cands[image_id] = [str(c) for c in captions], str(candidate)
    return refs, cands


def _tokenize(refs, cands, use_java):
    if not use_java:
        return ({k: [simple_tokenize(c) for c in v] for k, v in refs.items()},
                {k: [simple_tokenize(c)] for k, c in cands.items()})
    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({k: [{"caption": c} for c in v] for k, v in refs.items()})
    res = tokenizer.tokenize({k: [{"caption": c}] for k, c in cands.items()})
    return gts, res


@functools.lru_cache(maxsize=1)
def _meteor_scorer():
    """One METEOR 1.5 Java process (its paraphrase table takes seconds to load), started on first use, serving every
    later call (serialised by its lock) until the interpreter stops."""
    return Meteor()


def _meteor(gts, res):
    score, _ = _meteor_scorer().compute_score(gts, res)
    return float(score)


def score_captions(references, candidates):
    """Scores generated captions against references as the COCO caption evaluation does.

    Args:
        references: Dict image id -> list of reference captions (at least one).
        candidates: Dict image id -> the generated caption (one string), with the same ids as `references`.

    Returns:
        Dict with the keys "BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L" and "CIDEr": floats, fractions
        as pycocoevalcap reports them (CIDEr unscaled, usually 0 to about 3). "METEOR" is None when no Java runtime is
        installed (a warning then says how to install one).

    Raises:
        ValueError: if an argument is not a non-empty dict, the ids differ, a candidate is not one string, or an
            image's references are not a non-empty list of strings each holding a word.
    """
    refs, cands = _validate(references, candidates)
    use_java = java_available()
    if not use_java:
        warnings.warn(JAVA_MISSING, RuntimeWarning, stacklevel=2)
    gts, res = _tokenize(refs, cands, use_java)
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, _ = Rouge().compute_score(gts, res)
    cider, _ = Cider().compute_score(gts, res)
    scores = {f"BLEU-{n + 1}": float(b) for n, b in enumerate(bleu)}
    scores["METEOR"] = _meteor(gts, res) if use_java else None
    scores["ROUGE-L"], scores["CIDEr"] = float(rouge), float(cider)
    return {name: scores[name] for name in METRICS}
