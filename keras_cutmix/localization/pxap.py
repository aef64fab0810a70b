"""PxAP: pixel-level average precision of localization maps against object masks (Choe et al., 2020).

    score = pxap(maps, masks)                      # one call: a fraction in [0, 1]

    accumulator = PxAPAccumulator()                # streaming: the same number, batch by batch
    for maps, masks in batches:
        accumulator.update(maps, masks)
    score = accumulator.result()

Reproduces `MaskEvaluator` of clovaai/wsolevaluation (`evaluation.py`), step by step:

1. **Maps** as `inference.py` makes them (`maps_at_mask_size`): resized to the mask's `[H, W]` with OpenCV's
   bicubic kernel if needed (`cam.resize_matrix`), then min-max normalised per image (a constant map becomes
   zeros, as `normalize_scoremap`). On maps from `cam` / `gradcam` at the mask's size this changes nothing.
2. **Histograms** of the scores of the foreground pixels and of the background pixels, over the bins
   `[t_0, t_1), ..., [t_last, 1), [1, 2), [2, 3]` with `t = np.arange(0, 1, cam_curve_interval)` (0.001:
   1,000 thresholds), added up over images. Pixels of the optional `ignore` masks enter neither histogram
   (wsolevaluation's mask value 255, its ignore boxes minus the foreground).
3. **AP**: from the top bin down, `tp` and `fp` are the cumulative foreground and background counts,
   precision `tp / (tp + fp)`, recall `tp / num_foreground`, and `AP = sum(precision[1:] * diff(recall))`
   over the points with a prediction; a fraction (wsolevaluation multiplies by 100).

This is scikit-learn's `average_precision_score` of the pixels, with scores quantised to the
`cam_curve_interval` bins (pixels in one bin count as tied). Masks: see `checked_masks` (255 is the object in
uint8 images such as CUB's PNGs and synthetic_birds' `segmentation_mask`).

References:
    - [Choe et al., Evaluating Weakly Supervised Object Localization Methods Right, CVPR 2020](
      https://arxiv.org/abs/2001.07437), Section 4.2 (PxAP); code: https://github.com/clovaai/wsolevaluation
      (`evaluation.py`, `MaskEvaluator`; `inference.py`, `normalize_scoremap`).
"""

import numpy as np

from keras_cutmix import checks
from keras_cutmix.localization.cam import resize_matrix


def checked_masks(values, name, caller):
    """Masks as bool [N, H, W]: bool, 0 / 1 or 0 / 255 values; [N, H, W, 1] and one [H, W] accepted.

    Args:
        values: The masks given (NumPy array, list or tensor).
        name, caller: The argument's and the public function's names, for the messages.

    Returns:
        A bool array [N, H, W].

    Raises:
        ValueError: for another shape, other values (e.g. 0, 1 and 255 together: wsolevaluation's mask with
            255 for ignore, which goes in as `masks=(mask == 1), ignore=(mask == 255)`).
    """
    array = values.numpy() if hasattr(values, "numpy") else values
    array = np.asarray(array) if isinstance(array, (list, tuple)) else array
    if isinstance(array, np.ndarray) and array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if isinstance(array, np.ndarray) and array.dtype != bool and np.issubdtype(array.dtype, np.number):
        present = np.unique(array)
        if np.isin(255, present) and np.isin(1, present):
            raise ValueError(f"{caller}: Expected `{name}` of 0 and 1 or of 0 and 255. Received: values 0, 1 and "
                             f"255 together (wsolevaluation's 255 marks pixels to ignore: pass "
                             f"{name}=({name} == 1), ignore=({name} == 255))")
        if np.all(np.isin(present, (0, 255))):
            array = array == 255
    return checks.masks(name, array, caller)


def maps_at_mask_size(maps, size, caller, count=None):
    """Maps as wsolevaluation scores them: resized to `size` (OpenCV bicubic) if needed, min-max normalised.

    Args:
        maps: Maps [N, h, w] (or one [h, w]), any real dtype, finite (NumPy array, list or tensor).
        size: The masks' `(H, W)`.
        caller: The public function's name, for the messages.
        count: The number of maps expected (one per mask). Defaults to None: any.

    Returns:
        float64 [N, H, W] in [0, 1]; a constant map gives zeros.

    Raises:
        ValueError: for another rank or count, an empty map, or NaN or infinite values.
    """
    array = maps.numpy() if hasattr(maps, "numpy") else maps
    array = checks.maps("maps", array, caller, dtype=None)  # float32 stays float32 (as OpenCV resizes it).
    array = array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float64)
    if count is not None and len(array) != count:
        raise ValueError(f"{caller}: Expected one map in `maps` per mask ({count}). Received: "
                         f"maps.shape={array.shape}")
    if array.shape[1:] != tuple(size):
        rows, cols = resize_matrix(array.shape[1], size[0]), resize_matrix(array.shape[2], size[1])
        array = np.einsum("Hh,bhw,Ww->bHW", rows, array, cols)
    array = array.astype(np.float64)
    low = array.min(axis=(1, 2), keepdims=True) if array.size else array
    span = array.max(axis=(1, 2), keepdims=True) - low if array.size else array
    return np.where(span > 0, (array - low) / np.where(span > 0, span, 1.0), 0.0)


