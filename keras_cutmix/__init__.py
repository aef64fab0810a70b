"""keras_cutmix: paper-exact CutMix for Keras 3 and tf.data, with MixUp and Cutout baselines.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899).
"""

from keras_cutmix.mixing import (CutMix, Cutout, MixedLoss, MixingLayer, MixUp, apply_cutmix, apply_cutout, apply_mixup,
                                 cutmix_fn, cutout_fn, map_with_seed, mixup_fn, sample_cutmix, sample_cutout,
                                 sample_mixup)

__version__ = "0.1.0"
