"""What every benchmark script shares: timing, the machine line, and writing its section of RESULTS.md.

Each script (`mixing.py`, `in_model.py`, ...) owns one `## ` section of `benchmarks/RESULTS.md`, named by
its title, and rewrites only that section, so the scripts can run in any order and alone.
"""

import os
import platform
import re
import statistics
import time

import keras
import tensorflow as tf

RESULTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
_PREAMBLE = (
    "# Benchmarks\n\n"
    "Each section is written by the script it names, from one run of that script; ratios compare rows "
    "measured side by side in that run. Rerun a script to refresh its section.\n"
)


def block(outputs):
    """Waits for every tensor in `outputs` (a nested structure) by reading it back."""
    for tensor in tf.nest.flatten(outputs):
        if hasattr(tensor, "numpy"):
            tensor.numpy()


def median_seconds(fn, args, repeats, warmup=2):
    """Median wall time of `fn(*args)` over `repeats` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        block(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        block(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_median_seconds(fns, repeats, warmup=2):
    """Median wall time of each zero-argument callable in `fns`, timed in turns.

    Alternating the candidates call by call spreads the machine's slow moments over all of them, so their
    ratio is steadier than that of two back-to-back series.

    Args:
        fns: Dict from name to a callable taking no arguments.
        repeats: Timed calls of each.
        warmup: Untimed calls of each first.

    Returns:
        Dict from name to the median seconds of one call.
    """
    for fn in fns.values():
        for _ in range(warmup):
            block(fn())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            block(fn())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def machine_line():
    """One line naming the machine and the library versions."""
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {device}, "
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}")


def write_section(title, body):
    """Replaces (or appends) the section `## {title}` of RESULTS.md with `body`; returns the section text."""
    section = f"## {title}\n\n{body.strip()}\n"
    text = open(RESULTS_PATH).read() if os.path.exists(RESULTS_PATH) else _PREAMBLE
    if not text.startswith("# Benchmarks"):
        text = _PREAMBLE  # An older single-table file: start over.
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(RESULTS_PATH, "w") as f:
        f.write(text.rstrip("\n") + "\n")
    return section
