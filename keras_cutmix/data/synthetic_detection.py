"""The "synthetic_detection" tfds builder: embedded, offline object detection data.

Importing `keras_cutmix.data` registers it; `tfds.load("synthetic_detection", split="train", data_dir=...)` builds it
on first use (about 30 s on 2 busy CPU cores, no download) and `keras_cutmix.data.load_detection` batches it. The
scenes come from `keras_cutmix.data.synthetic_generator.generate_scenes`, whose docstring gives the exact "difficult"
rule (VOC marks objects difficult by eye; about 18% of the objects are). The features follow tfds `voc`: `image`
uint8 [128, 128, 3] and `objects`, a sequence of `bbox` (normalised `[ymin, xmin, ymax, xmax]`, the tight box of the
object's visible pixels), `label` (10 classes) and `is_difficult`. The default config has 2000 train and 500 test
images from seed 0; see `synthetic_builder` for building a smaller one.
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from keras_cutmix.data import synthetic_builder, synthetic_generator

_DESCRIPTION = """\
Procedurally generated 128x128 detection scenes: 3 to 8 objects per image of
10 shape classes (circle, square, triangle, diamond, plus, ring, x_cross,
frame, star, crescent) with random colours, textures, sizes (many small),
positions and rotations on cluttered backgrounds; later objects occlude
earlier ones. Boxes are the tight boxes of the visible pixels; heavily
occluded (over 50% hidden) or tiny (shorter side under 1/16 of the image)
objects are marked difficult.
"""
_CHUNK = 128  # Images drawn at once.


@dataclasses.dataclass(eq=False)
class SyntheticDetectionConfig(synthetic_builder.SyntheticConfig):
    """Sizes and seed of a synthetic_detection build (fields as `SyntheticConfig`): 2000 / 500 images of 128."""

    num_train: int = 2000
    num_test: int = 500
    image_size: int = synthetic_generator.SCENE_IMAGE_SIZE


def iterate_scenes(seed, num_examples, *, image_size=synthetic_generator.SCENE_IMAGE_SIZE):
    """Yields the examples of one split, in tfds `voc` form, deterministically from `seed`.

    Args:
        seed: An int or a sequence of ints, passed to `numpy.random.default_rng`.
        num_examples: Number of images.
        image_size: Height and width. Defaults to 128.

    Yields:
        Dicts `{"image": uint8 [S, S, 3], "objects": {"bbox": float32 [k, 4],
        "label": int64 [k], "is_difficult": bool [k]}}`.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, num_examples, _CHUNK):
        scenes = synthetic_generator.generate_scenes(rng, min(_CHUNK, num_examples - start), image_size=image_size)
        for i, k in enumerate(scenes["num_objects"]):
            objects = {key: scenes[key][i, :k] for key in ("bbox", "label", "is_difficult")}
            yield {"image": scenes["image"][i], "objects": objects}


class SyntheticDetection(synthetic_builder.SyntheticBuilder):
    """Deterministic synthetic multi-object detection data set, VOC-like features."""

    DESCRIPTION = _DESCRIPTION
    BUILDER_CONFIGS = [SyntheticDetectionConfig(name="default", description="2000 train / 500 test, seed 0.")]

    def _features(self, image_size):
        return tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(image_size, image_size, 3)),
            "objects": tfds.features.Sequence({
                "bbox": tfds.features.BBoxFeature(),
                "label": tfds.features.ClassLabel(names=synthetic_generator.CLASS_NAMES),
                "is_difficult": np.bool_,
            }),
        })

    def _generate_examples(self, split, num_examples):
        examples = iterate_scenes(self.split_seed(split), num_examples, image_size=self.builder_config.image_size)
        yield from enumerate(examples)
