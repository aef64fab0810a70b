"""`Preset`: one experiment as big_vision's config files hold it, in one frozen object.

    preset = training.CLASSIFICATION_PRESETS["pyramidnet200_cifar100"]
    preset.recipe["lr"]          # 0.25: the `Config` fields (or a script's options)
    preset.paper["cutmix"]       # {"top1_error": 14.47, "top5_error": 2.97}: the paper's table
    preset.command               # the exact command, as the script's docstring gives it
    preset.time_here, preset.reached   # how long it took here and the numbers it reached

Every kind of experiment (classification, localization, robustness, OOD) keeps its presets in this shape, so a
paper number, a command or a measured number lives in one place; `tf_tests/training/presets_docs_test.py`
checks that the README and the scripts' docstrings say the same.
"""

import dataclasses
import types
from typing import Any, Mapping


def _frozen(value):
    """A read-only copy of nested dicts (tuples and numbers stay as they are)."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return value


@dataclasses.dataclass(frozen=True)
class Preset:
    """A recipe, the paper's numbers for its table, the command, the time here and what it reached.

    Attributes:
        name: The preset's key (the scripts' `--config` / `--preset` value).
        recipe: `Config` fields, or the options of the script that runs it.
        paper: The paper's numbers of its table, `{method: number or {metric: number}}`; empty when the
            paper has no such run. Defaults to empty.
        paper_table: Where `paper` comes from, e.g. "Table 4". Defaults to "".
        command: The exact command (without `python`'s path), as the script's docstring gives it.
            Defaults to "".
        time_here: How long `command` took on this project's machines. Defaults to "".
        reached: The numbers `command` reached here, `{method: number or {metric: number}}`. Defaults
            to empty.
    """

    name: str
    recipe: Mapping[str, Any]
    paper: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    paper_table: str = ""
    command: str = ""
    time_here: str = ""
    reached: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for name in ("recipe", "paper", "reached"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def fields(self, **overrides):
        """`recipe` as a plain dict with `overrides` applied last."""
        return {**{k: dict(v) if isinstance(v, Mapping) else v for k, v in self.recipe.items()}, **overrides}
