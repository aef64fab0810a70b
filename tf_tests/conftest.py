"""Test session setup: quiet TF logs, two logical CPU devices for tf.distribute tests, the same global seeds at
the start of every test; the shared fixtures (`run_script`, `example`, `tiny_birds_dir`, `tiny_shapes_dir`).

Logical devices must be configured before TensorFlow initialises its devices, so it happens here, at
collection time, before any test runs an op.
"""

import importlib.util
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from helpers import REPO, run_example, script_lines  # noqa: E402  (tf_tests/)

_cpus = tf.config.list_physical_devices("CPU")
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
except RuntimeError:  # Devices were already initialised (e.g. conftest imported twice); tests adapt.
    pass


@pytest.fixture(autouse=True)
def _same_global_seeds():
    """Every test starts from global seed 0 (Python, NumPy, TensorFlow, Keras), whatever ran before it.

    TensorFlow's op-level seeds (`data.load(seed=1)`'s shuffle, `tf.data.Dataset.random(seed=...)`) are combined
    with the global seed, so a test that sets none saw the data of whichever seed an earlier test on its xdist
    worker left: which tests share a worker changes from run to run.
    """
    keras.utils.set_random_seed(0)


@pytest.fixture
def run_script(tmp_path):
    """`run(script, flag) -> (exit status, stderr, workdir)`: examples/<script> with --workdir=tmp_path/w and
    one more flag, on this checkout (`run_example`: the scripts' one-line flag errors). TensorFlow's own
    start-up lines (I0000 ..., W0000 ..., E0000 ..., "WARNING: All log messages ...") and blank lines are
    left out of stderr, so that it holds the script's own output only."""
    workdir = tmp_path / "w"

    def run(script, flag):
        process = run_example([os.path.join(REPO, "examples", script), f"--workdir={workdir}", flag], tmp_path)
        return process.returncode, "\n".join(script_lines(process.stderr)), workdir

    return run


_EXAMPLES = {}


def _import_example(name):
    if name not in _EXAMPLES:
        spec = importlib.util.spec_from_file_location(f"{name}_example", os.path.join(REPO, "examples", f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _EXAMPLES[name] = module
    return _EXAMPLES[name]


@pytest.fixture(scope="session")
def example():
    """`example(name)`: examples/<name>.py imported as a module (once per session), to test its functions. The
    scripts define their absl flags only when run as scripts, so several can be imported side by side."""
    return _import_example


def _tiny_embedded(tmp_path_factory, name, builder, num_train, num_test):
    """A data dir where embedded data set `name`'s default config is built with `num_train` / `num_test`
    examples, through the loader's own path (`data.prepare`)."""
    from keras_cutmix import data  # pylint: disable=g-import-not-at-top

    config = builder.BUILDER_CONFIGS[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "num_train", num_train)
        patch.setattr(config, "num_test", num_test)
        data_dir = str(tmp_path_factory.mktemp(f"tfds_{name}_tiny"))
        data.prepare(name, data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="session")
def tiny_birds_dir(tmp_path_factory):
    """synthetic_birds' default config built with 24 / 12 examples. Shared: tests only read it."""
    from keras_cutmix.data.synthetic_birds import SyntheticBirds  # pylint: disable=g-import-not-at-top

    return _tiny_embedded(tmp_path_factory, "synthetic_birds", SyntheticBirds, 24, 12)


@pytest.fixture(scope="session")
def tiny_shapes_dir(tmp_path_factory):
    """synthetic_shapes' default config built with 32 / 16 examples. Shared: tests only read it."""
    from keras_cutmix.data.synthetic_shapes import SyntheticShapes  # pylint: disable=g-import-not-at-top

    return _tiny_embedded(tmp_path_factory, "synthetic_shapes", SyntheticShapes, 32, 16)
