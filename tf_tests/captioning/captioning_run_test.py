"""`run_captioning` (examples/coco_captioning.py) on tiny data and models: outputs, reuse, the blind row, flags."""

import json
import os

import keras
import numpy as np
import pytest

from keras_cutmix import data, training
from keras_cutmix.captioning import beam_search, build_vocabulary, detokenize, run, vocabulary_of
from keras_cutmix.data import caption_loaders, synthetic_captions
from helpers import Interrupt, assert_script_refuses_another_config, run_files  # tf_tests/

TINY = run.CaptionRecipe("synthetic_captions", 64, 1, batch_size=8, min_count=1, max_length=12, units=16,
                         max_test_images=6)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny synthetic_captions (24 train / 6 test) and two tiny classification runs as backbones."""
    root = tmp_path_factory.mktemp("captioning")
    tiny = synthetic_captions.SyntheticCaptionsConfig(name="default", num_train=24, num_test=6, seed=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthetic_captions.SyntheticCaptions, "BUILDER_CONFIGS", [tiny])
        data_dir = str(root / "tfds")
        caption_loaders.prepare_captions("synthetic_captions", data_dir=data_dir)
        backbones = {}
        for method in ("baseline", "cutmix"):
            config = training.get_config(method=method, epochs=1, batch_size=8, steps_per_epoch=1, eval_steps=1,
                                         train_split="train[:16]", test_split="test[:8]", verbose=0,
                                         data_dir=data_dir)
            backbones[method] = str(root / "models" / method)
            training.train_and_evaluate(config, backbones[method])
        yield root, data_dir, backbones


def test_run_captioning_outputs_reuse_and_blind_row(setup):
    root, data_dir, backbones = setup
    workdir = str(root / "run")
    results = run.run_captioning(workdir, preset=TINY, backbones=backbones, methods=("baseline", "cutmix"), data_dir=data_dir,
                                 beam_size=2, verbose=0)
    assert list(results) == ["baseline", "cutmix", "blind"]
    for scores in results.values():
        assert set(scores) == {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr"}
        assert all(0.0 <= v <= 10.0 for v in scores.values())
    table = (root / "run" / "results.md").read_text()
    assert "| method | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | METEOR | ROUGE-L | CIDEr |" in table
    assert "| 64.2 / 46.3 / 33.6 / 24.9 / 23.1 / 49.0 / 77.6 |" in table and "| blind |" in table
    assert (root / "run" / "captions.png").stat().st_size > 10_000
    saved = json.loads((root / "run" / "results.json").read_text())
    # The stored captions are the reloaded model's beam search on the test images.
    model = keras.saving.load_model(str(root / "run" / "cutmix" / "nic.keras"), safe_mode=True)
    images = next(iter(data.load_captions("synthetic_captions", batch_size=6, training=False, data_dir=data_dir)))
    ids, _ = beam_search(model, np.asarray(images["images"], np.float32), beam_size=2, max_length=TINY.max_length)
    assert saved["examples"]["cutmix"] == detokenize(np.asarray(ids), vocabulary_of(model))
    mtime = os.path.getmtime(root / "run" / "cutmix" / "nic.keras")
    again = run.run_captioning(workdir, preset=TINY, backbones=backbones, methods=("baseline", "cutmix"), data_dir=data_dir,
                               beam_size=2, verbose=0)
    assert os.path.getmtime(root / "run" / "cutmix" / "nic.keras") == mtime and again == results


def test_same_seed_same_nic_whatever_ran_before(setup):
    """TF's global seed left by earlier work (training the backbones in this process) changes nothing."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top

    root, data_dir, backbones = setup
    weights = []
    for earlier_seed in (1, 2):
        tf.random.set_seed(earlier_seed)
        workdir = str(root / f"seeded_{earlier_seed}")
        run.run_captioning(workdir, preset=TINY, backbones={"baseline": backbones["baseline"]}, methods=("baseline",),
                           data_dir=data_dir, beam_size=1, blind=False, verbose=0)
        model = keras.saving.load_model(os.path.join(workdir, "baseline", "nic.keras"), safe_mode=True)
        weights.append([np.asarray(w) for w in model.weights])
    assert len(weights[0]) == len(weights[1])
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("flag, message", [
    ("--backbones=foo=/x", "--backbones: Expected --backbones=METHOD=DIR"),
    ("--preset=coco", "--backbones: Expected a backbone for every method"),
    ("--beam_size=0", "flag --beam_size=0: 0 is not a positive integer"),
    ("--num_test_images=-3", "flag --num_test_images=-3: -3 is not a positive integer"),
    # Every method's backbone named, one missing: refused before the others load or anything trains.
    ("--backbones=baseline=/nonexistent,mixup=/x,cutout=/x,cutmix=/x.keras",
     "--backbones: run_captioning: Expected backbones['baseline'] to be a classification workdir"),
])
def test_flag_errors_are_one_line(run_script, flag, message):
    status, stderr, workdir = run_script("coco_captioning.py", flag)
    assert status == 2, stderr[-2000:]
    lines = stderr.splitlines()  # The script's own lines (run_script drops TF's start-up lines).
    assert len(lines) == 1, stderr[-2000:]
    assert lines[0].startswith("coco_captioning.py: error: ") and message in lines[0], lines[0]
    assert not workdir.exists()


