"""`run_captioning`: NIC on each method's backbone, scored as COCO scores captions (the paper's Table A1).

    from keras_cutmix import captioning
    captioning.run_captioning("/tmp/captions")  # Embedded: the four classification models, synthetic_captions.

Backbones: `backbones={method: source}` (classification workdirs or .keras files), or the four models of
`training.run_methods` on the classification defaults (small_cnn on synthetic_shapes) in `models_dir`, trained there
once and shared with the robustness and OOD scripts. Each NIC (`nic.nic` on the backbone's pooled features, encoder
frozen as the code the paper names) trains in `workdir/<method>/` with Adam, then captions the test images by beam
search and `scoring.score_captions` scores them. A `blind` row trains the same NIC on blank images: the language prior
alone, the floor any model that looks at the image must clear. Writes `workdir/results.json`, `results.md` (Table A1's
layout) and `captions.png`.

References:
    - [Vinyals et al., 2015, Show and Tell](https://arxiv.org/abs/1411.4555); [Yun et al., 2019](
      https://arxiv.org/abs/1905.04899), supplementary Section D, Table A1.
"""

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import checks, data, training
from keras_cutmix.captioning import scoring, streaming, vocabulary
from keras_cutmix.captioning.nic import PAPER_RECIPE, caption_decoder, caption_loss, nic, pooled_encoder
from keras_cutmix.models.common import at_input_size
from keras_cutmix.training import results as results_io, resumable
from keras_cutmix.training.method_runs import load_classifier
from keras_cutmix.training.preset import Preset
from keras_cutmix.training.results import Column, markdown_table as write_table

# Table A1 (MS-COCO, NIC on each method's ResNet-50): BLEU-1..4, METEOR, ROUGE-L, CIDEr, in %.
PAPER = {"baseline": (61.4, 43.8, 31.4, 22.9, 22.8, 44.7, 71.2), "mixup": (61.6, 44.1, 31.6, 23.2, 22.9, 47.9, 72.2),
         "cutout": (63.0, 45.3, 32.6, 24.0, 22.6, 48.2, 74.1), "cutmix": (64.2, 46.3, 33.6, 24.9, 23.1, 49.0, 77.6)}
# The embedded default's scores (%): BLEU-1, BLEU-4, METEOR, ROUGE-L, CIDEr (the README's table).
_EMBEDDED_REACHED = {"baseline": (70.7, 28.2, 27.0, 53.9, 148.0), "mixup": (73.5, 31.4, 28.3, 55.4, 160.3),
                     "cutout": (69.2, 30.6, 27.1, 55.6, 142.7), "cutmix": (70.8, 28.7, 27.1, 54.1, 152.0),
                     "blind": (63.3, 27.7, 23.7, 51.5, 68.2)}
BLIND = "blind"
# Images per batch when encoding the training images and when captioning the test images.
TRAIN_BATCH, TEST_BATCH = 256, 64


@dataclasses.dataclass(frozen=True)
class CaptionRecipe:
    """Data and recipe of a captioning run: the `recipe` of a captioning `training.Preset`."""

    dataset: str
    image_size: int
    epochs: int
    batch_size: int = PAPER_RECIPE["batch_size"]
    learning_rate: float = PAPER_RECIPE["learning_rate"]
    min_count: int = PAPER_RECIPE["min_count"]
    max_length: int = PAPER_RECIPE["max_length"]
    units: int = PAPER_RECIPE["units"]
    max_test_images: int = None


