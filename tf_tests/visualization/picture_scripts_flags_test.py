"""examples/demo.py and box_mixing.py: a bad flag is one line and exit status 2, before anything is loaded
(they used to print absl's two FATAL lines and exit 1, or a traceback for --num_images=0)."""

import pytest


@pytest.mark.parametrize("script,flag,fragment", [
    ("demo.py", "--num_images=0", "--num_images=0: 0 is not an integer in the range [1, 4000]"),
    ("box_mixing.py", "--num_images=99999", "--num_images=99999: 99999 is not an integer in the range [1, 3000]"),
    ("box_mixing.py", "--no_such_flag=1", "no_such_flag"),
])
def test_bad_flags_are_one_line(run_script, script, flag, fragment):
    status, stderr, workdir = run_script(script, flag)
    ours = stderr.splitlines()  # The script's own lines (run_script drops TF's start-up lines).
    assert status == 2, stderr[-2000:]
    assert len(ours) == 1 and ours[0].startswith(f"{script}: error: ") and fragment in ours[0], stderr[-2000:]
    assert not workdir.exists()
