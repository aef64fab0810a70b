"""The one door to private TensorFlow and Keras internals that have no public equivalent.

Everything else in keras_cutmix uses public API. What is here is needed for speed or for Keras's layer
semantics; each function's docstring names the private piece it reads, who uses it, and the fallback. Each
piece has a test in tf_tests/compat_test.py that fails with a clear message when a TensorFlow or Keras upgrade
removes it; at run time each function then degrades to a safe answer (with one RuntimeWarning) instead of
crashing: an upgrade costs speed or a convenience, never a wrong mix. This module imports nothing from
keras_cutmix.
"""

import contextlib
import warnings

import keras
import tensorflow as tf

try:
    from tensorflow.python.ops.control_flow_util import GraphOrParentsInXlaContext as _graph_in_xla
except ImportError:  # pragma: no cover - exercised by tf_tests/compat_test.py through monkeypatching.
    _graph_in_xla = None

_warned = set()


def _warn_once(what):
    if what not in _warned:
        _warned.add(what)
        warnings.warn(f"keras_cutmix.compat: {what} is missing in TensorFlow {tf.__version__} / Keras "
                      f"{keras.__version__}; falling back to a safe default. Please report this.", RuntimeWarning,
                      stacklevel=3)


def in_xla_context():
    """Whether the ops being built will be compiled by XLA (e.g. inside `tf.function(jit_compile=True)`).

    Reads TF's private `control_flow_util.GraphOrParentsInXlaContext`, to pick the CutMix paste that is
    fastest in each mode; without it the gather paste also runs under XLA (same pixels, slower there).

    Returns:
        True inside an XLA-compiled function (or a function nested in one); False eagerly, in plain graphs,
        and when TensorFlow no longer offers the private check.
    """
    if tf.executing_eagerly():
        return False
    if _graph_in_xla is None:
        _warn_once("tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext")
        return False
    return bool(_graph_in_xla(tf.compat.v1.get_default_graph()))


def is_outermost_call(layer):
    """Whether `layer` is being called on its own rather than by an enclosing layer or model.

    Reads Keras's `Layer._get_call_context().entry_layer`, so that the mixing layers mix when called on their
    own (as `keras.layers.CutMix` does) but only in training inside a model. Must be called inside `layer.call`.

    Args:
        layer: A `keras.layers.Layer` whose `call` is running.

    Returns:
        True when `layer` opened the current Keras call context (e.g. `layer(batch)`, `ds.map(layer)`),
        False when a model or another layer called it. False (the conservative answer: mix only with
        `training=True`) when Keras no longer exposes the call context.
    """
    get_context = getattr(layer, "_get_call_context", None)
    context = get_context() if get_context is not None else None
    if context is None or not hasattr(context, "entry_layer"):
        _warn_once("keras.layers.Layer._get_call_context().entry_layer")
        return False
    return context.entry_layer is layer


def keras_hub_non_max_suppression(**kwargs):
    """keras-hub's unexported `NonMaxSuppression(**kwargs)`, RetinaNet's decoder, or None when keras-hub moved it.

    Used to lower RetinaNet's confidence threshold (0.5 by default) for mAP; without it the detector keeps
    keras-hub's default decoder (fewer low-score detections, a lower mAP).
    """
    try:
        from keras_hub.src.layers.modeling.non_max_supression import (  # pylint: disable=g-import-not-at-top
            NonMaxSuppression)
    except ImportError:
        _warn_once("keras_hub.src.layers.modeling.non_max_supression.NonMaxSuppression (RetinaNet keeps its "
                   "default decoder)")
        return None
    return NonMaxSuppression(**kwargs)


def producing_layer(tensor, layers):
    """The layer (or nested model) whose output is the symbolic Keras tensor `tensor`.

    Reads Keras's `KerasTensor._keras_history.operation` (for `models.common`'s CAM feature layer); without it
    each of `layers`' outputs is compared with the tensor (same answer, slower on big models).

    Args:
        tensor: A `keras.KerasTensor` of a functional graph (e.g. `model.get_layer("head").input`).
        layers: The layers to search when Keras no longer records the tensor's history (`model.layers`).

    Returns:
        The `keras.layers.Layer` (or `keras.Model`) that produced `tensor`, or None when none did.
    """
    history = getattr(tensor, "_keras_history", None)
    if history is not None and hasattr(history, "operation"):
        return history.operation
    _warn_once("keras.KerasTensor._keras_history.operation")
    for layer in layers:
        try:
            if layer.output is tensor:
                return layer
        except (AttributeError, ValueError):  # A layer never called, or called more than once.
            continue
    return None


