"""Per-example preprocessing: the augmentation recipes, chosen by name.

Three recipes (`AUGMENTATIONS`); each data set has a default (`PIPELINES`) and
`keras_cutmix.data.load(..., augmentation=NAME)` picks another:

* `"pad_crop"` (default of CIFAR-10/100 and synthetic_shapes), the official CutMix code's CIFAR recipe: training
  zero-pads by `padding` pixels, crops back to the image size at a random place and flips half of the images;
  testing does nothing. synthetic_shapes uses it with 4 pixels on 64x64 images.
* `"official_imagenet"` (default of ImageNet), the official CutMix code's ImageNet training recipe:
  torchvision's `RandomResizedCrop(224)` (area 8%-100%, aspect ratio 3/4-4/3), a random horizontal flip, the
  code's `ColorJitter(0.4, 0.4, 0.4)` and `Lighting(0.1)` (`keras_cutmix.data.color`). Testing resizes the
  shorter side to 256 and crops the centre 224, as the official code's validation. One deviation: the output
  stays uint8, so the colour-augmented pixels are rounded and clipped to [0, 255] where the official code keeps
  unclamped floats (the models normalise inside).
* `"resize_crop"` (default of CUB-200-2011): training resizes to 256, crops 224
  at a random place and flips; testing resizes to 256 and crops the centre 224. With `keep_aspect` the shorter
  side is resized to 256 (ImageNet); CUB resizes to 256x256, as common weakly supervised localization code does
  (CAM, ADL), so the centre crop keeps most of the bird. A common recipe, not the official CutMix code's.
  synthetic_birds uses it scaled down by the same ratio (128 * 256 / 224 = 146.3: resize to 146x146, crop 128),
  so its test boxes are clipped by the centre crop as CUB's are.

Sampling is separate from applying: `sample` draws every random choice of one example from a shape-[2] integer seed
(a dict of tensors); `transform` applies a given dict and draws nothing; `preprocess` is the two in a row. Images
stay uint8 and boxes follow every crop and flip (`keras_cutmix.data.transforms`); colour changes do not move boxes.

References:
    - Official code: https://github.com/clovaai/CutMix-PyTorch (`train.py`).
"""

import dataclasses

import tensorflow as tf

from keras_cutmix.data import color
from keras_cutmix.data import transforms

AUGMENTATIONS = ("pad_crop", "official_imagenet", "resize_crop")


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """How one data set is preprocessed.

    Attributes:
        augmentation: One of `AUGMENTATIONS`.
        image_size: Output height and width after preprocessing.
        padding: Zero padding of the `"pad_crop"` training crop.
        resize_size: Resize target before the `image_size` crop: of both
            `"resize_crop"` recipes, and of the `"official_imagenet"` test recipe.
        keep_aspect: Resize the shorter side (True) or both sides (False) to `resize_size`.
    """

    augmentation: str
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

    def with_augmentation(self, augmentation):
        """The same output size with another recipe; missing sizes get the usual ones.

        A recipe that resizes and has no `resize_size` gets `image_size * 256 / 224`;
        `"pad_crop"` without `padding` gets 4 pixels.

        Raises:
            ValueError: if `augmentation` is not one of `AUGMENTATIONS`.
        """
        if augmentation is None or augmentation == self.augmentation:
            return self
        if augmentation not in AUGMENTATIONS:
            raise ValueError(f"Expected augmentation to be one of {list(AUGMENTATIONS)}. "
                             f"Received: augmentation={augmentation!r}")
        resize_size = self.resize_size or round(self.image_size * 256 / 224)
        return dataclasses.replace(self, augmentation=augmentation, resize_size=resize_size, padding=self.padding or 4)


