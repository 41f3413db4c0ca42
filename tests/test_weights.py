"""Tests for neural_networks.weights: every initializer, the std/bound formulas
of the contract checked empirically on large shapes, conv fans, gains, modes,
seeding and input validation."""

import math

import numpy as np
import pytest

from neural_networks.weights import initialize_weights

NAMES = ["zeros", "ones", "identity", "uniform", "normal", "constant", "sparse",
         "he_uniform", "he_normal", "xavier_uniform", "xavier_normal"]

# The contract's gains, written out.
GAINS = [("linear", 1.0), ("sigmoid", 1.0), ("softmax", 1.0), ("tanh", 5.0 / 3.0),
         ("relu", math.sqrt(2.0)), (None, 1.0)]

DENSE = (400, 600)           # fan_in 400, fan_out 600
CONV = (3, 5, 48, 96)        # fan_in 3*5*48 = 720, fan_out 3*5*96 = 1440


def fan_in_out(shape):
    if len(shape) == 2:
        return shape[0], shape[1]
    return shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]


def assert_uniform(W, bound):
    """Uniform on [-bound, bound]: inside the bound, reaching close to it,
    std bound/sqrt(3) and mean 0."""
    assert np.abs(W).max() <= bound
    assert np.abs(W).max() > 0.99 * bound
    assert W.min() < -0.99 * bound and W.max() > 0.99 * bound
    assert np.std(W) == pytest.approx(bound / math.sqrt(3.0), rel=0.02)
    assert abs(W.mean()) < 0.02 * bound


def assert_normal(W, std):
    assert np.std(W) == pytest.approx(std, rel=0.02)
    assert abs(W.mean()) < 0.02 * std
    # a normal draw of this size goes past 3 std somewhere; a uniform one never does
    assert np.abs(W).max() > 3 * std


# ---------------------------------------------------------------------------
# Every name
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(4, 6), (3, 2, 4, 5)])
def test_every_name_gives_float64_of_the_shape(name, shape):
    W = initialize_weights(name)(shape, 0)
    assert W.shape == shape
    assert W.dtype == np.float64
    assert np.all(np.isfinite(W))


def test_zeros_ones_constant():
    np.testing.assert_array_equal(initialize_weights("zeros")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initialize_weights("ones")((3, 2, 1, 2)), np.ones((3, 2, 1, 2)))
    np.testing.assert_array_equal(initialize_weights("constant")((2, 2)), np.full((2, 2), 0.01))
    np.testing.assert_array_equal(initialize_weights("constant", value=-0.5)((1, 3)), [[-0.5, -0.5, -0.5]])


def test_identity_dense():
    np.testing.assert_array_equal(initialize_weights("identity")((3, 3)), np.eye(3))
    np.testing.assert_array_equal(initialize_weights("identity")((2, 3)),
                                  [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_identity_conv_is_centered_dirac():
    W = initialize_weights("identity")((3, 4, 2, 3))
    expected = np.zeros((3, 4, 2, 3))
    # center tap at ((3-1)//2, (4-1)//2) = (1, 1); channel c -> channel c
    expected[1, 1, 0, 0] = 1.0
    expected[1, 1, 1, 1] = 1.0
    np.testing.assert_array_equal(W, expected)


def test_uniform_and_normal_use_fan_in():
    shape = (500, 300)
    assert_uniform(initialize_weights("uniform")(shape, 1), 1 / math.sqrt(500))
    assert_normal(initialize_weights("normal")(shape, 2), 1 / math.sqrt(500))
    assert_uniform(initialize_weights("uniform")(CONV, 3), 1 / math.sqrt(720))


# ---------------------------------------------------------------------------
# Xavier and He: std/bound formulas, gains, fans
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("activation,g", GAINS)
@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
def test_xavier_uniform(activation, g, shape):
    fan_in, fan_out = fan_in_out(shape)
    std = g * math.sqrt(2.0 / (fan_in + fan_out))
    W = initialize_weights("xavier_uniform", activation=activation)(shape, 10)
    assert_uniform(W, math.sqrt(3.0) * std)


@pytest.mark.parametrize("activation,g", GAINS)
@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
def test_xavier_normal(activation, g, shape):
    fan_in, fan_out = fan_in_out(shape)
    W = initialize_weights("xavier_normal", activation=activation)(shape, 11)
    assert_normal(W, g * math.sqrt(2.0 / (fan_in + fan_out)))


@pytest.mark.parametrize("activation,g", GAINS)
@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_he_uniform(activation, g, shape, mode):
    fan_in, fan_out = fan_in_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    W = initialize_weights("he_uniform", activation=activation, mode=mode)(shape, 12)
    assert_uniform(W, math.sqrt(3.0) * g / math.sqrt(fan))


@pytest.mark.parametrize("activation,g", GAINS)
@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_he_normal(activation, g, shape, mode):
    fan_in, fan_out = fan_in_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    W = initialize_weights("he_normal", activation=activation, mode=mode)(shape, 13)
    assert_normal(W, g / math.sqrt(fan))


def test_conv_fans_are_not_kernel_rows():
    # fan_in = kh*kw*c_in = 2*3*40 = 240 and fan_out = 2*3*60 = 360, so the
    # Xavier std is sqrt(2/600); the original code used fans of kh (std ~0.8).
    W = initialize_weights("xavier_normal")((2, 3, 40, 60), 14)
    assert np.std(W) == pytest.approx(math.sqrt(2.0 / 600), rel=0.02)
    W = initialize_weights("he_normal", activation="relu")((2, 3, 40, 60), 15)
    assert np.std(W) == pytest.approx(math.sqrt(2.0) / math.sqrt(240), rel=0.02)


def test_mode_fan_out_differs_from_fan_in():
    shape = (100, 900)
    w_in = initialize_weights("he_normal", mode="fan_in")(shape, 16)
    w_out = initialize_weights("he_normal", mode="fan_out")(shape, 16)
    # 1/sqrt(100) versus 1/sqrt(900): a factor 3
    assert np.std(w_in) / np.std(w_out) == pytest.approx(3.0, rel=0.03)


# ---------------------------------------------------------------------------
# Sparse
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(50, 20), (3, 3, 4, 10), (16, 1)])
def test_sparse_has_15_nonzeros_per_column(shape):
    W = initialize_weights("sparse")(shape, 17)
    columns = W.reshape(-1, shape[-1])
    np.testing.assert_array_equal(np.count_nonzero(columns, axis=0), np.full(shape[-1], 15))