def test_pairs_gather_each_captions_image_features():
    """Every (features, caption) pair of an epoch: the features of the caption's own image, each caption once."""
    words = ["red", "green", "blue", "star", "circle", "square", "above", "below"]
    captions = np.array([[f"a {words[i]} {words[j]} {n}" for n in range(5)] for i in range(8) for j in range(3)],
                        dtype=object)  # 24 images, 5 distinct captions each.
    features = np.arange(24 * 3, dtype=np.float32).reshape(24, 3)
    vocab = build_vocabulary(captions.reshape(-1), min_count=1)
    preset = run.CaptionRecipe("synthetic_captions", 64, 1, batch_size=7, max_length=6)
    seen = []
    for (rows, inputs), targets in run._pairs(features, captions, vocab, preset, seed=0):
        assert rows.shape[0] == inputs.shape[0] == targets.shape[0] <= 7
        for row, target in zip(rows.numpy(), targets.numpy()):
            image = int(row[0]) // 3
            np.testing.assert_array_equal(row, features[image])
            seen.append(detokenize(target[None], vocab)[0])
            assert seen[-1] in list(captions[image]), (seen[-1], captions[image])
    assert sorted(seen) == sorted(captions.reshape(-1))


def test_a_run_of_another_config_is_refused_untouched_unless_overwrite(setup):
    """Issue 18: a finished NIC used to be reloaded whatever changed (epochs, seed, sizes) and reported as the
    new config's. Now each NIC is one `training.resumable` run: refused, not a byte touched, unless
    `overwrite=True`, which trains the new config (config.json and history say so)."""
    root, data_dir, backbones = setup
    workdir = root / "changed"
    same = dict(backbones={"baseline": backbones["baseline"]}, methods=("baseline",), data_dir=data_dir,
                beam_size=1, blind=False, verbose=0)
    run.run_captioning(str(workdir), preset=TINY, **same)
    before = run_files(workdir)
    for change, field in ((dict(epochs=2), "epochs"), (dict(seed=1), "seed"), (dict(units=8), "units")):
        with pytest.raises(training.WorkdirInUseError, match=rf"finished run with other values of \[.*'{field}'"):
            run.run_captioning(str(workdir), preset=TINY, **same, **change)
        assert run_files(workdir) == before, change
    run.run_captioning(str(workdir), preset=TINY, **same, epochs=2, overwrite=True)
    assert json.loads((workdir / "baseline" / "config.json").read_text())["epochs"] == 2
    assert len(json.loads((workdir / "baseline" / "history.json").read_text())) == 2
    assert run_files(workdir)["baseline/nic.keras"] != before["baseline/nic.keras"]


def test_a_killed_nic_resumes_to_the_weights_of_an_uninterrupted_run(setup):
    """Killed after its first epoch, the NIC resumes from the backup (weights, Adam's moments and step, the
    dropout's seed state) on the same caption order: the same weights bit for bit (one process, same threads:
    nothing differs but the interruption), and the same captions."""
    root, data_dir, backbones = setup
    same = dict(preset=TINY, backbones={"baseline": backbones["baseline"]}, methods=("baseline",), data_dir=data_dir,
                beam_size=1, blind=False, verbose=0, epochs=2)
    full = run.run_captioning(str(root / "full"), **same)
    with pytest.raises(KeyboardInterrupt):
        run.run_captioning(str(root / "killed"), **same, callbacks=[Interrupt(1)])
    killed = root / "killed" / "baseline"
    assert (killed / "backup").exists() and not (killed / "nic.keras").exists()
    assert run.run_captioning(str(root / "killed"), **same) == full
    expected, resumed = (keras.saving.load_model(str(root / name / "baseline" / "nic.keras"), safe_mode=True)
                         for name in ("full", "killed"))
    assert len(resumed.weights) == len(expected.weights)
    for ours, theirs in zip(resumed.weights, expected.weights):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs), err_msg=ours.path)
    assert [e["epoch"] for e in json.loads((killed / "history.json").read_text())] == [0, 1]


def test_the_script_refuses_a_workdir_of_another_config_in_one_line(run_script, tmp_path):
    """coco_captioning.py on a workdir whose NIC ran with another config: one line naming --workdir, exit 1 (as
    classification.py), before any model trains or data set is built; nothing touched."""
    run_dir = tmp_path / "w" / "baseline"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"method": "baseline", "epochs": 5, "seed": 0}))
    (run_dir / "history.json").write_text(json.dumps([{"epoch": e, "loss": 1.0} for e in range(5)]))
    assert_script_refuses_another_config(run_script, "coco_captioning.py", tmp_path / "w", run_dir, "epochs",
                                         "--methods=baseline")
