"""`run_captioning`: NIC on each method's backbone, scored as COCO scores captions (the paper's Table A1).

    from keras_cutmix import captioning
    captioning.run_captioning("/tmp/captions")  # Embedded: the four classification models, synthetic_captions.

Backbones: `backbones={method: source}` (classification workdirs or .keras files), or the four models of
`training.run_methods` on the classification defaults (small_cnn on synthetic_shapes) in `models_dir`,
trained there once and shared with the robustness and OOD scripts. Each NIC (`nic.nic` on the backbone's
pooled features, encoder frozen as the code the paper names) trains in `workdir/<method>/` with Adam
(resumable; a finished run reloads its `.keras` model in safe mode), then captions the test images by beam
search and `scoring.score_captions` scores them. A `blind` row trains the same NIC on blank images: the
language prior alone, the floor any model that looks at the image must clear. Writes `workdir/results.json`,
`results.md` (Table A1's layout) and `captions.png`.

References:
    - [Vinyals et al., 2015, Show and Tell](https://arxiv.org/abs/1411.4555); [Yun et al., 2019](
      https://arxiv.org/abs/1905.04899), supplementary Section D, Table A1.
"""

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from keras_cutmix import data, training
from keras_cutmix.captioning import decoding, scoring, vocabulary
from keras_cutmix.captioning.nic import (PAPER_RECIPE, caption_decoder, caption_loss, nic, pooled_encoder,
                                         vocabulary_of)
from keras_cutmix.models.common import at_input_size
from keras_cutmix.training import results as results_io
from keras_cutmix.training.method_runs import load_classifier

# Table A1 (MS-COCO, NIC on each method's ResNet-50): BLEU-1..4, METEOR, ROUGE-L, CIDEr, in %.
PAPER = {"baseline": (61.4, 43.8, 31.4, 22.9, 22.8, 44.7, 71.2), "mixup": (61.6, 44.1, 31.6, 23.2, 22.9, 47.9, 72.2),
         "cutout": (63.0, 45.3, 32.6, 24.0, 22.6, 48.2, 74.1), "cutmix": (64.2, 46.3, 33.6, 24.9, 23.1, 49.0, 77.6)}
BLIND = "blind"


@dataclasses.dataclass(frozen=True)
class CaptionPreset:
    """Data and recipe of a captioning run."""

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
    "coco": CaptionPreset("coco_captions", 224, 100),
    # Minutes on a CPU: 3,000 64x64 scenes with 5 captions each (15,000 pairs an epoch), 2 epochs, a smaller LSTM.
    "embedded": CaptionPreset("synthetic_captions", 64, 2, batch_size=32, units=256, max_length=16),
}


def _examples(preset, split, training_split, data_dir, seed):
    """NumPy images [N, S, S, 3] uint8, image ids [N], captions [N, 5] (str)."""
    ds = data.load_captions(preset.dataset, split, batch_size=256, training=training_split, data_dir=data_dir,
                            seed=seed, image_size=preset.image_size, drop_remainder=False)
    batches = [tf.nest.map_structure(lambda t: t.numpy(), b) for b in ds]
    captions = np.concatenate([b["captions"] for b in batches]).astype(str)
    return (np.concatenate([b["images"] for b in batches]), np.concatenate([b["image_ids"] for b in batches]),
            captions)


def _pairs(features, captions, vocab, preset, seed):
    """Every (image's features, reference) pair, shuffled: `((features, ids[:, :-1]), ids[:, 1:])` batches."""
    count, per_image = captions.shape
    ids = vocabulary.tokenize(captions.reshape(-1), vocab, preset.max_length + 1)
    index = np.repeat(np.arange(count), per_image)
    order = np.random.default_rng(seed).permutation(len(index))
    ds = tf.data.Dataset.from_tensor_slices((index[order], ids[order]))

    def pair(i, caption):
        return (tf.gather(features, i), caption[:-1]), caption[1:]

    return ds.map(pair, num_parallel_calls=tf.data.AUTOTUNE).batch(preset.batch_size).prefetch(2)


