"""`helpers.run_example`'s fork of tf_tests/script_server.py gives what a new `python examples/...` gives."""

import os
import subprocess
import sys

import pytest

import helpers  # tf_tests/
from helpers import REPO, script_env, script_lines


@pytest.mark.parametrize("flag", ["--num_pairs=0", "--helpshort"])
def test_a_fork_gives_what_a_new_process_gives(tmp_path, flag):
    args = [os.path.join(REPO, "examples", "robustness.py"), f"--workdir={tmp_path / 'w'}", flag]
    served = helpers._serve(args, script_env(), REPO, 120, str(tmp_path))
    assert served is not None, "the fork did not run (run_example would have run a new process)"
    forked = subprocess.CompletedProcess(args, *served)
    new = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO, env=script_env(),
                         timeout=120)
    assert ((forked.returncode, script_lines(forked.stderr), forked.stdout)
            == (new.returncode, script_lines(new.stderr), new.stdout))
    assert forked.returncode == (2 if flag == "--num_pairs=0" else 1)  # absl exits 1 after the help text.
    assert "--num_pairs" in (forked.stderr if flag == "--num_pairs=0" else forked.stdout)
