"""Object coverage: how much of the object the thresholded map covers, and how much of it lies outside.

    coverage = object_coverage(maps, masks, threshold=0.15)
    coverage["object_covered"], coverage["outside_object"]        # means over images, fractions

A box that passes IoU 0.5 can sit on the bird's head alone or on the whole bird; these two numbers tell
which. The CAM region `R` of an image is the box rule's whole foreground (`map > threshold * max(map)`, not
only its largest connected region), after PxAP's pipeline (`pxap.maps_at_mask_size`, which changes nothing
on maps from `cam` / `gradcam` at the mask's size). With `M` the object mask, per image:

* `object_covered = |R & M| / |M|` (NaN for an image without object pixels);
* `outside_object = |R & ~M| / |R|` (NaN for an empty region, e.g. a constant map).

The means skip the NaNs. The threshold may be the paper's fixed sigma (0.15) or the one MaxBoxAccV2 found
(`evaluate_localization(...)["max_box_acc_v2"]["best_cam_threshold"]`; MaxBoxAccV2 binarises the uint8 map
`(map * 255).astype(uint8) > int(t * 255)`, which can differ from `map > t` by one uint8 level).

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899), Section 4.1 and Figure 1: CutMix's
      CAMs "cover the whole object".
    - [Choe et al., 2020](https://arxiv.org/abs/2001.07437): thresholded maps and masks (PxAP).
"""

import numpy as np

from keras_cutmix import checks
from keras_cutmix.localization.pxap import checked_masks, maps_at_mask_size

_CALLER = "object_coverage"


def _ratio(numerator, denominator):
    """numerator / denominator as float64, NaN where the denominator is 0."""
    numerator, denominator = numerator.astype(np.float64), denominator.astype(np.float64)
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def _nan_mean(values):
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


def object_coverage(maps, masks, threshold=0.15):
    """Fractions of the object inside the thresholded map and of the thresholded map outside the object.

    Args:
        maps, masks: As `pxap`.
        threshold: The region is `map > threshold * max(map)`, a fraction (0.15, not 15). Defaults to 0.15,
            the paper's sigma.

    Returns:
        A dict: `object_covered` and `outside_object` (means over the images where each is defined, fractions;
        NaN if none), `num_images`, `threshold`, and `per_image` (`object_covered` and `outside_object`,
        float64 NumPy [N] with NaN where undefined: not JSON-ready).

    Raises:
        ValueError: Naming the argument: maps not [N, h, w] or not finite, masks not binary or not one per map,
            a threshold outside [0, 1] (with a hint when it looks like a percentage).
    """
    threshold = checks.fraction("threshold", threshold, _CALLER)
    masks = checked_masks(masks, "masks", _CALLER)
    maps = maps_at_mask_size(maps, masks.shape[1:], _CALLER, count=len(masks))
    region = maps > threshold  # The box rule's `map > threshold * max(map)`: normalised maps peak at 1 (or are 0).
    covered = _ratio(np.sum(region & masks, axis=(1, 2)), np.sum(masks, axis=(1, 2)))
    outside = _ratio(np.sum(region & ~masks, axis=(1, 2)), np.sum(region, axis=(1, 2)))
    return {
        "object_covered": _nan_mean(covered),
        "outside_object": _nan_mean(outside),
        "num_images": len(maps),
        "threshold": threshold,
        "per_image": {"object_covered": covered, "outside_object": outside},
    }
