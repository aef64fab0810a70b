"""Throughput of CutMix implementations on this machine's CPU, in one run; writes benchmarks/RESULTS.md.

Run: `make benchmark` (or `.venv/bin/python benchmarks/mixing.py [--repeats 15]`). Takes about 3-5 minutes
on 2 cores. Each row times one call on a batch already in memory (median of `--repeats` timed calls after
warm-up) and reports images/s and the time relative to the floor: `x * 0.5` in a `tf.function`, one read and
one write of the batch (`x * 1` is optimised away). Our rows mix images AND labels (one-hot, 1000 or 100
classes); the floor only touches images.
"""

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_cutmix as kc  # noqa: E402

SHAPES = ((128, 224, 224, 3), (256, 32, 32, 3))
RESULTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def median_seconds(fn, args, repeats):
    """Median wall time of `fn(*args)` over `repeats` calls, after two warm-up calls."""
    for _ in range(2):
        _block(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _block(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _block(outputs):
    for tensor in tf.nest.flatten(outputs):
        tensor.numpy()


def ours(per_sample, jit):
    @tf.function(jit_compile=jit)
    def run(images, labels, seed):
        return kc.cutmix_fn(images, labels, per_sample=per_sample, seed=seed)

    return run


def _dict_layer(layer):
    """A tf.function calling a Keras-style CutMix layer on {"images", "labels"}."""

    @tf.function
    def run(images, labels, seed):
        del seed
        out = layer({"images": images, "labels": labels}, training=True)
        return out["images"], out["labels"]

    return run


def keras_cutmix_layer():
    return _dict_layer(keras.layers.CutMix(seed=0))


def keras_cv_cutmix():
    try:
        import keras_cv
    except ImportError:
        return None
    return _dict_layer(keras_cv.layers.CutMix(seed=0))


@tf.function
def floor(images, labels, seed):
    del labels, seed
    return images * tf.cast(0.5, images.dtype)


def candidates():
    """(name, dtype, factory) rows; a factory returning None means 'not installed'."""
    rows = [("floor: x * 0.5 (tf.function)", "float32", lambda: floor)]
    for dtype in ("float32", "uint8"):
        for per_sample in (False, True):
            for jit in (False, True):
                mode = "per-sample" if per_sample else "per-batch"
                graph = "XLA" if jit else "graph"
                rows.append((f"kc.cutmix_fn {mode}, {graph}", dtype, lambda p=per_sample, j=jit: ours(p, j)))
    rows.append(("floor: x * 0.5 (tf.function)", "uint8", lambda: floor))
    rows.append(("keras.layers.CutMix (tf.function)", "float32", keras_cutmix_layer))
    rows.append(("keras_cv.layers.CutMix (tf.function)", "float32", keras_cv_cutmix))
    return rows


def run_benchmark(repeats):
    """Times every candidate at every shape; returns a list of result dicts."""
    rng = np.random.default_rng(0)
    results = []
    for shape in SHAPES:
        num_classes = 1000 if shape[1] >= 224 else 100
        pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
        batches = {
            "uint8": tf.constant(pixels),
            "float32": tf.constant(pixels.astype(np.float32) / 255.0),
        }
        labels = tf.one_hot(rng.integers(0, num_classes, size=shape[0]), num_classes)
        seed = tf.constant([1, 2], tf.int64)
        floors = {}
        for name, dtype, factory in candidates():
            fn = factory()
            row = {"shape": "x".join(map(str, shape)), "name": name, "dtype": dtype}
            if fn is None:
                row.update(seconds=None, note="not installed")
            else:
                try:
                    row["seconds"] = median_seconds(fn, (batches[dtype], labels, seed), repeats)
                except Exception as error:  # Reported in the table, e.g. a layer that does not support a dtype.
                    row.update(seconds=None, note=f"failed: {type(error).__name__}")
            if name.startswith("floor") and row["seconds"]:
                floors[dtype] = row["seconds"]
            results.append(row)
            print(_format_row(row, floors.get("float32")), flush=True)
        for row in results:
            if row["shape"] == "x".join(map(str, shape)) and row.get("seconds"):
                row["vs_floor"] = row["seconds"] / floors["float32"]
                row["images_per_s"] = shape[0] / row["seconds"]
    return results


def _format_row(row, float_floor):
    if not row.get("seconds"):
        return f"| {row['shape']} | {row['name']} | {row['dtype']} | - | - | - | {row.get('note', '')} |"
    ratio = row["seconds"] / float_floor if float_floor else float("nan")
    images = int(row["shape"].split("x")[0]) / row["seconds"]
    return (f"| {row['shape']} | {row['name']} | {row['dtype']} | {row['seconds'] * 1e3:.1f} | "
            f"{images:,.0f} | {ratio:.2f}x | {row.get('note', '')} |")


def summary(results):
    """The issue's targets, checked on the 224x224 rows."""
    def seconds(name, dtype):
        for row in results:
            if row["shape"].startswith("128x224") and row["name"] == name and row["dtype"] == dtype:
                return row.get("seconds")
        return None

    floor_s = seconds("floor: x * 0.5 (tf.function)", "float32")
    keras_s = seconds("keras.layers.CutMix (tf.function)", "float32")
    lines = []
    for mode in ("per-batch", "per-sample"):
        best = min(s for s in (seconds(f"kc.cutmix_fn {mode}, graph", "float32"),
                               seconds(f"kc.cutmix_fn {mode}, XLA", "float32")) if s)
        best_uint8 = min(s for s in (seconds(f"kc.cutmix_fn {mode}, graph", "uint8"),
                                     seconds(f"kc.cutmix_fn {mode}, XLA", "uint8")) if s)
        lines.append(f"- {mode}, float32, best of graph/XLA: {best / floor_s:.2f}x the floor (target <= 1.5x: "
                     f"{'met' if best / floor_s <= 1.5 else 'MISSED'}); {keras_s / best:.1f}x faster than "
                     f"keras.layers.CutMix (target >= 3x: {'met' if keras_s / best >= 3 else 'MISSED'}); "
                     f"uint8 takes {best_uint8 / best:.2f} of the float32 time (target <= 0.5: "
                     f"{'met' if best_uint8 / best <= 0.5 else 'MISSED'})")
    return lines


def write_results(results, repeats):
    header = ("| batch | implementation | dtype | median ms | images/s | vs float32 floor | note |\n"
              "|---|---|---|---:|---:|---:|---|")
    rows = [_format_row(r, next(x["seconds"] for x in results if x["shape"] == r["shape"]
                                and x["name"].startswith("floor") and x["dtype"] == "float32"))
            for r in results]
    text = "\n".join([
        "# Mixing benchmark", "",
        f"Written by `benchmarks/mixing.py` in one run: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, TensorFlow {tf.__version__}, Keras {keras.__version__}; median of {repeats} "
        "calls after warm-up. Ours mixes images and one-hot labels; the floor is one elementwise pass.", "",
        header, *rows, "", "## Targets (128x224x224x3)", "", *summary(results), "",
    ])
    with open(RESULTS_PATH, "w") as f:
        f.write(text)
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print("| batch | implementation | dtype | median ms | images/s | vs float32 floor | note |")
    results = run_benchmark(args.repeats)
    print(write_results(results, args.repeats))


if __name__ == "__main__":
    main()
