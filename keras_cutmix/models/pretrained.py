"""Pretrained weights: the forms `get_model(..., weights=)` takes, recognised in one place, and their loaders.

* `"imagenet"`: for `resnet50` / `resnet50_last_stride1`, torchvision's ImageNet ResNet-50
  (`hf://timm/resnet50.tv_in1k`, through keras-hub); for `vgg_gap` / `resnet50_keras`, keras.applications'
  VGG-16 / ResNet-50 notop file. Loads into the backbone; the head (and VGG-GAP's conv6) start fresh.
* A keras-hub preset (`resnet50*`): a name (`"resnet_50_imagenet"`), a handle (`hf://`, `kaggle://`,
  `modelscope://`, `gs://`) or a local folder: keras-hub's `save_to_preset` layout, or timm's
  (`config.json` + `model.safetensors`). Loads into the backbone.
* A keras.applications notop file (`vgg_gap`, `resnet50_keras`): the legacy `.h5` Keras hosts (what
  `"imagenet"` caches in `~/.keras/models/`), or the `.weights.h5` / `.keras` that `save_weights` / `save`
  write from `keras.applications.VGG16(include_top=False)` (or `ResNet50`), told apart from a whole model
  by its lack of a head. Keras reads it as `keras.applications.VGG16(weights=path)` does.
* A whole-model `.weights.h5` / `.keras` file of the same model, or a workdir of
  `examples/classification.py` (its `checkpoints/last.weights.h5`), for every model: every layer; with
  another class count all but the head, which starts fresh (logged).

Handles and `"imagenet"` download through keras-hub or Keras, which cache them; everything else is local.
A backbone loads into the model's layers of the same names, and the model keeps the normalisation the
weights were trained with (see `factory.py`); a keras-hub preset whose image converter normalises
otherwise is refused.
"""

import io
import logging
import os
import re
import tempfile
import zipfile

import h5py

from keras_cutmix import extras
from keras_cutmix.models import common

IMAGENET = "imagenet"
# The kinds `weights_kind` returns.
PRESET = "preset"
BACKBONE_FILE = "backbone_file"
MODEL_FILE = "model_file"
# keras-hub's preset handles (keras_hub.src.utils.preset_utils.get_file).
HANDLE_SCHEMES = ("hf", "kaggle", "modelscope", "gs")
WORKDIR_CHECKPOINT = os.path.join("checkpoints", "last.weights.h5")
MODEL_SUFFIXES = (".weights.h5", ".keras")
_DENSE = re.compile(r"dense(?:_(\d+))?$")


def _describe(forms):
    parts = ["None", "a whole-model '.weights.h5' / '.keras' file of this model (any class count)",
             "a workdir of examples/classification.py"]
    if IMAGENET in forms:
        parts.append("'imagenet'")
    if PRESET in forms:
        parts.append("a keras-hub preset name, handle (hf://, kaggle://) or folder")
    if BACKBONE_FILE in forms:
        parts.append("a keras.applications notop file")
    return ", ".join(parts)


def weights_kind(weights, forms=(MODEL_FILE,), how_to_obtain=""):
    """Recognises the form of `weights`, without loading (or downloading) anything.

    Args:
        weights: `None`, `"imagenet"`, a keras-hub preset name or handle, or a local file or folder.
        forms: The kinds the model takes besides `MODEL_FILE` (`IMAGENET`, `PRESET`, `BACKBONE_FILE`).
        how_to_obtain: Sentence for the error messages.

    Returns:
        `(kind, source)`: `kind` is None, `IMAGENET`, `PRESET`, `BACKBONE_FILE` or `MODEL_FILE`;
        `source` is what to load (a workdir's checkpoint path for a workdir), None for None.

    Raises:
        ValueError: For a form the model does not take, a file of another format, or a folder that is
            neither a workdir nor a preset.
        FileNotFoundError: For a local path that does not exist.
    """
    if weights is None:
        return None, None
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"Expected `weights` to be a string or path. Received: weights={weights!r}")
    text = os.fspath(weights)
    expected = f"Expected `weights` = {_describe(forms)}."

    def refuse(what):
        raise ValueError(f"{expected} {how_to_obtain} Received: weights={text!r} ({what})".replace("  ", " "))

    if text == IMAGENET:
        if IMAGENET not in forms:
            refuse("this model has no ImageNet weights")
        return IMAGENET, text
    if "://" in text:
        if text.split("://")[0].lower() not in HANDLE_SCHEMES or PRESET not in forms:
            refuse("a handle this model cannot load")
        return PRESET, text
    if os.path.isdir(text):
        checkpoint = os.path.join(text, WORKDIR_CHECKPOINT)
        if os.path.isfile(checkpoint):
            return MODEL_FILE, checkpoint
        if PRESET not in forms:
            refuse(f"a folder without {WORKDIR_CHECKPOINT}")
        if not os.path.isfile(os.path.join(text, "config.json")):
            refuse(f"a folder with neither {WORKDIR_CHECKPOINT} nor a preset's config.json")
        return PRESET, text
    if os.path.isfile(text):
        if text.endswith(MODEL_SUFFIXES):
            if saved_num_classes(text) is not None:
                return MODEL_FILE, text
            if BACKBONE_FILE not in forms:
                refuse("a file without the 'head' layer of a get_model model")
            return BACKBONE_FILE, text
        if BACKBONE_FILE in forms and text.endswith((".h5", ".hdf5")):
            return BACKBONE_FILE, text
        refuse("a file of another format")
    looks_like_path = os.sep in text or "/" in text or text.endswith(MODEL_SUFFIXES + (".h5", ".hdf5"))
    if PRESET in forms and not looks_like_path and is_preset_name(text):
        return PRESET, text
    raise FileNotFoundError(
        f"No weights file or folder at weights={text!r}"
        + ("" if PRESET not in forms else ", nor a keras-hub ResNet preset of that name")
        + f". {expected} {how_to_obtain}")


