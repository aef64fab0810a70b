"""examples/keras_hub_detector.py: CutMixed boxes from tf.data reach a tiny keras-hub RetinaNet, which trains."""

import numpy as np
import pytest

from keras_cutmix import data

SIZE = 64


@pytest.fixture(scope="module")
def detector_example(example):
    return example("keras_hub_detector")


def test_dataset_is_cutmixed_pixel_boxes(detector_example, tiny_birds_dir):
    def epoch(dataset):  # The tiny data set's 3 training batches.
        return list(dataset.take(8))

    mixed = epoch(detector_example.make_dataset(batch_size=8, image_size=SIZE, seed=1, data_dir=tiny_birds_dir))
    plain = epoch(data.load("synthetic_birds", batch_size=8, training=True, seed=1, with_boxes=True,
                            image_size=SIZE, data_dir=tiny_birds_dir))
    assert len(mixed) == len(plain) == 3
    changed = []
    for (x, y), batch in zip(mixed, plain):
        assert x.shape == (8, SIZE, SIZE, 3) and x.dtype.name == "float32"
        assert 0.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
        boxes, labels = y["boxes"].numpy(), y["labels"].numpy()
        assert boxes.shape == (8, 2, 4) and labels.shape == (8, 2)  # M = 2N for CutMix, N = 1.
        kept = labels >= 0
        assert np.all(boxes[~kept] == 0)  # Padding rows are zero boxes.
        assert np.all(boxes[kept] >= 0) and np.all(boxes[kept] <= SIZE)
        assert np.max(boxes[kept][:, 2:] - boxes[kept][:, :2]) > 4.0  # Pixels: relative sides would be <= 1.
        assert np.all(boxes[kept][:, 2:] > boxes[kept][:, :2])
        assert set(labels[kept]) <= set(batch["labels"].numpy())  # Box labels are the images' classes.
        # The images are mixed: they differ from the plain batch.
        assert np.abs(x.numpy() - batch["images"].numpy() / 255.0).max() > 0.1
        # Mixed boxes: an image has a second (partner's) box, or lost or changed its own.
        original = batch["bbox"].numpy() * SIZE
        changed += [not (kept[i, 0] and np.allclose(boxes[i, 0], original[i], atol=1e-3)) or kept[i, 1]
                    for i in range(8)]
    # One box per batch (the paper's CutMix): a small one may cross no object, so look over the epoch.
    assert any(changed)


def test_one_step_sees_the_mixed_boxes_and_has_finite_loss(detector_example, tiny_birds_dir):
    def dataset():
        return detector_example.make_dataset(batch_size=8, image_size=SIZE, seed=2, data_dir=tiny_birds_dir)

    # A fresh dataset of the same seed (a second pass over one dataset reshuffles and remixes).
    _, expected = next(iter(dataset()))
    ds = dataset()
    detector = detector_example.build_detector(num_classes=10, image_size=SIZE)
    seen = []
    compute_loss = detector.compute_loss

    def spy(x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
        seen.append({k: v.numpy() for k, v in y.items()})
        return compute_loss(x, y, y_pred, sample_weight, **kwargs)

    detector.compute_loss = spy
    detector.compile(optimizer="adam", run_eagerly=True)
    history = detector.fit(ds.take(1), epochs=1, verbose=0, shuffle=False)
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0]["boxes"], expected["boxes"].numpy())
    np.testing.assert_array_equal(seen[0]["labels"], expected["labels"].numpy())
    assert np.isfinite(history.history["loss"][0]) and history.history["loss"][0] > 0


def test_train_runs_steps(detector_example, tiny_birds_dir):
    _, losses = detector_example.train(steps=2, seed=0, data_dir=tiny_birds_dir, batch_size=4, image_size=SIZE)
    assert len(losses) == 2 and all(np.isfinite(losses))