def test_sparse_small_fan_in_is_dense():
    W = initialize_weights("sparse")((10, 5), 18)
    assert np.count_nonzero(W) == 50


def test_sparse_nonzeros_are_standard_normal():
    W = initialize_weights("sparse")((100, 3000), 19)
    values = W[W != 0]
    assert values.size == 15 * 3000
    assert np.std(values) == pytest.approx(1.0, rel=0.02)
    assert abs(values.mean()) < 0.02
    # the nonzero rows differ from column to column
    assert len({tuple(np.flatnonzero(W[:, j])) for j in range(20)}) > 1


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["uniform", "normal", "sparse", "he_uniform", "he_normal",
                                  "xavier_uniform", "xavier_normal"])
def test_same_seed_same_weights(name):
    init = initialize_weights(name, activation="relu")
    a = init((6, 7), 5)
    b = init((6, 7), 5)
    c = init((6, 7), 6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    d = init((6, 7), np.random.default_rng(5))
    np.testing.assert_array_equal(a, d)


def test_generator_advances_between_draws():
    rng = np.random.default_rng(0)
    init = initialize_weights("xavier_uniform")
    assert not np.array_equal(init((3, 3), rng), init((3, 3), rng))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_list_shape_is_accepted_like_a_tuple():
    init = initialize_weights("xavier_uniform")
    np.testing.assert_array_equal(init([3, 4], rng=0), init((3, 4), rng=0))


BAD_CALLS = [  # (call, exception, message)
    (lambda: initialize_weights("glorot"), ValueError,
     r"unknown weight initializer 'glorot'; valid names are \[.*'he_normal'.*'xavier_uniform'.*\]"),
    (lambda: initialize_weights(None), TypeError, "weight initializer must be a string"),
    (lambda: initialize_weights("xavier_uniform", activation="swish"), ValueError,
     r"unknown activation 'swish'; valid names are \[.*'relu'"),
    (lambda: initialize_weights("he_normal", mode="fan_avg"), ValueError,
     "initialize_weights: mode must be 'fan_in' or 'fan_out'; got 'fan_avg'"),
    *[(lambda shape=shape: initialize_weights("xavier_uniform")(shape), ValueError,
       "initialize_weights: shape must be a tuple of positive ints")
      for shape in [(0, 3), (3, -1), [3, 0], (2.0, 3)]],
    (lambda: initialize_weights("xavier_uniform")((3, 4, 5)), ValueError,
     r"initialize_weights: shape must be \(n_in, n_out\) or \(kernel_rows, kernel_cols, in_channels, "
     r"out_channels\); got \(3, 4, 5\)"),
    (lambda: initialize_weights("identity")((2, 3, 4)), ValueError,
     r"initialize_weights: 'identity' needs a 2-D or 4-D shape; got \(2, 3, 4\)"),
]


@pytest.mark.parametrize("call, error, message", BAD_CALLS)
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()