PIPELINES = {
    "synthetic_shapes": Pipeline("pad_crop", image_size=64, padding=4),
    "cifar10": Pipeline("pad_crop", image_size=32, padding=4),
    "cifar100": Pipeline("pad_crop", image_size=32, padding=4),
    "imagenet2012": Pipeline("official_imagenet", 224, resize_size=256, keep_aspect=True),
    "caltech_birds2011": Pipeline("resize_crop", 224, resize_size=256, keep_aspect=False),
    "synthetic_birds": Pipeline("resize_crop", 128, resize_size=146, keep_aspect=False),
}


def _resized_hw(pipeline, image_hw):
    """Size of the image after the `"resize_crop"` / test-recipe resize."""
    if pipeline.keep_aspect:
        return transforms.shorter_side_size(image_hw, pipeline.resize_size)
    return tf.constant([pipeline.resize_size] * 2, tf.int32)


def sample(pipeline, image_size, seed, *, training):
    """Draws every random choice of one example's preprocessing.

    Args:
        pipeline: A `Pipeline`.
        image_size: `(height, width)` of the input image.
        seed: shape-[2] integer seed.
        training: True for the training recipe (random), False for the test recipe (fixed, `seed` unused).

    Returns:
        A dict of tensors: `"offset"` and `"crop_size"`, the crop window (in the resized image for the recipes that
        resize first, in the input image otherwise); `"flip"`, a bool scalar; for `"official_imagenet"` training also
        `"color_factors"` and `"color_order"` (`color.color_jitter`) and `"lighting_alpha"` (`color.lighting`).
    """
    image_hw = tf.cast(tf.convert_to_tensor(image_size)[:2], tf.int32)
    kind = pipeline.augmentation
    _check_augmentation(kind)
    # The first two seeds equal `stateless_split(seed, 2)`'s, so crops and flips match those of earlier runs.
    crop_seed, flip_seed, jitter_seed, lighting_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 4))
    flip = transforms.random_flip(flip_seed) if training else tf.constant(False)
    if kind == "pad_crop":
        offset = (transforms.random_crop_offset(image_hw, image_hw, crop_seed, pipeline.padding)
                  if training else tf.zeros([2], tf.int32))
        return {"offset": offset, "crop_size": image_hw, "flip": flip}
    if kind == "official_imagenet" and training:
        offset, crop_hw = transforms.random_resized_crop_window(image_hw, crop_seed)
        factors, order = color.sample_color_jitter(jitter_seed)
        return {"offset": offset, "crop_size": crop_hw, "flip": flip, "color_factors": factors,
                "color_order": order, "lighting_alpha": color.sample_lighting(lighting_seed)}
    resized_hw = _resized_hw(pipeline, image_hw)
    crop_hw = tf.constant([pipeline.image_size] * 2, tf.int32)
    offset = (transforms.random_crop_offset(resized_hw, crop_hw, crop_seed) if training
              else transforms.center_crop_offset(resized_hw, crop_hw))
    return {"offset": offset, "crop_size": crop_hw, "flip": flip}


def transform(pipeline, image, boxes, params, *, training):
    """Applies one example's sampled choices (`sample`); draws nothing.

    Args:
        pipeline: A `Pipeline`.
        image: uint8 [H, W, 3] image.
        boxes: float32 `[..., 4]` normalised boxes of `image`, or None.
        params: The dict `sample` returned (or one written by hand).
        training: The flag given to `sample`.

    Returns:
        `(image, boxes)`: uint8 [S, S, 3] with `S = pipeline.image_size`, and
        the boxes after the same crop and flip (None when None was given).
    """
    kind = pipeline.augmentation
    _check_augmentation(kind)
    size = [pipeline.image_size] * 2
    offset, crop_hw, flip = params["offset"], params["crop_size"], params["flip"]
    if kind == "pad_crop":
        image, boxes = transforms.crop_and_flip(image, boxes, offset, crop_hw, flip)
        return tf.cond(tf.reduce_all(tf.shape(image)[:2] == size),
                       lambda: image, lambda: transforms.resize(image, size)), boxes
    if kind == "official_imagenet" and training:
        # RandomResizedCrop (uint8 out, as PIL's), ToTensor, ColorJitter, Lighting, flip. The official code flips
        # before the colour changes; they commute with a flip, and flipping last mirrors the output exactly.
        if boxes is not None:
            image_hw = tf.shape(image)[:2]
            boxes = transforms.crop_and_flip_boxes(boxes, offset, crop_hw, image_hw, flip)
        image = transforms.resize(transforms.crop(image, offset, crop_hw), size)
        pixels = color.color_jitter(color.to_unit_float(image), params["color_factors"], params["color_order"])
        pixels = color.lighting(pixels, params["lighting_alpha"])
        return transforms.flip_left_right(color.to_uint8(pixels), flip), boxes
    image = transforms.resize(image, _resized_hw(pipeline, tf.shape(image)[:2]))
    return transforms.crop_and_flip(image, boxes, offset, crop_hw, flip)


