"""Bounding boxes through CutMix, MixUp and Cutout on a batch of the embedded birds, drawn as a PNG grid.

    python examples/box_mixing.py --workdir=box_output [--seed=0] [--num_images=6] [--data_dir=...]

Builds the embedded `synthetic_birds` tfds data set on first use (offline), takes one test batch with its
bird boxes (one box per image, normalised `rel_yxyx`), mixes it with `kc.cutmix_fn`, `kc.mixup_fn` and
`kc.cutout_fn` (with `return_mix=True`, which returns the drawn mix beside the output, so the pasted
rectangle can be drawn) with `bounding_box_format="rel_yxyx"` and one seed, and writes to --workdir:
- `box_mixing.png`: originals with their boxes; CutMix (own boxes yellow, the partner's cyan, the pasted
  rectangle dashed); MixUp (both images' boxes with their weights); Cutout (the hole dashed). The picture in
  the README, `docs/box_mixing.png`, is this file for the default flags.
- `box_mixing.json`: per method and image, the partner, the rectangle and the output boxes (class, origin,
  box in `rel_yxyx`, MixUp weight).
Which output boxes are the image's own and which its partner's follows from the output order (own kept
boxes first): CutMix's partner boxes are those inside the pasted rectangle. Same seed, same picture.
Takes about 6 s here on 2 shared CPU cores (most of it importing TensorFlow), plus the one-time build of
synthetic_birds on a fresh data_dir.
"""

import json
import os

from absl import app
from absl import flags
import matplotlib
import numpy as np

import keras_cutmix as kc
from keras_cutmix import data
from keras_cutmix.data.synthetic_birds_generator import CLASS_NAMES
from keras_cutmix.training import cli
from keras_cutmix.visualization import plot_box_grid

FLAGS = flags.FLAGS


def _define_flags():
    """Defines the flags when run as a script only, so tests can import `run_box_demo` beside other examples."""
    flags.DEFINE_string("workdir", "box_output", "Where to write box_mixing.png and box_mixing.json.")
    flags.DEFINE_integer("seed", 0, "Seed of every mix.")
    flags.DEFINE_integer("num_images", 6, "Images in the batch (columns of the grid).", lower_bound=1,
                         upper_bound=data.dataset_spec("synthetic_birds").num_train_examples)
    flags.DEFINE_string("data_dir", None, "tfds data_dir (default: tfds's, ~/tensorflow_datasets).")

FORMAT = "rel_yxyx"


def _row(title, output, own_counts, rects=None):
    """A `plot_box_grid` row: pixel boxes, and origins from the output order (own kept boxes come first)."""
    images = output["images"].numpy()
    height, width = images.shape[1:3]
    boxes = output["bounding_boxes"]["boxes"].numpy() * np.array([height, width, height, width])
    labels = output["bounding_boxes"]["labels"].numpy().astype(int)
    position = np.arange(labels.shape[1])[None, :]
    row = {"title": title, "images": images, "boxes": boxes, "labels": labels,
           "origins": ((position >= np.asarray(own_counts)[:, None]) & (labels >= 0)).astype(int),
           "rects": rects}
    if "box_weights" in output["bounding_boxes"]:
        row["weights"] = output["bounding_boxes"]["box_weights"].numpy()
    return row


def _cutmix_own_counts(output, rects, size):
    """Own boxes kept by CutMix: the kept boxes not inside the pasted rectangle.

    A partner's box is clipped to the rectangle; an own box is kept only if part of it lies outside (its
    visible fraction is above 0). So "inside the rectangle" tells them apart, even when an image is its own
    partner (the permutation may have fixed points), where labels cannot.
    """
    boxes = output["bounding_boxes"]["boxes"].numpy() * size
    valid = output["bounding_boxes"]["labels"].numpy() >= 0
    rects = rects[:, None, :].astype(np.float64)
    inside = np.all(boxes[..., :2] >= rects[..., :2] - 1e-3, axis=-1) & np.all(
        boxes[..., 2:] <= rects[..., 2:] + 1e-3, axis=-1)
    return np.sum(valid & ~inside, axis=1)


