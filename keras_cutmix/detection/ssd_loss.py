"""SSD's MultiBox loss with hard negative mining, as amdegroot/ssd.pytorch's `MultiBoxLoss`.

`L = (L_conf + L_loc) / N`: `L_loc` is smooth L1 (beta 1, summed over the 4 deltas) on the positive default
boxes (class > 0); `L_conf` is softmax cross-entropy summed over the positives and the hard negatives; `N` is
the number of positives in the whole batch (at least 1 here, where ssd.pytorch would divide by zero).
Hard negatives, per image, exactly as ssd.pytorch: the per-box loss `logsumexp(logits) - logits[target]`
with positives set to 0, sorted descending; a box whose rank is below `min(negpos_ratio * num_pos, A - 1)`
is a negative (so at most 3x the positives are chosen, the highest-loss background boxes first).

References:
    - [Liu et al., 2016](https://arxiv.org/abs/1512.02325), Sec. 2.2 (training objective, hard negative mining).
    - github.com/amdegroot/ssd.pytorch, `layers/modules/multibox_loss.py`.
"""

import tensorflow as tf


def hard_negatives(cls_targets, pred_cls, negpos_ratio=3):
    """The default boxes kept as negatives by ssd.pytorch's hard negative mining.

    Args:
        cls_targets: int [B, A] classes (0 background).
        pred_cls: float [B, A, C + 1] logits.
        negpos_ratio: Negatives per positive. Defaults to 3.

    Returns:
        bool [B, A]: the mined set (ranks below the negative budget; it can include positives where
        fewer than that many boxes have a positive loss, as in ssd.pytorch; the loss takes the union).
    """
    cls_targets = tf.cast(cls_targets, tf.int32)
    positive = cls_targets > 0
    box_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=cls_targets, logits=pred_cls)
    box_loss = tf.where(positive, 0.0, tf.stop_gradient(box_loss))
    order = tf.argsort(box_loss, axis=1, direction="DESCENDING", stable=True)
    rank = tf.argsort(order, axis=1, stable=True)
    num_pos = tf.reduce_sum(tf.cast(positive, tf.int32), axis=1, keepdims=True)
    num_neg = tf.minimum(negpos_ratio * num_pos, tf.shape(cls_targets)[1] - 1)
    return rank < num_neg


def multibox_loss(y_true_loc, y_true_cls, pred_loc, pred_cls, negpos_ratio=3):
    """ssd.pytorch's MultiBox loss terms.

    Args:
        y_true_loc: float [B, A, 4] encoded targets (from `ssd_anchors.match`).
        y_true_cls: int [B, A] classes, 0 background (from `ssd_anchors.match`).
        pred_loc: float [B, A, 4] predicted deltas.
        pred_cls: float [B, A, C + 1] logits.
        negpos_ratio: Negatives per positive. Defaults to 3.

    Returns:
        `(loc_loss, conf_loss)`, float32 scalars, each divided by the number of positives; the training
        loss is their sum (ssd.pytorch's `alpha = 1`).
    """
    y_true_cls = tf.cast(y_true_cls, tf.int32)
    pred_cls = tf.cast(pred_cls, tf.float32)
    positive = y_true_cls > 0
    num_pos = tf.maximum(tf.reduce_sum(tf.cast(positive, tf.float32)), 1.0)
    diff = tf.abs(tf.cast(pred_loc, tf.float32) - tf.cast(y_true_loc, tf.float32))
    smooth_l1 = tf.reduce_sum(tf.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5), axis=-1)
    loc_loss = tf.reduce_sum(tf.where(positive, smooth_l1, 0.0))
    selected = positive | hard_negatives(y_true_cls, pred_cls, negpos_ratio)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_true_cls, logits=pred_cls)
    conf_loss = tf.reduce_sum(tf.where(selected, cross_entropy, 0.0))
    return loc_loss / num_pos, conf_loss / num_pos
