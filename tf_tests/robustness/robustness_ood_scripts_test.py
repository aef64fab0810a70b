"""`run_robustness` and `run_ood` (examples/robustness.py, examples/ood.py) on tiny models they share.

The numbers are checked against independent recomputations from the saved models (NumPy argmax and
softmax, scikit-learn's AUROC), the outputs' layout, and the scripts' one-line flag errors.
"""

import json
import os

import numpy as np
import pytest
import sklearn.metrics
import tensorflow as tf

from helpers import REPO, run_example  # tf_tests/
from keras_cutmix import data, ood, robustness, training

METHODS = ("baseline", "cutmix")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """Both scripts on the same two tiny models (trained by the first, reused by the second)."""
    root = tmp_path_factory.mktemp("scripts")
    config = training.get_config(epochs=1, batch_size=16, steps_per_epoch=3, eval_steps=1, image_size=32,
                                 train_split="train[:48]", test_split="test[:40]", verbose=0,
                                 data_dir=str(root / "tfds"))
    models = str(root / "models")
    rob = robustness.run_robustness(str(root / "rob"), config, models_dir=models, methods=METHODS,
                                    num_images=40, num_pairs=12, pgd_steps=2)
    mtime = os.path.getmtime(os.path.join(models, "cutmix", "history.json"))
    out = ood.run_ood(str(root / "ood"), config, models_dir=models, methods=METHODS, num_images=40,
                      num_ood_images=30)
    assert os.path.getmtime(os.path.join(models, "cutmix", "history.json")) == mtime  # Reused, not retrained.
    return root, config, models, rob, out


def _test_set(config):
    batches = list(data.load(config.dataset, config.test_split, batch_size=64, training=False,
                             image_size=config.image_size, data_dir=config.data_dir))
    return (np.concatenate([np.asarray(x, np.float32) for x, _ in batches]),
            np.concatenate([np.asarray(y) for _, y in batches]))


