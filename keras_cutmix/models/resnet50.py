"""`resnet50`: ResNet-50 as the CutMix paper trained it (torchvision's, v1.5).

The official CutMix code (github.com/clovaai/CutMix-PyTorch, `resnet.py`)
trains torchvision's ResNet-50 definition, known as ResNet v1.5:

* stem `conv7x7/2 (pad 3) - BN - ReLU - maxpool3x3/2 (pad 1)`;
* bottleneck blocks `conv1x1 - BN - ReLU - conv3x3 - BN - ReLU - conv1x1(x4) -
  BN`, added to the shortcut, then ReLU; a downsampling block puts its stride
  in the 3x3 conv (v1 puts it in the first 1x1 conv) and its shortcut is a
  strided `conv1x1 - BN`;
* 3, 4, 6, 3 blocks of widths 64, 128, 256, 512 at strides 1, 2, 2, 2;
* no conv biases; BatchNorm with PyTorch's defaults (momentum 0.1 there, 0.9
  in Keras; epsilon 1e-5), gamma 1 and beta 0 everywhere (no zero-initialised
  last BN of a block); conv kernels He-normal with fan-out
  (`kaiming_normal_(mode="fan_out", nonlinearity="relu")`, untruncated).

The backbone is keras-hub's `ResNetBackbone` with `block_type=
"bottleneck_block"`, which has this structure and the same padding (explicit
symmetric zero padding before strided convs; zero padding before the max
pool equals PyTorch's -inf padding after a ReLU). Its convs start Glorot
uniform, so the builders here re-initialise them as torchvision does.
`backbone()` returns the keras-hub model itself (pyramid outputs P2-P5, as
keras-hub's RetinaNet takes it); `resnet50()` builds the same layers (same
names: `conv1_conv`, `stack0_block0_1_conv`, ..., `stack3_block2_out`) between
our normalisation and the CAM-ready head.

`last_stride=1` keeps the last stage at stride 1 (features at 1/16 of the
input, 14x14 at 224x224), the variant used for weakly supervised object
localization.

Parameters with 1000 classes: 25,557,032 trainable (as torchvision's
`resnet50()`), plus 53,120 BatchNorm statistics. The head is
`Dense(name="head")` with Keras's default initialisation (Glorot-uniform
kernel, zero bias), where PyTorch's `nn.Linear` draws kernel and bias from
U(-1/sqrt(2048), 1/sqrt(2048)).

Inputs are RGB pixels in [0, 255], normalised inside with the torchvision
ImageNet statistics (mean `(123.675, 116.28, 103.53)`, std
`(58.395, 57.12, 57.375)` on the 0-255 scale). Pretrained weights are a
whole-model `.weights.h5` / `.keras` file of this model; to fine-tune from
Keras's ImageNet file use `resnet50_keras`.

References:
    - [He et al., 2016, Deep Residual Learning for Image
      Recognition](https://arxiv.org/abs/1512.03385)
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - [Choe et al., 2020, Evaluating Weakly Supervised Object Localization
      Methods Right](https://arxiv.org/abs/2001.07437) (last stride 1)
"""

import os

import keras

from keras_cutmix.models import common
from keras_cutmix.models.layers import conv_initializer

# torchvision's ImageNet normalisation, RGB, on the 0-255 scale.
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
STAGE_BLOCKS = (3, 4, 6, 3)
STAGE_WIDTHS = (64, 128, 256, 512)
FEATURE_LAYER = "stack3_block2_out"
# keras-hub ResNetBackbone arguments of the two architectures built here. `resnet_tiny` is not in the paper:
# a one-block-per-stage basic-block ResNet (keras-hub needs 64 channels in the stem and first stage) for the
# embedded detection experiment, whose backbones must train in minutes on a CPU.
RESNET50_ARCH = dict(input_conv_filters=[64], input_conv_kernel_sizes=[7], stackwise_num_filters=list(STAGE_WIDTHS),
                     stackwise_num_blocks=list(STAGE_BLOCKS), block_type="bottleneck_block")
RESNET_TINY_ARCH = dict(input_conv_filters=[64], input_conv_kernel_sizes=[7], stackwise_num_filters=[64, 32, 64, 128],
                        stackwise_num_blocks=[1, 1, 1, 1], block_type="basic_block")

HOW_TO_OBTAIN = (
    "Pass a '.weights.h5' or '.keras' file saved from get_model('resnet50', ...) "
    "with the same num_classes. Keras's ImageNet file "
    "(resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5) belongs to another "
    "network: load it with get_model('resnet50_keras', ..., weights=path)."
)


def _check_last_stride(last_stride):
    if last_stride not in (1, 2) or isinstance(last_stride, bool):
        raise ValueError(
            f"Expected `last_stride` to be 1 or 2. Received: last_stride={last_stride!r}"
        )


def _keras_hub_backbone(image_shape, last_stride, arch=None):
    """keras-hub's ResNetBackbone with the ResNet-50 configuration, or `arch` (Glorot init)."""
    _check_last_stride(last_stride)
    # Imported here: keras_hub takes seconds to import, and only these ResNets need it.
    import keras_hub  # pylint: disable=g-import-not-at-top

    return keras_hub.models.ResNetBackbone(
        **(arch or RESNET50_ARCH),
        stackwise_num_strides=[1, 2, 2, last_stride],
        use_pre_activation=False,
        image_shape=tuple(image_shape),
    )