PRESETS = {
    # The paper's recipe (stevehuanghe/image_captioning: Adam, lr 1e-3, batch 20, 100 epochs, frozen encoder).
    "coco": Preset("coco", dataclasses.asdict(CaptionRecipe("coco_captions", 224, 100)), paper=PAPER,
                   paper_table="Table A1",
                   command="python examples/coco_captioning.py --preset=coco --data_dir=DIR --workdir=/tmp/coco "
                           "--backbones=baseline=/runs/base,mixup=/runs/mixup,cutout=/runs/cutout,cutmix=/runs/cutmix"),
    # Minutes on a CPU: 3,000 64x64 scenes with 5 captions each (15,000 pairs an epoch), 2 epochs, a smaller LSTM.
    "embedded": Preset(
        "embedded", dataclasses.asdict(CaptionRecipe("synthetic_captions", 64, 2, batch_size=32, units=256,
                                                     max_length=16)),
        command="python examples/coco_captioning.py --workdir=/tmp/captioning --models_dir=/tmp/models",
        time_here="11 min 55 s on 2 CPU cores from nothing (data sets and models included), at commit aee9d3e",
        reached=_EMBEDDED_REACHED),
}


def _field(name, check, *args, **kwargs):
    """`check(*args, **kwargs)`, its ValueError as a `training.ConfigError` naming `name` (the script's flag)."""
    try:
        return check(*args, **kwargs)
    except ValueError as error:
        raise training.ConfigError(name, str(error)) from None


def check_run(preset="embedded", backbones=None, methods=training.METHODS, seed=0, data_dir=None, beam_size=20,
              verbose=1, *, workdir=None, models_dir=None, blind=True, overwrite=False, **overrides):
    """Every argument of `run_captioning` checked, and its data found, before anything trains or loads.

    Returns:
        `(spec, backbones, methods, runs)`: the `CaptionRecipe` with `overrides`, `{method: source}` (with the
        `models_dir` runs of the methods without a backbone), a list, and `{name: (workdir, run config)}` of
        each NIC (`run_config`; empty without `workdir`).

    Raises:
        training.ConfigError: naming the argument (an override by its field name): an unknown preset or field, a size
            below 1, a seed or verbose below 0, unknown methods, or a backbone that is no classification workdir
            (with config.json) or .keras file.
        training.WorkdirInUseError: naming "workdir" if a NIC's workdir (or a model's in `models_dir`)
            holds a run of another config and not `overwrite`; nothing is written.
        data.DatasetNotFoundError: if tfds has not prepared the preset's data set in `data_dir`.
    """
    caller = "run_captioning"
    if not isinstance(preset, (Preset, CaptionRecipe)) and preset not in PRESETS:
        raise training.ConfigError("preset", f"{caller}: Expected `preset` to be one of {sorted(PRESETS)}, a "
                                             f"Preset or a CaptionRecipe. Received: preset={preset!r}")
    spec = PRESETS[preset] if isinstance(preset, str) else preset
    fields = {f.name for f in dataclasses.fields(CaptionRecipe)}
    for name, value in overrides.items():
        if name not in fields:
            raise training.ConfigError(name, f"{caller}: Expected overrides among the CaptionRecipe fields "
                                             f"{sorted(fields)}. Received: {name}={value!r}")
    values = (spec.fields() if isinstance(spec, Preset) else dataclasses.asdict(spec)) | overrides
    for name in ("image_size", "epochs", "batch_size", "min_count", "max_length", "units", "max_test_images"):
        values[name] = _field(name, checks.count, name, values[name], caller, allow_none=name == "max_test_images")
    values["learning_rate"] = _field("learning_rate", checks.number, "learning_rate", values["learning_rate"], caller,
                                     minimum=0)
    for name, value, minimum in (("seed", seed, 0), ("beam_size", beam_size, 1), ("verbose", verbose, 0)):
        _field(name, checks.count, name, value, caller, minimum=minimum)
    methods = training.check_methods(methods)
    sources = dict(backbones or {})
    for method, source in sources.items():
        if method not in training.METHODS:
            raise training.ConfigError("backbones", f"{caller}: Expected backbones of methods among "
                                                    f"{list(training.METHODS)}. Received: {method!r}")
        source = os.fspath(source)
        if not (os.path.isfile(os.path.join(source, "config.json"))
                or (source.endswith(".keras") and os.path.isfile(source))):
            raise training.ConfigError("backbones", f"{caller}: Expected backbones[{method!r}] to be a "
                                                    "classification workdir (with config.json) or a .keras file. "
                                                    f"Received: {source!r}")
    spec = CaptionRecipe(**values)
    runs = {}
    if workdir is not None:
        missing = [m for m in methods if m not in sources]
        if missing:  # The classification models trained here (reused, or refused as classification does).
            models_dir = models_dir or os.path.join(workdir, "models")
            training.method_runs(training.get_config(seed=seed, data_dir=data_dir), models_dir, missing,
                                 overwrite=overwrite)
            sources.update({m: os.path.join(models_dir, m) for m in missing})
        named = [(m, sources[m], False) for m in methods] + ([(BLIND, sources[methods[0]], True)] if blind else [])
        for name, source, is_blind in named:
            runs[name] = (os.path.join(workdir, name),
                          run_config(spec, seed, is_blind, method=name, backbone=source, data_dir=data_dir))
            resumable.check_workdir(*runs[name], overwrite, FREE_FIELDS)
    # Last: builds the embedded data set the first time; finds COCO (DatasetNotFoundError) without reading it.
    _field("dataset", data.prepare_captions, spec.dataset, data_dir)
    _read(spec, False, data_dir, seed, TEST_BATCH)
    return spec, sources, methods, runs


