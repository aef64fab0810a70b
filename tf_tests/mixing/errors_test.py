"""Bad inputs raise a clear error before any work: it names the argument, what was expected and what came.

"Before any work" is checked two ways: errors about arguments are raised by the layer constructors (not at
the first call) and at trace time inside `tf.function` (not by a runtime assert), and a failing eager call
draws nothing from TF's global random generator (with `seed=None` the functions would draw their seed).
"""

import contextlib
import functools

import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc

B, H, W, C = 4, 5, 7, 3
IMAGES = np.zeros((B, H, W, C), "float32")
LABELS = np.array([0, 1, 2, 1])

FUNCTIONS = {"cutmix_fn": kc.cutmix_fn, "mixup_fn": kc.mixup_fn, "cutout_fn": kc.cutout_fn}
LAYERS = {"CutMix": kc.CutMix, "MixUp": kc.MixUp, "Cutout": kc.Cutout}
ALPHA_FUNCTIONS = {"cutmix_fn": kc.cutmix_fn, "mixup_fn": kc.mixup_fn}
ALPHA_LAYERS = {"CutMix": kc.CutMix, "MixUp": kc.MixUp}
BAD_ALPHAS = [0, 0.0, -1, float("nan"), float("inf"), "1", None, True]
BAD_FRACTIONS = [-0.1, 1.5, float("nan"), "0.5", None]


@contextlib.contextmanager
def assert_raises_first(error, *fragments):
    """The block raises `error` whose message holds every fragment, and draws no random numbers first."""
    tf.random.set_seed(1234)
    with pytest.raises(error) as info:
        yield info
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in error message: {message}"
    drawn = tf.random.uniform([4]).numpy()
    tf.random.set_seed(1234)
    np.testing.assert_array_equal(drawn, tf.random.uniform([4]).numpy(),
                                  err_msg="the failing call used the global random generator")


# --- Method arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", BAD_ALPHAS, ids=repr)
@pytest.mark.parametrize("name", sorted(ALPHA_FUNCTIONS))
def test_bad_alpha_function(name, alpha):
    with assert_raises_first(ValueError, name, "`alpha`", "> 0", f"Received: alpha={alpha!r}"):
        ALPHA_FUNCTIONS[name](IMAGES, alpha=alpha)


@pytest.mark.parametrize("alpha", BAD_ALPHAS, ids=repr)
@pytest.mark.parametrize("name", sorted(ALPHA_LAYERS))
def test_bad_alpha_layer(name, alpha):
    with assert_raises_first(ValueError, name, "`alpha`", "> 0", f"Received: alpha={alpha!r}"):
        ALPHA_LAYERS[name](alpha=alpha)


@pytest.mark.parametrize("probability", BAD_FRACTIONS, ids=repr)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bad_probability_function(name, probability):
    with assert_raises_first(ValueError, name, "`probability`", "[0, 1]", f"Received: probability={probability!r}"):
        FUNCTIONS[name](IMAGES, probability=probability)


@pytest.mark.parametrize("probability", BAD_FRACTIONS, ids=repr)
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_bad_probability_layer(name, probability):
    with assert_raises_first(ValueError, name, "`probability`", "[0, 1]", f"Received: probability={probability!r}"):
        LAYERS[name](probability=probability)


@pytest.mark.parametrize("smoothing", [-0.1, 1.0, 2.0], ids=repr)
@pytest.mark.parametrize("make", [functools.partial(kc.cutmix_fn, IMAGES), kc.CutMix, kc.Cutout],
                         ids=["cutmix_fn", "CutMix", "Cutout"])
def test_bad_label_smoothing(make, smoothing):
    with assert_raises_first(ValueError, "`label_smoothing`", "[0, 1)", f"Received: label_smoothing={smoothing!r}"):
        make(label_smoothing=smoothing)


@pytest.mark.parametrize("size", [0, -2, (4,), (4, 0), (2, 3, 4), 2.5, True, "16", None], ids=repr)
@pytest.mark.parametrize("make", [functools.partial(kc.cutout_fn, IMAGES), kc.Cutout], ids=["cutout_fn", "Cutout"])
def test_bad_cutout_size(make, size):
    with assert_raises_first(ValueError, "`size`", "positive int", f"Received: size={size!r}"):
        make(size=size)


