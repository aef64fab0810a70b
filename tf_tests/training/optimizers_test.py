"""TorchSGD against a NumPy transcription of torch.optim.SGD; per-layer learning-rate multipliers."""

import keras
import numpy as np
import pytest

from keras_cutmix.training import optimizers, schedules


def torch_sgd_reference(w, grads, lrs, momentum, nesterov, weight_decay):
    """torch.optim.SGD.step (dampening 0), written out in NumPy."""
    w = w.astype(np.float64).copy()
    buf = None
    for g, lr in zip(grads, lrs):
        g = g + weight_decay * w
        buf = g.copy() if buf is None else momentum * buf + g
        d = g + momentum * buf if nesterov else buf
        w = w - lr * d
    return w


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_matches_torch_sgd_with_a_changing_learning_rate(nesterov, weight_decay):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2)).astype("float32")
    grads = [rng.normal(size=(3, 2)).astype("float32") for _ in range(4)]
    # Step decay after 2 steps: lr 0.5 then 0.05.
    schedule = schedules.EpochStepDecay(0.5, (1,), steps_per_epoch=2)
    variable = keras.Variable(w0, name="w")
    opt = optimizers.TorchSGD(schedule, momentum=0.9, nesterov=nesterov, weight_decay=weight_decay)
    for g in grads:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
    want = torch_sgd_reference(w0, grads, [0.5, 0.5, 0.05, 0.05], 0.9, nesterov, weight_decay)
    np.testing.assert_allclose(variable.numpy(), want, rtol=1e-5, atol=1e-6)


def _two_layer_model():
    inputs = keras.Input((4,))
    x = keras.layers.Dense(3, name="backbone")(inputs)
    outputs = keras.layers.Dense(2, name="head")(x)
    return keras.Model(inputs, outputs, name="net")


def test_head_at_10x_moves_10x():
    model = _two_layer_model()
    opt = optimizers.TorchSGD(0.01, momentum=0.9, lr_multipliers={"^head/": 10.0})
    before = [v.numpy().copy() for v in model.trainable_variables]
    grads = [np.ones(v.shape, "float32") for v in model.trainable_variables]
    for _ in range(3):  # Same gradients each step: moves are proportional to the rate.
        opt.apply_gradients(zip(grads, model.trainable_variables))
    moves = {v.path: np.abs(v.numpy() - b).max() for v, b in zip(model.trainable_variables, before)}
    assert moves["head/kernel"] == pytest.approx(10 * moves["backbone/kernel"], rel=1e-5)
    assert moves["head/bias"] == pytest.approx(10 * moves["backbone/bias"], rel=1e-5)
    # Nesterov steps with g = 1: d = 1.9, 2.71, 3.439.
    assert moves["backbone/kernel"] == pytest.approx(0.01 * (1.9 + 2.71 + 3.439), rel=1e-5)


def test_multiplier_in_fit():
    """Through model.fit (the path training uses): a backbone at 0x stays put, the head trains."""
    model = _two_layer_model()
    model.compile(optimizers.TorchSGD(0.1, lr_multipliers={"backbone": 0.0}), loss="mse")
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    model.fit(np.ones((8, 4)), np.zeros((8, 2)), batch_size=4, epochs=1, verbose=0)
    after = {v.path: v.numpy() for v in model.trainable_variables}
    np.testing.assert_array_equal(after["backbone/kernel"], before["backbone/kernel"])
    assert not np.allclose(after["head/kernel"], before["head/kernel"])


def test_lr_multiplier_first_match_wins():
    table = {"head/bias": 0.0, "head": 10.0}
    assert optimizers.lr_multiplier("m/head/bias", table) == 0.0
    assert optimizers.lr_multiplier("m/head/kernel", table) == 10.0
    assert optimizers.lr_multiplier("m/conv/kernel", table) == 1.0


def test_config_round_trip_and_errors():
    opt = optimizers.TorchSGD(
        schedules.EpochCosineDecay(0.1, 3, 5), weight_decay=1e-4, lr_multipliers={"head": 10.0})
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(clone, optimizers.TorchSGD)
    assert (clone.l2, clone.lr_multipliers, clone.nesterov) == (1e-4, {"head": 10.0}, True)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.TorchSGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.TorchSGD(0.1, weight_decay=-1.0)
