"""streaming: the training images' features and the test captions, one batch of images in memory at a time."""

import keras
import numpy as np
import pytest

from keras_cutmix.captioning import beam_search, build_vocabulary, detokenize, run, streaming
from keras_cutmix.captioning.nic import nic, pooled_encoder

SIZE, BATCH, NUM_BATCHES = 24, 16, 6
CAPTIONS = ["a red star above a blue circle", "a blue circle", "two green squares", "a star", "a circle"]


@keras.saving.register_keras_serializable(package="streaming_test")
class Seen(keras.layers.Layer):
    """Identity that counts the images it has seen (a variable: it counts inside compiled functions too)."""

    def build(self, input_shape):
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="count")

    def call(self, x):
        self.count.assign_add(keras.ops.cast(keras.ops.shape(x)[0], "int32"))
        return x

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, x.dtype)


def _classifier():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = Seen(name="seen")(inputs)
    x = keras.layers.Rescaling(1 / 255)(x)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(x))


def _image_batch(k, count=BATCH):
    return np.random.default_rng(k).integers(0, 256, (count, SIZE, SIZE, 3), dtype=np.uint8)


class WatchedBatches:
    """Batches from a generator that records, each time it hands one out, how many images were handed out
    before it and how many of them `model`'s "seen" layer had encoded by then."""

    def __init__(self, sizes=(BATCH,) * NUM_BATCHES, model=None):
        self.sizes, self.model, self.log = sizes, model, []

    def __iter__(self):
        handed_out = 0
        for k, count in enumerate(self.sizes):
            seen = int(self.model.get_layer("seen").count.numpy()) if self.model else None
            self.log.append((handed_out, seen))
            handed_out += count
            yield {"images": _image_batch(k, count), "image_ids": np.arange(count) + 100 * k,
                   "captions": np.array([CAPTIONS] * count, dtype=object)}

    def not_yet_encoded(self):
        """The most images handed out and not yet encoded, each time a batch was handed out."""
        return max(handed_out - seen for handed_out, seen in self.log)

    def image_ids(self):
        return np.concatenate([np.arange(count) + 100 * k for k, count in enumerate(self.sizes)])

    def materialised(self):
        return np.concatenate([_image_batch(k, count) for k, count in enumerate(self.sizes)])


def test_training_features_hold_one_batch_of_images_and_equal_the_materialised_ones(tmp_path):
    """train_captioner (run_captioning's path) reads its images lazily: when a batch is handed out, at most
    the one before it is still referenced; the features are `predict` on all the images held at once."""
    classifier = _classifier()
    batches = WatchedBatches(sizes=(BATCH,) * (NUM_BATCHES - 1) + (5,), model=classifier)
    ids = batches.image_ids()
    captions = np.array([CAPTIONS] * len(ids))
    vocab = build_vocabulary(captions.reshape(-1), min_count=1)
    preset = run.CaptionRecipe("synthetic_captions", SIZE, 1, batch_size=32, min_count=1, max_length=10, units=8)
    model = run.train_captioner(classifier, vocab, lambda: batches, ids, captions, preset, str(tmp_path / "nic"),
                                verbose=0)
    # Each batch was encoded before the next one but one was asked for: one batch of images at a time.
    assert len(batches.log) == NUM_BATCHES and batches.not_yet_encoded() <= BATCH, batches.log
    assert (tmp_path / "nic" / "nic.keras").exists()

    # The encoder's features: the same as the materialised computation (predict on every image, same batches).
    encoder = model.get_layer("encoder")
    expected = encoder.predict(batches.materialised().astype(np.float32), batch_size=BATCH, verbose=0)
    features = streaming.encode_images(encoder, WatchedBatches(sizes=batches.sizes), ids, verbose=0)
    assert features.shape == (len(ids), 8) and features.dtype == np.float32
    np.testing.assert_array_equal(features, expected)
    blank = streaming.encode_images(encoder, WatchedBatches(sizes=batches.sizes), ids, blank=True, verbose=0)
    # Same batches as the stream (float32 results may differ between batch sizes on other CPUs).
    np.testing.assert_array_equal(blank, encoder.predict(np.zeros((len(ids), SIZE, SIZE, 3), np.float32),
                                                         batch_size=BATCH, verbose=0))


def test_captions_of_batches_with_a_progress_bar(capsys):
    classifier = _classifier()
    vocab = build_vocabulary(CAPTIONS, min_count=1)
    model = nic(vocab, pooled_encoder(classifier), embedding_dim=8, units=8)
    batches = WatchedBatches(sizes=(BATCH, BATCH, BATCH, 7), model=classifier)
    ids = batches.image_ids()
    texts = streaming.caption_batches(model, batches, ids[:40], beam_size=3, max_length=6, verbose=1)
    shown = capsys.readouterr().out
    assert "40/40" in shown, shown  # The bar ends at the number of images captioned.
    assert batches.not_yet_encoded() <= BATCH and len(batches.log) == 3, batches.log  # Stops at the 40th.
    expected = []
    for start, stop in ((0, 16), (16, 32), (32, 40)):
        images = batches.materialised()[start:stop]
        expected += detokenize(beam_search(model, images, beam_size=3, max_length=6)[0], vocab)
    assert texts == expected and len(texts) == 40

    assert streaming.caption_batches(model, batches, ids[:40], beam_size=3, max_length=6, verbose=0) == texts
    assert capsys.readouterr().out == ""


def test_references_keep_only_the_first_images():
    ids, captions, first = streaming.read_references(WatchedBatches(), limit=20, keep_images=6)
    np.testing.assert_array_equal(ids, np.concatenate([np.arange(16), np.arange(4) + 100]))
    assert captions.shape == (20, 5) and captions[3, 0] == CAPTIONS[0]
    np.testing.assert_array_equal(first, _image_batch(0)[:6])


def test_passes_check_the_image_order():
    model = pooled_encoder(_classifier())
    ids = WatchedBatches().image_ids()
    with pytest.raises(ValueError, match=r"Expected the images of image_ids in their order. Received: image ids"):
        streaming.encode_images(model, WatchedBatches(), ids[::-1], verbose=0)
    with pytest.raises(ValueError, match=r"Expected 100 images \(len\(image_ids\)\). Received: 96"):
        streaming.encode_images(model, WatchedBatches(), np.concatenate([ids, [7, 8, 9, 10]]), verbose=0)
