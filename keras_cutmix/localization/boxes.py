"""The paper's box rule: threshold a localization map, keep its largest connected region, box it.

Boxes in keras_cutmix are int32 `[ymin, xmin, ymax, xmax]` in pixels with an exclusive max: rows 3..7 give
`ymin = 3, ymax = 8`, so the box's height is `ymax - ymin` and an empty box is `[0, 0, 0, 0]`.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), supplementary Section B: "binarise
      at sigma x its maximum (sigma = 0.15), take the tightest box around the largest connected region".
    - [Zhou et al., Learning Deep Features for Discriminative Localization, CVPR 2016](
      https://arxiv.org/abs/1512.04150), the rule's origin.
"""

import numpy as np
import scipy.ndimage

from keras_cutmix import checks

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def checked_maps(maps, name, caller):
    """`maps` (NumPy array or tensor) as a finite NumPy array [B, H, W] in its own dtype, or a ValueError."""
    array = maps.numpy() if hasattr(maps, "numpy") else maps
    checked = checks.maps(name, array, caller, dtype=None)  # Kind, dtype, finiteness ([H, W] -> [1, H, W]).
    if np.ndim(array) != 3:
        raise ValueError(f"{caller}: Expected `{name}` of shape [batch, height, width]. Received: "
                         f"{name}.shape={np.shape(array)}")
    return checked


def boxes_from_maps(maps, threshold=0.15):
    """Boxes around the largest connected region of each thresholded map.

    For each map, the foreground is `map > threshold * max(map)`, strictly greater: a map of zeros has no
    foreground, a positive constant map is all foreground. The largest 8-connected region by pixel count is
    kept; between regions of equal size the one whose first pixel comes first in raster order wins
    (`scipy.ndimage.label`'s numbering). Its tightest box is returned with an exclusive max. A map with no
    foreground gives `[0, 0, 0, 0]`.

    Args:
        maps: Localization maps (NumPy array or tensor) of shape [B, H, W], any real dtype, any finite range.
        threshold: Fraction in [0, 1] of each map's maximum that a pixel must exceed (0.15, not 15).
            Defaults to 0.15, the paper's sigma.

    Returns:
        NumPy int32 array [B, 4] of `[ymin, xmin, ymax, xmax]` boxes, max exclusive.

    Raises:
        ValueError: If `maps` is not a numeric [B, H, W] or has NaN or infinite values, or `threshold` is not
            a fraction in [0, 1] (with a hint when it looks like a percentage).
    """
    maps = checked_maps(maps, "maps", "boxes_from_maps")
    threshold = checks.fraction("threshold", threshold, "boxes_from_maps")
    boxes = np.zeros((maps.shape[0], 4), dtype=np.int32)
    for index, score_map in enumerate(maps):
        if score_map.size == 0:
            continue
        labels, count = scipy.ndimage.label(score_map > threshold * score_map.max(), _EIGHT_CONNECTED)
        if count == 0:
            continue
        largest = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1  # argmax: the lowest label on ties.
        rows, cols = scipy.ndimage.find_objects(labels)[largest - 1]
        boxes[index] = (rows.start, cols.start, rows.stop, cols.stop)
    return boxes
