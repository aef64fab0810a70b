"""Pictures of class activation maps (jet colour map) with the ground-truth (green) and estimated (red) boxes.

`plot_cam_grid` shows one method; `plot_method_grid` the same images across methods, as in Figures 1 and 4 of
the CutMix paper. Images are uint8 `[B, H, W, 3]`, maps `[B, H, W]` in [0, 1] (as
`keras_cutmix.localization.cam` returns them), boxes int `[B, 4]` `[ymin, xmin, ymax, xmax]` with exclusive
max, outlined on the pixel borders (rows `ymin .. ymax - 1` and columns `xmin .. xmax - 1` are inside); an
empty box (e.g. `[0, 0, 0, 0]`) is not drawn. A ground-truth entry may also be `[k, 4]` boxes (ImageNet).

References:
    - [Yun et al., 2019, CutMix](https://arxiv.org/abs/1905.04899), Figures 1 and 4.
"""

import matplotlib
import numpy as np

from keras_cutmix.visualization.figures import new_figure, outline_boxes, save_figure, show_image

GT_COLOUR = (0.0, 0.9, 0.0)
PRED_COLOUR = (1.0, 0.0, 0.0)


def overlay_cam(images, maps, alpha=0.5):
    """Blends the jet-coloured maps into the images.

    Args:
        images: uint8 `[B, H, W, 3]`.
        maps: `[B, H, W]`, values in [0, 1] (clipped).
        alpha: Weight of the map colour, in [0, 1]. Defaults to 0.5.

    Returns:
        uint8 `[B, H, W, 3]`: `(1 - alpha) * image + alpha * 255 * jet(map)`, rounded.

    Raises:
        ValueError: If the shapes do not match or `alpha` is outside [0, 1].
    """
    images, maps = np.asarray(images), np.asarray(maps)
    if images.ndim != 4 or images.shape[-1] != 3 or maps.shape != images.shape[:3]:
        raise ValueError("Expected `images` [B, H, W, 3] and `maps` [B, H, W] of the same B, H, W. "
                         f"Received: images.shape={images.shape}, maps.shape={maps.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"Expected `alpha` in [0, 1]. Received: alpha={alpha!r}")
    colours = matplotlib.colormaps["jet"](np.clip(maps, 0, 1))[..., :3] * 255.0
    blend = (1 - alpha) * images.astype(np.float64) + alpha * colours
    return np.clip(np.round(blend), 0, 255).astype(np.uint8)


def _check_batch(name, value, count):
    if value is not None and len(value) != count:
        raise ValueError(f"Expected `{name}` to hold one entry per image ({count}). "
                         f"Received: len({name})={len(value)}")


def _cell(ax, picture, index, gt_boxes, pred_boxes, captions):
    """Draws `picture` with entry `index` of each of the (optional) boxes and captions."""
    show_image(ax, picture)
    if gt_boxes is not None:
        outline_boxes(ax, gt_boxes[index], GT_COLOUR, lw=2.0)
    if pred_boxes is not None:
        outline_boxes(ax, pred_boxes[index], PRED_COLOUR, lw=2.0)
    if captions is not None and captions[index]:
        ax.set_xlabel(captions[index], fontsize=7)


def plot_cam_grid(path, images, maps, gt_boxes, pred_boxes, *, captions=None, title=None, columns=8, alpha=0.5,
                  dpi=110):
    """Writes a PNG grid of images with the CAM overlaid and both boxes.

    Args:
        path: Output PNG path.
        images: uint8 `[B, H, W, 3]`.
        maps: `[B, H, W]` in [0, 1].
        gt_boxes: int `[B, 4]` (or a list of `[k, 4]` arrays), drawn green; or `None`.
        pred_boxes: int `[B, 4]`, drawn red; or `None`.
        captions: `B` strings written under the cells (e.g. class and IoU), or `None`. Defaults to `None`.
        title: Figure title, or `None`. Defaults to `None`.
        columns: Cells per row. Defaults to 8.
        alpha: Weight of the map colour. Defaults to 0.5.
        dpi: Resolution of the PNG. Defaults to 110.

    Returns:
        `path`.

    Raises:
        ValueError: For mismatched shapes or lengths.
    """
    pictures = overlay_cam(images, maps, alpha)
    count = len(pictures)
    for name, value in (("gt_boxes", gt_boxes), ("pred_boxes", pred_boxes), ("captions", captions)):
        _check_batch(name, value, count)
    columns = max(1, min(int(columns), count))
    rows = -(-count // columns)
    fig, axes = new_figure(rows, columns, figsize=(1.8 * columns, 1.9 * rows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index < count:
            _cell(ax, pictures[index], index, gt_boxes, pred_boxes, captions)
        else:
            ax.axis("off")
    return save_figure(fig, path, dpi=dpi, title=title)


def plot_method_grid(path, images, maps_by_method, gt_boxes, pred_boxes_by_method=None, *, captions_by_method=None,
                     title=None, alpha=0.5, dpi=110):
    """Writes a PNG comparing methods on the same images (rows = images, columns = methods).

    The first column is the plain image with its ground-truth box; then one column per method with that
    method's CAM, the ground truth (green) and its estimated box (red).

    Args:
        path: Output PNG path.
        images: uint8 `[B, H, W, 3]`.
        maps_by_method: `{method name: maps [B, H, W]}`, in column order.
        gt_boxes: int `[B, 4]` (or a list of `[k, 4]` arrays), or `None`.
        pred_boxes_by_method: `{method name: int [B, 4]}` (a subset of the methods is fine), or `None`.
            Defaults to `None`.
        captions_by_method: `{method name: B strings}`, or `None`. Defaults to `None`.
        title, alpha, dpi: As `plot_cam_grid`.

    Returns:
        `path`.

    Raises:
        ValueError: For no methods, mismatched shapes or lengths, or boxes or captions of a method not in
            `maps_by_method`.
    """
    if not maps_by_method:
        raise ValueError(f"Expected at least one method in `maps_by_method`. Received: {maps_by_method!r}")
    pred_boxes_by_method = dict(pred_boxes_by_method or {})
    captions_by_method = dict(captions_by_method or {})
    for name, given in (("pred_boxes_by_method", pred_boxes_by_method), ("captions_by_method", captions_by_method)):
        unknown = sorted(set(given) - set(maps_by_method))
        if unknown:
            raise ValueError(f"Expected the keys of `{name}` among the methods {list(maps_by_method)}. "
                             f"Received: {unknown}")
    images = np.asarray(images)
    count = len(images)
    _check_batch("gt_boxes", gt_boxes, count)
    columns = [("image", images, None, None)]
    for method, maps in maps_by_method.items():
        boxes, captions = pred_boxes_by_method.get(method), captions_by_method.get(method)
        _check_batch(f"pred_boxes_by_method[{method!r}]", boxes, count)
        _check_batch(f"captions_by_method[{method!r}]", captions, count)
        columns.append((method, overlay_cam(images, maps, alpha), boxes, captions))
    fig, axes = new_figure(count, len(columns), figsize=(1.8 * len(columns), 1.8 * count + 0.4), squeeze=False)
    for c, (name, pictures, boxes, captions) in enumerate(columns):
        axes[0][c].set_title(name, fontsize=9)
        for r in range(count):
            _cell(axes[r][c], pictures[r], r, gt_boxes, boxes, captions)
    return save_figure(fig, path, dpi=dpi, title=title)