def call_count(layer):
    """How many times `layer` has been called in functional graphs (its inbound nodes).

    Reads Keras's `Layer._inbound_nodes`: Grad-CAM follows a model's last layer back to its input only when that
    layer was called once.

    Args:
        layer: A `keras.layers.Layer`.

    Returns:
        The number of calls, or None (unknown to callers) when Keras no longer records them.
    """
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes is not None:
        return len(nodes)
    _warn_once("keras.layers.Layer._inbound_nodes")
    return None


def optimizer_variable_index(optimizer, variable, paths):
    """The position of `variable` among the variables `optimizer` was built with (inside `update_step`).

    Reads Keras's `Optimizer._get_variable_index`, which Keras's own optimizers call in `update_step`, for
    `training.TorchSGD`; without it the index is found by the variable's path.

    Args:
        optimizer: A built `keras.optimizers.Optimizer`.
        variable: The variable `update_step` is updating.
        paths: The `path` of each variable the optimizer was built with, in order (for the fallback).

    Returns:
        An int index into the optimizer's per-variable state.
    """
    get_index = getattr(optimizer, "_get_variable_index", None)
    if get_index is None:
        _warn_once("keras.optimizers.Optimizer._get_variable_index (variables are matched by path)")
        return paths.index(variable.path)
    return get_index(variable)


def optimizer_decays(optimizer, variable):
    """Whether weight decay applies to `variable` (False for those `exclude_from_weight_decay` named).

    Reads Keras's `Optimizer._use_weight_decay`, for `training.TorchSGD`; without it every variable is decayed
    (Keras's answer when nothing is excluded from weight decay, as in TorchSGD).

    Args:
        optimizer, variable: As `optimizer_variable_index`.

    Returns:
        A bool; True for every variable when Keras no longer offers the check.
    """
    decays = getattr(optimizer, "_use_weight_decay", None)
    if decays is None:
        _warn_once("keras.optimizers.Optimizer._use_weight_decay (every variable is decayed)")
        return True
    return decays(variable)


def tfds_data_dirs(data_dir):
    """The folders tfds searches for prepared data sets, given the `data_dir` a loader was called with.

    Reads tfds's `core.utils.file_utils.list_data_dirs`, for the message of a missing data set; without it the
    message names the builder's own folder only.

    Args:
        data_dir: The caller's `data_dir`, or None (tfds's default folders).

    Returns:
        A list of folders, or None (with one warning) when tfds no longer offers the private listing.
    """
    try:
        from tensorflow_datasets.core.utils import file_utils  # pylint: disable=g-import-not-at-top
        return list(file_utils.list_data_dirs(data_dir))
    except (ImportError, AttributeError):
        _warn_once("tensorflow_datasets.core.utils.file_utils.list_data_dirs")
        return None


@contextlib.contextmanager
def tf_tensor_inputs(layer):
    """Within the block, `layer(...)` takes TensorFlow tensors as they are under any Keras backend.

    Sets Keras's `Layer._convert_input_args` and `_allow_non_tensor_positional_args` as Keras's own `DataLayer`
    (its preprocessing layers' base) does, so the inputs are neither converted to the backend's tensors nor
    refused as non-tensor positional arguments. The mixing layers use it under JAX and torch only; without it
    they fail inside `tf.data` there (the map functions keep working).

    Args:
        layer: A `keras.layers.Layer` about to be called on TensorFlow tensors.

    Yields:
        Nothing; the layer's settings are restored on exit.
    """
    names = ("_convert_input_args", "_allow_non_tensor_positional_args")
    if not all(hasattr(layer, name) for name in names):
        _warn_once("keras.layers.Layer._convert_input_args / _allow_non_tensor_positional_args")
        yield
        return
    saved = [getattr(layer, name) for name in names]
    layer._convert_input_args, layer._allow_non_tensor_positional_args = False, True
    try:
        yield
    finally:
        for name, value in zip(names, saved):
            setattr(layer, name, value)
