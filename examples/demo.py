"""`make mix_demo`: CutMix, MixUp and Cutout on a batch of the embedded data set, drawn as a PNG grid.

    python examples/demo.py --workdir=demo_output [--seed=0] [--data_dir=...]

Builds the embedded `synthetic_shapes` tfds data set on first use (offline, a few seconds), mixes one batch
with each method using one seed, and writes to --workdir:
- `mix_grid.png`: originals, CutMix (pasted box outlined, label weights), MixUp, Cutout;
- `demo.json`: per image, the pasted box, the changed-pixel fraction counted on the images and the label
  weight (they are equal: lambda is the exact pasted fraction).
Same seed, same picture. Takes about 20 s here (most of it importing TensorFlow).
"""

import json
import os

from absl import app
from absl import flags
import matplotlib
import numpy as np
import tensorflow as tf

import keras_cutmix as kc
from keras_cutmix import data
from keras_cutmix.training import cli
from keras_cutmix.visualization import plot_mix_grid

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "demo_output", "Where to write mix_grid.png and demo.json.")
flags.DEFINE_integer("seed", 0, "Seed of the batch and of every mix.")
flags.DEFINE_integer("num_images", 8, "Images in the batch (columns of the grid).", lower_bound=1,
                     upper_bound=data.dataset_spec("synthetic_shapes").num_train_examples)
flags.DEFINE_string("data_dir", None, "tfds data_dir (default: tfds's, ~/tensorflow_datasets).")


def run_demo(workdir, seed=0, num_images=8, data_dir=None):
    """Mixes one batch of synthetic_shapes with each method and writes the grid and the numbers.

    Args:
        workdir: Output folder (created).
        seed: One seed for the batch order and the mixes.
        num_images: Batch size.
        data_dir: tfds data_dir, or None.

    Returns:
        Dict with the paths written and per-image pasted fractions and label weights.
    """
    os.makedirs(workdir, exist_ok=True)
    spec = data.dataset_spec("synthetic_shapes")
    batch = next(iter(data.load("synthetic_shapes", batch_size=num_images, training=True, seed=seed,
                                data_dir=data_dir)))
    images, labels = batch
    onehot = tf.one_hot(labels, spec.num_classes).numpy()
    (cut_images, cut_labels), mix = kc.cutmix_fn(images, labels, num_classes=spec.num_classes, per_sample=True,
                                                 seed=seed, return_mix=True)
    mixup_images, mixup_labels = kc.mixup_fn(images, labels, num_classes=spec.num_classes, seed=seed)
    cutout_images = kc.cutout_fn(images, size=spec.image_shape[0] // 4, seed=seed)
    changed = np.any(cut_images.numpy() != images.numpy(), axis=-1).mean(axis=(1, 2))
    class_names = list(spec.class_names) if getattr(spec, "class_names", None) else [
        str(i) for i in range(spec.num_classes)]
    grid = plot_mix_grid(
        os.path.join(workdir, "mix_grid.png"), images.numpy(), onehot,
        [("CutMix", cut_images.numpy(), cut_labels.numpy(), mix["boxes"].numpy()),
         ("MixUp", mixup_images.numpy(), mixup_labels.numpy(), None),
         ("Cutout", cutout_images.numpy(), onehot, None)],
        class_names)
    summary = {
        "seed": seed,
        "mix_grid": grid,
        "images": [
            {"label": int(labels[i]), "partner": int(mix["permutation"][i]),
             "box_y0_x0_y1_x1": [int(v) for v in mix["boxes"][i]],
             "changed_pixel_fraction": float(changed[i]),
             "label_weight_of_partner": float(1.0 - mix["mix_weight"][i])}
            for i in range(num_images)
        ],
    }
    with open(os.path.join(workdir, "demo.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def main(argv):
    del argv
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    summary = run_demo(FLAGS.workdir, FLAGS.seed, FLAGS.num_images, FLAGS.data_dir)
    print(f"Wrote {summary['mix_grid']} and {os.path.join(FLAGS.workdir, 'demo.json')}")
    for i, image in enumerate(summary["images"]):
        print(f"image {i}: label {image['label']} <- partner {image['partner']}, box {image['box_y0_x0_y1_x1']}, "
              f"partner label weight {image['label_weight_of_partner']:.4f}, "
              f"changed pixels <= {image['changed_pixel_fraction']:.4f}")


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)  # A bad flag: one line, exit 2.
