"""A grid that shows what CutMix, MixUp and Cutout do to a batch, with boxes and label weights.

Each column is one image of the batch; the rows are the original, CutMix (the pasted box outlined, its
label weights written under it), MixUp and Cutout. Used by `examples/demo.py`.
"""

import numpy as np

from keras_cutmix.visualization.figures import new_figure, outline_boxes, save_figure, show_image


def _label_text(weights, class_names, top=2):
    order = np.argsort(-weights)[:top]
    return "\n".join(f"{class_names[i]} {weights[i]:.2f}" for i in order if weights[i] > 0.005)


def plot_mix_grid(path, originals, labels, rows, class_names):
    """Writes a PNG grid: the original batch, then one row per method.

    Args:
        path: Output PNG path.
        originals: uint8 [N, H, W, 3].
        labels: float one-hot [N, K] of the originals.
        rows: List of `(title, images uint8 [N, H, W, 3], mixed labels [N, K], boxes int [N, 4] or None)`.
        class_names: K names.

    Returns:
        `path`.
    """
    count = len(originals)
    all_rows = [("original", originals, labels, None)] + list(rows)
    fig, axes = new_figure(len(all_rows), count, figsize=(1.6 * count, 2.0 * len(all_rows)), squeeze=False)
    for r, (title, images, row_labels, boxes) in enumerate(all_rows):
        for c in range(count):
            ax = axes[r][c]
            show_image(ax, images[c])
            ax.set_xlabel(_label_text(row_labels[c], class_names), fontsize=7)
            if boxes is not None:
                outline_boxes(ax, boxes[c], "yellow", lw=1.5)
            if c == 0:
                ax.set_ylabel(title, fontsize=10)
    title = "keras_cutmix on the embedded synthetic_shapes data: label weights = pasted-pixel fractions"
    return save_figure(fig, path, dpi=110, title=title)
