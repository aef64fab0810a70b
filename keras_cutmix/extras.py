"""The optional parts of keras_cutmix and the one error a missing one raises.

`pip install keras_cutmix` installs the core: the mixing layers, map functions and `mixed_loss`
(`keras_cutmix.mixing`), which need TensorFlow and Keras only; `import keras_cutmix` loads nothing else.
The paper's experiments (data sets, training, localization, robustness, OOD, detection, captioning,
pictures) need the extras below; each experiment package checks for what it needs when it is imported,
and a missing package raises one `ImportError` that names the extra to install.

    pip install "keras_cutmix[experiments]"   # examples/*.py, make demo
    pip install "keras_cutmix[captioning]"    # + caption scoring (pycocoevalcap; Java for METEOR)
"""

import importlib
import importlib.util
import sys

# Extra -> the import names of what it installs (keras-hub only on Python >= 3.11).
EXTRAS = {
    "experiments": ("tensorflow_datasets", "absl", "matplotlib", "scipy", "numba", "keras_hub", "safetensors"),
    "captioning": ("pycocoevalcap",),
}


def _missing(module):
    if module in sys.modules:
        return sys.modules[module] is None  # None: imports of it are blocked.
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def require(feature, modules, extra="experiments"):
    """Raises one `ImportError` naming `extra` unless every module of `modules` can be imported.

    Args:
        feature: What needs them, for the message (e.g. "keras_cutmix.data").
        modules: Import names (e.g. `("tensorflow_datasets",)`).
        extra: The extra that installs them. Defaults to "experiments".

    Raises:
        ImportError: naming the missing modules and `pip install "keras_cutmix[extra]"`.
    """
    missing = [m for m in modules if _missing(m)]
    if missing:
        hint = " keras-hub needs Python >= 3.11." if "keras_hub" in missing and sys.version_info < (3, 11) else ""
        raise ImportError(f"{feature} needs {', '.join(missing)}, which this environment lacks: pip install "
                          f"\"keras_cutmix[{extra}]\".{hint} (The core, keras_cutmix's layers, map functions and "
                          "mixed_loss, needs only TensorFlow and Keras.)")


def require_extra(feature, extra="experiments"):
    """`require` for everything `extra` installs that is needed at import (keras-hub is checked at use).

    Args:
        feature: The package being imported (e.g. "keras_cutmix.data").
        extra: A key of `EXTRAS`. Defaults to "experiments".
    """
    modules = EXTRAS["experiments"] if extra == "experiments" else EXTRAS["experiments"] + EXTRAS[extra]
    require(feature, tuple(m for m in modules if m != "keras_hub"), extra)


def import_optional(module, feature, extra="experiments"):
    """`importlib.import_module(module)`, or the `require` error when it is not installed.

    Args:
        module: Import name (e.g. "keras_hub").
        feature, extra: As `require`.

    Returns:
        The module.
    """
    require(feature, (module,), extra)
    return importlib.import_module(module)
