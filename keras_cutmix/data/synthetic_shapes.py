"""The "synthetic_shapes" tfds builder: an embedded, offline default data set.

Importing `keras_cutmix.data` registers it; `tfds.load("synthetic_shapes", split="train", data_dir=...)`
builds it on first use (about 6 s on 2 busy CPU cores, 41 MB, no download). The images come from
`keras_cutmix.data.synthetic_generator`, whose docstring gives the classes and the rule that keeps the
label well defined. The features match tfds `caltech_birds2011`: `image` uint8 [64, 64, 3], `label`
(10 classes) and `bbox` (normalised `[ymin, xmin, ymax, xmax]`). The default config has 4000 train and
1000 test examples from seed 0; see `synthetic_builder` for building a smaller one.
"""

import dataclasses

import tensorflow_datasets as tfds

from keras_cutmix.data import synthetic_builder, synthetic_generator

_DESCRIPTION = """\
Procedurally generated 64x64 images of 10 shape classes (circle, square,
triangle, diamond, plus, ring, x_cross, frame, star, crescent) with random
colours, textures, positions, scales and rotations on cluttered backgrounds.
Each image holds one target object (the label, never occluded, the largest
object) and 0-3 smaller distractors of other classes. `bbox` is the tight box
of the target object.
"""


@dataclasses.dataclass(eq=False)
class SyntheticShapesConfig(synthetic_builder.SyntheticConfig):
    """Sizes and seed of a synthetic_shapes build (fields as `SyntheticConfig`): 4000 / 1000 images of 64."""

    num_train: int = 4000
    num_test: int = 1000
    image_size: int = synthetic_generator.IMAGE_SIZE


class SyntheticShapes(synthetic_builder.SyntheticBuilder):
    """Deterministic synthetic object classification and localization data set."""

    DESCRIPTION = _DESCRIPTION
    SUPERVISED_KEYS = ("image", "label")
    BUILDER_CONFIGS = [SyntheticShapesConfig(name="default", description="4000 train / 1000 test, seed 0.")]

    def _features(self, image_size):
        return tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(image_size, image_size, 3)),
            "label": tfds.features.ClassLabel(names=synthetic_generator.CLASS_NAMES),
            "bbox": tfds.features.BBoxFeature(),
        })

    def _generate_examples(self, split, num_examples):
        data = synthetic_generator.generate_split(
            self.split_seed(split), num_examples, image_size=self.builder_config.image_size)
        for i in range(num_examples):
            yield i, {"image": data["image"][i], "label": int(data["label"][i]), "bbox": data["bbox"][i]}
