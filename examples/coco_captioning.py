r"""Transfer to image captioning (the paper's Table A1): NIC on each method's backbone, scored as COCO does.

On the embedded data (synthetic_captions: 3,000 train / 500 test 64x64 scenes of 2-3 coloured shapes, five
differently worded captions each), on the four classification models of the robustness and OOD scripts
(small_cnn on synthetic_shapes, trained in --models_dir the first time), plus a blind NIC trained on blank
images (the language prior alone):

    python examples/coco_captioning.py --workdir=/tmp/captioning --models_dir=/tmp/models
    #   11 min 55 s on 2 quiet CPU cores from nothing (data sets and models included), at commit aee9d3e. It
    #   reached (%, 500 test images, beam 20, one seed, this project's 2-core machine, 995d268):
    #   method     BLEU-1  BLEU-4  METEOR  ROUGE-L  CIDEr
    #   baseline    70.7    28.2    27.0    53.9    148.0
    #   mixup       73.5    31.4    28.3    55.4    160.3
    #   cutout      69.2    30.6    27.1    55.6    142.7
    #   cutmix      70.8    28.7    27.1    54.1    152.0
    #   blind       63.3    27.7    23.7    51.5     68.2

The paper's setup (MS-COCO Karpathy splits, NIC on the method's ImageNet ResNet-50, Adam lr 1e-3, batch 20,
100 epochs, frozen encoder as the code the paper names; COCO prepared for tfds: `tfds build coco_captions
--data_dir=DIR`):

    python examples/coco_captioning.py --preset=coco --data_dir=DIR --workdir=/tmp/coco \
        --backbones=baseline=/runs/base,mixup=/runs/mixup,cutout=/runs/cutout,cutmix=/runs/cutmix
    #   Table A1 (BLEU-1 / BLEU-2 / BLEU-3 / BLEU-4 / METEOR / ROUGE-L / CIDEr, %): baseline 61.4 / 43.8 /
    #   31.4 / 22.9 / 22.8 / 44.7 / 71.2, Mixup 61.6 / 44.1 / 31.6 / 23.2 / 22.9 / 47.9 / 72.2, Cutout
    #   63.0 / 45.3 / 32.6 / 24.0 / 22.6 / 48.2 / 74.1, CutMix 64.2 / 46.3 / 33.6 / 24.9 / 23.1 / 49.0 / 77.6.

The images are read one batch at a time: what grows with the data set is the frozen encoder's features of
the training images (float32, N x D: 0.93 GB for COCO's 113,287 images and ResNet-50's 2,048, one row per
image, not per caption) and their 5 captions each (about 0.2 GB with their token ids). Size
flags for quick runs (never in the presets): --epochs, --image_size, --num_test_images, --beam_size. The
command above runs as written, plus `--epochs=1 --beam_size=3`, on tfds' mock COCO and ResNet-50 workdirs in
tf_tests/rehearsals/coco_captioning_test.py.

Scores come from pycocoevalcap (its PTB tokenizer and METEOR need Java; without it METEOR is left out with a
warning saying how to install one; SPICE is left out). Each NIC trains in --workdir/<method>/
(config.json, history.json, checkpoints/; resumes after a kill; a finished one of the same flags reloads its
nic.keras, and a workdir holding runs of another config, e.g. other --epochs or --seed, is refused with exit
status 1, nothing touched, unless --overwrite, which deletes those runs first). Progress bars show the encoding, training and beam search
(--verbose=0 silences them). Writes results.json, results.md (Table A1's layout) and captions.png. A bad
flag (a --backbones path that is neither a classification workdir nor a .keras file included) prints one line
and exits with status 2, a data set tfds has not prepared with status 1, before any model is loaded or trained.
"""

from absl import app, flags
import matplotlib

from keras_cutmix import training
from keras_cutmix.captioning import run as captioning_run
from keras_cutmix.training import cli

