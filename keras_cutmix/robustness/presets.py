"""The robustness script's presets: the embedded run (command, time, numbers here) and Table 11's.

References:
    - [Yun et al., 2019](https://arxiv.org/abs/1905.04899), Section 4.4, Table 11.
"""

from keras_cutmix.training.preset import Preset

ROBUSTNESS_PRESETS = {
    # The four small_cnn models of the classification defaults on synthetic_shapes, seed 0, 1,000 test
    # images; top-1 accuracy (%): clean, FGSM 8/255, PGD-10 (this project's 2-core machine, 8968261 and 995d268).
    "embedded": Preset(
        "embedded", recipe=dict(num_images=1000, num_pairs=500, pgd_steps=10, batch_size=128, seed=0),
        command="python examples/robustness.py --workdir=/tmp/robustness",
        time_here="10 min 58 s with the training of the four models on 2 CPU cores",
        reached={"baseline": (98.3, 32.2, 11.6), "mixup": (97.1, 28.3, 2.8), "cutout": (98.4, 37.4, 11.8),
                 "cutmix": (97.5, 38.3, 10.9)}),
    # Table 11: top-1 accuracy (%) under FGSM (eps 8/255), ImageNet, ResNet-50.
    "imagenet_resnet50": Preset(
        "imagenet_resnet50", recipe=dict(num_images=50000, pgd_steps=10), paper_table="Table 11",
        paper={"baseline": 8.2, "mixup": 24.4, "cutout": 11.5, "cutmix": 31.0},
        command="python examples/robustness.py --workdir=/tmp/robustness "
                "--workdirs=baseline=/tmp/base,mixup=/tmp/mixup,cutout=/tmp/cutout,cutmix=/tmp/cutmix"),
}