def backbone(*, image_shape=(None, None, 3), last_stride=2, arch=None):
    """The backbone of `resnet50` as a keras-hub `ResNetBackbone`.

    Takes already normalised images (no `PixelNormalization`), for models
    that take a keras-hub backbone (e.g. `keras_hub.models.RetinaNetBackbone`,
    through `pyramid_outputs` P2-P5). Its layers have the names of
    `resnet50()`'s, so a trained classifier's weights copy over layer by layer.

    Args:
        image_shape: `(height, width, 3)`. Defaults to `(None, None, 3)`.
        last_stride: Stride of the last stage, 2 (torchvision) or 1.
            Defaults to 2.
        arch: keras-hub `ResNetBackbone` arguments (`RESNET50_ARCH`,
            `RESNET_TINY_ARCH`). Defaults to None: ResNet-50's.

    Returns:
        A `keras_hub.models.ResNetBackbone` with torchvision's initialisation.

    Raises:
        ValueError: If `last_stride` is not 1 or 2.
    """
    model = _keras_hub_backbone(image_shape, last_stride, arch)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.kernel.assign(conv_initializer()(layer.kernel.shape))
    return model


def _torchvision_clone(layer):
    """A fresh copy of `layer`; convs get He fan-out normal kernels."""
    config = layer.get_config()
    if isinstance(layer, keras.layers.Conv2D):
        config["kernel_initializer"] = keras.initializers.serialize(conv_initializer())
    return layer.__class__.from_config(config)


def resnet50(
    *,
    num_classes,
    input_shape,
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    last_stride=2,
    weights=None,
    name="resnet50",
    arch=None,
):
    """Builds the paper's ResNet-50 with pixel normalisation and a CAM-ready head.

    Args:
        num_classes: Number of logits.
        input_shape: `(height, width, 3)`; height and width may be `None`.
        mean: Per-channel RGB means (0-255 scale). Defaults to torchvision's
            ImageNet means.
        std: Per-channel RGB standard deviations (0-255 scale). Defaults to
            torchvision's ImageNet standard deviations.
        last_stride: Stride of the last stage: 2 (torchvision, 7x7 features at
            224x224) or 1 (14x14). Defaults to 2.
        weights: `None` (random initialisation) or the path of a whole-model
            `.weights.h5` / `.keras` file of the same model. Defaults to `None`.
        name: Model name. Defaults to `"resnet50"`.
        arch: keras-hub `ResNetBackbone` arguments. Defaults to None:
            ResNet-50's (`RESNET50_ARCH`).

    Returns:
        A functional `keras.Model` mapping RGB pixels to logits; its
        `cam_feature_layer` is `"stack3_block2_out"`.

    Raises:
        ValueError: If `last_stride` is not 1 or 2, or `weights` is not a
            `.weights.h5` / `.keras` path.
        FileNotFoundError: If `weights` names a missing file.

    References:
        - [He et al., 2016](https://arxiv.org/abs/1512.03385)
    """
    input_shape = common.check_image_shape(input_shape, channels=3)
    _check_last_stride(last_stride)
    if weights is not None:  # Fail before the (slow) build.
        common.check_weights_path(weights, HOW_TO_OBTAIN)
        path = os.fspath(weights)
        if not (path.endswith(".weights.h5") or path.endswith(".keras")):
            raise ValueError(
                "Expected `weights` to end in '.weights.h5' or '.keras'. "
                f"{HOW_TO_OBTAIN} Received: weights={path!r}"
            )
    inputs, x = common.normalized_input(input_shape, mean, std)
    template = _keras_hub_backbone(input_shape, last_stride, arch)

    def call(layer, *args, **kwargs):
        if layer.name == "conv1_pad":  # The backbone's first layer.
            return layer(x)
        return layer(*args, **kwargs)

    # The template's layers, copied onto `x` in a flat graph, so that every
    # backbone layer (the CAM feature layer included) is a layer of the model.
    trunk = keras.models.clone_model(
        template, input_tensors=inputs, clone_function=_torchvision_clone, call_function=call
    )
    model = common.finish_model(inputs, trunk.output, num_classes, name)
    if weights is not None:
        common.load_model_weights(model, path)
    return model


def resnet_tiny(*, num_classes, input_shape, mean, std, weights=None, name="resnet_tiny"):
    """A one-block-per-stage basic-block ResNet on the same builder (`RESNET_TINY_ARCH`; not the paper's).

    The embedded detection experiment's backbone: its stage outputs (`stack1_block0_out` ... at strides 8,
    16, 32) feed SSD and RetinaNet as ResNet-50's do, and it trains in minutes on a CPU.

    Args:
        num_classes, input_shape, mean, std, weights, name: As `resnet50`.

    Returns:
        A functional `keras.Model` mapping RGB pixels to logits.
    """
    return resnet50(num_classes=num_classes, input_shape=input_shape, mean=mean, std=std, weights=weights,
                    name=name, arch=RESNET_TINY_ARCH)