# Fields of a NIC's run config that may change between calls.
FREE_FIELDS = ("data_dir",)


def run_config(preset, seed=0, blind=False, **names):
    """What a NIC's weights depend on (its `training.resumable` config): the recipe but `max_test_images`.

    Args:
        preset: The `CaptionRecipe`.
        seed: Seed of the NIC's weights and caption order. Defaults to 0.
        blind: Trained on blank images. Defaults to False.
        **names: More JSON-ready entries (`run_captioning`'s: method, backbone, data_dir).

    Returns:
        A JSON-ready dict with "epochs".
    """
    recipe = {k: v for k, v in dataclasses.asdict(preset).items() if k != "max_test_images"}
    return {**recipe, "seed": seed, "blind": bool(blind), **names}


def _read(spec, training, data_dir, seed, batch_size):
    """A fresh read of the training (shuffled by `seed`) or test images, batches of `batch_size`."""
    return data.load_captions(spec.dataset, None, batch_size=batch_size, training=training, data_dir=data_dir,
                              seed=seed, image_size=spec.image_size, drop_remainder=False)


def _pairs(features, captions, vocab, preset, seed):
    """Every (image's features, reference) pair, shuffled: `((features, ids[:, :-1]), ids[:, 1:])` batches.

    The features stay one NumPy array that each batch gathers from: a tf.data function that captured it
    (as a constant or a tensor) would copy it, a constant several times (8 GB for 0.5 GB of features).
    """
    count, per_image = captions.shape
    ids = vocabulary.tokenize(captions.reshape(-1), vocab, preset.max_length + 1)
    index = np.repeat(np.arange(count), per_image)
    order = np.random.default_rng(seed).permutation(len(index))
    ds = tf.data.Dataset.from_tensor_slices((index[order], ids[order])).batch(preset.batch_size)

    def pairs(i, caption):
        rows = tf.numpy_function(lambda i: features[i], [i], tf.float32, stateful=False)
        rows.set_shape([None, features.shape[1]])
        return (rows, caption[:, :-1]), caption[:, 1:]

    return ds.map(pairs).prefetch(2)


