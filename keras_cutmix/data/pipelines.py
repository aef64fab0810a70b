"""Per-example preprocessing of the paper's input pipelines.

Two recipes, chosen by data set (see `PIPELINES`):

* `"pad_crop"` (CIFAR-10/100, synthetic_shapes), as in the CutMix code for
  CIFAR: training zero-pads by `padding` pixels, crops back to the image size
  at a random place and flips half of the images; testing does nothing.
  synthetic_shapes uses the same with 4 pixels of padding on 64x64 images.
* `"resize_crop"` (ImageNet, CUB-200-2011): training resizes to 256, crops 224
  at a random place and flips; testing resizes to 256 and crops the centre 224.
  ImageNet resizes the shorter side to 256 (aspect kept, the usual ImageNet
  evaluation); CUB resizes to 256x256, as in the weakly supervised localization
  code the paper builds on, so the centre crop keeps most of the bird.

Every function takes a shape-[2] integer seed and is deterministic given it;
images stay uint8 (the models normalise inside) and boxes follow every crop and
flip (`keras_cutmix.data.transforms`).
"""

import dataclasses

import tensorflow as tf

from keras_cutmix.data import transforms


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """How one data set is preprocessed.

    Attributes:
        kind: `"pad_crop"` or `"resize_crop"`.
        image_size: Output height and width after preprocessing.
        padding: Zero padding of the `"pad_crop"` training crop.
        resize_size: Resize target of `"resize_crop"` before cropping `image_size`.
        keep_aspect: For `"resize_crop"`, resize the shorter side (True) or
            both sides (False) to `resize_size`.
    """

    kind: str
    image_size: int
    padding: int = 0
    resize_size: int = 0
    keep_aspect: bool = True

    def with_image_size(self, image_size):
        """The same recipe for another output size (resize scaled by the same ratio)."""
        if image_size is None or image_size == self.image_size:
            return self
        if int(image_size) < 1:
            raise ValueError(f"Expected image_size >= 1. Received: image_size={image_size}")
        resize_size = round(self.resize_size * image_size / self.image_size)
        return dataclasses.replace(self, image_size=int(image_size), resize_size=resize_size)


PIPELINES = {
    "synthetic_shapes": Pipeline("pad_crop", image_size=64, padding=4),
    "cifar10": Pipeline("pad_crop", image_size=32, padding=4),
    "cifar100": Pipeline("pad_crop", image_size=32, padding=4),
    "imagenet2012": Pipeline("resize_crop", 224, resize_size=256, keep_aspect=True),
    "caltech_birds2011": Pipeline("resize_crop", 224, resize_size=256, keep_aspect=False),
}


def _pad_crop(pipeline, image, boxes, seed, training):
    """CIFAR recipe; `image_size` other than the native size resizes at the end."""
    if training:
        crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        image_hw = tf.shape(image)[:2]
        offset = transforms.random_crop_offset(image_hw, image_hw, crop_seed, pipeline.padding)
        image, boxes = transforms.crop_and_flip(
            image, boxes, offset, image_hw, transforms.random_flip(flip_seed))
    size = pipeline.image_size
    image = tf.cond(
        tf.reduce_all(tf.shape(image)[:2] == size),
        lambda: image,
        lambda: transforms.resize(image, [size, size]))
    return image, boxes


def _resize_crop(pipeline, image, boxes, seed, training):
    """ImageNet / CUB recipe: resize to `resize_size`, then a random or centre crop."""
    if pipeline.keep_aspect:
        resized_hw = transforms.shorter_side_size(tf.shape(image)[:2], pipeline.resize_size)
    else:
        resized_hw = tf.constant([pipeline.resize_size] * 2, tf.int32)
    image = transforms.resize(image, resized_hw)
    crop_hw = tf.constant([pipeline.image_size] * 2, tf.int32)
    if training:
        crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        offset = transforms.random_crop_offset(resized_hw, crop_hw, crop_seed)
        flip = transforms.random_flip(flip_seed)
    else:
        offset = transforms.center_crop_offset(resized_hw, crop_hw)
        flip = tf.constant(False)
    return transforms.crop_and_flip(image, boxes, offset, crop_hw, flip)


def preprocess(pipeline, image, boxes, seed, *, training):
    """Preprocesses one image and (optionally) its boxes.

    Args:
        pipeline: A `Pipeline` (e.g. `PIPELINES["cifar10"]`).
        image: uint8 [H, W, 3] image.
        boxes: float32 `[..., 4]` normalised boxes of `image`, or None.
        seed: shape-[2] integer seed of this example's random choices.
        training: True for the training recipe, False for the test recipe.

    Returns:
        `(image, boxes)`: uint8 [S, S, 3] with `S = pipeline.image_size`, and
        the boxes after the same crop and flip (None when None was given).
    """
    image = tf.convert_to_tensor(image)
    if boxes is not None:
        boxes = tf.convert_to_tensor(boxes, tf.float32)
    if pipeline.kind == "pad_crop":
        image, boxes = _pad_crop(pipeline, image, boxes, seed, training)
    elif pipeline.kind == "resize_crop":
        image, boxes = _resize_crop(pipeline, image, boxes, seed, training)
    else:
        raise ValueError(
            f"Expected pipeline.kind 'pad_crop' or 'resize_crop'. Received: kind={pipeline.kind!r}")
    size = pipeline.image_size
    image = tf.ensure_shape(image, [size, size, image.shape[-1]])
    return image, boxes
