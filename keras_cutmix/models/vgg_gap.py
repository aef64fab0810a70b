"""`vgg_gap`: VGG-16 for class activation maps (VGG-GAP of Zhou et al., wsolevaluation's `VggCam`).

VGG-16's 13 conv layers with the last max pooling removed, then one extra
conv layer, global average pooling and a new dense layer:

    block1 .. block4 (conv + 2x2 max pool each), block5 (3 convs, no pool)
    conv6: 3x3 conv, 1024 channels, bias, ReLU   ("conv6_relu", CAM features)
    global average pooling, Dense(num_classes, name="head")

224x224 inputs give 14x14x1024 features (stride 16). The extra layer follows
clovaai/wsolevaluation `wsol/vgg.py` (`VggCam`, config `cam/14x14`:
`nn.Conv2d(512, 1024, kernel_size=3, padding=1)` then ReLU), initialised as
there with He normal fan-out and zero bias. The CAM paper's VGGnet-GAP also
drops the pooling after conv5_3 and adds a 3x3 conv with 1024 units. The head
keeps Keras's default initialisation (wsolevaluation draws N(0, 0.01)).

Trainable parameters: 14,714,688 (VGG-16 convs) + 4,719,616 (conv6) +
1025 * num_classes (head): 19,639,304 for CUB's 200 classes, 20,459,304 for
ImageNet's 1000.

**Preprocessing** is caffe-style, as Keras's ImageNet VGG-16 weights expect, the same as `resnet50_keras`
(RGB pixels in [0, 255] in; means `(123.68, 116.779, 103.939)` subtracted, channels reversed inside).

**ImageNet weights** (`weights=`): `"imagenet"` is Keras's ImageNet VGG-16 without its classifier,
`vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5` (58.9 MB; the original VGG-16 caffe weights of Simonyan &
Zisserman, converted by keras-applications), which `keras.applications.VGG16(weights="imagenet",
include_top=False)` downloads and caches in `~/.keras/models/`. It loads into the 13 VGG conv layers; conv6
and the head start fresh. The other forms (a notop file Keras wrote, a whole `vgg_gap` file of any class
count) are in `pretrained.py`.

References:
    - [Zhou et al., 2016, Learning Deep Features for Discriminative
      Localization](https://arxiv.org/abs/1512.04150)
    - [Simonyan & Zisserman, 2015, VGG](https://arxiv.org/abs/1409.1556)
    - [Choe et al., 2020](https://arxiv.org/abs/2001.07437), code
      clovaai/wsolevaluation (`wsol/vgg.py`).
"""


import keras

from keras_cutmix.models import common, resnet50_keras
from keras_cutmix.models.layers import conv_initializer
from keras_cutmix.models.resnet50_keras import CAFFE_MEAN_RGB, CAFFE_STD, how_to_obtain, keras_application_model

BACKBONE_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
BACKBONE_LAST_LAYER = "block5_conv3"
EXTRA_CHANNELS = 1024
WEIGHTS_FORMS = resnet50_keras.WEIGHTS_FORMS
HOW_TO_OBTAIN = how_to_obtain("VGG16", BACKBONE_FILE)


def vgg_gap(*, num_classes, input_shape, mean=CAFFE_MEAN_RGB, std=CAFFE_STD, weights=None, name="vgg_gap"):
    """Builds VGG-GAP: VGG-16 convs without the last pool, conv6 (1024), GAP, head.

    Args:
        num_classes: Number of logits.
        input_shape: `(height, width, 3)`; height and width >= 16 (or `None`).
        mean: Per-channel RGB means (0-255 scale). Defaults to the caffe means
            that the `keras.applications` ImageNet weights expect.
        std: Per-channel RGB standard deviations (0-255 scale). Defaults to 1,
            as the ImageNet weights expect.
        weights: `None` (random initialisation), `"imagenet"`, a VGG-16
            notop file, or a whole-model `.weights.h5` / `.keras` file (any
            class count). Defaults to `None`.
        name: Model name. Defaults to `"vgg_gap"`.

    Returns:
        A functional `keras.Model` mapping RGB pixels to logits; its
        `cam_feature_layer` is `"conv6_relu"`.

    Raises:
        FileNotFoundError: If `weights` names a file that does not exist; the
            message says how to obtain the ImageNet file.
        ValueError: If `weights` is of another form or format.

    References:
        - [Zhou et al., 2016](https://arxiv.org/abs/1512.04150)
    """

    def tail(vgg):  # block5_pool is left out.
        x = keras.layers.Conv2D(EXTRA_CHANNELS, 3, padding="same", name="conv6",
                                kernel_initializer=conv_initializer())(vgg.get_layer(BACKBONE_LAST_LAYER).output)
        return keras.layers.ReLU(name="conv6_relu")(x)

    # The weights: the 13 convs of VGG16(include_top=False) (its pools have none); conv6 and the head start fresh.
    return keras_application_model(keras.applications.VGG16, HOW_TO_OBTAIN, tail, ("conv6", common.HEAD_NAME),
                                   num_classes=num_classes, input_shape=input_shape, mean=mean, std=std,
                                   weights=weights, name=name)
