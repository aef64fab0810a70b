"""Throughput of CutMix and MixUp implementations, in one run; writes its section of benchmarks/RESULTS.md.

Run: `make benchmark` (or `.venv/bin/python benchmarks/mixing.py [--repeats 15]`). Takes about 5 minutes
on 2 cores. `--shapes 32x64x64x3,64x32x32x3` times other batches (a quick check; the table then goes to
stdout only, RESULTS.md keeps the default shapes' run). Each row times one call on a batch already in memory (median of `--repeats` timed calls after
warm-up) and reports images/s and the time relative to the floor: `x * 0.5` in a `tf.function`, one read and
one write of the batch (`x * 1` is optimised away). Our rows mix images AND labels (one-hot, 1000 or 100
classes); the floor only touches images. MixUp rows compare with the plain float32 blend
`w * x + (1 - w) * x[perm]` in a `tf.function`, which is what MixUp must at least do.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_cutmix as kc  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SHAPES = ((128, 224, 224, 3), (256, 32, 32, 3))
FLOOR = "floor: x * 0.5 (tf.function)"
BLEND = "float32 blend w*x+(1-w)*x[perm] (tf.function)"


def ours(fn, per_sample, jit):
    @tf.function(jit_compile=jit)
    def run(images, labels, seed):
        return fn(images, labels, per_sample=per_sample, seed=seed)

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


def keras_mixup_layer():
    return _dict_layer(keras.layers.MixUp(seed=0))


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


@tf.function
def float32_blend(images, labels, seed):
    """The least a MixUp does: one weight, one permutation, one float32 blend of images and labels."""
    weight = tf.random.stateless_uniform([], seed)
    perm = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(images)[0]), seed)
    mixed = weight * images + (1.0 - weight) * tf.gather(images, perm)
    return mixed, weight * labels + (1.0 - weight) * tf.gather(labels, perm)


def _modes():
    for per_sample in (False, True):
        for jit in (False, True):
            yield per_sample, jit, f"{'per-sample' if per_sample else 'per-batch'}, {'XLA' if jit else 'graph'}"


def candidates():
    """(name, dtype, factory) rows; a factory returning None means 'not installed'."""
    rows = [(FLOOR, "float32", lambda: floor)]
    for dtype in ("float32", "uint8"):
        for per_sample, jit, mode in _modes():
            rows.append((f"kc.cutmix_fn {mode}", dtype, lambda p=per_sample, j=jit: ours(kc.cutmix_fn, p, j)))
    rows.append((FLOOR, "uint8", lambda: floor))
    rows.append(("keras.layers.CutMix (tf.function)", "float32", keras_cutmix_layer))
    rows.append(("keras_cv.layers.CutMix (tf.function)", "float32", keras_cv_cutmix))
    rows.append((BLEND, "float32", lambda: float32_blend))
    for per_sample, jit, mode in _modes():
        rows.append((f"kc.mixup_fn {mode}", "float32", lambda p=per_sample, j=jit: ours(kc.mixup_fn, p, j)))
    rows.append(("kc.mixup_fn per-batch, XLA", "uint8", lambda: ours(kc.mixup_fn, False, True)))
    rows.append(("keras.layers.MixUp (tf.function)", "float32", keras_mixup_layer))
    return rows


def run_benchmark(repeats, shapes=SHAPES):
    """Times every candidate at every shape; returns a list of result dicts."""
    rng = np.random.default_rng(0)
    results = []
    for shape in shapes:
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
                    row["seconds"] = common.median_seconds(fn, (batches[dtype], labels, seed), repeats)
                except Exception as error:  # Reported in the table, e.g. a layer that does not support a dtype.
                    row.update(seconds=None, note=f"failed: {type(error).__name__}")
            if name == FLOOR and row["seconds"]:
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


def summary(results, shapes=SHAPES):
    """The targets, checked on the rows of the first (224x224) shape."""
    first = "x".join(map(str, shapes[0]))

    def seconds(name, dtype):
        for row in results:
            if row["shape"] == first and row["name"] == name and row["dtype"] == dtype:
                return row.get("seconds")
        return None

    def best(fn, mode, dtype):
        return min(s for s in (seconds(f"{fn} {mode}, graph", dtype), seconds(f"{fn} {mode}, XLA", dtype)) if s)

    floor_s = seconds(FLOOR, "float32")
    keras_s = seconds("keras.layers.CutMix (tf.function)", "float32")
    lines = []
    for mode in ("per-batch", "per-sample"):
        ours_s, ours_uint8 = best("kc.cutmix_fn", mode, "float32"), best("kc.cutmix_fn", mode, "uint8")
        lines.append(f"- CutMix {mode}, float32, best of graph/XLA: {ours_s / floor_s:.2f}x the floor (target "
                     f"<= 1.5x: {_met(ours_s / floor_s <= 1.5)}); {keras_s / ours_s:.1f}x faster than "
                     f"keras.layers.CutMix (target >= 3x: {_met(keras_s / ours_s >= 3)}); uint8 takes "
                     f"{ours_uint8 / ours_s:.2f} of the float32 time (target <= 0.5: {_met(ours_uint8 / ours_s <= 0.5)})")
    blend_s = seconds(BLEND, "float32")
    keras_mixup_s = seconds("keras.layers.MixUp (tf.function)", "float32")
    for mode in ("per-batch", "per-sample"):
        graph_s = seconds(f"kc.mixup_fn {mode}, graph", "float32")
        xla_s = seconds(f"kc.mixup_fn {mode}, XLA", "float32")
        lines.append(f"- MixUp {mode}, float32: graph {graph_s / blend_s:.2f}x and XLA {xla_s / blend_s:.2f}x the "
                     f"plain float32 blend; {keras_mixup_s / min(graph_s, xla_s):.1f}x faster than "
                     "keras.layers.MixUp")
    return lines


def _met(ok):
    return "met" if ok else "MISSED"


def write_results(results, repeats):
    """Writes the "Mixing" section of RESULTS.md and returns it."""
    header = ("| batch | implementation | dtype | median ms | images/s | vs float32 floor | note |\n"
              "|---|---|---|---:|---:|---:|---|")
    rows = [_format_row(r, next(x["seconds"] for x in results if x["shape"] == r["shape"]
                                and x["name"] == FLOOR and x["dtype"] == "float32"))
            for r in results]
    body = "\n".join([
        f"Written by `benchmarks/mixing.py` in one run: {common.machine_line()}; median of {repeats} calls after "
        "warm-up. Ours mixes images and one-hot labels; the floor is one elementwise pass.", "",
        header, *rows, "", f"Targets ({'x'.join(map(str, SHAPES[0]))}):", "", *summary(results),
    ])
    return common.write_section("Mixing (benchmarks/mixing.py)", body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--shapes", type=_shapes, default=SHAPES,
                        help="Comma-separated BxHxWxC batches (default: the RESULTS.md ones); others print only.")
    args = parser.parse_args()
    print("| batch | implementation | dtype | median ms | images/s | vs float32 floor | note |")
    results = run_benchmark(args.repeats, args.shapes)
    if args.shapes != SHAPES:
        print("\n".join(summary(results, args.shapes)))
        return
    print(write_results(results, args.repeats))


def _shapes(text):
    try:
        shapes = tuple(tuple(int(n) for n in item.split("x")) for item in text.split(","))
    except ValueError:
        shapes = ()
    if not shapes or any(len(shape) != 4 or min(shape) < 1 for shape in shapes):
        raise argparse.ArgumentTypeError(f"Expected BxHxWxC[,BxHxWxC...] positive ints. Received: {text!r}")
    return shapes


if __name__ == "__main__":
    main()
