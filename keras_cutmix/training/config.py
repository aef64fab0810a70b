"""Training configuration: one dataclass, defaults for the embedded dataset.

`Config()` trains `small_cnn` on the embedded `synthetic_shapes` dataset in a few minutes on 2 CPU cores.
`get_config("pyramidnet200_cifar100")` and `get_config("resnet50_imagenet")` give the paper's two
classification runs; `CLASSIFICATION_PRESETS` holds them as `Preset`s, with the paper's numbers (`PRESETS` and
`PAPER_RESULTS` are views of them).

    config = get_config("pyramidnet200_cifar100", method="mixup", seed=1)
    config.to_dict()  # JSON-ready, written to workdir/config.json

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), Sections
      4.1.1 and 4.1.2, Tables 3 and 4.
    - Official code: https://github.com/clovaai/CutMix-PyTorch (`train.py`).
"""

import dataclasses
import re
from typing import Optional

from keras_cutmix.data.pipelines import AUGMENTATIONS
from keras_cutmix.training.preset import Preset

METHODS = ("baseline", "mixup", "cutout", "cutmix")
LR_SCHEDULES = ("cifar", "imagenet", "step", "cosine", "constant")
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


class ConfigError(ValueError):
    """An invalid `Config` field or run directory; raised before anything is written.

    Attributes:
        name: The field (or `"workdir"`): the flag to fix in the scripts.
    """

    def __init__(self, name, message):
        super().__init__(message)
        self.name = name


