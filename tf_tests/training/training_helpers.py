"""Helpers of the training tests: the tiny config (checkpoint comparison lives in tf_tests/helpers.py)."""

import os

from keras_cutmix import training

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tiny(data_dir, **changes):
    """Two batches of 8 32x32 synthetic_shapes images per epoch, one test batch."""
    fields = dict(epochs=1, batch_size=8, steps_per_epoch=2, eval_steps=1, image_size=32,
                  train_split="train[:32]", test_split="test[:8]", data_dir=data_dir, verbose=0)
    fields.update(changes)
    return training.get_config(**fields)

