"""`resnet50`: ResNet-50 as the CutMix paper trained it (torchvision's, v1.5).

The official CutMix code (github.com/clovaai/CutMix-PyTorch, `resnet.py`) trains torchvision's ResNet-50
definition, known as ResNet v1.5:

* stem `conv7x7/2 (pad 3) - BN - ReLU - maxpool3x3/2 (pad 1)`;
* bottleneck blocks `conv1x1 - BN - ReLU - conv3x3 - BN - ReLU - conv1x1(x4) - BN`, added to the shortcut,
  then ReLU; a downsampling block puts its stride in the 3x3 conv (v1 puts it in the first 1x1 conv) and its
  shortcut is a strided `conv1x1 - BN`;
* 3, 4, 6, 3 blocks of widths 64, 128, 256, 512 at strides 1, 2, 2, 2;
* no conv biases; BatchNorm with PyTorch's defaults (momentum 0.1 there, 0.9 in Keras; epsilon 1e-5), gamma 1
  and beta 0 everywhere (no zero-initialised last BN of a block); conv kernels He-normal with fan-out
  (`kaiming_normal_(mode="fan_out", nonlinearity="relu")`, untruncated).

The backbone is keras-hub's `ResNetBackbone` with `block_type="bottleneck_block"`, which has this structure
and the same padding (explicit symmetric zero padding before strided convs; zero padding before the max pool
equals PyTorch's -inf padding after a ReLU). Its convs start Glorot uniform, so the builders here
re-initialise them as torchvision does. `backbone()` returns the keras-hub model itself (pyramid outputs
P2-P5, as keras-hub's RetinaNet takes it); `resnet50()` builds the same layers (same names: `conv1_conv`,
`stack0_block0_1_conv`, ..., `stack3_block2_out`) between our normalisation and the CAM-ready head.
`last_stride=1` keeps the last stage at stride 1 (features at 1/16 of the input, 14x14 at 224x224), the
variant used for weakly supervised object localization.

Parameters with 1000 classes: 25,557,032 trainable (as torchvision's `resnet50()`), plus 53,120 BatchNorm
statistics. The head is `Dense(name="head")` with Keras's default initialisation (Glorot-uniform kernel, zero
bias), where PyTorch's `nn.Linear` draws kernel and bias from U(-1/sqrt(2048), 1/sqrt(2048)). Inputs are RGB
pixels in [0, 255], normalised inside with torchvision's ImageNet statistics (`IMAGENET_MEAN`,
`IMAGENET_STD`, 0-255 scale), as all the weights below expect.

**ImageNet weights** (`weights=`; every form in `pretrained.py`): `"imagenet"` is torchvision's own ResNet-50
(`IMAGENET1K_V1`, 76.13% top-1; the paper fine-tuned it for localization) from timm's copy
`hf://timm/resnet50.tv_in1k`, converted by keras-hub on load (needs `safetensors`). Also keras-hub's
`"resnet_50_imagenet"` (timm's `resnet50.a1_in1k`: the same v1.5 network trained with the "ResNet strikes
back" A1 recipe). A preset must be a ResNet-50 v1 (no pre-activation) whose image converter normalises as
this model does; it loads into every layer but the head, whatever the strides (`last_stride=1` too).

References:
    - [He et al., 2016, Deep Residual Learning for Image
      Recognition](https://arxiv.org/abs/1512.03385)
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899)
    - [Choe et al., 2020, Evaluating Weakly Supervised Object Localization
      Methods Right](https://arxiv.org/abs/2001.07437) (last stride 1)
"""

import logging

import keras

from keras_cutmix import extras
from keras_cutmix.models import common, pretrained
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

