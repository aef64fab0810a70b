"""The private TensorFlow and Keras internals behind keras_cutmix/compat.py still exist and still mean what
we rely on. A failure here names what a TF or Keras upgrade removed or changed, and where to fix it.
"""

import ast
import pathlib
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix import compat

FIX = "Update keras_cutmix/compat.py (the only module that touches it)."
PACKAGE = pathlib.Path(compat.__file__).parent


def test_tensorflow_still_has_the_private_xla_context_check():
    assert compat._graph_in_xla is not None, (
        f"TensorFlow {tf.__version__} no longer has tensorflow.python.ops.control_flow_util."
        f"GraphOrParentsInXlaContext: CutMix then pastes with the XLA-friendly path everywhere (slower). {FIX}"
    )


def test_in_xla_context_tells_xla_from_graphs_and_eager():
    seen = {}

    def probe(name):
        seen[name] = compat.in_xla_context()
        return tf.constant(0)

    probe("eager")
    tf.function(lambda: probe("graph"))()
    tf.function(lambda: probe("xla"), jit_compile=True)()
    tf.function(lambda: tf.function(lambda: probe("nested_xla"))(), jit_compile=True)()
    tf.data.Dataset.range(1).map(lambda _: probe("tf.data")).get_single_element()
    expected = {"eager": False, "graph": False, "xla": True, "nested_xla": True, "tf.data": False}
    assert seen == expected, f"compat.in_xla_context() answers {seen}, expected {expected}. {FIX}"


def test_in_xla_context_is_importable_from_the_mixing_package():
    from keras_cutmix.mixing.apply import in_xla_context

    assert in_xla_context is compat.in_xla_context


def test_keras_still_has_the_private_call_context():
    layer = keras.layers.Identity()
    assert hasattr(layer, "_get_call_context"), (
        f"Keras {keras.__version__} removed Layer._get_call_context: the mixing layers can no longer tell "
        f"'called on its own' from 'called by a model' and fall back to mixing only with training=True. {FIX}"
    )


class Probe(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.answers = []

    def call(self, x):
        self.answers.append(compat.is_outermost_call(self))
        return x


def test_is_outermost_call_tells_a_standalone_call_from_a_call_by_a_model():
    probe = Probe()
    x = np.zeros((2, 3), "float32")
    probe(x)
    tf.function(lambda t: probe(t))(x)
    model = keras.Sequential([keras.Input((3,)), probe])
    probe.answers.clear()  # Building the model calls the layer symbolically.
    probe(x)
    model(x)
    model.predict(x, verbose=0)
    assert probe.answers[0] is True and probe.answers[1] is False and False in probe.answers[2:], (
        f"compat.is_outermost_call answered {probe.answers}: Keras {keras.__version__} changed "
        f"CallContext.entry_layer. {FIX}"
    )


def test_compat_imports_nothing_from_keras_cutmix_and_is_the_only_private_door():
    tree = ast.parse(pathlib.Path(compat.__file__).read_text())
    imported = [n.module if isinstance(n, ast.ImportFrom) else a.name
                for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in (n.names if isinstance(n, ast.Import) else [None])]
    assert not [m for m in imported if m and m.startswith("keras_cutmix")], imported
    private = ("tensorflow.python", "_get_call_context", "_allow_non_tensor_positional_args",
               "_convert_input_args", "keras.src")
    offenders = [f"{path.relative_to(PACKAGE.parent)}: {word}"
                 for path in (PACKAGE / "mixing").glob("*.py") for word in private
                 if word in path.read_text()]
    assert not offenders, f"private TF/Keras use outside keras_cutmix/compat.py: {offenders}"


@pytest.mark.parametrize("missing", ["xla", "call_context"])
def test_fallbacks_warn_once_and_answer_safely(monkeypatch, missing):
    monkeypatch.setattr(compat, "_warned", set())
    if missing == "xla":
        monkeypatch.setattr(compat, "_graph_in_xla", None)
        check = tf.function(lambda: tf.constant(compat.in_xla_context()), jit_compile=True)
    else:
        probe = keras.layers.Identity()
        monkeypatch.setattr(type(probe), "_get_call_context", lambda self: object(), raising=True)

        def check():
            return compat.is_outermost_call(probe)
    with pytest.warns(RuntimeWarning, match="keras_cutmix.compat: .* is missing"):
        assert not bool(check())


def test_keras_hub_non_max_suppression_is_there_and_degrades_to_none(monkeypatch):
    decoder = compat.keras_hub_non_max_suppression(bounding_box_format="yxyx", from_logits=True,
                                                   confidence_threshold=0.01, iou_threshold=0.5, max_detections=7)
    assert decoder is not None, "keras-hub moved NonMaxSuppression: update keras_cutmix/compat.py"
    assert decoder.confidence_threshold == 0.01 and decoder.max_detections == 7
    monkeypatch.setattr(compat, "_warned", set())
    monkeypatch.setitem(sys.modules, "keras_hub.src.layers.modeling.non_max_supression", None)
    with pytest.warns(RuntimeWarning, match="NonMaxSuppression"):
        assert compat.keras_hub_non_max_suppression(bounding_box_format="yxyx") is None


def test_keras_still_has_the_input_conversion_switches_of_its_data_layers():
    """What Keras's DataLayer sets to run on TF tensors in tf.data under JAX / torch (compat.tf_tensor_inputs);
    backends_test.py runs the layers under those backends."""
    layer = keras.layers.Identity()
    for name in ("_convert_input_args", "_allow_non_tensor_positional_args"):
        assert hasattr(layer, name), (
            f"Keras {keras.__version__} removed Layer.{name}: the mixing layers no longer run inside tf.data "
            f"under the JAX and torch backends (the map functions still do). {FIX}")
    before = (layer._convert_input_args, layer._allow_non_tensor_positional_args)
    with compat.tf_tensor_inputs(layer):
        assert (layer._convert_input_args, layer._allow_non_tensor_positional_args) == (False, True)
    assert (layer._convert_input_args, layer._allow_non_tensor_positional_args) == before
