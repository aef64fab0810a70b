"""Weakly-supervised object localization: class activation maps.

`cam` and `gradcam` give min-max normalised maps `[B, H, W]` at the input
resolution (see `cam.py` for the upsampling and the absence of a ReLU in CAM).
This area is a higher layer: it imports `models`; `models`, `mixing` and
`data` never import it.
"""

from keras_cutmix.localization.cam import cam, gradcam

__all__ = ["cam", "gradcam"]