def preprocess(pipeline, image, boxes, seed, *, training, mask=None):
    """Preprocesses one image and (optionally) its boxes and mask: `sample`, then `transform`.

    Args:
        pipeline: A `Pipeline` (e.g. `PIPELINES["cifar10"]`).
        image: uint8 [H, W, 3] image.
        boxes: float32 `[..., 4]` normalised boxes of `image`, or None.
        seed: shape-[2] integer seed of this example's random choices.
        training: True for the training recipe, False for the test recipe.
        mask: [H, W, 1] object mask of `image`, or None (`transform_mask`).

    Returns:
        `(image, boxes)`: uint8 [S, S, 3] with `S = pipeline.image_size`, and the boxes after the same crop and
        flip (None when None was given); with a `mask`, `(image, boxes, mask)`, the mask after the same draws.
    """
    image = tf.convert_to_tensor(image)
    if boxes is not None:
        boxes = tf.convert_to_tensor(boxes, tf.float32)
    params = sample(pipeline, tf.shape(image)[:2], seed, training=training)
    image, boxes = transform(pipeline, image, boxes, params, training=training)
    size = pipeline.image_size
    image = tf.ensure_shape(image, [size, size, image.shape[-1]])
    if mask is None:
        return image, boxes
    return image, boxes, transform_mask(pipeline, mask, params, training=training)


def transform_mask(pipeline, mask, params, *, training):
    """Applies one example's sampled geometry (`sample`) to its object mask, nearest-neighbour.

    The mask follows the image through the same resize, crop (zero outside the
    image) and flip, with nearest-neighbour resizing as wsolevaluation resizes
    its masks, so `mask` and the image `transform` returns line up pixel for pixel.

    Args:
        pipeline: A `Pipeline`.
        mask: [H, W, 1] mask of the image (any dtype; 0 is background).
        params: The dict `sample` returned for the image.
        training: The flag given to `sample`.

    Returns:
        [S, S, 1] mask of `mask`'s dtype, `S = pipeline.image_size`.
    """
    kind = pipeline.augmentation
    _check_augmentation(kind)
    mask = tf.convert_to_tensor(mask)
    size = [pipeline.image_size] * 2
    offset, crop_hw, flip = params["offset"], params["crop_size"], params["flip"]

    def nearest(x, hw):
        return tf.cast(tf.image.resize(x, hw, method="nearest"), mask.dtype)

    if kind == "pad_crop" or (kind == "official_imagenet" and training):
        mask = nearest(transforms.crop(mask, offset, crop_hw), size)
    else:
        mask = transforms.crop(nearest(mask, _resized_hw(pipeline, tf.shape(mask)[:2])), offset, crop_hw)
    return tf.ensure_shape(transforms.flip_left_right(mask, flip), size + [mask.shape[-1]])


def _check_augmentation(augmentation):
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"Expected pipeline.augmentation to be one of {list(AUGMENTATIONS)}. "
                         f"Received: augmentation={augmentation!r}")
