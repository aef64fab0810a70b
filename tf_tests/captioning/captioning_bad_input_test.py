"""Bad input to the captioning API: the right answer (NumPy counts, empty batches) or one error naming it."""

import keras
import numpy as np
import pytest

import nic_reference as reference
from keras_cutmix import training
from keras_cutmix.captioning import (beam_search, build_vocabulary, caption_loss, detokenize, greedy_decode,
                                     pooled_encoder, run, score_captions, tokenize, vocabulary_of)
from keras_cutmix.captioning import nic as nic_lib
from keras_cutmix.captioning import scoring

CAPTIONS = ["A red star above a blue circle.", "a red star, a blue circle", "The red STAR!", "a star"]


@pytest.fixture(scope="module")
def case():
    model = reference.tiny_nic(seed=5, scale=2.0)
    images = np.random.default_rng(0).uniform(0, 255, (3, 7, 5, 3)).astype("float32")
    return model, images


def test_numpy_integers_count_as_ints(case):
    model, images = case
    vocab = build_vocabulary(CAPTIONS, min_count=2)
    assert build_vocabulary(CAPTIONS, min_count=np.int64(2), max_tokens=np.int32(7)) == build_vocabulary(
        CAPTIONS, min_count=2, max_tokens=7)
    np.testing.assert_array_equal(tokenize(CAPTIONS, vocab, np.int64(6)), tokenize(CAPTIONS, vocab, 6))
    for got, want in zip(beam_search(model, images, beam_size=np.int64(3), max_length=np.uint8(4),
                                     length_normalization=np.float32(0.5)),
                         beam_search(model, images, beam_size=3, max_length=4, length_normalization=0.5)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(greedy_decode(model, images, np.int64(4))[0], greedy_decode(model, images, 4)[0])


@pytest.mark.parametrize("ids", [[[4, 99]], [[4, -1]], [[4, 5.5]]])
def test_detokenize_refuses_ids_outside_the_vocabulary(ids):
    with pytest.raises(ValueError, match=r"detokenize: Expected (`ids` in \[0, 8\)|whole-number `ids`)"):
        detokenize(ids, reference.tiny_vocabulary())


def test_empty_batches_decode_to_empty_results(case):
    model, images = case
    for ids, scores in (greedy_decode(model, images[:0], 5), beam_search(model, images[:0], 2, 5)):
        assert ids.shape == (0, 5) and ids.dtype == np.int32 and scores.shape == (0,)
    assert tokenize([], build_vocabulary(CAPTIONS, 1), 5).shape == (0, 5)


def _bad_calls(model, images, vocab):
    """(call, the message it must raise): each a documented input of the wrong shape, type, range or scale."""
    return [
        (lambda: tokenize("a red star", vocab, 5), "tokenize: Expected `captions` to be a sequence"),
        (lambda: tokenize(["a red star", None], vocab, 5), r"tokenize: .*captions\[1\]=None"),
        (lambda: tokenize(["a"], vocab.tokens, 5), "tokenize: Expected `vocab` to be a Vocabulary"),
        (lambda: tokenize(["a"], vocab, 1), "tokenize: Expected `max_length` to be an int >= 2"),
        (lambda: build_vocabulary([], 1), "build_vocabulary: Expected at least one caption"),
        (lambda: build_vocabulary("a red star", 1), "build_vocabulary: Expected `captions` to be a sequence"),
        (lambda: build_vocabulary(CAPTIONS, 2.0), "build_vocabulary: Expected `min_count` to be an int"),
        (lambda: detokenize([4, 5], vocab), r"detokenize: Expected `ids` of rank 2"),
        (lambda: greedy_decode(model, images[:, :5], 3), r"greedy_decode: .*shape \[batch, 7, 5, 3\]"),
        (lambda: greedy_decode(model, images[0], 3), r"greedy_decode: .*add a batch axis"),
        (lambda: greedy_decode(model, images / 255, 3), r"greedy_decode: .*scaled to \[0, 1\]: multiply by 255"),
        (lambda: beam_search(model, images / 127.5 - 1, 2, 3), r"beam_search: .*look preprocessed"),
        (lambda: beam_search(model, images, 0), "beam_search: Expected `beam_size` to be an int >= 1"),
        (lambda: beam_search(model, images, 2, 3, "x"), "beam_search: Expected `length_normalization`"),
        (lambda: beam_search(model, images, 2, 3, -1.0), "beam_search: Expected `length_normalization`"),
        (lambda: greedy_decode(reference.tiny_classifier(), images, 3), "greedy_decode: Expected `model` to be a NIC"),
        (lambda: vocabulary_of(reference.tiny_classifier()), "vocabulary_of: Expected `model` to be a NIC"),
        (lambda: pooled_encoder("resnet"), "pooled_encoder: Expected `classifier` to be a functional"),
        (lambda: nic_lib.nic(vocab.tokens, pooled_encoder(reference.tiny_classifier())), "nic: .*`vocabulary`"),
        (lambda: nic_lib.nic(vocab, pooled_encoder(reference.tiny_classifier()), dropout=1.0), "nic: .*`dropout`"),
        (lambda: nic_lib.nic(vocab, reference.tiny_classifier().layers[-1]), "nic: Expected `encoder`"),
        (lambda: caption_loss(np.array([[4, 99]]), np.zeros((1, 2, 9), "float32")),
         r"caption_loss: Expected `y_true_ids` in \[0, 9\)"),
        (lambda: caption_loss(np.array([[4, 5, 6]]), np.zeros((1, 2, 9), "float32")), "caption_loss: Expected"),
        (lambda: score_captions({1: ["a b", ""]}, {1: "a b"}), r"score_captions: .*references\[1\]"),
        (lambda: score_captions({1: [3]}, {1: "a b"}), r"score_captions: .*references\[1\]"),
        (lambda: score_captions({1: ["a b"]}, {2: "a b"}), "score_captions: .*same image ids"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_calls(None, None, None))))
