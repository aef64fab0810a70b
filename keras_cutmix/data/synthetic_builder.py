"""What the four embedded tfds builders share: their config fields, version, info and train / test splits.

`synthetic_shapes`, `synthetic_birds`, `synthetic_detection` and `synthetic_captions` each subclass
`SyntheticConfig` (only to give its own default sizes and image size) and `SyntheticBuilder`, which
holds the version, the homepage and the two splits; a builder adds its description, its features and
how it draws one split's examples (from `self.split_seed(split)`).

Splits are seeded independently: split `i` (train 0, test 1) draws from `default_rng((seed, i))`, so the
test images do not depend on the number of training images. Tests build small configs:

    config = SyntheticShapesConfig(name="tiny", num_train=32, num_test=8, seed=1)
    builder = SyntheticShapes(config=config, data_dir=tmp_dir)
    builder.download_and_prepare()
"""

import abc
import dataclasses

import tensorflow_datasets as tfds

HOMEPAGE = "https://arxiv.org/abs/1905.04899"
SPLIT_INDEX = {"train": 0, "test": 1}


@dataclasses.dataclass(eq=False)
class SyntheticConfig(tfds.core.BuilderConfig):
    """Sizes and seed of a build of an embedded data set (each data set's subclass gives its defaults).

    Attributes:
        num_train: Number of training examples.
        num_test: Number of test examples.
        seed: Seed of the generator. Defaults to 0.
        image_size: Height and width of the images.
    """

    num_train: int = 0
    num_test: int = 0
    seed: int = 0
    image_size: int = 0


class SyntheticBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A deterministic embedded data set: nothing to download, train and test splits from one seed.

    Subclasses set `DESCRIPTION` and `BUILDER_CONFIGS` and define `_features(image_size)` and
    `_generate_examples(split, num_examples)`.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    DESCRIPTION = ""
    SUPERVISED_KEYS = None  # ("image", "label") for the classification sets.

    @abc.abstractmethod
    def _features(self, image_size):
        """The data set's `tfds.features.FeaturesDict` for images of `image_size` x `image_size`."""

    def _info(self):
        return self.dataset_info_from_configs(description=self.DESCRIPTION, homepage=HOMEPAGE,
                                              features=self._features(self.builder_config.image_size),
                                              supervised_keys=self.SUPERVISED_KEYS)

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download.
        config = self.builder_config
        sizes = {"train": config.num_train, "test": config.num_test}
        return {split: self._generate_examples(split, sizes[split]) for split in sizes}

    def split_seed(self, split):
        """The generator's seed for `split`: `(config seed, split index)`."""
        return (self.builder_config.seed, SPLIT_INDEX[split])
