"""`import keras_cutmix` loads nothing beyond TensorFlow and Keras; a missing extra is one clear ImportError.

Each check runs in a fresh interpreter: the test process has long imported everything.
"""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_python(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300,
                         env=dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3"))
    return out


def test_import_loads_nothing_tensorflow_and_keras_do_not():
    """(TensorFlow itself imports scipy, matplotlib, jax... where they are installed: only the difference
    counts. wheel_test.py checks a core install, where none of them is.)"""
    out = run_python(
        "import sys, tensorflow, keras\n"
        "before = set(sys.modules)\n"
        "import keras_cutmix as kc\n"
        "kc.CutMix(num_classes=3); kc.cutmix_fn\n"
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))\n")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['keras_cutmix']", out.stdout


@pytest.mark.parametrize("package,blocked,extra", [
    ("keras_cutmix.data", "tensorflow_datasets", "experiments"),
    ("keras_cutmix.training", "matplotlib", "experiments"),
    ("keras_cutmix.localization", "numba", "experiments"),
    ("keras_cutmix.visualization", "scipy", "experiments"),
    ("keras_cutmix.captioning", "pycocoevalcap", "captioning"),
])
def test_a_missing_extra_is_one_import_error_naming_it(package, blocked, extra):
    # sys.modules[name] = None makes every import of `name` fail, as if it were not installed.
    out = run_python(f"import sys; sys.modules[{blocked!r}] = None\n"
                     "import keras_cutmix\n"
                     "try:\n"
                     f"    import {package}\n"
                     "except ImportError as error:\n"
                     "    print('ImportError:', error)\n")
    assert out.returncode == 0, out.stderr[-2000:]
    message = out.stdout.strip().splitlines()[-1]
    assert message.startswith(f"ImportError: {package} needs {blocked}"), message
    assert f'pip install "keras_cutmix[{extra}]"' in message, message
