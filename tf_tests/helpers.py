"""Test helpers shared by several test modules (fixtures live in conftest.py)."""

import h5py
import keras
import numpy as np


class Interrupt(keras.callbacks.Callback):
    """Stands in for a killed process: raises when epoch `epoch` begins."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"simulated interruption at epoch {epoch}")


def run_files(workdir):
    """`{relative path: bytes}` of every file under `workdir` (a `pathlib.Path`)."""
    return {str(p.relative_to(workdir)): p.read_bytes() for p in workdir.rglob("*") if p.is_file()}


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


def assert_script_refuses_another_config(run_script, script, workdir, run_dir, field, flag):
    """`script` (through conftest's `run_script`, whose --workdir is `workdir`) on a workdir whose run in
    `run_dir` has another `field`: one line naming --workdir and `field`, exit status 1 (as
    classification.py), not a byte touched."""
    before = run_files(workdir)
    status, stderr, used = run_script(script, flag)
    assert used == workdir
    assert status == 1, stderr[-2000:]
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{script}: error: --workdir: Expected workdir="
                                                   f"'{run_dir}' to be new or to hold a run of this config"), lines
    assert "finished run" in lines[0] and f"'{field}'" in lines[0] and "--overwrite" in lines[0]
    assert run_files(workdir) == before
