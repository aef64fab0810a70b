"""The loss wrapper that lets a mixing layer inside a model train on the targets it mixed.

A layer inside a model sees only the images, but the targets must be mixed with the same partners and
weights. In each training step the layer records its mix (partner indices and label weights; "no mix" in
evaluation) under the layer object itself (so two layers of one name, in two models, or a layer renamed
after `mixed_loss`, never read each other's records), per thread (each `tf.distribute` replica runs in its
own thread) and per graph (so a record from another traced function is never used). `MixedLoss`, made by
`layer.mixed_loss(loss)`, reads that record in the same step, mixes `y_true` and calls the wrapped loss; one
loaded from a config knows only its layer's name and reads the latest record of a layer of that name. How
`y_true` is read (class ids, binary, multi-label or regression targets) and checked is
`keras_cutmix.mixing.labels`'s.
"""

import threading
import warnings
import weakref

import keras
import tensorflow as tf

from keras_cutmix.mixing import apply as apply_ops
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import labels as labels_lib

_records = threading.local()
_wrapped_layers = weakref.WeakSet()  # Layers whose `mixed_loss` was called.
_losses_by_name = weakref.WeakSet()  # Live losses loaded from a config: they follow a layer name, not an object.


def _current_graph():
    return None if tf.executing_eagerly() else tf.compat.v1.get_default_graph()


def record_mix(layer, mix):
    """Records the mix `layer` applied in this step (None: it did not mix), for its `MixedLoss`."""
    if not hasattr(_records, "by_layer"):
        _records.by_layer = weakref.WeakKeyDictionary()  # Layer -> (graph, mix); a record dies with its layer.
    _records.by_layer.pop(layer, None)  # Re-inserted: the latest record comes last.
    _records.by_layer[layer] = (_current_graph(), mix)


def _record(layer):
    """`(found, mix)`: the record of `layer` (or of the latest layer of that name) in this thread and graph."""
    records = getattr(_records, "by_layer", {})
    if isinstance(layer, str):
        layer = next((key for key in reversed(list(records.keys())) if key.name == layer), None)
    graph, mix = records.get(layer, (False, None)) if layer is not None else (False, None)
    return graph is _current_graph(), mix


def current_mix(layer):
    """The mix recorded by `layer` (or a layer of that name) in this thread and graph, or None."""
    found, mix = _record(layer)
    return mix if found else None


class _FunctionLoss(keras.losses.Loss):
    """A loss function (e.g. `keras.losses.mean_squared_error`) as a `Loss` with a reduction."""

    def __init__(self, fn, reduction, dtype):
        super().__init__(name=fn.__name__, reduction=reduction, dtype=dtype)
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


def _dense_equivalent(loss, reduction, dtype):
    """`loss` as a `Loss` instance that takes dense targets (mixed targets are dense), keeping its settings."""
    if loss is keras.losses.sparse_categorical_crossentropy:
        loss = keras.losses.categorical_crossentropy
    if not isinstance(loss, keras.losses.Loss):
        return _FunctionLoss(loss, reduction, dtype)
    if isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        return keras.losses.CategoricalCrossentropy(
            from_logits=loss.get_config()["from_logits"], reduction=loss.reduction, name=loss.name, dtype=loss.dtype)
    return loss


