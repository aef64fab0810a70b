"""NIC ("Show and Tell"): CNN encoder -> image embedding -> one LSTM -> words.

Teacher forcing: with `ids = tokenize(captions, vocab, T + 1)` (`<start> w1 ... <end> <pad>...`), the model takes
`(images, ids[:, :-1])`; `caption_loss` scores its logits `[B, T, V]` against `ids[:, 1:]`, ignoring `<pad>` targets:

    t = 0:      LSTM(image_embedding(encoder(images)))   -> output dropped
    t = 1..T:   LSTM(word_embedding(ids[:, t - 1]))      -> Dense(V) logits

The word-embedding layer (`CaptionEmbedding`) keeps the vocabulary's token list in its config, so a `.keras` file
carries the vocabulary and `vocabulary_of(model)` gets it back after `keras.saving.load_model(path, safe_mode=True)`.

References:
    - [Vinyals et al., 2015, Show and Tell: A Neural Image Caption Generator](https://arxiv.org/abs/1411.4555)
    - Reference code named by the CutMix paper (supplementary D): https://github.com/stevehuanghe/image_captioning
      (`models/nic.py`, `train.py`, `utils/config.py`).
"""

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.captioning.vocabulary import PAD_ID, Vocabulary, check_vocabulary
from keras_cutmix.models.common import POOL_NAME

# The recipe of CutMix Table A1 (batch, learning rate, epochs from the paper), the rest as
# stevehuanghe/image_captioning does it:
# - train.py: `torch.optim.Adam(params, lr=args.learning_rate)`, plain Adam, no schedule, no weight decay;
#   utils/config.py: batch_size=20, learning_rate=0.001, num_epochs=100, dropout=0.1 (on the LSTM outputs).
# - Encoder frozen: `--fine_tune` defaults to False (requires_grad=False), and NIC.forward detaches the features
#   (`Variable(features.data)`) anyway.
# - build_vocab.py keeps words seen >= 4 times (`--threshold 4`); NIC used 5.
# - Sizes: the code's defaults are embed 100 / hidden 300; we keep NIC's 512 (one LSTM layer of 512 units).
# - Differences kept on purpose: the code adds BatchNorm1d after the image Linear and averages the masked loss over
#   all positions (pads included); we use a plain Dense and average over non-pad targets.
PAPER_RECIPE = {"batch_size": 20, "learning_rate": 1e-3, "epochs": 100, "optimizer": "adam", "trainable_encoder": False,
                "embedding_dim": 512, "units": 512, "dropout": 0.1, "min_count": 4, "max_length": 20, "beam_size": 20}


@keras.saving.register_keras_serializable(package="keras_cutmix")
class CaptionEmbedding(keras.layers.Embedding):
    """`keras.layers.Embedding` over a `Vocabulary`, which it saves.

    Args:
        tokens: The vocabulary's token list (`Vocabulary.tokens`).
        output_dim: Embedding size.
        **kwargs: Passed to `keras.layers.Embedding`.
    """

    def __init__(self, tokens, output_dim, **kwargs):
        kwargs.pop("input_dim", None)
        super().__init__(input_dim=len(tokens), output_dim=output_dim, **kwargs)
        self.tokens = list(tokens)

    @property
    def vocabulary(self):
        return Vocabulary(self.tokens)

    def get_config(self):
        config = super().get_config()
        config.pop("input_dim", None)
        config["tokens"] = list(self.tokens)
        return config


def _check_functional(name, model, caller):
    if not isinstance(model, keras.Model) or not getattr(model, "outputs", None):
        raise ValueError(f"{caller}: Expected `{name}` to be a functional keras.Model (built from keras.Input). "
                         f"Received: {name} of type {type(model).__name__}")


_NIC_LAYERS = ("encoder", "image_embedding", "word_embedding", "lstm", "logits")


