"""Caption vocabulary: words seen at least `min_count` times, plus 4 specials.

Ids are fixed for the special tokens: `<pad>` = 0 (the `StringLookup` mask token), `<unk>` = 1 (its one
out-of-vocabulary index), `<start>` = 2, `<end>` = 3; the words follow, most frequent first (ties alphabetical).

The tokenisation rule (one home: `split_words`) is the one of
`keras.layers.TextVectorization(standardize="lower_and_strip_punctuation")`:
lowercase, delete punctuation, split on whitespace.

A `Vocabulary` is a plain list of tokens around two `keras.layers.StringLookup` layers (forward and inverted). It
serialises as that list: `nic` stores it in the config of its word-embedding layer, so a saved model carries it.

References:
    - [Vinyals et al., 2015, Show and Tell: A Neural Image Caption Generator](https://arxiv.org/abs/1411.4555)
"""

import collections

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import checks

PAD, UNK, START, END = "<pad>", "<unk>", "<start>", "<end>"
SPECIAL_TOKENS = (PAD, UNK, START, END)
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3

# keras.src.layers.preprocessing.text_vectorization's DEFAULT_STRIP_REGEX.
_STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def split_words(captions):
    """Lowercases, deletes punctuation and splits on whitespace.

    Args:
        captions: A string or a sequence/1-D tensor of strings.

    Returns:
        A `tf.RaggedTensor` of words, `[num_captions, None]`.
    """
    text = tf.strings.lower(tf.reshape(tf.convert_to_tensor(captions, tf.string), [-1]))
    text = tf.strings.regex_replace(text, _STRIP_REGEX, "")
    return tf.strings.split(text)


def check_captions(name, captions, caller, allow_empty=True):
    """`captions` (a flat sequence of str or bytes, not one string) as a list; else a ValueError naming `name`."""
    captions = captions.numpy() if tf.is_tensor(captions) else captions
    if isinstance(captions, (str, bytes, dict)) or not np.iterable(captions):
        raise ValueError(f"{caller}: Expected `{name}` to be a sequence of caption strings (for one caption, "
                         f"pass [caption]). Received: {name} of type {type(captions).__name__}")
    if isinstance(captions, np.ndarray) and captions.ndim != 1:
        raise ValueError(f"{caller}: Expected `{name}` as a flat sequence of captions (reshape(-1) a table of "
                         f"them). Received: {name}.shape={captions.shape}")
    captions = list(captions)
    for i, caption in enumerate(captions):
        if not isinstance(caption, (str, bytes)):
            raise ValueError(f"{caller}: Expected `{name}` to hold strings. Received: {name}[{i}]={caption!r}")
    if not captions and not allow_empty:
        raise ValueError(f"{caller}: Expected at least one caption in `{name}`. Received: {name}=[]")
    return captions


def check_vocabulary(name, vocab, caller):
    """Raises a ValueError naming `name` unless `vocab` is a `Vocabulary`."""
    if not isinstance(vocab, Vocabulary):
        raise ValueError(f"{caller}: Expected `{name}` to be a Vocabulary (see build_vocabulary). "
                         f"Received: {name} of type {type(vocab).__name__}")


class Vocabulary:
    """Token list <-> ids, backed by `keras.layers.StringLookup`.

    Args:
        tokens: The full token list, starting with `SPECIAL_TOKENS`.

    Raises:
        ValueError: If `tokens` does not start with the special tokens or has duplicates.
    """

    def __init__(self, tokens):
        tokens = [str(t) for t in tokens]
        if tuple(tokens[:4]) != SPECIAL_TOKENS or len(set(tokens)) != len(tokens):
            raise ValueError(f"Vocabulary: Expected `tokens` to start with {list(SPECIAL_TOKENS)} and "
                             f"have no duplicates. Received: tokens={tokens[:8]!r}...")
        self.tokens = tokens
        kwargs = dict(mask_token=PAD, oov_token=UNK, num_oov_indices=1)
        self.lookup = keras.layers.StringLookup(vocabulary=tokens[2:], **kwargs)
        self.inverse = keras.layers.StringLookup(vocabulary=tokens[2:], invert=True, **kwargs)

    def __len__(self):
        return len(self.tokens)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self):
        return f"Vocabulary(size={len(self)})"


def build_vocabulary(captions, min_count=5, max_tokens=None):
    """Builds a `Vocabulary` from training captions.

    Args:
        captions: Sequence of caption strings.
        min_count: Keep words seen at least this many times. Defaults to 5 (NIC's threshold).
        max_tokens: If set, keep at most this many tokens (specials included), most frequent first. Defaults to None.

    Returns:
        A `Vocabulary`.

    Raises:
        ValueError: If `captions` is one string, empty or holds a non-string, `min_count` < 1 or `max_tokens` < 4.
    """
    captions = check_captions("captions", captions, "build_vocabulary", allow_empty=False)
    min_count = checks.count("min_count", min_count, "build_vocabulary")
    max_tokens = checks.count("max_tokens", max_tokens, "build_vocabulary", minimum=4, allow_none=True)
    words = split_words(captions).flat_values.numpy()
    counts = collections.Counter(w.decode("utf-8") for w in words)
    for token in SPECIAL_TOKENS:
        counts.pop(token, None)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    tokens = list(SPECIAL_TOKENS) + kept
    if max_tokens is not None:
        tokens = tokens[:max_tokens]
    return Vocabulary(tokens)


def tokenize(captions, vocab, max_length):
    """Captions -> `<start> w1 ... wk <end>` ids, padded with 0.

    Captions longer than `max_length - 2` words are cut to that many words (the `<end>` is always kept).

    Args:
        captions: Sequence of caption strings.
        vocab: A `Vocabulary`.
        max_length: Length of each row, `<start>` and `<end>` included.

    Returns:
        int32 NumPy array `[num_captions, max_length]`.

    Raises:
        ValueError: If `captions` is one string or has a non-string, `vocab` is not a `Vocabulary` or `max_length` < 2.
    """
    captions = check_captions("captions", captions, "tokenize")
    check_vocabulary("vocab", vocab, "tokenize")
    max_length = checks.count("max_length", max_length, "tokenize", minimum=2)
    if not captions:
        return np.zeros([0, max_length], np.int32)
    words = split_words(captions)[:, : max_length - 2]
    ids = tf.cast(vocab.lookup(words), tf.int32)
    column = lambda token: tf.RaggedTensor.from_tensor(tf.fill([ids.nrows(), 1], token))
    ids = tf.concat([column(START_ID), ids, column(END_ID)], axis=1)
    return ids.to_tensor(PAD_ID, shape=[None, max_length]).numpy()


def detokenize(ids, vocab):
    """Ids -> caption strings: stops at `<end>`, drops `<pad>` and `<start>`.

    Args:
        ids: int array `[num_captions, length]`.
        vocab: A `Vocabulary`.

    Returns:
        A list of strings (words joined by single spaces).

    Raises:
        ValueError: If `ids` is not rank 2 or holds ids outside [0, len(vocab)), or `vocab` is not a `Vocabulary`.
    """
    check_vocabulary("vocab", vocab, "detokenize")
    ids = checks.integer_array("ids", ids, "detokenize", ndim=2, upper=len(vocab))
    def caption(row):
        row = row.tolist()
        row = row[:row.index(END_ID)] if END_ID in row else row
        return " ".join(vocab.tokens[i] for i in row if i not in (PAD_ID, START_ID))

    return [caption(row) for row in ids]
