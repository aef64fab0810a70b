"""Model calls shared by the robustness evaluations: the pixel scale, compiled functions per model, top-1.

The model receives `images * pixel_scale`, images in `[0, 1]` (see `keras_cutmix.robustness`). Compiled functions
are built once per model and key and cached while the model lives, in the package's one cache
(`keras_cutmix.models.function_cache`); they reach the model through a weak reference. The `check_*` helpers serve
the public functions' checks at the door.
"""

import numpy as np
import tensorflow as tf

from keras_cutmix import checks
from keras_cutmix.mixing import inputs
from keras_cutmix.models.function_cache import compiled


def check_pixel_scale(pixel_scale, caller):
    """Returns `pixel_scale` as a Python float; raises ValueError unless it is a finite number > 0."""
    return float(inputs.check_positive("pixel_scale", pixel_scale, caller))


def check_images(images, caller):
    """`images` as float32 NumPy [B, H, W, C] in [0, 1] (`checks.images`); raises ValueError otherwise."""
    return checks.images("images", images.numpy() if tf.is_tensor(images) else images, caller, unit_range=True)


def class_outputs(model, images, pixel_scale, caller):
    """The model's float32 outputs [B, K] on `images * pixel_scale` (one eager call), checked for that rank."""
    outputs = model(tf.convert_to_tensor(images * np.float32(pixel_scale)), training=False)
    if isinstance(outputs, (list, tuple)):
        outputs = outputs[0]
    if outputs.shape.rank != 2 or outputs.shape[-1] < 2:
        raise ValueError(f"{caller}: Expected `model` to output class scores [batch, num_classes >= 2]. "
                         f"Received: outputs of shape {tuple(outputs.shape)}")
    return tf.cast(outputs, tf.float32)


def class_ids(model, images, labels, pixel_scale, caller):
    """`labels` as int64 class ids [B] (`checks.class_ids`), within the model's classes (read from one image)."""
    labels = labels.numpy() if tf.is_tensor(labels) else labels
    num_classes = int(class_outputs(model, images[:1], pixel_scale, caller).shape[-1]) if len(images) else None
    return checks.class_ids("labels", labels, caller, num_classes=num_classes, length=len(images))


def _predict_function(model_ref, pixel_scale):
    @tf.function(reduce_retracing=True)
    def predict(images):
        outputs = model_ref()(tf.cast(images, tf.float32) * pixel_scale, training=False)
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[0]
        return tf.argmax(outputs, axis=-1, output_type=tf.int32)

    return predict


def predictions(model, images, pixel_scale, batch_size, progress=None):
    """Top-1 predictions on checked arguments (no checks: the public callers made them)."""
    predict = compiled(model, ("predict", pixel_scale), lambda model_ref: _predict_function(model_ref, pixel_scale))
    chunks = [np.zeros([0], np.int32)]
    for start in range(0, len(images), batch_size):
        chunks.append(predict(tf.convert_to_tensor(images[start:start + batch_size])).numpy())
        if progress is not None:
            progress.add(len(chunks[-1]))
    return np.concatenate(chunks)


def predicted_classes(model, images, *, pixel_scale=255.0, batch_size=128, progress=None):
    """Top-1 predictions of `model` on `images`, in chunks through one compiled function.

    Args:
        model: A `keras.Model` whose (first) output is `[B, num_classes]`, logits or probabilities (same argmax).
        images: `[B, H, W, C]` NumPy array or tensor, in `[0, 1]` (any numeric dtype; cast to float32).
        pixel_scale: The model receives `images * pixel_scale`. Defaults to 255.0 (`keras_cutmix.models`).
        batch_size: Images per call, an int >= 1. Defaults to 128.
        progress: None, or a `keras.utils.Progbar`: `add(n)` gets the images of each chunk done. Defaults to None.

    Returns:
        int32 NumPy array `[B]`.

    Raises:
        ValueError: For `images` not 4-D or outside `[0, 1]`, a model not outputting `[B, K]`, a bad `pixel_scale` or
            `batch_size`.
        TypeError: For a `model` that is not a `keras.Model`.
    """
    caller = "predicted_classes"
    checks.keras_model(model, caller)
    images = check_images(images, caller)
    pixel_scale = check_pixel_scale(pixel_scale, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    if len(images):
        class_outputs(model, images[:1], pixel_scale, caller)
    return predictions(model, images, pixel_scale, batch_size, progress)
