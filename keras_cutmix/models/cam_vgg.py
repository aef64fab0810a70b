"""`cam_vgg`: VGG-GAP's shape scaled to the embedded 128x128 CUB-like images.

The paper's localization network VGG-GAP (Zhou et al. 2016; wsolevaluation's
`VggCam`) is VGG-16's five conv blocks without the last pooling, one extra 3x3
conv ("conv6"), global average pooling and a new dense head; at 224 pixels its
CAM is 14x14 (stride 16) and a CAM feature sees the whole image. `cam_vgg`
keeps that shape at an eighth of the width, for 128-pixel inputs:

    block1: conv (8)                 pool   128 -> 64
    block2: 2 conv (16)              pool    64 -> 32
    block3: 3 conv (32)              pool    32 -> 16
    block4: 3 conv (64)                      16
    block5: 3 conv (64)                      16
    conv6:  conv (128)                       16   (CAM features, stride 8)
    global average pooling, Dense(num_classes, name="head")

All convs are 3x3, each followed by BatchNormalization and ReLU (VGG-16 has no
batch normalisation; here it lets the net train from scratch on 2 CPU cores).
The CAM grid is 16x16 at 128 pixels (stride 8, not VGG-GAP's 16: 16 cells
across the image, close to VGG-GAP's 14). Receptive field of a conv6 feature:
154 pixels by the layer arithmetic (`RECEPTIVE_FIELD`), wider than the
image: the centre cell sees all of it, any cell a bird 77 pixels away, as in
VGG-GAP at 224 (its conv6 sees 228 pixels); `tf_tests/models/cam_vgg_test.py` measures it from the input
gradient of the centre feature. `cam_cnn`, the earlier embedded net, sees 71
pixels, about half a large bird. Trainable parameters: 304,488 +
129 * num_classes; a training step takes about 1.45x `cam_cnn`'s here
(batch 64, 2 busy CPU cores).

The normalisation belongs to the weights (`(x - 127.5) / 64`, fixed), as for
the ImageNet models, so that a backbone pretrained on one data set fine-tunes
on another with the same input scale.

**Weights** (`weights=`): `"synthetic_shapes"` is the backbone pretrained on
the embedded `synthetic_shapes` set (the embedded stand-in for ImageNet; made by
`examples/pretrain_backbone.py`, shipped in the package): it loads into every
layer but the head, which starts fresh. Also: a notop file of this net
(`backbone(model).save_weights(...)`, every layer but pooling and head), or a
whole-model `.weights.h5` / `.keras` file or classification workdir (any class
count: with another count the head starts fresh).

References:
    - [Zhou et al., 2016, Learning Deep Features for Discriminative
      Localization](https://arxiv.org/abs/1512.04150) (VGGnet-GAP)
    - [Choe et al., 2020](https://arxiv.org/abs/2001.07437), code
      clovaai/wsolevaluation (`wsol/vgg.py`, `VggCam`).
"""

import logging
import os

import keras

from keras_cutmix.models import common, pretrained
from keras_cutmix.models.small_cnn import conv_bn_relu

# (channels, convs) of each block; the first `POOLED_BLOCKS` end in a 2x2 max pooling.
BLOCKS = ((8, 1), (16, 2), (32, 3), (64, 3), (64, 3))
POOLED_BLOCKS = 3
EXTRA_CHANNELS = 128
MEAN = 127.5
STD = 64.0
FEATURE_LAYER = "conv6_relu"
# The pretrained backbone shipped with the package, and the name `weights=` gives it.
PRETRAINED = "synthetic_shapes"
PRETRAINED_FILE = os.path.join(os.path.dirname(__file__), "weights", "cam_vgg_synthetic_shapes.weights.h5")
WEIGHTS_FORMS = (pretrained.BACKBONE_FILE,)
HOW_TO_OBTAIN = (
    f"weights={PRETRAINED!r} is the backbone shipped in keras_cutmix/models/weights/ (remade by "
    "examples/pretrain_backbone.py); a notop file is backbone(model).save_weights('name.weights.h5').")


def receptive_field(blocks=BLOCKS, pooled_blocks=POOLED_BLOCKS):
    """The receptive field (pixels) of a conv6 feature: 3x3 convs add 2 steps, 2x2 pools 1 and double it."""
    size, step = 1, 1
    for index, (_, convs) in enumerate(blocks):
        size += 2 * step * convs
        if index < pooled_blocks:
            size += step
            step *= 2
    return size + 2 * step  # conv6


RECEPTIVE_FIELD = receptive_field()


def cam_vgg(*, num_classes, input_shape, mean=MEAN, std=STD, weights=None, name="cam_vgg"):
    """Builds `cam_vgg`: VGG-GAP's blocks at 1/8 width, conv6, GAP, head.

    Args:
        num_classes: Number of logits.
        input_shape: `(height, width, channels)`; height and width may be `None`.
        mean: Per-channel pixel means (0-255 scale). Defaults to 127.5, the
            normalisation of the shipped weights.
        std: Per-channel pixel standard deviations (0-255 scale). Defaults to 64.
        weights: `None`, `"synthetic_shapes"`, a notop file of this net, or a
            whole-model file / classification workdir. Defaults to `None`.
        name: Model name. Defaults to `"cam_vgg"`.

    Returns:
        A functional `keras.Model` mapping pixels to logits; its
        `cam_feature_layer` is `"conv6_relu"`.

    Raises:
        FileNotFoundError: If `weights` names a missing file.
        ValueError: If `weights` is of another form or format.
    """
    input_shape = common.check_image_shape(input_shape)
    kind, source = resolve_weights(weights)
    inputs, x = common.normalized_input(input_shape, mean, std)
    for index, (channels, convs) in enumerate(BLOCKS):
        for conv_index in range(convs):
            x = conv_bn_relu(x, channels, 1, f"block{index + 1}_conv{conv_index + 1}")
        if index < POOLED_BLOCKS:
            x = keras.layers.MaxPooling2D(2, name=f"block{index + 1}_pool")(x)
    features = conv_bn_relu(x, EXTRA_CHANNELS, 1, "conv6")
    model = common.finish_model(inputs, features, num_classes, name)
    if kind == pretrained.MODEL_FILE:
        pretrained.load_model_file(model, source)
    elif kind == pretrained.BACKBONE_FILE:
        notop = backbone(cam_vgg(num_classes=1, input_shape=input_shape, mean=mean, std=std))
        notop.load_weights(source)
        count = pretrained.copy_layer_weights(notop.layers, model)
        logging.info("Loaded %s into %d layers of %s; its head starts fresh.", source, count, model.name)
    return model


def resolve_weights(weights):
    """`(kind, source)` of `weights` for `cam_vgg` (`"synthetic_shapes"` is the shipped notop file)."""
    if isinstance(weights, str) and weights == PRETRAINED:
        if not os.path.isfile(PRETRAINED_FILE):
            raise FileNotFoundError(f"The shipped backbone {PRETRAINED_FILE} is missing. {HOW_TO_OBTAIN}")
        return pretrained.BACKBONE_FILE, PRETRAINED_FILE
    return pretrained.weights_kind(weights, WEIGHTS_FORMS, HOW_TO_OBTAIN)


def backbone(model):
    """The notop part of a `cam_vgg` model (pixels to conv6 features): what `save_weights` of a notop file saves.

    Args:
        model: A `cam_vgg` model.

    Returns:
        A `keras.Model` sharing `model`'s layers up to `"conv6_relu"`.
    """
    return keras.Model(model.inputs, model.get_layer(FEATURE_LAYER).output, name=f"{model.name}_notop")
