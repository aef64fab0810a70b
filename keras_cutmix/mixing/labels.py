"""Label preparation, in one place: one-hot encoding, label smoothing, shape rules and range checks.

Three callers share it: the mixing functions and layers (`inputs.prepare_labels`), the loss wrapper
(`losses.MixedLoss`) and the training input pipeline (`input_pipeline.one_hot_fn`).

Mixing functions see no predictions, so their labels are either integer class ids `[B]` / `[B, 1]`
(one-hot encoded with `num_classes`) or float targets `[B, K]` (one-hot, soft, multi-label or binary
`[B, 1]`), used as given (`class_targets`).

`MixedLoss` also sees the predictions `[B, ..., P]`, and reads `y_true` by these rules (`loss_targets`):

| wrapped loss       | y_true dtype | y_true shape            | P   | read as                             |
|--------------------|--------------|------------------------|-----|-------------------------------------|
| any                | any number   | `[B]` or `[B, 1]`      | > 1 | class ids, one-hot with depth P     |
| any                | any number   | predictions' shape     | any | targets as given, as floats         |
| any but sparse     | any number   | `[B]` against `[B, 1]` | 1   | binary or regression targets [B, 1] |

(P is the predictions' last dimension; `num_classes`, where given, must equal it when P > 1.)

So a `Dense(1)` sigmoid model keeps its 0/1 targets, `mse` its regression values, multi-label targets
are mixed as floats, and only class ids are one-hot encoded. Class ids may come as floats, as Keras's own
sparse losses take them (`fit` under `tf.distribute` hands integer NumPy labels to the loss as float64).
Anything else raises a ValueError naming what was expected and what was received.

Class ids must be whole numbers in `[0, num_classes)`; another raises `tf.errors.InvalidArgumentError`
eagerly and in graphs (`tf.function`, `tf.data`). Under XLA (`jit_compile=True`, which Keras's default
`jit_compile="auto"` picks on a machine with a GPU and no distribution strategy) assertions are dropped: the
one-hot row of such an id is NaN instead (as TF's GPU kernels do for out-of-range sparse labels), so the
labels and loss of that sample and of every sample mixed with it are NaN. The NaN rows are computed in
every mode (one `where` on [B, K]).
"""

import tensorflow as tf

from keras_cutmix.mixing import errors


def wait_for(checks, tensor):
    """`tensor`, made to wait for the assertion ops `checks` in graphs (eager assertions already ran)."""
    checks = [check for check in checks if check is not None]
    if not checks or tf.executing_eagerly():
        return tensor
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def smooth(labels, label_smoothing):
    """Label smoothing (Szegedy et al., 2016): `(1 - label_smoothing) * labels + label_smoothing / K`.

    Args:
        labels: Float labels `[B, K]` (K taken from the last axis).
        label_smoothing: Fraction in [0, 1) moved from the targets to all K classes evenly.

    Returns:
        The smoothed labels, in the labels' dtype (unchanged when `label_smoothing` is 0).
    """
    if not label_smoothing:
        return labels
    classes = tf.cast(tf.shape(labels)[-1], labels.dtype)
    return labels * tf.cast(1.0 - label_smoothing, labels.dtype) + tf.cast(label_smoothing, labels.dtype) / classes


def one_hot(ids, num_classes, caller=None, dtype=tf.float32):
    """One-hot encodes class ids `[B]` or `[B, 1]`, checking that they lie in `[0, num_classes)`.

    Args:
        ids: Class ids `[B]` or `[B, 1]`, integer (or whole-number floats, read as integers).
        num_classes: Depth of the encoding, an int >= 1.
        caller: Name used in error messages where no `errors.caller` gives one (callers outside the core).
        dtype: Float dtype of the result. Defaults to float32.

    Returns:
        `(labels, checks)`: `dtype` one-hot labels `[B, num_classes]`, NaN rows for ids out of range or not
        whole (see the module docstring), and the assertion ops (None entries eagerly, where they already
        ran). Use `wait_for(checks, labels)` in graphs.

    Raises:
        ValueError: if `ids` is not of shape `[B]` or `[B, 1]`.
        tf.errors.InvalidArgumentError: eagerly, for an id out of range or not a whole number.
    """
    ids = tf.convert_to_tensor(ids)
    if ids.shape.rank == 2 and ids.shape[1] == 1:
        ids = ids[:, 0]
    if ids.shape.rank != 1:
        raise ValueError(errors.named(
            f"Expected integer class ids of shape [batch] or [batch, 1]. Received: labels.shape={ids.shape}", caller))
    expected = errors.named(f"Expected integer labels in [0, num_classes={num_classes})", caller)
    checks = []
    whole = None
    if ids.dtype.is_floating:  # Class ids as floats (Keras's sparse losses take them): whole numbers only.
        whole = tf.equal(ids, tf.floor(ids))
        checks.append(tf.debugging.assert_equal(
            whole, True, message=f"{expected}: float labels must be whole numbers (class ids)"))
    if not ids.dtype.is_integer:
        ids = tf.cast(ids, tf.int64)
    limit = tf.cast(num_classes, ids.dtype)
    checks += [
        tf.debugging.assert_greater_equal(ids, tf.cast(0, ids.dtype), message=f"{expected}: labels must be >= 0"),
        tf.debugging.assert_less(ids, limit, message=f"{expected}: labels must be < {num_classes}"),
    ]
    in_range = (ids >= 0) & (ids < limit)
    if whole is not None:
        in_range &= whole
    encoded = tf.one_hot(ids, num_classes, dtype=dtype)
    encoded = tf.where(in_range[:, None], encoded, tf.constant(float("nan"), dtype))
    return encoded, checks


