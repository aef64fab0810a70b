"""`training.resumable`'s workdir rules on hand-written workdirs (no training): reuse, refuse, overwrite."""

import json

import pytest

from keras_cutmix.training import resumable

CONFIG = {"epochs": 2, "steps": (4, 8), "preset": {"sizes": (1, 2)}, "data_dir": "/a"}


def _write(workdir, config, epochs, backup=False):
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "history.json").write_text(json.dumps([{"epoch": e} for e in range(epochs)]))
    if backup:
        (workdir / "backup").mkdir()


def test_a_finished_run_of_the_same_config_is_reused_tuples_and_free_fields_included(tmp_path):
    _write(tmp_path, CONFIG, 2)  # Saved as JSON: the tuples read back as lists.
    moved = dict(CONFIG, data_dir="/b")
    resumable.check_workdir(tmp_path, moved, free_fields=("data_dir",))
    assert resumable.finished(tmp_path, moved, free_fields=("data_dir",)) == [{"epoch": 0}, {"epoch": 1}]
    with pytest.raises(resumable.WorkdirInUseError, match=r"finished run with other values of \['data_dir'\]"):
        resumable.check_workdir(tmp_path, moved)
    assert resumable.finished(tmp_path, moved) is None


def test_other_configs_are_refused_naming_the_fields_and_the_state(tmp_path):
    _write(tmp_path / "stopped", CONFIG, 1)
    with pytest.raises(resumable.WorkdirInUseError, match=r"a run stopped after 1 of 2 epochs .*\['steps'\]"):
        resumable.check_workdir(tmp_path / "stopped", dict(CONFIG, steps=(4, 9)))
    _write(tmp_path / "killed", CONFIG, 1, backup=True)
    with pytest.raises(resumable.WorkdirInUseError, match=r"interrupted run .*Received changes to \['preset'\]") as error:
        resumable.check_workdir(tmp_path / "killed", dict(CONFIG, preset={"sizes": (1, 3)}))
    assert error.value.name == "workdir"
    assert resumable.finished(tmp_path / "killed", CONFIG) is None  # Interrupted: resumed, not reused.
    resumable.check_workdir(tmp_path / "killed", dict(CONFIG, steps=(1,)), overwrite=True)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(resumable.ConfigError, match="which is a file"):
        resumable.check_workdir(tmp_path / "a_file", CONFIG)


def test_start_with_overwrite_deletes_only_the_run_files(tmp_path):
    _write(tmp_path, CONFIG, 1, backup=True)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.weights.h5").write_text("old")
    (tmp_path / "nic.keras").write_text("not a run file")
    (tmp_path / "backup" / "training_metadata.json").write_text(json.dumps({"epoch": 1}))
    assert resumable.start(tmp_path, CONFIG) == 1  # Resumes after the backup's epoch.
    new = dict(CONFIG, epochs=3)
    assert resumable.start(tmp_path, new, overwrite=True) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "nic.keras"]
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 3
