"""A grid that shows what CutMix, MixUp and Cutout do to a batch's bounding boxes.

One row per method (the original batch first), one column per image. Each panel draws the image and its
boxes: the image's own boxes in one colour, the boxes that came from its partner in another, MixUp's boxes
with their weight written beside them, and the pasted (CutMix) or erased (Cutout) rectangle dashed. Used by
`examples/box_mixing.py`.
"""

import numpy as np

from keras_cutmix.visualization.figures import new_figure, outline, save_figure, show_image

OWN_COLOUR = "yellow"
PARTNER_COLOUR = "cyan"
RECT_COLOUR = "white"


def _check_row(r, row):
    """Returns the row's arrays as NumPy, after checking their shapes agree."""
    if not {"title", "images", "boxes", "labels"} <= set(row):
        raise ValueError(f"Expected rows[{r}] to be a dict with 'title', 'images', 'boxes' and 'labels'. "
                         f"Received: rows[{r}] keys={sorted(row)}")
    images, boxes, labels = np.asarray(row["images"]), np.asarray(row["boxes"], np.float64), np.asarray(row["labels"])
    if images.ndim != 4:
        raise ValueError(f"Expected rows[{r}]['images'] of shape [N, H, W, C]. Received: shape={images.shape}")
    count = images.shape[0]
    if boxes.ndim != 3 or boxes.shape[0] != count or boxes.shape[2] != 4:
        raise ValueError(f"Expected rows[{r}]['boxes'] of shape [{count}, M, 4] (pixel y0, x0, y1, x1). "
                         f"Received: shape={boxes.shape}")
    if labels.shape != boxes.shape[:2]:
        raise ValueError(f"Expected rows[{r}]['labels'] of shape {boxes.shape[:2]}. Received: shape={labels.shape}")
    checked = {"title": str(row["title"]), "images": images, "boxes": boxes, "labels": labels,
               "weight_prefix": str(row.get("weight_prefix", "w="))}
    for key, shape in (("origins", boxes.shape[:2]), ("weights", boxes.shape[:2]), ("rects", (count, 4))):
        value = row.get(key)
        if value is not None:
            value = np.asarray(value)
            if value.shape != shape:
                raise ValueError(f"Expected rows[{r}][{key!r}] of shape {shape}. Received: shape={value.shape}")
        checked[key] = value
    return checked


def _draw_panel(ax, row, c, class_names):
    show_image(ax, row["images"][c])
    if row["rects"] is not None:
        y0, x0, y1, x1 = row["rects"][c]
        if y1 > y0 and x1 > x0:
            outline(ax, row["rects"][c], RECT_COLOUR, lw=1.2, ls="--")
    for m in np.flatnonzero(row["labels"][c] >= 0):
        own = row["origins"] is None or row["origins"][c, m] == 0
        colour = OWN_COLOUR if own else PARTNER_COLOUR
        weight = None if row["weights"] is None else float(row["weights"][c, m])
        outline(ax, row["boxes"][c, m], colour, lw=1.8, alpha=1.0 if weight is None else max(weight, 0.3))
        label = int(row["labels"][c, m])
        text = class_names[label] if class_names is not None else str(label)
        if weight is not None:
            text = f"{text} {row['weight_prefix']}{weight:.2f}"
        y0, x0, y1 = row["boxes"][c, m, :3]
        # Own labels sit above the box's top-left corner, the partner's inside its bottom-left corner, so
        # the two do not cover each other where the boxes nearly coincide (MixUp of similar images).
        ax.text(x0, y0 - 1 if own else y1 - 1, text, color="black", fontsize=6, va="bottom",
                bbox={"facecolor": colour, "alpha": 0.8, "pad": 1, "lw": 0})


def plot_box_grid(path, rows, class_names=None, title=None, dpi=110):
    """Writes a PNG grid of images with their boxes: one row per method, one column per image.

    Args:
        path: Output PNG path.
        rows: List of dicts, one per row, each with `"title"`; `"images"` [N, H, W, C] (uint8, or floats in
            [0, 1]); `"boxes"` [N, M, 4] pixel `(y0, x0, y1, x1)`; `"labels"` [N, M] class ids (-1: padding,
            not drawn); and optionally `"origins"` [N, M] (0: the image's own box, 1: from its partner),
            `"weights"` [N, M] (MixUp's box weights, written beside each box and used as its opacity),
            `"weight_prefix"` (written before each weight; default "w=") and `"rects"` [N, 4] int (the
            pasted or erased rectangle, drawn dashed; all zeros: none).
        class_names: Names of the class ids, written beside each box. Defaults to None (the ids).
        title: Figure title. Defaults to None (none).
        dpi: Resolution. Defaults to 110.

    Returns:
        `path`.

    Raises:
        ValueError: for no rows, a row without its keys, arrays of mismatched shapes, or rows with
            different numbers of images.
    """
    if not rows:
        raise ValueError(f"Expected at least one row. Received: rows={rows!r}")
    checked = [_check_row(r, row) for r, row in enumerate(rows)]
    counts = [row["images"].shape[0] for row in checked]
    count = counts[0]
    if any(n != count for n in counts):
        raise ValueError(f"Expected the same number of images in every row. Received: counts={counts}")
    fig, axes = new_figure(len(checked), count, figsize=(1.9 * count, 2.0 * len(checked)), squeeze=False)
    for r, row in enumerate(checked):
        for c in range(count):
            _draw_panel(axes[r][c], row, c, class_names)
        axes[r][0].set_ylabel(row["title"], fontsize=10)
    return save_figure(fig, path, dpi=dpi, title=title, title_size=9)