def is_preset_name(text):
    """Whether `text` names a keras-hub `ResNetBackbone` preset (imports keras-hub, downloads nothing)."""
    keras_hub = extras.import_optional("keras_hub", "the ResNet-50 models (keras-hub)")

    return text in keras_hub.models.ResNetBackbone.presets


def _open_weights_h5(path):
    """The HDF5 weights of a `.weights.h5` file, or of the `model.weights.h5` inside a `.keras` file."""
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as archive:
            return h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    return h5py.File(path, "r")


def saved_num_classes(path):
    """The class count of the head in a whole-model Keras 3 weights file, or None if it has no head.

    Keras 3 stores a functional model's layers as `layers/<class name>[_<index>]/vars/<i>` in layer order;
    every model here has one Dense layer, its head, last.
    """
    try:
        with _open_weights_h5(os.fspath(path)) as f:
            layers = f.get("layers")
            if layers is None:
                return None
            dense = sorted((int(m.group(1) or 0), key) for key in layers if (m := _DENSE.match(key)))
            if not dense:
                return None
            return int(layers[dense[-1][1]]["vars"]["0"].shape[-1])
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"Expected `weights` to be a Keras 3 '.weights.h5' / '.keras' file. Received: weights={path!r} "
            f"({error})") from error


def copy_layer_weights(source_layers, model, fresh=(common.HEAD_NAME,)):
    """Sets `model`'s layers from the weighted layers of the same names in `source_layers`.

    Args:
        source_layers: Layers to copy from (those in `fresh` are left out).
        model: The model to copy into.
        fresh: Names of `model`'s weighted layers that must not be copied (they keep their init).

    Returns:
        The number of layers copied.

    Raises:
        ValueError: If `model` lacks a weighted source layer, a weighted layer of `model` outside `fresh`
            gets nothing, or shapes differ.
    """
    sources = [layer for layer in source_layers if layer.weights and layer.name not in fresh]
    names = {layer.name for layer in model.layers}
    unknown = [layer.name for layer in sources if layer.name not in names]
    copied = {layer.name for layer in sources}
    left = [layer.name for layer in model.layers if layer.weights and layer.name not in copied | set(fresh)]
    if unknown or left:
        raise ValueError(
            f"Expected weights for the layers of {model.name!r}. Received: layers {unknown[:5]} it lacks, "
            f"none for its layers {left[:5]}")
    for layer in sources:
        model.get_layer(layer.name).set_weights(layer.get_weights())
    return len(sources)


def load_model_file(model, path):
    """Loads a whole-model `.weights.h5` / `.keras` file; with another class count, all but the head.

    Args:
        model: The model to load into; its head is `Dense(name="head")`.
        path: The file.

    Raises:
        ValueError: For a file of another model.
    """
    path = os.fspath(path)
    classes = saved_num_classes(path)
    own = model.get_layer(common.HEAD_NAME).units
    if classes is None:
        raise ValueError(f"Expected `weights` to hold a model with a 'head' layer. Received: weights={path!r}")
    try:
        if classes == own:
            model.load_weights(path)
        else:  # Keras skips the head only in a '.weights.h5' file: the one inside a '.keras' file.
            with tempfile.TemporaryDirectory() as folder:
                weights_h5 = path
                if path.endswith(".keras"):
                    weights_h5 = os.path.join(folder, "model.weights.h5")
                    with zipfile.ZipFile(path) as archive, open(weights_h5, "wb") as f:
                        f.write(archive.read("model.weights.h5"))
                model.load_weights(weights_h5, objects_to_skip=[model.get_layer(common.HEAD_NAME)])
    except ValueError as error:
        raise ValueError(
            f"Expected `weights` to be a file saved from get_model(...) of {model.name!r}. "
            f"Received: weights={path!r} ({error})") from error
    if classes == own:
        logging.info("Loaded %s (all layers).", path)
    else:
        logging.warning("Loaded %s except its head (%d classes; this model has %d): the head starts fresh.",
                        path, classes, own)


def keras_applications_backbone(application, weights, model, fresh=(common.HEAD_NAME,)):
    """Loads keras.applications' `application` backbone (`"imagenet"` or a notop file) into `model`.

    Keras itself reads the file (`application(include_top=False, weights=weights)`), as for any user of
    keras.applications; its layers then set `model`'s layers of the same names.

    Args:
        application: E.g. `keras.applications.VGG16`.
        weights: `"imagenet"` or a notop file's path.
        model: The model built on that backbone.
        fresh: `model`'s weighted layers that the backbone lacks.
    """
    source = application(include_top=False, weights=weights, input_shape=(None, None, 3))
    count = copy_layer_weights(source.layers, model, fresh=fresh)
    logging.info("Loaded %s into %d layers of %s; %s start fresh.",
                 os.fspath(weights), count, model.name, ", ".join(fresh))