def train_captioner(classifier, vocab, read_images, image_ids, captions, preset, workdir, seed=0, blind=False,
                    verbose=1, *, config=None, overwrite=False, callbacks=()):
    """Trains NIC on `classifier`'s pooled features (frozen) in `workdir`; a finished run only reloads it.

    The frozen encoder's features are computed once, one batch of images at a time (`streaming.encode_images`; blank
    images' for the blind NIC), and `nic.caption_decoder` trains on them as one `training.resumable` run (config.json,
    history, resumed after a kill); then `nic.keras` is saved.

    Args:
        classifier: The backbone (a `keras_cutmix.models` classifier).
        vocab: The `Vocabulary`.
        read_images: A function returning a fresh iterable of batches of the training images, in the order
            of `image_ids` (see `streaming`); called once, after seeding, only when the NIC trains.
        image_ids: int `[N]` of the training images.
        captions: str `[N, 5]`: their references.
        preset: A `CaptionRecipe`.
        workdir: Where the NIC trains (resumable) and is saved as `nic.keras`.
        seed: Seed of the NIC's weights and of the caption order. Defaults to 0.
        blind: Train on blank images. Defaults to False.
        verbose: Keras progress bars. Defaults to 1.
        config: The run's config. Defaults to None: `run_config(preset, seed, blind)`.
        overwrite: Delete a run of another config in `workdir` first. Defaults to False.
        callbacks: Extra Keras callbacks of the decoder's `fit`. Defaults to none.

    Returns:
        The trained (or reloaded) NIC.

    Raises:
        training.WorkdirInUseError: If `workdir` holds a run of another config and not `overwrite`.
    """
    config = config or run_config(preset, seed, blind)
    path = os.path.join(workdir, "nic.keras")
    resumable.check_workdir(workdir, config, overwrite, FREE_FIELDS)
    if not overwrite and resumable.finished(workdir, config, FREE_FIELDS) is not None and os.path.exists(path):
        return keras.saving.load_model(path, safe_mode=True)
    keras.utils.set_random_seed(seed)
    encoder = pooled_encoder(at_input_size(classifier, preset.image_size))
    model = nic(vocab, encoder, units=preset.units, embedding_dim=preset.units)
    if verbose:
        print(f"Encoding {len(image_ids)} training images", flush=True)
    features = streaming.encode_images(model.get_layer("encoder"), read_images(), image_ids, blind, verbose)
    decoder = caption_decoder(model)
    decoder.compile(optimizer=keras.optimizers.Adam(preset.learning_rate), loss=caption_loss)
    pairs = _pairs(features, captions, vocab, preset, seed)
    steps = int(pairs.cardinality())
    initial_epoch = resumable.start(workdir, config, overwrite)
    resumable.fit(decoder, workdir, resumable.skip_batches(pairs, steps), epochs=preset.epochs,
                  steps_per_epoch=steps, initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose)
    model.save(path)
    return model


def markdown_table(results, preset_name):
    """Table A1's layout: method rows, BLEU-1..4, METEOR, ROUGE-L, CIDEr (%), the paper's beside."""
    names = list(scoring.METRICS)
    rows = {method: {n: None if scores[n] is None else 100 * scores[n] for n in names}
            for method, scores in results.items()}
    return write_table(
        rows, [Column(n, digits=1) for n in names], {Column("paper (" + " / ".join(names) + ")", digits=1): PAPER},
        title=f"## Captioning: {preset_name}",
        intro="pycocoevalcap (PTB tokenizer, BLEU, METEOR 1.5, ROUGE-L, CIDEr-D), in %; SPICE left out (it "
              "downloads models at run time). `blind`: the same NIC trained and tested on blank images.")


