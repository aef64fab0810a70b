"""Mixes one tf.data pipeline with each layer and map function and saves the outputs (run per backend).

`KERAS_BACKEND=jax python backend_probe.py OUT.npz` writes, for each of CutMix, MixUp and Cutout (layers,
fed tuples and dicts) and for the three map functions, the images and labels of two epochs of a seeded
pipeline, and the error (if any) of putting each layer in a model. backends_test.py compares backends.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_cutmix as kc  # noqa: E402

B, H, W, K = 4, 9, 11, 5


def pipeline():
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (3 * B, H, W, 3)).astype("uint8")
    labels = rng.randint(0, K, 3 * B).astype("int32")
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(B)


def layers():
    return {"cutmix": kc.CutMix(num_classes=K, seed=7), "mixup": kc.MixUp(num_classes=K, alpha=0.4, seed=7),
            "cutout": kc.Cutout(size=4, num_classes=K, seed=7)}


def main(out):
    arrays, errors = {}, {}
    for name, layer in layers().items():
        tuples = pipeline().map(lambda x, y, layer=layer: layer((x, y)))
        dicts = pipeline().map(lambda x, y, layer=layer: layer({"images": x, "labels": y}))
        for form, ds in (("tuple", tuples), ("dict", dicts)):
            for epoch in range(2):  # The layer's seed state moves on: the second epoch mixes anew.
                for step, batch in enumerate(ds):
                    x, y = (batch["images"], batch["labels"]) if form == "dict" else batch
                    arrays[f"{name}_{form}_{epoch}_{step}_images"] = np.asarray(x)
                    arrays[f"{name}_{form}_{epoch}_{step}_labels"] = np.asarray(y)
        try:
            model = keras.Sequential([keras.Input((H, W, 3)), layers()[name], keras.layers.Flatten(),
                                      keras.layers.Dense(K)])
            model.compile(optimizer="sgd", loss=model.layers[0].mixed_loss(
                keras.losses.CategoricalCrossentropy(from_logits=True)))
            errors[name] = None
        except Exception as error:  # pylint: disable=broad-except
            errors[name] = f"{type(error).__name__}: {error}"
    functions = {"cutmix_fn": kc.cutmix_fn, "mixup_fn": kc.mixup_fn, "cutout_fn": kc.cutout_fn}
    for name, fn in functions.items():
        ds = kc.map_with_seed(pipeline(), fn, seed=3, num_classes=K)
        for step, (x, y) in enumerate(ds):
            arrays[f"{name}_{step}_images"], arrays[f"{name}_{step}_labels"] = np.asarray(x), np.asarray(y)
    np.savez(out, **arrays)
    with open(out + ".json", "w") as f:
        json.dump({"backend": keras.backend.backend(), "model_errors": errors}, f)


if __name__ == "__main__":
    main(sys.argv[1])
