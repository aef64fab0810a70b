"""Keras layers for CutMix, MixUp and Cutout: thin wrappers over the map functions.

```python
cutmix = kc.CutMix(num_classes=100)
model = keras.Sequential([keras.Input((32, 32, 3)), cutmix, ...])
model.compile(optimizer="sgd", loss=cutmix.mixed_loss("categorical_crossentropy"))
model.fit(images, labels)  # mixed images AND the matching mixed targets
```

A layer takes the input forms of `cutmix_fn` (images, `(images, labels)`, or a dict; also
`(images, labels, sample_weight)`, whose weights pass through) and returns the same form. It mixes as
Keras's own layers do: on its own (`layer(batch)`, `ds.map(layer)`) unless called with `training=False`;
inside a model only when the model runs in training (as `fit` does), so `predict`, `evaluate`, `model(x)`
and exported models are untouched. A `keras.random.SeedGenerator` (a layer variable) gives each call its
own mix, so `fit` steps and epochs differ and the same `seed` gives the same sequence; under
`tf.distribute` each replica folds its replica id into the seed. Inputs keep their dtype (uint8 stays
uint8, also under mixed precision policies).
"""

import keras
import tensorflow as tf

from keras_cutmix import compat
from keras_cutmix.mixing import boxes as box_lib
from keras_cutmix.mixing import core
from keras_cutmix.mixing import cutmix as cutmix_lib
from keras_cutmix.mixing import cutout as cutout_lib
from keras_cutmix.mixing import errors
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import losses
from keras_cutmix.mixing import mixup as mixup_lib

# The arguments every layer saves in its config (besides `seed` and its method's own).
_SHARED_ARGS = ("num_classes", "probability", "label_smoothing", "data_format", "bounding_box_format",
                "min_visibility", "min_size", "max_boxes")


class BackendError(RuntimeError):
    """A mixing layer was asked to run inside a model (or on arrays) of a non-TensorFlow Keras backend."""


def _on_tensorflow():
    return keras.backend.backend() == "tensorflow"


def _symbolic_or_foreign(data):
    """Whether `data` holds Keras symbolic tensors (a model being built) or arrays TF cannot read here."""
    for value in tf.nest.flatten(data):
        if isinstance(value, keras.KerasTensor):
            return True
        if not isinstance(value, (tf.Tensor, tf.Variable)) and type(value).__module__.split(".")[0] in (
                "jax", "jaxlib", "torch"):
            return True  # A jax tracer or array, a torch tensor: the model's own backend is running.
    return False


def _replica_salt():
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return tf.cast(context.replica_id_in_sync_group, tf.int32)


def _arg(name):
    """A read-only attribute for the checked argument `name` of a layer (held in `layer.args`)."""
    return property(lambda self: getattr(self.args, name), doc=f"The checked `{name}` (read-only).")


def _split(data):
    """`(images_or_dict, labels, extras)` of a layer input; `extras` is None unless it is a tuple."""
    if not isinstance(data, (tuple, list)):
        return data, None, None
    if len(data) not in (2, 3):
        raise ValueError(errors.named(
            "Expected images, a dict, `(images, labels)` or `(images, labels, sample_weight)`. "
            f"Received: a {type(data).__name__} of {len(data)} entries"))
    return data[0], data[1], tuple(data[2:])


