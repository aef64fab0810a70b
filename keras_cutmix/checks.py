"""The evaluation APIs' one validation home: counts, fractions, class ids, probabilities, scores, boxes, maps.

`keras_cutmix.mixing.inputs` checks what the mixing core takes; this module checks what the evaluation APIs
take (`localization`, `robustness`, `ood`, `detection`, `captioning`), before any work, and holds the package's
one rule for telling logits from probabilities (`outputs_logits`). Each check returns the value in the form the
caller computes with (a Python number, a NumPy array) or raises `ValueError` (`TypeError` for a value of the
wrong kind) naming the caller and the argument, what was expected and what was received, and, where a value
looks like another convention (a percentage, pixels, normalised coordinates, logits, one-hot rows), which and
how to convert it. NumPy scalars are accepted wherever a Python number is, as in the mixing core. Every check
takes `name` (the argument's name), the value given, and `caller` (the public function's name); `name` and
`caller` serve the message only. This module imports nothing from keras_cutmix's experiment packages: every
layer of the package may use it.
"""

import numbers

import keras
import numpy as np

from keras_cutmix.mixing.inputs import python_number


def _kind(value):
    return type(value).__name__


def _real(value):
    """Whether `value` is a finite real number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


def _shape_error(name, array, caller, expected):
    return ValueError(f"{caller}: Expected `{name}` {expected}. Received: {name}.shape={array.shape}")


def _span_error(name, array, caller, expected):
    return ValueError(f"{caller}: Expected `{name}` {expected}. Received: {name} in [{array.min():g}, "
                      f"{array.max():g}]")


def count(name, value, caller, *, minimum=1, allow_none=False):
    """`value` as a Python int >= `minimum` (a NumPy integer included).

    Args:
        minimum: Smallest accepted value. Defaults to 1.
        allow_none: Whether None passes through. Defaults to False.

    Returns:
        A Python int (or None when allowed).

    Raises:
        ValueError: for anything else (bools and whole floats included).
    """
    value = python_number(value)
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        none = "None or " if allow_none else ""
        raise ValueError(f"{caller}: Expected `{name}` to be {none}an int >= {minimum}. Received: {name}={value!r}")
    return int(value)


def fraction(name, value, caller, *, open_low=False, open_high=False):
    """`value` as a Python float in [0, 1] (ends open as asked), with a hint when it looks like a percentage.

    Args:
        open_low: Exclude 0. Defaults to False.
        open_high: Exclude 1. Defaults to False.

    Returns:
        A Python float.

    Raises:
        ValueError: for a value outside the interval or not a finite number.
    """
    value = python_number(value)
    interval = ("(" if open_low else "[") + "0, 1" + (")" if open_high else "]")
    inside = _real(value) and (value > 0 if open_low else value >= 0) and (value < 1 if open_high else value <= 1)
    if not inside:
        percent = _real(value) and 2 <= value <= 100
        hint = f" ({value!r} looks like a percentage: pass {value / 100:g})" if percent else ""
        raise ValueError(f"{caller}: Expected `{name}` to be a fraction in {interval}{hint}. "
                         f"Received: {name}={value!r}")
    return float(value)


def fractions(name, values, caller, *, open_low=False, open_high=False):
    """A non-empty sequence of fractions (see `fraction`) as a tuple of Python floats."""
    if isinstance(values, (str, bytes)) or not np.iterable(values):
        raise ValueError(f"{caller}: Expected `{name}` to be a sequence of fractions in [0, 1]. "
                         f"Received: {name}={values!r}")
    values = tuple(values)
    if not values:
        raise ValueError(f"{caller}: Expected `{name}` to hold at least one fraction. Received: {name}=()")
    return tuple(fraction(f"{name}[{i}]", v, caller, open_low=open_low, open_high=open_high)
                 for i, v in enumerate(values))


def _array(name, value, caller, dtype=None):
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{caller}: Expected `{name}` to be an array. Received: {name} of type {_kind(value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{caller}: Expected `{name}` to be an array. Received: {name} of type {_kind(value)} "
                        f"({error})") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{caller}: Expected a numeric `{name}`. Received: {name}.dtype={array.dtype}")
    return array.astype(dtype) if dtype is not None else array


def _finite(name, array, caller):
    if array.size and not np.all(np.isfinite(array)):
        raise ValueError(f"{caller}: Expected finite `{name}`. Received: {int(np.sum(~np.isfinite(array)))} "
                         f"NaN or infinite values in {name}")
    return array


def _ids(name, array, caller, *, whole, upper, bound):
    """Finite `array` as int64 after checking it is whole (`whole`: the expectation) and in [0, `upper`)."""
    if array.size and np.issubdtype(array.dtype, np.floating) and np.any(array != np.floor(array)):
        raise ValueError(f"{caller}: Expected {whole}. Received: {name} with fractional values, e.g. "
                         f"{array[array != np.floor(array)][0]!r}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or (upper is not None and array.max() >= upper)):
        raise ValueError(f"{caller}: Expected `{name}` in {bound}. Received: {name} in [{array.min()}, {array.max()}]")
    return array


def class_ids(name, labels, caller, *, num_classes=None, length=None):
    """Class ids as an int64 array [N], from ids [N] or [N, 1] (integers or whole floats) or one-hot rows [N, K].

    Args:
        num_classes: Ids must be < this (and one-hot rows this wide) when given. Defaults to None.
        length: The number of examples the caller expects (e.g. the images' batch size). Defaults to None.

    Returns:
        An int64 array [N].

    Raises:
        ValueError: for another shape, ids out of range or not whole, soft rows (not one-hot), or a length
            other than `length`.
    """
    given = array = _array(name, labels, caller)
    expected = "as class ids [N] or [N, 1], or one-hot rows [N, K]"
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2:  # One-hot rows: exactly one 1 per row, zeros elsewhere.
        if num_classes is not None and array.shape[1] != num_classes:
            raise _shape_error(name, array, caller, f"as class ids [N] or one-hot rows [N, {num_classes}]")
        one_hot = array.size and np.all((array == 0) | (array == 1)) and np.all(array.sum(axis=1) == 1)
        if not one_hot and array.shape[0]:
            raise _shape_error(name, array, caller, f"{expected}; rows that are not one-hot (soft or multi-label) "
                               "name no single class")
        array = np.argmax(array, axis=1) if array.shape[0] else np.zeros([0], np.int64)
    if array.ndim != 1:
        raise _shape_error(name, given, caller, expected)
    _finite(name, array.astype(np.float64) if array.dtype != bool else array, caller)
    bound = f"[0, num_classes={num_classes})" if num_classes is not None else "[0, ...)"
    array = _ids(name, array, caller, whole=f"`{name}` to hold whole-number class ids", upper=num_classes,
                 bound=bound)
    if length is not None and array.shape[0] != length:
        raise ValueError(f"{caller}: Expected {length} `{name}`, one per example. Received: {array.shape[0]}")
    return array


def probabilities(name, values, caller, *, atol=1e-3):
    """Class probabilities [N, K] (rows in [0, 1] summing to 1) as float64, with a hint for logits.

    Args:
        atol: Tolerance of the row sums (float32 softmax rows sum to 1 within ~1e-6). Defaults to 1e-3.

    Returns:
        A float64 array [N, K].

    Raises:
        ValueError: for another rank, non-finite values, or rows that are not probabilities.
    """
    array = _finite(name, _array(name, values, caller, np.float64), caller)
    if array.ndim != 2 or array.shape[1] < 2:
        raise _shape_error(name, array, caller, "as class probabilities [N, num_classes >= 2]")
    if array.size and not are_probabilities(array, atol=atol):
        raise ValueError(f"{caller}: Expected `{name}` to be probabilities (rows in [0, 1] summing to 1); these "
                         f"look like logits: apply a softmax first. Received: {name} in [{array.min():.4g}, "
                         f"{array.max():.4g}], row sums in [{array.sum(axis=1).min():.4g}, "
                         f"{array.sum(axis=1).max():.4g}]")
    return array


def scores(name, values, caller):
    """One finite score per example as float64 [N] (from [N] or [N, 1]).

    Raises:
        ValueError: for [N, K > 1] (class probabilities are not scores: take e.g. their maximum), other
            ranks, or non-finite values.
    """
    array = _array(name, values, caller, np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise _shape_error(name, array, caller, "to hold one score per example, shape [N] or [N, 1] (for class "
                           "probabilities [N, K], pass e.g. their maximum per row)")
    return _finite(name, array, caller)


def boxes(name, values, caller, *, normalized, image_size=None, allow_empty_boxes=True, whole=False,
          inclusive=False):
    """Boxes [..., 4] as float64, checked against the caller's coordinate convention.

    Boxes are `(low, low, high, high)` pairs along two axes (e.g. `[ymin, xmin, ymax, xmax]`), so the check is
    order-free: each high must be >= its low.

    Args:
        values: The boxes given, any leading shape, last axis 4.
        normalized: True for fractions of the image side ([0, 1]), False for pixels, None for either (a
            scale-free computation such as IoU: only the shape, finiteness and order are checked).
        image_size: `(height, width)`, or one side, for pixel boxes; the larger bounds every coordinate.
            Defaults to None.
        allow_empty_boxes: Whether zero-width or zero-height boxes pass. Defaults to True.
        whole: Whether pixel coordinates must be whole numbers (integer pixel grids, e.g. wsolevaluation's
            `+ 1` areas). Defaults to False.
        inclusive: Whether the high corner is an inclusive pixel index, so that a side is `high - low + 1`
            (the VOC devkit's convention): then a box is inverted when `high < low - 1` and empty when
            `high == low - 1`. Defaults to False.

    Returns:
        A float64 array of the boxes.

    Raises:
        ValueError: for a last axis other than 4, non-finite or inverted boxes, normalised boxes outside
            [0, 1] (they look like pixels), pixel boxes that all lie within [0, 1] with fractional values
            (they look normalised), that leave the image, or fractional pixels where `whole` is asked.
    """
    array = _finite(name, _array(name, values, caller, np.float64), caller)
    if array.ndim < 1 or array.shape[-1] != 4:
        raise _shape_error(name, array, caller, "with a last axis of 4 coordinates")
    if not array.size:
        return array
    sides = array[..., 2:] - array[..., :2] + (1.0 if inclusive else 0.0)
    wrong = (sides < 0) | ((sides == 0) & (not allow_empty_boxes))
    if np.any(wrong):
        bad = array[np.any(wrong, axis=-1)][0]
        what = "inverted or empty" if not allow_empty_boxes else "inverted"
        order = "high >= low - 1 (inclusive pixel corners)" if inclusive else "high >= low"
        raise ValueError(f"{caller}: Expected `{name}` as (low, low, high, high) with {order}"
                         f"{'' if allow_empty_boxes else ' and a non-zero size'}. Received: {what} boxes, e.g. "
                         f"{bad.tolist()}")
    if normalized and (array.min() < 0 or array.max() > 1):
        raise _span_error(name, array, caller, "normalised to [0, 1] (fractions of the image side); these look "
                          "like pixels: divide by the image size")
    if normalized is False:
        if array.max() <= 1 and np.any(array != np.round(array)):
            raise _span_error(name, array, caller, "in pixels; these look normalised to [0, 1]: multiply by the "
                              "image size")
        if image_size is not None:
            limit = float(np.max(image_size))
            if array.min() < 0 or array.max() > limit:
                raise _span_error(name, array, caller, f"within the image (pixels in [0, {limit:g}])")
        if whole and np.any(array != np.round(array)):
            bad = array[np.any(array != np.round(array), axis=-1)][0]
            raise ValueError(f"{caller}: Expected `{name}` in whole pixels. Received: fractional coordinates, "
                             f"e.g. {bad.tolist()}")
    return array


def maps(name, values, caller, *, dtype=np.float32):
    """Score maps [N, H, W] (a single [H, W] map becomes [1, H, W]) as float32 (or `dtype`), finite.

    `dtype=None` keeps the maps' own numeric dtype (for computations that must follow it, e.g.
    wsolevaluation's quantisation of float64 maps).

    Raises:
        ValueError: for another rank, an empty map, or non-finite values.
    """
    array = _array(name, values, caller, dtype)
    array = array[None] if array.ndim == 2 else array
    if array.ndim != 3 or (array.shape[0] and 0 in array.shape[1:]):
        raise _shape_error(name, array, caller, "as maps [N, H, W] (or one map [H, W])")
    return _finite(name, array, caller)


def masks(name, values, caller, *, like=None):
    """Binary masks [N, H, W] (bool, or 0 / 1 numbers) as bool, shaped like `like` when given.

    Raises:
        ValueError: for values other than 0 and 1, another rank, or a shape other than `like`'s.
    """
    array = _array(name, values, caller)
    array = array[None] if array.ndim == 2 else array
    if array.ndim != 3:
        raise _shape_error(name, array, caller, "as masks [N, H, W] (or one mask [H, W])")
    if array.dtype != bool:
        if array.size and not np.all((array == 0) | (array == 1)):
            raise ValueError(f"{caller}: Expected binary `{name}` (bool, or 0 and 1). Received: values in "
                             f"[{array.min()}, {array.max()}]")
        array = array.astype(bool)
    if like is not None and array.shape != tuple(like):
        raise _shape_error(name, array, caller, f"of shape {tuple(like)}, one per map")
    return array


def _activation_name(layer):
    return getattr(getattr(layer, "activation", None), "__name__", None)


def outputs_logits(model, outputs=None, *, atol=1e-3):
    """The package's one rule: does `model` output logits (True) or class probabilities (False)?

    Read from the last layer (inside nested models): a `Softmax` layer or a softmax / sigmoid `activation`
    means probabilities, a linear `Dense` or `Conv2D` logits; any other last layer (a `Lambda`, a subclassed
    model's `call`) leaves it to `outputs`, where rows in [0, 1] summing to 1 are probabilities.

    Args:
        model: A `keras.Model`.
        outputs: The model's outputs [N, K] on a batch, used when the structure is silent. Defaults to None.
        atol: Tolerance of the row sums. Defaults to 1e-3.

    Returns:
        True for logits, False for probabilities.

    Raises:
        ValueError: when the structure is silent and no `outputs` are given (pass `from_logits`).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a keras.Model. Received: model of type {_kind(model)}")
    # Functional and Sequential models have symbolic `outputs`; a subclassed model's `call` says nothing.
    structured = bool(getattr(model, "outputs", None))
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    last = layers[-1] if structured and layers else None
    if isinstance(last, keras.Model):
        return outputs_logits(last, outputs, atol=atol)
    if isinstance(last, keras.layers.Softmax) or _activation_name(last) in ("softmax", "sigmoid"):
        return False
    if isinstance(last, (keras.layers.Dense, keras.layers.Conv2D)) and _activation_name(last) == "linear":
        return True
    if outputs is None:
        raise ValueError(
            f"Cannot tell whether {model.name!r} outputs logits or probabilities from its last layer "
            f"({_kind(last) if last is not None else 'a subclassed call'}); pass `from_logits=True` or False.")
    return not are_probabilities(outputs, atol=atol)


def are_probabilities(values, *, atol=1e-3):
    """Whether `values` [..., K] are class probabilities (every row in [0, 1], summing to 1 within `atol`).

    `outputs_logits`'s reading of outputs, for callers with outputs but no model (e.g. a detector's scores).

    Args:
        values: Outputs [..., K], K >= 2.
        atol: Tolerance of the row sums. Defaults to 1e-3.

    Returns:
        A Python bool (False for empty input).
    """
    array = np.asarray(values, np.float64)
    rows = array.reshape(-1, array.shape[-1]) if array.ndim else array.reshape(1, 1)
    return bool(rows.size > 0 and rows.min() >= 0 and rows.max() <= 1
                and np.abs(rows.sum(axis=-1) - 1).max() <= atol)


def keras_model(value, caller):
    """Raises TypeError unless `value` (the argument `model`) is a `keras.Model` (it is called, compiled and
    cached per model)."""
    if not isinstance(value, keras.Model):
        raise TypeError(f"{caller}: Expected `model` to be a keras.Model. Received: model of type "
                        f"{type(value).__name__}")


def flag(name, value, caller, *, allow_none=False):
    """`value` as a Python bool (a NumPy bool included), or None when allowed.

    Raises:
        ValueError: for anything else (0 and 1, strings included).
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        none = "None, " if allow_none else ""
        raise ValueError(f"{caller}: Expected `{name}` to be {none}True or False. Received: {name}={value!r}")
    return bool(value)


def number(name, value, caller, *, minimum=None):
    """`value` as a finite Python float (a NumPy number included), >= `minimum` when given.

    Raises:
        ValueError: for anything else (bools, strings, NaN, infinities included).
    """
    value = python_number(value)
    if not _real(value) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{caller}: Expected `{name}` to be a finite number{bound}. Received: {name}={value!r}")
    return float(value)


def integer_array(name, values, caller, *, ndim, upper=None):
    """Integer ids (e.g. token ids) of rank `ndim` in [0, `upper`) as int64; whole floats accepted.

    Raises:
        TypeError: for a value that is not a numeric array.
        ValueError: for another rank, values that are not whole, or ids out of range.
    """
    array = _finite(name, _array(name, values, caller), caller)
    if array.ndim != ndim:
        raise _shape_error(name, array, caller, f"of rank {ndim}")
    bound = f"[0, {upper})" if upper is not None else ">= 0"
    return _ids(name, array, caller, whole=f"whole-number `{name}`", upper=upper, bound=bound)


def pixel_images(name, values, caller, *, shape=None):
    """Images `[B, H, W, C]` of pixels in [0, 255] (uint8 or float) as float32, with hints for other scales.

    Args:
        shape: The model's `(H, W, C)`; None entries take any size. Defaults to None.

    Returns:
        A float32 array `[B, H, W, C]`.

    Raises:
        ValueError: for another rank or shape, non-finite values, values outside [0, 255] (preprocessed
            images), or images within [0, 1] with fractional values (they look scaled to [0, 1]).
    """
    array = _finite(name, _array(name, values, caller, np.float32), caller)
    expected = "[batch, " + ", ".join("any" if s is None else str(s) for s in shape) + "]" if shape else "rank 4"
    if array.ndim != 4 or (shape and any(s is not None and s != a for s, a in zip(shape, array.shape[1:]))):
        one = " (for one image, add a batch axis: images[None])" if shape and array.ndim == 3 else ""
        raise _shape_error(name, array, caller, f"of shape {expected}{one}")
    if array.size and (array.min() < 0 or array.max() > 255):
        raise _span_error(name, array, caller, "as pixels in [0, 255] (the models scale them themselves); these "
                          "look preprocessed")
    if array.size and array.max() <= 1 and np.any(array != np.round(array)):
        raise _span_error(name, array, caller, "as pixels in [0, 255]; these look scaled to [0, 1]: multiply by 255")
    return array


def images(name, values, caller, *, unit_range=False):
    """A batch of images [N, H, W, C] as a NumPy array, finite; float32 in [0, 1] when `unit_range`.

    Args:
        values: The images given (NumPy array, tensor or nested lists).
        unit_range: Whether pixels must lie in [0, 1] (then returned as float32). Defaults to False (any
            scale, the array's own dtype).

    Returns:
        A NumPy array [N, H, W, C].

    Raises:
        ValueError: for another rank, non-finite values, or, with `unit_range`, pixels outside [0, 1]
            (with a hint when they look like [0, 255] pixels).
    """
    array = _finite(name, _array(name, values, caller), caller)
    if array.ndim != 4:
        raise _shape_error(name, array, caller, "of shape [batch, height, width, channels]")
    if not unit_range:
        return array
    if array.size and (array.min() < 0 or array.max() > 1):
        hint = " (these look like [0, 255] pixels: divide by 255)" if array.min() >= 0 and array.max() <= 255 else ""
        raise _span_error(name, array, caller, f"in [0, 1]{hint}")
    return array.astype(np.float32)


def verbosity(name, value, caller):
    """A Keras verbosity: "auto", 0, 1 or 2 (a NumPy integer included), returned as given or as a Python int.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(value, str) and value == "auto":
        return value
    number = python_number(value)
    if isinstance(number, bool) or not isinstance(number, numbers.Integral) or number not in (0, 1, 2):
        raise ValueError(f"{caller}: Expected `{name}` to be 'auto', 0, 1 or 2 (Keras verbosity). Received: "
                         f"{name}={value!r}")
    return int(number)
