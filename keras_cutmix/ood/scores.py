"""The baseline OOD score: the maximum softmax probability (Hendrycks & Gimpel 2017).

    in_scores = max_softmax_score(model, test_images)      # float32 NumPy [N]
    out_scores = max_softmax_score(model, uniform_noise(image_shape=(64, 64, 3)))

Higher means more in-distribution, the convention of
`keras_cutmix.ood.detection_metrics`. Images go to the model as they are, in
the model's pixel scale: our models (`keras_cutmix.models.get_model`) take
pixels in [0, 255] and normalise inside, and every set in
`keras_cutmix.ood.datasets` is in that scale.

**Logits or probabilities.** `from_logits=None` decides from the model's last
layer: a `keras.layers.Softmax`, or a layer whose `activation` is the softmax
(`Dense(..., activation="softmax")`, `Activation("softmax")`), means the model
outputs probabilities, which are used as they are; anything else (our models
end in a linear `Dense(name="head")`) means logits, to which a softmax is
applied (in float32, also for mixed-precision models). Pass `from_logits`
explicitly for a model whose last layer does not tell, e.g. a softmax written
as a Lambda or inside a subclassed model's `call`.

Images go through the model in chunks of `batch_size`, each through one
`tf.function` (model call with `training=False`, softmax, max), built once per
model and `from_logits` and cached while the model lives.

References:
    - [Hendrycks & Gimpel, 2017, A Baseline for Detecting Misclassified and
      Out-of-Distribution Examples in Neural
      Networks](https://arxiv.org/abs/1610.02136)
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

# model -> {from_logits: compiled function}; entries go with the model.
_FUNCTIONS = weakref.WeakKeyDictionary()


def _is_softmax(activation):
    return getattr(activation, "__name__", None) == "softmax"


def outputs_logits(model):
    """Whether `model` outputs logits (True) or probabilities (False), read from its last layer.

    Args:
        model: A `keras.Model`.

    Returns:
        False when the last layer is a `keras.layers.Softmax` or has a softmax
        `activation`; True otherwise.

    Raises:
        ValueError: If `model` has no layers to read.
    """
    layers = getattr(model, "layers", None)
    if not layers:
        raise ValueError("Expected a keras.Model with layers, to tell logits from probabilities; "
                         f"pass `from_logits` instead. Received: model={model!r}")
    last = layers[-1]
    if isinstance(last, keras.Model):  # A nested model: look inside it.
        return outputs_logits(last)
    return not (isinstance(last, keras.layers.Softmax) or _is_softmax(getattr(last, "activation", None)))


def _score_function(model, from_logits):
    @tf.function(reduce_retracing=True)
    def compute(images):
        outputs = model(images, training=False)
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[0]
        outputs = tf.cast(outputs, tf.float32)
        return tf.nn.softmax(outputs, axis=-1) if from_logits else outputs

    return compute


def _chunks(images, batch_size):
    """Batches of images from a NumPy array / tensor or a batched tf.data.Dataset."""
    if isinstance(images, tf.data.Dataset):
        for element in images:
            yield element[0] if isinstance(element, (tuple, list)) else element
        return
    images = np.asarray(images)
    for start in range(0, len(images), batch_size):
        yield images[start:start + batch_size]


def class_probabilities(model, images, *, from_logits=None, batch_size=256, progress=None):
    """The softmax probabilities `[N, K]` of each image (the model's outputs if they already are).

    Args and Raises: as `max_softmax_score`, and
        progress: None, or what counts the work (`keras.utils.Progbar`): its `add(n)` is told the images
            of each chunk done. Defaults to None.

    Returns:
        float32 NumPy array `[N, K]`.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"Expected `batch_size` a positive int. Received: batch_size={batch_size!r}")
    if from_logits is None:
        from_logits = outputs_logits(model)
    functions = _FUNCTIONS.setdefault(model, {})
    if bool(from_logits) not in functions:
        functions[bool(from_logits)] = _score_function(model, bool(from_logits))
    compute = functions[bool(from_logits)]
    chunks = []
    for chunk in _chunks(images, batch_size):
        chunks.append(compute(tf.convert_to_tensor(chunk, tf.float32)).numpy())
        if progress is not None:
            progress.add(len(chunks[-1]))
    return np.concatenate(chunks) if chunks else np.zeros([0, 0], np.float32)


def max_softmax_score(model, images, *, from_logits=None, batch_size=256):
    """The maximum softmax probability of each image.

    Args:
        model: A `keras.Model` from images to class logits or probabilities.
        images: NumPy array or tensor `[N, H, W, C]` in the model's pixel
            scale ([0, 255] for our models), or a batched `tf.data.Dataset`
            of such batches (or of `(images, ...)` tuples).
        from_logits: Whether the model outputs logits. Defaults to None: read
            from the model's last layer (see the module docstring).
        batch_size: Images per model call, for array inputs (a Dataset keeps
            its own batches). Defaults to 256.

    Returns:
        float32 NumPy array `[N]` in (0, 1]: higher means more
        in-distribution.

    Raises:
        ValueError: If `batch_size` is not a positive int, or `from_logits`
            is None and the model's last layer cannot be read.
    """
    probabilities = class_probabilities(model, images, from_logits=from_logits, batch_size=batch_size)
    return probabilities.max(axis=-1) if probabilities.size else np.zeros([0], np.float32)
