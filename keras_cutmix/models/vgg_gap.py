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

**Preprocessing.** Keras's ImageNet VGG-16 weights expect caffe-style input
(BGR, ImageNet channel means subtracted, no scaling), the same as
`resnet50_keras`: the model takes RGB pixels in [0, 255], subtracts
`(123.68, 116.779, 103.939)` and reverses the channels in its first layer.

**ImageNet weights** (`weights=`): `"imagenet"` is Keras's ImageNet VGG-16
without its classifier, `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`
(58.9 MB; the original VGG-16 caffe weights of Simonyan & Zisserman, converted
by keras-applications), which `keras.applications.VGG16(weights="imagenet",
include_top=False)` downloads and caches in `~/.keras/models/`. It loads into
the 13 VGG conv layers; conv6 and the head start fresh. `weights` may also be

* that notop file, or one written by Keras from
  `keras.applications.VGG16(include_top=False)` (`save_weights` writes
  `NAME.weights.h5`, `save` writes `NAME.keras`): Keras reads it as
  `keras.applications.VGG16(weights=path)` does (the legacy `.h5`, or a Keras 3
  file), then the conv layers of the same names take it; or
* a `.weights.h5` / `.keras` file of a whole `vgg_gap` model (told apart by its
  head), any class count: the head starts fresh when the count differs.

References:
    - [Zhou et al., 2016, Learning Deep Features for Discriminative
      Localization](https://arxiv.org/abs/1512.04150)
    - [Simonyan & Zisserman, 2015, VGG](https://arxiv.org/abs/1409.1556)
    - [Choe et al., 2020](https://arxiv.org/abs/2001.07437), code
      clovaai/wsolevaluation (`wsol/vgg.py`).
"""


import keras

from keras_cutmix.models import common, pretrained
from keras_cutmix.models.layers import conv_initializer
from keras_cutmix.models.resnet50_keras import CAFFE_MEAN_RGB, CAFFE_STD

BACKBONE_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
BACKBONE_LAST_LAYER = "block5_conv3"
EXTRA_CHANNELS = 1024

WEIGHTS_FORMS = (pretrained.IMAGENET, pretrained.BACKBONE_FILE)
HOW_TO_OBTAIN = (
    f"weights='imagenet' has Keras download its ImageNet notop file: keras.applications.VGG16("
    f"weights=\"imagenet\", include_top=False) caches ~/.keras/models/{BACKBONE_FILE}. Offline, copy that "
    "file here and pass its path."
)


def vgg_gap(
    *,
    num_classes,
    input_shape,
    mean=CAFFE_MEAN_RGB,
    std=CAFFE_STD,
    weights=None,
    name="vgg_gap",
):
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
    input_shape = common.check_image_shape(input_shape, channels=3)
    kind, source = pretrained.weights_kind(weights, WEIGHTS_FORMS, HOW_TO_OBTAIN)
    inputs, x = common.normalized_input(input_shape, mean, std, reverse_channels=True)
    vgg = keras.applications.VGG16(
        include_top=False, weights=None, input_tensor=x, input_shape=input_shape
    )
    x = vgg.get_layer(BACKBONE_LAST_LAYER).output  # block5_pool is left out.
    x = keras.layers.Conv2D(
        EXTRA_CHANNELS,
        3,
        padding="same",
        kernel_initializer=conv_initializer(),  # He normal, fan-out, as wsolevaluation.
        name="conv6",
    )(x)
    features = keras.layers.ReLU(name="conv6_relu")(x)
    model = common.finish_model(inputs, features, num_classes, name)
    if kind == pretrained.MODEL_FILE:
        pretrained.load_model_file(model, source)
    elif kind is not None:  # The 13 convs of VGG16(include_top=False); its pools have no weights.
        pretrained.keras_applications_backbone(
            keras.applications.VGG16, source, model, fresh=("conv6", common.HEAD_NAME))
    return model