# torchvision's ImageNet weights, as timm hosts them (keras-hub converts timm checkpoints on load).
TORCHVISION_PRESET = "hf://timm/resnet50.tv_in1k"
WEIGHTS_FORMS = (pretrained.IMAGENET, pretrained.PRESET)
HOW_TO_OBTAIN = (
    f"'imagenet' is torchvision's ResNet-50 ({TORCHVISION_PRESET}, downloaded by keras-hub); offline, pass "
    "a folder that keras_hub.models.Backbone.from_preset(...).save_to_preset(folder) wrote, or a timm "
    "folder (config.json + model.safetensors). Keras's ImageNet file "
    "(resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5) belongs to another "
    "network: load it with get_model('resnet50_keras', ..., weights=path)."
)


def _check_last_stride(last_stride):
    if last_stride not in (1, 2) or isinstance(last_stride, bool):
        raise ValueError(f"Expected `last_stride` to be 1 or 2. Received: last_stride={last_stride!r}")


def _keras_hub_backbone(image_shape, last_stride, arch=None):
    """keras-hub's ResNetBackbone with the ResNet-50 configuration, or `arch` (Glorot init)."""
    _check_last_stride(last_stride)
    # Imported here: keras_hub takes seconds to import, and only these ResNets need it.
    keras_hub = extras.import_optional("keras_hub", "the ResNet-50 models (keras-hub)")

    return keras_hub.models.ResNetBackbone(
        **(arch or RESNET50_ARCH),
        stackwise_num_strides=[1, 2, 2, last_stride],
        use_pre_activation=False,
        image_shape=tuple(image_shape),
    )