def train_captioner(classifier, vocab, images, captions, preset, workdir, seed=0, blind=False, verbose=1):
    """Trains NIC on `classifier`'s pooled features (frozen) in `workdir`; a finished run only reloads it.

    The encoder is frozen, so its features are computed once (blank images' for the blind NIC) and
    `nic.caption_decoder`, which shares every other layer, trains on them: the same training, without
    running the encoder each step (about half of a step here).
    """
    path = os.path.join(workdir, "nic.keras")
    if os.path.exists(path):
        return keras.saving.load_model(path, safe_mode=True)
    keras.utils.set_random_seed(seed)
    encoder = pooled_encoder(at_input_size(classifier, preset.image_size))
    model = nic(vocab, encoder, units=preset.units, embedding_dim=preset.units)
    shown = np.zeros_like(images) if blind else images
    features = model.get_layer("encoder").predict(shown.astype(np.float32), batch_size=256, verbose=0)
    decoder = caption_decoder(model)
    decoder.compile(optimizer=keras.optimizers.Adam(preset.learning_rate), loss=caption_loss)
    callbacks = [keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup"))]
    decoder.fit(_pairs(features, captions, vocab, preset, seed), epochs=preset.epochs, callbacks=callbacks,
                verbose=verbose)
    model.save(path)
    return model


def caption_images(model, images, beam_size, max_length, batch_size=64):
    """Beam-search captions (strings) of `images`."""
    vocab = vocabulary_of(model)
    texts = []
    for start in range(0, len(images), batch_size):
        ids, _ = decoding.beam_search(model, images[start:start + batch_size].astype(np.float32),
                                      beam_size=beam_size, max_length=max_length)
        texts.extend(vocabulary.detokenize(np.asarray(ids), vocab))
    return texts


def markdown_table(results, preset_name):
    """Table A1's layout: method rows, BLEU-1..4, METEOR, ROUGE-L, CIDEr (%), the paper's beside."""
    names = [n for n in scoring.METRICS]
    header = "| method | " + " | ".join(names) + " | paper (" + " / ".join(names) + ") |"
    lines = [f"## Captioning: {preset_name}", "",
             "pycocoevalcap (PTB tokenizer, BLEU, METEOR 1.5, ROUGE-L, CIDEr-D), in %; SPICE left out (it "
             "downloads models at run time). `blind`: the same NIC trained and tested on blank images.", "",
             header, "|---" * (header.count("|") - 1) + "|"]
    for method, scores in results.items():
        cells = ["-" if scores[n] is None else f"{100 * scores[n]:.1f}" for n in names]
        paper = " / ".join(f"{v:.1f}" for v in PAPER[method]) if method in PAPER else "-"
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {paper} |")
    return "\n".join(lines) + "\n"


def _picture(path, images, references, captions_by_method, count=6):
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

    figure, axes = plt.subplots(1, count, figsize=(3.2 * count, 4.6))
    for i, ax in enumerate(axes):
        ax.imshow(images[i])
        ax.axis("off")
        lines = [f"ref: {references[i][0]}"] + [f"{m}: {c[i]}" for m, c in captions_by_method.items()]
        ax.set_title("\n".join(lines), fontsize=6.5, loc="left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def run_captioning(workdir, preset="embedded", backbones=None, models_dir=None, methods=training.METHODS,
                   seed=0, data_dir=None, beam_size=20, blind=True, verbose=1):
    """Trains NIC on each method's backbone (and a blind one), scores the test captions, writes the outputs.

    Args:
        workdir: Output directory.
        preset: A `PRESETS` name or a `CaptionPreset`. Defaults to "embedded".
        backbones: `{method: classification workdir or .keras file}`. Defaults to None: `run_methods`'s models.
        models_dir: Where those train (shared with robustness.py / ood.py). Defaults to `workdir/models`.
        methods: Methods, in table order. Defaults to all four.
        seed: Seed of the models trained here and of the caption order. Defaults to 0.
        data_dir: tfds data_dir. Defaults to None.
        beam_size: Beam width (the paper's evaluation: 20). Defaults to 20.
        blind: Also train and score the blind NIC. Defaults to True.
        verbose: Keras progress bars. Defaults to 1.

    Returns:
        `{method: scores}` (also in `workdir/results.json`).
    """
    spec = PRESETS[preset] if isinstance(preset, str) else preset
    sources = dict(backbones or {})
    missing = [m for m in methods if m not in sources]
    if missing:
        models_dir = models_dir or os.path.join(workdir, "models")
        training.run_methods(training.get_config(seed=seed, data_dir=data_dir), models_dir, missing)
        sources.update({m: os.path.join(models_dir, m) for m in missing})
    # tf.data's seeded shuffles also read TF's global seed (unset in a fresh process, set by any training
    # before): fix it here, after building the data, so that training the backbones in this process or
    # reusing them gives the same caption order and the same NICs.
    data.prepare_captions(spec.dataset, data_dir)
    keras.utils.set_random_seed(seed)
    images, _, captions = _examples(spec, None, True, data_dir, seed)
    test_images, test_ids, test_captions = _examples(spec, None, False, data_dir, seed)
    if spec.max_test_images:
        test_images, test_ids, test_captions = (a[:spec.max_test_images] for a in (test_images, test_ids,
                                                                                      test_captions))
    vocab = vocabulary.build_vocabulary(captions.reshape(-1), min_count=spec.min_count)
    references = {int(i): list(c) for i, c in zip(test_ids, test_captions)}
    runs = [(m, sources[m], False) for m in methods] + ([(BLIND, sources[methods[0]], True)] if blind else [])
    results, generated = {}, {}
    for method, source, is_blind in runs:
        print(f"== {method}: {source}", flush=True)
        model = train_captioner(load_classifier(source), vocab, images, captions, spec,
                                os.path.join(workdir, method), seed, is_blind, verbose)
        shown = np.zeros_like(test_images) if is_blind else test_images
        generated[method] = caption_images(model, shown, beam_size, spec.max_length)
        results[method] = scoring.score_captions(references, {int(i): c for i, c in zip(test_ids, generated[method])})
    os.makedirs(workdir, exist_ok=True)
    results_io.write_json(os.path.join(workdir, "results.json"), {
        "preset": preset if isinstance(preset, str) else "custom", "backbones": sources, "results": results,
        "examples": {m: c[:20] for m, c in generated.items()}})
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(markdown_table(results, f"{spec.dataset}, beam {beam_size}"))
    _picture(os.path.join(workdir, "captions.png"), test_images, test_captions, generated)
    return results
