"""Pieces shared by every model: input normalisation, the CAM-ready head, weights.

Every model in `keras_cutmix.models` has the same two ends:

* **Input.** Pixels in `[0, 255]` (uint8 or float). The first layer,
  `layers.PixelNormalization`, casts them to float and computes
  `(x - mean) / std` per channel, so data pipelines never normalise.
* **Output.** `last conv feature map -> GlobalAveragePooling2D -> Dense(head)`,
  giving logits. Because the head is linear on top of global average pooling,
  class activation maps (Zhou et al. 2016) are `features @ head.kernel`; the
  layer whose output is that feature map is named by `cam_feature_layer_name`.

References:
    - [Zhou et al., 2016, Learning Deep Features for Discriminative
      Localization](https://arxiv.org/abs/1512.04150)
"""

import numbers

import keras

from keras_cutmix import compat
from keras_cutmix.models.layers import PixelNormalization

HEAD_NAME = "head"
POOL_NAME = "global_pool"


def check_image_shape(input_shape, *, channels=None):
    """Validates a channels-last `(height, width, channels)` input shape (3 ints; height, width may be `None`).

    Args:
        input_shape: The shape.
        channels: Required channel count, or `None` for any.

    Returns:
        The shape as a tuple.

    Raises:
        ValueError: If the shape is malformed or the data format is not channels-last.
    """
    if keras.config.image_data_format() != "channels_last":
        raise ValueError("keras_cutmix models are channels-last. Expected keras.config.image_data_format() == "
                         f"'channels_last'. Received: {keras.config.image_data_format()!r}")
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if (
        shape is None
        or len(shape) != 3
        or shape[2] is None
        or any(d is not None and (not isinstance(d, int) or d < 1) for d in shape)
    ):
        raise ValueError("Expected `input_shape` = (height, width, channels) with positive ints (height/width may "
                         f"be None). Received: input_shape={input_shape!r}")
    if channels is not None and shape[2] != channels:
        raise ValueError(f"Expected `input_shape` with {channels} channels. Received: input_shape={input_shape!r}")
    return shape


def per_channel(value, channels, arg_name):
    """Broadcasts a scalar or checks a sequence to `channels` floats."""
    if isinstance(value, numbers.Real):
        return [float(value)] * channels
    values = [float(v) for v in value]
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError(f"Expected `{arg_name}` to be a scalar or have one value per channel ({channels}). "
                         f"Received: {arg_name}={value!r}")
    return values


def normalized_input(input_shape, mean, std, *, reverse_channels=False):
    """Creates the model input and normalises it.

    Args:
        input_shape: `(height, width, channels)`.
        mean, std: Scalar or per-channel means and standard deviations on the 0-255 scale.
        reverse_channels: See `PixelNormalization`.

    Returns:
        `(inputs, x)`: the `keras.Input` (float32; uint8 tensors are cast when the model is called) and the
        normalised tensor.
    """
    input_shape = check_image_shape(input_shape)
    channels = input_shape[-1]
    inputs = keras.Input(shape=input_shape, name="pixels")
    x = PixelNormalization(
        per_channel(mean, channels, "mean"),
        per_channel(std, channels, "std"),
        reverse_channels=reverse_channels,
        name="normalize",
    )(inputs)
    return inputs, x


def classification_head(features, num_classes):
    """Global average pooling, then a linear layer named "head" (logits).

    The head computes in the variable dtype (float32 under mixed precision), so logits keep full precision.
    """
    x = keras.layers.GlobalAveragePooling2D(name=POOL_NAME)(features)
    dtype = keras.config.dtype_policy().variable_dtype
    return keras.layers.Dense(num_classes, name=HEAD_NAME, dtype=dtype)(x)


def finish_model(inputs, features, num_classes, name):
    """Adds the head to `features` and records the CAM feature layer."""
    model = keras.Model(inputs, classification_head(features, num_classes), name=name)
    model.cam_feature_layer = compat.producing_layer(features, model.layers).name
    return model


def cam_feature_layer_name(model):
    """Returns the name of the layer whose output is the last conv feature map.

    Uses `model.cam_feature_layer` if set (by `get_model`), else follows the graph back from the `"head"` layer
    through the global pooling layer, so it also works on models reloaded from a `.keras` file.

    Args:
        model: A functional `keras.Model` ending in `GlobalAveragePooling2D -> Dense(name="head")`.

    Returns:
        The layer name; `model.get_layer(name).output` is the 4-D feature map `[batch, height, width, channels]`.

    Raises:
        ValueError: If the model has no such tail.
    """
    name = getattr(model, "cam_feature_layer", None)
    if isinstance(name, str):
        return name
    try:
        pool = compat.producing_layer(model.get_layer(HEAD_NAME).input, model.layers)
        if not isinstance(pool, keras.layers.GlobalAveragePooling2D):
            raise ValueError(f"layer before 'head' is {type(pool).__name__}")
        return compat.producing_layer(pool.input, model.layers).name
    except (ValueError, AttributeError) as error:
        raise ValueError("Expected `model` to end in GlobalAveragePooling2D -> Dense(name='head'). "
                         f"Received: model={model.name!r} ({error})") from error


def at_input_size(classifier, image_size):
    """`classifier` rebuilt for `image_size` x `image_size` inputs, with its weights (convs do not care).

    Backbones are pretrained on the classification data's image size (64 on the embedded data); detectors
    and captioners see their own.
    """
    if tuple(classifier.input_shape[1:3]) == (image_size, image_size):
        return classifier
    clone = keras.models.clone_model(classifier, input_tensors=keras.Input((image_size, image_size, 3)))
    clone.set_weights(classifier.get_weights())
    return clone
