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


def _imports(path, top_level_only=False):
    import ast  # pylint: disable=g-import-not-at-top

    tree = ast.parse(open(path).read())
    for node in (tree.body if top_level_only else ast.walk(tree)):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_every_import_is_installed_by_the_core_or_the_extras():
    """The core (mixing, compat, extras, checks, the package's __init__) imports only TensorFlow, Keras and
    NumPy at module level; the experiment packages and examples/ only what `keras_cutmix[captioning]` installs (so every
    example runs after `pip install keras_cutmix[experiments]`, captioning with its own extra). A test
    reference (cv2, sklearn, pytest) creeping into the library or a script fails here."""
    from keras_cutmix import extras  # pylint: disable=g-import-not-at-top

    stdlib = set(sys.stdlib_module_names)
    core = {"tensorflow", "keras", "numpy", "keras_cutmix"}
    # Keras itself installs h5py (its weights files) and tensorboard comes with the experiments extra.
    experiments = (core | set(extras.EXTRAS["experiments"]) | set(extras.EXTRAS["captioning"])
                   | {"tensorboard", "h5py"})
    offenders = []
    for folder, allowed in (("keras_cutmix", experiments), ("examples", experiments)):
        for root, _, files in os.walk(os.path.join(REPO, folder)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                path = os.path.join(root, name)
                relative = os.path.relpath(path, REPO)
                is_core = (relative.startswith("keras_cutmix/mixing/")
                           or relative in ("keras_cutmix/__init__.py", "keras_cutmix/compat.py",
                                           "keras_cutmix/extras.py", "keras_cutmix/checks.py"))
                # The core may import an experiment package lazily, inside a function that only an
                # experiment calls (compat's keras-hub decoder); at module level it may not.
                for module in _imports(path, top_level_only=is_core):
                    if module not in stdlib and module not in (core if is_core else allowed):
                        offenders.append(f"{relative}: {module}")
    assert not offenders, offenders


def test_test_files_have_unique_names():
    """tf_tests has no __init__.py files: pytest imports each test file by its base name, and two files of one
    name fail the whole collection ("import file mismatch"), which has broken a clean clone's run twice."""
    names = {}
    for root, _, files in os.walk(os.path.join(REPO, "tf_tests")):
        for name in files:
            if name.endswith(".py") and name != "conftest.py":  # pytest keeps conftest.py files apart.
                names.setdefault(name, []).append(os.path.relpath(os.path.join(root, name), REPO))
    assert not {n: p for n, p in names.items() if len(p) > 1}, {n: p for n, p in names.items() if len(p) > 1}
