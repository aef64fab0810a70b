"""SGD as the official CutMix code runs it, with per-layer learning rates.

The official code trains with `torch.optim.SGD(params, lr, momentum=0.9, weight_decay=1e-4, nesterov=True)`.
PyTorch's update differs from `keras.optimizers.SGD` in two ways that matter when the learning rate changes or
weight decay is on:

    g = grad + weight_decay * w          # coupled L2 (Keras' is decoupled)
    b = momentum * b + g                 # buffer holds gradients, not lr * g
    d = g + momentum * b  if nesterov else b
    w = w - lr * multiplier(w) * d

`TorchSGD` is that update. `lr_multipliers` maps regular expressions to factors: a variable whose `path`
matches (`re.search`, first match wins) trains at `factor * lr`, so a new head can learn at 10x the pretrained
backbone, as the paper's weakly-supervised localization recipe needs.

    optimizer = TorchSGD(schedule, momentum=0.9, nesterov=True, weight_decay=1e-4, lr_multipliers={"head/": 10.0})

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - PyTorch `torch.optim.SGD` documentation (the update above).
"""

import re

import keras
from keras import ops

from keras_cutmix import compat


def lr_multiplier(path, lr_multipliers):
    """The factor of the first pattern in `lr_multipliers` found in `path`, else 1."""
    for pattern, factor in lr_multipliers.items():
        if re.search(pattern, path):
            return float(factor)
    return 1.0


@keras.saving.register_keras_serializable(package="keras_cutmix")
class TorchSGD(keras.optimizers.Optimizer):
    """SGD with PyTorch's momentum form, coupled weight decay, per-variable lr.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.1.
        momentum: Momentum in [0, 1). Defaults to 0.9.
        nesterov: Whether to use Nesterov momentum. Defaults to `True`.
        weight_decay: L2 coefficient added to the gradient of every trainable variable (except those excluded
            with `exclude_from_weight_decay`). Defaults to 0.
        lr_multipliers: `{regex: factor}` keyed on `variable.path`. Defaults to `{}` (every variable at the base
            rate).
        **kwargs: Other `keras.optimizers.Optimizer` arguments (`name`, `clipnorm`, ...).
    """

    def __init__(self, learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=0.0, lr_multipliers=None,
                 name="torch_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= momentum < 1:
            raise ValueError(f"Expected `momentum` in [0, 1). Received: momentum={momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("Expected `momentum` > 0 with nesterov=True. Received: momentum=0")
        if weight_decay is None or weight_decay < 0:
            raise ValueError(f"Expected `weight_decay` >= 0. Received: weight_decay={weight_decay!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        # Not `self.weight_decay`: the base class would also apply it, decoupled.
        self.l2 = float(weight_decay)
        self.lr_multipliers = dict(lr_multipliers or {})
        for pattern in self.lr_multipliers:
            re.compile(pattern)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum") if self.momentum else []
        self.paths = [v.path for v in variables]
        self.multipliers = [lr_multiplier(path, self.lr_multipliers) for path in self.paths]

    def update_step(self, gradient, variable, learning_rate):
        index = compat.optimizer_variable_index(self, variable, self.paths)
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        if self.l2 and compat.optimizer_decays(self, variable):
            gradient = gradient + ops.cast(self.l2, dtype) * variable
        learning_rate = ops.cast(learning_rate, dtype) * self.multipliers[index]
        direction = gradient
        if self.momentum:
            buffer = self.momentums[index]
            self.assign(buffer, ops.cast(self.momentum, dtype) * buffer + gradient)
            direction = gradient + ops.cast(self.momentum, dtype) * buffer if self.nesterov else buffer
        self.assign_sub(variable, learning_rate * direction)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov, "weight_decay": self.l2,
                "lr_multipliers": dict(self.lr_multipliers)}


def get_optimizer(config, schedule):
    """Builds the `TorchSGD` that `config` describes, on `schedule`."""
    return TorchSGD(learning_rate=schedule, momentum=config.momentum, nesterov=config.nesterov,
                    weight_decay=config.weight_decay, lr_multipliers=config.lr_multipliers)