_WORKDIR = flags.DEFINE_string("workdir", "/tmp/keras_cutmix_captioning", "Output directory.")
_PRESET = flags.DEFINE_enum("preset", "embedded", sorted(captioning_run.PRESETS), "Data and recipe.")
_BACKBONES = flags.DEFINE_string("backbones", "", "METHOD=PATH,... classification workdirs or .keras files.")
_MODELS_DIR = flags.DEFINE_string("models_dir", None, "Where models without --backbones train "
                                                      "(default: --workdir/models).")
_METHODS = flags.DEFINE_list("methods", list(training.METHODS), "Methods (backbones) to compare.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the models trained here and of the caption order.", lower_bound=0)
_BEAM_SIZE = flags.DEFINE_integer("beam_size", 20, "Beam width of the test captions (the paper's: 20).",
                                  lower_bound=1)
_BLIND = flags.DEFINE_bool("blind", True, "Also train and score a NIC on blank images.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory.")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Delete the runs of another config found (NICs in --workdir, models in --models_dir), "
                        "then train.")
# Size flags for quick runs (default: the preset's).
_EPOCHS = flags.DEFINE_integer("epochs", None, "NIC training epochs (default: the preset's: coco 100, embedded 2).",
                               lower_bound=1)
_IMAGE_SIZE = flags.DEFINE_integer("image_size", None, "Image side seen by the encoder (default: the preset's: "
                                                       "coco 224, embedded 64).", lower_bound=1)
_NUM_TEST_IMAGES = flags.DEFINE_integer("num_test_images", None, "Caption only the first test images "
                                                                 "(default: all).", lower_bound=1)
_VERBOSE = flags.DEFINE_integer("verbose", 1, "Progress bars (training, encoding, captioning): 0 silences them.",
                                lower_bound=0)
# `run_captioning`'s arguments (`CaptionRecipe` fields) spelled otherwise as flags.
_FLAG_NAMES = {"max_test_images": "num_test_images", "dataset": "preset"}


def _sizes():
    sizes = {"epochs": _EPOCHS.value, "image_size": _IMAGE_SIZE.value, "max_test_images": _NUM_TEST_IMAGES.value}
    return {k: v for k, v in sizes.items() if v is not None}


def check_flags():
    """`{method: path}` of --backbones after every flag check and finding the data (raises naming the flag).

    absl has checked the bounds of the integer flags when it parsed them.
    """
    backbones = training.parse_method_dirs(_BACKBONES.value, flag="backbones")
    methods = training.check_methods(_METHODS.value)
    if _PRESET.value == "coco" and set(methods) - set(backbones):
        raise training.ConfigError("backbones", "Expected a backbone for every method with --preset=coco. "
                                                f"Received: {_BACKBONES.value!r}")
    captioning_run.check_run(_PRESET.value, backbones, methods, _SEED.value, _DATA_DIR.value, _BEAM_SIZE.value,
                             _VERBOSE.value, workdir=_WORKDIR.value, models_dir=_MODELS_DIR.value, blind=_BLIND.value,
                             overwrite=_OVERWRITE.value, **_sizes())
    return backbones


def main(argv):
    if len(argv) > 1:
        cli.fail(f"Unexpected arguments: {argv[1:]}", cli.USAGE_ERROR)
    matplotlib.use("Agg")  # Scripts choose the backend (the library never does): pictures are files.
    backbones = cli.checked(check_flags, _FLAG_NAMES)
    results = captioning_run.run_captioning(
        _WORKDIR.value, preset=_PRESET.value, backbones=backbones, models_dir=_MODELS_DIR.value,
        methods=tuple(_METHODS.value), seed=_SEED.value, data_dir=_DATA_DIR.value, beam_size=_BEAM_SIZE.value,
        blind=_BLIND.value, verbose=_VERBOSE.value, overwrite=_OVERWRITE.value, **_sizes())
    for method, scores in results.items():
        print(f"{method}: BLEU-4 {100 * scores['BLEU-4']:.1f}, CIDEr {100 * scores['CIDEr']:.1f}")
    print(f"Table in {_WORKDIR.value}/results.md, captions in {_WORKDIR.value}/captions.png")


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
