"""`get_model`: every model by name, with its default input normalisation.

| name                    | model                                   | trainable params (paper)     |
|-------------------------|-----------------------------------------|------------------------------|
| `small_cnn`             | 3-stage CNN for `synthetic_shapes`      | 298,026 (10 classes)         |
| `resnet18`              | CIFAR ResNet-18 (3x3 stem, no max pool) | 11,173,962 (11.2M), 10 cl.   |
| `resnet56`              | CIFAR ResNet-56, option A shortcuts     | 853,018 (0.85M), 10 cl.      |
| `pyramidnet110`         | PyramidNet-110, alpha 48 (see below)    | 1,772,706 (1.7M), 10 cl.     |
| `pyramidnet200`         | PyramidNet-200, alpha 240 (CutMix)      | 26,844,952 (26.8M), 100 cl.  |
| `resnet50`              | the paper's: torchvision's (v1.5)       | 25,557,032 (25.6M), 1000 cl. |
| `resnet50_last_stride1` | `resnet50`, last stage stride 1         | 25,557,032, 1000 cl.         |
| `resnet50_keras`        | keras.applications (v1, biases)         | 25,583,592 (25.6M), 1000 cl. |
| `vgg_gap`               | VGG-16 convs, no pool5, conv6 1024, GAP | 19,639,304, 200 classes      |
| `cam_cnn`               | stride-8 CNN, 16x16 CAM at 128x128      | 292,954 (10 classes)         |
| `cam_vgg`               | VGG-GAP's shape at 1/8 width, 128x128   | 305,778 (10 classes)         |
| `resnet_tiny`           | 1 basic block per stage (detection demo) | 404,298 (10 classes)         |

`resnet50` is the network of the official CutMix ImageNet code; `resnet50_keras` exists to fine-tune from
Keras's ImageNet file and is not the paper's net (v1, conv biases; see their modules). Both also hold 53,120
BatchNorm statistics (non-trainable). The weakly-supervised localization models (CAM,
`keras_cutmix.localization`) are `vgg_gap`, `resnet50_last_stride1` (14x14 maps at 224), and for the embedded
128x128 CUB-like data `cam_cnn` and `cam_vgg` (16x16 maps; `cam_vgg` fine-tunes from
`weights="synthetic_shapes"`).

**Weights**: `weights="imagenet"` (the scripts' `--weights`) for `resnet50*`, `vgg_gap`, `resnet50_keras`;
every model takes a whole-model file of its own (or a workdir of `examples/classification.py`) with any class
count, the head then fresh. `check_weights(name, weights)` recognises the forms (listed in `pretrained.py`).

**Normalisation that belongs to the model.** The ImageNet models (and `cam_vgg`) normalise their inputs as
their weights were trained: `resnet50` with torchvision's ImageNet mean and std, `resnet50_keras` and
`vgg_gap` caffe-style (BGR, means subtracted, std 1). `takes_data_statistics(name)` is `False` for them: the
training path (`training.train.build_model`) passes a data set's mean and std only to the models for which it
is `True`, and `get_model` refuses other `mean` / `std` for them when `weights` is given.

**PyramidNet-110's widening** is alpha 48, not the alpha 64 that Table 6 of the CutMix paper names beside its
1.7M parameters: alpha 48 gives that count (see `pyramidnet.py`).

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - [Han et al., 2017, PyramidNet](https://arxiv.org/abs/1610.02915)
    - [He et al., 2016, ResNet](https://arxiv.org/abs/1512.03385)
"""

import dataclasses
import functools
from typing import Callable

from keras_cutmix.models import (cam_cnn, cam_vgg, common, pretrained, pyramidnet, resnet50, resnet50_keras,
                                 resnet_cifar, small_cnn, vgg_gap)

# CIFAR normalisation of the CutMix code (train.py), on the 0-255 scale.
CIFAR_MEAN = (125.3, 123.0, 113.9)
CIFAR_STD = (63.0, 62.1, 66.7)
# Generic default: [0, 255] -> about [-2, 2].
GENERIC_MEAN = 127.5
GENERIC_STD = 64.0


