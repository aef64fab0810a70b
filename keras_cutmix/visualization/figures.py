"""The package's one way to make and save a picture, with no Matplotlib backend chosen.

    figure, axes = new_figure(1, 4, figsize=(16, 3.8))
    ...draw on axes...
    save_figure(figure, "figure5.png", dpi=100)

Every picture keras_cutmix writes (the visualization grids, Figure 5, ROC curves, reliability diagrams,
the methods' error curves, the captions) goes through these two functions. They use Matplotlib's
object-oriented `matplotlib.figure.Figure`, not `pyplot`: the figure is never registered with a pyplot
window manager, so saving needs no backend (PNG is drawn by Agg whatever backend is active), nothing has
to be closed, and importing or calling keras_cutmix never picks or changes the user's backend. Scripts
(`examples/*.py`) select the Agg backend in their `main`; a library module never calls `matplotlib.use`.
"""

import matplotlib.figure


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


def save_figure(figure, path, *, dpi=None):
    """Lays `figure` out tightly and writes it to `path` (the format from the file's suffix, e.g. PNG).

    Args:
        figure: A `matplotlib.figure.Figure` (from `new_figure`).
        path: Output path (str or `os.PathLike`); its folder must exist.
        dpi: Dots per inch of the picture. Defaults to None (the figure's own dpi).

    Returns:
        `path`.
    """
    figure.tight_layout()
    figure.savefig(path, dpi="figure" if dpi is None else dpi)
    return path
