"""Helpers of the training tests: the tiny config and checkpoint comparison."""

import os

import h5py
import numpy as np

from keras_cutmix import training

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tiny(data_dir, **changes):
    """Two batches of 8 32x32 synthetic_shapes images per epoch, one test batch."""
    fields = dict(epochs=1, batch_size=8, steps_per_epoch=2, eval_steps=1, image_size=32,
                  train_split="train[:32]", test_split="test[:8]", data_dir=data_dir, verbose=0)
    fields.update(changes)
    return training.get_config(**fields)


def saved_arrays(path):
    """Every array of a .weights.h5 file (model and optimizer variables)."""
    arrays = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return arrays


def assert_same_arrays(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