def test_bad_inputs_raise_one_error_naming_them(case, index):
    model, images = case
    call, message = _bad_calls(model, images, build_vocabulary(CAPTIONS, min_count=2))[index]
    with pytest.raises(ValueError, match=message):
        call()


def test_pixels_as_uint8_or_black_images_are_pixels(case):
    model, images = case
    np.testing.assert_array_equal(greedy_decode(model, images.round().astype(np.uint8), 4)[0],
                                  greedy_decode(model, images.round(), 4)[0])
    greedy_decode(model, np.zeros_like(images), 4)  # The blind NIC's blank images: whole numbers in [0, 1].


def test_references_as_arrays_score_as_lists(monkeypatch):
    references = {1: ["a red star above a blue circle", "a blue circle"], 2: ["two green squares", "a square"]}
    candidates = {1: "a red star", 2: "two squares"}
    as_arrays = {k: np.asarray(v, object) for k, v in references.items()}
    monkeypatch.setattr(scoring, "java_available", lambda: False)  # Seconds of Java start-up saved.
    with pytest.warns(RuntimeWarning, match="No Java runtime"):
        assert score_captions(as_arrays, candidates) == score_captions(references, candidates)


@pytest.mark.parametrize("kwargs, name", [
    (dict(preset="nope"), "preset"),
    (dict(beam_size=0), "beam_size"),
    (dict(epochs=np.int64(0)), "epochs"),
    (dict(seed=-1), "seed"),
    (dict(imagesize=32), "imagesize"),
    (dict(backbones={"cutmix": "/nonexistent/run"}, methods=("cutmix",)), "backbones"),
    (dict(methods=("cutmix", "cutmix")), "methods"),
])
def test_run_captioning_checks_before_training(tmp_path, kwargs, name):
    """Every method's backbone missing: the old code trained them all before it looked at its arguments."""
    kwargs = dict(dict(backbones={m: str(tmp_path / "none" / m) for m in training.METHODS}), **kwargs)
    with pytest.raises(training.ConfigError, match=name) as error:
        run.run_captioning(str(tmp_path / "w"), data_dir=str(tmp_path / "tfds"), verbose=0, **kwargs)
    assert error.value.name == name and not list(tmp_path.iterdir())


def test_compiled_decoders_take_any_batch_and_image_size_in_any_order():
    """One NIC on an encoder of any image size: each call's captions are its images' own, whatever ran before."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(keras.layers.Rescaling(1 / 255)(inputs))
    classifier = keras.Model(inputs, keras.layers.Dense(2, name="head")(
        keras.layers.GlobalAveragePooling2D(name="global_pool")(x)))
    model = nic_lib.nic(reference.tiny_vocabulary(), pooled_encoder(classifier), embedding_dim=5, units=6,
                        dropout=0.0)
    rng = np.random.default_rng(1)
    batches = [rng.uniform(0, 255, shape).astype("float32") for shape in [(3, 9, 6, 3), (1, 5, 11, 3),
                                                                           (4, 9, 6, 3), (2, 5, 11, 3)]]
    for decode in ([lambda b: greedy_decode(model, b, 5), lambda b: beam_search(model, b, 3, 5)] * 2):
        for batch in batches[::-1] + batches:
            ids, scores = decode(batch)
            for i in range(len(batch)):  # Each image alone: the same caption and score.
                one_ids, one_score = decode(batch[i:i + 1])
                np.testing.assert_array_equal(ids[i], one_ids[0])
                np.testing.assert_allclose(scores[i], one_score[0], rtol=1e-4, atol=1e-5)
