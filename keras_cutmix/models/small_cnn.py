"""A small CNN for the embedded 64x64 `synthetic_shapes` dataset.

Sized to train in a few minutes on 2 CPU cores while keeping a spatial map of
8x8 (for 64x64 inputs) before global average pooling, so class activation maps
can localise objects:

    conv3x3/2 (32)                      64x64 -> 32x32
    2 x conv3x3 (32), max-pool 2        32x32 -> 16x16
    2 x conv3x3 (64), max-pool 2        16x16 ->  8x8
    2 x conv3x3 (128)                    8x8  (CAM features, stride 8)
    global average pooling, Dense(num_classes)

Every conv is followed by BatchNormalization and ReLU. About 0.3M parameters.
Any input size works; the feature map is `ceil(size / 8)` on each side.

What to expect on `synthetic_shapes`: the test errors of the four methods,
mean and spread over seeds, are in the README's mini reproduction, written by
`examples/compare_methods.py` (the command is there).

References:
    - [Zhou et al., 2016, Learning Deep Features for Discriminative
      Localization](https://arxiv.org/abs/1512.04150) (the GAP + linear head
      that makes CAM exact)
"""

import keras

from keras_cutmix.models import common
from keras_cutmix.models.layers import batch_norm, conv, relu

DEFAULT_WIDTHS = (32, 64, 128)


def conv_bn_relu(x, filters, stride, name):
    """3x3 conv, BatchNormalization, ReLU (named `{name}_relu`)."""
    x = conv(x, filters, 3, stride, name=f"{name}_conv")
    return relu(batch_norm(x, f"{name}_bn"), f"{name}_relu")


def small_cnn(*, num_classes, input_shape, mean, std, widths=DEFAULT_WIDTHS, convs_per_stage=2, name="small_cnn"):
    """Builds the small CNN.

    Args:
        num_classes: Number of logits.
        input_shape: `(height, width, channels)` of the pixel inputs.
        mean, std: Per-channel pixel means and standard deviations (0-255 scale).
        widths: Channels of each stage; a 2x2 max pool separates stages, and the stem (a stride-2 conv) has
            `widths[0]` channels. Defaults to `(32, 64, 128)`.
        convs_per_stage: Conv-BN-ReLU layers per stage. Defaults to 2.
        name: Model name. Defaults to `"small_cnn"`.

    Returns:
        A functional `keras.Model` mapping pixels to logits; its `cam_feature_layer` is the last ReLU.

    Raises:
        ValueError: If `widths` is empty or `convs_per_stage` < 1.
    """
    if not widths or any(int(w) < 1 for w in widths):
        raise ValueError(f"Expected `widths` to be a non-empty sequence of positive ints. Received: widths={widths!r}")
    if int(convs_per_stage) < 1:
        raise ValueError(f"Expected `convs_per_stage` >= 1. Received: convs_per_stage={convs_per_stage!r}")
    inputs, x = common.normalized_input(input_shape, mean, std)
    x = conv_bn_relu(x, widths[0], 2, "stem")
    for s, filters in enumerate(widths):
        if s > 0:
            x = keras.layers.MaxPooling2D(2, padding="same", name=f"stage{s + 1}_pool")(x)
        for c in range(int(convs_per_stage)):
            x = conv_bn_relu(x, int(filters), 1, f"stage{s + 1}_conv{c + 1}")
    return common.finish_model(inputs, x, num_classes, name)
