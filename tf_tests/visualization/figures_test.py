"""One rule for pictures: the library never picks a Matplotlib backend, and every picture is saved by
`keras_cutmix.visualization.figures.save_figure`."""

import ast
import os
import pathlib
import subprocess
import sys

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np

import keras_cutmix
from keras_cutmix.visualization import figures, plot_mix_grid

PACKAGE = pathlib.Path(keras_cutmix.__file__).parent
REPO = PACKAGE.parent


def test_importing_every_module_keeps_the_users_backend():
    """A backend the user chose (MPLBACKEND=svg) is still the backend after importing every module of
    keras_cutmix (a module calling `matplotlib.use("Agg")` at import turns it into "agg"). Fresh process:
    this one has imported everything long ago."""
    code = ("import importlib, pkgutil, sys\n"
            "import keras_cutmix\n"
            "names = [m.name for m in pkgutil.walk_packages(keras_cutmix.__path__, 'keras_cutmix.')]\n"
            "for name in names:\n"
            "    importlib.import_module(name)\n"
            "import matplotlib\n"
            "print(len(names), matplotlib.get_backend())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="svg"))
    assert out.returncode == 0, out.stderr[-3000:]
    count, backend = out.stdout.split()[-2:]
    assert int(count) > 80, out.stdout  # Every module was imported, not just the package.
    assert backend == "svg", f"importing keras_cutmix changed the Matplotlib backend to {backend!r}"


def _calls_and_imports(path):
    """(dotted name of every call, every imported module) of a Python file."""
    tree = ast.parse(path.read_text())
    calls = [ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)]
    imports = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imports += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    return calls, imports


def test_no_library_module_picks_a_backend_or_saves_a_figure_its_own_way():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(REPO))
        calls, imports = _calls_and_imports(path)
        offenders += [f"{name}: {call}()" for call in calls if call.endswith("matplotlib.use")]
        offenders += [f"{name}: imports {module}" for module in imports if module.startswith("matplotlib.pyplot")]
        if path.name != "figures.py":
            offenders += [f"{name}: {call}()" for call in calls if call.endswith((".savefig", "Figure"))]
    assert not offenders, f"pictures must go through keras_cutmix/visualization/figures.py: {offenders}"


def test_save_figure_writes_the_figure_at_its_size_and_leaves_pyplot_alone(tmp_path):
    open_before = plt.get_fignums()
    figure, axes = figures.new_figure(2, 3, figsize=(3.0, 2.0), dpi=40, squeeze=False)
    assert axes.shape == (2, 3)
    axes[0][0].imshow(np.full((4, 4, 3), 255, np.uint8))
    path = tmp_path / "f.png"
    assert figures.save_figure(figure, path) == path
    assert matplotlib.image.imread(path).shape[:2] == (2.0 * 40, 3.0 * 40)  # Inches x dots per inch.
    figures.save_figure(figure, tmp_path / "g.png", dpi=20)
    assert matplotlib.image.imread(tmp_path / "g.png").shape[:2] == (2.0 * 20, 3.0 * 20)
    # A library picture opens no pyplot figure (nothing for a notebook to show twice, nothing to leak).
    images = np.zeros((2, 6, 7, 3), np.uint8)
    labels = np.eye(2, dtype=np.float32)
    plot_mix_grid(str(tmp_path / "m.png"), images, labels, [], ["a", "b"])
    assert plt.get_fignums() == open_before
