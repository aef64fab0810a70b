"""Runs examples/ scripts as `python examples/<script> FLAGS` would, each in a process forked from this one,
which imported TensorFlow and the package once: the flag-error tests' server (`helpers.run_example`).

A script's flag error takes ~7 s as a new process, 6 of them importing TensorFlow; forked from here it takes
well under one. This process runs no TensorFlow op (no runtime to copy into a fork). One request a line on
stdin, JSON `{"argv": [script, flags...], "env": {...}, "cwd": DIR, "stdout": FILE, "stderr": FILE,
"timeout": SECONDS}`; one answer a line on stdout, `@@ {"returncode": N}` (negative: killed by that
signal, as `subprocess`; null: still running after the timeout, killed).
"""

import json
import os
import runpy
import signal
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import absl.app  # noqa: E402,F401
import keras  # noqa: E402,F401
import tensorflow  # noqa: E402,F401
import tensorflow_datasets  # noqa: E402,F401

import keras_cutmix.training  # noqa: E402,F401  (imports models, data and mixing)


def _child(request):
    """In the fork: the script as `python script flags` runs it, then the process ends with its status."""
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = list(request["argv"])
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
    status = 0
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as exit_:  # What the interpreter does with it.
        if exit_.code is None or isinstance(exit_.code, int):
            status = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
            status = 1
    except BaseException:  # noqa: B902  An uncaught exception: traceback, status 1.
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _wait(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def main():
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # The requests are not the script's input.
                _child(request)
            finally:
                os._exit(1)  # Never back into this loop.
        print("@@", json.dumps({"returncode": _wait(pid, request["timeout"])}), flush=True)


if __name__ == "__main__":
    main()
