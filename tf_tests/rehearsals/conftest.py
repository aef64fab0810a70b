"""The rehearsals' one fixture: run a documented command as written, on tfds mock data.

Each test in this folder takes a command that the README or a script's docstring gives for real data
(CUB, ImageNet, VOC, COCO, CIFAR), adds only size flags (a few images, one or two steps), and runs it
unpatched in a fresh process whose tensorflow-datasets serves `tfds.testing.mock_data` examples with the
real data set's features (`mock_run.py`). Weights files are made here in the layouts users have.
"""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def rehearse(tmp_path):
    """`rehearse(script, *flags, num_examples=4, logical_cpus=1, timeout=600) -> CompletedProcess`.

    Runs `python examples/<script> <flags>` from the repository root under mock data, with `--data_dir`
    pointing at an empty folder of `tmp_path` unless a flag gives one (nothing real is read). The
    process's output is returned (text); the test checks its exit status and the files it wrote.
    """
    def run(script, *flags, num_examples=4, logical_cpus=1, timeout=600):
        flags = list(flags)
        if not any(f.startswith("--data_dir") for f in flags):
            flags.append(f"--data_dir={tmp_path / 'tfds'}")
        command = [sys.executable, os.path.join(REPO, "tf_tests", "rehearsals", "mock_run.py"),
                   str(num_examples), str(logical_cpus), os.path.join(REPO, "examples", script), *flags]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=timeout,
                              env=dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2",
                                       MPLBACKEND="Agg"))

    return run
