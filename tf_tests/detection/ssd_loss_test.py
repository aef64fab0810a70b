"""MultiBox loss and hard negative mining: hand cases and a NumPy port of ssd.pytorch's MultiBoxLoss."""

import math

import numpy as np

from keras_cutmix.detection import ssd_loss


def np_multibox(loc_t, conf_t, loc_p, conf_p, negpos_ratio=3):
    """ssd.pytorch's MultiBoxLoss.forward after matching (layers/modules/multibox_loss.py), in NumPy."""
    pos = conf_t > 0
    diff = np.abs(loc_p - loc_t)[pos]
    loss_l = np.where(diff < 1, 0.5 * diff**2, diff - 0.5).sum()
    batch_conf = conf_p.reshape(-1, conf_p.shape[-1])
    x_max = batch_conf.max()
    lse = np.log(np.exp(batch_conf - x_max).sum(1)) + x_max
    loss_c = lse - batch_conf[np.arange(len(batch_conf)), conf_t.reshape(-1)]
    loss_c[pos.reshape(-1)] = 0
    loss_c = loss_c.reshape(conf_t.shape)
    loss_idx = np.argsort(-loss_c, axis=1, kind="stable")
    idx_rank = np.argsort(loss_idx, axis=1, kind="stable")
    num_pos = pos.sum(1, keepdims=True)
    num_neg = np.minimum(negpos_ratio * num_pos, pos.shape[1] - 1)
    neg = idx_rank < num_neg
    chosen = pos | neg
    logits = conf_p[chosen]
    targets = conf_t[chosen]
    lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    loss_c = (lse - logits[np.arange(len(targets)), targets]).sum()
    n = pos.sum()
    return loss_l / n, loss_c / n, neg


def test_hard_negatives_take_the_three_highest_loss_background_boxes():
    # One positive (box 0); background boxes' loss grows with their class-1 logit.
    cls = np.array([[1, 0, 0, 0, 0, 0, 0, 0]])
    logits = np.zeros((1, 8, 2), np.float32)
    logits[0, :, 1] = [5.0, 0.1, 3.0, -1.0, 2.0, 0.5, 4.0, -2.0]
    mined = np.asarray(ssd_loss.hard_negatives(cls, logits))
    np.testing.assert_array_equal(mined[0], [False, False, True, False, True, False, True, False])


def test_hard_negatives_at_most_three_per_positive_and_as_port():
    rng = np.random.default_rng(0)
    cls = (rng.uniform(size=(3, 400)) < 0.02) * rng.integers(1, 5, (3, 400))
    cls[2] = 0
    cls[2, 7] = 3
    logits = rng.normal(size=(3, 400, 5)).astype(np.float32)
    mined = np.asarray(ssd_loss.hard_negatives(cls, logits))
    negatives = (mined & (cls == 0)).sum(1)
    np.testing.assert_array_equal(negatives, 3 * (cls > 0).sum(1))
    np.testing.assert_array_equal(mined, np_multibox(np.zeros((3, 400, 4)), cls, np.zeros((3, 400, 4)), logits)[2])


def test_loss_hand_case():
    # 1 positive of 6 boxes, 3 classes, uniform logits: 1 positive + 3 negatives each cost log 3.
    loc_t = np.zeros((1, 6, 4), np.float32)
    loc_t[0, 2] = [0.5, 2.0, 0.0, -1.0]
    cls = np.array([[0, 0, 2, 0, 0, 0]])
    loc_loss, conf_loss = ssd_loss.multibox_loss(loc_t, cls, np.zeros((1, 6, 4)), np.zeros((1, 6, 3)))
    # smooth L1: 0.5 * 0.5**2 + (2 - 0.5) + 0 + (1 - 0.5) = 2.125; loc errors of background boxes ignored.
    np.testing.assert_allclose(float(loc_loss), 2.125, rtol=1e-6)
    np.testing.assert_allclose(float(conf_loss), 4 * math.log(3), rtol=1e-6)


def test_loss_equals_port_and_normalises_by_batch_positives():
    rng = np.random.default_rng(1)
    cls = (rng.uniform(size=(2, 300)) < 0.05) * rng.integers(1, 4, (2, 300))
    loc_t = rng.normal(size=(2, 300, 4)).astype(np.float32)
    loc_p = rng.normal(size=(2, 300, 4)).astype(np.float32) * 2
    logits = rng.normal(size=(2, 300, 4)).astype(np.float32) * 3
    loc_loss, conf_loss = ssd_loss.multibox_loss(loc_t, cls, loc_p, logits)
    ref_l, ref_c, _ = np_multibox(loc_t, cls, loc_p, logits)
    np.testing.assert_allclose(float(loc_loss), ref_l, rtol=1e-5)
    np.testing.assert_allclose(float(conf_loss), ref_c, rtol=1e-5)


def test_loss_without_positives_is_zero_not_nan():
    loc_loss, conf_loss = ssd_loss.multibox_loss(np.zeros((1, 5, 4)), np.zeros((1, 5)), np.ones((1, 5, 4)),
                                                 np.ones((1, 5, 3)))
    assert float(loc_loss) == 0.0 and float(conf_loss) == 0.0
