"""`run_methods` / `method_runs`: train once per method, reuse finished runs and given workdirs; the flag."""

import json
import os

import pytest

from keras_cutmix import training

from training_helpers import tiny  # noqa: E402  (same folder)


def test_parse_method_dirs():
    assert training.parse_method_dirs("") == {}
    assert training.parse_method_dirs("baseline=/a,cutmix=/b/c") == {"baseline": "/a", "cutmix": "/b/c"}
    for bad in ("baseline", "foo=/a", "cutmix=/a,cutmix=/b", "mixup="):
        with pytest.raises(training.ConfigError, match="--workdirs=METHOD=DIR") as error:
            training.parse_method_dirs(bad)
        assert error.value.name == "workdirs"


def test_trains_once_then_reuses_and_reads_given_workdirs(data_dir, tmp_path):
    calls = []

    def probe(model, config, workdir):
        calls.append((config.method, workdir))
        return {"method": config.method}

    models = str(tmp_path / "models")
    first = training.run_methods(tiny(data_dir), models, ("baseline", "cutmix"), evaluators={"probe": probe})
    assert [c[0] for c in calls] == ["baseline", "cutmix"]
    assert first["cutmix"]["probe"] == {"method": "cutmix"} and "top1_error_best" in first["cutmix"]
    history = os.path.join(models, "cutmix", "history.json")
    mtime = os.path.getmtime(history)
    # Reused: nothing trains again; a given workdir is read with its own config (here 'mixup' is not trained).
    given = {"cutmix": os.path.join(models, "cutmix")}
    again = training.run_methods(tiny(data_dir, lr=0.5), str(tmp_path / "other"), ("cutmix",),
                                 evaluators={"probe": probe}, workdirs=given)
    assert os.path.getmtime(history) == mtime and again["cutmix"]["probe"] == {"method": "cutmix"}
    saved = json.loads((tmp_path / "models" / "cutmix" / "results.json").read_text())
    assert saved["cutmix"]["probe"] == {"method": "cutmix"}
    assert not (tmp_path / "other").exists()


def test_method_runs_refuses_bad_workdirs_before_training(data_dir, tmp_path):
    with pytest.raises(training.ConfigError, match="config.json") as error:
        training.method_runs(tiny(data_dir), str(tmp_path), ["mixup"], {"mixup": str(tmp_path / "none")})
    assert error.value.name == "workdirs"
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(tiny(data_dir, method="baseline").to_dict()))
    with pytest.raises(training.ConfigError, match="trained with 'cutmix'"):
        training.method_runs(tiny(data_dir), str(tmp_path), ["cutmix"], {"cutmix": str(run)})
    with pytest.raises(training.ConfigError, match="distinct methods") as error:
        training.method_runs(tiny(data_dir), str(tmp_path), ["cutmix", "cutmix"])
    assert error.value.name == "methods"
