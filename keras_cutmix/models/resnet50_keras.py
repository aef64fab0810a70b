"""`resnet50_keras`: keras.applications ResNet-50, to load Keras's ImageNet weights file.

This is not the network the CutMix paper trained (that is `resnet50`, the
torchvision-style v1.5 net): keras.applications' ResNet-50 is v1 (the stride of
a downsampling block sits in its first 1x1 conv), its convs have biases and its
BatchNorm uses epsilon 1.001e-5 and momentum 0.99. It has 25,583,592 trainable
parameters with 1000 classes (25,557,032 of the v1.5 net + 26,560 conv biases)
and 53,120 BatchNorm statistics. Use it to fine-tune from
`resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5`.

The backbone is `keras.applications.ResNet50(include_top=False)`, built
directly on the normalised input so that every backbone layer (e.g.
`"conv5_block3_out"`, the CAM feature layer) is a layer of the returned model.

The ImageNet weights of `keras.applications` were trained with caffe-style
preprocessing: BGR channel order, the ImageNet channel means subtracted, no
scaling. The model therefore defaults to that normalisation (mean
`(123.68, 116.779, 103.939)` in RGB order, std 1) and reverses the channels
after normalising, so it takes RGB pixels in [0, 255] like every other model.

**ImageNet weights** (`weights=`): `"imagenet"` is Keras's ImageNet ResNet-50
(v1, the 2015 caffe model of He et al., converted by keras-applications)
without its classifier, `resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5`,
which `keras.applications.ResNet50(weights="imagenet", include_top=False)`
downloads and caches in `~/.keras/models/`; it loads into the backbone and the
head starts fresh. `weights` may also be

* that notop file, or one written by Keras from
  `keras.applications.ResNet50(include_top=False)` (`NAME.weights.h5` /
  `NAME.keras`): Keras reads it as `keras.applications.ResNet50(weights=path)`
  does; or
* a `.weights.h5` / `.keras` file of a whole model built with the same
  arguments, any class count (e.g. a fine-tuned checkpoint).

References:
    - [He et al., 2016, Deep Residual Learning for Image
      Recognition](https://arxiv.org/abs/1512.03385)
"""


import keras

from keras_cutmix.models import common, pretrained

# keras.applications.imagenet_utils.preprocess_input(mode="caffe"), RGB order.
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)
CAFFE_STD = (1.0, 1.0, 1.0)
BACKBONE_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"

WEIGHTS_FORMS = (pretrained.IMAGENET, pretrained.BACKBONE_FILE)
HOW_TO_OBTAIN = (
    f"weights='imagenet' has Keras download its ImageNet notop file: keras.applications.ResNet50("
    f"weights=\"imagenet\", include_top=False) caches ~/.keras/models/{BACKBONE_FILE}. Offline, copy that "
    "file here and pass its path."
)


def resnet50_keras(
    *,
    num_classes,
    input_shape,
    mean=CAFFE_MEAN_RGB,
    std=CAFFE_STD,
    weights=None,
    name="resnet50_keras",
):
    """Builds keras.applications ResNet-50 with pixel normalisation inside and a CAM-ready head.

    Args:
        num_classes: Number of logits.
        input_shape: `(height, width, 3)`; height and width >= 32 (or `None`).
        mean: Per-channel RGB means (0-255 scale). Defaults to the caffe means
            that the `keras.applications` ImageNet weights expect.
        std: Per-channel RGB standard deviations (0-255 scale). Defaults to 1,
            as the ImageNet weights expect.
        weights: `None` (random initialisation), `"imagenet"`, a ResNet-50
            notop file, or a whole-model `.weights.h5` / `.keras` file (any
            class count). Defaults to `None`.
        name: Model name. Defaults to `"resnet50_keras"`.

    Returns:
        A functional `keras.Model` mapping RGB pixels to logits; its
        `cam_feature_layer` is `"conv5_block3_out"`.

    Raises:
        FileNotFoundError: If `weights` names a file that does not exist; the
            message says how to obtain the ImageNet file.
        ValueError: If `weights` is of another form or format.

    References:
        - [He et al., 2016](https://arxiv.org/abs/1512.03385)
    """
    input_shape = common.check_image_shape(input_shape, channels=3)
    kind, source = pretrained.weights_kind(weights, WEIGHTS_FORMS, HOW_TO_OBTAIN)
    inputs, x = common.normalized_input(input_shape, mean, std, reverse_channels=True)
    backbone = keras.applications.ResNet50(
        include_top=False, weights=None, input_tensor=x, input_shape=input_shape
    )
    features = backbone.output
    model = common.finish_model(inputs, features, num_classes, name)
    if kind == pretrained.MODEL_FILE:
        pretrained.load_model_file(model, source)
    elif kind is not None:
        pretrained.keras_applications_backbone(keras.applications.ResNet50, source, model)
    return model
