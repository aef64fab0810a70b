"""Models for keras_cutmix: pixels in [0, 255] in, logits out, CAM-ready tail.

    model = keras_cutmix.models.get_model(
        "pyramidnet200", num_classes=100, input_shape=(32, 32, 3))
    features = model.get_layer(cam_feature_layer_name(model)).output

`factory.py` lists the models and their parameter counts. The builders with
all their options live in the submodules (`pyramidnet.pyramidnet`,
`resnet_cifar.resnet_cifar_thin`, `resnet_cifar.resnet18_cifar`,
`resnet50.resnet50`, `resnet50.backbone`, `resnet50_keras.resnet50_keras`,
`small_cnn.small_cnn`, `cam_cnn.cam_cnn`, `vgg_gap.vgg_gap`).
`takes_data_statistics(name)` says whether a model
takes a data set's pixel statistics (not the ImageNet models, whose
normalisation belongs to their weights). `check_weights(name, weights)`
recognises the forms of pretrained weights (`"imagenet"`, keras-hub presets,
notop files, whole-model files; see `pretrained.py`) without loading them.
`function_cache.compiled(model, key, build)` is the package's one cache of
compiled functions per model (evaluations build theirs there, freed with the
model).
"""

from keras_cutmix.models.layers import ChannelZeroPad, PixelNormalization
from keras_cutmix.models.factory import (
    MODEL_NAMES,
    cam_feature_layer_name,
    check_weights,
    get_model,
    takes_data_statistics,
)

__all__ = [
    "MODEL_NAMES",
    "ChannelZeroPad",
    "PixelNormalization",
    "cam_feature_layer_name",
    "check_weights",
    "get_model",
    "takes_data_statistics",
]
