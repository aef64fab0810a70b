"""Test session setup: quiet TF logs, and two logical CPU devices for tf.distribute tests.

Logical devices must be configured before TensorFlow initialises its devices, so it happens here, at
collection time, before any test runs an op.
"""

import os
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
except RuntimeError:  # Devices were already initialised (e.g. conftest imported twice); tests adapt.
    pass


@pytest.fixture
def run_script(tmp_path):
    """`run(script, flag) -> (exit status, stderr, workdir)`: examples/<script> with --workdir=tmp_path/w and
    one more flag, in a subprocess on this checkout (the scripts' one-line flag errors). TensorFlow's own
    start-up lines (I0000 ..., W0000 ..., E0000 ..., "WARNING: All log messages ...") and blank lines are
    left out of stderr, so that it holds the script's own output only."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    workdir = tmp_path / "w"

    def run(script, flag):
        process = subprocess.run(
            [sys.executable, os.path.join(repo, "examples", script), f"--workdir={workdir}", flag],
            capture_output=True, text=True, cwd=repo, timeout=120,
            env=dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="2"))
        ours = [line for line in process.stderr.splitlines()
                if line.strip() and not line.startswith(("I0000", "W0000", "E0000", "WARNING: All log messages"))]
        return process.returncode, "\n".join(ours), workdir

    return run
