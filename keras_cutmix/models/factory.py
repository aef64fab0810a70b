"""`get_model`: every model by name, with its default input normalisation.

| name            | model                                          | trainable params (paper)   |
|-----------------|------------------------------------------------|----------------------------|
| `small_cnn`     | 3-stage CNN for `synthetic_shapes` (64x64)     | 298,026 (10 classes)       |
| `resnet18`      | CIFAR ResNet-18 (3x3 stem, no max pool)        | 11,173,962 (11.2M), 10 cl. |
| `resnet56`      | He et al. CIFAR ResNet-56, option A shortcuts  | 853,018 (0.85M), 10 cl.    |
| `pyramidnet110` | PyramidNet-110, alpha 48, basic blocks         | 1,772,706 (1.7M), 10 cl.   |
| `pyramidnet200` | PyramidNet-200, alpha 240, bottleneck (CutMix) | 26,844,952 (26.8M), 100 cl.|
| `resnet50`      | keras.applications ResNet-50                   | 25,583,592 (25.6M), 1000 cl|

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - [Han et al., 2017, PyramidNet](https://arxiv.org/abs/1610.02915)
    - [He et al., 2016, ResNet](https://arxiv.org/abs/1512.03385)
"""

import functools

from keras_cutmix.models import common, pyramidnet, resnet50, resnet_cifar, small_cnn

# CIFAR normalisation of the CutMix code (train.py), on the 0-255 scale.
CIFAR_MEAN = (125.3, 123.0, 113.9)
CIFAR_STD = (63.0, 62.1, 66.7)
# Generic default: [0, 255] -> about [-2, 2].
GENERIC_MEAN = 127.5
GENERIC_STD = 64.0

# name -> (builder(num_classes=, input_shape=, mean=, std=), default mean, std)
_REGISTRY = {
    "small_cnn": (small_cnn.small_cnn, GENERIC_MEAN, GENERIC_STD),
    "resnet18": (resnet_cifar.resnet18_cifar, CIFAR_MEAN, CIFAR_STD),
    "resnet56": (
        functools.partial(resnet_cifar.resnet_cifar_thin, 56),
        CIFAR_MEAN,
        CIFAR_STD,
    ),
    "pyramidnet110": (
        functools.partial(
            pyramidnet.pyramidnet, 110, 48, bottleneck=False, name="pyramidnet110"
        ),
        CIFAR_MEAN,
        CIFAR_STD,
    ),
    "pyramidnet200": (
        functools.partial(
            pyramidnet.pyramidnet, 200, 240, bottleneck=True, name="pyramidnet200"
        ),
        CIFAR_MEAN,
        CIFAR_STD,
    ),
    "resnet50": (resnet50.resnet50, resnet50.CAFFE_MEAN_RGB, resnet50.CAFFE_STD),
}
MODEL_NAMES = tuple(_REGISTRY)


def _default(value, default, channels, arg_name, name):
    if value is not None:
        return value
    if isinstance(default, tuple) and len(default) != channels:
        raise ValueError(
            f"The default `{arg_name}` of {name!r} has {len(default)} channels; "
            f"pass `mean` and `std` for {channels}-channel inputs. "
            f"Received: {arg_name}=None"
        )
    return default


def get_model(name, *, num_classes, input_shape, mean=None, std=None, weights=None):
    """Builds a classification model that maps pixels to logits.

    Every model takes pixels in [0, 255] (uint8 or float; cast inside),
    normalises them as `(x - mean) / std` in its first layer ("normalize"),
    and ends `features -> GlobalAveragePooling2D -> Dense(name="head")`
    with no softmax. `model.cam_feature_layer` (or `cam_feature_layer_name`)
    names the layer whose output is the last conv feature map.

    Args:
        name: One of `MODEL_NAMES`.
        num_classes: Number of logits, a positive int.
        input_shape: `(height, width, channels)`, channels-last; height and
            width may be `None`.
        mean: Scalar or per-channel pixel means on the 0-255 scale (RGB order).
            Defaults to the CutMix CIFAR means `(125.3, 123.0, 113.9)` for the
            CIFAR nets, the caffe ImageNet means for `resnet50` and 127.5 for
            `small_cnn`.
        std: Scalar or per-channel pixel standard deviations, 0-255 scale.
            Defaults to `(63.0, 62.1, 66.7)` for the CIFAR nets, 1 for
            `resnet50` (as its ImageNet weights expect) and 64 for `small_cnn`.
        weights: `None` (random initialisation) or the path of a local file:
            a `.weights.h5` / `.keras` file of the same model, or, for
            `resnet50`, the keras.applications `..._notop.h5` backbone file.
            Nothing is downloaded. Defaults to `None`.

    Returns:
        A functional `keras.Model`.

    Raises:
        ValueError: For an unknown `name`, a bad `num_classes`,
            `input_shape`, `mean` or `std`, or `weights="imagenet"`.
        FileNotFoundError: If `weights` names a missing file; the message says
            how to obtain it.
    """
    if name not in _REGISTRY:
        raise ValueError(
            f"Expected `name` to be one of {list(MODEL_NAMES)}. Received: name={name!r}"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            "Expected `num_classes` to be a positive int. "
            f"Received: num_classes={num_classes!r}"
        )
    input_shape = common.check_image_shape(input_shape)
    builder, default_mean, default_std = _REGISTRY[name]
    channels = input_shape[-1]
    mean = _default(mean, default_mean, channels, "mean", name)
    std = _default(std, default_std, channels, "std", name)
    # Validate now rather than after a slow build.
    common.per_channel(mean, channels, "mean")
    common.per_channel(std, channels, "std")
    kwargs = dict(num_classes=num_classes, input_shape=input_shape, mean=mean, std=std)
    if name == "resnet50":
        return builder(weights=weights, **kwargs)
    if weights is not None:
        common.check_weights_path(
            weights,
            f"Train get_model({name!r}, ...) and save it with "
            "model.save_weights('name.weights.h5') or model.save('name.keras').",
        )
    model = builder(**kwargs)
    if weights is not None:
        common.load_model_weights(model, weights)
    return model


cam_feature_layer_name = common.cam_feature_layer_name
