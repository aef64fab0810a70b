"""`cam_cnn`: a small CNN with a 16x16 CAM for the embedded 128x128 CUB-like images.

CAM boxes are quantised to the feature grid: an 8x8 map moves a box edge in
steps of 16 pixels on a 128x128 image. This net keeps the total stride at 8
(16x16 features for 128x128 inputs) and spends its compute after the
downsampling, so it trains in minutes on 2 CPU cores:

    conv3x3/2 (16)                     128 -> 64
    conv3x3/2 (32), conv3x3 (32)        64 -> 32
    conv3x3/2 (64), conv3x3 (64)        32 -> 16
    conv3x3 (128), conv3x3 (128)        16      (CAM features, stride 8)
    global average pooling, Dense(num_classes, name="head")

Every conv is Conv (no bias) -> BatchNormalization -> ReLU. Receptive field
of a feature: 71 pixels. Trainable parameters: 291,664 + 129 * num_classes
(the hand count is in `tf_tests/models/vgg_gap_test.py`); about 50M
multiply-adds per 128x128 image. Any input size works: the feature map is
`ceil(size / 8)` on each side.

References:
    - [Zhou et al., 2016, Learning Deep Features for Discriminative
      Localization](https://arxiv.org/abs/1512.04150) (the GAP + linear head
      that makes CAM exact)
"""

from keras_cutmix.models import common
from keras_cutmix.models.small_cnn import conv_bn_relu

# (channels, stride) of each conv, in order.
DEFAULT_LAYERS = ((16, 2), (32, 2), (32, 1), (64, 2), (64, 1), (128, 1), (128, 1))


def cam_cnn(*, num_classes, input_shape, mean, std, layers=DEFAULT_LAYERS, name="cam_cnn"):
    """Builds the CAM CNN.

    Args:
        num_classes: Number of logits.
        input_shape: `(height, width, channels)` of the pixel inputs.
        mean, std: Per-channel pixel means and standard deviations (0-255 scale).
        layers: `(channels, stride)` of each Conv-BN-ReLU, in order; the product of the strides is the CAM's
            stride. Defaults to `DEFAULT_LAYERS` (stride 8).
        name: Model name. Defaults to `"cam_cnn"`.

    Returns:
        A functional `keras.Model` mapping pixels to logits; its `cam_feature_layer` is the last ReLU.

    Raises:
        ValueError: If `layers` is empty or holds a non-positive channel count or stride.
    """
    try:
        pairs = tuple((int(c), int(s)) for c, s in layers)
    except (TypeError, ValueError):
        pairs = ()
    if not pairs or any(c < 1 or s < 1 for c, s in pairs):
        raise ValueError("Expected `layers` to be a non-empty sequence of (channels, stride) pairs of positive ints. "
                         f"Received: layers={layers!r}")
    inputs, x = common.normalized_input(input_shape, mean, std)
    for index, (channels, stride) in enumerate(pairs):
        x = conv_bn_relu(x, channels, stride, f"conv{index + 1}")
    return common.finish_model(inputs, x, num_classes, name)