@dataclasses.dataclass
class Config:
    """Everything `train_and_evaluate` needs; defaults suit `synthetic_shapes`.

    Attributes:
        dataset: A `keras_cutmix.data` dataset name.
        model: A `keras_cutmix.models.get_model` name.
        method: One of `METHODS`.
        alpha: Beta(alpha, alpha) parameter of CutMix and Mixup.
        probability: Probability that CutMix mixes a batch (the paper's p: 0.5 on CIFAR, 1.0 on ImageNet).
        mixup_cutout_probability: Probability that Mixup mixes, or Cutout cuts, a batch: 1.0 (every batch) as
            in their papers.
        cutout_size: Side of the Cutout square in pixels; `None` means half the image side, like the CutMix
            paper's 112 on ImageNet. The CIFAR-100 preset uses 16 (DeVries & Taylor used 16 on CIFAR-10 and 8
            on CIFAR-100).
        epochs: Number of training epochs.
        batch_size: Global batch size (split across replicas).
        lr: Initial learning rate.
        lr_schedule: `"cifar"` or `"imagenet"` (the official code's steps, see `schedules`), `"step"`
            (/`lr_decay` at `lr_boundaries`), `"cosine"` (per step, to 0) or `"constant"`.
        lr_boundaries: Epochs at which `"step"` divides the learning rate.
        lr_decay: Factor applied at each step boundary.
        lr_multipliers: `{regex: factor}`: a variable whose `path` matches `regex` (`re.search`) trains at
            `factor` times the learning rate, e.g. `{"head/": 10.0}` for a new head at 10x the backbone.
        momentum: SGD momentum (PyTorch form, as the official code).
        nesterov: Whether SGD uses Nesterov momentum (the official code does).
        weight_decay: L2 coefficient added to the gradient (coupled, as PyTorch SGD's `weight_decay`), on every
            trainable variable.
        label_smoothing: Label smoothing applied by the mixing functions.
        seed: Seed of every random choice (`keras.utils.set_random_seed`, data order, augmentation, mixing).
        steps_per_epoch: Limit on training batches per epoch (`None`: all).
        eval_steps: Limit on test batches per evaluation (`None`: all).
        image_size: Passed to `keras_cutmix.data.load` (`None`: dataset default).
        augmentation: Preprocessing recipe passed to `keras_cutmix.data.load`, one of
            `keras_cutmix.data.AUGMENTATIONS` (`None`: the dataset's default, `"official_imagenet"` for ImageNet).
        train_split: tfds split to train on, slicing allowed (`"train[:64]"` for a tiny run); `None`: the
            dataset's training split.
        test_split: tfds split to evaluate on; `None`: the dataset's test split.
        weights: What to start from (`None`: random initialisation): "imagenet", a keras-hub preset name or
            handle, a preset folder, a notop file, a whole-model file or a classification workdir; see
            `keras_cutmix.models.check_weights`. Only "imagenet" and hub handles download (cached by Keras /
            keras-hub).
        data_dir: tfds data directory (`None`: the tfds default).
        strategy: One of `STRATEGIES` (`tf.distribute`).
        tpu: TPU address for `strategy="tpu"` (`""`: local / from env).
        jit_compile: Passed to `Model.compile`.
        verbose: Keras verbosity (`"auto"` shows progress bars).
    """

    dataset: str = "synthetic_shapes"
    model: str = "small_cnn"
    method: str = "cutmix"
    alpha: float = 1.0
    probability: float = 0.5
    mixup_cutout_probability: float = 1.0
    cutout_size: Optional[int] = None
    epochs: int = 12
    batch_size: int = 64
    lr: float = 0.1
    lr_schedule: str = "cosine"
    lr_boundaries: tuple = ()
    lr_decay: float = 0.1
    lr_multipliers: dict = dataclasses.field(default_factory=dict)
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    seed: int = 0
    steps_per_epoch: Optional[int] = None
    eval_steps: Optional[int] = None
    image_size: Optional[int] = None
    augmentation: Optional[str] = None
    train_split: Optional[str] = None
    test_split: Optional[str] = None
    weights: Optional[str] = None
    data_dir: Optional[str] = None
    strategy: str = "default"
    tpu: str = ""
    jit_compile: object = "auto"
    verbose: object = "auto"

    def __post_init__(self):
        self.lr_boundaries = tuple(self.lr_boundaries)
        self.lr_multipliers = dict(self.lr_multipliers)
        self.validate()

    def validate(self):
        """Checks every field; raises `ConfigError` (a `ValueError`) naming the bad one."""
        for name, choices in (("method", METHODS), ("lr_schedule", LR_SCHEDULES), ("strategy", STRATEGIES),
                              ("augmentation", AUGMENTATIONS)):
            value = getattr(self, name)
            if value is not None or name != "augmentation":  # `augmentation` may be None.
                _expect(value in choices, name, value, f"to be one of {list(choices)}")
        for name in ("epochs", "batch_size", "steps_per_epoch", "eval_steps", "image_size", "cutout_size"):
            value = getattr(self, name)
            if value is not None or name in ("epochs", "batch_size"):  # The others may be None.
                _expect(isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                        name, value, "to be a positive int")
        _expect(self.alpha > 0, "alpha", self.alpha, "> 0")
        for name in ("probability", "mixup_cutout_probability"):
            _expect(0 <= getattr(self, name) <= 1, name, getattr(self, name), "in [0, 1]")
        _expect(self.lr > 0, "lr", self.lr, "> 0")
        _expect(self.weight_decay >= 0, "weight_decay", self.weight_decay, ">= 0")
        boundaries = self.lr_boundaries
        _expect(self.lr_schedule != "step" or boundaries, "lr_boundaries", boundaries,
                '(epochs) for lr_schedule="step"')
        _expect(list(boundaries) == sorted(boundaries) and not any(b < 0 for b in boundaries),
                "lr_boundaries", boundaries, "to be increasing epochs >= 0")
        for pattern, factor in self.lr_multipliers.items():
            _expect(isinstance(pattern, str) and isinstance(factor, (int, float)) and not isinstance(factor, bool)
                    and factor >= 0, "lr_multipliers", self.lr_multipliers, "to map regex strings to factors >= 0")
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigError(
                    "lr_multipliers",
                    f"Expected `lr_multipliers` keys to be regular expressions; {pattern!r} is "
                    f"not ({error}). Received: lr_multipliers={self.lr_multipliers!r}") from None

    def replace(self, **changes):
        """Returns a copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """Returns a JSON-ready dict of every field."""
        d = dataclasses.asdict(self)
        d["lr_boundaries"] = list(self.lr_boundaries)
        return d

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`; unknown keys raise `ValueError`."""
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(unknown[0], f"Expected keys of Config. Received unknown keys: {unknown}")
        return cls(**d)


def check_methods(methods):
    """`methods` as a list after checking they are distinct names from `METHODS`; else `ConfigError("methods")`."""
    methods = list(methods)
    if not methods or any(m not in METHODS for m in methods) or len(set(methods)) != len(methods):
        raise ConfigError("methods", f"Expected distinct methods among {list(METHODS)}. Received: methods={methods}")
    return methods


