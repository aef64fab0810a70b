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


# Underscore names that are public by contract: namedtuple's methods.
PUBLIC_UNDERSCORE = {"_asdict", "_replace", "_fields", "_make"}
PRIVATE_MODULES = ("tensorflow.python", "keras.src", "keras_hub.src", "tensorflow_datasets.core.")


def _own_names():
    """Every name keras_cutmix defines (functions, classes, attributes it assigns, arguments, imports)."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[-1])
    return names


def _private_uses(path, own):
    """The private TF / Keras names a file uses: modules it imports, underscore attributes keras_cutmix does
    not define itself (`x._keras_history`, `self._get_variable_index()`), and such names given to getattr."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        found += [m for m in modules if m.startswith(PRIVATE_MODULES) or (m + ".").startswith(PRIVATE_MODULES)]
        if isinstance(node, ast.Attribute):
            found.append(node.attr)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr", "setattr", "delattr") and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            found.append(node.args[1].value)
    return sorted({name for name in found if "." in name or (
        name.startswith("_") and not name.startswith("__") and name not in own and name not in PUBLIC_UNDERSCORE)})


def test_compat_imports_nothing_from_keras_cutmix_and_is_the_only_private_door():
    tree = ast.parse(pathlib.Path(compat.__file__).read_text())
    imported = [n.module if isinstance(n, ast.ImportFrom) else a.name
                for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in (n.names if isinstance(n, ast.Import) else [None])]
    assert not [m for m in imported if m and m.startswith("keras_cutmix")], imported
    own = _own_names()
    offenders = {str(path.relative_to(PACKAGE.parent)): uses for path in sorted(PACKAGE.rglob("*.py"))
                 if path.name != "compat.py" and (uses := _private_uses(path, own))}
    assert not offenders, f"private TF/Keras use outside keras_cutmix/compat.py: {offenders}"
    # The check sees what compat.py itself uses (it would catch the same use anywhere else).
    assert {"_keras_history", "_get_variable_index", "_use_weight_decay", "_get_call_context",
            "tensorflow.python.ops.control_flow_util"} <= set(_private_uses(pathlib.Path(compat.__file__), own))


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


def _functional_model():
    inputs = keras.Input((6, 5, 3))
    features = keras.layers.Conv2D(4, 3, name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(pooled)), features


def test_keras_still_records_the_layer_of_a_symbolic_tensor(monkeypatch):
    model, features = _functional_model()
    head_input = model.get_layer("head").input
    assert hasattr(features, "_keras_history"), (
        f"Keras {keras.__version__} removed KerasTensor._keras_history: models.common then finds the CAM "
        f"feature layer by searching the model's layers. {FIX}")
    assert compat.producing_layer(features, model.layers) is model.get_layer("features")
    assert compat.producing_layer(head_input, model.layers) is model.get_layer("pool")
    # The fallback (Keras without the history) gives the same layers, with one warning.
    monkeypatch.setattr(compat, "_warned", set())
    with pytest.warns(RuntimeWarning, match="_keras_history"):
        for tensor, name in ((features, "features"), (head_input, "pool")):
            monkeypatch.setattr(tensor, "_keras_history", None)
            assert compat.producing_layer(tensor, model.layers) is model.get_layer(name)
        other = keras.Input((2,))  # A tensor of another graph: no layer of the model made it.
        monkeypatch.setattr(other, "_keras_history", None)
        assert compat.producing_layer(other, model.layers) is None


def test_keras_optimizers_still_index_and_decay_variables_privately(monkeypatch):
    kernel, bias = keras.Variable(np.ones((2, 2), "float32"), name="kernel"), keras.Variable([0.0], name="bias")
    optimizer = keras.optimizers.SGD(weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_list=[bias])
    optimizer.build([kernel, bias])
    for name in ("_get_variable_index", "_use_weight_decay"):
        assert hasattr(optimizer, name), (
            f"Keras {keras.__version__} removed Optimizer.{name}: TorchSGD falls back to matching variables "
            f"by path and decaying every one. {FIX}")
    paths = [kernel.path, bias.path]
    assert [compat.optimizer_variable_index(optimizer, v, paths) for v in (bias, kernel)] == [1, 0]
    assert [compat.optimizer_decays(optimizer, v) for v in (kernel, bias)] == [True, False]
    monkeypatch.setattr(compat, "_warned", set())
    monkeypatch.setattr(type(optimizer), "_get_variable_index", None)
    monkeypatch.setattr(type(optimizer), "_use_weight_decay", None)
    with pytest.warns(RuntimeWarning, match="_get_variable_index"):
        assert compat.optimizer_variable_index(optimizer, bias, paths) == 1
    with pytest.warns(RuntimeWarning, match="_use_weight_decay"):
        assert compat.optimizer_decays(optimizer, bias) is True  # Every variable, as TorchSGD excludes none.


def test_tfds_still_lists_its_data_folders(monkeypatch, tmp_path):
    folders = compat.tfds_data_dirs(str(tmp_path))
    assert folders is not None, f"tensorflow_datasets moved core.utils.file_utils.list_data_dirs. {FIX}"
    assert str(tmp_path) in [str(f) for f in folders]
    monkeypatch.setattr(compat, "_warned", set())
    monkeypatch.setitem(sys.modules, "tensorflow_datasets.core.utils", None)
    with pytest.warns(RuntimeWarning, match="list_data_dirs"):
        assert compat.tfds_data_dirs(str(tmp_path)) is None


def test_keras_still_counts_a_layers_calls(monkeypatch):
    dense = keras.layers.Dense(2)
    first, second = keras.Input((3,)), keras.Input((3,))
    dense(first)
    assert compat.call_count(dense) == 1, f"Keras {keras.__version__} changed Layer._inbound_nodes. {FIX}"
    dense(second)
    assert compat.call_count(dense) == 2
    monkeypatch.setattr(compat, "_warned", set())
    monkeypatch.setattr(dense, "_inbound_nodes", None)
    with pytest.warns(RuntimeWarning, match="_inbound_nodes"):
        assert compat.call_count(dense) is None  # Unknown: Grad-CAM then takes the log-probability path.
