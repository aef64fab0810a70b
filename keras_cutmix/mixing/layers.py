"""Keras layers for CutMix, MixUp and Cutout: thin wrappers over the map functions.

```python
cutmix = kc.CutMix(num_classes=100)
model = keras.Sequential([keras.Input((32, 32, 3)), cutmix, ...])
model.compile(optimizer="sgd", loss=cutmix.mixed_loss("categorical_crossentropy"))
model.fit(images, labels)  # mixed images AND the matching mixed targets
```

The layers mix only when called with `training=True` (as `fit` does) and pass inputs through otherwise,
so `predict`, `evaluate` and exported models are untouched. A `keras.random.SeedGenerator` gives each
step its own mix; its state is a layer variable, so `fit` steps and epochs differ and the same `seed`
gives the same sequence. Under `tf.distribute` each replica folds its replica id into the seed.
Inputs keep their dtype (uint8 stays uint8, also under mixed precision policies).
"""

import keras
import tensorflow as tf

from keras_cutmix.mixing import cutmix as cutmix_lib
from keras_cutmix.mixing import cutout as cutout_lib
from keras_cutmix.mixing import inputs
from keras_cutmix.mixing import losses
from keras_cutmix.mixing import mixup as mixup_lib


def _replica_salt():
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return tf.cast(context.replica_id_in_sync_group, tf.int32)


class MixingLayer(keras.layers.Layer):
    """Base class: seeds, the training switch, mix recording and the config round trip.

    Subclasses set `mix_function` (a `*_with_params` function) and `mixes_labels`, and return their own
    arguments from `method_config()`.

    Args:
        num_classes: Number of classes for integer labels (in dict inputs or in `mixed_loss`).
        probability: Chance of mixing. Defaults to 1.0.
        label_smoothing: Applied to labels before mixing. Defaults to 0.0.
        data_format: "channels_last" or "channels_first". Defaults to Keras's setting.
        seed: Int seed of the layer's `SeedGenerator`. Defaults to None (random).
        **kwargs: Base layer arguments (e.g. `name`).
    """

    mix_function = None
    mixes_labels = True

    def __init__(self, num_classes=None, probability=1.0, label_smoothing=0.0, data_format=None, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        caller = type(self).__name__
        inputs.check_fraction("probability", probability, caller)
        inputs.check_fraction("label_smoothing", label_smoothing, caller, upper_inclusive=False)
        inputs.check_num_classes(num_classes, caller)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"{caller}: Expected `seed` to be None or an int. Received: seed={seed!r}")
        self.num_classes = num_classes
        self.probability = probability
        self.label_smoothing = label_smoothing
        self.data_format = inputs.resolve_data_format(data_format, caller)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Keep the input dtype (no autocast to the compute dtype) and accept dicts of tensors.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.built = True

    def method_config(self):
        """The arguments specific to the method (e.g. `alpha`), passed to `mix_function`."""
        raise NotImplementedError

    def call(self, inputs, training=None):
        if not training:
            losses.record_mix(self.name, None)
            return inputs
        outputs, mix = type(self).mix_function(
            inputs, num_classes=self.num_classes, probability=self.probability,
            label_smoothing=self.label_smoothing, data_format=self.data_format,
            seed=self.seed_generator.next(), seed_salt=_replica_salt(), **self.method_config(),
        )
        if self.mixes_labels:
            losses.record_mix(self.name, mix)
            inside_model = self._get_call_context().entry_layer is not self
            if inside_model and not isinstance(inputs, dict):
                losses.warn_unwrapped(self)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, training=None):
        return tf.nest.map_structure(lambda t: keras.KerasTensor(t.shape, dtype=t.dtype), inputs)

    def mixed_loss(self, loss="categorical_crossentropy"):
        """Wraps `loss` so that, in training, it scores against the targets this layer mixed.

        Args:
            loss: A Keras loss name, function or instance. Defaults to "categorical_crossentropy".

        Returns:
            A `MixedLoss` to pass to `model.compile(loss=...)`.
        """
        return losses.MixedLoss(loss, layer_name=self.name, num_classes=self.num_classes,
                                label_smoothing=self.label_smoothing, layer=self)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, probability=self.probability,
                      label_smoothing=self.label_smoothing, data_format=self.data_format, seed=self.seed)
        config.update(self.method_config())
        return config


@keras.saving.register_keras_serializable(package="keras_cutmix")
class CutMix(MixingLayer):
    """CutMix layer (Yun et al., 2019): pastes a partner's box and mixes labels by the pasted area.

    Args:
        num_classes: Number of classes for integer labels.
        alpha: Beta(alpha, alpha) parameter. Defaults to 1.0, the paper's choice.
        probability: Chance of mixing (the official code's `cutmix_prob`). Defaults to 1.0.
        per_sample: One lambda and box per sample instead of one per batch. Defaults to False.
        label_smoothing: Defaults to 0.0.
        data_format: Defaults to Keras's setting.
        seed: Defaults to None.
        **kwargs: Base layer arguments.

    References:
        - [Yun et al., 2019](https://arxiv.org/abs/1905.04899).
    """

    mix_function = staticmethod(cutmix_lib.cutmix_with_params)

    def __init__(self, num_classes=None, alpha=1.0, probability=1.0, per_sample=False, label_smoothing=0.0,
                 data_format=None, seed=None, **kwargs):
        inputs.check_positive("alpha", alpha, type(self).__name__)
        self.alpha = alpha
        self.per_sample = per_sample
        super().__init__(num_classes, probability, label_smoothing, data_format, seed, **kwargs)

    def method_config(self):
        return {"alpha": self.alpha, "per_sample": self.per_sample}


@keras.saving.register_keras_serializable(package="keras_cutmix")
class MixUp(CutMix):
    """MixUp layer (Zhang et al., 2018): blends images with a partner and mixes labels alike.

    Takes the same arguments as `CutMix`.

    References:
        - [Zhang et al., 2018](https://arxiv.org/abs/1710.09412).
    """

    mix_function = staticmethod(mixup_lib.mixup_with_params)


@keras.saving.register_keras_serializable(package="keras_cutmix")
class Cutout(MixingLayer):
    """Cutout layer (DeVries & Taylor, 2017): erases a square per image; labels are not mixed.

    Args:
        size: Hole side in pixels, or `(height, width)`. Defaults to 16.
        probability: Chance that each image gets a hole. Defaults to 1.0.
        fill_value: Value written into the hole. Defaults to 0.
        num_classes: Number of classes for integer labels in dict inputs.
        label_smoothing: Defaults to 0.0.
        data_format: Defaults to Keras's setting.
        seed: Defaults to None.
        **kwargs: Base layer arguments.

    References:
        - [DeVries & Taylor, 2017](https://arxiv.org/abs/1708.04552).
    """

    mix_function = staticmethod(cutout_lib.cutout_with_params)
    mixes_labels = False

    def __init__(self, size=16, probability=1.0, fill_value=0, num_classes=None, label_smoothing=0.0,
                 data_format=None, seed=None, **kwargs):
        self.size = cutout_lib.check_size(size, type(self).__name__)
        self.fill_value = fill_value
        super().__init__(num_classes, probability, label_smoothing, data_format, seed, **kwargs)

    def method_config(self):
        return {"size": list(self.size), "fill_value": self.fill_value}