def check_nic(model, caller):
    """Raises a ValueError naming `model` unless it is a model from `nic` (its layers, by name)."""
    names = {layer.name for layer in getattr(model, "layers", [])} if isinstance(model, keras.Model) else set()
    if not set(_NIC_LAYERS) <= names or not isinstance(model.get_layer("word_embedding"), CaptionEmbedding):
        what = f"{model.name!r} without layers {sorted(set(_NIC_LAYERS) - names)}" if isinstance(
            model, keras.Model) else f"of type {type(model).__name__}"
        raise ValueError(f"{caller}: Expected `model` to be a NIC model from `nic.nic` (or loaded from its .keras "
                         f"file). Received: model {what}")


def pooled_encoder(classifier, pool_name=POOL_NAME):
    """A classifier cut at its global pooling: pixels -> features `[B, D]`.

    Args:
        classifier: A functional `keras.Model` ending in `GlobalAveragePooling2D -> Dense(name="head")` (as every
            `keras_cutmix.models` model).
        pool_name: The pooling layer's name, else the last `GlobalAveragePooling2D` is used. Defaults to "global_pool".

    Returns:
        A `keras.Model(classifier.inputs, pooled_features)` sharing weights.

    Raises:
        ValueError: If `classifier` is not a functional `keras.Model` or has no global average pooling layer.
    """
    _check_functional("classifier", classifier, "pooled_encoder")
    names = [layer.name for layer in classifier.layers]
    if pool_name not in names:
        pools = [layer.name for layer in classifier.layers if isinstance(layer, keras.layers.GlobalAveragePooling2D)]
        if not pools:
            raise ValueError("Expected `classifier` with a GlobalAveragePooling2D layer. "
                             f"Received: classifier={classifier.name!r} with layers {names}")
        pool_name = pools[-1]
    return keras.Model(classifier.inputs, classifier.get_layer(pool_name).output, name=f"{classifier.name}_encoder")


def nic(vocabulary, encoder, embedding_dim=512, units=512, dropout=PAPER_RECIPE["dropout"], trainable_encoder=False,
        name="nic"):
    """Builds NIC for teacher-forced training.

    Args:
        vocabulary: A `Vocabulary`.
        encoder: A `keras.Model` from pixels `[B, H, W, 3]` to features `[B, D]` (e.g. `pooled_encoder(classifier)`).
        embedding_dim: Size of the image and word embeddings. Defaults to 512.
        units: LSTM units. Defaults to 512.
        dropout: Dropout rate on the LSTM outputs. Defaults to 0.1.
        trainable_encoder: Fine-tune the encoder (else frozen, in inference mode; this sets `trainable` on the layers
            it shares with its classifier). Defaults to False, as the reference code.
        name: Model name.

    Returns:
        A `keras.Model` taking `(images, caption_ids [B, T])` and returning logits `[B, T, len(vocabulary)]`; layers
        "encoder", "image_embedding", "word_embedding", "lstm", "logits".

    Raises:
        ValueError: If `vocabulary` is not a `Vocabulary`, the encoder does not map images `[B, H, W, C]` to features
            `[B, D]`, a size is not a positive int or `dropout` is not in [0, 1).
    """
    check_vocabulary("vocabulary", vocabulary, "nic")
    _check_functional("encoder", encoder, "nic")
    shapes = [tuple(o.shape) for o in encoder.inputs], [tuple(o.shape) for o in encoder.outputs]
    if [len(shape) for shape in shapes[0]] != [4] or [len(shape) for shape in shapes[1]] != [2]:
        raise ValueError("nic: Expected `encoder` from images [batch, height, width, channels] to features "
                         f"[batch, features] (see `pooled_encoder`). Received: input shapes {shapes[0]}, "
                         f"output shapes {shapes[1]}")
    embedding_dim = checks.count("embedding_dim", embedding_dim, "nic")
    units = checks.count("units", units, "nic")
    dropout = checks.fraction("dropout", dropout, "nic", open_high=True)
    encoder = keras.Model(encoder.inputs, encoder.outputs[0], name="encoder")
    encoder.trainable = bool(trainable_encoder)
    images = keras.Input(shape=encoder.inputs[0].shape[1:], name="images")
    caption_ids = keras.Input(shape=(None,), dtype="int32", name="caption_ids")

    features = encoder(images)
    image = keras.layers.Dense(embedding_dim, name="image_embedding")(features)
    image = keras.layers.Reshape((1, embedding_dim), name="image_step")(image)
    words = CaptionEmbedding(vocabulary.tokens, embedding_dim, name="word_embedding")(caption_ids)
    steps = keras.layers.Concatenate(axis=1, name="steps")([image, words])
    hidden = keras.layers.LSTM(units, return_sequences=True, name="lstm")(steps)
    hidden = keras.layers.Cropping1D((1, 0), name="drop_image_step")(hidden)
    hidden = keras.layers.Dropout(dropout, name="dropout")(hidden)
    logits = keras.layers.Dense(len(vocabulary), name="logits", dtype="float32")(hidden)
    return keras.Model([images, caption_ids], logits, name=name)


