"""The package's one way to make and save a picture, with no Matplotlib backend chosen.

    figure, axes = new_figure(1, 4, figsize=(16, 3.8))
    ...draw on axes...
    save_figure(figure, "figure5.png", dpi=100)

Every picture keras_cutmix writes goes through these functions. They use Matplotlib's object-oriented
`matplotlib.figure.Figure`, not `pyplot`: saving needs no backend (Agg draws the PNG), nothing has to be
closed, and keras_cutmix never picks or changes the user's backend (scripts select Agg in their `main`).
"""

import matplotlib.figure
import matplotlib.patches
import numpy as np


def new_figure(rows=1, columns=1, *, figsize, dpi=None, **subplots_kwargs):
    """A new figure (not known to pyplot) and its grid of axes.

    Args:
        rows: Rows of axes. Defaults to 1.
        columns: Columns of axes. Defaults to 1.
        figsize: `(width, height)` in inches.
        dpi: Dots per inch of the figure (and of the saved picture unless `save_figure` is given its own).
            Defaults to None (Matplotlib's `figure.dpi`).
        **subplots_kwargs: Passed to `Figure.subplots` (`squeeze`, `sharex`, `gridspec_kw`, ...).

    Returns:
        `(figure, axes)`, the axes as `Figure.subplots` returns them.
    """
    figure = matplotlib.figure.Figure(figsize=figsize, dpi=dpi)
    return figure, figure.subplots(rows, columns, **subplots_kwargs)


def save_figure(figure, path, *, dpi=None, title=None, title_size=10):
    """Lays `figure` out tightly and writes it to `path` (the format from the file's suffix, e.g. PNG).

    Args:
        figure: A `matplotlib.figure.Figure` (from `new_figure`).
        path: Output path (str or `os.PathLike`); its folder must exist.
        dpi: Dots per inch of the picture. Defaults to None (the figure's own dpi).
        title: The figure's title. Defaults to None (none).
        title_size: The title's font size: points, or a Matplotlib size name such as "large". Defaults to 10.

    Returns:
        `path`.
    """
    if title:
        figure.suptitle(title, fontsize=title_size)
    figure.tight_layout()
    figure.savefig(path, dpi="figure" if dpi is None else dpi)
    return path


def show_image(ax, image):
    """Draws `image` on `ax` pixel for pixel (nearest), without ticks."""
    ax.imshow(image, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def outline(ax, box, colour, **style):
    """Outlines the pixel box `(y0, x0, y1, x1)` (exclusive max) on the pixel borders; `style`: `Rectangle`'s."""
    y0, x0, y1, x1 = (float(v) for v in box)
    ax.add_patch(matplotlib.patches.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=colour,
                                              **style))


def outline_boxes(ax, boxes, colour, **style):
    """`outline`s one box [4] or several [k, 4] in whole pixels (`int()` of each corner), skipping empty ones."""
    for box in np.asarray(boxes).reshape(-1, 4):
        y0, x0, y1, x1 = (int(v) for v in box)  # int() of NaN raises (astype would give -9e18).
        if y1 > y0 and x1 > x0:
            outline(ax, (y0, x0, y1, x1), colour, **style)