def backbone(*, image_shape=(None, None, 3), last_stride=2, arch=None):
    """The backbone of `resnet50` as a keras-hub `ResNetBackbone`.

    Takes already normalised images (no `PixelNormalization`), for models that take a keras-hub backbone (e.g.
    `keras_hub.models.RetinaNetBackbone`, through `pyramid_outputs` P2-P5). Its layers have the names of
    `resnet50()`'s, so a trained classifier's weights copy over layer by layer.

    Args:
        image_shape: `(height, width, 3)`. Defaults to `(None, None, 3)`.
        last_stride: Stride of the last stage, 2 (torchvision) or 1. Defaults to 2.
        arch: keras-hub `ResNetBackbone` arguments (`RESNET50_ARCH`, `RESNET_TINY_ARCH`). Defaults to None:
            ResNet-50's.

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


def resnet50(*, num_classes, input_shape, mean=IMAGENET_MEAN, std=IMAGENET_STD, last_stride=2, weights=None,
             name="resnet50", arch=None):
    """Builds the paper's ResNet-50 with pixel normalisation and a CAM-ready head.

    Args:
        num_classes: Number of logits.
        input_shape: `(height, width, 3)`; height and width may be `None`.
        mean, std: Per-channel RGB means and standard deviations (0-255 scale). Default to torchvision's
            ImageNet statistics.
        last_stride: Stride of the last stage: 2 (torchvision, 7x7 features at 224x224) or 1 (14x14).
            Defaults to 2.
        weights: `None` (random initialisation), `"imagenet"` (torchvision's), a keras-hub preset (name,
            handle or folder, timm's layout included) or a whole-model `.weights.h5` / `.keras` file of this
            model (any class count). Defaults to `None`.
        name: Model name. Defaults to `"resnet50"`.
        arch: keras-hub `ResNetBackbone` arguments. Defaults to None: ResNet-50's (`RESNET50_ARCH`).

    Returns:
        A functional `keras.Model` mapping RGB pixels to logits; its `cam_feature_layer` is
        `"stack3_block2_out"`.

    Raises:
        ValueError: If `last_stride` is not 1 or 2, `weights` is of a form this model does not take, or its
            preset is not a ResNet-50 v1 or normalises otherwise.
        FileNotFoundError: If `weights` names a missing file or folder.

    References:
        - [He et al., 2016](https://arxiv.org/abs/1512.03385)
    """
    input_shape = common.check_image_shape(input_shape, channels=3)
    _check_last_stride(last_stride)
    # Fail before the (slow) build.
    kind, source = pretrained.weights_kind(weights, WEIGHTS_FORMS, HOW_TO_OBTAIN)
    if kind in (pretrained.IMAGENET, pretrained.PRESET):
        source = preset_backbone(TORCHVISION_PRESET if kind == pretrained.IMAGENET else source,
                                 arch or RESNET50_ARCH, mean, std)
    inputs, x = common.normalized_input(input_shape, mean, std)
    template = _keras_hub_backbone(input_shape, last_stride, arch)

    def call(layer, *args, **kwargs):
        if layer.name == "conv1_pad":  # The backbone's first layer.
            return layer(x)
        return layer(*args, **kwargs)

    # The template's layers, copied onto `x` in a flat graph, so that every backbone layer (the CAM feature
    # layer included) is a layer of the model.
    trunk = keras.models.clone_model(template, input_tensors=inputs, clone_function=_torchvision_clone,
                                     call_function=call)
    model = common.finish_model(inputs, trunk.output, num_classes, name)
    if kind == pretrained.MODEL_FILE:
        pretrained.load_model_file(model, source)
    elif kind is not None:  # Every layer but the head.
        count = pretrained.copy_layer_weights(source.layers, model)
        logging.info("Loaded %s into %d layers of %s; the head starts fresh.",
                     weights, count, model.name)
    return model


def preset_backbone(preset, arch, mean, std):
    """A keras-hub `ResNetBackbone` preset, loaded and checked against the model it will load into.

    Args:
        preset: A keras-hub preset name, handle or folder (keras-hub's or timm's layout).
        arch: The `ResNetBackbone` arguments of the model (its strides aside: weights do not depend on them).
        mean, std: The model's normalisation, 0-255 scale.

    Returns:
        The `keras_hub.models.ResNetBackbone`.

    Raises:
        ValueError: If the preset is not a `ResNetBackbone` of `arch`, or its image converter
            normalises otherwise.
    """
    keras_hub = extras.import_optional("keras_hub", "the ResNet-50 models (keras-hub)")

    _check_normalization(preset, mean, std)  # Before the (slow) load.
    source = keras_hub.models.Backbone.from_preset(preset)
    config = source.get_config()
    wanted = dict(arch, use_pre_activation=False)
    plain = lambda v: list(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
    differ = {key: config.get(key) for key, value in wanted.items() if plain(config.get(key)) != plain(value)}
    if not isinstance(source, keras_hub.models.ResNetBackbone) or differ:
        raise ValueError(
            f"Expected `weights` to be a ResNetBackbone preset with {wanted}. Received: weights={preset!r}, "
            f"a {type(source).__name__} with {differ}")
    return source


def preset_normalization(preset):
    """`(mean, std)`, 0-255 scale, of a preset's image converter (`pixels * scale + offset`), or None."""
    keras_hub = extras.import_optional("keras_hub", "the ResNet-50 models (keras-hub)")

    try:
        converter = keras_hub.layers.ImageConverter.from_preset(preset)
    except FileNotFoundError:
        return None
    if converter is None:
        return None
    scale = common.per_channel(1.0 if converter.scale is None else converter.scale, 3, "scale")
    offset = common.per_channel(0.0 if converter.offset is None else converter.offset, 3, "offset")
    return [-o / s for o, s in zip(offset, scale)], [1.0 / s for s in scale]


def _check_normalization(preset, mean, std):
    found = preset_normalization(preset)
    if found is None:
        logging.warning("The preset %s has no image converter: assuming it was trained on pixels "
                        "normalised as this model does (mean %s, std %s).", preset, mean, std)
        return
    own = common.per_channel(mean, 3, "mean"), common.per_channel(std, 3, "std")
    if any(abs(a - b) > 1e-3 * abs(b) for got, want in zip(found, own) for a, b in zip(got, want)):
        raise ValueError(
            f"Expected `weights` trained on pixels normalised with mean {own[0]} and std {own[1]} (0-255 "
            f"scale), as this model does. Received: weights={preset!r}, whose image converter normalises "
            f"with mean {[round(v, 3) for v in found[0]]} and std {[round(v, 3) for v in found[1]]}")


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
