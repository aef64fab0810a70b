"""plot_box_grid: the PNG's size, one rectangle per kept box (plus the dashed ones), clear errors."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from keras_cutmix.visualization import box_grid
from keras_cutmix.visualization import plot_box_grid


def _rows(count=3, height=20, width=28):
    images = np.zeros((count, height, width, 3), np.uint8)
    boxes = np.zeros((count, 2, 4), np.float32)
    boxes[:, 0] = [2, 3, 10, 12]
    boxes[:, 1] = [5, 6, 15, 20]
    original = {"title": "original", "images": images, "boxes": boxes[:, :1], "labels": np.zeros((count, 1))}
    # Image 0 keeps both boxes, image 1 only its own, image 2 none: 3 boxes drawn.
    labels = np.array([[1, 2], [1, -1], [-1, -1]][:count])
    cutmix = {"title": "CutMix", "images": images, "boxes": boxes, "labels": labels,
              "origins": np.tile([0, 1], (count, 1)),
              "rects": np.array([[4, 5, 16, 21], [0, 0, 0, 0], [1, 1, 3, 3]][:count])}  # 2 non-empty.
    mixup = {"title": "MixUp", "images": images, "boxes": boxes, "labels": np.ones((count, 2), int),
             "weights": np.tile([0.7, 0.3], (count, 1))}  # 2 boxes per image.
    return [original, cutmix, mixup]


def _capture_figure(monkeypatch):
    """The figures `plot_box_grid` saves, kept for inspection (it saves through `save_figure`)."""
    figures = []
    save = box_grid.save_figure

    def keep(fig, path, **kwargs):
        figures.append(fig)
        return save(fig, path, **kwargs)

    monkeypatch.setattr(box_grid, "save_figure", keep)
    return figures


def test_writes_png_of_figure_size(tmp_path):
    path = plot_box_grid(str(tmp_path / "grid.png"), _rows(count=3), class_names=["a", "b", "c"], dpi=50)
    image = plt.imread(path)
    # figsize = (1.9 per column, 2.0 per row) inches at 50 dpi: 3 columns, 3 rows.
    assert image.shape[:2] == (round(2.0 * 3 * 50), round(1.9 * 3 * 50))


def test_one_rectangle_per_kept_box_and_per_pasted_rectangle(tmp_path, monkeypatch):
    figures = _capture_figure(monkeypatch)
    plot_box_grid(str(tmp_path / "grid.png"), _rows(count=3), dpi=30)
    axes = np.asarray(figures[0].axes).reshape(3, 3)
    counts = [[len(ax.patches) for ax in row] for row in axes]
    # original: one box each; CutMix: 2+1 (boxes) + 1 (rect), 1+0, 0+1; MixUp: 2 each.
    assert counts == [[1, 1, 1], [3, 1, 1], [2, 2, 2]]
    cutmix_styles = sorted((p.get_linestyle(), p.get_edgecolor()[:3]) for p in axes[1][0].patches)
    assert ("--", (1.0, 1.0, 1.0)) in cutmix_styles  # The pasted rectangle, dashed white.
    colours = {p.get_edgecolor()[:3] for p in axes[1][0].patches if p.get_linestyle() != "--"}
    assert colours == {(1.0, 1.0, 0.0), (0.0, 1.0, 1.0)}  # Own yellow, partner cyan.
    texts = [t.get_text() for t in axes[2][0].texts]
    assert texts == ["1 w=0.70", "1 w=0.30"]


def test_weight_prefix_labels_detection_scores(tmp_path, monkeypatch):
    figures = _capture_figure(monkeypatch)
    rows = _rows(count=3)
    rows[2]["weight_prefix"] = ""  # Detection scores: "class score".
    plot_box_grid(str(tmp_path / "grid.png"), rows, class_names=["a", "b", "c"], dpi=30)
    axes = np.asarray(figures[0].axes).reshape(3, 3)
    assert [t.get_text() for t in axes[2][0].texts] == ["b 0.70", "b 0.30"]


def test_box_geometry(tmp_path, monkeypatch):
    figures = _capture_figure(monkeypatch)
    plot_box_grid(str(tmp_path / "grid.png"), _rows(count=1)[:1], dpi=30)
    (patch,) = figures[0].axes[0].patches
    # Box (y0, x0, y1, x1) = (2, 3, 10, 12) covers pixel centres 3..11 horizontally: edges at -0.5.
    assert patch.get_xy() == (2.5, 1.5)
    assert (patch.get_width(), patch.get_height()) == (9.0, 8.0)


@pytest.mark.parametrize("change, match", [
    (lambda rows: rows[1].update(boxes=np.zeros((3, 2, 5))), r"rows\[1\]\['boxes'\] of shape \[3, M, 4\]"),
    (lambda rows: rows[1].update(labels=np.zeros((3, 3))), r"rows\[1\]\['labels'\] of shape \(3, 2\)"),
    (lambda rows: rows[2].update(weights=np.zeros((3,))), r"rows\[2\]\['weights'\] of shape \(3, 2\)"),
    (lambda rows: rows[1].update(rects=np.zeros((2, 4))), r"rows\[1\]\['rects'\] of shape \(3, 4\)"),
    (lambda rows: rows[0].pop("boxes"), r"rows\[0\] to be a dict with"),
    (lambda rows: rows[0].update(images=np.zeros((3, 4, 4))), r"rows\[0\]\['images'\] of shape \[N, H, W, C\]"),
    (lambda rows: rows[2].update(images=np.zeros((2, 4, 4, 3)), boxes=np.zeros((2, 1, 4)),
                                 labels=np.zeros((2, 1)), weights=None), r"same number of images.*\[3, 3, 2\]"),
])
def test_refuses_bad_rows(tmp_path, change, match):
    rows = _rows(count=3)
    change(rows)
    with pytest.raises(ValueError, match=match):
        plot_box_grid(str(tmp_path / "grid.png"), rows)


def test_refuses_no_rows(tmp_path):
    with pytest.raises(ValueError, match="at least one row"):
        plot_box_grid(str(tmp_path / "grid.png"), [])
