"""CAM pictures: the overlay's pixel values, PNG sizes, boxes drawn where and in the colour they should be."""

import matplotlib.image
import numpy as np
import pytest

from keras_cutmix import visualization


def coloured(png, channel):
    """Mask of strongly pure red (channel 0) or green (channel 1) pixels."""
    rgb = png[..., :3]
    others = [c for c in range(3) if c != channel]
    return (rgb[..., channel] > 0.6) & (rgb[..., others[0]] < 0.3) & (rgb[..., others[1]] < 0.3)


def black_batch(count=3, size=(32, 40)):
    return np.zeros((count, *size, 3), np.uint8), np.zeros((count, *size), np.float32)


def test_overlay_is_the_alpha_blend_of_jet():
    images = np.full((1, 2, 3, 3), 100, np.uint8)
    maps = np.array([[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]], np.float32)
    got = visualization.overlay_cam(images, maps, alpha=0.5)
    # jet(0) = (0, 0, 0.5), jet(1) = (0.5, 0, 0): 0.5 * 100 + 0.5 * 255 * c.
    low, high = [50, 50, 114], [114, 50, 50]
    expected = np.array([[[low, high, low], [high, low, low]]], np.uint8)
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="maps.shape"):
        visualization.overlay_cam(images, maps[:, :1])


def test_cam_grid_png_size_and_box_colours(tmp_path):
    images, maps = black_batch()
    gt = np.array([[4, 8, 20, 28]] * 3, np.int32)  # 16 high, 20 wide
    pred = np.array([[2, 2, 30, 12]] * 3, np.int32)
    path = visualization.plot_cam_grid(tmp_path / "cam.png", images, maps, gt, pred, columns=2, dpi=100)
    png = matplotlib.image.imread(path)
    # 2 columns x 2 rows of 1.8 x 1.9 inches at 100 dpi.
    assert png.shape[:2] == (380, 360)
    green, red = coloured(png, 1), coloured(png, 0)
    assert green.sum() > 50 and red.sum() > 50
    # The green outline of the first cell has the box's aspect (height / width = 16 / 20).
    rows, cols = np.nonzero(green[: png.shape[0] // 2, : png.shape[1] // 2])
    aspect = (rows.max() - rows.min()) / (cols.max() - cols.min())
    assert aspect == pytest.approx(16 / 20, abs=0.1)


def test_empty_boxes_are_not_drawn(tmp_path):
    images, maps = black_batch(count=2)
    empty = np.zeros((2, 4), np.int32)
    png = matplotlib.image.imread(visualization.plot_cam_grid(tmp_path / "e.png", images, maps, empty, empty))
    assert not coloured(png, 1).any() and not coloured(png, 0).any()


def test_method_grid_rows_are_images_columns_are_methods(tmp_path):
    images, maps = black_batch(count=3)
    gt = [np.array([[4, 8, 20, 28], [0, 0, 10, 10]]), np.array([4, 8, 20, 28]), np.array([4, 8, 20, 28])]
    pred = np.array([[2, 2, 30, 12]] * 3, np.int32)
    path = visualization.plot_method_grid(
        tmp_path / "methods.png",
        images,
        {"baseline": maps, "cutmix": maps + 1.0},
        gt,
        {"cutmix": pred},
        captions_by_method={"baseline": ["a", "b", "c"]},
        dpi=100,
    )
    png = matplotlib.image.imread(path)
    # 3 columns (image + 2 methods) of 1.8 inches; 3 rows of 1.8 inches + 0.4.
    assert png.shape[:2] == (580, 540)
    third = png.shape[1] // 3
    # Red (estimated boxes) only in the cutmix column; green (ground truth) in every column.
    assert not coloured(png[:, : 2 * third], 0).any()
    assert coloured(png[:, 2 * third :], 0).sum() > 50
    for c in range(3):
        assert coloured(png[:, c * third : (c + 1) * third], 1).sum() > 50
    with pytest.raises(ValueError, match="pred_boxes_by_method"):
        visualization.plot_method_grid(tmp_path / "x.png", images, {"a": maps}, None, {"b": pred})
    with pytest.raises(ValueError, match="gt_boxes"):
        visualization.plot_method_grid(tmp_path / "x.png", images, {"a": maps}, gt[:2])


def test_every_ground_truth_box_is_drawn(tmp_path):
    images, maps = black_batch(count=1)
    one = [np.array([[4, 8, 20, 28]])]
    two = [np.array([[4, 8, 20, 28], [22, 2, 30, 10]])]
    greens = []
    for i, boxes in enumerate((one, two)):
        path = visualization.plot_cam_grid(tmp_path / f"{i}.png", images, maps, boxes, None)
        greens.append(coloured(matplotlib.image.imread(path), 1).sum())
    assert greens[1] > greens[0] + 20


def test_a_nan_box_is_an_error_not_a_rectangle_from_minus_infinity(tmp_path):
    images, maps = np.zeros((1, 8, 8, 3), np.float32), np.zeros((1, 8, 8), np.float32)
    with pytest.raises(ValueError, match="NaN"):
        visualization.plot_cam_grid(tmp_path / "n.png", images, maps, [[np.nan, 1, 5, 6]], None)