def _summary(row, output, mix, partners):
    """Per image: partner, rectangle and the output boxes (class, origin, rel_yxyx box, weight)."""
    rel = output["bounding_boxes"]["boxes"].numpy()
    images = []
    for i in range(len(row["images"])):
        kept = np.flatnonzero(row["labels"][i] >= 0)
        images.append({
            "partner": None if partners is None else int(partners[i]),
            "rectangle_y0_x0_y1_x1": None if mix is None else [int(v) for v in mix["boxes"][i]],
            "boxes": [{"class": CLASS_NAMES[row["labels"][i, m]],
                       "origin": "partner" if row["origins"][i, m] else "own",
                       "rel_yxyx": [round(float(v), 4) for v in rel[i, m]],
                       **({"weight": round(float(row["weights"][i, m]), 4)} if "weights" in row else {})}
                      for m in kept],
        })
    return images


def run_box_demo(workdir, seed=0, num_images=6, data_dir=None):
    """Mixes one batch of synthetic_birds and its boxes with each method; writes the grid and the boxes.

    Args:
        workdir: Output folder (created).
        seed: Seed of every mix. Defaults to 0.
        num_images: Batch size. Defaults to 6.
        data_dir: tfds data_dir. Defaults to None (tfds's).

    Returns:
        Dict with the paths written and, per method, per image, the output boxes.
    """
    os.makedirs(workdir, exist_ok=True)
    batch = next(iter(data.load("synthetic_birds", batch_size=num_images, training=False, with_boxes=True,
                                data_dir=data_dir)))
    images = batch["images"].numpy()
    count, height, width = images.shape[:3]
    inputs = {"images": batch["images"],
              "bounding_boxes": {"boxes": batch["bbox"][:, None, :], "labels": batch["labels"][:, None]}}
    cut, cut_mix = kc.cutmix_fn(inputs, per_sample=True, seed=seed, bounding_box_format=FORMAT, return_mix=True)
    mixup, mixup_mix = kc.mixup_fn(inputs, per_sample=True, seed=seed, bounding_box_format=FORMAT, return_mix=True)
    cutout, cutout_mix = kc.cutout_fn(inputs, size=height // 3, seed=seed, bounding_box_format=FORMAT,
                                      return_mix=True)
    everything_own = np.full([count], 1 << 30)
    cut_rects = cut_mix["boxes"].numpy()
    size = np.array([height, width, height, width])
    rows = [
        _row("original", inputs, everything_own),
        _row("CutMix", cut, _cutmix_own_counts(cut, cut_rects, size), cut_rects),
        # MixUp keeps the own box unless the own weight is 0 (then only the partner's is kept).
        _row("MixUp", mixup, (mixup_mix["mix_weight"].numpy() > 0).astype(int)),
        _row("Cutout", cutout, everything_own, cutout_mix["boxes"].numpy()),
    ]
    grid = plot_box_grid(
        os.path.join(workdir, "box_mixing.png"), rows, class_names=CLASS_NAMES,
        title=f"synthetic_birds boxes, seed {seed}: own boxes yellow, partner's cyan, pasted/erased "
              "rectangle dashed, MixUp weight w")
    summary = {
        "seed": seed, "bounding_box_format": FORMAT, "box_mixing": grid,
        "CutMix": _summary(rows[1], cut, cut_mix, cut_mix["permutation"].numpy()),
        "MixUp": _summary(rows[2], mixup, None, mixup_mix["permutation"].numpy()),
        "Cutout": _summary(rows[3], cutout, cutout_mix, None),
    }
    with open(os.path.join(workdir, "box_mixing.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def main(argv):
    del argv
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    summary = run_box_demo(FLAGS.workdir, FLAGS.seed, FLAGS.num_images, FLAGS.data_dir)
    print(f"Wrote {summary['box_mixing']} and {os.path.join(FLAGS.workdir, 'box_mixing.json')}")
    for method in ("CutMix", "MixUp", "Cutout"):
        for i, image in enumerate(summary[method]):
            boxes = ", ".join(f"{b['origin']} {b['class']}" + (f" w={b['weight']:.2f}" if "weight" in b else "")
                              for b in image["boxes"])
            print(f"{method} image {i}: {boxes or 'no boxes'}")


if __name__ == "__main__":
    _define_flags()
    app.run(main, flags_parser=cli.parse_flags)  # A bad flag: one line, exit 2.
