"""The package's one cache of compiled functions per model (keras_cutmix/models/function_cache.py)."""

import gc
import pathlib
import weakref

import keras
import numpy as np

import keras_cutmix
from keras_cutmix import localization, ood, robustness
from keras_cutmix.models import function_cache

PACKAGE = pathlib.Path(keras_cutmix.__file__).parent


def tiny_model(seed):
    """conv "features" -> GAP -> Dense("head"): a model CAM, OOD scores and robustness all take."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6, 9, 3))
    features = keras.layers.Conv2D(4, 3, padding="same", name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(pooled))


def test_the_areas_share_one_entry_per_model_and_it_goes_with_the_model():
    images = np.random.default_rng(0).uniform(0, 1, (5, 6, 9, 3)).astype(np.float32)
    # Earlier tests' models may be garbage the collector has not freed yet: the gc.collect() below would free
    # them too and the count would drop by more than this test's models (CI saw 1 == 15 + 1). Free them first.
    gc.collect()
    before = function_cache.cached_models()
    first, second = tiny_model(0), tiny_model(1)
    robustness.predicted_classes(first, images, pixel_scale=1.0, batch_size=2)
    localization.cam(first, images, batch_size=3)
    ood.max_softmax_score(first, images, batch_size=4)
    robustness.predicted_classes(second, images, pixel_scale=1.0)
    # One entry per model, holding what each area built for it (CAM's key: method, layer, shape, dtype, K).
    assert function_cache.cached_models() == before + 2
    assert function_cache.cached_keys(first) == {("predict", 1.0), ("outputs",),
                                                 ("cam", "features", (6, 9, 3), "float32", 1)}
    assert function_cache.cached_keys(second) == {("predict", 1.0)}
    # A second call reuses the cached function rather than building another.
    predict = function_cache.compiled(first, ("predict", 1.0), lambda model_ref: None)
    robustness.predicted_classes(first, images, pixel_scale=1.0, batch_size=5)
    assert function_cache.compiled(first, ("predict", 1.0), lambda model_ref: None) is predict
    # The cached functions hold their model weakly: freeing a model frees it and its entry.
    first_ref, second_ref = weakref.ref(first), weakref.ref(second)
    del first, predict
    gc.collect()
    assert first_ref() is None
    assert function_cache.cached_models() == before + 1
    del second
    gc.collect()
    assert second_ref() is None
    assert function_cache.cached_models() == before


def test_compiled_builds_once_per_model_and_key_with_a_weak_reference():
    class Model:  # Any weakly referenceable object will do.
        pass

    built = []

    def build(model_ref):
        built.append(model_ref)
        return lambda: model_ref()

    model, other = Model(), Model()
    assert function_cache.compiled(model, ("f", 1), build)() is model
    function_cache.compiled(model, ("f", 1), build)
    function_cache.compiled(model, ("f", 2), build)
    function_cache.compiled(other, ("f", 1), build)
    assert len(built) == 3 and all(isinstance(ref, weakref.ref) for ref in built)
    assert function_cache.cached_keys(model) == {("f", 1), ("f", 2)}
    assert function_cache.cached_keys(Model()) == set()


# Weak maps that are not caches of compiled functions: the mixed loss's record of each layer's last mix.
NOT_FUNCTION_CACHES = ("losses.py",)


def test_no_other_module_keeps_its_own_cache_of_functions_per_model():
    offenders = [str(path.relative_to(PACKAGE.parent)) for path in PACKAGE.rglob("*.py")
                 if "WeakKeyDictionary" in path.read_text()
                 and path.name not in ("function_cache.py",) + NOT_FUNCTION_CACHES]
    assert not offenders, f"per-model caches outside keras_cutmix/models/function_cache.py: {offenders}"
