"""Detection backbones from classifiers: the stage outputs of a trained ResNet as a feature pyramid.

    classifier = load_classifier("/tmp/cls/cutmix")        # a classification workdir, or a .keras file
    encoder = pyramid_encoder(classifier)                   # pixels [0, 255] -> {"P3", "P4", "P5"}
    detector = retinanet(encoder, num_classes=20, image_size=300)

Our ResNets (`resnet50`, `resnet_tiny`) keep keras-hub's layer names (`stack{s}_block{b}_out`). The encoder
shares the classifier's layers (normalisation included: pixels in [0, 255]), so the method's pretrained weights
are the detector's initial weights; its outputs, the last block of stages 1-3, are the `pyramid_outputs` P3, P4
and P5 (strides 8, 16, 32) keras-hub's detectors read.
"""

import re

import keras

from keras_cutmix.models.common import at_input_size  # noqa: F401  (re-exported: used with the encoders)
from keras_cutmix.training.method_runs import load_classifier  # noqa: F401  (re-exported)

_STAGE_OUTPUT = re.compile(r"^stack(\d+)_block(\d+)_out$")


def stage_outputs(classifier):
    """`{level: layer name}` of the last block of each stage: stage s is level s + 2 (P2..P5)."""
    matches = [(_STAGE_OUTPUT.match(layer.name), layer.name) for layer in classifier.layers]
    blocks = sorted((int(match.group(1)), int(match.group(2)), name) for match, name in matches if match)
    last = {stage: name for stage, _, name in blocks}  # Sorted: each stage's last block wins.
    if not last:
        raise ValueError(f"Expected a ResNet classifier with 'stack<s>_block<b>_out' layers (resnet50, "
                         f"resnet_tiny). Received: model {classifier.name!r} without them")
    return {stage + 2: name for stage, name in last.items()}


def pyramid_encoder(classifier, levels=(3, 4, 5)):
    """A feature extractor sharing `classifier`'s layers, with keras-hub's `pyramid_outputs`.

    Args:
        classifier: A `keras_cutmix.models` ResNet (`resnet50`, `resnet_tiny`), trained or not.
        levels: Pyramid levels to expose. Defaults to (3, 4, 5).

    Returns:
        A `keras.Model` from the classifier's pixel input to `{"P3": ..., ...}`, with the same dict as
        its attribute `pyramid_outputs`.
    """
    names = stage_outputs(classifier)
    missing = [level for level in levels if level not in names]
    if missing:
        raise ValueError(f"Expected stage outputs for levels {list(levels)}. Received a classifier with "
                         f"levels {sorted(names)}")
    outputs = {f"P{level}": classifier.get_layer(names[level]).output for level in levels}
    encoder = keras.Model(classifier.inputs, outputs, name=f"{classifier.name}_pyramid")
    encoder.pyramid_outputs = outputs
    return encoder
