"""Models for keras_cutmix: pixels in [0, 255] in, logits out, CAM-ready tail.

    model = keras_cutmix.models.get_model(
        "pyramidnet200", num_classes=100, input_shape=(32, 32, 3))
    features = model.get_layer(cam_feature_layer_name(model)).output

`factory.py` lists the models, their parameter counts and normalisation (`takes_data_statistics`) and
checks `weights` (`check_weights`; the forms: `pretrained.py`); `common.py` the two ends every model shares.
The builders with all their options live in the submodules (`pyramidnet.pyramidnet`,
`resnet_cifar.resnet_cifar_thin`, `resnet50.resnet50`, `resnet50.backbone`, ...).
`function_cache.compiled(model, key, build)` is the package's one cache of compiled functions per model.
"""

from keras_cutmix.models.layers import ChannelZeroPad, PixelNormalization
from keras_cutmix.models.factory import (MODEL_NAMES, cam_feature_layer_name, check_weights, get_model,
                                         takes_data_statistics)

__all__ = ["MODEL_NAMES", "ChannelZeroPad", "PixelNormalization", "cam_feature_layer_name", "check_weights",
           "get_model", "takes_data_statistics"]
