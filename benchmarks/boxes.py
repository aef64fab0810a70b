"""What bounding boxes cost CutMix: the same batch mixed with and without its boxes; writes RESULTS.md.

Run: `.venv/bin/python benchmarks/boxes.py [--repeats 30]` (also part of `make benchmark`; about a minute on
2 cores). A batch of 32 uint8 images of 300x300x3 (SSD300's input) with 50 boxes each in "rel_yxyx" (10 of
them padding), mixed by `kc.cutmix_fn` inside one `tf.function` (graph) and one with `jit_compile=True`
(XLA), per-batch and per-sample, timed in turns with the same call without the boxes. Target: with boxes
within 1.3x the time without.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # This checkout's package.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import keras_cutmix as kc  # noqa: E402

TITLE = "Bounding boxes (benchmarks/boxes.py)"
BATCH, SIDE, NUM_BOXES, PADDING = 32, 300, 50, 10


def make_batch(seed=0):
    """uint8 images [32, 300, 300, 3] and rel_yxyx boxes [32, 50, 4] (the last 10 of each image padding)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (BATCH, SIDE, SIDE, 3), dtype=np.uint8)
    corners = np.sort(rng.uniform(0, 1, (BATCH, NUM_BOXES, 2, 2)), axis=2)  # [.., (min, max), (y, x)]
    boxes = np.concatenate([corners[:, :, 0], corners[:, :, 1]], axis=-1).astype(np.float32)
    labels = rng.integers(0, 20, (BATCH, NUM_BOXES)).astype(np.int32)
    labels[:, NUM_BOXES - PADDING:] = -1
    return tf.constant(images), tf.constant(boxes), tf.constant(labels)


def _functions(images, boxes, labels, per_sample, jit_compile):
    def without():
        return kc.cutmix_fn({"images": images}, per_sample=per_sample, seed=1)["images"]

    def with_boxes():
        out = kc.cutmix_fn({"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}},
                           per_sample=per_sample, seed=1, bounding_box_format="rel_yxyx")
        return out["images"], out["bounding_boxes"]["boxes"], out["bounding_boxes"]["labels"]

    return (tf.function(without, jit_compile=jit_compile), tf.function(with_boxes, jit_compile=jit_compile))


def run_benchmark(repeats):
    images, boxes, labels = make_batch()
    rows = []
    for jit_compile in (False, True):
        for per_sample in (False, True):
            without, with_boxes = _functions(images, boxes, labels, per_sample, jit_compile)
            times = common.interleaved_median_seconds({"without": without, "with": with_boxes}, repeats)
            rows.append(("XLA" if jit_compile else "graph", "per-sample" if per_sample else "per-batch",
                         times["without"], times["with"]))
    return rows


def write_results(rows, repeats):
    lines = [
        f"Machine: {common.machine_line()}.",
        "",
        f"`kc.cutmix_fn` on {BATCH} uint8 images of {SIDE}x{SIDE}x3 with {NUM_BOXES} boxes each ("
        f"{PADDING} padding, rel_yxyx), with and without the boxes, timed in turns ({repeats} calls each, median).",
        "",
        "| mode | mix | without boxes (ms) | with boxes (ms) | images/s without | images/s with | ratio |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for mode, mix, without, with_boxes in rows:
        lines.append(f"| {mode} | {mix} | {1e3 * without:.2f} | {1e3 * with_boxes:.2f} | {BATCH / without:,.0f} | "
                     f"{BATCH / with_boxes:,.0f} | {with_boxes / without:.2f}x |")
    worst = max(w / o for _, _, o, w in rows)
    lines += ["", f"Target: with boxes within 1.3x the time without; worst ratio here {worst:.2f}x."]
    section = common.write_section(TITLE, "\n".join(lines))
    print(section)
    return section


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    write_results(run_benchmark(args.repeats), args.repeats)


if __name__ == "__main__":
    main()
