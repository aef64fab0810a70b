"""The one door to private TensorFlow and Keras internals that have no public equivalent.

Everything else in keras_cutmix uses public API. What is here is needed for speed or for Keras's layer
semantics, and each piece has a test in tf_tests/compat_test.py that fails with a clear message when a
TensorFlow or Keras upgrade removes it. At run time each function degrades to a safe answer instead of
crashing (with one RuntimeWarning): an upgrade costs speed or a convenience, never a wrong mix. This
module imports nothing from keras_cutmix.

- `in_xla_context()`: TF's `control_flow_util.GraphOrParentsInXlaContext` (tensorflow.python).
  Used to pick the CutMix paste that is fastest in each mode; without it the gather paste also runs under
  XLA (same pixels, slower there).
- `is_outermost_call(layer)`: Keras's `Layer._get_call_context().entry_layer`. Used by the mixing layers
  to mix when called on their own (as `keras.layers.CutMix` does) but only in training inside a model;
  without it they mix only when called with `training=True`.
- `keras_hub_non_max_suppression(**kwargs)`: keras-hub's `NonMaxSuppression` layer
  (`keras_hub.src.layers.modeling.non_max_supression`), RetinaNet's decoder, which keras-hub does not
  export. Used to lower RetinaNet's confidence threshold (0.5 by default) for mAP; without it the detector
  keeps keras-hub's default decoder (fewer low-score detections, a lower mAP).

- `producing_layer(tensor, layers)`: Keras's `KerasTensor._keras_history.operation`, the layer whose output
  a symbolic tensor is. Used by `models.common` to name the CAM feature layer; without it the layer is
  found by comparing each of `layers`' outputs with the tensor (same answer, slower on big models).
- `optimizer_variable_index(optimizer, variable, paths)` and `optimizer_decays(optimizer, variable)`:
  Keras's `Optimizer._get_variable_index` and `_use_weight_decay`, which Keras's own optimizers call in
  `update_step`. Used by `training.TorchSGD`; without them the index is found by the variable's path and
  every variable is decayed (Keras's answer when nothing is excluded from weight decay, as in TorchSGD).
- `tfds_data_dirs(data_dir)`: tfds's `tensorflow_datasets.core.utils.file_utils.list_data_dirs`, every
  folder tfds looks in for prepared data. Used in the message of a missing data set; without it the
  message names the builder's own folder only.

- `tf_tensor_inputs(layer)`: Keras's `Layer._convert_input_args` and `_allow_non_tensor_positional_args`,
  which Keras's own `DataLayer` (its preprocessing layers' base) sets to run on TensorFlow tensors inside
  `tf.data` under the JAX or torch backend. Used by the mixing layers under those backends only (with the
  TensorFlow backend, whose tensors are Keras backend tensors, nothing is set); without them the layers
  fail inside `tf.data` under JAX / torch as they did before (the map functions keep working).
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
        warnings.warn(
            f"keras_cutmix.compat: {what} is missing in TensorFlow {tf.__version__} / Keras "
            f"{keras.__version__}; falling back to a safe default. Please report this.",
            RuntimeWarning,
            stacklevel=3,
        )


def in_xla_context():
    """Whether the ops being built will be compiled by XLA (e.g. inside `tf.function(jit_compile=True)`).

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

    Must be called from inside `layer.call`.

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
    """keras-hub's `NonMaxSuppression(**kwargs)`, or None (with one warning) when keras-hub moved it."""
    try:
        from keras_hub.src.layers.modeling.non_max_supression import NonMaxSuppression  # pylint: disable=g-import-not-at-top
    except ImportError:
        _warn_once("keras_hub.src.layers.modeling.non_max_supression.NonMaxSuppression (RetinaNet keeps its "
                   "default decoder)")
        return None
    return NonMaxSuppression(**kwargs)


def producing_layer(tensor, layers):
    """The layer (or nested model) whose output is the symbolic Keras tensor `tensor`.

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

    Grad-CAM follows a model's last layer back to its input only when that layer was called once.

    Args:
        layer: A `keras.layers.Layer`.

    Returns:
        The number of calls, or None when Keras no longer records them (the fallback: callers then
        treat the count as unknown).
    """
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes is not None:
        return len(nodes)
    _warn_once("keras.layers.Layer._inbound_nodes")
    return None


def optimizer_variable_index(optimizer, variable, paths):
    """The position of `variable` among the variables `optimizer` was built with (inside `update_step`).

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

    Args:
        optimizer: A built `keras.optimizers.Optimizer`.
        variable: The variable `update_step` is updating.

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

    What `keras.layers` preprocessing layers do inside `tf.data` under JAX or torch: the inputs are neither
    converted to the backend's tensors nor refused as non-tensor positional arguments.

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
