"""The "synthetic_captions" tfds builder: embedded, offline image captioning data.

Importing `keras_cutmix.data` registers it; `tfds.load("synthetic_captions", split="train", data_dir=...)`
builds it on first use (a few seconds, no download) and `keras_cutmix.data.load_captions` batches it. The scenes
and captions come from `keras_cutmix.data.caption_generator`. The features follow tfds `coco_captions`: `image`
uint8 [64, 64, 3], `image/id` int64 and `captions`, a sequence of `text` and `id`. The default config has 3000
train and 500 test images from seed 0; see `synthetic_builder` for building a smaller one.
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from keras_cutmix.data import caption_generator, synthetic_builder

_DESCRIPTION = """\
Procedurally generated 64x64 captioning scenes: 2 or 3 solid-coloured shapes
(10 shapes, 7 colours, small or large) on a grey background, each with 5
differently worded reference captions generated from the scene, naming every
object's colour and shape and the spatial relation of the first two.
"""

# Split i's image ids start at i * _ID_STRIDE + 1, so train and test ids never collide.
_ID_STRIDE = 1_000_000
_CHUNK = 256  # Images drawn at once.


@dataclasses.dataclass(eq=False)
class SyntheticCaptionsConfig(synthetic_builder.SyntheticConfig):
    """Sizes and seed of a synthetic_captions build (fields as `SyntheticConfig`): 3000 / 500 images of 64."""

    num_train: int = 3000
    num_test: int = 500
    image_size: int = caption_generator.IMAGE_SIZE


class SyntheticCaptions(synthetic_builder.SyntheticBuilder):
    """Deterministic synthetic captioning data set, coco_captions-like features."""

    DESCRIPTION = _DESCRIPTION
    BUILDER_CONFIGS = [SyntheticCaptionsConfig(name="default", description="3000 train / 500 test, seed 0.")]

    def _features(self, image_size):
        return tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(image_size, image_size, 3)),
            "image/id": np.int64,
            "captions": tfds.features.Sequence({"text": tfds.features.Text(), "id": np.int64}),
        })

    def _generate_examples(self, split, num_examples):
        first_id = synthetic_builder.SPLIT_INDEX[split] * _ID_STRIDE + 1
        rng = np.random.default_rng(self.split_seed(split))
        for start in range(0, num_examples, _CHUNK):
            scenes = caption_generator.generate_captioned_scenes(
                rng, min(_CHUNK, num_examples - start), image_size=self.builder_config.image_size)
            for i, captions in enumerate(scenes["captions"]):
                image_id = first_id + start + i
                caption_ids = image_id * 10 + np.arange(len(captions), dtype=np.int64)
                yield image_id, {"image": scenes["image"][i], "image/id": image_id,
                                 "captions": {"text": captions, "id": caption_ids}}
