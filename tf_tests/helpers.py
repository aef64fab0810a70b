"""Test helpers shared by several test modules (fixtures live in conftest.py)."""

import atexit
import json
import os
import subprocess
import sys
import tempfile
import warnings

import h5py
import keras
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TensorFlow's own start-up lines on stderr, which say nothing of the script.
_TF_LINES = ("I0000", "W0000", "E0000", "WARNING: All log messages")

_SERVER = {}  # "process": the server (False once it died: later runs are new processes), "log": its stderr.
# A flag error takes well under a second forked: a fork still running after this is killed and the script is
# run as a new process with the caller's whole timeout.
_FORK_TIMEOUT = 60


def script_env():
    """The environment the examples run in: this checkout importable, TensorFlow's info logs off."""
    return dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def script_lines(stderr):
    """The script's own lines of `stderr`: TensorFlow's start-up lines and blank lines left out."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(_TF_LINES)]


def _start_server():
    fd, log = tempfile.mkstemp(prefix="keras_cutmix_script_server_", suffix=".log")
    atexit.register(os.remove, log)
    _SERVER["log"] = log
    try:
        return subprocess.Popen([sys.executable, os.path.join(REPO, "tf_tests", "script_server.py")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fd, text=True, cwd=REPO,
                                env=script_env())
    finally:
        os.close(fd)  # The server holds its own copy.


def _server_died():
    """Every later run is a new process; a warning in pytest's summary holds the end of the server's stderr."""
    _SERVER["process"] = False
    with open(_SERVER["log"]) as f:
        tail = f.read()[-2000:]
    warnings.warn(f"tf_tests/script_server.py stopped; the scripts now run as new processes. Its stderr "
                  f"ends:\n{tail}")


def _serve(args, env, cwd, timeout, directory):
    """`args` run by this test process's script server (tf_tests/script_server.py, started on first use):
    `(returncode, stdout, stderr)`, or None when the server is gone (for good) or the run was killed by a
    signal or `_FORK_TIMEOUT` (the caller then runs it as a new process, so a fork's trouble never decides a
    test)."""
    server = _SERVER.get("process")
    if server is False:
        return None
    if server is None:
        server = _SERVER["process"] = _start_server()
    out, err = os.path.join(directory, "stdout.txt"), os.path.join(directory, "stderr.txt")
    request = {"argv": list(args), "env": dict(env), "cwd": cwd, "stdout": out, "stderr": err,
               "timeout": min(timeout, _FORK_TIMEOUT)}
    try:
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        answer = next(line for line in server.stdout if line.startswith("@@ "))
    except (OSError, StopIteration):
        _server_died()
        return None
    returncode = json.loads(answer[3:])["returncode"]
    if returncode is None or returncode < 0:
        return None
    with open(out) as f_out, open(err) as f_err:
        return returncode, f_out.read(), f_err.read()


def run_example(args, tmp_path, env=None, cwd=REPO, timeout=120):
    """`python *args` (an examples/ script and its flags) as `subprocess.run(..., capture_output=True,
    text=True)` would give it, run in a fork of a process that imported TensorFlow once (the flag-error
    tests: ~0.1 s instead of ~7 s); a new process where the fork cannot. `tmp_path` keeps the output files."""
    env = script_env() if env is None else env
    served = _serve(args, env, cwd, timeout, tempfile.mkdtemp(dir=tmp_path))
    if served is None:
        process = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env,
                                 timeout=timeout)
        served = process.returncode, process.stdout, process.stderr
    return subprocess.CompletedProcess([sys.executable, *args], *served)


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
