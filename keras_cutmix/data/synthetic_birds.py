"""The "synthetic_birds" tfds builder: embedded, offline, CUB-like localization data.

Importing `keras_cutmix.data` registers it; `keras_cutmix.data.load("synthetic_birds", ...)` builds it on first use
(about 30 s on 2 busy CPU cores, 128 MB, no download). The images come from
`keras_cutmix.data.synthetic_birds_generator`, whose docstring gives the design. The features follow tfds
`caltech_birds2011`: `image` uint8 [128, 128, 3], `label` (10 classes), `bbox` (normalised
`[ymin, xmin, ymax, xmax]`, the tight box of the visible object) and `segmentation_mask` uint8 [128, 128, 1] (255 on
the visible object, 0 elsewhere; CUB's masks are 0-255 too). The default config has 3000 train and 1000 test examples
from seed 0, each class exactly 300 / 100 times; see `synthetic_builder` for building a smaller one.
"""

import dataclasses

import tensorflow_datasets as tfds

from keras_cutmix.data import synthetic_birds_generator, synthetic_builder

_DESCRIPTION = """\
Procedurally generated 128x128 "birds" for weakly supervised localization:
every class has the same body; the head's colour names the class (10
classes), the rest of the body carries weak, noisy colour cues, the background
none. Objects vary in scale (tight box 5-60% of the image), pose and aspect,
are truncated by the border (about 25%) or partly hidden by a branch (about
30%). `bbox` is the tight box of `segmentation_mask`, the visible object.
"""


@dataclasses.dataclass(eq=False)
class SyntheticBirdsConfig(synthetic_builder.SyntheticConfig):
    """Sizes and seed of a synthetic_birds build (fields as `SyntheticConfig`): 3000 / 1000 images of 128."""

    num_train: int = 3000
    num_test: int = 1000
    image_size: int = synthetic_birds_generator.IMAGE_SIZE


class SyntheticBirds(synthetic_builder.SyntheticBuilder):
    """Deterministic CUB-like weakly supervised localization data set."""

    DESCRIPTION = _DESCRIPTION
    SUPERVISED_KEYS = ("image", "label")
    BUILDER_CONFIGS = [SyntheticBirdsConfig(name="default", description="3000 train / 1000 test, seed 0.")]

    def _features(self, image_size):
        return tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(image_size, image_size, 3)),
            "label": tfds.features.ClassLabel(names=synthetic_birds_generator.CLASS_NAMES),
            "bbox": tfds.features.BBoxFeature(),
            "segmentation_mask": tfds.features.Image(shape=(image_size, image_size, 1)),
        })

    def _generate_examples(self, split, num_examples):
        chunks = synthetic_birds_generator.iterate_split(
            self.split_seed(split), num_examples, image_size=self.builder_config.image_size)
        examples = ({
            "image": data["image"][i],
            "label": int(data["label"][i]),
            "bbox": data["bbox"][i],
            "segmentation_mask": data["mask"][i, :, :, None].astype("uint8") * 255,
        } for data in chunks for i in range(len(data["label"])))
        yield from enumerate(examples)
