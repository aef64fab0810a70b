"""The paper's localization recipes (supplementary Section B) and the embedded ones, with Table 9's numbers.

    config = get_wsol_config("cub_resnet50", method="cutmix", seed=1)   # a training.Config
    PAPER_TOP1_LOC["cub_resnet50"]["cutmix"]                            # 54.81 (%)

| preset              | data                       | model                   | recipe                                     |
|---------------------|----------------------------|-------------------------|--------------------------------------------|
| `cub_vgg_gap`       | caltech_birds2011 (200 cl.) | `vgg_gap`               | 600 ep., batch 32, head 0.001 / rest 0.0001 |
| `cub_resnet50`      | caltech_birds2011          | `resnet50_last_stride1` | 600 ep., batch 32, head 0.01 / rest 0.001  |
| `imagenet_vgg_gap`  | imagenet2012               | `vgg_gap`               | 20 ep., batch 256, head 0.1 / rest 0.01    |
| `imagenet_resnet50` | imagenet2012               | `resnet50_last_stride1` | 20 ep., batch 256, head 0.1 / rest 0.01    |
| `wsol_embedded`     | synthetic_birds (10 cl.)   | `cam_cnn`               | the full embedded comparison               |
| `wsol_demo`         | synthetic_birds            | `cam_cnn`               | `make demo`: fewer epochs, 500 test images |

The paper's recipes: SGD momentum 0.9 (plain, not Nesterov: the paper says
only "momentum"), weight decay 1e-4, the learning rate divided by 10 every
150 epochs (CUB) or 6 epochs (ImageNet), the new dense layer ("head") at 10x
the backbone's rate (`lr_multipliers={"head": 10.0}`, so `lr` is the
backbone's), resize to 256 and random 224 crop with flip for training, resize
256 and centre crop 224 for testing (`augmentation="resize_crop"`; for
imagenet2012 the resize keeps the aspect ratio, as keras_cutmix's ImageNet
pipeline does). CutMix with p = 1 and Cutout half the side (112), as on
ImageNet classification. Start from ImageNet weights with `weights="imagenet"` (see `keras_cutmix.models.check_weights`
for every form).

The embedded presets train `cam_cnn` from scratch (no head multiplier: there
is no pretrained backbone to protect) with a cosine schedule; their epochs are
set by the time measured here (see `examples/cub_wsol.py`).

References:
    - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899),
      supplementary Section B and Table 9.
"""

from keras_cutmix.training.config import get_config

_PAPER_SGD = dict(
    lr_schedule="step", lr_decay=0.1, momentum=0.9, nesterov=False, weight_decay=1e-4,
    lr_multipliers={"head": 10.0}, augmentation="resize_crop", probability=1.0, alpha=1.0,
    cutout_size=None, image_size=224,
)
_CUB = dict(_PAPER_SGD, dataset="caltech_birds2011", epochs=600, batch_size=32,
            lr_boundaries=(150, 300, 450))
_IMAGENET = dict(_PAPER_SGD, dataset="imagenet2012", epochs=20, batch_size=256, lr=0.01,
                 lr_boundaries=(6, 12, 18))
_EMBEDDED = dict(
    dataset="synthetic_birds", model="cam_cnn", batch_size=32, lr=0.05, lr_schedule="cosine",
    momentum=0.9, nesterov=True, weight_decay=5e-4, probability=1.0, alpha=1.0, cutout_size=None,
)

WSOL_PRESETS = {
    "cub_vgg_gap": dict(_CUB, model="vgg_gap", lr=0.0001),
    "cub_resnet50": dict(_CUB, model="resnet50_last_stride1", lr=0.001),
    "imagenet_vgg_gap": dict(_IMAGENET, model="vgg_gap"),
    "imagenet_resnet50": dict(_IMAGENET, model="resnet50_last_stride1"),
    # One method and seed: 6 epochs of ~27-50 s (2 CPU cores shared with other jobs) and ~30 s of
    # evaluation: about 3-5.5 min here.
    "wsol_embedded": dict(_EMBEDDED, epochs=6),
    # `make demo`: all four methods, one seed: 6 min 12 s here, data generation included.
    "wsol_demo": dict(_EMBEDDED, epochs=2, test_split="test[:500]"),
}

# Table 9 of the paper: top-1 Loc (%) with the paper's box rule.
PAPER_TOP1_LOC = {
    "cub_vgg_gap": {"baseline": 37.12, "mixup": 41.73, "cutout": 44.83, "cutmix": 52.53},
    "imagenet_vgg_gap": {"baseline": 42.73, "mixup": 42.54, "cutout": 43.13, "cutmix": 43.45},
    "cub_resnet50": {"baseline": 49.41, "mixup": 49.30, "cutout": 52.78, "cutmix": 54.81},
    "imagenet_resnet50": {"baseline": 46.30, "mixup": 45.84, "cutout": 46.69, "cutmix": 47.25},
}


def get_wsol_config(preset, **overrides):
    """The `training.Config` of a localization preset, with `overrides` applied last.

    Args:
        preset: A key of `WSOL_PRESETS`.
        **overrides: `Config` fields to set.

    Returns:
        A validated `keras_cutmix.training.Config`.

    Raises:
        ValueError: (`training.ConfigError`, `name="config"`) for an unknown
            preset; `ConfigError` naming the field for an invalid override.
    """
    from keras_cutmix.training.config import ConfigError  # pylint: disable=g-import-not-at-top

    if not isinstance(preset, str) or preset not in WSOL_PRESETS:
        raise ConfigError("config", f"Expected `config` to be one of {sorted(WSOL_PRESETS)}. "
                                    f"Received: config={preset!r}")
    fields = dict(WSOL_PRESETS[preset])
    fields.update(overrides)
    return get_config(**fields)
