"""The README and the scripts' docstrings say what the presets hold: commands, paper numbers, numbers reached."""

import ast
import pathlib
import re

import pytest

from keras_cutmix.captioning.run import PRESETS as CAPTION_PRESETS
from keras_cutmix.detection.run import PRESETS as DETECTION_PRESETS
from keras_cutmix.localization.presets import WSOL_PRESETS
from keras_cutmix.ood.presets import OOD_PRESETS
from keras_cutmix.robustness.presets import ROBUSTNESS_PRESETS
from keras_cutmix.training.config import CLASSIFICATION_PRESETS, COMPARE_EMBEDDED

REPO = pathlib.Path(__file__).resolve().parents[2]
METHODS = ("baseline", "mixup", "cutout", "cutmix")
# Every preset, the script whose docstring gives it, and whether the README gives its command / its numbers.
PRESETS = [(p, "classification.py", False, False) for p in CLASSIFICATION_PRESETS.values()]
PRESETS += [(COMPARE_EMBEDDED, "compare_methods.py", True, True)]
PRESETS += [(p, "cub_wsol.py", p.name.startswith("wsol"), p.name in ("wsol_demo", "wsol_embedded"))
            for p in WSOL_PRESETS.values()]
PRESETS += [(ROBUSTNESS_PRESETS["embedded"], "robustness.py", True, True),
            (ROBUSTNESS_PRESETS["imagenet_resnet50"], "robustness.py", False, True),
            (OOD_PRESETS["embedded"], "ood.py", True, True),
            (OOD_PRESETS["cifar100_pyramidnet200"], "ood.py", False, True),
            (DETECTION_PRESETS["embedded"], "voc_detection.py", True, True),
            (DETECTION_PRESETS["voc"], "voc_detection.py", False, False),
            (CAPTION_PRESETS["embedded"], "coco_captioning.py", True, True),
            (CAPTION_PRESETS["coco"], "coco_captioning.py", False, False)]
IDS = [f"{script}:{p.name}" for p, script, _, _ in PRESETS]


def _docstring(script):
    return ast.get_docstring(ast.parse((REPO / "examples" / script).read_text()))


def _commands(text):
    """Every `python examples/...` command of `text`, continuation lines joined, without --workdir /
    --models_dir (their paths differ between the README and the docstrings) or a venv prefix."""
    text = re.sub(r"\\\n\s*", " ", text)
    found = set()
    for match in re.finditer(r"python (examples/\S+\.py[^\n`#]*)", text):
        flags = [f for f in match.group(1).split()[1:] if not f.startswith(("--workdir=", "--models_dir="))]
        found.add(" ".join([match.group(1).split()[0]] + flags))
    return found


def _normalised(command):
    return next(iter(_commands(command)))


def _numbers(value):
    values = value.values() if hasattr(value, "values") else value if isinstance(value, tuple) else (value,)
    return [n for v in values for n in (_numbers(v) if hasattr(v, "values") or isinstance(v, tuple) else [v])]


def _number(n):
    """`n` as the documents write it: 2 decimals (16.45, 1.80) or 1 (8.2, 31.0)."""
    forms = {f"{n:.2f}"} | ({f"{n:.1f}"} if round(n, 1) == n else set())
    return "(?<![0-9.])(?:" + "|".join(re.escape(f) for f in forms) + ")(?![0-9])"


def _says(text, method, numbers):
    """Whether `text` names `method` (case aside) and then `numbers` in order, no other method in between."""
    other = "|".join(m for m in METHODS if m != method)
    between = rf"(?:(?!{other})[\s\S]){{0,80}}?"  # Up to 80 characters naming no other method.
    pattern = rf"{method}" + "".join(between + _number(n) for n in numbers)
    return re.search(pattern, text, re.IGNORECASE) is not None


@pytest.mark.parametrize("preset, script, in_readme, _", PRESETS, ids=IDS)
def test_the_command_is_the_scripts_and_the_readmes(preset, script, in_readme, _):
    assert preset.command.startswith(f"python examples/{script} ")
    assert _normalised(preset.command) in _commands(_docstring(script))
    if in_readme:
        assert _normalised(preset.command) in _commands((REPO / "README.md").read_text())


@pytest.mark.parametrize("preset, script, _, in_readme", PRESETS, ids=IDS)
def test_the_paper_numbers_and_the_numbers_reached_are_the_docstrings_and_the_readmes(preset, script, _, in_readme):
    documents = {"docstring": _docstring(script)}
    if in_readme:
        documents["README"] = (REPO / "README.md").read_text()
    for name, text in documents.items():
        for numbers in (preset.paper, preset.reached):
            for method, value in numbers.items():
                assert _says(text, method, _numbers(value)), (name, preset.name, method, _numbers(value))
