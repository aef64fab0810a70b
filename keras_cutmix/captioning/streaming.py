"""One pass over a captioning data set, one batch of images in memory at a time.

    ids, captions, first = read_references(load_captions(..., training=False), limit=5000, keep_images=6)
    features = encode_images(encoder, load_captions(..., training=True), ids)   # float32 [N, D]
    texts = caption_batches(model, load_captions(..., training=False), ids, beam_size=20, max_length=20)

`run_captioning` reads the training and test images through these instead of holding them: on MS-COCO
(113,287 Karpathy training images at 224x224, 150,528 bytes each as uint8) the images alone would take
17 GB and their float32 copy four times that, while the frozen encoder's features take `N x D x 4` bytes
(0.93 GB for ResNet-50's 2,048). Every pass reads the images in the same order (a training read after the
same seeding) and each one checks it against the image ids of the first.

Each function takes any iterable of batches (dicts with "images" uint8 `[B, S, S, 3]` and "image_ids" int64 `[B]`, as
`data.load_captions` yields), stops after `len(image_ids)` images, and shows a `keras.utils.Progbar` when `verbose`.
"""

import keras
import numpy as np

from keras_cutmix import checks
from keras_cutmix.captioning import decoding, vocabulary
from keras_cutmix.captioning.nic import check_nic, vocabulary_of


def _images(batches, image_ids, blank, verbose):
    """Yields `(start, float32 images)` of `batches` up to `len(image_ids)` images, checking their ids."""
    count, start = len(image_ids), 0
    bar = keras.utils.Progbar(count, verbose=verbose, unit_name="image") if verbose else None
    for batch in batches:
        ids = np.asarray(batch["image_ids"])[:count - start]
        if not np.array_equal(ids, image_ids[start:start + len(ids)]):
            raise ValueError(f"Expected the images of image_ids in their order. Received: image ids {ids[:5]} "
                             f"at position {start}, where image_ids has {image_ids[start:start + 5]}")
        images = np.asarray(batch["images"])[:len(ids)].astype(np.float32)
        yield start, np.zeros_like(images) if blank else images
        start += len(ids)
        if bar:
            bar.update(start)
        if start >= count:
            break  # Before asking for one more batch.
    if start != count:
        raise ValueError(f"Expected {count} images (len(image_ids)). Received: {start}")


def read_references(batches, limit=None, keep_images=0):
    """The image ids, references and first images of `batches`, without keeping the other images.

    Args:
        batches: Batches of "images", "image_ids" and "captions" (str `[B, 5]`), e.g. `load_captions`'s.
        limit: Most images read. Defaults to None: all.
        keep_images: How many of the first images to return. Defaults to 0.

    Returns:
        `(image_ids, captions, images)`: int64 `[N]`, object `[N, 5]` (Python strings) and uint8
        `[min(N, keep_images), S, S, 3]` (None when `keep_images` is 0).

    Raises:
        ValueError: If `limit` < 1 or `keep_images` < 0, or `batches` holds no image.
    """
    limit = checks.count("limit", limit, "read_references", allow_none=True)
    keep_images = checks.count("keep_images", keep_images, "read_references", minimum=0)
    ids, captions, kept, count = [], [], [], 0
    for batch in batches:
        take = len(batch["image_ids"]) if limit is None else min(len(batch["image_ids"]), limit - count)
        ids.append(np.asarray(batch["image_ids"])[:take].astype(np.int64))
        captions.append(np.asarray(batch["captions"], object)[:take])
        if count < keep_images:
            kept.append(np.asarray(batch["images"])[:min(take, keep_images - count)])
        count += take
        if limit is not None and count >= limit:
            break
    if not count:
        raise ValueError("Expected batches with at least one image. Received: none")
    # Python strings: NumPy's str arrays give every caption the longest one's width, 4 bytes a character.
    captions = np.vectorize(lambda c: c.decode("utf-8") if isinstance(c, bytes) else str(c), otypes=[object])(
        np.concatenate(captions))
    return np.concatenate(ids), captions, (np.concatenate(kept) if kept else None)


def encode_images(encoder, batches, image_ids, blank=False, verbose=1):
    """The encoder's features of the images of `batches`, computed batch by batch.

    Args:
        encoder: A `keras.Model` from pixels `[B, S, S, 3]` (float32, 0-255) to features `[B, D]`.
        batches: Batches of "images" and "image_ids" in the order of `image_ids`.
        image_ids: int `[N]`, from `read_references` on the same images.
        blank: Encode black images of the same shape instead (the blind NIC). Defaults to False.
        verbose: Show a progress bar. Defaults to 1.

    Returns:
        float32 NumPy `[N, D]`: `encoder.predict(images, batch_size=B)` of the same images, without them.

    Raises:
        ValueError: If `batches` holds other images or fewer than `image_ids`.
    """
    features = None
    for start, images in _images(batches, np.asarray(image_ids), blank, verbose):
        out = np.asarray(encoder.predict_on_batch(images), np.float32)
        if features is None:
            features = np.empty((len(image_ids), out.shape[-1]), np.float32)
        features[start:start + len(out)] = out
    return features


def caption_batches(model, batches, image_ids, beam_size, max_length, blank=False, verbose=1):
    """Beam-search captions (strings) of the images of `batches`, one batch at a time.

    Args:
        model: A `nic` model.
        batches: Batches of "images" and "image_ids" in the order of `image_ids`.
        image_ids: int `[N]`: the images to caption, from `read_references` on the same batches.
        beam_size: Beam width.
        max_length: Most tokens per caption.
        blank: Caption black images of the same shape instead (the blind NIC). Defaults to False.
        verbose: Show a progress bar. Defaults to 1.

    Returns:
        A list of `N` captions.

    Raises:
        ValueError: If `model` is not a `nic` model, `beam_size` or `max_length` < 1, or `batches` mismatch `image_ids`.
    """
    check_nic(model, "caption_batches")
    beam_size = checks.count("beam_size", beam_size, "caption_batches")
    max_length = checks.count("max_length", max_length, "caption_batches")
    vocab, texts = vocabulary_of(model), []
    for _, images in _images(batches, np.asarray(image_ids), blank, verbose):
        ids, _ = decoding.beam_search(model, images, beam_size=beam_size, max_length=max_length)
        texts.extend(vocabulary.detokenize(np.asarray(ids), vocab))
    return texts
