"""The wheel a user installs: built with `python -m build`, installed without extras into a clean virtual
environment, it holds no experiment package and runs the README's two usage examples under TensorFlow and
JAX (where the layer-in-a-model example must give its one documented error).

Slow (a virtual environment with TensorFlow and JAX: about a minute from pip's cache, 2.7 GB on disk until the
module's tests end), and the one test that needs the package registry the first time on a machine.
"""

import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Installed by the extras (or pulled in by them), never by the core; TensorFlow itself brings absl-py,
# tensorboard and numpy, so those prove nothing either way.
EXPERIMENT_DISTRIBUTIONS = ("keras-hub", "keras_hub", "tensorflow-datasets", "tensorflow_datasets", "matplotlib",
                            "scipy", "numba", "pycocoevalcap", "kagglehub", "tensorflow-text", "tensorflow_text",
                            "opencv-python-headless", "scikit-learn", "pytest")


def readme_examples():
    """The python blocks of README's "Two ways to use it" section: (layer in a model, map function)."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    section = text[text.index("## Two ways to use it"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, f"expected two usage examples in README's section, found {len(blocks)}"
    return blocks


def run(command, **kwargs):
    process = subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)
    assert process.returncode == 0, f"{command}\n{process.stdout[-2000:]}\n{process.stderr[-4000:]}"
    return process.stdout


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory):
    """A virtual environment with only the built wheel (and jax, for the JAX backend) installed."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # Build from a copy: building writes into the source tree.
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy(os.path.join(REPO, name), source / name)
    shutil.copytree(os.path.join(REPO, "keras_cutmix"), source / "keras_cutmix",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = root / "dist"
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)])
    wheels = sorted(p.name for p in dist.glob("*.whl"))
    assert len(wheels) == 1 and len(list(dist.glob("*.tar.gz"))) == 1, os.listdir(dist)
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "install", "--quiet", str(dist / wheels[0])])
    frozen = run([python, "-m", "pip", "freeze"])
    run([python, "-m", "pip", "install", "--quiet", "jax"])
    yield python, dist / wheels[0], frozen
    shutil.rmtree(venv, ignore_errors=True)  # 2.7 GB (TensorFlow and JAX): not kept for the rest of the run.


def test_wheel_metadata_and_contents(clean_venv):
    _, wheel, _ = clean_venv
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "keras_cutmix/mixing/cutmix.py" in names and "keras_cutmix/extras.py" in names
    assert "keras_cutmix/models/weights/cam_vgg_synthetic_shapes.weights.h5" in names  # weights="synthetic_shapes"
    assert not any(n.startswith(("tf_tests/", "examples/")) for n in names)
    requires = sorted(line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist:")
                      and "extra ==" not in line)
    assert requires == ["keras>=3.0", "tensorflow>=2.16"], requires
    for field in ("Summary: Paper-exact CutMix", "License-Expression: Apache-2.0", "Requires-Python: >=3.9",
                  "Provides-Extra: experiments", "Provides-Extra: captioning", "Classifier: ",
                  "Project-URL: ", "Description-Content-Type: text/markdown", "## Two ways to use it"):
        assert field in metadata, field


def test_plain_install_holds_no_experiment_package(clean_venv):
    python, _, frozen = clean_venv
    installed = {line.split("==")[0].split(" @ ")[0].lower() for line in frozen.splitlines()}
    assert "keras_cutmix" in installed or "keras-cutmix" in installed, frozen
    assert "tensorflow" in installed and "keras" in installed
    assert not installed & set(EXPERIMENT_DISTRIBUTIONS), installed & set(EXPERIMENT_DISTRIBUTIONS)
    out = run([python, "-c", "import keras_cutmix, sys; print(keras_cutmix.__version__, keras_cutmix.__file__)\n"
                             "try:\n    import keras_cutmix.data\nexcept ImportError as e:\n    print(e)"],
              cwd=str(clean_venv[1].parent), env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    version, path = out.splitlines()[0].split(" ", 1)
    assert version == "0.1.0" and "site-packages" in path, out
    assert 'keras_cutmix.data needs tensorflow_datasets' in out and 'pip install "keras_cutmix[experiments]"' in out


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_readme_usage_examples_from_the_wheel(clean_venv, backend, tmp_path):
    python, _, _ = clean_venv
    in_model, in_tf_data = readme_examples()
    script = tmp_path / "examples.py"
    script.write_text(
        "import keras\n"
        f"assert keras.backend.backend() == {backend!r}\n"
        f"IN_MODEL = {in_model!r}\nIN_TF_DATA = {in_tf_data!r}\n"
        "from keras_cutmix.mixing.layers import BackendError\n"
        "try:\n"
        "    exec(IN_MODEL, {})\n"
        "    print('in_model: ran')\n"
        "except BackendError as error:\n"
        "    print('in_model:', error)\n"
        "scope = {}\n"
        "exec(IN_TF_DATA, scope)\n"
        "history = scope['model'].history.history\n"
        "import math\n"
        "assert len(history['loss']) == 1 and math.isfinite(history['loss'][0]), history\n"
        "batch = next(iter(scope['ds']))\n"
        "mixed = (batch[1].numpy() > 0).sum(axis=1)  # classes per target row: 2 where a pair of classes mixed\n"
        "assert tuple(batch[1].shape) == (64, 100) and mixed.max() == 2, mixed\n"
        "print('in_tf_data: ran')\n")
    out = run([python, str(script)], cwd=str(tmp_path),
              env=dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3"))
    lines = out.splitlines()
    assert "in_tf_data: ran" in lines, out[-2000:]
    if backend == "tensorflow":
        assert "in_model: ran" in lines, out[-2000:]
    else:
        expected = (f"in_model: CutMix mixes with TensorFlow ops and runs inside a model only under the TensorFlow "
                    f"backend. Received: KERAS_BACKEND={backend!r}. Mix in the tf.data pipeline instead")
        assert any(line.startswith(expected) for line in lines), out[-2000:]
