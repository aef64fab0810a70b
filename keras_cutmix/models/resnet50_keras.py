"""`resnet50_keras`: keras.applications ResNet-50, to load Keras's ImageNet weights file.

This is not the network the CutMix paper trained (that is `resnet50`, the torchvision-style v1.5 net):
keras.applications' ResNet-50 is v1 (the stride of a downsampling block sits in its first 1x1 conv), its convs
have biases and its BatchNorm uses epsilon 1.001e-5 and momentum 0.99. It has 25,583,592 trainable parameters
with 1000 classes (25,557,032 of the v1.5 net + 26,560 conv biases) and 53,120 BatchNorm statistics. Use it to
fine-tune from `resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5`.

`keras_application_model` (shared with `vgg_gap`) builds the keras.applications backbone
(`include_top=False`) directly on the normalised input, so that every backbone layer (e.g.
`"conv5_block3_out"`, the CAM feature layer) is a layer of the returned model. Keras's ImageNet weights were
trained with caffe-style preprocessing: BGR channel order, the ImageNet channel means subtracted, no scaling.
The model therefore defaults to that normalisation (mean `(123.68, 116.779, 103.939)` in RGB order, std 1)
and reverses the channels after normalising, so it takes RGB pixels in [0, 255] like every other model.

**ImageNet weights** (`weights=`): `"imagenet"` is Keras's ImageNet ResNet-50 (v1, the 2015 caffe model of
He et al., converted by keras-applications) without its classifier, the notop file above, which
`keras.applications.ResNet50(weights="imagenet", include_top=False)` downloads and caches in
`~/.keras/models/`; it loads into the backbone and the head starts fresh. The other forms (a notop file
Keras wrote, a whole-model file of any class count) are in `pretrained.py`.

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


def how_to_obtain(application, backbone_file):
    """The weights errors' sentence for keras.applications' `application` (e.g. `"ResNet50"`) notop file."""
    return (
        f"weights='imagenet' has Keras download its ImageNet notop file: keras.applications.{application}("
        f"weights=\"imagenet\", include_top=False) caches ~/.keras/models/{backbone_file}. Offline, copy that "
        "file here and pass its path."
    )


HOW_TO_OBTAIN = how_to_obtain("ResNet50", BACKBONE_FILE)


def resnet50_keras(*, num_classes, input_shape, mean=CAFFE_MEAN_RGB, std=CAFFE_STD, weights=None,
                   name="resnet50_keras"):
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
    return keras_application_model(keras.applications.ResNet50, HOW_TO_OBTAIN, lambda backbone: backbone.output,
                                   num_classes=num_classes, input_shape=input_shape, mean=mean, std=std,
                                   weights=weights, name=name)


def keras_application_model(application, how, tail, fresh=(common.HEAD_NAME,), *, num_classes, input_shape, mean,
                            std, weights, name):
    """A keras.applications backbone between caffe-style normalisation and the CAM-ready head, with `weights`.

    Args:
        application: E.g. `keras.applications.VGG16`, built with `include_top=False` on the normalised input.
        how: Sentence for weights errors (`how_to_obtain`).
        tail: `tail(backbone) -> features`, the CAM feature map (layers it adds start fresh).
        fresh: The model's weighted layers that the backbone's weights do not set.
        num_classes, input_shape, mean, std, weights, name: As `resnet50_keras`.

    Returns:
        The functional `keras.Model`.
    """
    input_shape = common.check_image_shape(input_shape, channels=3)
    kind, source = pretrained.weights_kind(weights, WEIGHTS_FORMS, how)
    inputs, x = common.normalized_input(input_shape, mean, std, reverse_channels=True)
    backbone = application(include_top=False, weights=None, input_tensor=x, input_shape=input_shape)
    model = common.finish_model(inputs, tail(backbone), num_classes, name)
    if kind == pretrained.MODEL_FILE:
        pretrained.load_model_file(model, source)
    elif kind is not None:
        pretrained.keras_applications_backbone(application, source, model, fresh=fresh)
    return model
