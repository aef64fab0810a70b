"""The shared mixing path: one sampler and one applier per method behind functions and layers, arguments
checked once at the door, and errors that name the entry point the user called."""

import numpy as np
import pytest
import tensorflow as tf

import keras_cutmix as kc
from keras_cutmix.mixing import core, cutmix, cutout, errors, labels, mixup, sampling
from layer_checks import onehot_images, pixel_sources

B, H, W = 6, 5, 7
IMAGES = onehot_images(B, H, W)


@pytest.mark.parametrize("name", ["cutmix", "mixup", "cutout"])
def test_return_mix_is_what_the_sampler_draws_and_the_layer_applies(name):
    fn, layer, sample = {
        "cutmix": (kc.cutmix_fn, kc.CutMix(seed=7, alpha=0.5, per_sample=True),
                   lambda s: cutmix.sample_cutmix(s, B, H, W, alpha=0.5, per_sample=True)),
        "mixup": (kc.mixup_fn, kc.MixUp(seed=7, alpha=0.5, per_sample=True),
                  lambda s: mixup.sample_mixup(s, B, alpha=0.5, per_sample=True)),
        "cutout": (kc.cutout_fn, kc.Cutout(seed=7, size=3), lambda s: cutout.sample_cutout(s, B, H, W, size=3)),
    }[name]
    kwargs = {"size": 3} if name == "cutout" else {"alpha": 0.5, "per_sample": True}
    seed = tf.constant([7, 0], tf.int64)  # The first seed of a SeedGenerator(7).
    out, mix = fn(IMAGES, seed=seed, return_mix=True, **kwargs)
    drawn = sample(sampling.resolve_seed(seed))
    assert sorted(mix) == sorted(drawn)
    for key in mix:
        np.testing.assert_array_equal(mix[key], drawn[key])
    np.testing.assert_array_equal(out, fn(IMAGES, seed=seed, **kwargs))  # return_mix changes nothing else
    np.testing.assert_array_equal(layer(IMAGES, training=True), out)  # the layer's first call: same path
    sources = pixel_sources(out)
    if name == "cutmix":  # the weight of each own label is the share of its own pixels left
        np.testing.assert_allclose(sources[np.arange(B), np.arange(B)], mix["mix_weight"], rtol=1e-6)


def test_arguments_are_checked_once_per_function_call_and_never_per_layer_call(monkeypatch):
    calls = []
    check_args = core.check_args
    monkeypatch.setattr(core, "check_args", lambda **args: calls.append(sorted(args)) or check_args(**args))
    layer = kc.CutMix(seed=1, num_classes=B)
    assert len(calls) == 1
    layer((IMAGES, np.arange(B)), training=True)
    tf.function(lambda x: layer(x, training=True))(IMAGES)
    assert len(calls) == 1  # the layer's calls check nothing again
    kc.cutmix_fn(IMAGES, seed=1)
    assert len(calls) == 2


def test_errors_name_the_entry_point_and_only_while_it_runs():
    with pytest.raises(ValueError, match=r"ValueError: cutmix_fn: Expected `alpha`"):  # in tf.data's trace
        kc.map_with_seed(tf.data.Dataset.from_tensors(IMAGES), kc.cutmix_fn, seed=1, alpha=0.0)
    with pytest.raises(ValueError, match=r"^map_with_seed: Expected elements"):
        kc.map_with_seed(tf.data.Dataset.from_tensors((IMAGES,) * 4), kc.cutmix_fn)
    with pytest.raises(ValueError, match=r"CutMix: Expected images, a dict"):
        kc.CutMix()((IMAGES,) * 4, training=True)
    # Outside any entry point a core check has no prefix; a module outside the core may name itself.
    with pytest.raises(ValueError, match=r"^Expected integer class ids"):
        labels.one_hot(np.zeros((B, 2), "int32"), 3)
    with pytest.raises(ValueError, match=r"^one_hot_fn: Expected integer class ids"):
        labels.one_hot(np.zeros((B, 2), "int32"), 3, caller="one_hot_fn")
    with errors.caller("outer"):
        with pytest.raises(ValueError, match=r"^inner: Expected `alpha`"):
            with errors.caller("inner"):
                core.check_args(alpha=-1)
        with pytest.raises(ValueError, match=r"^outer: Expected `alpha`"):  # the inner name ended with its block
            core.check_args(alpha=-1)