class PxAPAccumulator:
    """PxAP over batches: score histograms of foreground and background pixels, added up (see the module).

    Args:
        cam_curve_interval: Step of the score thresholds, a fraction in (0, 1]. Defaults to 0.001, as
            wsolevaluation.

    Attributes:
        thresholds: float64 [T], `np.arange(0, 1, cam_curve_interval)`.
        foreground_hist: int64 [T + 2], the foreground pixels' scores per bin (ascending).
        background_hist: int64 [T + 2], the background pixels' scores per bin.
        num_images: How many maps went in.
    """

    def __init__(self, cam_curve_interval=0.001):
        self._caller = "PxAPAccumulator"  # `pxap` puts its own name here, for its messages.
        interval = checks.fraction("cam_curve_interval", cam_curve_interval, self._caller, open_low=True)
        self.thresholds = np.arange(0, 1, interval)
        self._edges = np.append(self.thresholds, [1.0, 2.0, 3.0])
        self.foreground_hist = np.zeros(len(self._edges) - 1, np.int64)
        self.background_hist = np.zeros(len(self._edges) - 1, np.int64)
        self.num_images = 0

    def update(self, maps, masks, ignore=None):
        """Adds a batch.

        Args:
            maps, masks: As `pxap`.
            ignore: Optional masks like `masks` of pixels left out of both histograms (background only: they
                may not overlap the object). Defaults to None.

        Raises:
            ValueError: Naming the argument: maps not [N, h, w] or not finite, masks not binary, another
                number of masks than maps, `ignore` of another shape or overlapping the object.
        """
        masks = checked_masks(masks, "masks", self._caller)
        maps = maps_at_mask_size(maps, masks.shape[1:], self._caller, count=len(masks))
        counted = np.ones_like(masks)
        if ignore is not None:
            ignore = checked_masks(ignore, "ignore", self._caller)
            if ignore.shape != masks.shape:
                raise ValueError(f"{self._caller}: Expected `ignore` of the masks' shape {masks.shape}. Received: "
                                 f"ignore.shape={ignore.shape}")
            if np.any(ignore & masks):
                raise ValueError(f"{self._caller}: Expected `ignore` outside the object (wsolevaluation: ignore "
                                 f"boxes minus the foreground). Received: {int(np.sum(ignore & masks))} pixels in "
                                 f"both `ignore` and `masks`")
            counted = ~ignore
        self.foreground_hist += np.histogram(maps[masks & counted], bins=self._edges)[0]
        self.background_hist += np.histogram(maps[~masks & counted], bins=self._edges)[0]
        self.num_images += len(maps)

    def result(self):
        """PxAP of everything added so far, a fraction in [0, 1].

        Raises:
            ValueError: if no foreground pixel was added (AP is undefined).
        """
        num_foreground = self.foreground_hist.sum()
        if num_foreground == 0:
            raise ValueError(f"{self._caller}: Expected at least one foreground pixel in the masks. Received: "
                             f"{self.num_images} maps, no foreground pixel")
        tp = np.cumsum(self.foreground_hist[::-1]).astype(np.float64)  # Scores >= 2, >= 1, >= t_last, ..., >= 0.
        fp = np.cumsum(self.background_hist[::-1]).astype(np.float64)
        predicted = (tp + fp) != 0
        precision = tp / np.where(predicted, tp + fp, 1.0)
        recall = tp / num_foreground
        return float((precision[1:] * np.diff(recall))[predicted[1:]].sum())


def pxap(maps, masks, ignore=None, cam_curve_interval=0.001):
    """PxAP of localization maps against object masks, as wsolevaluation computes it (a fraction).

    Args:
        maps: Localization maps [N, h, w] (or one [h, w]), e.g. `cam(model, images, class_ids=labels)`; any
            size (resized to the masks' with OpenCV's bicubic kernel), any finite range (min-max normalised
            per image).
        masks: Object masks [N, H, W] or [N, H, W, 1]: bool, 0 / 1 or 0 / 255 (255 is the object).
        ignore: Optional masks like `masks` of background pixels left out. Defaults to None.
        cam_curve_interval: Step of the score thresholds, in (0, 1]. Defaults to 0.001.

    Returns:
        A float in [0, 1]: the area under the pixels' precision-recall curve.

    Raises:
        ValueError: As `PxAPAccumulator.update`, for `cam_curve_interval` outside (0, 1] (e.g. in percent),
            and when the masks hold no foreground pixel.
    """
    accumulator = PxAPAccumulator(checks.fraction("cam_curve_interval", cam_curve_interval, "pxap", open_low=True))
    accumulator._caller = "pxap"
    accumulator.update(maps, masks, ignore)
    return accumulator.result()