@pytest.mark.parametrize("data_format", ["NHWC", "channels-last", "channels_firsts", 3], ids=repr)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bad_data_format_function(name, data_format):
    with assert_raises_first(ValueError, name, "`data_format`", "'channels_last' or 'channels_first'",
                             f"Received: data_format={data_format!r}"):
        FUNCTIONS[name](IMAGES, data_format=data_format)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_bad_data_format_layer(name):
    with assert_raises_first(ValueError, name, "`data_format`", "Received: data_format='NCHW'"):
        LAYERS[name](data_format="NCHW")


@pytest.mark.parametrize("seed", [1.5, "3", True, np.float32(2.0), tf.constant([1.0, 2.0]), tf.constant([1, 2, 3])],
                         ids=["float", "str", "bool", "np_float", "float_tensor", "shape_3_tensor"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bad_seed_function(name, seed):
    with assert_raises_first(TypeError, "seed", "Expected", "Received"):
        FUNCTIONS[name](IMAGES, seed=seed)


@pytest.mark.parametrize("seed", [1.5, "3", [1, 2]], ids=repr)
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_bad_seed_layer(name, seed):
    with assert_raises_first((TypeError, ValueError), "seed", "Received: seed="):
        LAYERS[name](seed=seed)


def test_bool_seed_layer():
    # cutmix_fn(seed=True) is a TypeError naming `seed`; the layers should say as much, not fail in Keras.
    with assert_raises_first((TypeError, ValueError), "seed", "Received: seed=True"):
        kc.CutMix(seed=True)


# All three functions and layers share `inputs.prepare_labels` / `MixingLayer.__init__`: one of each is enough.
BAD_NUM_CLASSES = [0, "10", 2.5]


@pytest.mark.parametrize("num_classes", BAD_NUM_CLASSES, ids=repr)
def test_bad_num_classes_function(num_classes):
    with assert_raises_first((TypeError, ValueError), "cutmix_fn", "`num_classes`",
                             f"Received: num_classes={num_classes!r}"):
        kc.cutmix_fn(IMAGES, LABELS, num_classes=num_classes)


@pytest.mark.parametrize("num_classes", BAD_NUM_CLASSES, ids=repr)
def test_bad_num_classes_layer(num_classes):
    with assert_raises_first((TypeError, ValueError), "CutMix", "`num_classes`",
                             f"Received: num_classes={num_classes!r}"):
        kc.CutMix(num_classes=num_classes)


def test_bad_mixed_loss():
    with pytest.raises(ValueError, match=r"Expected a Keras loss .*Received: loss=None"):
        kc.MixedLoss(None, layer_name="cut_mix")


# --- Images and labels --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_unbatched_images_say_batch_first(name):
    with assert_raises_first(ValueError, name, "rank 4", "Received: images of rank 3", "batch the dataset first"):
        FUNCTIONS[name](IMAGES[0], seed=1)
    dataset = tf.data.Dataset.from_tensor_slices(IMAGES)  # forgot .batch()
    with pytest.raises(ValueError, match="batch the dataset first"):
        dataset.map(FUNCTIONS[name])


@pytest.mark.parametrize("images,dtype_name", [
    (np.full((B, H, W, C), "a"), "string"),
    (np.zeros((B, H, W, C), bool), "bool"),
    (tf.zeros((B, H, W, C), tf.complex64), "complex64"),
], ids=["string", "bool", "complex"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_non_numeric_images(name, images, dtype_name):
    with assert_raises_first(TypeError, name, "numeric dtype", f"Received: images.dtype={dtype_name}"):
        FUNCTIONS[name](images)
    layer = {"cutmix_fn": kc.CutMix, "mixup_fn": kc.MixUp, "cutout_fn": kc.Cutout}[name](seed=1)
    with pytest.raises(TypeError, match=f"images.dtype={dtype_name}"):
        layer(tf.constant(images), training=True)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_labels_batch_size_differs_static(name):
    with assert_raises_first(ValueError, name, "`labels`", "batch size of `images` (4)", "labels.shape=(3,)"):
        FUNCTIONS[name](IMAGES, LABELS[:3], num_classes=3)
    with assert_raises_first(ValueError, name, "`labels`", "batch size"):
        FUNCTIONS[name](IMAGES, np.eye(3, dtype="float32")[LABELS[:3]])


def test_labels_batch_size_differs_static_in_layer_dict():
    with pytest.raises(ValueError, match=r"CutMix|cutmix_fn"):
        kc.CutMix(num_classes=3, seed=1)({"images": IMAGES, "labels": LABELS[:3]}, training=True)


@pytest.mark.parametrize("name", ["cutmix_fn"])  # The check is shared (inputs.parse); tracing is slow.
def test_labels_batch_size_differs_dynamic(name):
    fn = tf.function(
        lambda x, y: FUNCTIONS[name](x, y, num_classes=3, seed=1),
        input_signature=[tf.TensorSpec([None, H, W, C]), tf.TensorSpec([None], tf.int32)],
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected `labels` to have the batch size of `images`"):
        fn(IMAGES, LABELS[:3].astype("int32"))
    fn(IMAGES, LABELS.astype("int32"))  # the same graph with matching sizes runs


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_integer_labels_need_num_classes(name):
    with assert_raises_first(ValueError, name, "num_classes", "Received: labels.dtype=int64", "num_classes=None"):
        FUNCTIONS[name](IMAGES, LABELS)


@pytest.mark.parametrize("labels,fragment", [
    ([0, 1, 3, 1], "Expected integer labels in [0, num_classes=3)"),
    ([0, -1, 2, 1], "labels must be >= 0"),
], ids=["too_large", "negative"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_integer_labels_out_of_range(name, labels, fragment):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        FUNCTIONS[name](IMAGES, np.array(labels), num_classes=3, seed=1)
    assert fragment in str(info.value) and name in str(info.value), str(info.value)


def test_integer_labels_bad_shape_and_float_labels_bad_width():
    with pytest.raises(ValueError, match=r"shape \[batch\] or \[batch, 1\]\. Received: labels.shape=\(4, 2\)"):
        kc.cutmix_fn(IMAGES, np.zeros((B, 2), "int32"), num_classes=3)
    with pytest.raises(ValueError, match=r"num_classes=3 columns\. Received: labels.shape=\(4, 5\)"):
        kc.cutmix_fn(IMAGES, np.zeros((B, 5), "float32"), num_classes=3)
    with pytest.raises(TypeError, match=r"integer or float labels\. Received: labels.dtype=string"):
        kc.cutmix_fn(IMAGES, np.array(["a"] * B))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_dict_without_images(name):
    data = {"image": IMAGES, "labels": LABELS}
    with assert_raises_first(ValueError, name, "key 'images'", "Received keys: ['image', 'labels']"):
        FUNCTIONS[name](data, num_classes=3)
    layer = {"cutmix_fn": kc.CutMix, "mixup_fn": kc.MixUp, "cutout_fn": kc.Cutout}[name](num_classes=3, seed=1)
    with pytest.raises(ValueError, match="Received keys: \\['image', 'labels'\\]"):
        layer(data, training=True)


def test_dict_and_separate_labels():
    with pytest.raises(ValueError, match="Pass labels inside the dict"):
        kc.cutmix_fn({"images": IMAGES}, LABELS, num_classes=3)


def test_mixup_rejects_segmentation_masks():
    with pytest.raises(ValueError, match="mixup_fn.*segmentation_masks"):
        kc.mixup_fn({"images": IMAGES, "segmentation_masks": np.zeros((B, H, W), "int32")})


def test_bad_segmentation_masks():
    with pytest.raises(ValueError, match=r"segmentation_masks of rank 3.*Received: segmentation_masks.shape=\(4, 5\)"):
        kc.cutmix_fn({"images": IMAGES, "segmentation_masks": np.zeros((B, H), "int32")})
    with pytest.raises(ValueError, match="`segmentation_masks` to have the batch size"):
        kc.cutmix_fn({"images": IMAGES, "segmentation_masks": np.zeros((B - 1, H, W), "int32")})


def test_argument_errors_happen_at_trace_time_in_tf_function():
    for bad in ({"alpha": 0.0}, {"probability": 2.0}, {"data_format": "NHWC"}):
        traced = tf.function(lambda x: kc.cutmix_fn(x, seed=1, **bad))
        with pytest.raises(ValueError, match=next(iter(bad))):
            traced(IMAGES)


# --- Segmentation masks must match the images' size and layout (item 14) -----------------------------------


@pytest.mark.parametrize("images_shape,masks_shape,data_format", [
    ((B, 8, 8, C), (B, 6, 6), "channels_last"),  # rank 3, wrong size
    ((B, 8, 8, C), (B, 8, 6, 1), "channels_last"),  # rank 4, wrong width
    ((B, C, 8, 6), (B, 8, 6, 1), "channels_first"),  # channels_last masks with channels_first images
    ((B, 8, 6, C), (B, 1, 8, 6), "channels_last"),  # channels_first masks with channels_last images
    ((B, C, 8, 8), (B, 7, 8), "channels_first"),
], ids=["rank3_size", "rank4_width", "last_masks_first_images", "first_masks_last_images", "first_rank3"])
@pytest.mark.parametrize("name", ["cutmix_fn", "cutout_fn"])
def test_segmentation_masks_must_match_image_size_and_layout(name, images_shape, masks_shape, data_format):
    data = {"images": np.zeros(images_shape, "float32"), "segmentation_masks": np.zeros(masks_shape, "int32")}
    with assert_raises_first(ValueError, name, "segmentation_masks", "height and width of the images",
                             f"data_format='{data_format}'", "Received: segmentation_masks.shape="):
        FUNCTIONS[name](data, data_format=data_format)


def test_segmentation_masks_size_checked_at_run_time_when_unknown_while_tracing():
    fn = tf.function(
        lambda x, m: kc.cutmix_fn({"images": x, "segmentation_masks": m}, seed=1),
        input_signature=[tf.TensorSpec([None, None, None, C]), tf.TensorSpec([None, None, None], tf.int32)],
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"cutmix_fn: Expected segmentation_masks \[B, H, W\]"):
        fn(np.zeros((B, 8, 8, C), "float32"), np.zeros((B, 6, 6), "int32"))
    out = fn(np.zeros((B, 8, 8, C), "float32"), np.zeros((B, 8, 8), "int32"))  # the same graph runs when they match
    assert out["segmentation_masks"].shape == (B, 8, 8)


def test_segmentation_masks_size_checked_by_the_layer():
    data = {"images": np.zeros((B, 8, 8, C), "float32"), "segmentation_masks": np.zeros((B, 6, 6), "int32")}
    with pytest.raises(ValueError, match="(?s)CutMix.*segmentation_masks"):
        kc.CutMix(seed=1)(data, training=True)


# --- bounding boxes need their format (item 15; the box rules: bounding_boxes_test.py) -----------------------------


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bounding_boxes_without_a_format_raise_naming_it(name):
    boxes = {"boxes": np.zeros((B, 2, 4), "float32"), "labels": np.zeros((B, 2), "int32")}
    data = {"images": IMAGES, "labels": LABELS, "bounding_boxes": boxes}
    with assert_raises_first(ValueError, name, "Expected `bounding_box_format`", "bounding_box_format=None"):
        FUNCTIONS[name](data, num_classes=3)
    layer = {"cutmix_fn": kc.CutMix, "mixup_fn": kc.MixUp, "cutout_fn": kc.Cutout}[name](num_classes=3, seed=1)
    with pytest.raises(ValueError, match="Expected `bounding_box_format`"):
        layer(data, training=True)


# --- NumPy scalars are numbers (item 12) ------------------------------------------------------------------


def _run(fn, **kwargs):
    out = fn(np.arange(B * H * W * C, dtype="float32").reshape(B, H, W, C), LABELS, **kwargs)
    return [t.numpy() for t in out]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_take_numpy_scalars_as_python_numbers(name):
    special = {"size": np.int64(3)} if name == "cutout_fn" else {"alpha": np.float32(0.25),
                                                                   "per_sample": np.bool_(True)}
    numpy_kwargs = {"num_classes": LABELS.max() + 1, "probability": np.float32(1.0),
                    "label_smoothing": np.float64(0.125), "seed": np.int64(3), **special}
    python_kwargs = {k: v.item() for k, v in numpy_kwargs.items()}
    for got, want in zip(_run(FUNCTIONS[name], **numpy_kwargs), _run(FUNCTIONS[name], **python_kwargs)):
        np.testing.assert_array_equal(got, want)


def test_cutout_size_pair_and_fill_value_as_numpy_scalars():
    got = kc.cutout_fn(IMAGES, size=(np.int32(2), np.int64(3)), fill_value=np.float32(7.0), seed=1).numpy()
    holes = (got[..., 0] == 7.0).reshape(B, -1).sum(axis=1)
    assert 0 < holes.max() <= 6, holes  # a 2x3 hole (fewer pixels where clipped)


def test_numpy_scalars_still_checked():
    with assert_raises_first(ValueError, "`alpha`", "Received: alpha=-1.0"):
        kc.cutmix_fn(IMAGES, alpha=np.float32(-1))
    with assert_raises_first(ValueError, "num_classes", "Received: num_classes=0"):
        kc.CutMix(num_classes=np.int64(0))
    with assert_raises_first(ValueError, "`size`", "Received: size=0"):
        kc.Cutout(size=np.int64(0))
    with assert_raises_first((TypeError, ValueError), "seed", "Received: seed=1.5"):
        kc.CutMix(seed=np.float64(1.5))