@dataclasses.dataclass(frozen=True)
class _Entry:
    """How `get_model` builds one model.

    Attributes:
        builder: `builder(num_classes=, input_shape=, mean=, std=)`, plus `weights=` when `loads_weights`.
        mean, std: Default pixel mean(s) and standard deviation(s), 0-255 scale.
        takes_data_statistics: `False` when the normalisation belongs to the model's weights.
        loads_weights: Whether `builder` loads `weights` (else `get_model`).
        weights_forms: `pretrained` kinds it takes besides whole-model files.
        how_to_obtain: Sentence for weights errors.
        resolve: `resolve(weights) -> (kind, source)` for a model with named weights of its own (else
            `pretrained.weights_kind`).
    """

    builder: Callable
    mean: object
    std: object
    takes_data_statistics: bool = True
    loads_weights: bool = False
    weights_forms: tuple = ()
    how_to_obtain: str = (
        "Train get_model(NAME, ...) (e.g. examples/classification.py) and pass its workdir, or a "
        "file saved with model.save_weights('name.weights.h5') or model.save('name.keras')."
    )
    resolve: Callable = None


def _own_weights(builder, module, mean, std, resolve=None):
    """The entry of a model that loads its own weights, whose normalisation belongs to them."""
    return _Entry(builder, mean, std, takes_data_statistics=False, loads_weights=True,
                  weights_forms=module.WEIGHTS_FORMS, how_to_obtain=module.HOW_TO_OBTAIN, resolve=resolve)


_CAFFE = (resnet50_keras.CAFFE_MEAN_RGB, resnet50_keras.CAFFE_STD)
_TORCHVISION = (resnet50.IMAGENET_MEAN, resnet50.IMAGENET_STD)
_REGISTRY = {
    "small_cnn": _Entry(small_cnn.small_cnn, GENERIC_MEAN, GENERIC_STD),
    "resnet18": _Entry(resnet_cifar.resnet18_cifar, CIFAR_MEAN, CIFAR_STD),
    "resnet56": _Entry(functools.partial(resnet_cifar.resnet_cifar_thin, 56), CIFAR_MEAN, CIFAR_STD),
    "pyramidnet110": _Entry(functools.partial(pyramidnet.pyramidnet, 110, 48, bottleneck=False,
                                              name="pyramidnet110"), CIFAR_MEAN, CIFAR_STD),
    "pyramidnet200": _Entry(functools.partial(pyramidnet.pyramidnet, 200, 240, bottleneck=True,
                                              name="pyramidnet200"), CIFAR_MEAN, CIFAR_STD),
    "resnet50": _own_weights(resnet50.resnet50, resnet50, *_TORCHVISION),
    "resnet50_last_stride1": _own_weights(functools.partial(
        resnet50.resnet50, last_stride=1, name="resnet50_last_stride1"), resnet50, *_TORCHVISION),
    "resnet50_keras": _own_weights(resnet50_keras.resnet50_keras, resnet50_keras, *_CAFFE),
    "vgg_gap": _own_weights(vgg_gap.vgg_gap, vgg_gap, *_CAFFE),
    "cam_cnn": _Entry(cam_cnn.cam_cnn, GENERIC_MEAN, GENERIC_STD),
    "cam_vgg": _own_weights(cam_vgg.cam_vgg, cam_vgg, cam_vgg.MEAN, cam_vgg.STD, resolve=cam_vgg.resolve_weights),
    "resnet_tiny": _Entry(resnet50.resnet_tiny, GENERIC_MEAN, GENERIC_STD, loads_weights=True),
}
MODEL_NAMES = tuple(_REGISTRY)


def _default(value, default, channels, arg_name, name):
    if value is not None:
        return value
    if isinstance(default, tuple) and len(default) != channels:
        raise ValueError(f"The default `{arg_name}` of {name!r} has {len(default)} channels; pass `mean` and "
                         f"`std` for {channels}-channel inputs. Received: {arg_name}=None")
    return default


def _entry(name):
    if name not in _REGISTRY:
        raise ValueError(f"Expected `name` to be one of {list(MODEL_NAMES)}. Received: name={name!r}")
    return _REGISTRY[name]


def takes_data_statistics(name):
    """Whether model `name` should be given a data set's pixel mean and std.

    `False` for the models whose normalisation belongs to their weights (the ImageNet ones, `cam_vgg`).

    Args:
        name: One of `MODEL_NAMES`.

    Returns:
        A bool.

    Raises:
        ValueError: For an unknown `name`.
    """
    return _entry(name).takes_data_statistics