@keras.saving.register_keras_serializable(package="keras_cutmix")
class MixedLoss(keras.losses.Loss):
    """Scores predictions against the targets that a mixing layer mixed in the current training step.

    Made by `CutMix.mixed_loss(loss)` (or `MixUp`'s). Targets are read and checked by the rules of
    `keras_cutmix.mixing.labels` (`loss_targets`; class ids out of range raise, or give NaN under XLA).
    Where the layer mixed in this step, they are smoothed with its `label_smoothing` (class targets only) and
    mixed with its partners and weights; then the wrapped loss scores them with all its own settings
    (`reduction`, `from_logits`, `label_smoothing`, `axis`, `sample_weight`), a sparse categorical loss as
    the categorical one. When nothing is mixed (evaluation, a draw that mixed nothing) the value is the
    wrapped loss's own, up to float rounding. In a traced step (e.g. `fit`) in which its layer did not run,
    the layer is not in the model being trained and the targets cannot be mixed: the loss warns once.

    Args:
        loss: A Keras loss: name, function or `keras.losses.Loss` instance.
        layer_name: Name of the mixing layer whose mixes to follow (when `layer` is not given).
        num_classes: Number of classes for class ids. Defaults to the width of `y_pred`.
        label_smoothing: The layer's label smoothing, applied to class targets in training before mixing.
        name: Name of the loss. Defaults to "mixed_" and the wrapped loss's name.
        reduction: Keras reduction of a loss given as a name or function. Defaults to
            "sum_over_batch_size". A `keras.losses.Loss` instance keeps its own reduction.
        dtype: Dtype of a loss given as a name or function. Defaults to Keras's float type.
        layer: The layer object, when made by `layer.mixed_loss`: the loss then follows that layer, whatever
            its name (and silences its "unwrapped" warning).

    Raises:
        ValueError: for something that is not a Keras loss, a wrapped loss with `ignore_class` set (a mixed
            target holds two classes: it cannot be ignored as one), or a `reduction` that contradicts the
            wrapped instance's.
    """

    def __init__(self, loss, layer_name, num_classes=None, label_smoothing=0.0, name=None,
                 reduction="sum_over_batch_size", dtype=None, layer=None):
        wrapped = keras.losses.get(loss)
        if wrapped is None:
            raise ValueError(f"Expected a Keras loss (name, function or Loss). Received: loss={loss!r}")
        if isinstance(wrapped, keras.losses.Loss):
            if reduction not in ("sum_over_batch_size", wrapped.reduction):
                raise ValueError(
                    f"MixedLoss: Expected `reduction` to be left out (the wrapped loss keeps its own, "
                    f"{wrapped.reduction!r}). Received: reduction={reduction!r}")
            reduction = wrapped.reduction
            dtype = dtype or wrapped.dtype
        ignore_class = getattr(wrapped, "ignore_class", None)
        if ignore_class is not None:
            raise ValueError(
                "MixedLoss: `ignore_class` cannot apply to mixed targets (a mixed target holds two classes). "
                f"Expected ignore_class=None. Received: ignore_class={ignore_class!r}")
        base_name = getattr(wrapped, "name", None) or getattr(wrapped, "__name__", "loss")
        super().__init__(name=name or f"mixed_{base_name}", reduction=reduction, dtype=dtype)
        self.wrapped_loss = wrapped
        self.base_loss = _dense_equivalent(wrapped, reduction, dtype)
        self.sparse = wrapped is keras.losses.sparse_categorical_crossentropy or isinstance(
            wrapped, keras.losses.SparseCategoricalCrossentropy)
        self._layer_name = layer_name
        self._layer = layer
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self._warned_missing_layer = False
        if layer is not None:
            _wrapped_layers.add(layer)
        else:
            _losses_by_name.add(self)

    @property
    def layer_name(self):
        """The name of the followed layer: its current name when made by `layer.mixed_loss`."""
        return self._layer_name if self._layer is None else self._layer.name

    def _followed(self):  # The layer object, or its name for a loss loaded from a config.
        return self._layer_name if self._layer is None else self._layer

    def targets(self, y_true, y_pred):
        """The targets the wrapped loss scores in this step: dense, and mixed if the layer mixed.

        Args:
            y_true: Targets as the data gives them (their dtype is one of the rules).
            y_pred: Predictions.

        Returns:
            Float targets shaped like `y_pred`, in the wrapped loss's dtype.
        """
        y_pred = tf.convert_to_tensor(y_pred)
        with errors.caller(f"MixedLoss '{self.name}'"):
            targets, checks, _ = labels_lib.loss_targets(y_true, y_pred, self.num_classes, self.sparse,
                                                         dtype=self.base_loss.dtype)
        if self.label_smoothing and (targets.shape.rank < 2 or targets.shape[-1] == 1):
            raise ValueError(
                f"MixedLoss '{self.name}': label smoothing spreads weight over the classes of class targets "
                f"[batch, num_classes > 1]; it cannot apply to one output (binary or regression). Expected "
                f"label_smoothing=0 on layer '{self.layer_name}' (use the wrapped loss's own, e.g. "
                f"BinaryCrossentropy(label_smoothing=...)). Received: label_smoothing={self.label_smoothing}, "
                f"y_pred.shape={y_pred.shape}")
        self._warn_if_layer_missing(y_pred)
        mix = current_mix(self._followed())
        if mix is not None:
            targets = labels_lib.smooth(targets, self.label_smoothing)
            flat = tf.reshape(targets, tf.stack([tf.shape(targets)[0], -1]))
            flat = apply_ops.mix_labels(flat, mix["permutation"], mix["mix_weight"])
            targets = tf.reshape(flat, tf.shape(targets))
        return labels_lib.wait_for(checks, targets)

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Not Loss.__call__: it casts `y_true` to a float before `call`, and the rules need its dtype.
        with tf.name_scope(self.name):
            return self.base_loss(self.targets(y_true, y_pred), y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        """Per-sample losses of the wrapped loss against `targets(y_true, y_pred)` (no reduction)."""
        return self.base_loss.call(self.targets(y_true, y_pred), tf.convert_to_tensor(y_pred))

    def _warn_if_layer_missing(self, y_pred):
        """Warns once if this traced step did not run the layer (so it is not in the model being trained).

        In a traced `fit`/`evaluate` step the layer, when in the model, always records (a mix or "no mix").
        Eagerly nothing tells steps apart, and predictions that are a graph's inputs (Keras's symbolic build,
        a `tf.function` taking predictions as arguments) come from no model run: neither warns.
        """
        if (self._warned_missing_layer or tf.executing_eagerly() or _record(self._followed())[0]
                or getattr(getattr(y_pred, "op", None), "type", None) == "Placeholder"):
            return
        self._warned_missing_layer = True
        warnings.warn(
            f"MixedLoss '{self.name}' follows layer '{self.layer_name}', which did not run in this step: it "
            f"is not in the model being trained (or runs in another tf.function), so the targets are NOT "
            f"mixed. Compile the model that holds the layer with `{self.layer_name}.mixed_loss(...)`.", stacklevel=3)

    def get_config(self):
        return {**super().get_config(), "loss": keras.losses.serialize(self.wrapped_loss),
                "layer_name": self.layer_name, "num_classes": self.num_classes,
                "label_smoothing": self.label_smoothing}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "loss": keras.losses.deserialize(config["loss"])})


def warn_unwrapped(layer):
    """Warns once per layer that it mixes images in training while no loss mixes the targets."""
    wrapped = layer in _wrapped_layers or any(loss.layer_name == layer.name for loss in _losses_by_name)
    if wrapped or getattr(layer, "_warned_unwrapped", False):
        return
    layer._warned_unwrapped = True
    warnings.warn(
        f"{type(layer).__name__} layer '{layer.name}' is mixing images during training, but no loss was "
        f"wrapped with `{layer.name}.mixed_loss(...)`: the model is training on mixed images with UNMIXED "
        "labels. Compile with `loss=layer.mixed_loss('categorical_crossentropy')` (or mix in the input "
        "pipeline with `kc.cutmix_fn`).", stacklevel=3)
