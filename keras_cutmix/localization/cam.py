"""Class activation maps: CAM (Zhou et al. 2016) and Grad-CAM (Selvaraju et al. 2017).

    maps = cam(model, images)              # float32 NumPy [B, H, W] in [0, 1]
    maps = gradcam(model, images, class_ids=labels)

Both follow clovaai/wsolevaluation (`inference.py`, `CAMComputer`) step by step, so that thresholds and
boxes mean the same as in the WSOL literature:

1. **The raw map** on the feature grid `[h, w]`:
   * CAM: `sum_k W[k, c] * A_k`, `A` the output of the CAM feature layer
     (`keras_cutmix.models.cam_feature_layer_name(model)`, the input of global average pooling) and `W` the
     kernel of the `"head"` Dense layer. **No bias and no ReLU**, as Zhou et al. and wsolevaluation's
     `VggCam`/`ResNetCam`: min-max normalisation removes the bias (and their division by the channel
     count), not a ReLU: negative evidence stays in the map, below the object.
   * Grad-CAM: `ReLU(sum_k alpha_k * A_k)`, `alpha_k` the spatial mean of `d logit_c / d A_k` (the
     pre-softmax score, as Selvaraju et al.), at any layer with a 4-D output; for a probability head, the
     logits where the graph has them, else the log probability (`_class_score_source`: the probability's
     own gradient vanishes in float32 where the softmax saturates). After GAP -> Dense it is
     `ReLU(CAM) / (h * w)`.
2. **Upsampling** to the input's `[H, W]` with OpenCV's bicubic kernel (`cv2.INTER_CUBIC`, a = -0.75;
   `tf.image.resize` uses a = -0.5 and differs), as two constant matrices (`resize_matrix`). wsolevaluation
   passes `(H, W)` where OpenCV expects `(W, H)`, harmless for its square inputs; here non-square inputs
   get `[H, W]`. Bicubic overshoot can dip an upsampled Grad-CAM slightly below 0 before normalisation.
3. **Normalisation** per image: `(m - min) / (max - min)`; a constant map (or one with a NaN) gives zeros,
   as wsolevaluation's `normalize_scoremap`.

Images go through the model in chunks of `batch_size`, each through one cached `tf.function` (features,
class choice, map, upsampling, normalisation; `keras_cutmix.models.function_cache`). Bad input raises a
`ValueError` naming the function and the argument before any work; class ids may be ids [B] or [B, 1],
whole floats or one-hot rows [B, K], and NumPy integers are accepted as ints.

References:
    - [Zhou et al., 2016, Learning Deep Features for Discriminative Localization](
      https://arxiv.org/abs/1512.04150)
    - [Selvaraju et al., 2017, Grad-CAM](https://arxiv.org/abs/1610.02391)
    - [Choe et al., 2020, Evaluating Weakly Supervised Object Localization Methods Right](
      https://arxiv.org/abs/2001.07437), code clovaai/wsolevaluation (`inference.py`).
"""

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import checks, compat
from keras_cutmix.models import cam_feature_layer_name
from keras_cutmix.models.common import HEAD_NAME
from keras_cutmix.models.function_cache import compiled

# OpenCV's INTER_CUBIC coefficient (imgproc/src/resize.cpp, interpolateCubic).
CV2_CUBIC_A = -0.75


def resize_matrix(src_size, dst_size):
    """The `[dst_size, src_size]` matrix of OpenCV's bicubic resize along one axis.

    `R @ x` resizes a 1-D signal `x` as `cv2.resize(..., cv2.INTER_CUBIC)` does: destination pixel `d`
    samples source position `(d + 0.5) * src_size / dst_size - 0.5` with Keys' cubic kernel (a = -0.75) over
    its 4 neighbours, indices clamped to the edge. A 2-D map resizes as `R_rows @ m @ R_cols.T`.

    Args:
        src_size: Source length, a positive int.
        dst_size: Destination length, a positive int.

    Returns:
        float32 NumPy array `[dst_size, src_size]`.
    """
    a = CV2_CUBIC_A
    position = (np.arange(dst_size) + 0.5) * (src_size / dst_size) - 0.5
    left = np.floor(position).astype(np.int64)
    t = position - left
    weights = np.stack(
        [
            ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
        ],
        axis=1,
    )
    weights = np.concatenate([weights, 1 - weights.sum(axis=1, keepdims=True)], axis=1)
    matrix = np.zeros((dst_size, src_size), np.float64)
    for tap in range(4):
        columns = np.clip(left - 1 + tap, 0, src_size - 1)
        np.add.at(matrix, (np.arange(dst_size), columns), weights[:, tap])
    return matrix.astype(np.float32)


