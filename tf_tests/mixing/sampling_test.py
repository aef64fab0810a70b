"""Tests for keras_cutmix.mixing.sampling: seeds, uniforms, Beta, Gamma, permutations, centred boxes.

Distributions are checked against SciPy (KS tests, digamma/trigamma) with fixed seeds; bit-identity
across eager, tf.function and XLA is checked on many seeds with one traced function each.
"""

import numpy as np
import pytest
import tensorflow as tf
from scipy import special, stats

import numpy_reference as ref
from keras_cutmix.mixing import sampling

BETA_XLA_ALPHAS = (0.1, 1.0, 5.0)
NUM_SEEDS = 6


def _seed(a, b=0):
    return tf.constant([a, b], tf.int64)


def _draws(seed):
    """Everything the modes must agree on for one seed."""
    out = {
        "uniform": sampling.uniform(seed, [257]),
        "permutation": sampling.sample_permutation(seed, 7),
        "boxes": sampling.centred_boxes(seed, 5, 5, 7, 3, 4),
    }
    for alpha in BETA_XLA_ALPHAS:
        out[f"beta_{alpha}"] = sampling.sample_beta(seed, [64], alpha)
    return out


@pytest.fixture(scope="module")
def modes():
    """Draws for NUM_SEEDS seeds eagerly, in tf.function and under XLA (one trace / compile each)."""
    graph = tf.function(_draws)
    xla = tf.function(_draws, jit_compile=True)
    results = {"eager": [], "graph": [], "xla": []}
    for s in range(NUM_SEEDS):
        seed = _seed(s, 11)
        for name, fn in (("eager", _draws), ("graph", graph), ("xla", xla)):
            results[name].append({k: v.numpy() for k, v in fn(seed).items()})
    return results


# --- uniform ---------------------------------------------------------------------------------------


def test_uniform_same_seed_same_output_different_seeds_differ():
    a = sampling.uniform(_seed(1), [100]).numpy()
    b = sampling.uniform(_seed(1), [100]).numpy()
    c = sampling.uniform(_seed(2), [100]).numpy()
    d = sampling.uniform(_seed(1, 1), [100]).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert np.mean(a == c) < 0.05 and np.mean(a == d) < 0.05


def test_uniform_is_uniform_on_open_interval():
    u = sampling.uniform(_seed(3), [50_000]).numpy().astype(np.float64)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # Every decile gets its share: chi-square on 10 bins.
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_uniform_values_are_half_grid_points():
    # The docstring: "values are (k + 0.5) / 2**N for integer k" (N = _MANTISSA_BITS), so never 0 or 1.
    # k + 0.5 needs N + 1 significant bits, which float32 has only for N <= 23.
    bits = sampling._MANTISSA_BITS
    assert 20 <= bits <= 23, f"(k + 0.5) / 2**{bits} is not exact in float32"
    u = sampling.uniform(_seed(4), [4096]).numpy().astype(np.float64)
    scaled = u * 2.0 ** (bits + 1)  # 2k + 1: an odd integer
    bad = u[(scaled != np.round(scaled)) | (np.round(scaled) % 2 != 1)]
    assert bad.size == 0, f"{bad.size} of 4096 values are not (k + 0.5) / 2**{bits}, e.g. {bad[:3]}"
    assert u.min() > 0.0 and u.max() < 1.0


def test_uniform_never_returns_one():
    # Regression: with 24 random bits, (2**24 - 1 + 0.5) rounded to 2**24 in float32, so one value in
    # 2**24 was exactly 1.0; seed 15 drew it at index 4177262. Element i does not depend on the length.
    u = sampling.uniform(_seed(15), [4_177_263]).numpy()
    assert u.max() < 1.0, f"uniform returned {np.sum(u >= 1.0)} value(s) equal to 1.0"
    assert u.min() > 0.0


def test_draws_bit_identical_eager_graph_xla_for_uniform_permutation_boxes(modes):
    for s in range(NUM_SEEDS):
        for key in ("uniform", "permutation", "boxes", "beta_1.0"):
            for mode in ("graph", "xla"):
                np.testing.assert_array_equal(
                    modes[mode][s][key], modes["eager"][s][key], err_msg=f"{key} differs {mode}/eager, seed {s}"
                )


