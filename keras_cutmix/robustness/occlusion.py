"""Centre and boundary occlusion (the paper's Figure 5a), and top-1 accuracy against the hole size.

    holed = occlude(images, 16, mode="center")     # a centred 16 x 16 hole of zeros
    framed = occlude(images, 16, mode="boundary")  # zeros everywhere but the centred 16 x 16 square
    accuracy = occlusion_accuracy(model, images, labels, sizes=range(0, 33, 4), mode="center")

**Centring rule.** The square of side `size` in an `H x W` image has its top-left corner at `((H - size) // 2,
(W - size) // 2)` and is end-exclusive, so when `H - size` is odd the spare row goes below the square (and the spare
column to its right): a 2 x 2 square in a 5 x 5 image covers rows and columns 1 and 2. `size` runs from 0 to
`max(H, W)`; a side longer than the image's is clipped to it (so in a non-square image the square becomes a centred
band). Size 0: "center" leaves the images unchanged and "boundary" zeroes them; size `max(H, W)`: the reverse.

The masks come from the mixing core's pure appliers (`apply.erase_boxes` for the hole, `apply.box_masks` for the kept
square), so the box convention is Cutout's and CutMix's. Images keep their dtype; NumPy in gives NumPy out, tensors
give tensors (also inside `tf.function` and `tf.data`).

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), Section 4.4 and Figure 5a: "center occlusion by
      filling zeros in a center hole and boundary occlusion by filling zeros outside of the hole", hole size 0 to 224.
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.mixing import apply, inputs
from keras_cutmix.robustness import predict as predict_lib

MODES = ("center", "boundary")


def centred_box(height, width, size):
    """The centred `size x size` square as an int32 box `[1, 4]` (y0, x0, y1, x1), clipped to the image.

    Args:
        height, width: The image's size (ints or int32 scalar tensors).
        size: Side of the square, an int >= 0.

    Returns:
        int32 tensor `[1, 4]`, top-left at `((height - size) // 2, (width - size) // 2)`.

    Raises:
        ValueError: For a number (not a tensor) that is not an int, a side < 1 or a size < 0.
    """
    for name, value, minimum in (("height", height, 1), ("width", width, 1), ("size", size, 0)):
        if not tf.is_tensor(value):
            checks.count(name, value, "centred_box", minimum=minimum)
    height, width, size = (tf.cast(value, tf.int32) for value in (height, width, size))
    y0, x0 = (height - size) // 2, (width - size) // 2
    box = tf.stack([y0, x0, y0 + size, x0 + size])
    return tf.clip_by_value(box, 0, tf.stack([height, width, height, width]))[None, :]


def check_side(name, value, height, width, caller):
    """Returns `value` as a Python int; raises ValueError unless 0 <= value <= max(height, width) (if known)."""
    value = inputs.python_number(value)
    limit = None if height is None or width is None else max(height, width)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (limit is not None and value > limit):
        upper = f", at most the image side {limit}" if limit is not None else ""
        raise ValueError(f"{caller}: Expected `{name}` to be an int >= 0{upper}. Received: {name}={value!r}")
    return value


def occlude(images, size, mode="center"):
    """Zeroes a centred `size x size` hole ("center") or everything outside it ("boundary").

    Args:
        images: `[B, H, W, C]` NumPy array or tensor, any dtype.
        size: Side of the centred square in pixels, an int from 0 to `max(H, W)` (clipped to the image).
        mode: `"center"` (zeros inside the square) or `"boundary"` (zeros outside it). Defaults to `"center"`.

    Returns:
        The occluded images, of the input's dtype; a NumPy array for NumPy input, else a tensor.

    Raises:
        ValueError: For images not 4-D, a bad `size` or an unknown `mode`.
    """
    caller = "occlude"
    if mode not in MODES:
        raise ValueError(f"{caller}: Expected `mode` to be one of {MODES}. Received: mode={mode!r}")
    as_numpy = not tf.is_tensor(images)
    tensor = tf.convert_to_tensor(checks.images("images", images, caller) if as_numpy else images)
    if tensor.shape.rank != 4:
        raise ValueError(f"{caller}: Expected `images` of shape [batch, height, width, channels]. "
                         f"Received: images.shape={tensor.shape}")
    size = check_side("size", size, tensor.shape[1], tensor.shape[2], caller)
    result = _occlude(tensor, size, mode)
    return result.numpy() if as_numpy else result


def _occlude(tensor, size, mode):
    height, width = tf.shape(tensor)[1], tf.shape(tensor)[2]
    box = centred_box(height, width, size)
    if mode == "center":
        return apply.erase_boxes(tensor, box, fill_value=0)
    kept = apply.box_masks(box, height, width)[:, :, :, None]
    return tf.where(kept, tensor, tf.zeros([], tensor.dtype))


def occlusion_accuracy(model, images, labels, sizes, mode="center", *, pixel_scale=255.0, batch_size=128,
                       progress=None):
    """Top-1 accuracy of `model` on `occlude(images, size, mode)` for each size in `sizes`.

    Args:
        model: A `keras.Model` classifier whose (first) output is `[B, num_classes]`.
        images: `[B, H, W, C]` images in `[0, 1]` (NumPy or tensor).
        labels: Class ids `[B]` or `[B, 1]` (ints or whole floats), or one-hot rows `[B, K]`, in `[0, num_classes)`.
        sizes: A sequence of hole sides, each as `occlude`'s `size`.
        mode: `"center"` or `"boundary"`. Defaults to `"center"`.
        pixel_scale: The model receives `images * pixel_scale`. Defaults to 255.0 (`keras_cutmix.models`).
        batch_size: Images per compiled call. Defaults to 128.
        progress: None, or what counts the work (`keras.utils.Progbar`): its `add(n)` is told the images
            predicted, one unit per image and size. Defaults to None.

    Returns:
        float64 NumPy array `[len(sizes)]` of accuracies in `[0, 1]` (NaN for no image).

    Raises:
        ValueError: As `occlude` and `predicted_classes`, for images outside `[0, 1]`, or labels of another
            shape or outside the model's classes (`keras_cutmix.checks.class_ids`).
    """
    caller = "occlusion_accuracy"
    checks.keras_model(model, caller)
    images = predict_lib.check_images(images, caller)
    pixel_scale = predict_lib.check_pixel_scale(pixel_scale, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    truth = predict_lib.class_ids(model, images, labels, pixel_scale, caller)
    if mode not in MODES:
        raise ValueError(f"{caller}: Expected `mode` to be one of {MODES}. Received: mode={mode!r}")
    if isinstance(sizes, (str, bytes)) or not np.iterable(sizes):
        raise ValueError(f"{caller}: Expected `sizes` to be a sequence of square sides. Received: sizes={sizes!r}")
    sizes = [check_side(f"sizes[{i}]", size, images.shape[1], images.shape[2], caller) for i, size in enumerate(sizes)]
    correct = np.zeros([len(sizes)], np.int64)
    for begin in range(0, len(images), batch_size):
        chunk = tf.constant(images[begin:begin + batch_size])
        for index, size in enumerate(sizes):
            predictions = predict_lib.predictions(model, _occlude(chunk, size, mode).numpy(), pixel_scale, batch_size,
                                                  progress)
            correct[index] += int(np.sum(predictions == truth[begin:begin + batch_size]))
    return correct / len(images) if len(images) else np.full([len(sizes)], np.nan)