def _picture(path, images, references, captions_by_method, count=6):
    from keras_cutmix.visualization.figures import new_figure, save_figure  # pylint: disable=g-import-not-at-top

    count = min(count, len(images))
    figure, axes = new_figure(1, count, figsize=(3.2 * count, 4.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(images[i])
        ax.axis("off")
        lines = [f"ref: {references[i][0]}"] + [f"{m}: {c[i]}" for m, c in captions_by_method.items()]
        ax.set_title("\n".join(lines), fontsize=6.5, loc="left")
    return save_figure(figure, path, dpi=110)


def run_captioning(workdir, *, preset="embedded", backbones=None, models_dir=None, methods=training.METHODS,
                   seed=0, data_dir=None, beam_size=20, blind=True, verbose=1, overwrite=False, callbacks=(),
                   **overrides):
    """Trains NIC on each method's backbone (and a blind one), scores the test captions, writes the outputs.

    Images are read one batch at a time (see `streaming`): memory grows with the data set only by the training
    features (`N x D` float32) and captions. Each NIC is one `training.resumable` run in `workdir/<method>/`: resumed
    after a kill, reused when finished with the same config (`run_config`), refused with another unless `overwrite`.

    Args:
        workdir: Output directory.
        preset: A `PRESETS` name, a captioning `training.Preset` or a `CaptionRecipe`. Defaults to "embedded".
        backbones: `{method: classification workdir or .keras file}`. Defaults to None: `run_methods`'s models.
        models_dir: Where those train (shared with robustness.py / ood.py). Defaults to `workdir/models`.
        methods: Methods, in table order. Defaults to all four.
        seed: Seed of the models trained here and of the caption order. Defaults to 0.
        data_dir: tfds data_dir. Defaults to None.
        beam_size: Beam width (the paper's evaluation: 20). Defaults to 20.
        blind: Also train and score the blind NIC. Defaults to True.
        verbose: Keras progress bars (training, encoding, captioning). Defaults to 1.
        overwrite: Replace the runs of another config (NICs in `workdir`, models in `models_dir`). Defaults to False.
        callbacks: Extra Keras callbacks of every NIC's `fit`. Defaults to none.
        **overrides: `CaptionRecipe` fields to replace (e.g. `epochs`, `image_size`, `max_test_images`).

    Returns:
        `{method: scores}` (also in `workdir/results.json`).

    Raises:
        training.ConfigError: for a bad argument, before anything trains (see `check_run`).
        training.WorkdirInUseError: (a `ConfigError` naming "workdir") for a run of another config, before any work.
        data.DatasetNotFoundError: if tfds has not prepared the data set in `data_dir`.
    """
    spec, sources, methods, runs = check_run(preset, backbones, methods, seed, data_dir, beam_size, verbose,
                                             workdir=workdir, models_dir=models_dir, blind=blind,
                                             overwrite=overwrite, **overrides)
    missing = [m for m in methods if m not in (backbones or {})]
    if missing:
        training.run_methods(training.get_config(seed=seed, data_dir=data_dir),
                             models_dir or os.path.join(workdir, "models"), missing, overwrite=overwrite)
    # tf.data's seeded shuffles also read TF's global seed (unset in a fresh process, set by any training before):
    # fix it here, after building the data, so that training the backbones in this process or reusing them gives the
    # same caption order and the same NICs (`train_captioner` sets it again before it reads the images, in order).
    keras.utils.set_random_seed(seed)
    train_ids, captions, _ = streaming.read_references(_read(spec, True, data_dir, seed, TRAIN_BATCH))
    test_ids, test_captions, first_images = streaming.read_references(
        _read(spec, False, data_dir, seed, TEST_BATCH), spec.max_test_images, keep_images=6)
    vocab = vocabulary.build_vocabulary(captions.reshape(-1), min_count=spec.min_count)
    references = {int(i): list(c) for i, c in zip(test_ids, test_captions)}
    results, generated = {}, {}
    for method, (path, config) in runs.items():
        print(f"== {method}: {config['backbone']}", flush=True)
        model = train_captioner(load_classifier(config["backbone"]), vocab,
                                lambda: _read(spec, True, data_dir, seed, TRAIN_BATCH), train_ids, captions, spec,
                                path, seed, config["blind"], verbose, config=config, overwrite=overwrite,
                                callbacks=callbacks)
        if verbose:
            print(f"Captioning {len(test_ids)} test images (beam {beam_size})", flush=True)
        generated[method] = streaming.caption_batches(model, _read(spec, False, data_dir, seed, TEST_BATCH),
                                                      test_ids, beam_size, spec.max_length, config["blind"], verbose)
        results[method] = scoring.score_captions(references, dict(zip(map(int, test_ids), generated[method])))
    os.makedirs(workdir, exist_ok=True)
    results_io.write_json(os.path.join(workdir, "results.json"), {
        "preset": preset if isinstance(preset, str) else getattr(preset, "name", "custom"), "overrides": overrides,
        "backbones": sources, "results": results, "examples": {m: c[:20] for m, c in generated.items()}})
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(markdown_table(results, f"{spec.dataset}, beam {beam_size}"))
    _picture(os.path.join(workdir, "captions.png"), first_images, test_captions, generated)
    return results
