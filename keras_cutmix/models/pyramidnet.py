"""PyramidNet for CIFAR (Han et al. 2017), the network of the CutMix CIFAR results.

A port of `PyramidNet.py` from the authors' PyTorch code (github.com/dyhan0920/PyramidNet-PyTorch), which the
CutMix code base (github.com/clovaai/CutMix-PyTorch) imports unchanged:

* additive widening: every block adds `alpha / (3 * n)` channels (rounded with Python's `round`, as in the
  reference) to a 16-channel stem;
* pre-activation blocks without the first ReLU, ending in BN and no ReLU: basic `BN-conv3-BN-ReLU-conv3-BN`,
  bottleneck `BN-conv1-BN-ReLU-conv3-BN-ReLU-conv1(x4)-BN`;
* parameter-free shortcuts: 2x2 average pooling (ceil mode) when the block strides, then zero channels
  appended to match the widened output;
* `conv3-BN` stem (no ReLU), three stages at strides 1, 2, 2, final BN-ReLU, global average pooling, linear
  head.

CutMix's CIFAR-100 model is `pyramidnet(200, 240, bottleneck=True)` (`get_model("pyramidnet200")`):
26,844,952 trainable parameters with 100 classes, 26.8M in the paper (Table 3 of Yun et al.). Its count and
PyramidNet-110's (below) equal those of an independent PyTorch port (osmr/imgclsmob, pytorchcv).

Why alpha 48 for PyramidNet-110 (`get_model("pyramidnet110")`, basic blocks): Table 6 of the CutMix paper
names "PyramidNet-110 (alpha = 64)" but prints 1.7M parameters. Alpha 64 gives 2,616,376 parameters (10
classes), 2.62M; alpha 48 gives 1,772,706 (1,778,556 with 100 classes), the 1.7M printed there and Han et
al.'s PyramidNet-110 (alpha 48, 1.7M). We follow the parameter count; `pyramidnet(110, 64, bottleneck=False,
...)` builds alpha 64.

References:
    - [Han et al., 2017, Deep Pyramidal Residual Networks](https://arxiv.org/abs/1610.02915)
    - [Yun et al., 2019, CutMix: Regularization Strategy to Train Strong Classifiers with Localizable
      Features](https://arxiv.org/abs/1905.04899)
"""

import keras

from keras_cutmix.models import common
from keras_cutmix.models.layers import ChannelZeroPad, batch_norm, conv, relu


def pyramid_widths(depth, alpha, bottleneck):
    """Bottleneck ("planes") widths of every block, as the reference rounds them.

    Args:
        depth: Network depth; `depth - 2` must be divisible by 9 (bottleneck) or 6 (basic).
        alpha: Total widening over all blocks.
        bottleneck: Whether blocks are bottlenecks (output = 4 x width).

    Returns:
        A list of three lists (one per stage) of ints.

    Raises:
        ValueError: If `depth` does not fit the block type.
    """
    per_block = 9 if bottleneck else 6
    if not isinstance(depth, int) or depth < 2 + per_block or (depth - 2) % per_block:
        raise ValueError(f"Expected `depth` = {per_block} * n + 2 for {'bottleneck' if bottleneck else 'basic'} "
                         f"blocks. Received: depth={depth!r}")
    n = (depth - 2) // per_block
    add_rate = alpha / (3 * n * 1.0)
    width = 16.0
    stages = []
    for _ in range(3):
        stage = []
        for _ in range(n):
            width += add_rate
            stage.append(int(round(width)))
        stages.append(stage)
    return stages


def pyramid_block(x, width, stride, bottleneck, name):
    """One pyramidal residual unit; returns `input + residual` (zero-padded)."""
    in_channels = x.shape[-1]
    out = batch_norm(x, f"{name}_bn1")
    if bottleneck:
        out = conv(out, width, 1, name=f"{name}_conv1")
        out = relu(batch_norm(out, f"{name}_bn2"), f"{name}_relu1")
        out = conv(out, width, 3, stride, name=f"{name}_conv2")
        out = relu(batch_norm(out, f"{name}_bn3"), f"{name}_relu2")
        out = conv(out, width * 4, 1, name=f"{name}_conv3")
        out = batch_norm(out, f"{name}_bn4")
    else:
        out = conv(out, width, 3, stride, name=f"{name}_conv1")
        out = relu(batch_norm(out, f"{name}_bn2"), f"{name}_relu1")
        out = conv(out, width, 3, name=f"{name}_conv2")
        out = batch_norm(out, f"{name}_bn3")
    shortcut = x
    if stride > 1:
        shortcut = keras.layers.AveragePooling2D(2, strides=2, padding="same", name=f"{name}_shortcut_pool")(shortcut)
    extra = out.shape[-1] - in_channels
    if extra:
        shortcut = ChannelZeroPad(extra, name=f"{name}_shortcut_pad")(shortcut)
    return keras.layers.Add(name=f"{name}_add")([out, shortcut])


def pyramidnet(depth, alpha, *, num_classes, input_shape, mean, std, bottleneck=None, name=None):
    """Builds a CIFAR PyramidNet (additive widening, zero-padded shortcuts).

    Args:
        depth: 200 or 272 for bottleneck nets (9n + 2), 110 for basic (6n + 2).
        alpha: Widening factor (240 in CutMix, 48 for the paper's PyramidNet-110).
        num_classes: Number of logits.
        input_shape: `(height, width, channels)` of the pixel inputs.
        mean, std: Per-channel pixel means and standard deviations (0-255 scale).
        bottleneck: Whether to use bottleneck blocks. Defaults to `depth >= 164`, as in the paper.
        name: Model name. Defaults to `"pyramidnet{depth}_a{alpha}"`.

    Returns:
        A functional `keras.Model` mapping pixels to logits; its `cam_feature_layer` is the final ReLU.

    References:
        - [Han et al., 2017](https://arxiv.org/abs/1610.02915)
    """
    if bottleneck is None:
        bottleneck = depth >= 164
    if alpha < 0:
        raise ValueError(f"Expected `alpha` >= 0. Received: alpha={alpha!r}")
    stages = pyramid_widths(depth, alpha, bottleneck)
    inputs, x = common.normalized_input(input_shape, mean, std)
    x = conv(x, 16, 3, name="stem_conv")
    x = batch_norm(x, "stem_bn")
    for s, widths in enumerate(stages):
        for b, width in enumerate(widths):
            stride = 2 if (s > 0 and b == 0) else 1
            x = pyramid_block(x, width, stride, bottleneck, f"stage{s + 1}_block{b + 1}")
    x = batch_norm(x, "final_bn")
    x = relu(x, "final_relu")
    return common.finish_model(inputs, x, num_classes, name or f"pyramidnet{depth}_a{alpha:g}")
