"""Layers and layer helpers shared by the models.

* `PixelNormalization`: casts pixels (uint8 or float, 0-255) to float and
  computes `(x - mean) / std` per channel; the first layer of every model.
* `ChannelZeroPad`: appends zero channels, for parameter-free shortcuts.
* `conv`, `batch_norm`, `relu`: the conv-BN-ReLU pieces of the CIFAR nets, with
  the defaults of the PyTorch reference code (symmetric padding, BN momentum
  and epsilon, fan-out He-normal init).

References:
    - [He et al., 2016, Deep Residual Learning for Image
      Recognition](https://arxiv.org/abs/1512.03385)
    - [Han et al., 2017, Deep Pyramidal Residual
      Networks](https://arxiv.org/abs/1610.02915)
"""

import keras
from keras import ops

# PyTorch BatchNorm2d defaults (momentum 0.1 there is 0.9 here).
BN_KWARGS = {"momentum": 0.9, "epsilon": 1e-5}


def conv_initializer():
    """A fresh N(0, 2 / (k * k * out_channels)) initializer, as the reference code uses for convs.

    One per layer, made when the model is built: a shared instance would fix its seed at import time
    (before `keras.utils.set_random_seed`), so weights would differ between processes and same-shaped
    convs would start identical.
    """
    return keras.initializers.VarianceScaling(2.0, mode="fan_out", distribution="untruncated_normal")


def conv(x, filters, kernel_size, stride=1, name=None):
    """Bias-free convolution with PyTorch-style symmetric zero padding."""
    pad = kernel_size // 2
    if stride > 1 and pad:
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    return keras.layers.Conv2D(filters, kernel_size, strides=stride, padding="valid" if stride > 1 else "same",
                               use_bias=False, kernel_initializer=conv_initializer(), name=name)(x)


def batch_norm(x, name):
    """BatchNormalization with PyTorch's defaults (the reference code's)."""
    return keras.layers.BatchNormalization(name=name, **BN_KWARGS)(x)


def relu(x, name):
    """A named ReLU."""
    return keras.layers.ReLU(name=name)(x)


@keras.saving.register_keras_serializable(package="keras_cutmix")
class PixelNormalization(keras.layers.Layer):
    """Casts pixels to float and normalises them per channel.

    Computes `(cast(x) - mean) / std` on the last axis, then optionally reverses the channel order (RGB -> BGR,
    for caffe-style ImageNet weights).

    Args:
        mean: Sequence of per-channel means, on the 0-255 pixel scale, in the channel order of the inputs.
        std: Sequence of per-channel standard deviations, same scale and order.
        reverse_channels: Whether to reverse the channel axis after normalising. Defaults to `False`.
        **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(self, mean, std, reverse_channels=False, **kwargs):
        super().__init__(**kwargs)
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]
        self.reverse_channels = bool(reverse_channels)
        if len(self.mean) != len(self.std):
            raise ValueError(f"Expected `mean` and `std` of equal length. Received: mean={self.mean}, std={self.std}")
        if min(self.std) <= 0:
            raise ValueError(f"Expected every `std` > 0. Received: std={self.std}")

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != len(self.mean):
            raise ValueError(f"Expected inputs with {len(self.mean)} channels (one per `mean` value). "
                             f"Received: input_shape={tuple(input_shape)}")

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        mean = ops.convert_to_tensor(self.mean, dtype=self.compute_dtype)
        std = ops.convert_to_tensor(self.std, dtype=self.compute_dtype)
        x = (x - mean) / std
        if self.reverse_channels:
            x = ops.flip(x, axis=-1)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(mean=self.mean, std=self.std, reverse_channels=self.reverse_channels)
        return config


@keras.saving.register_keras_serializable(package="keras_cutmix")
class ChannelZeroPad(keras.layers.Layer):
    """Appends `extra` all-zero channels (the parameter-free identity shortcut).

    Used by the "option A" shortcuts of CIFAR ResNets (He et al. 2016) and by every PyramidNet shortcut (Han et
    al. 2017), where a block widens its input.

    Args:
        extra: Number of zero channels to append after the existing ones.
        **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(self, extra, **kwargs):
        super().__init__(**kwargs)
        if int(extra) < 0:
            raise ValueError(f"Expected `extra` >= 0. Received: extra={extra}")
        self.extra = int(extra)

    def call(self, inputs):
        return ops.pad(inputs, [[0, 0], [0, 0], [0, 0], [0, self.extra]])

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (*input_shape[:-1], None if channels is None else channels + self.extra)

    def get_config(self):
        config = super().get_config()
        config.update(extra=self.extra)
        return config
