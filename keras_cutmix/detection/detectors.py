"""The detectors `run_detection` fine-tunes, behind one interface: build, compile, training data, detect.

`ssd` fills Table 10's SSD column; `retinanet` (keras-hub's) stands in for its Faster R-CNN. Each takes a
pyramid encoder (`backbones.pyramid_encoder`) and `train.detection_dataset`'s batches.
"""

import dataclasses
from typing import Callable, Optional

from keras_cutmix.detection import retinanet as retinanet_lib
from keras_cutmix.detection import ssd as ssd_lib


@dataclasses.dataclass(frozen=True)
class DetectorKind:
    """How `run_detection` handles one detector.

    Attributes:
        title: Its name in tables.
        build: `build(encoder, num_classes, image_size) -> keras.Model`.
        compile: `compile(model, optimizer)`: its loss, with an optimiser from `train.detector_optimizer`.
        weight_decay: Its recipe's weight decay (SSD: ssd.pytorch's 5e-4; RetinaNet: Lin et al.'s 1e-4).
        augment: `augment(image_size)` -> the per-example training augmentation `data.load_detection` applies
            at the original resolution, or None (images resized, not augmented).
        training_data: `training_data(dataset, image_size)`: the detector's training batches.
        detect: `detect(model, images) -> (boxes pixel yxyx [B, D, 4], scores, classes, counts)`.
    """

    title: str
    build: Callable
    compile: Callable
    weight_decay: float
    augment: Optional[Callable]
    training_data: Callable
    detect: Callable


def _retinanet(encoder, num_classes, image_size):
    # Small images get fewer levels and convs (P3-P5, one conv per head) and smaller anchors (1.5 strides: 12 to
    # 76 pixels, the smallest as SSD's 0.1 of the image, for objects of 9 to 60 pixels); at 300+ pixels Lin et
    # al.'s P3-P7, 4 convs and 4-stride anchors.
    small = image_size < 256
    return retinanet_lib.retinanet(encoder, num_classes, image_size, max_level=5 if small else 7,
                                   head_convs=1 if small else 4, anchor_size=1.5 if small else 4)


DETECTORS = {
    "ssd": DetectorKind("SSD", ssd_lib.build, ssd_lib.compile_ssd, ssd_lib.WEIGHT_DECAY, ssd_lib.augment,
                        ssd_lib.training_data, ssd_lib.detect),
    "retinanet": DetectorKind("RetinaNet", _retinanet, retinanet_lib.compile_retinanet, retinanet_lib.WEIGHT_DECAY,
                              None, lambda dataset, image_size: dataset, retinanet_lib.detect),
}
TITLES = {name: kind.title for name, kind in DETECTORS.items()}
