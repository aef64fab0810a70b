"""Model calls shared by the robustness evaluations: the pixel scale, compiled functions per model, top-1.

Every evaluation here takes images in `[0, 1]` and a `pixel_scale`: the model receives
`images * pixel_scale`. `keras_cutmix.models` take pixels in `[0, 255]` and normalise inside, so the
default is 255; pass `pixel_scale=1.0` for a model that takes `[0, 1]` (or for images already in the
model's own scale). Keeping the attack in `[0, 1]` makes `eps = 8 / 255` mean what it means in the
literature whatever the model's normalisation.

Compiled functions are built once per model and key (as `keras_cutmix.localization.cam`), held in a
`weakref.WeakKeyDictionary`. The functions reach the model through a weak reference, so the model and its
entry go together (a function holding the model itself would keep the model alive through the cache).
"""

import weakref

import numpy as np
import tensorflow as tf

from keras_cutmix.mixing import inputs

# model -> {key: compiled function}; entries go with the model.
_FUNCTIONS = weakref.WeakKeyDictionary()


def compiled(model, key, build):
    """The function `build(model_ref)` made for `model` and `key`, built on first use, cached while `model` lives.

    `build` gets a `weakref.ref` to the model and must call the model through it: a function holding the
    model itself would keep its cache entry, and the model, alive for ever.
    """
    functions = _FUNCTIONS.setdefault(model, {})
    if key not in functions:
        functions[key] = build(weakref.ref(model))
    return functions[key]


def check_pixel_scale(pixel_scale, caller):
    """Returns `pixel_scale` as a Python float; raises ValueError unless it is a finite number > 0."""
    return float(inputs.check_positive("pixel_scale", pixel_scale, caller))


def check_batch_size(batch_size, caller):
    """Returns `batch_size`; raises ValueError unless it is a positive int."""
    batch_size = inputs.python_number(batch_size)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{caller}: Expected `batch_size` to be a positive int. Received: batch_size={batch_size!r}")
    return batch_size


def check_images(images, caller):
    """`images` as a NumPy array [B, H, W, C]; raises ValueError for another rank."""
    images = images.numpy() if tf.is_tensor(images) else np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"{caller}: Expected `images` of shape [batch, height, width, channels]. "
                         f"Received: images.shape={images.shape}")
    return images


def class_ids(labels, count, caller):
    """Integer class ids [count] from ids `[B]` / `[B, 1]` or one-hot (or soft: argmax) labels `[B, K]`."""
    labels = labels.numpy() if tf.is_tensor(labels) else np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1 and np.issubdtype(labels.dtype, np.integer):
        labels = labels[:, 0]
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = np.argmax(labels, axis=1)
    if labels.ndim != 1 or labels.shape[0] != count or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{caller}: Expected labels as {count} integer class ids [B] (or one-hot [B, K]). "
                         f"Received: labels.shape={labels.shape}, labels.dtype={labels.dtype}")
    return labels.astype(np.int64)


def _predict_function(model_ref, pixel_scale):
    @tf.function(reduce_retracing=True)
    def predict(images):
        outputs = model_ref()(tf.cast(images, tf.float32) * pixel_scale, training=False)
        return tf.argmax(outputs, axis=-1, output_type=tf.int32)

    return predict


def predicted_classes(model, images, *, pixel_scale=255.0, batch_size=128, progress=None):
    """Top-1 predictions of `model` on `images`, in chunks through one compiled function.

    Args:
        model: A Keras classifier whose (first) output is `[B, num_classes]` (logits or probabilities: the
            argmax is the same).
        images: `[B, H, W, C]` NumPy array or tensor, in `[0, 1]` (any dtype; cast to float32).
        pixel_scale: The model receives `images * pixel_scale`. Defaults to 255.0 (`keras_cutmix.models`).
        batch_size: Images per call. Defaults to 128.
        progress: None, or what counts the work (`keras.utils.Progbar`): its `add(n)` is told the images of
            each chunk done. Defaults to None.

    Returns:
        int32 NumPy array `[B]`.

    Raises:
        ValueError: For `images` not 4-D or a bad `pixel_scale` / `batch_size`.
    """
    caller = "predicted_classes"
    images = check_images(images, caller)
    pixel_scale = check_pixel_scale(pixel_scale, caller)
    batch_size = check_batch_size(batch_size, caller)
    predict = compiled(model, ("predict", pixel_scale), lambda model_ref: _predict_function(model_ref, pixel_scale))
    chunks = [np.zeros([0], np.int32)]
    for start in range(0, len(images), batch_size):
        chunks.append(predict(tf.convert_to_tensor(images[start:start + batch_size])).numpy())
        if progress is not None:
            progress.add(len(chunks[-1]))
    return np.concatenate(chunks)

