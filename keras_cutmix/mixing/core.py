"""The path every mixing function and layer shares: check the arguments once, then parse, draw, apply, pack.

A method (CutMix, MixUp, Cutout) is a `Method`: a pure sampler (seed and sizes -> mix), a pure applier (a
parsed `inputs.Batch` and a mix -> the mixed batch) and its box rule (`boxes.py`). `cutmix_fn` checks its
arguments with `check_args` at each call, the `CutMix` layer once in its constructor; both then call
`mix_inputs` (the layer with its `SeedGenerator`'s seed). Nothing below `check_args` checks an argument again.
"""

import functools
from typing import Callable, NamedTuple, Optional

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix.mixing import boxes as box_lib
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import sampling


class Args(NamedTuple):
    """The checked arguments of a mixing function or layer, as Python values (the box functions' `rules`)."""

    num_classes: Optional[int] = None
    probability: float = 1.0
    label_smoothing: float = 0.0
    data_format: str = "channels_last"
    bounding_box_format: Optional[str] = None
    min_visibility: float = 0.5
    min_size: float = 1.0
    max_boxes: Optional[int] = None
    alpha: float = 1.0  # CutMix, MixUp.
    per_sample: bool = False  # CutMix, MixUp.
    size: tuple = (16, 16)  # Cutout: (hole height, hole width).
    fill_value: float = 0  # Cutout.


class Method(NamedTuple):
    """A mixing method over checked `Args`; `name` is its map function's, which errors of this path carry."""

    name: str
    sample: Callable  # (seed, batch_size, height, width, args) -> the mix dict.
    apply: Callable  # (batch, mix, args) -> the mixed `inputs.Batch`.
    boxes: Callable  # (box_batch, mix, args) -> the output `boxes.BoxBatch`.
    mask_error: Optional[str] = None  # Set when the method cannot mix segmentation masks.


def check_size(size):
    """Returns `size` as a pair of Python ints; raises ValueError unless it is a positive int or a pair of them."""
    size = inputs.python_number(size)
    pair = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
    if isinstance(pair, (tuple, list, np.ndarray)):
        pair = [inputs.python_number(s) for s in pair]
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in pair)):
        raise ValueError(errors.named("Expected `size` to be a positive int or a pair of positive ints "
                                      f"(height, width). Received: size={size!r}"))
    return tuple(pair)


def _check_box_format(bounding_box_format):
    if bounding_box_format is not None and not isinstance(bounding_box_format, str):
        raise ValueError(errors.named("Expected `bounding_box_format` to be a Keras format name (a str). "
                                      f"Received: bounding_box_format={bounding_box_format!r}"))
    return None if bounding_box_format is None else _known_box_format(bounding_box_format)


@functools.lru_cache(maxsize=None)
def _known_box_format(name):
    """`name`, once Keras knows it: asked once per name (Keras converts a tensor to tell)."""
    try:
        keras.utils.bounding_boxes.convert_format(tf.zeros([1, 4]), name, box_lib.INTERNAL_FORMAT, height=1, width=1)
    except ValueError as error:
        raise ValueError(errors.named("Expected `bounding_box_format` to be a Keras format name. "
                                      f"Received: bounding_box_format={name!r} ({error})")) from None
    return name


def _check_min_size(min_size):
    min_size = inputs.python_number(min_size)
    if isinstance(min_size, bool) or not isinstance(min_size, (int, float)) or not min_size >= 0:
        raise ValueError(errors.named(
            f"Expected `min_size` to be a number >= 0 (pixels). Received: min_size={min_size!r}"))
    return float(min_size)


_CHECKS = {
    "alpha": lambda value: inputs.check_positive("alpha", value),
    "size": check_size,
    "probability": lambda value: inputs.check_fraction("probability", value),
    "label_smoothing": lambda value: inputs.check_fraction("label_smoothing", value, upper_inclusive=False),
    "per_sample": lambda value: bool(inputs.python_number(value)),
    "fill_value": inputs.python_number,
    "num_classes": lambda value: inputs.check_count("num_classes", value),
    "data_format": inputs.resolve_data_format,
    "bounding_box_format": _check_box_format,
    "min_visibility": lambda value: float(inputs.check_fraction("min_visibility", value)),
    "min_size": _check_min_size,
    "max_boxes": lambda value: inputs.check_count("max_boxes", value),
}


def check_args(**args):
    """Checks the arguments of a mixing function or layer, once, in the order given; returns them as `Args`.

    Numbers may be NumPy scalars; they come back as Python numbers (a layer's config stays JSON-serialisable).
    `data_format=None` becomes `keras.config.image_data_format()`.

    Raises:
        ValueError: Naming the first argument out of range or of the wrong kind.
    """
    return Args(**{name: _CHECKS[name](value) for name, value in args.items()})


def mix_inputs(method, args, images, labels, seed, seed_salt=None):
    """Parses the inputs, draws a mix with `method.sample`, applies it with `method.apply` and packs the result.

    Args:
        method: The `Method`.
        args: Its checked `Args`.
        images: Images, or a dict with "images" and optional "labels", "segmentation_masks", "bounding_boxes".
        labels: Labels beside `images`, or None.
        seed: None, an int or a shape-[2] integer tensor (`sampling.resolve_seed`).
        seed_salt: Optional int32 scalar folded into the seed (a layer's replica id).

    Returns:
        `(outputs, mix)`: the mixed inputs in the form they came in, and the dict the sampler drew.
    """
    if method.mask_error and isinstance(images, dict) and images.get(inputs.MASKS_KEY) is not None:
        raise ValueError(errors.named(method.mask_error))
    batch, pack = inputs.parse(images, labels, args.num_classes, args.label_smoothing, args.data_format)
    batch_size, height, width = inputs.image_size(batch.images, args.data_format)
    box_batch = box_lib.parse_boxes(images, batch.images, args, height, width)
    mix = method.sample(sampling.resolve_seed(seed, seed_salt), batch_size, height, width, args)
    output = pack(method.apply(batch, mix, args))
    if box_batch is not None:
        boxes = box_lib.pack_boxes(method.boxes(box_batch, mix, args), args, height, width)
        output = {**output, inputs.BOXES_KEY: boxes}
    return output, mix