def check_weights(name, weights):
    """Recognises the form of `weights` for model `name`, loading and downloading nothing.

    `training.check_run` calls it, so a bad `--weights` fails before anything loads.

    Args:
        name: One of `MODEL_NAMES`.
        weights: `None`, `"imagenet"`, a keras-hub preset name or handle (`hf://`, `kaggle://`), a local
            folder (keras-hub or timm preset; workdir of `examples/classification.py`) or file (whole-model
            `.weights.h5` / `.keras`; keras.applications notop). Which model takes which: `pretrained.py`.

    Returns:
        The kind of `weights`: None, `"imagenet"`, `"preset"`, `"backbone_file"` or `"model_file"`.

    Raises:
        ValueError: For an unknown `name`, or a form or file format model `name` does not take.
        FileNotFoundError: For a local path that does not exist.
    """
    return _resolve(name, weights)[0]


def _resolve(name, weights):
    """`(kind, source)` of `weights` for model `name` (`pretrained.weights_kind`)."""
    entry = _entry(name)
    if entry.resolve is not None:
        return entry.resolve(weights)
    how = entry.how_to_obtain.replace("NAME", repr(name))
    return pretrained.weights_kind(weights, entry.weights_forms, how)


def get_model(name, *, num_classes, input_shape, mean=None, std=None, weights=None):
    """Builds a classification model that maps pixels to logits (the two ends: `common.py`).

    Args:
        name: One of `MODEL_NAMES`.
        num_classes: Number of logits, a positive int.
        input_shape: `(height, width, channels)`, channels-last; height and width may be `None`.
        mean: Scalar or per-channel pixel means on the 0-255 scale (RGB order). Defaults to the CutMix CIFAR
            means `(125.3, 123.0, 113.9)` for the CIFAR nets, torchvision's ImageNet means for `resnet50*`,
            the caffe ImageNet means for `resnet50_keras` and `vgg_gap`, and 127.5 for `small_cnn`,
            `cam_cnn` and `cam_vgg`. Must stay `None` (or the default) for the models whose normalisation
            belongs to their weights (`takes_data_statistics`) when `weights` is given.
        std: Scalar or per-channel pixel standard deviations, 0-255 scale. Defaults to `(63.0, 62.1, 66.7)`
            for the CIFAR nets, `(58.395, 57.12, 57.375)` for `resnet50*`, 1 for `resnet50_keras` and
            `vgg_gap` (as Keras's ImageNet weights expect) and 64 for the others. Same rule as `mean`.
        weights: `None` (random initialisation) or one of the forms `check_weights` names. Defaults to `None`.

    Returns:
        A functional `keras.Model`; `model.cam_feature_layer` names its CAM feature layer.

    Raises:
        ValueError: For an unknown `name`, a bad `num_classes`, `input_shape`, `mean` or `std`, a form of
            `weights` the model does not take, or a `mean` / `std` that would override the normalisation
            that belongs to the weights.
        FileNotFoundError: If `weights` names a missing file or folder; the message says how to obtain it.
    """
    entry = _entry(name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"Expected `num_classes` to be a positive int. Received: num_classes={num_classes!r}")
    input_shape = common.check_image_shape(input_shape)
    channels = input_shape[-1]
    if weights is not None and not entry.takes_data_statistics:
        _check_own_normalization(name, entry, mean, std, channels)
    mean = _default(mean, entry.mean, channels, "mean", name)
    std = _default(std, entry.std, channels, "std", name)
    # Validate now rather than after a slow build.
    common.per_channel(mean, channels, "mean")
    common.per_channel(std, channels, "std")
    kind, source = _resolve(name, weights)
    kwargs = dict(num_classes=num_classes, input_shape=input_shape, mean=mean, std=std)
    if entry.loads_weights:
        return entry.builder(weights=weights, **kwargs)
    model = entry.builder(**kwargs)
    if kind is not None:
        pretrained.load_model_file(model, source)
    return model


def _check_own_normalization(name, entry, mean, std, channels):
    """Refuses a `mean` / `std` other than the one the weights were trained with."""
    for arg_name, value, own in (("mean", mean, entry.mean), ("std", std, entry.std)):
        if value is None:
            continue
        own = common.per_channel(own, channels, arg_name)
        if common.per_channel(value, channels, arg_name) != own:
            raise ValueError(f"The normalisation of {name!r} belongs to its weights: expected `{arg_name}` = None "
                             f"or {tuple(own)} when `weights` is given. Received: {arg_name}={value!r}")


cam_feature_layer_name = common.cam_feature_layer_name
