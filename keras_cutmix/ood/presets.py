"""The OOD script's presets: the embedded run (command, time, numbers here) and Table 12's.

References:
    - The CutMix paper's supplementary Section E: Table 12 (mean over 7 OOD sets) and Table A2 (per set).
"""

from keras_cutmix.training.preset import Preset

OOD_PRESETS = {
    # The four small_cnn models of the classification defaults (shared with robustness.py), seed 0, 1,000
    # test images, mean over the 3 OOD sets (%): TNR at TPR 95, AUROC, detection accuracy, and ECE.
    "embedded": Preset(
        "embedded", recipe=dict(num_images=1000, num_ood_images=1000, batch_size=256, seed=0),
        command="python examples/ood.py --workdir=/tmp/ood",
        time_here="21 s on the trained models",
        reached={"baseline": (18.4, 76.6, 72.6, 1.63), "mixup": (13.5, 60.2, 64.0, 22.15),
                 "cutout": (47.7, 90.5, 84.7, 1.89), "cutmix": (13.7, 31.4, 59.7, 10.04)}),
    # Table 12: CIFAR-100, PyramidNet-200, mean over 7 OOD sets (TNR at TPR 95, AUROC, detection accuracy).
    "cifar100_pyramidnet200": Preset(
        "cifar100_pyramidnet200", recipe=dict(num_images=10000, num_ood_images=10000), paper_table="Table 12",
        paper={"baseline": (26.3, 87.3, 82.0), "mixup": (11.8, 49.3, 60.9), "cutout": (18.8, 68.7, 71.3),
               "cutmix": (69.0, 94.4, 89.1)},
        command="python examples/ood.py --workdir=/tmp/ood_cifar "
                "--workdirs=baseline=/tmp/base,mixup=/tmp/mixup,cutout=/tmp/cutout,cutmix=/tmp/cutmix "
                "--tfds_sets=svhn_cropped,cifar10 --folder_sets=tin_crop=/data/Imagenet,lsun_resize=/data/LSUN_resize "
                "--data_dir=/data/tensorflow_datasets"),
}