def caption_decoder(model):
    """NIC without its encoder, sharing its layers: `(features [B, D], caption_ids [B, T])` -> logits.

    With a frozen encoder (in inference mode) training this on features computed once is training `model`:
    the same layers, the same gradients, without running the encoder every step.

    Args:
        model: A model from `nic`.

    Returns:
        A `keras.Model` whose weights are `model`'s minus the encoder's.
    """
    features = keras.Input(shape=model.get_layer("encoder").outputs[0].shape[1:], name="features")
    caption_ids = keras.Input(shape=(None,), dtype="int32", name="caption_ids")
    image = model.get_layer("image_step")(model.get_layer("image_embedding")(features))
    steps = model.get_layer("steps")([image, model.get_layer("word_embedding")(caption_ids)])
    hidden = model.get_layer("drop_image_step")(model.get_layer("lstm")(steps))
    logits = model.get_layer("logits")(model.get_layer("dropout")(hidden))
    return keras.Model([features, caption_ids], logits, name=f"{model.name}_decoder")


def vocabulary_of(model):
    """The `Vocabulary` saved in a NIC model's "word_embedding" layer.

    Raises:
        ValueError: If `model` is not a model from `nic`.
    """
    check_nic(model, "vocabulary_of")
    return model.get_layer("word_embedding").vocabulary


@keras.saving.register_keras_serializable(package="keras_cutmix")
def caption_loss(y_true_ids, logits):
    """Mean cross-entropy over the non-`<pad>` targets.

    Args:
        y_true_ids: int `[B, T]` target ids (`ids[:, 1:]`), 0 = padding.
        logits: `[B, T, V]`.

    Returns:
        Scalar: sum of `-log softmax(logits)[target]` over targets != 0, divided by their number (0 if none).

    Raises:
        ValueError: If the shapes do not match (`[B, T]`, `[B, T, V]`) or, on eager values, a target is not in [0, V).
    """
    y_true_ids = y_true_ids if hasattr(y_true_ids, "shape") else np.asarray(y_true_ids)
    logits = logits if hasattr(logits, "shape") else np.asarray(logits, np.float32)
    shape, logits_shape = tuple(y_true_ids.shape), tuple(logits.shape)
    if len(shape) != 2 or len(logits_shape) != 3 or any(
            a is not None and b is not None and a != b for a, b in zip(shape, logits_shape[:2])):
        raise ValueError("caption_loss: Expected target ids [B, T] and logits [B, T, V] (targets ids[:, 1:] of "
                         f"inputs ids[:, :-1]). Received: y_true_ids.shape={shape}, logits.shape={logits_shape}")
    if tf.executing_eagerly() and not isinstance(y_true_ids, keras.KerasTensor):  # Compiled: no value checks.
        checks.integer_array("y_true_ids", keras.ops.convert_to_numpy(y_true_ids), "caption_loss", ndim=2,
                             upper=logits_shape[-1])
    y_true_ids = keras.ops.cast(y_true_ids, "int32")
    ce = keras.losses.sparse_categorical_crossentropy(y_true_ids, keras.ops.cast(logits, "float32"), from_logits=True)
    mask = keras.ops.cast(keras.ops.not_equal(y_true_ids, PAD_ID), "float32")
    return keras.ops.sum(ce * mask) / keras.ops.maximum(keras.ops.sum(mask), 1.0)
