"""Data sets and their input pipelines, through tensorflow-datasets.

Importing this package registers the embedded "synthetic_shapes" and "synthetic_birds" (CUB-like, for
localization) tfds builders, so `tfds.load("synthetic_shapes")` and `tfds.load("synthetic_birds")` work offline.

    from keras_cutmix import data
    train = data.load("synthetic_shapes", batch_size=64, training=True, seed=0)
    spec = data.dataset_spec("synthetic_shapes")  # num_classes, image_shape, mean, std, ...
    imagenet = data.load("imagenet2012", batch_size=256, training=True,
                         augmentation="resize_crop")  # Default: "official_imagenet".
"""

from keras_cutmix import extras

extras.require_extra("keras_cutmix.data")  # One clear ImportError without the extra.

# Importing the loaders registers the embedded tfds builders.
from keras_cutmix.data.caption_loaders import load_captions, prepare_captions
from keras_cutmix.data.detection_loaders import VOC_CLASS_NAMES, detection_spec, load_detection, prepare_detection
from keras_cutmix.data.loaders import (EMBEDDED, DatasetNotFoundError, DatasetSpec, check_readable, dataset_spec, load,
                                       prepare)
from keras_cutmix.data.pipelines import AUGMENTATIONS
from keras_cutmix.data.synthetic_birds import SyntheticBirds, SyntheticBirdsConfig
from keras_cutmix.data.synthetic_shapes import SyntheticShapes, SyntheticShapesConfig
from keras_cutmix.data.wsol_metadata import imagenet_wsol_dataset

__all__ = ["EMBEDDED", "check_readable", "prepare", "AUGMENTATIONS", "DatasetNotFoundError", "DatasetSpec",
           "SyntheticBirds", "SyntheticBirdsConfig", "SyntheticShapes", "SyntheticShapesConfig", "dataset_spec",
           "imagenet_wsol_dataset", "load", "VOC_CLASS_NAMES", "detection_spec", "load_detection", "prepare_detection",
           "load_captions", "prepare_captions"]
