"""The package's layers: lower areas never import higher ones, and no module-level import cycle exists.

mixing, models, data, visualization, checks and compat at the bottom; training above them; the experiment
areas (localization, robustness, ood, detection, captioning) on top. Any import counts for the layers, even
one inside a function; for cycles, the imports a module runs when it is imported (module level).
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "keras_cutmix"
LEVEL = {"compat": 0, "extras": 0, "checks": 1, "mixing": 1, "models": 1, "data": 1, "visualization": 1,
         "training": 2, "localization": 3, "robustness": 3, "ood": 3, "detection": 3, "captioning": 3}


def _modules():
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("keras_cutmix",) + path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(path, module_level):
    tree = ast.parse(path.read_text())
    for node in (tree.body if module_level else ast.walk(tree)):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("keras_cutmix"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("keras_cutmix"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                yield sub if sub in MODULES else node.module


def _area(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_area_has_a_level():
    assert {_area(m) for m in MODULES} - {None} == set(LEVEL)


def layer_violations(modules=MODULES):
    bad = []
    for module, path in modules.items():
        for imported in _imports(path, module_level=False):
            low, high = _area(module), _area(imported)
            if low in LEVEL and high in LEVEL and LEVEL[high] > LEVEL[low]:
                bad.append(f"{module} imports {imported}")
    return sorted(set(bad))


def test_no_module_imports_a_higher_layer():
    assert layer_violations() == []


def test_the_check_sees_a_lower_layer_importing_a_higher_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from keras_cutmix.training import train\n")
    assert layer_violations({"keras_cutmix.models.bad": bad}) == ["keras_cutmix.models.bad imports "
                                                                  "keras_cutmix.training.train"]


def import_cycles(modules=MODULES):
    graph = {m: set(_imports(p, module_level=True)) & set(modules) - {m} for m, p in modules.items()}
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_import_cycle():
    assert import_cycles() == []


@pytest.mark.parametrize("second", ["keras_cutmix.data.b"])
def test_the_check_sees_a_cycle(tmp_path, second):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(f"from {second} import x\n")
    b.write_text("import keras_cutmix.data.a\n")
    assert import_cycles({"keras_cutmix.data.a": a, second: b}) == [
        ["keras_cutmix.data.a", "keras_cutmix.data.b", "keras_cutmix.data.a"]]