class MixingLayer(keras.layers.Layer):
    """Base class: seeds, the training switch, input forms, mix recording and the config round trip.

    Subclasses set `method` (the map function's `core.Method`), `method_args` (their own arguments' names,
    passed in `method_kwargs`) and `mixes_labels`. The arguments are checked once, here, into `self.args`.

    Args:
        num_classes: Number of classes for integer labels (in dict or tuple inputs, or in `mixed_loss`).
        probability: Chance of mixing. Defaults to 1.0.
        label_smoothing: Applied to labels before mixing. Defaults to 0.0.
        data_format: "channels_last" or "channels_first". Defaults to Keras's setting.
        seed: Int seed of the layer's `SeedGenerator`. Defaults to None (random).
        bounding_box_format, min_visibility, min_size, max_boxes: For "bounding_boxes" in dict inputs, as in
            the map functions (`cutmix_fn`, `cutout_fn`: max_boxes defaults to 2N, N for Cutout).
        method_kwargs: The subclass's own arguments (e.g. `{"alpha": 1.0, "per_sample": False}`).
        **kwargs: Base layer arguments (e.g. `name`).

    Arguments may be NumPy scalars (e.g. `num_classes=y.max() + 1`); they are stored as Python numbers.
    """

    method = None
    method_args = ()
    mixes_labels = True
    num_classes, probability, label_smoothing, data_format = map(_arg, _SHARED_ARGS[:4])
    bounding_box_format, min_visibility, min_size, max_boxes = map(_arg, _SHARED_ARGS[4:])
    box_sources = 2  # Output boxes per input box slot: own and partner's (Cutout: 1).
    weighs_boxes = False  # MixUp's boxes carry "box_weights".

    def __init__(self, num_classes=None, probability=1.0, label_smoothing=0.0, data_format=None, seed=None,
                 bounding_box_format=None, min_visibility=0.5, min_size=1.0, max_boxes=None, method_kwargs=None,
                 **kwargs):
        with errors.caller(type(self).__name__):
            args = core.check_args(**(method_kwargs or {}), probability=probability, label_smoothing=label_smoothing,
                                   num_classes=num_classes, data_format=data_format,
                                   bounding_box_format=bounding_box_format, min_visibility=min_visibility,
                                   min_size=min_size, max_boxes=max_boxes)
            seed = inputs.check_seed(seed)
        # `autocast=False`: keep the input dtype (uint8 stays uint8, no cast to a mixed policy's compute dtype).
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.args = args
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self._tf_seed_state = None
        if not _on_tensorflow():
            # Under another backend the layer still runs in tf.data on TensorFlow ops (as Keras's own
            # preprocessing layers do); this is the TF backend's SeedGenerator state: same seed, same draws.
            with tf.init_scope():
                initial = self.seed_generator.state.numpy().astype("int64")
                object.__setattr__(self, "_tf_seed_state", tf.Variable(initial, trainable=False))
        self.built = True

    def __call__(self, data, *args, **kwargs):
        if _on_tensorflow():
            return super().__call__(data, *args, **kwargs)
        if _symbolic_or_foreign(data):
            raise BackendError(
                f"{type(self).__name__} mixes with TensorFlow ops and runs inside a model only under the "
                f"TensorFlow backend. Received: KERAS_BACKEND={keras.backend.backend()!r}. Mix in the tf.data "
                f"pipeline instead: `ds.map({type(self).__name__}(...))` on batches, or "
                "`kc.map_with_seed(ds, kc.cutmix_fn, ...)`; those work under every backend.")
        # tf.data (or TF tensors eagerly): TensorFlow ops, inputs left as TF tensors.
        with compat.tf_tensor_inputs(self):
            return super().__call__(data, *args, **kwargs)

    def _next_seed(self):
        """The seed of this call: the layer's SeedGenerator, or its TF twin under another backend."""
        if self._tf_seed_state is None:
            return self.seed_generator.next()
        seed = tf.identity(self._tf_seed_state)
        with tf.control_dependencies([seed]):
            self._tf_seed_state.assign_add(tf.constant([0, 1], tf.int64))
        return seed

    def call(self, data, training=None):
        outermost = compat.is_outermost_call(self)
        if training is None:
            training = outermost  # On its own the layer mixes, as keras.layers.CutMix does.
        if not training:
            losses.record_mix(self, None)
            return data
        with errors.caller(type(self).__name__):
            images, labels, extras = _split(data)
        with errors.caller(self.method.name):
            outputs, mix = core.mix_inputs(self.method, self.args, images, labels, self._next_seed(),
                                           _replica_salt())
        # A layer that mixes no labels (Cutout) records "no mix", so its loss scores plain targets.
        losses.record_mix(self, mix if self.mixes_labels else None)
        if self.mixes_labels and not outermost and extras is None and not isinstance(images, dict):
            losses.warn_unwrapped(self)
        return outputs if extras is None else (*outputs, *extras)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, data, training=None):
        """Specs of the outputs: the inputs' own, except that integer labels become float32 [B, num_classes]."""
        outputs = tf.nest.map_structure(lambda t: keras.KerasTensor(t.shape, dtype=t.dtype), data)
        if isinstance(outputs, dict) and outputs.get(inputs.LABELS_KEY) is not None:
            outputs[inputs.LABELS_KEY] = self._label_spec(outputs[inputs.LABELS_KEY])
        if isinstance(outputs, dict) and outputs.get(inputs.BOXES_KEY) is not None:
            outputs[inputs.BOXES_KEY] = self._box_spec(outputs[inputs.BOXES_KEY])
        elif isinstance(outputs, (tuple, list)) and len(outputs) >= 2:
            outputs = (outputs[0], self._label_spec(outputs[1]), *outputs[2:])
        return outputs

    def _box_spec(self, spec):
        boxes, labels = spec[box_lib.BOXES], spec[box_lib.LABELS]
        count = self.args.max_boxes or (None if boxes.shape[1] is None else self.box_sources * boxes.shape[1])
        out = {box_lib.BOXES: keras.KerasTensor((boxes.shape[0], count, 4), dtype="float32"),
               box_lib.LABELS: keras.KerasTensor((labels.shape[0], count), dtype=labels.dtype)}
        if self.weighs_boxes:
            out[box_lib.WEIGHTS] = keras.KerasTensor((labels.shape[0], count), dtype="float32")
        return out

    def _label_spec(self, spec):
        if "int" not in str(spec.dtype) or self.args.num_classes is None:
            return spec
        return keras.KerasTensor((spec.shape[0], self.args.num_classes), dtype="float32")

    def mixed_loss(self, loss="categorical_crossentropy"):
        """Wraps `loss` so that, in training, it scores against the targets this layer mixed.

        Args:
            loss: A Keras loss name, function or instance. Defaults to "categorical_crossentropy".

        Returns:
            A `MixedLoss` to pass to `model.compile(loss=...)`.
        """
        return losses.MixedLoss(loss, layer_name=self.name, num_classes=self.args.num_classes,
                                label_smoothing=self.args.label_smoothing, layer=self)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        for name in _SHARED_ARGS + self.method_args:
            value = getattr(self.args, name)
            config[name] = list(value) if isinstance(value, tuple) else value  # Cutout's size: a JSON list.
        return config