def test_split_seed_gives_distinct_deterministic_seeds():
    seeds = [s.numpy() for s in sampling.split_seed(_seed(5), 4)]
    again = [s.numpy() for s in sampling.split_seed(_seed(5), 4)]
    np.testing.assert_array_equal(np.stack(seeds), np.stack(again))
    assert all(s.shape == (2,) for s in seeds)
    assert len({tuple(s) for s in seeds}) == 4
    streams = [sampling.uniform(tf.constant(s), [32]).numpy() for s in seeds]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(streams[i], streams[j])


# --- permutations, Bernoulli, boxes -----------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, 1, 2, 7, 64])
def test_sample_permutation_is_a_permutation(batch_size):
    for s in range(3):
        perm = sampling.sample_permutation(_seed(s), batch_size).numpy()
        assert perm.dtype == np.int32 and perm.shape == (batch_size,)
        np.testing.assert_array_equal(np.sort(perm), np.arange(batch_size))
    same = sampling.sample_permutation(_seed(9), batch_size).numpy()
    np.testing.assert_array_equal(same, sampling.sample_permutation(_seed(9), batch_size).numpy())


def test_sample_permutation_uniform_over_permutations():
    draw = tf.function(lambda seed: sampling.sample_permutation(seed, 3))
    perms = [tuple(draw(_seed(s, 1)).numpy()) for s in range(600)]
    counts = np.array([perms.count(p) for p in {(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)}])
    assert counts.sum() == 600  # Nothing outside the 6 permutations of 3.
    assert stats.chisquare(counts).pvalue > 1e-3


def test_sample_apply():
    seed = _seed(6)
    assert not sampling.sample_apply(seed, 50, 0.0, True).numpy().any()
    assert sampling.sample_apply(seed, 50, 1.0, True).numpy().all()
    per_batch = sampling.sample_apply(seed, 50, 0.5, False).numpy()
    assert per_batch.shape == (50,) and len(set(per_batch.tolist())) == 1
    per_sample = sampling.sample_apply(seed, 20_000, 0.3, True).numpy()
    assert abs(per_sample.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 20_000)
    assert sampling.sample_apply(seed, 0, 0.5, True).numpy().shape == (0,)


def test_centred_boxes_follow_the_box_rule_with_uniform_centres():
    height, width, count = 7, 11, 22_000
    seed = _seed(7)
    boxes = sampling.centred_boxes(seed, count, height, width, 1, 1).numpy()
    assert boxes.dtype == np.int32
    # Side 1: y0 is the centre row and x0 the centre column; both uniform over the pixels.
    np.testing.assert_array_equal(boxes[:, 2] - boxes[:, 0], 1)
    np.testing.assert_array_equal(boxes[:, 3] - boxes[:, 1], 1)
    assert stats.chisquare(np.bincount(boxes[:, 0], minlength=height)).pvalue > 1e-3
    assert stats.chisquare(np.bincount(boxes[:, 1], minlength=width)).pvalue > 1e-3
    assert boxes[:, 0].max() == height - 1 and boxes[:, 1].max() == width - 1
    # Larger, odd and even sides from the same centres: the NumPy box rule, clipped.
    cy, cx = boxes[:, 0], boxes[:, 1]
    for box_h, box_w in ((3, 4), (6, 1), (20, 30)):
        got = sampling.centred_boxes(seed, count, height, width, box_h, box_w).numpy()
        np.testing.assert_array_equal(got, ref.centred_box_rule(cy, cx, box_h, box_w, height, width))


def test_box_area():
    boxes = tf.constant([[0, 0, 3, 4], [2, 1, 2, 5], [1, 1, 4, 2]], tf.int32)
    np.testing.assert_array_equal(sampling.box_area(boxes).numpy(), [12, 0, 3])
    np.testing.assert_array_equal(sampling.box_area(tf.reshape(boxes, [3, 1, 4])).numpy(), [[12], [0], [3]])


# --- Beta and Gamma ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.2, 0.5, 1.0, 2.0])
def test_sample_beta_distribution(alpha):
    n = 20_000
    raw = sampling.sample_beta(_seed(8), [n], alpha).numpy()
    assert raw.dtype == np.float32 and raw.shape == (n,)
    x = raw.astype(np.float64)
    assert x.min() >= 0.0 and x.max() <= 1.0
    dist = stats.beta(alpha, alpha)
    # float32 saturates near 0 and 1 for small alpha: test the law of x given x in [0.01, 0.99],
    # and the mass of that interval separately.
    lo, hi = 0.01, 0.99
    inside = x[(x >= lo) & (x <= hi)]
    mass = dist.cdf(hi) - dist.cdf(lo)
    assert abs(inside.size / n - mass) < 4 * np.sqrt(mass * (1 - mass) / n)
    truncated_cdf = lambda v: (dist.cdf(v) - dist.cdf(lo)) / mass  # noqa: E731
    assert stats.kstest(inside, truncated_cdf).pvalue > 1e-3
    # Symmetry of Beta(alpha, alpha).
    assert abs(np.mean(x < 0.5) - 0.5) < 4 * np.sqrt(0.25 / n)


