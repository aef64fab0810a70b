"""Test session setup: quiet TF logs, and two logical CPU devices for tf.distribute tests.

Logical devices must be configured before TensorFlow initialises its devices, so it happens here, at
collection time, before any test runs an op.
"""

import os

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
