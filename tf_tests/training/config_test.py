"""Config defaults, presets (the paper's hyper-parameters) and validation."""

import json

import pytest

from keras_cutmix.training import config as config_lib


def test_defaults_are_the_embedded_dataset():
    config = config_lib.Config()
    assert (config.dataset, config.model, config.method) == ("synthetic_shapes", "small_cnn", "cutmix")


def test_presets_hold_the_paper_hyper_parameters():
    c = config_lib.get_config("pyramidnet200_cifar100")
    assert (c.dataset, c.model, c.epochs, c.batch_size, c.lr, c.weight_decay) == (
        "cifar100", "pyramidnet200", 300, 64, 0.25, 1e-4)
    assert (c.alpha, c.probability, c.lr_schedule, c.momentum, c.nesterov) == (1.0, 0.5, "cifar", 0.9, True)
    c = config_lib.get_config("resnet50_imagenet", method="mixup")
    assert (c.dataset, c.model, c.epochs, c.batch_size, c.lr, c.probability) == (
        "imagenet2012", "resnet50", 300, 256, 0.1, 1.0)
    assert (c.method, c.lr_schedule, c.cutout_size) == ("mixup", "imagenet", 112)
    assert config_lib.PAPER_RESULTS["pyramidnet200_cifar100"]["cutmix"]["top1_error"] == 14.47
    assert config_lib.PAPER_RESULTS["resnet50_imagenet"]["baseline"]["top1_error"] == 23.68


def test_round_trip_through_json():
    config = config_lib.Config(lr_multipliers={"head/": 10.0}, lr_schedule="step", lr_boundaries=(3, 5))
    clone = config_lib.Config.from_dict(json.loads(json.dumps(config.to_dict())))
    assert clone == config


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(method="cutmix2"), "method"),
        (dict(epochs=0), "epochs"),
        (dict(probability=1.5), "probability"),
        (dict(alpha=0.0), "alpha"),
        (dict(lr_schedule="step"), "lr_boundaries"),
        (dict(strategy="gpu"), "strategy"),
        (dict(steps_per_epoch=2.5), "steps_per_epoch"),
        (dict(lr_multipliers={"head(": 10.0}), "lr_multipliers"),
        (dict(lr_multipliers={"head/": "ten"}), "lr_multipliers"),
        (dict(weight_decay=-1.0), "weight_decay"),
    ],
)
def test_validation_names_the_argument(changes, match):
    with pytest.raises(config_lib.ConfigError, match=match) as error:
        config_lib.Config(**changes)
    assert error.value.name == match  # The field, hence the script's flag.
    assert isinstance(error.value, ValueError)


def test_unknown_preset_and_key():
    with pytest.raises(ValueError, match="preset"):
        config_lib.get_config("wide_resnet")
    with pytest.raises(ValueError, match="unknown keys"):
        config_lib.get_config(learning_rate=0.1)


def test_summarize_follows_the_official_best_rule():
    from keras_cutmix.training import results
    history = [
        {"epoch": 0, "val_top1": 0.50, "val_top5": 0.90},
        {"epoch": 1, "val_top1": 0.75, "val_top5": 0.95},
        {"epoch": 2, "val_top1": 0.70, "val_top5": 0.99},
        {"epoch": 3, "val_top1": 0.75, "val_top5": 0.97},  # Ties epoch 1: the later one wins.
        {"epoch": 4, "val_top1": 0.60, "val_top5": 1.00},
    ]
    summary = results.summarize(history)
    assert summary["test_top1_error"] == [50.0, 25.0, 30.0, 25.0, 40.0]
    assert (summary["top1_error_best"], summary["top5_error_best"], summary["best_epoch"]) == (25.0, 3.0, 4)
    assert (summary["top1_error_final"], summary["top5_error_final"]) == (40.0, 0.0)
    with pytest.raises(ValueError, match="val_top1"):
        results.summarize([{"epoch": 0, "loss": 1.0}])


def test_markdown_table_shows_the_paper_numbers_for_a_preset():
    from keras_cutmix.training import results
    summary = {"top1_error_best": 14.0, "top5_error_best": 3.0, "top1_error_final": 14.5,
               "top5_error_final": 3.1, "best_epoch": 290}
    table = results.training_table({"cutmix": summary}, config_lib.get_config("pyramidnet200_cifar100"))
    assert "| cutmix | 14.00 | 3.00 | 14.50 | 3.10 | 290 | 14.47 | 2.97 |" in table
    table = results.training_table({"cutmix": summary}, config_lib.Config())
    assert "| cutmix | 14.00 | 3.00 | 14.50 | 3.10 | 290 |\n" in table and "paper" not in table


def test_check_methods_keeps_distinct_known_methods_and_names_the_argument():
    assert config_lib.check_methods(("cutmix", "baseline")) == ["cutmix", "baseline"]
    for bad in ([], ["cutmix", "cutmix"], ["cutmix", "foo"]):
        with pytest.raises(config_lib.ConfigError, match=r"Expected distinct methods among \[.baseline.") as error:
            config_lib.check_methods(bad)
        assert error.value.name == "methods"
