"""The example scripts' flag and config errors: one line naming the flag, exit status, nothing written.

Each case runs a script as a user would (`python examples/<script>.py ...`, from the repository root, through
`helpers.run_example`), in one test that reports every failing case.
"""

import json
import os

from helpers import run_example  # tf_tests/
from keras_cutmix import training

# name: (script, flags, exit status, texts the error line must hold). "{...}" are filled per session.
CASES = {
    "epochs_zero": ("classification", ["--epochs=0"], 2, ["--epochs:", "epochs=0"]),
    "epochs_not_an_int": ("classification", ["--epochs=abc"], 2, ["--epochs", "abc"]),
    "batch_size": ("classification", ["--batch_size=-8"], 2, ["--batch_size:", "batch_size=-8"]),
    "model": ("classification", ["--model=resnet9000"], 2, ["--model:", "resnet9000", "small_cnn"]),
    "dataset": ("classification", ["--dataset=mnist"], 2, ["--dataset:", "mnist", "cifar10"]),
    "lr_multipliers_regex": ("classification", ["--lr_multipliers=head(=10"], 2,
                             ["--lr_multipliers:", "regular expression", "head("]),
    "lr_multipliers_syntax": ("classification", ["--lr_multipliers=head/"], 2,
                              ["--lr_multipliers:", "REGEX=FACTOR", "head/"]),
    "lr_multipliers_factor": ("classification", ["--lr_multipliers=head/=ten"], 2,
                              ["--lr_multipliers:", "ten"]),
    "workdir_is_a_file": ("classification", ["--workdir={a_file}"], 2, ["--workdir:", "a_file", "is a file"]),
    "workdir_missing": ("classification", [], 2, ["--workdir"]),  # Run without --workdir.
    "workdir_empty": ("classification", ["--workdir="], 2, ["--workdir:", "workdir=''"]),
    "dataset_not_prepared": ("classification", ["--dataset=cifar10", "--model=resnet56",
                                                "--data_dir={no_data}"], 1,
                             ["--dataset / --data_dir:", "cifar10", "no_data"]),
    "weights_missing": ("classification", ["--weights={no_data}/w.weights.h5"], 1,
                        ["--weights:", "w.weights.h5"]),
    "workdir_holds_another_run": ("classification", ["--workdir={other_run}"], 1,
                                  ["--workdir:", "stopped after 0 of 12 epochs", "['lr']", "--overwrite"]),
    "compare_seeds": ("compare_methods", ["--seeds=0,x"], 2, ["--seeds:", "0,x"]),
    "compare_methods": ("compare_methods", ["--methods=cutmix,fmix"], 2, ["--methods:", "fmix"]),
    "compare_workdir_is_a_file": ("compare_methods", ["--workdir={a_file}"], 2, ["--workdir:", "is a file"]),
}


def run_case(name, paths):
    script, flags, _, _ = CASES[name]
    workdir = os.path.join(paths["root"], f"workdir_{name}")
    args = [f"--workdir={workdir}"] + [f.format(**paths) for f in flags]
    if name == "workdir_missing":
        args = []
    out = run_example([os.path.join("examples", f"{script}.py"), *args], paths["root"])
    return out, workdir


def check_case(name, out, workdir, paths):
    """The problems with one case's outcome (an empty list if none)."""
    script, _, status, texts = CASES[name]
    problems = []
    if out.returncode != status:
        problems.append(f"exit status {out.returncode}, expected {status}")
    if "Traceback" in out.stderr:
        problems.append("a traceback")
    errors = [line for line in out.stderr.splitlines() if line.startswith(f"{script}.py: error: ")]
    if len(errors) != 1:
        problems.append(f"{len(errors)} error lines")
    else:
        message = out.stderr[out.stderr.index(errors[0]):]  # The line, and the lines a long message adds.
        problems += [f"no {text!r} in the message" for text in texts if text not in message]
    # Nothing was written: no workdir, the file and the other run untouched, no data set folder.
    if os.path.exists(workdir):
        problems.append(f"{workdir} was created")
    with open(paths["a_file"]) as f:
        if f.read() != "keep me":
            problems.append("a_file was changed")
    if os.listdir(paths["other_run"]) != ["config.json"]:
        problems.append("other_run was changed")
    if os.path.exists(paths["no_data"]):
        problems.append("no_data was created")
    return [f"{name}: {p}\n{out.stderr[-1500:]}" for p in problems]


def test_flag_errors_are_one_line_naming_the_flag(tmp_path):
    """Every case of `CASES` (one test: under pytest-xdist they run once)."""
    paths = {"root": str(tmp_path), "a_file": str(tmp_path / "a_file"), "no_data": str(tmp_path / "no_data"),
             "other_run": str(tmp_path / "other_run")}
    (tmp_path / "a_file").write_text("keep me")
    os.makedirs(paths["other_run"])
    # A run of another config (stopped before its first epoch ended): what the workdir check reads.
    with open(os.path.join(paths["other_run"], "config.json"), "w") as f:
        json.dump(training.Config(lr=0.5).to_dict(), f)
    outcomes = {name: run_case(name, paths) for name in CASES}
    problems = [p for name, (out, workdir) in outcomes.items() for p in check_case(name, out, workdir, paths)]
    assert not problems, "\n\n".join(problems)
