"""Tests of keras_cutmix.mixing.labels: every shape rule, smoothing and the range check, against NumPy."""

import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import labels as labels_lib
from keras_cutmix.training import input_pipeline
from layer_checks import onehot_images, pixel_sources
from numpy_reference import one_hot as np_one_hot
from numpy_reference import smooth as np_smooth

B, K = 6, 5
IDS = np.array([0, 4, 2, 3, 1, 2])
BAD_IDS = np.array([1, 2, 5, 3, 4, 1])  # 5 is out of range for K = 5 (the "labels 1..5")


def nan_rows(array):
    return np.isnan(np.asarray(array, np.float64)).any(axis=-1)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
@pytest.mark.parametrize("column", [False, True])
def test_one_hot_matches_numpy(dtype, column):
    ids = IDS.astype(dtype)[:, None] if column else IDS.astype(dtype)
    encoded, _ = labels_lib.one_hot(ids, K, caller="test")
    assert encoded.dtype == tf.float32
    np.testing.assert_array_equal(encoded, np_one_hot(IDS, K))


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_smooth_matches_numpy(smoothing):
    labels = np.random.default_rng(0).dirichlet(np.ones(K), size=B).astype("float32")
    np.testing.assert_allclose(labels_lib.smooth(tf.constant(labels), smoothing), np_smooth(labels, smoothing),
                               rtol=1e-6)


@pytest.mark.parametrize("bad", [BAD_IDS, np.array([0, -1, 2, 3, 4, 1])], ids=["too_large", "negative"])
def test_out_of_range_ids_raise_eagerly_and_in_graphs(bad):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"caller: Expected integer labels in \[0, num_classes=5\)"):
        labels_lib.one_hot(bad, K, caller="caller")

    @tf.function
    def in_graph(ids):
        encoded, checks = labels_lib.one_hot(ids, K, caller="caller")
        return labels_lib.wait_for(checks, encoded)

    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_classes=5"):
        in_graph(tf.constant(bad))
    np.testing.assert_array_equal(in_graph(tf.constant(IDS)), np_one_hot(IDS, K))  # control


@pytest.mark.parametrize("bad", [BAD_IDS, np.array([0, -1, 2, 3, 4, 1])], ids=["too_large", "negative"])
def test_out_of_range_ids_give_nan_rows_under_xla(bad):
    xla = tf.function(lambda ids: labels_lib.one_hot(ids, K, caller="caller")[0], jit_compile=True)
    encoded = np.asarray(xla(tf.constant(bad)))
    out = (bad < 0) | (bad >= K)
    np.testing.assert_array_equal(nan_rows(encoded), out)
    np.testing.assert_array_equal(encoded[~out], np_one_hot(bad[~out], K))


def test_cutmix_fn_under_xla_gives_nan_rows_for_out_of_range_labels():
    # The issue: under jit_compile=True the assertion is dropped and the bad label's rows summed to 0.23/0.77.
    images = onehot_images(B, 5, 7)
    fn = tf.function(lambda x, y: kc.cutmix_fn(x, y, num_classes=K, seed=3), jit_compile=True)
    mixed, labels = fn(images, tf.constant(BAD_IDS))
    sources = pixel_sources(mixed)
    bad = BAD_IDS >= K
    tainted = (sources[:, bad] > 0).any(axis=1)  # every row that took pixels from the bad sample
    rows = nan_rows(labels)
    assert tainted.any() and rows.any()
    assert rows[tainted].all(), (rows, tainted)
    clean = ~rows
    good = np.where(bad[:, None], 0.0, np_one_hot(np.minimum(BAD_IDS, K - 1), K))
    np.testing.assert_allclose(np.asarray(labels)[clean], (sources @ good)[clean], rtol=1e-6, atol=1e-7)


def test_cutmix_fn_in_a_dataset_map_raises_for_out_of_range_labels():
    images = np.zeros((B, 5, 7, 3), "uint8")
    dataset = tf.data.Dataset.from_tensors((images, BAD_IDS)).map(lambda x, y: kc.cutmix_fn(x, y, num_classes=K, seed=1))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"cutmix_fn: Expected integer labels in \[0, num_classes=5\)"):
        next(iter(dataset))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_one_hot_fn_matches_numpy_and_checks_the_range(smoothing):
    fn = input_pipeline.one_hot_fn(K, smoothing)
    images = np.zeros((B, 2, 2, 3), "uint8")
    dataset = tf.data.Dataset.from_tensors((images, IDS)).map(fn)
    _, labels = next(iter(dataset))
    np.testing.assert_allclose(labels, np_smooth(np_one_hot(IDS, K), smoothing), rtol=1e-6)
    bad = tf.data.Dataset.from_tensors((images, BAD_IDS)).map(fn)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"one_hot_fn: Expected integer labels"):
        next(iter(bad))


