"""Test helpers shared by several test modules (fixtures live in conftest.py)."""

import keras


class Interrupt(keras.callbacks.Callback):
    """Stands in for a killed process: raises when epoch `epoch` begins."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"simulated interruption at epoch {epoch}")