def _upsample_and_normalize(maps, height, width):
    """[B, h, w] float32 -> [B, height, width], bicubic as OpenCV, min-max per image."""
    rows = tf.constant(resize_matrix(maps.shape[1], height))
    cols = tf.constant(resize_matrix(maps.shape[2], width))
    maps = tf.einsum("Hh,bhw,Ww->bHW", rows, maps, cols)
    low = tf.reduce_min(maps, axis=[1, 2], keepdims=True)
    high = tf.reduce_max(maps, axis=[1, 2], keepdims=True)
    span = high - low
    # Explicit: whether min / max propagate a NaN is up to the device kernel.
    finite = tf.reduce_all(tf.math.is_finite(maps), axis=[1, 2], keepdims=True)
    valid = tf.logical_and(span > 0, finite)
    return tf.where(valid, (maps - low) / tf.where(valid, span, 1.0), 0.0)


def _choose_classes(logits, class_ids):
    """`class_ids` where >= 0, else the argmax of `logits`."""
    predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.where(class_ids >= 0, class_ids, predicted)


def _probe(model, layer_name, score_layer=None):
    """A model from `model`'s input(s) to `[features, outputs(, score_layer's input)]`, sharing its layers."""
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    outputs = [model.get_layer(layer_name).output, model.outputs[0]]
    return keras.Model(inputs, outputs + ([] if score_layer is None else [score_layer.input]))


def _cam_function(model, layer_name, signature):
    """The compiled CAM of `model` (used while building only: the function holds its layers, not the model)."""
    features_and_logits = _probe(model, layer_name)
    kernel = model.get_layer(HEAD_NAME).kernel

    @tf.function(input_signature=signature)
    def compute(images, class_ids):
        """class_ids [K, B] -> (maps [K, B, H, W], logits [B, N]), one forward pass."""
        features, logits = features_and_logits(images, training=False)
        features = tf.cast(features, tf.float32)
        maps = []
        for k in range(class_ids.shape[0]):
            classes = _choose_classes(logits, class_ids[k])
            class_weights = tf.gather(tf.cast(kernel, tf.float32), classes, axis=1)  # [C, B]
            raw = tf.einsum("bhwc,cb->bhw", features, class_weights)
            maps.append(_upsample_and_normalize(raw, images.shape[1], images.shape[2]))
        return tf.stack(maps), logits

    return compute


def _class_score_source(model):
    """Where Grad-CAM's class score (the logit) comes from, by `checks.outputs_logits`: `(kind, layer)`.

    Kinds: `"outputs"` (logits), `"input"` (the input of a last `Softmax` / `Activation`), `"dense"` (a last
    softmax / sigmoid `Dense`'s pre-activation), `"log"` (the log probability: logits out of reach), and
    `"outputs_rule"` (a structure that says nothing: the rule decides per batch from the outputs).
    """
    try:
        if checks.outputs_logits(model):
            return "outputs", None
    except ValueError:  # The structure is silent: the outputs decide, in the compiled function.
        return "outputs_rule", None
    last = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)][-1]
    single = compat.call_count(last) == 1
    softmax = isinstance(last, keras.layers.Softmax) and tuple(np.atleast_1d(last.axis)) in ((-1,), (1,))
    if single and (softmax or isinstance(last, keras.layers.Activation)):
        return "input", last
    if single and type(last) is keras.layers.Dense and last.kernel is not None:
        return "dense", last
    return "log", None


def _gradcam_function(model, layer_name, signature):
    kind, layer = _class_score_source(model)
    probe = _probe(model, layer_name, layer)

    def class_scores(outputs, source):
        """Per image, the vector whose entry c is class c's logit (Selvaraju et al.'s pre-softmax score)."""
        if kind == "input":
            return tf.cast(source, tf.float32)
        if kind == "dense":
            scores = tf.matmul(tf.cast(source, tf.float32), tf.cast(layer.kernel, tf.float32))
            return scores + tf.cast(layer.bias, tf.float32) if layer.use_bias else scores
        outputs = tf.cast(outputs, tf.float32)
        # The log of a probability: log softmax(z)_c = z_c - logsumexp(z), the class logit up to a term
        # shared by the classes, whose gradient does not vanish where the softmax saturates.
        log = tf.math.log(tf.maximum(outputs, np.finfo(np.float32).tiny))
        if kind == "log":
            return log
        if kind == "outputs_rule":  # The one rule on this batch's outputs, as checks.outputs_logits reads them.
            probabilities = tf.numpy_function(checks.are_probabilities, [outputs], tf.bool, stateful=False)
            return tf.cond(tf.reshape(probabilities, []), lambda: log, lambda: outputs)
        return outputs

    @tf.function(input_signature=signature)
    def compute(images, class_ids):
        """class_ids [K, B] -> (maps [K, B, H, W], outputs [B, N]), one forward pass."""
        with tf.GradientTape(persistent=True) as tape:
            features, outputs, *source = probe(images, training=False)
            scores_all = class_scores(outputs, source[0] if source else None)
            # Images are independent at inference, so one gradient of the
            # summed scores gives every image's own gradient.
            scores = [tf.reduce_sum(tf.gather(scores_all, _choose_classes(outputs, class_ids[k]), axis=1,
                                              batch_dims=1))
                      for k in range(class_ids.shape[0])]
        maps = []
        for score in scores:
            gradients = tf.cast(tape.gradient(score, features), tf.float32)
            alphas = tf.reduce_mean(gradients, axis=[1, 2])  # [B, C]
            raw = tf.nn.relu(tf.einsum("bhwc,bc->bhw", tf.cast(features, tf.float32), alphas))
            maps.append(_upsample_and_normalize(raw, images.shape[1], images.shape[2]))
        del tape
        return tf.stack(maps), outputs

    return compute