def _expect(ok, name, value, expected):
    """Unless `ok`, raises `ConfigError(name)`: "Expected `<name>` <expected>. Received: <name>=<value>"."""
    if not ok:
        raise ConfigError(name, f"Expected `{name}` {expected}. Received: {name}={value!r}")


# The paper's classification runs (official code's train.py and README), with Tables 3 and 4's top-1 /
# top-5 test errors (%). Expected time per epoch: see examples/classification.py.
CLASSIFICATION_PRESETS = {
    # Table 4: PyramidNet-200 (widening 240) on CIFAR-100; lr divided by 10 at epochs 150 and 225.
    "pyramidnet200_cifar100": Preset(
        "pyramidnet200_cifar100",
        recipe=dict(dataset="cifar100", model="pyramidnet200", method="cutmix", alpha=1.0, probability=0.5,
                    cutout_size=16, epochs=300, batch_size=64, lr=0.25, lr_schedule="cifar", weight_decay=1e-4),
        paper={"baseline": {"top1_error": 16.45, "top5_error": 3.69},
               "cutout": {"top1_error": 16.53, "top5_error": 3.65},
               "mixup": {"top1_error": 15.63, "top5_error": 3.99},  # alpha = 1.0
               "cutmix": {"top1_error": 14.47, "top5_error": 2.97}},
        paper_table="Table 4",
        command="python examples/classification.py --config=pyramidnet200_cifar100 --method=cutmix "
                "--workdir=/tmp/pyramidnet_cutmix --strategy=mirrored"),
    # Table 3: ResNet-50 on ImageNet; lr divided by 10 at epochs 75, 150 and 225; Cutout 112x112.
    "resnet50_imagenet": Preset(
        "resnet50_imagenet",
        recipe=dict(dataset="imagenet2012", model="resnet50", method="cutmix", alpha=1.0, probability=1.0,
                    cutout_size=112, epochs=300, batch_size=256, lr=0.1, lr_schedule="imagenet", weight_decay=1e-4),
        paper={"baseline": {"top1_error": 23.68, "top5_error": 7.05},
               "cutout": {"top1_error": 22.93, "top5_error": 6.66},
               "mixup": {"top1_error": 22.58, "top5_error": 6.40},
               "cutmix": {"top1_error": 21.40, "top5_error": 5.92}},
        paper_table="Table 3",
        command="python examples/classification.py --config=resnet50_imagenet --method=cutmix "
                "--workdir=/tmp/resnet50_cutmix --strategy=mirrored --data_dir=/data/tensorflow_datasets"),
}

# The mini reproduction on the embedded data (`Config()`'s defaults): top-1 test error %, best epoch, mean ±
# std over seeds 0, 1, 2, and each seed's final error, at commit db9666a.
COMPARE_EMBEDDED = Preset(
    "compare_embedded", recipe={},
    command="python examples/compare_methods.py --workdir=/tmp/compare --seeds=0,1,2",
    time_here="46 min in all, 2 shared CPU cores",
    reached={"baseline": {"top1_error_best": (1.80, 0.36), "top1_error_final": (1.80, 2.40, 1.50)},
             "mixup": {"top1_error_best": (2.43, 0.49), "top1_error_final": (2.10, 2.20, 3.00)},
             "cutout": {"top1_error_best": (1.67, 0.23), "top1_error_final": (1.40, 1.80, 1.80)},
             "cutmix": {"top1_error_best": (2.30, 0.53), "top1_error_final": (2.50, 2.70, 1.70)}})

# Views kept for the callers of the first API: the recipes as dicts, and the paper's errors.
PRESETS = {name: p.fields() for name, p in CLASSIFICATION_PRESETS.items()}
PAPER_RESULTS = {name: p.paper for name, p in CLASSIFICATION_PRESETS.items()}


def get_config(preset=None, **overrides):
    """Returns a `Config`: defaults, then `preset`, then `overrides`.

    Args:
        preset: `None` (the embedded-dataset defaults) or a key of `PRESETS`.
        **overrides: `Config` fields to set last.

    Returns:
        A validated `Config`.

    Raises:
        ValueError: For an unknown preset or field, or an invalid value.
    """
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"Expected `preset` to be None or one of {sorted(PRESETS)}. Received: preset={preset!r}")
    return Config.from_dict({**(PRESETS[preset] if preset else {}), **overrides})
