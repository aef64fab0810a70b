"""Runs an example script as `python examples/<script> FLAGS...` would, with tfds' mock data in place of
the real data set: `python mock_run.py NUM_EXAMPLES LOGICAL_CPUS SCRIPT FLAGS...`.

The script itself runs unpatched (`runpy`, as `__main__`); only tensorflow-datasets reads generated
examples with the real data set's features (`tfds.testing.mock_data`). LOGICAL_CPUS > 1 splits the CPU into
that many logical devices first, so that `--strategy=mirrored` runs on several devices as on several GPUs.
"""

import os
import runpy
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402


def main():
    num_examples, logical_cpus, script = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(logical_cpus)])
    sys.argv = [script] + sys.argv[4:]
    with tfds.testing.mock_data(num_examples=num_examples):
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