def _check_feature_layer(model, layer_name, method, caller):
    if layer_name is None:
        layer_name = cam_feature_layer_name(model)
    try:
        layer = model.get_layer(layer_name) if isinstance(layer_name, str) else None
    except ValueError:
        layer = None
    if layer is None:
        raise ValueError(f"{caller}: Expected `layer_name` to name a layer of model {model.name!r}. "
                         f"Received: layer_name={layer_name!r}")
    shape = layer.output.shape
    if len(shape) != 4:
        raise ValueError(f"{caller}: Expected `layer_name` to name a layer with a 4-D output "
                         f"[batch, height, width, channels]. Received: layer_name={layer_name!r} "
                         f"with output shape {tuple(shape)}")
    if method == "cam":
        head = next((layer for layer in model.layers if layer.name == HEAD_NAME), None)
        if head is None or getattr(head, "kernel", None) is None or len(head.kernel.shape) != 2:
            raise ValueError(f"{caller}: CAM needs a Dense layer named {HEAD_NAME!r} after global pooling; "
                             f"use gradcam() for other models. Received: model {model.name!r} without one")
        if shape[-1] != head.kernel.shape[0]:
            raise ValueError(f"{caller}: CAM needs the layer that feeds global pooling before 'head' "
                             f"({head.kernel.shape[0]} channels). Received: layer_name={layer_name!r} "
                             f"with {shape[-1]} channels; use gradcam() for other layers")
    return layer_name


def _compiled(model, method, layer_name, image_shape, image_dtype, num_choices):
    """The cached function for `(method, layer_name, image shape [H, W, C], dtype, class choices K)`.

    Its signature, images [any batch, H, W, C] and class ids [K, any batch], lets one trace serve every batch.
    """
    key = (method, layer_name, tuple(image_shape), tf.as_dtype(image_dtype).name, num_choices)
    build = _cam_function if method == "cam" else _gradcam_function
    signature = [tf.TensorSpec([None, *image_shape], tf.as_dtype(image_dtype)),
                 tf.TensorSpec([num_choices, None], tf.int32)]
    return compiled(model, key, lambda model_ref: build(model_ref(), layer_name, signature))


def _checked_images(images, model, caller):
    """`images` as a NumPy array or tensor [B, H, W, C] of numbers that the model's input shape admits."""
    if not tf.is_tensor(images):
        if isinstance(images, (str, bytes, dict)) or images is None:
            raise ValueError(f"{caller}: Expected `images` as an array [batch, height, width, channels]. "
                             f"Received: images of type {type(images).__name__}")
        try:
            images = np.asarray(images)
        except ValueError as error:  # Ragged nested lists.
            raise ValueError(f"{caller}: Expected `images` as an array [batch, height, width, channels]. "
                             f"Received: {error}") from None
        if not (np.issubdtype(images.dtype, np.number) or images.dtype == bool):
            raise ValueError(f"{caller}: Expected numeric `images`. Received: images.dtype={images.dtype}")
    elif not (images.dtype.is_floating or images.dtype.is_integer or images.dtype.is_bool):
        raise ValueError(f"{caller}: Expected numeric `images`. Received: images.dtype={images.dtype.name}")
    if len(images.shape) != 4:
        raise ValueError(f"{caller}: Expected `images` of shape [batch, height, width, channels]. "
                         f"Received: images.shape={tuple(images.shape)}")
    expected = tuple(model.inputs[0].shape[1:])
    if len(expected) == 3 and any(e is not None and e != int(g) for e, g in zip(expected, images.shape[1:])):
        raise ValueError(f"{caller}: Expected `images` of the model's input shape [batch, "
                         f"{', '.join('any' if e is None else str(e) for e in expected)}]. "
                         f"Received: images.shape={tuple(images.shape)}")
    return images


