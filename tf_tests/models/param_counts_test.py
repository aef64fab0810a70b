"""Parameter counts against the papers and independent implementations.

Counts are of trainable parameters, which is what PyTorch's
`sum(p.numel() for p in model.parameters())` reports (BatchNorm running
statistics are buffers there, non-trainable weights here).
"""

import functools

import numpy as np
import pytest

from keras_cutmix import models
from keras_cutmix.models import pyramidnet


@functools.lru_cache(maxsize=None)
def build(name, num_classes, input_shape=(32, 32, 3)):
    """Builds each model once per test process (PyramidNet-200 takes seconds)."""
    return models.get_model(name, num_classes=num_classes, input_shape=input_shape)


def trainable_count(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def pyramidnet_formula(depth, alpha, bottleneck, num_classes):
    """Closed-form count following dyhan0920/PyramidNet-PyTorch's arithmetic."""
    n = (depth - 2) // (9 if bottleneck else 6)
    add_rate, dim, inplanes = alpha / (3 * n), 16.0, 16
    total = 3 * 3 * 3 * 16 + 2 * 16  # stem conv + BN
    for _ in range(3 * n):
        dim += add_rate
        p = int(round(dim))
        if bottleneck:  # BN, 1x1, BN, 3x3, BN, 1x1 (x4), BN
            total += 2 * inplanes + inplanes * p + 2 * p + 9 * p * p + 2 * p
            total += p * 4 * p + 2 * 4 * p
            inplanes = 4 * p
        else:  # BN, 3x3, BN, 3x3, BN
            total += 2 * inplanes + 9 * inplanes * p + 2 * p + 9 * p * p + 2 * p
            inplanes = p
    return total + 2 * inplanes + inplanes * num_classes + num_classes


# (name, num_classes, input_shape, exact count of an independent
#  implementation, paper count, relative tolerance vs the paper)
CASES = [
    # CutMix Table 3 / Han et al.: 26.8M. osmr/imgclsmob pytorchcv
    # pyramidnet200_a240_bn_cifar100: 26,844,952.
    ("pyramidnet200", 100, (32, 32, 3), 26_844_952, 26.8e6, 0.005),
    # Han et al. Table: 1.7M (printed truncated); pytorchcv
    # pyramidnet110_a48_cifar10: 1,772,706.
    ("pyramidnet110", 10, (32, 32, 3), 1_772_706, 1.7e6, 0.05),
    # He et al. Table 6: 0.85M (option A shortcuts add no parameters).
    ("resnet56", 10, (32, 32, 3), 853_018, 0.85e6, 0.005),
    # kuangliu/pytorch-cifar ResNet18: 11,173,962 ("11.2M").
    ("resnet18", 10, (32, 32, 3), 11_173_962, 11.2e6, 0.005),
    # torchvision resnet50(): 25,557,032 (sum of parameters().numel()), the
    # paper's "25.6M" (Table 3); resnet50_test.py counts it stage by stage.
    ("resnet50", 1000, (224, 224, 3), 25_557_032, 25.6e6, 0.005),
    # keras.applications table: ResNet50 25.6M; 26,560 conv biases more.
    ("resnet50_keras", 1000, (224, 224, 3), 25_557_032 + 26_560, 25.6e6, 0.005),
]


@pytest.mark.parametrize("name,classes,shape,exact,paper,rtol", CASES)
def test_parameter_count_matches_paper(name, classes, shape, exact, paper, rtol):
    count = trainable_count(build(name, classes, shape))
    assert count == exact
    assert abs(count - paper) / paper < rtol


@pytest.mark.parametrize(
    "name,depth,alpha,bottleneck,classes,final_channels",
    [
        ("pyramidnet200", 200, 240, True, 100, (16 + 240) * 4),
        ("pyramidnet110", 110, 48, False, 10, 16 + 48),
    ],
)
def test_pyramidnet_matches_closed_form(
    name, depth, alpha, bottleneck, classes, final_channels
):
    model = build(name, classes)
    assert trainable_count(model) == pyramidnet_formula(depth, alpha, bottleneck, classes)
    features = model.get_layer(models.cam_feature_layer_name(model)).output
    assert tuple(features.shape) == (None, 8, 8, final_channels)
    # n blocks per stage: 22 bottleneck blocks (200 = 9 * 22 + 2) or 18 basic.
    n = (depth - 2) // (9 if bottleneck else 6)
    for stage in (1, 2, 3):
        model.get_layer(f"stage{stage}_block{n}_add")
        with pytest.raises(ValueError):
            model.get_layer(f"stage{stage}_block{n + 1}_add")


@pytest.mark.parametrize(
    "name,depth,alpha,bottleneck,classes,exact",
    [
        # pytorchcv: pyramidnet200_a240_bn_cifar10, pyramidnet110_a48_cifar100.
        ("pyramidnet200", 200, 240, True, 10, 26_752_702),
        ("pyramidnet110", 110, 48, False, 100, 1_778_556),
    ],
)
def test_library_models_match_pytorchcv_for_the_other_heads(
    name, depth, alpha, bottleneck, classes, exact
):
    assert trainable_count(build(name, classes)) == exact
    assert pyramidnet_formula(depth, alpha, bottleneck, classes) == exact


def test_pyramidnet110_alpha_64_is_not_the_printed_1_7m():
    # CutMix Table 6 names alpha 64 and prints 1.7M; alpha 64 has 2.62M, alpha
    # 48 (what pyramidnet110 uses) 1.77M.
    model = pyramidnet.pyramidnet(
        110, 64, num_classes=10, input_shape=(32, 32, 3), mean=0, std=1, bottleneck=False
    )
    alpha_64 = trainable_count(model)
    assert alpha_64 == pyramidnet_formula(110, 64, False, 10) == 2_616_376
    alpha_48 = trainable_count(build("pyramidnet110", 10))
    assert abs(alpha_48 - 1.7e6) / 1.7e6 < 0.05 < abs(alpha_64 - 1.7e6) / 1.7e6


def test_small_cnn_is_small():
    model = build("small_cnn", 10, (64, 64, 3))
    assert 100_000 <= trainable_count(model) <= 500_000
    features = model.get_layer(models.cam_feature_layer_name(model)).output
    assert tuple(features.shape[1:3]) == (8, 8)
