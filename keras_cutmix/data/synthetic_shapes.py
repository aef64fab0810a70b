"""The "synthetic_shapes" tfds builder: an embedded, offline default data set.

Importing this module registers `SyntheticShapes` with tensorflow-datasets, so

    import keras_cutmix.data
    ds = tfds.load("synthetic_shapes", split="train", data_dir=...)

builds the data set on first use (about 6 s on 2 busy CPU cores, 41 MB, no
download) and reads it back afterwards. The images come from the pure generator
in `keras_cutmix.data.synthetic_generator`; see its docstring for the classes
and the rule that keeps the label well defined. The features match tfds
`caltech_birds2011`: `image` uint8 [64, 64, 3], `label` (10 classes) and `bbox`
(normalised `[ymin, xmin, ymax, xmax]`).

Sizes and seed live in a `SyntheticShapesConfig`; the default config has 4000
train and 1000 test examples from seed 0. Tests build a smaller one:

    config = SyntheticShapesConfig(name="tiny", num_train=32, num_test=8, seed=1)
    builder = SyntheticShapes(config=config, data_dir=tmp_dir)
    builder.download_and_prepare()
"""

import dataclasses

import tensorflow_datasets as tfds

from keras_cutmix.data import synthetic_generator

_DESCRIPTION = """\
Procedurally generated 64x64 images of 10 shape classes (circle, square,
triangle, diamond, plus, ring, x_cross, frame, star, crescent) with random
colours, textures, positions, scales and rotations on cluttered backgrounds.
Each image holds one target object (the label, never occluded, the largest
object) and 0-3 smaller distractors of other classes. `bbox` is the tight box
of the target object.
"""

# Splits are seeded independently: split i draws from default_rng((seed, i)).
_SPLIT_INDEX = {"train": 0, "test": 1}


@dataclasses.dataclass(eq=False)
class SyntheticShapesConfig(tfds.core.BuilderConfig):
    """Sizes and seed of a synthetic_shapes build.

    Attributes:
        num_train: Number of training examples. Defaults to 4000.
        num_test: Number of test examples. Defaults to 1000.
        seed: Seed of the generator. Defaults to 0.
        image_size: Height and width of the images. Defaults to 64.
    """

    num_train: int = 4000
    num_test: int = 1000
    seed: int = 0
    image_size: int = synthetic_generator.IMAGE_SIZE


class SyntheticShapes(tfds.core.GeneratorBasedBuilder):
    """Deterministic synthetic object classification and localization data set."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        SyntheticShapesConfig(name="default", description="4000 train / 1000 test, seed 0."),
    ]

    def _info(self):
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(size, size, 3)),
                "label": tfds.features.ClassLabel(names=synthetic_generator.CLASS_NAMES),
                "bbox": tfds.features.BBoxFeature(),
            }),
            supervised_keys=("image", "label"),
            homepage="https://arxiv.org/abs/1905.04899",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download.
        config = self.builder_config
        sizes = {"train": config.num_train, "test": config.num_test}
        return {
            split: self._generate_examples((config.seed, _SPLIT_INDEX[split]), sizes[split])
            for split in sizes
        }

    def _generate_examples(self, seed, num_examples):
        data = synthetic_generator.generate_split(
            seed, num_examples, image_size=self.builder_config.image_size)
        for i in range(num_examples):
            yield i, {
                "image": data["image"][i],
                "label": int(data["label"][i]),
                "bbox": data["bbox"][i],
            }