def test_sample_beta_same_seed_same_output():
    for alpha in (0.3, 1.0, 4.0):
        a = sampling.sample_beta(_seed(10), [33], alpha).numpy()
        np.testing.assert_array_equal(a, sampling.sample_beta(_seed(10), [33], alpha).numpy())
        assert not np.array_equal(a, sampling.sample_beta(_seed(11), [33], alpha).numpy())


@pytest.mark.parametrize("alpha", BETA_XLA_ALPHAS)
def test_sample_beta_compiles_under_xla_and_matches_eager_closely(modes, alpha):
    for s in range(NUM_SEEDS):
        eager, xla = modes["eager"][s][f"beta_{alpha}"], modes["xla"][s][f"beta_{alpha}"]
        assert xla.dtype == np.float32 and xla.shape == (64,)
        np.testing.assert_allclose(xla, eager, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("alpha", [1.0])
def test_sample_beta_bit_identical_eager_graph_xla(modes, alpha):
    # Beta(1, 1) is drawn from raw bits: bit-identical in every mode. For alpha != 1 the Gamma sampler's
    # log/exp/cos round differently under XLA and Grappler (about 1 ulp): the test above bounds that, and
    # the README documents it.
    for mode in ("graph", "xla"):
        differing = [
            s for s in range(NUM_SEEDS)
            if not np.array_equal(modes[mode][s][f"beta_{alpha}"], modes["eager"][s][f"beta_{alpha}"])
        ]
        assert not differing, f"sample_beta(alpha={alpha}) differs {mode} vs eager for seeds {differing}"


@pytest.mark.parametrize("concentration", [0.1, 0.5, 1.0, 3.0])
def test_sample_log_gamma_moments(concentration):
    n = 40_000
    x = sampling.sample_log_gamma(_seed(12), [n], concentration).numpy().astype(np.float64)
    assert np.isfinite(x).all()
    # log Gamma(a, 1) has mean digamma(a) and variance trigamma(a).
    mean, var = special.digamma(concentration), special.polygamma(1, concentration)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / n)
    assert abs(x.var() / var - 1.0) < 0.05
    # And exp(x) is Gamma(a): KS against SciPy.
    assert stats.kstest(np.exp(x[:5000]), stats.gamma(concentration).cdf).pvalue > 1e-3


def test_sample_log_gamma_tensor_shape():
    x = sampling.sample_log_gamma(_seed(13), tf.constant([3, 4]), 2.0)
    assert x.shape == (3, 4)


# --- resolve_seed -----------------------------------------------------------------------------------


def test_resolve_seed_int_and_tensor():
    seed = sampling.resolve_seed(42)
    assert seed.dtype == tf.int64
    np.testing.assert_array_equal(seed.numpy(), [42, 0])
    np.testing.assert_array_equal(sampling.resolve_seed(-3).numpy(), [-3, 0])
    from_tensor = sampling.resolve_seed(tf.constant([7, 9], tf.int32))
    assert from_tensor.dtype == tf.int64
    np.testing.assert_array_equal(from_tensor.numpy(), [7, 9])
    np.testing.assert_array_equal(sampling.resolve_seed(np.array([1, 2])).numpy(), [1, 2])


def test_resolve_seed_none_differs_per_call_and_follows_global_seed():
    draws = {tuple(sampling.resolve_seed(None).numpy()) for _ in range(5)}
    assert len(draws) == 5
    assert sampling.resolve_seed(None).dtype == tf.int64
    try:
        tf.random.set_seed(123)
        first = [sampling.resolve_seed(None).numpy() for _ in range(2)]
        tf.random.set_seed(123)
        second = [sampling.resolve_seed(None).numpy() for _ in range(2)]
    finally:
        tf.random.set_seed(None)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize(
    "seed",
    [1.5, "3", True, [1, 2], tf.constant([1.0, 2.0]), tf.constant([1, 2, 3]), tf.constant(5)],
    ids=["float", "str", "bool", "list", "float_tensor", "three_ints", "scalar_tensor"],
)
def test_resolve_seed_bad_types_raise(seed):
    with pytest.raises(TypeError, match="seed"):
        sampling.resolve_seed(seed)