class LabelMixingLayer(MixingLayer):
    """The base of CutMix and MixUp: `alpha` and `per_sample` (see `CutMix`) on top of `MixingLayer`."""

    method_args = ("alpha", "per_sample")
    alpha, per_sample = map(_arg, method_args)

    def __init__(self, num_classes=None, alpha=1.0, probability=1.0, per_sample=False, label_smoothing=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(num_classes, probability, label_smoothing, data_format, seed,
                         method_kwargs={"alpha": alpha, "per_sample": per_sample}, **kwargs)


@keras.saving.register_keras_serializable(package="keras_cutmix")
class CutMix(LabelMixingLayer):
    """CutMix layer (Yun et al., 2019): pastes a partner's box and mixes labels by the pasted area.

    Args:
        num_classes, label_smoothing, data_format, seed: As `MixingLayer`.
        alpha: Beta(alpha, alpha) parameter. Defaults to 1.0, the paper's choice.
        probability: Chance of mixing (the official code's `cutmix_prob`). Defaults to 1.0.
        per_sample: One lambda and box per sample instead of one per batch. Defaults to False.
        **kwargs: Base layer arguments, and the box arguments of `MixingLayer` (`bounding_box_format`,
            `min_visibility`, `min_size`, `max_boxes`).

    References:
        - [Yun et al., 2019](https://arxiv.org/abs/1905.04899).
    """

    method = cutmix_lib.METHOD


@keras.saving.register_keras_serializable(package="keras_cutmix")
class MixUp(LabelMixingLayer):
    """MixUp layer (Zhang et al., 2018): blends images with a partner and mixes labels alike.

    Args:
        num_classes, probability, label_smoothing, data_format, seed: As `MixingLayer` (blending does not
            depend on `data_format`).
        alpha: Beta(alpha, alpha) parameter. Defaults to 1.0, the CutMix paper's MixUp baseline.
        per_sample: One lambda per sample instead of one per batch. Defaults to False.
        **kwargs: Base layer arguments, and the box arguments of `MixingLayer` (boxes keep both images'
            boxes with their blend weights in "box_weights").

    References:
        - [Zhang et al., 2018](https://arxiv.org/abs/1710.09412).
    """

    method = mixup_lib.METHOD
    weighs_boxes = True


@keras.saving.register_keras_serializable(package="keras_cutmix")
class Cutout(MixingLayer):
    """Cutout layer (DeVries & Taylor, 2017): erases a square per image; labels are not mixed.

    Args:
        size: Hole side in pixels, or `(height, width)`. Defaults to 16.
        probability: Chance that each image gets a hole. Defaults to 1.0.
        fill_value: Value written into the hole. Defaults to 0.
        num_classes, label_smoothing, data_format, seed: As `MixingLayer`.
        **kwargs: Base layer arguments, and the box arguments of `MixingLayer`.

    References:
        - [DeVries & Taylor, 2017](https://arxiv.org/abs/1708.04552).
    """

    method = cutout_lib.METHOD
    method_args = ("size", "fill_value")
    size, fill_value = map(_arg, method_args)
    mixes_labels = False
    box_sources = 1

    def __init__(self, size=16, probability=1.0, fill_value=0, num_classes=None, label_smoothing=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(num_classes, probability, label_smoothing, data_format, seed,
                         method_kwargs={"size": size, "fill_value": fill_value}, **kwargs)
