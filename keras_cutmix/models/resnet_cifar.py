"""Post-activation ResNets for CIFAR-sized images: ResNet-56 and ResNet-18.

* `resnet_cifar_thin(depth)`: the CIFAR ResNets of He et al. 2016 (Sec. 4.2):
  a 16-channel `conv3-BN-ReLU` stem, three stages of `(depth - 2) / 6` basic
  blocks with 16/32/64 channels, and parameter-free "option A" shortcuts
  (stride-2 subsampling, then zero channels appended). ResNet-56 has 0.85M
  parameters (Table 6 of He et al.).
* `resnet18_cifar`: the widely used CIFAR variant of ResNet-18
  (github.com/kuangliu/pytorch-cifar): the ImageNet stages 64-128-256-512 with
  two basic blocks each and 1x1-conv-BN projection shortcuts, but a 3x3
  stride-1 stem and no max pooling. 11,173,962 parameters for 10 classes.

Basic block: `conv3-BN-ReLU-conv3-BN`, add the shortcut, ReLU.

References:
    - [He et al., 2016, Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)
"""

import keras

from keras_cutmix.models import common
from keras_cutmix.models.layers import ChannelZeroPad, batch_norm, conv, relu


def option_a_shortcut(x, filters, stride, name):
    """Identity shortcut: subsample by `stride`, append zero channels."""
    if stride > 1:
        # A 1x1 max pool with stride 2 keeps pixels (0, 0), (0, 2), ...
        x = keras.layers.MaxPooling2D(1, strides=stride, name=f"{name}_subsample")(x)
    extra = filters - x.shape[-1]
    if extra:
        x = ChannelZeroPad(extra, name=f"{name}_pad")(x)
    return x


def projection_shortcut(x, filters, stride, name):
    """1x1 conv + BN when the shape changes, identity otherwise."""
    if stride == 1 and x.shape[-1] == filters:
        return x
    x = conv(x, filters, 1, stride, name=f"{name}_conv")
    return batch_norm(x, f"{name}_bn")


def basic_block(x, filters, stride, shortcut_fn, name):
    """Post-activation basic block; the output is a ReLU named `{name}_out`."""
    out = conv(x, filters, 3, stride, name=f"{name}_conv1")
    out = relu(batch_norm(out, f"{name}_bn1"), f"{name}_relu1")
    out = conv(out, filters, 3, name=f"{name}_conv2")
    out = batch_norm(out, f"{name}_bn2")
    shortcut = shortcut_fn(x, filters, stride, f"{name}_shortcut")
    out = keras.layers.Add(name=f"{name}_add")([out, shortcut])
    return relu(out, f"{name}_out")


def _resnet(stage_filters, blocks, shortcut_fn, num_classes, input_shape, mean, std, name):
    inputs, x = common.normalized_input(input_shape, mean, std)
    x = conv(x, stage_filters[0], 3, name="stem_conv")
    x = relu(batch_norm(x, "stem_bn"), "stem_relu")
    for s, filters in enumerate(stage_filters):
        for b in range(blocks):
            stride = 2 if (s > 0 and b == 0) else 1
            x = basic_block(x, filters, stride, shortcut_fn, f"stage{s + 1}_block{b + 1}")
    return common.finish_model(inputs, x, num_classes, name)


def resnet_cifar_thin(depth, *, num_classes, input_shape, mean, std, name=None):
    """Builds He et al.'s CIFAR ResNet (16/32/64 channels, option A shortcuts).

    Args:
        depth: `6n + 2` (20, 32, 44, 56, 110, ...).
        num_classes: Number of logits.
        input_shape: `(height, width, channels)` of the pixel inputs.
        mean, std: Per-channel pixel means and standard deviations (0-255 scale).
        name: Model name. Defaults to `"resnet{depth}"`.

    Returns:
        A functional `keras.Model` mapping pixels to logits; its `cam_feature_layer` is the last block's output
        ReLU.

    Raises:
        ValueError: If `depth` is not `6n + 2`.

    References:
        - [He et al., 2016](https://arxiv.org/abs/1512.03385)
    """
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"Expected `depth` = 6 * n + 2. Received: depth={depth!r}")
    return _resnet((16, 32, 64), (depth - 2) // 6, option_a_shortcut, num_classes, input_shape, mean, std,
                   name or f"resnet{depth}")


def resnet18_cifar(*, num_classes, input_shape, mean, std, name="resnet18"):
    """Builds the CIFAR ResNet-18 (3x3 stem, no max pooling, 64-512 channels).

    Args:
        num_classes, input_shape, mean, std: As `resnet_cifar_thin`.
        name: Model name. Defaults to `"resnet18"`.

    Returns:
        As `resnet_cifar_thin`.

    References:
        - [He et al., 2016](https://arxiv.org/abs/1512.03385)
    """
    return _resnet((64, 128, 256, 512), 2, projection_shortcut, num_classes, input_shape, mean, std, name)
