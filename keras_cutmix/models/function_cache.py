"""The package's one cache of compiled functions per model (`compiled(model, key, build)`).

    predict = compiled(model, ("predict", pixel_scale), lambda model_ref: make_predict(model_ref))

Evaluations (robustness's predictions and attacks, localization's CAMs, OOD scores, caption decoding) call
a model many times in chunks, through a `tf.function` built once per model and per setting (the `key`).
Those functions live here, in a `weakref.WeakKeyDictionary` keyed by the model, so the cache never keeps a
model alive: when the model is freed its entry goes with it.

`build` receives a `weakref.ref` to the model, not the model: a function that held the model itself (in
its closure) would keep its own cache entry, and so the model, alive for ever. `build` may call
`model_ref()` while it builds (e.g. to make a sub-model of its layers); the function it returns calls
`model_ref()` each time it needs the model.

Keys start with the name of the kind of function (`"predict"`, `"attack"`, `"cam"`, `"gradcam"`,
`"outputs"`, `"greedy"`, `"beam"`), so the areas sharing one model never take each other's functions.
"""

import weakref

# model -> {key: compiled function}; an entry goes with its model.
_FUNCTIONS = weakref.WeakKeyDictionary()


def compiled(model, key, build):
    """The function `build(model_ref)` made for `model` and `key`: built on first use, cached while `model` lives.

    Args:
        model: The `keras.Model` (any weakly referenceable object) the function calls.
        key: A hashable tuple whose first item names the kind of function, e.g. `("predict", 255.0)`.
        build: A callable taking a `weakref.ref` to `model` and returning the function to cache; it must
            reach the model through that reference only.

    Returns:
        The cached function for `(model, key)`.
    """
    functions = _FUNCTIONS.setdefault(model, {})
    if key not in functions:
        functions[key] = build(weakref.ref(model))
    return functions[key]


def cached_keys(model):
    """The keys of the functions cached for `model` (an empty set for none), e.g. to check what was built."""
    return set(_FUNCTIONS.get(model, {}))


def cached_models():
    """How many models have an entry in the cache (the freed ones have none)."""
    return len(_FUNCTIONS)
