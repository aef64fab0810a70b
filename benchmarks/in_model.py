"""What a CutMix layer inside a model costs: one training step with and without it; writes RESULTS.md.

Run: `.venv/bin/python benchmarks/in_model.py [--repeats 15]` (also part of `make benchmark`). Takes about
4 minutes on 2 cores. For each model it builds the same network twice, with and without a `kc.CutMix` layer
in front (the layer's `mixed_loss` wrapping the cross-entropy in the first), compiles both as
`train_and_evaluate` does (`jit_compile="auto"`: graph mode on a CPU, XLA on a GPU) and times
`train_on_batch` on one uint8 batch already in memory, alternating the two models call by call. The
overhead is the difference of the two medians, as a percentage of the step without the layer (target:
below 2%).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_cutmix as kc  # noqa: E402
from keras_cutmix import models  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# (model name, image side, classes, batch size): the embedded default's model and the paper's ImageNet one.
CASES = (("small_cnn", 64, 10, 64), ("resnet50", 224, 1000, 16))


def build(name, side, num_classes, with_cutmix, seed=0):
    """The model, with or without a CutMix layer in front, compiled as the training code does."""
    keras.utils.set_random_seed(seed)
    network = models.get_model(name, num_classes=num_classes, input_shape=(side, side, 3))
    inputs = keras.Input((side, side, 3), dtype="uint8")
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    if with_cutmix:
        layer = kc.CutMix(num_classes=num_classes, seed=seed)
        outputs = network(layer(inputs))
        loss = layer.mixed_loss(loss)
    else:
        outputs = network(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss=loss, jit_compile="auto")
    return model


def run_benchmark(repeats):
    """Times both variants of every case; returns a list of result dicts."""
    rng = np.random.default_rng(0)
    results = []
    for name, side, num_classes, batch in CASES:
        images = rng.integers(0, 256, size=(batch, side, side, 3), dtype=np.uint8)
        labels = np.eye(num_classes, dtype=np.float32)[rng.integers(0, num_classes, size=batch)]
        plain = build(name, side, num_classes, with_cutmix=False)
        mixed = build(name, side, num_classes, with_cutmix=True)
        seconds = common.interleaved_median_seconds(
            {"without": lambda m=plain: m.train_on_batch(images, labels),
             "with": lambda m=mixed: m.train_on_batch(images, labels)}, repeats)
        row = dict(model=name, batch=f"{batch}x{side}x{side}x3", jit=str(mixed.jit_compile),
                   without_s=seconds["without"], with_s=seconds["with"])
        row["overhead_pct"] = 100.0 * (row["with_s"] - row["without_s"]) / row["without_s"]
        results.append(row)
        print(_format_row(row), flush=True)
    return results


def _format_row(row):
    return (f"| {row['model']} | {row['batch']} | {row['jit']} | {row['without_s'] * 1e3:.1f} | "
            f"{row['with_s'] * 1e3:.1f} | {row['overhead_pct']:+.1f}% | "
            f"{'met' if row['overhead_pct'] < 2.0 else 'MISSED'} |")


HEADER = ("| model | batch (uint8) | XLA | step without CutMix, ms | step with CutMix, ms | overhead | "
          "target < 2% |\n|---|---|---|---:|---:|---:|---|")


def write_results(results, repeats):
    """Writes the "CutMix inside a model" section of RESULTS.md and returns it."""
    body = "\n".join([
        f"Written by `benchmarks/in_model.py` in one run: {common.machine_line()}; median of {repeats} "
        "`train_on_batch` calls of each model after warm-up, the two models timed in turns. The overhead is "
        "(with - without) / without; negative values are noise.", "",
        HEADER, *(_format_row(r) for r in results),
    ])
    return common.write_section("CutMix inside a model (benchmarks/in_model.py)", body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(HEADER)
    print(write_results(run_benchmark(args.repeats), args.repeats))


if __name__ == "__main__":
    main()
