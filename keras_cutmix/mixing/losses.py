"""The loss wrapper that lets a mixing layer inside a model train on the targets it mixed.

A layer inside a model sees only the images, but the targets must be mixed with the same partners and
weights. During a training step the layer records its mix (partner indices and label weights) under its
name, per thread (each `tf.distribute` replica runs in its own thread) and per graph (so a record from
another traced function is never used). `MixedLoss`, made by `layer.mixed_loss(loss)`, reads that record
in the same step, mixes `y_true`, and calls the wrapped loss. In evaluation the layer records "no mix",
so the loss scores plain targets.
"""

import threading
import warnings
import weakref

import keras
import tensorflow as tf

from keras_cutmix.mixing import apply as apply_ops

_records = threading.local()
_wrapped_layers = weakref.WeakSet()  # Layers whose `mixed_loss` was called.
_wrapped_layer_names = set()  # Names from losses loaded from a config, which know no layer object.


def _current_graph():
    return None if tf.executing_eagerly() else tf.compat.v1.get_default_graph()


def record_mix(layer_name, mix):
    """Records the mix a layer applied in this step (None: it did not mix), for its `MixedLoss`."""
    if not hasattr(_records, "by_name"):
        _records.by_name = {}
    _records.by_name[layer_name] = (_current_graph(), mix)


def current_mix(layer_name):
    """The mix recorded by `layer_name` in this thread and graph, or None."""
    graph, mix = getattr(_records, "by_name", {}).get(layer_name, (None, None))
    if mix is None or graph is not _current_graph():
        return None
    return mix


def has_mixed_loss(layer):
    """Whether `layer.mixed_loss` was called, or a `MixedLoss` for its name was loaded from a config."""
    return layer in _wrapped_layers or layer.name in _wrapped_layer_names


def _dense_equivalent(loss):
    """The categorical counterpart of a sparse categorical loss (mixed targets are dense)."""
    if loss is keras.losses.sparse_categorical_crossentropy:
        return keras.losses.categorical_crossentropy
    if isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        config = loss.get_config()
        return keras.losses.CategoricalCrossentropy(from_logits=config.get("from_logits", False))
    return loss


@keras.saving.register_keras_serializable(package="keras_cutmix")
class MixedLoss(keras.losses.Loss):
    """Scores predictions against the targets that a mixing layer mixed in the current training step.

    Made by `CutMix.mixed_loss(loss)` (or `MixUp`'s); integer targets are one-hot encoded with
    `num_classes` (or the width of the predictions), smoothed, then mixed, and a sparse categorical loss is
    replaced by its categorical counterpart. Outside training the targets are used as given.

    Args:
        loss: A Keras loss: name, function or `keras.losses.Loss` instance.
        layer_name: Name of the mixing layer whose mixes to follow.
        num_classes: Number of classes for integer targets. Defaults to the width of `y_pred`.
        label_smoothing: The layer's label smoothing, applied to training targets before mixing.
        name: Name of the loss.
        reduction: Keras reduction. Defaults to "sum_over_batch_size".
        dtype: Loss dtype. Defaults to Keras's float type.
        layer: The layer object, when made by `layer.mixed_loss` (silences its "unwrapped" warning).
    """

    def __init__(self, loss, layer_name, num_classes=None, label_smoothing=0.0, name=None,
                 reduction="sum_over_batch_size", dtype=None, layer=None):
        base = keras.losses.get(loss)
        if base is None:
            raise ValueError(f"Expected a Keras loss (name, function or Loss). Received: loss={loss!r}")
        base_name = getattr(base, "name", None) or getattr(base, "__name__", "loss")
        super().__init__(name=name or f"mixed_{base_name}", reduction=reduction, dtype=dtype)
        self.base_loss = _dense_equivalent(base)
        self.layer_name = layer_name
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        if layer is not None:
            _wrapped_layers.add(layer)
        else:
            _wrapped_layer_names.add(layer_name)

    def _dense_targets(self, y_true, y_pred):
        sparse = y_true.shape.rank < y_pred.shape.rank or (
            y_true.shape[-1] == 1 and y_pred.shape[-1] not in (None, 1)
        )
        if not sparse:
            return tf.cast(y_true, y_pred.dtype)
        depth = self.num_classes or y_pred.shape[-1]
        ids = tf.cast(tf.reshape(y_true, [-1]), tf.int32)
        return tf.one_hot(ids, depth, dtype=y_pred.dtype)

    def call(self, y_true, y_pred):
        y_true = self._dense_targets(y_true, y_pred)
        mix = current_mix(self.layer_name)
        if mix is not None:
            if self.label_smoothing:
                classes = tf.cast(tf.shape(y_true)[-1], y_true.dtype)
                y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / classes
            y_true = apply_ops.mix_labels(y_true, mix["permutation"], mix["mix_weight"])
        if isinstance(self.base_loss, keras.losses.Loss):
            return self.base_loss.call(y_true, y_pred)
        return self.base_loss(y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        config.update(
            loss=keras.losses.serialize(self.base_loss),
            layer_name=self.layer_name,
            num_classes=self.num_classes,
            label_smoothing=self.label_smoothing,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = keras.losses.deserialize(config["loss"])
        return cls(**config)


def warn_unwrapped(layer):
    """Warns once per layer that it mixes images in training while no loss mixes the targets."""
    if getattr(layer, "_warned_unwrapped", False) or has_mixed_loss(layer):
        return
    layer._warned_unwrapped = True
    warnings.warn(
        f"{type(layer).__name__} layer '{layer.name}' is mixing images during training, but no loss was "
        f"wrapped with `{layer.name}.mixed_loss(...)`: the model is training on mixed images with UNMIXED "
        "labels. Compile with `loss=layer.mixed_loss('categorical_crossentropy')` (or mix in the input "
        "pipeline with `kc.cutmix_fn`).",
        stacklevel=3,
    )
