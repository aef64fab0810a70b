"""examples/keras_hub_detector.py: CutMixed boxes from tf.data reach a tiny keras-hub RetinaNet, which trains."""

import importlib.util
import os

import numpy as np
import pytest

from keras_cutmix import data
from keras_cutmix.data.synthetic_birds import SyntheticBirds

_EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "keras_hub_detector.py")
_spec = importlib.util.spec_from_file_location("keras_hub_detector_example", _EXAMPLE)
detector_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(detector_example)

SIZE = 64


@pytest.fixture(scope="module")
def birds_dir(tmp_path_factory):
    """A data dir where the default synthetic_birds config is built with 24 / 12 examples."""
    config = SyntheticBirds.BUILDER_CONFIGS[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "num_train", 24)
        patch.setattr(config, "num_test", 12)
        data_dir = str(tmp_path_factory.mktemp("tfds_birds_detector"))
        data.prepare("synthetic_birds", data_dir=data_dir)
    return data_dir


def test_dataset_is_cutmixed_pixel_boxes(birds_dir):
    x, y = next(iter(detector_example.make_dataset(batch_size=8, image_size=SIZE, seed=1, data_dir=birds_dir)))
    plain = next(iter(data.load("synthetic_birds", batch_size=8, training=True, seed=1, with_boxes=True,
                                image_size=SIZE, data_dir=birds_dir)))
    assert x.shape == (8, SIZE, SIZE, 3) and x.dtype.name == "float32"
    assert 0.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
    boxes, labels = y["boxes"].numpy(), y["labels"].numpy()
    assert boxes.shape == (8, 2, 4) and labels.shape == (8, 2)  # M = 2N for CutMix, N = 1.
    kept = labels >= 0
    assert np.all(boxes[~kept] == 0)  # Padding rows are zero boxes.
    assert np.all(boxes[kept] >= 0) and np.all(boxes[kept] <= SIZE)
    assert np.max(boxes[kept][:, 2:] - boxes[kept][:, :2]) > 4.0  # Pixels: relative sides would be <= 1.
    assert np.all(boxes[kept][:, 2:] > boxes[kept][:, :2])
    assert set(labels[kept]) <= set(plain["labels"].numpy())  # Box labels are the images' classes.
    # Mixed: some image has a second (partner's) box, or lost or changed its own.
    original = plain["bbox"].numpy() * SIZE
    changed = [not (kept[i, 0] and np.allclose(boxes[i, 0], original[i], atol=1e-3)) or kept[i, 1]
               for i in range(8)]
    assert any(changed)
    # The images are mixed too: they differ from the plain batch.
    assert np.abs(x.numpy() - plain["images"].numpy() / 255.0).max() > 0.1


def test_one_step_sees_the_mixed_boxes_and_has_finite_loss(birds_dir):
    def dataset():
        return detector_example.make_dataset(batch_size=8, image_size=SIZE, seed=2, data_dir=birds_dir)

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


def test_train_runs_steps(birds_dir):
    _, losses = detector_example.train(steps=2, seed=0, data_dir=birds_dir, batch_size=4, image_size=SIZE)
    assert len(losses) == 2 and all(np.isfinite(losses))
