"""No float64 in the mixing graph (TPUs have none), and the precision that holds without it.

- A training step of a model holding a mixing layer (and its mixed loss) is traced, and every op of the
  graph, nested function bodies included, is checked for float64 outputs or attributes.
- The CutMix label weight `1 - pasted / (H * W)` is computed in float32 and is still the exactly rounded
  fraction, eagerly, in `tf.function`, under XLA and in `tf.data` (compilers rewrite `x / c` as
  `x * (1 / c)`, which would round twice).
The cross-mode tolerances of blends and mixed labels (1 float32 ulp; 1 grey level for uint8) are tested
in apply_test.py.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from keras_cutmix.mixing import cutmix

DOUBLE = tf.float64.as_datatype_enum


def _double_attrs(nodes, where):
    found = []
    for node in nodes:
        for key, attr in node.attr.items():
            if attr.type == DOUBLE or DOUBLE in attr.list.type or attr.tensor.dtype == DOUBLE:
                found.append(f"{where}: {node.op} '{node.name}' attr {key}")
    return found


def float64_in_graph(concrete):
    """Descriptions of every float64 output or attribute in `concrete`'s graph and its function library."""
    graph = concrete.graph
    found = [f"outer: {op.type} '{op.name}' output {i}"
             for op in graph.get_operations() for i, t in enumerate(op.outputs) if t.dtype == tf.float64]
    graph_def = graph.as_graph_def()
    found += _double_attrs(graph_def.node, "outer")
    for function in graph_def.library.function:
        name = function.signature.name
        found += _double_attrs(function.node_def, name)
        args = list(function.signature.input_arg) + list(function.signature.output_arg)
        found += [f"{name}: argument {a.name}" for a in args if a.type == DOUBLE]
    return found, len(graph_def.library.function)


def _model(layer, dtype):
    inputs = keras.Input((8, 10, 3), dtype=dtype)
    x = layer(inputs)
    x = keras.layers.Rescaling(1.0 / 255)(x)
    x = keras.layers.Conv2D(4, 3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4)(x))


@pytest.mark.parametrize("name,dtype", [("CutMix", "uint8"), ("CutMix", "float32"), ("MixUp", "uint8"),
                                        ("MixUp", "float32"), ("Cutout", "uint8")])
def test_train_step_of_a_model_with_a_mixing_layer_holds_no_float64(name, dtype):
    kwargs = {"size": 3} if name == "Cutout" else {"alpha": 0.4, "per_sample": True}
    layer = getattr(kc, name)(num_classes=4, seed=1, label_smoothing=0.1, **kwargs)
    model = _model(layer, dtype)
    loss_fn = layer.mixed_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    optimizer = keras.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    concrete = train_step.get_concrete_function(tf.TensorSpec([None, 8, 10, 3], dtype),
                                                tf.TensorSpec([None], tf.int32))
    found, _ = float64_in_graph(concrete)
    assert not found, "float64 in the training graph:\n" + "\n".join(found)
    # The step runs, and the layer really is in the traced graph.
    images = tf.cast(tf.random.stateless_uniform([6, 8, 10, 3], [1, 2], maxval=255), dtype)
    assert np.isfinite(train_step(images, tf.constant([0, 1, 2, 3, 0, 1])).numpy())


@pytest.mark.parametrize("fn", [kc.cutmix_fn, kc.mixup_fn])
def test_map_functions_hold_no_float64_in_graphs_and_xla(fn):
    def mix(images, labels, seed):
        return fn(images, labels, num_classes=5, alpha=0.3, per_sample=True, label_smoothing=0.1, seed=seed)

    specs = (tf.TensorSpec([6, 8, 10, 3], tf.uint8), tf.TensorSpec([6], tf.int64), tf.TensorSpec([2], tf.int64))
    for jit in (False, True):
        found, _ = float64_in_graph(tf.function(mix, jit_compile=jit).get_concrete_function(*specs))
        assert not found, f"float64 (jit_compile={jit}):\n" + "\n".join(found)


def test_float64_detector_sees_nested_function_bodies():
    # The check itself: a float64 cast inside a tf.cond branch (a nested function body) is found.
    @tf.function
    def nested(x):
        return tf.cond(x > 0, lambda: tf.cast(tf.cast(x, tf.float64) * 2, tf.float32), lambda: x)

    found, functions = float64_in_graph(nested.get_concrete_function(tf.TensorSpec([], tf.float32)))
    assert functions >= 2 and found and all("outer" not in f for f in found), found


SIZES = [(5, 7), (7, 7), (37, 53), (224, 224), (299, 301), (3, 1000), (1000, 999)]


def _random_boxes(rng, height, width, count=2048):
    y0, x0 = rng.integers(0, height + 1, count), rng.integers(0, width + 1, count)
    y1 = np.minimum(height, y0 + rng.integers(0, height + 1, count))
    x1 = np.minimum(width, x0 + rng.integers(0, width + 1, count))
    return np.stack([y0, x0, y1, x1], axis=1).astype(np.int32)


@pytest.mark.parametrize("height,width", SIZES)
def test_cutmix_weight_is_the_exactly_rounded_kept_fraction_in_every_mode(height, width):
    rng = np.random.default_rng(height * width)
    boxes = _random_boxes(rng, height, width)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    # float64 division is correctly rounded, and a ratio of integers below 2**31 never lies within 2**-53
    # of a float32 rounding boundary, so rounding it to float32 gives the exactly rounded fraction.
    expected = ((height * width - area) / (height * width)).astype(np.float32)

    def weight(b):
        return cutmix.kept_fraction(b, height, width)

    runs = {
        "eager": weight(tf.constant(boxes)),
        "tf.function": tf.function(weight)(tf.constant(boxes)),
        "XLA": tf.function(weight, jit_compile=True)(tf.constant(boxes)),
        "tf.data": next(iter(tf.data.Dataset.from_tensors(boxes).map(weight))),
    }
    for mode, got in runs.items():
        assert got.dtype == tf.float32
        wrong = int(np.sum(got.numpy() != expected))
        assert wrong == 0, f"{mode}: {wrong} of {len(boxes)} weights are not the exactly rounded fraction"


def test_sampled_cutmix_weight_is_exact_under_xla():
    # The weight sample_cutmix returns, compiled, against the NumPy fraction of its own integer boxes.
    sample = tf.function(lambda s: cutmix.sample_cutmix(s, 64, 37, 53, alpha=0.5, per_sample=True),
                         jit_compile=True)
    for seed in range(5):
        mix = sample(tf.constant([seed, 7], tf.int64))
        boxes = mix["boxes"].numpy()
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        np.testing.assert_array_equal(mix["mix_weight"].numpy(), ((37 * 53 - area) / (37 * 53)).astype(np.float32))
