"""SSD's MultiBox loss with hard negative mining, as amdegroot/ssd.pytorch's `MultiBoxLoss`.

`L = (L_conf + L_loc) / N`: `L_loc` is smooth L1 (beta 1, summed over the 4 deltas) on the positive default
boxes (class > 0); `L_conf` is softmax cross-entropy summed over the positives and the hard negatives; `N` is
the number of positives in the whole batch (at least 1 here, where ssd.pytorch would divide by zero).
Hard negatives, per image, exactly as ssd.pytorch: the per-box loss `logsumexp(logits) - logits[target]`
with positives set to 0, sorted descending; a box whose rank is below `min(negpos_ratio * num_pos, A - 1)`
is a negative (so at most 3x the positives are chosen, the highest-loss background boxes first).

Bad shapes, one-hot class rows and a `negpos_ratio` that is not a number >= 0 raise a `ValueError` naming the
function before any work; class ids out of `[0, C]` or not whole raise `tf.errors.InvalidArgumentError` (not
under XLA). `pred_cls` are logits; probabilities need `from_logits=False` (eagerly, probabilities passed as
logits are refused).

References:
    - [Liu et al., 2016](https://arxiv.org/abs/1512.02325), Sec. 2.2 (training objective, hard negative mining).
    - github.com/amdegroot/ssd.pytorch, `layers/modules/multibox_loss.py`.
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks


def _checked(caller, cls_targets, pred_cls, negpos_ratio, from_logits, loc=(), cls_name="cls_targets"):
    """The arguments at the door -> class ids [B, A] int32, float32 logits (log p for `from_logits=False`), ratio."""
    negpos_ratio = checks.number("negpos_ratio", negpos_ratio, caller, minimum=0)
    from_logits = checks.flag("from_logits", from_logits, caller)
    cls_targets = tf.convert_to_tensor(cls_targets)
    pred_cls = tf.convert_to_tensor(pred_cls)
    if cls_targets.shape.rank == 3 and cls_targets.shape[-1] == 1:
        cls_targets = cls_targets[..., 0]
    shapes = {cls_name: cls_targets.shape, "pred_cls": pred_cls.shape,
              **{name: tf.convert_to_tensor(value).shape for name, value in loc}}
    ok = (cls_targets.shape.rank == 2 and pred_cls.shape.rank == 3 and pred_cls.shape[-1] not in (0, 1)
          and cls_targets.shape[:2].is_compatible_with(pred_cls.shape[:2]))
    for name, _ in loc:
        ok = ok and shapes[name].rank == 3 and shapes[name][-1] == 4 and shapes[name][:2].is_compatible_with(
            pred_cls.shape[:2])
    if not ok:
        one_hot = " (one-hot rows: pass their argmax)" if cls_targets.shape.rank == 3 else ""
        raise ValueError(f"{caller}: Expected class ids [B, A]{one_hot}, logits [B, A, C + 1] (C + 1 >= 2)"
                         f"{' and boxes [B, A, 4]' if loc else ''} with the same B and A. Received: "
                         + ", ".join(f"{name}.shape={tuple(shape)}" for name, shape in shapes.items()))
    if from_logits and tf.executing_eagerly() and checks.are_probabilities(pred_cls.numpy()):
        raise ValueError(f"{caller}: Expected `pred_cls` as logits; these are probabilities (rows in [0, 1] "
                         f"summing to 1): pass from_logits=False. Received: pred_cls in "
                         f"[{float(tf.reduce_min(pred_cls)):.4g}, {float(tf.reduce_max(pred_cls)):.4g}]")
    num_classes = tf.shape(pred_cls)[-1]
    if cls_targets.dtype.is_floating:
        whole = tf.debugging.assert_equal(
            cls_targets, tf.floor(cls_targets),
            message=f"{caller}: Expected whole-number class ids in `{cls_name}`; fractional values found")
        with tf.control_dependencies([whole]):
            cls_targets = tf.identity(cls_targets)
    cls_targets = tf.cast(cls_targets, tf.int32)
    in_range = tf.debugging.assert_equal(
        tf.reduce_all((cls_targets >= 0) & (cls_targets < num_classes)), True,
        message=f"{caller}: Expected class ids in `{cls_name}` in [0, C] (0 background, C + 1 = pred_cls's last "
                f"axis); ids out of range found (padding rows belong to `match`, not to the loss)")
    with tf.control_dependencies([in_range]):
        cls_targets = tf.identity(cls_targets)
    pred_cls = tf.cast(pred_cls, tf.float32)
    if not from_logits:  # log p: its log-softmax is itself, so the cross-entropy is -log p.
        pred_cls = tf.math.log(tf.maximum(pred_cls, np.finfo(np.float32).tiny))
    return cls_targets, pred_cls, negpos_ratio


def _hard_negatives(cls_targets, pred_cls, negpos_ratio):
    positive = cls_targets > 0
    box_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=cls_targets, logits=pred_cls)
    box_loss = tf.where(positive, 0.0, tf.stop_gradient(box_loss))
    order = tf.argsort(box_loss, axis=1, direction="DESCENDING", stable=True)
    rank = tf.argsort(order, axis=1, stable=True)
    num_pos = tf.reduce_sum(tf.cast(positive, tf.float32), axis=1, keepdims=True)
    num_neg = tf.minimum(tf.cast(tf.floor(negpos_ratio * num_pos), tf.int32), tf.shape(cls_targets)[1] - 1)
    return rank < num_neg


def hard_negatives(cls_targets, pred_cls, negpos_ratio=3, *, from_logits=True):
    """The default boxes kept as negatives by ssd.pytorch's hard negative mining.

    Args:
        cls_targets: int [B, A] (or [B, A, 1]) classes (0 background).
        pred_cls: float [B, A, C + 1] logits (probabilities with `from_logits=False`).
        negpos_ratio: Negatives per positive, a number >= 0 (the budget is `floor(ratio * positives)`).
            Defaults to 3.
        from_logits: Whether `pred_cls` holds logits. Defaults to True.

    Returns:
        bool [B, A]: the mined set (ranks below the negative budget; it can include positives where
        fewer than that many boxes have a positive loss, as in ssd.pytorch; the loss takes the union).

    Raises:
        ValueError, tf.errors.InvalidArgumentError: for bad input (see the module docstring).
    """
    cls_targets, pred_cls, negpos_ratio = _checked("hard_negatives", cls_targets, pred_cls, negpos_ratio,
                                                   from_logits)
    return _hard_negatives(cls_targets, pred_cls, negpos_ratio)


def multibox_loss(y_true_loc, y_true_cls, pred_loc, pred_cls, negpos_ratio=3, *, from_logits=True):
    """ssd.pytorch's MultiBox loss terms.

    Args:
        y_true_loc: float [B, A, 4] encoded targets (from `ssd_anchors.match`).
        y_true_cls: int [B, A] (or [B, A, 1]) classes, 0 background (from `ssd_anchors.match`).
        pred_loc: float [B, A, 4] predicted deltas.
        pred_cls: float [B, A, C + 1] logits (probabilities with `from_logits=False`).
        negpos_ratio: Negatives per positive, a number >= 0. Defaults to 3.
        from_logits: Whether `pred_cls` holds logits. Defaults to True.

    Returns:
        `(loc_loss, conf_loss)`, float32 scalars, each divided by the number of positives; the training
        loss is their sum (ssd.pytorch's `alpha = 1`).

    Raises:
        ValueError, tf.errors.InvalidArgumentError: for bad input (see the module docstring).
    """
    y_true_cls, pred_cls, negpos_ratio = _checked("multibox_loss", y_true_cls, pred_cls, negpos_ratio, from_logits,
                                                  loc=(("y_true_loc", y_true_loc), ("pred_loc", pred_loc)),
                                                  cls_name="y_true_cls")
    positive = y_true_cls > 0
    num_pos = tf.maximum(tf.reduce_sum(tf.cast(positive, tf.float32)), 1.0)
    diff = tf.abs(tf.cast(pred_loc, tf.float32) - tf.cast(y_true_loc, tf.float32))
    smooth_l1 = tf.reduce_sum(tf.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5), axis=-1)
    loc_loss = tf.reduce_sum(tf.where(positive, smooth_l1, 0.0))
    selected = positive | _hard_negatives(y_true_cls, pred_cls, negpos_ratio)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_true_cls, logits=pred_cls)
    conf_loss = tf.reduce_sum(tf.where(selected, cross_entropy, 0.0))
    return loc_loss / num_pos, conf_loss / num_pos
