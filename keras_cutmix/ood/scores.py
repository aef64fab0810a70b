"""The baseline OOD score: the maximum softmax probability (Hendrycks & Gimpel 2017).

    in_scores = max_softmax_score(model, test_images)      # float32 NumPy [N]
    out_scores = max_softmax_score(model, uniform_noise(image_shape=(64, 64, 3)))

Higher means more in-distribution, the convention of `keras_cutmix.ood.detection_metrics`. Images go to the model as
they are, in its pixel scale ([0, 255] for `keras_cutmix.models`, as every set in `keras_cutmix.ood.datasets`).

**Logits or probabilities.** `from_logits=None` applies the package's one rule, `keras_cutmix.checks.outputs_logits`
(the model's structure, else its outputs on the first batch); logits get a softmax in float32, also for
mixed-precision models, probabilities are used as they are.

Images go through the model in chunks of `batch_size`, each through one `tf.function` cached per model
(`keras_cutmix.models.function_cache`). Every argument is checked first; a data set's batches as they come.

References:
    - [Hendrycks & Gimpel, 2017, A Baseline for Detecting Misclassified and Out-of-Distribution Examples in Neural
      Networks](https://arxiv.org/abs/1610.02136)
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.models.function_cache import compiled


def _outputs_function(model_ref):
    @tf.function(reduce_retracing=True)
    def compute(images):
        outputs = model_ref()(images, training=False)
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[0]
        return tf.cast(outputs, tf.float32)

    return compute


def _batches(images, batch_size, caller):
    """Checked image batches (float32 NumPy [b, H, W, C]) of an array / tensor or a batched tf.data.Dataset."""
    if isinstance(images, tf.data.Dataset):
        for element in images:
            if isinstance(element, (tuple, list)) and element:
                element = element[0]
            if not tf.is_tensor(element):
                raise ValueError(f"{caller}: Expected `images` as an array [N, H, W, C] or a tf.data.Dataset of "
                                 f"image batches (or of (images, ...) tuples). Received: a data set of "
                                 f"{type(element).__name__}")
            yield checks.images("images", element.numpy(), caller).astype(np.float32)
        return
    images = checks.images("images", images.numpy() if tf.is_tensor(images) else images, caller)
    for start in range(0, len(images), batch_size):
        yield images[start:start + batch_size].astype(np.float32)


def checked_probabilities(model, images, from_logits, batch_size, progress, caller):
    """`class_probabilities` with errors naming `caller` (every argument checked here)."""
    checks.keras_model(model, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    from_logits = checks.flag("from_logits", from_logits, caller, allow_none=True)
    compute = compiled(model, ("outputs",), _outputs_function)
    chunks = []
    for chunk in _batches(images, batch_size, caller):
        outputs = compute(tf.convert_to_tensor(chunk))
        if outputs.shape.rank != 2 or outputs.shape[-1] < 2:
            raise ValueError(f"{caller}: Expected `model` to output class scores [batch, num_classes >= 2]. "
                             f"Received: outputs of shape {tuple(outputs.shape)}")
        if from_logits is None:  # The package's one rule, on the first batch where the structure is silent.
            from_logits = checks.outputs_logits(model, outputs.numpy())
        chunks.append((tf.nn.softmax(outputs, axis=-1) if from_logits else outputs).numpy())
        if progress is not None:
            progress.add(len(chunks[-1]))
    return np.concatenate(chunks) if chunks else np.zeros([0, 0], np.float32)


def class_probabilities(model, images, *, from_logits=None, batch_size=256, progress=None):
    """The softmax probabilities `[N, K]` of each image (the model's outputs if they already are).

    Args and Raises: as `max_softmax_score`, and
        progress: None, or a `keras.utils.Progbar`: `add(n)` gets the images of each chunk done. Defaults to None.

    Returns:
        float32 NumPy array `[N, K]` (`[0, 0]` for no image).
    """
    return checked_probabilities(model, images, from_logits, batch_size, progress, "class_probabilities")


def max_softmax_score(model, images, *, from_logits=None, batch_size=256):
    """The maximum softmax probability of each image.

    Args:
        model: A `keras.Model` from images to class logits or probabilities `[N, K]`.
        images: NumPy array or tensor `[N, H, W, C]` in the model's pixel scale ([0, 255] for our models), or a
            batched `tf.data.Dataset` of such batches (or of `(images, ...)` tuples).
        from_logits: Whether the model outputs logits: True, False, or None (the one rule, see the module
            docstring). Defaults to None.
        batch_size: Images per model call, an int >= 1, for array inputs (a Dataset keeps its own batches). Defaults
            to 256.

    Returns:
        float32 NumPy array `[N]` in (0, 1]: higher means more in-distribution.

    Raises:
        ValueError: For images (or a data set's batches) that are not finite `[N, H, W, C]` numbers, a model that does
            not output `[N, K]`, or a bad `batch_size` or `from_logits`.
        TypeError: For a `model` that is not a `keras.Model`.
    """
    probabilities = checked_probabilities(model, images, from_logits, batch_size, None, "max_softmax_score")
    return probabilities.max(axis=-1) if probabilities.size else np.zeros([0], np.float32)
