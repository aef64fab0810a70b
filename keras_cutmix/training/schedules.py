"""Learning-rate schedules written in epochs, evaluated per optimizer step.

The official CutMix code sets the learning rate once at the start of each epoch (`adjust_learning_rate` in
`train.py`):

    CIFAR:    lr * 0.1 ** (epoch // (0.5 * epochs)) * 0.1 ** (epoch // (0.75 * epochs))
    ImageNet: lr * 0.1 ** (epoch // 75)   if epochs == 300
              lr * 0.1 ** (epoch // 30)   for any other length

`EpochStepDecay` reproduces this exactly: the rate changes at the first step of a boundary epoch.
`EpochCosineDecay` decays every step, `0.5 * lr * (1 + cos(pi * step / total_steps))`.

    schedule = get_schedule(config, steps_per_epoch=782)
    schedule(782 * 150)  # lr / 10 on CIFAR with 300 epochs

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), Sec. 4.1.
    - [Loshchilov & Hutter, 2017, SGDR](https://arxiv.org/abs/1608.03983) (cosine annealing).
"""

import math

import keras
from keras import ops


def paper_boundaries(schedule, epochs):
    """Epochs at which the paper's step schedules divide the learning rate.

    CIFAR: `epoch // (f * epochs) >= 1` first holds at `ceil(f * epochs)`, so the boundaries are those
    ceilings for f = 0.5 and 0.75 (150 and 225 with 300 epochs). ImageNet: the official code divides by 10
    every 75 epochs when `epochs == 300` (75, 150, 225) and every 30 epochs for any other length (30, 60, ...
    below `epochs`: 30 and 60 for 90 epochs).

    Args:
        schedule: `"cifar"` or `"imagenet"`.
        epochs: Total training epochs.

    Returns:
        A tuple of boundary epochs.
    """
    if schedule == "cifar":
        return (math.ceil(0.5 * epochs), math.ceil(0.75 * epochs))
    if schedule == "imagenet":
        period = 75 if epochs == 300 else 30
        return tuple(range(period, epochs, period))
    raise ValueError(f'Expected `schedule` to be "cifar" or "imagenet". Received: schedule={schedule!r}')


@keras.saving.register_keras_serializable(package="keras_cutmix")
class EpochStepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`lr * decay ** (number of boundaries <= epoch)`, epoch = step // steps_per_epoch.

    Args:
        initial_learning_rate: Learning rate of the first epoch.
        boundaries: Increasing epochs at which the rate is multiplied by `decay`.
        steps_per_epoch: Optimizer steps in one epoch.
        decay: Factor applied at each boundary. Defaults to 0.1.
    """

    def __init__(self, initial_learning_rate, boundaries, steps_per_epoch, decay=0.1):
        if int(steps_per_epoch) < 1:
            raise ValueError(f"Expected `steps_per_epoch` >= 1. Received: steps_per_epoch={steps_per_epoch!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.boundaries = tuple(int(b) for b in boundaries)
        self.steps_per_epoch = int(steps_per_epoch)
        self.decay = float(decay)

    def __call__(self, step):
        epoch = ops.floor_divide(ops.cast(step, "int64"), self.steps_per_epoch)
        passed = ops.zeros((), "float32")
        for boundary in self.boundaries:
            passed = passed + ops.cast(ops.greater_equal(epoch, boundary), "float32")
        return self.initial_learning_rate * ops.power(self.decay, passed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "boundaries": list(self.boundaries),
                "steps_per_epoch": self.steps_per_epoch, "decay": self.decay}


@keras.saving.register_keras_serializable(package="keras_cutmix")
class EpochCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`0.5 * lr * (1 + cos(pi * step / (epochs * steps_per_epoch)))`, per step.

    Args:
        initial_learning_rate: Learning rate at step 0.
        epochs: Total epochs; the rate reaches 0 after the last step.
        steps_per_epoch: Optimizer steps in one epoch.
    """

    def __init__(self, initial_learning_rate, epochs, steps_per_epoch):
        if int(steps_per_epoch) < 1 or int(epochs) < 1:
            raise ValueError("Expected `epochs` >= 1 and `steps_per_epoch` >= 1. "
                             f"Received: epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.epochs = int(epochs)
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        total = float(self.epochs * self.steps_per_epoch)
        progress = ops.minimum(ops.cast(step, "float32") / total, 1.0)
        return 0.5 * self.initial_learning_rate * (1.0 + ops.cos(math.pi * progress))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "epochs": self.epochs,
                "steps_per_epoch": self.steps_per_epoch}


def get_schedule(config, steps_per_epoch):
    """Builds the schedule named by `config.lr_schedule`.

    Args:
        config: A `Config` (uses `lr`, `lr_schedule`, `lr_boundaries`, `lr_decay`, `epochs`).
        steps_per_epoch: Optimizer steps in one epoch.

    Returns:
        A `LearningRateSchedule`, or the float `config.lr` for `"constant"`.
    """
    if config.lr_schedule == "constant":
        return float(config.lr)
    if config.lr_schedule == "cosine":
        return EpochCosineDecay(config.lr, config.epochs, steps_per_epoch)
    if config.lr_schedule == "step":
        boundaries, decay = config.lr_boundaries, config.lr_decay
    else:
        boundaries, decay = paper_boundaries(config.lr_schedule, config.epochs), 0.1
    return EpochStepDecay(config.lr, boundaries, steps_per_epoch, decay)
