"""Speed of the box rule and of the MaxBoxAccV2 sweep, against OpenCV loops; writes its RESULTS.md section.

Run: `.venv/bin/python benchmarks/localization.py [--num_maps 200 --size 224]` (about 40 s on 2 cores).
The maps are random smooth maps (sums of Gaussian blobs, min-max normalised), with random ground-truth
boxes. Rows, each timed three times (median) on the same maps in this run:
- `boxes_from_maps` (scipy.ndimage.label per map) against OpenCV's `connectedComponentsWithStats` per map
  (8-connected, largest by pixel count); the boxes must be identical.
- `max_box_acc` (1,000 CAM thresholds, V2: all contours; its numba code compiled before timing) against
  the per-image OpenCV loop of wsolevaluation's `BoxEvaluator` (tf_tests/localization/wsolevaluation_port.py);
  the accuracies and best thresholds must be identical.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "tf_tests", "localization"))
sys.path.insert(0, os.path.dirname(_HERE))  # This checkout's keras_cutmix, whatever the venv has installed.
import common  # noqa: E402
import wsolevaluation_port  # noqa: E402

from keras_cutmix.localization import boxes_from_maps, max_box_acc  # noqa: E402

TITLE = "Localization (benchmarks/localization.py)"
IOUS = (0.3, 0.5, 0.7)


def smooth_maps(rng, count, size):
    """Sums of 1 to 6 Gaussian blobs, min-max normalised to [0, 1], float32 [count, size, size]."""
    yy, xx = np.mgrid[:size, :size]
    maps = []
    for _ in range(count):
        score = np.zeros((size, size))
        for _ in range(rng.integers(1, 7)):
            cy, cx = rng.uniform(0, size, 2)
            sigma = rng.uniform(0.03, 0.25) * size
            score += rng.uniform(0.2, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma ** 2))
        maps.append((score - score.min()) / (score.max() - score.min()))
    return np.stack(maps).astype(np.float32)


def random_boxes(rng, count, size):
    """One or two [ymin, xmin, ymax, xmax] boxes (max exclusive) per image."""
    result = []
    for _ in range(count):
        corners = np.sort(rng.integers(0, size + 1, (rng.integers(1, 3), 2, 2)), axis=1)
        corners[:, 1] = np.maximum(corners[:, 1], corners[:, 0] + 1)
        result.append(np.stack([corners[:, 0, 0], corners[:, 0, 1], corners[:, 1, 0], corners[:, 1, 1]], axis=1))
    return result


def opencv_boxes(maps, threshold=0.15):
    """The paper's rule per map with OpenCV: largest 8-connected component of `map > threshold * max`."""
    boxes = np.zeros((len(maps), 4), dtype=np.int32)
    for i, score in enumerate(maps):
        count, _, stats, _ = cv2.connectedComponentsWithStats((score > threshold * score.max()).astype(np.uint8),
                                                              connectivity=8)
        if count > 1:
            x, y, w, h, _ = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
            boxes[i] = (y, x, y + h, x + w)
    return boxes


def _timed(fn, repeats):
    """(result, median seconds over `repeats` calls)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return result, float(np.median(seconds))


def run_benchmark(num_maps, size, repeats=3):
    """Times every row `repeats` times on the same maps (median).

    Raises:
        AssertionError: If any two paired rows disagree.
    """
    rng = np.random.default_rng(0)
    maps = smooth_maps(rng, num_maps, size)
    gt_boxes = random_boxes(rng, num_maps, size)
    ours_boxes, ours_boxes_s = _timed(lambda: boxes_from_maps(maps), repeats)
    cv_boxes, cv_boxes_s = _timed(lambda: opencv_boxes(maps), repeats)
    np.testing.assert_array_equal(ours_boxes, cv_boxes)
    max_box_acc(maps[:2], gt_boxes[:2])  # Loads (or, the first time, compiles) the numba sweep: not timed.
    ours, ours_s = _timed(lambda: max_box_acc(maps, gt_boxes, IOUS, 0.001, multi_contour=True), repeats)
    wsol_boxes = [np.stack([b[:, 1], b[:, 0], b[:, 3] - 1, b[:, 2] - 1], axis=1) for b in gt_boxes]
    (accuracies, best, _), wsol_s = _timed(
        lambda: wsolevaluation_port.evaluate(maps, wsol_boxes, (30, 50, 70), 0.001, True), repeats)
    assert [100 * ours["max_box_acc"][t] for t in IOUS] == list(accuracies), (ours, accuracies)
    assert [ours["best_cam_threshold"][t] for t in IOUS] == list(best), (ours, best)
    return {
        "num_maps": num_maps, "size": size, "repeats": repeats,
        "rows": [
            ("boxes_from_maps (scipy.ndimage.label)", ours_boxes_s),
            ("OpenCV connectedComponentsWithStats loop", cv_boxes_s),
            ("max_box_acc V2, 1,000 thresholds (numba union-find sweep)", ours_s),
            ("wsolevaluation BoxEvaluator V2, 1,000 thresholds (OpenCV loop)", wsol_s),
        ],
        "max_box_acc": {t: 100 * ours["max_box_acc"][t] for t in IOUS},
    }


def write_results(results):
    rows = results["rows"]
    lines = [
        f"Machine: {common.machine_line()}.",
        "",
        f"{results['num_maps']} random smooth {results['size']}x{results['size']} maps (Gaussian blobs) with random "
        f"gt boxes, each row timed {results['repeats']} times on the same maps (median); the paired rows gave "
        "identical boxes and identical "
        "MaxBoxAccV2 (" + ", ".join(f"IoU {t}: {v:.2f}%" for t, v in results["max_box_acc"].items()) + ").",
        "",
        "| Row | maps/s | ms/map |",
        "|---|---:|---:|",
    ]
    for name, seconds in rows:
        lines.append(f"| {name} | {results['num_maps'] / seconds:.1f} | {1e3 * seconds / results['num_maps']:.2f} |")
    lines += ["", f"Box rule: ours is {rows[1][1] / rows[0][1]:.2f}x the OpenCV loop's speed. "
              f"MaxBoxAccV2 sweep: ours is {rows[3][1] / rows[2][1]:.2f}x the OpenCV loop's speed (target: 10x)."]
    section = common.write_section(TITLE, "\n".join(lines))
    print(section)
    return section


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_maps", type=int, default=200)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    write_results(run_benchmark(args.num_maps, args.size, args.repeats))


if __name__ == "__main__":
    main()
