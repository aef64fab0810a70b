"""Pictures: grids of mixed images with their boxes and label weights; CAMs with their boxes.

`figures` is how every picture of the package is made and saved, with no Matplotlib backend chosen.
"""

from keras_cutmix import extras

extras.require_extra("keras_cutmix.visualization")  # One clear ImportError without the extra.

from keras_cutmix.visualization.cam_grid import overlay_cam, plot_cam_grid, plot_method_grid
from keras_cutmix.visualization.mix_grid import plot_mix_grid
from keras_cutmix.visualization.box_grid import plot_box_grid