def class_targets(labels, num_classes, label_smoothing):
    """The labels of a mixing function as float `[B, K]`, smoothed (rules in the module docstring).

    Args:
        labels: Integer class ids `[B]` or `[B, 1]` (need `num_classes`), or float targets `[B, K]`.
        num_classes: Number of classes, or None for float labels (then checked against K if given).
        label_smoothing: Fraction in [0, 1), applied after one-hot encoding.

    Returns:
        `(labels, checks)`: float labels `[B, K]` (float32 for integer ids, else the labels' own dtype) and
        the assertion ops of `one_hot` (empty for float labels).

    Raises:
        TypeError: for labels that are neither integer nor float.
        ValueError: for integer labels without `num_classes`, or shapes other than the above.
    """
    labels = tf.convert_to_tensor(labels)
    checks = []
    if labels.dtype.is_integer:
        if num_classes is None:
            raise ValueError(errors.named(
                "Integer labels need `num_classes` to be one-hot encoded. Received: "
                f"labels.dtype={labels.dtype.name}, labels.shape={labels.shape}, num_classes=None"))
        labels, checks = one_hot(labels, num_classes)
    elif labels.dtype.is_floating:
        if labels.shape.rank != 2:
            raise ValueError(errors.named(
                "Expected float labels of shape [batch, num_classes] (one-hot or soft). "
                f"Received: labels.shape={labels.shape}"))
        if num_classes is not None and labels.shape[1] is not None and labels.shape[1] != num_classes:
            raise ValueError(errors.named(
                f"Expected float labels with num_classes={num_classes} columns. Received: labels.shape={labels.shape}"))
    else:
        raise TypeError(errors.named(f"Expected integer or float labels. Received: labels.dtype={labels.dtype.name}"))
    return smooth(labels, label_smoothing), checks


def loss_targets(y_true, y_pred, num_classes, sparse_loss, dtype=tf.float32):
    """Reads `y_true` against `y_pred` by the rules in the module docstring, as dense float targets.

    Args:
        y_true: Targets as the data gave them (before any cast: the dtype is one of the rules).
        y_pred: Predictions `[B, ..., P]`.
        num_classes: Depth for class ids; None means P. Must equal P when both are known.
        sparse_loss: Whether the wrapped loss takes class ids (a sparse categorical loss).
        dtype: Float dtype of the targets. Defaults to float32.

    Returns:
        `(targets, checks, is_class_ids)`: `dtype` targets shaped like `y_pred` (one-hot for class ids),
        the assertion ops of `one_hot` (empty unless class ids), and whether they were class ids.

    Raises:
        ValueError: for targets that match no rule, or `num_classes` different from P.
    """
    y_true = tf.convert_to_tensor(y_true)
    y_pred = tf.convert_to_tensor(y_pred)
    if not (y_true.dtype.is_integer or y_true.dtype.is_floating or y_true.dtype == tf.bool):
        raise TypeError(errors.named(f"Expected numeric targets. Received: y_true.dtype={y_true.dtype.name}"))
    width = y_pred.shape[-1] if y_pred.shape.rank else 1
    if num_classes is not None and width is not None and width != num_classes and (sparse_loss or width > 1):
        raise ValueError(errors.named(
            f"Expected predictions with num_classes={num_classes} columns. Received: y_pred.shape={y_pred.shape}"))
    depth = num_classes if num_classes is not None else width
    received = (f"Received: y_true.shape={y_true.shape}, y_true.dtype={y_true.dtype.name}, "
                f"y_pred.shape={y_pred.shape}")
    ids_shaped = y_pred.shape.rank == 2 and (
        y_true.shape.rank == 1 or (y_true.shape.rank == 2 and y_true.shape[1] == 1))
    if ids_shaped and depth is not None and depth > 1:
        targets, checks = one_hot(y_true, depth, dtype=dtype)
        return targets, checks, True
    if sparse_loss and (width is None or width < 2 or y_true.shape.rank != y_pred.shape.rank):
        raise ValueError(errors.named(
            "A sparse categorical loss expects class ids of shape [batch] or [batch, 1] (or dense "
            f"targets [batch, num_classes]) against predictions [batch, num_classes] with num_classes > 1. "
            f"{received}"))
    if y_true.shape.rank == y_pred.shape.rank - 1 and width == 1:
        y_true = y_true[..., None]  # Binary or regression targets [B] against one output [B, 1].
    if not y_true.shape.is_compatible_with(y_pred.shape):
        raise ValueError(errors.named(
            "Expected integer class ids [batch] or [batch, 1] against predictions of width > 1, or "
            "targets of the predictions' shape (binary [batch] or [batch, 1] against [batch, 1]; multi-label, "
            f"soft or regression targets [batch, ...]). {received}"))
    return tf.cast(y_true, dtype), [], False