def _softmax(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _fgsm_accuracy(model, images, labels, eps=8 / 255):
    """FGSM written out: x + eps * sign(d CE / dx) on [0, 1] images, the model fed x * 255."""
    x = tf.constant(images / 255.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.keras.losses.sparse_categorical_crossentropy(labels, model(x * 255.0, training=False),
                                                               from_logits=True)
    adversarial = tf.clip_by_value(x + eps * tf.sign(tape.gradient(loss, x)), 0.0, 1.0)
    return 100 * np.mean(np.argmax(np.asarray(model(adversarial * 255.0, training=False)), -1) == labels)


def test_robustness_numbers_and_outputs(shared):
    root, config, models, results, _ = shared
    images, labels = _test_set(config)
    for method in METHODS:
        model = training.load_final_model(config.replace(method=method), os.path.join(models, method))
        clean = 100 * np.mean(np.argmax(np.asarray(model(images, training=False)), -1) == labels)
        r = results[method]
        assert r["clean_top1_acc"] == pytest.approx(clean, abs=1e-3)
        assert r["occlusion"]["sizes"][0] == 0 and r["occlusion"]["sizes"][-1] == 32
        assert r["occlusion"]["center"][0] == r["occlusion"]["boundary"][-1] == pytest.approx(clean, abs=1e-3)
        assert r["fgsm_top1_acc"] == pytest.approx(_fgsm_accuracy(model, images, labels), abs=1e-3)
        assert 0 <= r["pgd_top1_acc"] <= 100
        assert r["in_between"]["cutmix_lambdas"][0] == 1.0 and r["in_between"]["cutmix_lambdas"][-1] == 0.0
        assert len(r["in_between"]["mixup"]) == len(r["in_between"]["mixup_lambdas"]) == 11
        run = json.loads(open(os.path.join(models, method, "results.json")).read())
        assert run[method]["robustness"] == r
    table = (root / "rob" / "results.md").read_text()
    assert "| method | clean top-1 acc | FGSM top-1 acc | PGD top-1 acc |" in table
    assert f"| cutmix | {results['cutmix']['clean_top1_acc']:.2f} |" in table and "paper" not in table
    assert (root / "rob" / "figure5.png").stat().st_size > 10_000
    saved = json.loads((root / "rob" / "results.json").read_text())
    assert saved["results"] == results and saved["runs"]["cutmix"]["workdir"].endswith("cutmix")


def test_ood_numbers_and_outputs(shared):
    root, config, models, _, results = shared
    images, labels = _test_set(config)
    noise = ood.uniform_noise(30, image_shape=(32, 32, 3), seed=0)
    for method in METHODS:
        model = training.load_final_model(config.replace(method=method), os.path.join(models, method))
        in_p = _softmax(np.asarray(model(images, training=False), np.float64))
        out_p = _softmax(np.asarray(model(noise, training=False), np.float64))
        truth = np.r_[np.ones(len(in_p)), np.zeros(len(out_p))]
        auroc = sklearn.metrics.roc_auc_score(truth, np.r_[in_p.max(-1), out_p.max(-1)])
        r = results[method]
        assert r["sets"]["uniform"]["auroc"] == pytest.approx(100 * auroc, abs=1e-2)
        assert r["top1_acc"] == pytest.approx(100 * np.mean(in_p.argmax(-1) == labels), abs=1e-3)
        assert sorted(r["sets"]) == ["gaussian", "novel_shapes", "uniform"]
        assert r["sets"]["novel_shapes"]["num_images"] == 30
        for key in ("tnr_at_tpr95", "auroc", "detection_accuracy"):
            assert r["mean"][key] == pytest.approx(np.mean([s[key] for s in r["sets"].values()]), abs=1e-3)
        assert 0 <= r["ece"] <= 100 and sum(r["reliability"]["count"]) == len(images)
    table = (root / "ood" / "results.md").read_text()
    assert "### Mean over 3 OOD sets (uniform, gaussian, novel_shapes)" in table
    assert "| method | TNR at TPR 95% | AUROC | Detection acc. | top-1 acc | ECE |" in table
    names = os.listdir(root / "ood")
    assert {"roc_uniform.png", "roc_gaussian.png", "roc_novel_shapes.png", "reliability_baseline.png",
            "reliability_cutmix.png", "results.json", "results.md"} <= set(names)


@pytest.mark.parametrize("script, flag, message", [
    ("robustness.py", "--workdirs=foo=/x", "--workdirs: Expected --workdirs=METHOD=DIR"),
    ("robustness.py", "--methods=cutmix,cutmix", "--methods: Expected distinct methods"),
    ("ood.py", "--folder_sets=tin=/no/such/folder", "--folder_sets: Expected NAME=FOLDER"),
    ("ood.py", "--workdirs=cutmix=/no/such/run", "--workdirs: Expected a classification run"),
])
def test_flag_errors_are_one_line(run_script, script, flag, message):
    status, stderr, workdir = run_script(script, flag)
    assert status == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"{script}: error: ") and message in last, last
    assert not workdir.exists()


def _run(tmp_path, script, *flags):
    process = run_example([os.path.join(REPO, "examples", script), *flags], tmp_path, timeout=300)
    return process.returncode, process.stderr


def test_ood_checks_tfds_sets_before_anything_trains(tmp_path):
    # An unprepared --tfds_sets set: status 1 and tfds' advice, before any model trains (it used to train
    # every model, then stop with a traceback at the first evaluation).
    workdir, empty = tmp_path / "w", tmp_path / "empty"
    empty.mkdir()
    status, stderr = _run(tmp_path, "ood.py", f"--workdir={workdir}", "--tfds_sets=svhn_cropped", f"--data_dir={empty}",
                          "--methods=baseline", "--epochs=1")
    assert status == 1, stderr[-2000:]
    assert "ood.py: error: --tfds_sets / --data_dir: " in stderr and "svhn_cropped" in stderr, stderr[-2000:]
    assert "Traceback" not in stderr and "tfds build svhn_cropped" in stderr, stderr[-2000:]
    assert not workdir.exists()
    # A name tfds does not know: a usage error on one line.
    status, stderr = _run(tmp_path, "ood.py", f"--workdir={workdir}", "--tfds_sets=svhn_croped")
    assert status == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("ood.py: error: --tfds_sets: ") and "'svhn_croped'" in last, last
    assert not workdir.exists()


@pytest.mark.parametrize("script, flag, name", [
    ("robustness.py", "--num_images=0", "num_images"),
    ("robustness.py", "--num_images=1", "num_images"),  # The in-between pairs need two images.
    ("robustness.py", "--num_pairs=-1", "num_pairs"),
    ("robustness.py", "--pgd_steps=-1", "pgd_steps"),
    ("ood.py", "--num_ood_images=0", "num_ood_images"),
    ("ood.py", "--num_images=-1", "num_images"),
])
def test_size_flags_are_checked_before_anything_trains(run_script, script, flag, name):
    # These used to train four models first (and --num_images=-1 dropped one test image).
    status, stderr, workdir = run_script(script, flag)
    lines = stderr.splitlines()  # The script's own lines (run_script drops TF's start-up lines).
    assert status == 2 and len(lines) == 1, stderr[-2000:]
    value = flag.split("=")[1]
    assert lines[0].startswith(f"{script}: error: flag --{name}={value}: {value} is not ") and "integer" in lines[0], \
        lines[0]
    assert not workdir.exists()
