"""The mixing layers under every Keras backend: in tf.data exactly as under TensorFlow, in a model a clear
error on JAX and PyTorch (README, "Keras backends").

Each backend runs backend_probe.py in its own process (the backend is chosen at import). JAX and PyTorch
(its CPU build) are installed by `make test` (the dev extra and the Makefile's TORCH).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def probe(backend, tmp_path):
    out = str(tmp_path / f"{backend}.npz")
    process = subprocess.run([sys.executable, os.path.join(HERE, "backend_probe.py"), out],
                             capture_output=True, text=True, cwd=REPO, timeout=300,
                             env=dict(os.environ, PYTHONPATH=REPO, KERAS_BACKEND=backend))
    assert process.returncode == 0, process.stderr[-3000:]
    with open(out + ".json") as f:
        info = json.load(f)
    assert info["backend"] == backend
    return dict(np.load(out)), info["model_errors"]


@pytest.fixture(scope="module")
def tensorflow_run(tmp_path_factory):
    return probe("tensorflow", tmp_path_factory.mktemp("tensorflow"))


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_layers_in_tf_data_equal_tensorflows_and_refuse_models(backend, tensorflow_run, tmp_path):
    expected, tf_errors = tensorflow_run
    arrays, errors = probe(backend, tmp_path)
    assert sorted(arrays) == sorted(expected)
    for key in expected:
        np.testing.assert_array_equal(arrays[key], expected[key], err_msg=key)
    # The probe really mixed (a layer that returned its input would pass the comparison above).
    for name in ("cutmix", "mixup"):
        assert not np.array_equal(expected[f"{name}_tuple_0_0_labels"].max(axis=1), np.ones(4)), name
        assert not np.array_equal(expected[f"{name}_tuple_0_0_images"], expected[f"{name}_tuple_1_0_images"])
    assert tf_errors == {"cutmix": None, "mixup": None, "cutout": None}
    for name, layer_name in (("cutmix", "CutMix"), ("mixup", "MixUp"), ("cutout", "Cutout")):
        assert errors[name].startswith(f"BackendError: {layer_name} mixes with TensorFlow ops"), errors[name]
        assert f"KERAS_BACKEND={backend!r}" in errors[name] and "tf.data" in errors[name], errors[name]
