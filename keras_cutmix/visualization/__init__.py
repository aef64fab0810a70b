"""Pictures: grids of mixed images with their boxes and label weights."""

from keras_cutmix.visualization.mix_grid import plot_mix_grid