def maps_and_logits(model, images, class_ids=(None,), method="cam", layer_name=None, *, batch_size=64,
                    caller=None):
    """The maps of several class choices and the logits, from one forward pass per chunk (not one per choice).

    Args:
        model, images, layer_name, batch_size: As `cam` / `gradcam`.
        class_ids: A sequence of K class choices, each as `cam`'s `class_ids`
            (None: the predicted class). Defaults to `(None,)`.
        method: `"cam"` or `"gradcam"`. Defaults to `"cam"`.
        caller: The public function's name, for error messages. Defaults to None: the method.

    Returns:
        `(maps, logits)`: a list of K float32 NumPy arrays `[B, H, W]` (as `cam`/`gradcam` give them), and
        float32 logits `[B, num_classes]`.

    Raises:
        ValueError: As `cam` / `gradcam`, or for an unknown `method`.
    """
    caller = caller or str(method)
    if method not in ("cam", "gradcam"):
        raise ValueError(f"{caller}: Expected `method` to be 'cam' or 'gradcam'. Received: method={method!r}")
    if not isinstance(model, keras.Model) or not getattr(model, "outputs", None):
        raise ValueError(f"{caller}: Expected a functional keras.Model (with symbolic inputs and outputs). "
                         f"Received: model of type {type(model).__name__}")
    layer_name = _check_feature_layer(model, layer_name, method, caller)
    images = _checked_images(images, model, caller)
    batch_size = checks.count("batch_size", batch_size, caller)
    count = int(images.shape[0])
    num_classes = int(model.outputs[0].shape[-1])
    class_ids = np.stack([np.full([count], -1, np.int32) if c is None else checks.class_ids(
        "class_ids", c, caller, num_classes=num_classes, length=count).astype(np.int32) for c in class_ids])
    height, width = int(images.shape[1]), int(images.shape[2])
    compute = _compiled(model, method, layer_name, images.shape[1:], images.dtype, len(class_ids))
    maps = [np.zeros([len(class_ids), 0, height, width], np.float32)]
    logits = [np.zeros([0, num_classes], np.float32)]
    for start in range(0, count, batch_size):
        chunk = tf.convert_to_tensor(images[start:start + batch_size])
        chunk_maps, chunk_logits = compute(chunk, tf.constant(class_ids[:, start:start + batch_size]))
        maps.append(chunk_maps.numpy())
        logits.append(tf.cast(chunk_logits, tf.float32).numpy())
    return list(np.concatenate(maps, axis=1)), np.concatenate(logits, axis=0)


def cam(model, images, class_ids=None, layer_name=None, *, batch_size=64):
    """Class activation maps (Zhou et al.): `features @ head.kernel[:, class]`, upsampled, normalised (module doc).

    Args:
        model: A functional `keras.Model` ending in feature layer -> `GlobalAveragePooling2D` ->
            `Dense(name="head")` (every `keras_cutmix.models` model).
        images: `[B, H, W, C]` pixels as the model takes them (NumPy or tensor; for `keras_cutmix.models`,
            0-255, uint8 or float).
        class_ids: `None` (each image's predicted class) or `B` ints in `[0, num_classes)`. Defaults to `None`.
        layer_name: The feature layer. Defaults to `cam_feature_layer_name(model)`; another layer must have
            the head's input channel count, and the map is then CAM only by analogy.
        batch_size: Images per call of the compiled function. Defaults to 64.

    Returns:
        float32 NumPy array `[B, H, W]`, each map in [0, 1] (all zeros if constant).

    Raises:
        ValueError: For a model without that tail, a bad `layer_name`,
            `images` not 4-D, bad `class_ids` or `batch_size`.

    References:
        - [Zhou et al., 2016](https://arxiv.org/abs/1512.04150)
    """
    return maps_and_logits(model, images, [class_ids], "cam", layer_name, batch_size=batch_size, caller="cam")[0][0]


def gradcam(model, images, class_ids=None, layer_name=None, *, batch_size=64):
    """Grad-CAM (Selvaraju et al.) of the class logit, upsampled and normalised as `cam` (module docstring).

    Args:
        model: A functional `keras.Model` whose (first) output is logits or class probabilities
            `[B, num_classes]` (then the Grad-CAM of the logits feeding its softmax or sigmoid).
        images, class_ids, batch_size: As `cam`.
        layer_name: Any layer with a 4-D output. Defaults to `cam_feature_layer_name(model)`.

    Returns:
        float32 NumPy array `[B, H, W]`, each map in [0, 1] (all zeros if constant, e.g. when every weighted
        sum is negative).

    Raises:
        ValueError: For a bad `layer_name` (or none given and no CAM tail), `images` not 4-D, bad `class_ids`
            or `batch_size`.

    References:
        - [Selvaraju et al., 2017](https://arxiv.org/abs/1610.02391)
    """
    return maps_and_logits(model, images, [class_ids], "gradcam", layer_name, batch_size=batch_size,
                           caller="gradcam")[0][0]
