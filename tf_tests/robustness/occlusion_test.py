"""Centre and boundary occlusion, counted pixel by pixel against hand-written masks."""

import numpy as np
import pytest
import tensorflow as tf

from keras_cutmix.robustness import centred_box, occlude, occlusion_accuracy

from robustness_helpers import linear_model, linear_weights, logits, random_images, top1  # noqa: E402  (same folder)

# (height, width, size) -> the rows and columns the centred square covers, by hand from
# top-left = ((H - size) // 2, (W - size) // 2).
HAND_CASES = {
    (5, 5, 2): ([1, 2], [1, 2]),  # Odd side, even size: the spare row and column go below and right.
    (5, 5, 3): ([1, 2, 3], [1, 2, 3]),  # Odd, odd: exactly centred.
    (6, 6, 3): ([1, 2, 3], [1, 2, 3]),  # Even, odd.
    (6, 6, 2): ([2, 3], [2, 3]),  # Even, even: exactly centred.
    (5, 7, 3): ([1, 2, 3], [2, 3, 4]),  # Non-square.
    (4, 6, 5): ([0, 1, 2, 3], [0, 1, 2, 3, 4]),  # Longer than the height: clipped to a band.
    (3, 1, 2): ([0, 1], [0]),
}


def _hand_mask(height, width, rows, cols):
    mask = np.zeros([height, width], bool)
    for row in rows:
        for col in cols:
            mask[row, col] = True
    return mask


def _images(height, width, channels=3, count=2, dtype=np.float32):
    """Images with no zero pixel, so that zeros mark occluded pixels."""
    values = np.random.default_rng(height * 10 + width).uniform(0.1, 1.0, size=(count, height, width, channels))
    return (values * 255).astype(dtype) if dtype == np.uint8 else values.astype(dtype)


@pytest.mark.parametrize("case", sorted(HAND_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_masks_counted_pixel_by_pixel(case, dtype):
    height, width, size = case
    inside = _hand_mask(height, width, *HAND_CASES[case])
    images = _images(height, width, dtype=dtype)
    for mode, zeroed in (("center", inside), ("boundary", ~inside)):
        result = occlude(images, size, mode)
        assert isinstance(result, np.ndarray) and result.dtype == images.dtype
        is_zero = np.all(result == 0, axis=-1)
        for image in range(len(images)):
            assert is_zero[image].sum() == zeroed.sum()
            for row in range(height):
                for col in range(width):
                    expected = 0 if zeroed[row, col] else images[image, row, col]
                    np.testing.assert_array_equal(result[image, row, col], expected)


@pytest.mark.parametrize("height, width", [(5, 5), (6, 6), (4, 7)])
def test_size_zero_and_full_side(height, width):
    images = _images(height, width)
    np.testing.assert_array_equal(occlude(images, 0, "center"), images)
    np.testing.assert_array_equal(occlude(images, 0, "boundary"), np.zeros_like(images))
    side = max(height, width)
    np.testing.assert_array_equal(occlude(images, side, "center"), np.zeros_like(images))
    np.testing.assert_array_equal(occlude(images, side, "boundary"), images)


def test_tensors_stay_tensors_in_graphs_xla_and_tf_data():
    images = _images(5, 7, count=3)
    expected = occlude(images, 3, "boundary")
    tensor = occlude(tf.constant(images), 3, "boundary")
    assert tf.is_tensor(tensor)
    np.testing.assert_array_equal(tensor.numpy(), expected)
    graph = tf.function(lambda x: occlude(x, 3, "boundary"), input_signature=[tf.TensorSpec([None, None, None, 3])])
    np.testing.assert_array_equal(graph(tf.constant(images)).numpy(), expected)
    xla = tf.function(lambda x: occlude(x, 3, "boundary"), jit_compile=True)
    np.testing.assert_array_equal(xla(tf.constant(images)).numpy(), expected)
    mapped = tf.data.Dataset.from_tensors(images).map(lambda x: occlude(x, 3, "boundary"))
    np.testing.assert_array_equal(next(iter(mapped)).numpy(), expected)


def test_centred_box_is_the_documented_corner():
    np.testing.assert_array_equal(centred_box(5, 7, 3).numpy(), [[1, 2, 4, 5]])
    np.testing.assert_array_equal(centred_box(6, 6, 0).numpy(), [[3, 3, 3, 3]])
    np.testing.assert_array_equal(centred_box(4, 6, 5).numpy(), [[0, 0, 4, 5]])


def test_occlusion_accuracy_matches_numpy_predictions():
    kernel, bias = linear_weights(4)
    model = linear_model(kernel, bias, input_scale=1 / 255)
    images = random_images(9, 5)
    labels = top1(logits(images, kernel, bias))
    labels[::3] = (labels[::3] + 1) % kernel.shape[1]  # Some wrong already without occlusion.
    # The 3 x 4 squares by hand: size -> (rows, cols).
    squares = {0: ([], []), 1: ([1], [1]), 2: ([0, 1], [1, 2]), 3: ([0, 1, 2], [0, 1, 2]),
               4: ([0, 1, 2], [0, 1, 2, 3])}
    sizes = sorted(squares)
    for mode in ("center", "boundary"):
        expected = []
        for size in sizes:
            rows, cols = squares[size]
            inside = _hand_mask(3, 4, rows, cols)[None, :, :, None]
            occluded = np.where(inside if mode == "center" else ~inside, 0.0, images)
            expected.append(np.mean(top1(logits(occluded, kernel, bias)) == labels))
        result = occlusion_accuracy(model, images, labels, sizes, mode, batch_size=4)
        np.testing.assert_allclose(result, expected)
    assert result[-1] == pytest.approx(np.mean(top1(logits(images, kernel, bias)) == labels))


def test_bad_arguments_are_named():
    images = _images(4, 6)
    with pytest.raises(ValueError, match="at most the image side 6"):
        occlude(images, 7)
    with pytest.raises(ValueError, match="size"):
        occlude(images, -1)
    with pytest.raises(ValueError, match="mode"):
        occlude(images, 2, "edge")
    with pytest.raises(ValueError, match="images"):
        occlude(images[0], 2)
