"""Image captioning on our backbones (the paper's supplementary Section D): NIC, COCO scores, the experiment.

    vocab = build_vocabulary(train_captions, min_count=4)
    model = nic.nic(vocab, pooled_encoder(classifier))             # teacher forcing: (images, ids) -> logits
    ids, scores = beam_search(model, images, beam_size=20)
    score_captions({1: ["a red star above a blue circle"]}, {1: "a red star"})   # BLEU-1..4, METEOR, ...

Modules: `vocabulary` (StringLookup vocabulary, tokenize / detokenize), `nic` (Show and Tell, its recipe), `decoding`
(greedy and beam search, compiled), `scoring` (pycocoevalcap), `streaming` (a data set's references, encoder features
and captions, one batch of images at a time), `run` (`run_captioning`, `examples/coco_captioning.py`).
"""

from keras_cutmix import extras

extras.require_extra("keras_cutmix.captioning", "captioning")  # One clear ImportError without the extra.

from keras_cutmix.captioning.decoding import beam_search, greedy_decode
# The builder `nic.nic` is not re-exported: the name would hide the module `nic`.
from keras_cutmix.captioning.nic import PAPER_RECIPE, caption_loss, pooled_encoder, vocabulary_of
from keras_cutmix.captioning.run import PRESETS, run_captioning
from keras_cutmix.captioning.scoring import score_captions
from keras_cutmix.captioning.vocabulary import Vocabulary, build_vocabulary, detokenize, tokenize

__all__ = ["PAPER_RECIPE", "PRESETS", "Vocabulary", "beam_search", "build_vocabulary", "caption_loss", "detokenize",
           "greedy_decode", "pooled_encoder", "run_captioning", "score_captions", "tokenize", "vocabulary_of"]