def test_class_targets_rules():
    labels, _ = labels_lib.class_targets(IDS[:, None], K, 0.2)
    np.testing.assert_allclose(labels, np_smooth(np_one_hot(IDS, K), 0.2), rtol=1e-6)
    soft = np.random.default_rng(1).dirichlet(np.ones(K), size=B).astype("float16")
    labels, checks = labels_lib.class_targets(soft, None, 0.0)
    assert labels.dtype == tf.float16 and checks == []
    np.testing.assert_array_equal(labels, soft)
    with errors.caller("f"):  # The errors name the public entry point they are raised under.
        with pytest.raises(ValueError, match=r"f: Integer labels need `num_classes`.*num_classes=None"):
            labels_lib.class_targets(IDS, None, 0.0)
        with pytest.raises(ValueError, match=r"f: Expected float labels of shape \[batch, num_classes\]"):
            labels_lib.class_targets(IDS.astype("float32"), K, 0.0)


# --- The rules of MixedLoss: loss_targets -------------------------------------------------------------

LOGITS = np.zeros((B, K), "float32")
ONE_OUTPUT = np.zeros((B, 1), "float32")
MULTI_HOT = (np.random.default_rng(2).random((B, K)) > 0.5)
REGRESSION = np.array([1.5, -2.0, 3.0, 0.25, 7.0, -1.0], "float32")


@pytest.mark.parametrize("y_true,y_pred,sparse,expected,is_ids", [
    (IDS.astype("int32"), LOGITS, True, np_one_hot(IDS, K), True),  # sparse ids
    (IDS.astype("float32"), LOGITS, True, np_one_hot(IDS, K), True),  # float ids for a sparse loss
    (IDS[:, None].astype("int64"), LOGITS, False, np_one_hot(IDS, K), True),  # int ids, categorical loss
    (IDS.astype("float64"), LOGITS, False, np_one_hot(IDS, K), True),  # float ids (fit under a strategy)
    (IDS[:, None].astype("float32"), LOGITS, False, np_one_hot(IDS, K), True),  # float id column
    (np_one_hot(IDS, K), LOGITS, True, np_one_hot(IDS, K), False),  # one-hot for a sparse loss
    (MULTI_HOT.astype("int32"), LOGITS, False, MULTI_HOT.astype("float32"), False),  # multi-label ints
    (MULTI_HOT.astype("float32"), LOGITS, False, MULTI_HOT.astype("float32"), False),  # multi-label floats
    (np.array([0, 1, 1, 0, 1, 0]), ONE_OUTPUT, False, np.array([[0], [1], [1], [0], [1], [0]], "float32"), False),
    (np.array([[0], [1], [1], [0], [1], [0]]), ONE_OUTPUT, False, np.array([[0], [1], [1], [0], [1], [0]]), False),
    (np.array([1, 2, 3, 4, 5, 6]), ONE_OUTPUT, False, np.arange(1, 7, dtype="float32")[:, None], False),  # int regression
    (REGRESSION, ONE_OUTPUT, False, REGRESSION[:, None], False),
    (REGRESSION, REGRESSION, False, REGRESSION, False),  # rank-1 predictions
], ids=["sparse_ids", "sparse_float_ids", "int_ids_column", "float_ids", "float_ids_column",
        "one_hot_for_sparse", "multi_label_int",
        "multi_label_float", "binary_vector", "binary_column", "int_regression", "float_regression", "rank1"])
def test_loss_targets_rules(y_true, y_pred, sparse, expected, is_ids):
    targets, checks, ids = labels_lib.loss_targets(y_true, y_pred, None, sparse)
    assert ids is is_ids and bool(checks) is is_ids
    assert targets.dtype == tf.float32
    np.testing.assert_array_equal(targets, np.asarray(expected, "float32"))


@pytest.mark.parametrize("y_true,y_pred,sparse,num_classes,fragment", [
    (np.zeros((B, 3), "int32"), LOGITS, False, None, "y_true.shape=(6, 3)"),
    (np.zeros((B, 3), "float32"), LOGITS, False, None, "y_true.shape=(6, 3), y_true.dtype=float32"),
    (np.array([0, 1, 1, 0, 1, 0]), ONE_OUTPUT, True, None, "A sparse categorical loss expects class ids"),
    (IDS, LOGITS, False, 4, "Expected predictions with num_classes=4 columns. Received: y_pred.shape=(6, 5)"),
], ids=["wrong_width", "wrong_float_width", "sparse_vs_one_output",
        "num_classes_mismatch"])
def test_loss_targets_ambiguous_raise(y_true, y_pred, sparse, num_classes, fragment):
    with pytest.raises(ValueError) as info, errors.caller("loss"):
        labels_lib.loss_targets(y_true, y_pred, num_classes, sparse)
    assert fragment in str(info.value) and str(info.value).startswith("loss: "), str(info.value)
