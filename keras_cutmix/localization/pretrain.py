"""The embedded stand-in for ImageNet pretraining: `cam_vgg` trained on `synthetic_shapes`, saved as a notop file.

The paper fine-tunes localization networks from ImageNet weights. The embedded miniature does the same in
small: one `cam_vgg` is trained once, with the baseline recipe (no mixing), on `synthetic_shapes` (4,000
64x64 images of 10 shape classes, resized to the birds' 128 pixels), and every method then fine-tunes that
backbone on `synthetic_birds` through `weights="synthetic_shapes"` (the shipped file) or
`weights=<notop file>` -- the `--weights` path a user with ImageNet weights takes.

    python examples/pretrain_backbone.py --workdir=/tmp/pretrain --install

The recipe (`PRETRAIN_RECIPE`) was fixed by looking at this run alone, before any fine-tuning: see
`examples/pretrain_backbone.py` for the measured curve, time and accuracy.

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899),
      supplementary Section B (localization networks fine-tuned from ImageNet).
"""

import logging
import os
import shutil

from keras_cutmix import training
from keras_cutmix.models import cam_vgg

# The baseline recipe of the embedded classification presets (SGD, Nesterov, cosine, weight decay 5e-4),
# at the birds' image size with ImageNet's augmentation shape (resize, random crop, flip).
PRETRAIN_RECIPE = dict(
    dataset="synthetic_shapes", model="cam_vgg", method="baseline", image_size=128,
    augmentation="resize_crop", epochs=16, batch_size=64, lr=0.1, lr_schedule="cosine", momentum=0.9,
    nesterov=True, weight_decay=5e-4,
)
NOTOP_FILE = "backbone_notop.weights.h5"


def pretrain_config(**overrides):
    """The `training.Config` of the pretraining run, with `overrides` (e.g. `seed`, `epochs`) applied last.

    Args:
        **overrides: `Config` fields to set.

    Returns:
        A validated `keras_cutmix.training.Config`.
    """
    return training.get_config(**dict(PRETRAIN_RECIPE, **overrides))


def pretrain_backbone(workdir, *, install=False, overwrite=False, **overrides):
    """Trains `cam_vgg` on synthetic_shapes (resumable) and writes its notop file.

    Args:
        workdir: The run's directory (as `training.train_and_evaluate`'s); the notop file is written there as
            `backbone_notop.weights.h5`.
        install: Whether to copy the notop file over the shipped one (`keras_cutmix/models/weights/`), which
            `weights="synthetic_shapes"` loads.
        overwrite: Whether to delete a run of another config found in `workdir`.
        **overrides: `Config` fields to set (`seed`, `epochs`, `steps_per_epoch`, ...).

    Returns:
        A dict: `notop` (the file's path), `top1_error` (%, the final model's on synthetic_shapes' test split),
        `test_top1_error` (% after each epoch), `epochs`, `seed`.

    Raises:
        ValueError: (`training.ConfigError`) for a bad override, or a workdir holding another config's run
            without `overwrite`.
    """
    config = pretrain_config(**overrides)
    results = training.train_and_evaluate(config, workdir, overwrite=overwrite)
    model = training.load_final_model(config, workdir)
    notop = os.path.join(workdir, NOTOP_FILE)
    cam_vgg.backbone(model).save_weights(notop)
    if install:
        os.makedirs(os.path.dirname(cam_vgg.PRETRAINED_FILE), exist_ok=True)
        shutil.copyfile(notop, cam_vgg.PRETRAINED_FILE)
        logging.info("Installed %s as %s.", notop, cam_vgg.PRETRAINED_FILE)
    summary = results[config.method]
    return dict(notop=notop, top1_error=summary["top1_error_final"], test_top1_error=summary["test_top1_error"],
                epochs=config.epochs, seed=config.seed)
