"""The mixing core: pure samplers, pure appliers, map functions, layers and the loss wrapper."""

from keras_cutmix.mixing.cutmix import apply_cutmix, cutmix_fn, sample_cutmix
from keras_cutmix.mixing.cutout import apply_cutout, cutout_fn, sample_cutout
from keras_cutmix.mixing.datasets import map_with_seed
from keras_cutmix.mixing.layers import CutMix, Cutout, MixingLayer, MixUp
from keras_cutmix.mixing.losses import MixedLoss
from keras_cutmix.mixing.mixup import apply_mixup, mixup_fn, sample_mixup
