"""Tests for neural_networks.activations.

Hand-computed values, the derivative formulas written out here, numerical
gradient checks with utils.check_gradients, input immutability, numerical
stability at huge magnitudes, and input validation.
"""

import math
import warnings

import numpy as np
import pytest

from neural_networks.activations import (
    ELU,
    ArcTan,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    SoftMax,
    TanH,
    initialize_activation,
)
from neural_networks.utils import check_gradients

ALL = [Linear, Sigmoid, TanH, ArcTan, ReLU, LeakyReLU, ELU, SoftMax]
ELEMENTWISE = [Linear, Sigmoid, TanH, ArcTan, ReLU, LeakyReLU, ELU]

Z_HAND = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])

# Expected values worked out from each formula at z = -2, -0.5, 0, 0.5, 2.
FORWARD_HAND = {
    Linear: [-2.0, -0.5, 0.0, 0.5, 2.0],
    Sigmoid: [0.11920292202211755, 0.3775406687981454, 0.5, 0.6224593312018546,
              0.8807970779778823],
    TanH: [-0.9640275800758169, -0.46211715726000974, 0.0, 0.46211715726000974,
           0.9640275800758169],
    ArcTan: [-1.1071487177940904, -0.4636476090008061, 0.0, 0.4636476090008061,
             1.1071487177940904],
    ReLU: [0.0, 0.0, 0.0, 0.5, 2.0],
    LeakyReLU: [-0.02, -0.005, 0.0, 0.5, 2.0],
    ELU: [-0.8646647167633873, -0.3934693402873666, 0.0, 0.5, 2.0],
}

# Derivatives at the same points: sigmoid' = s(1-s), tanh' = 1 - t^2,
# arctan' = 1/(1+z^2), relu' = [z >= 0], leaky' = 1 or 0.01, elu' = 1 or e^z.
BACKWARD_HAND = {
    Linear: [1.0, 1.0, 1.0, 1.0, 1.0],
    Sigmoid: [0.10499358540350662, 0.2350037122015945, 0.25, 0.2350037122015945,
              0.10499358540350662],
    TanH: [0.07065082485316443, 0.7864477329659274, 1.0, 0.7864477329659274,
           0.07065082485316443],
    ArcTan: [0.2, 0.8, 1.0, 0.8, 0.2],
    ReLU: [0.0, 0.0, 1.0, 1.0, 1.0],
    LeakyReLU: [0.01, 0.01, 1.0, 1.0, 1.0],
    ELU: [0.1353352832366127, 0.6065306597126334, 1.0, 1.0, 1.0],
}


def derivative(cls, Z):
    """The analytic derivative of each element-wise activation, written independently."""
    if cls is Linear:
        return np.ones_like(Z)
    if cls is Sigmoid:
        s = 1.0 / (1.0 + np.exp(-Z))
        return s * (1.0 - s)
    if cls is TanH:
        return 1.0 / np.cosh(Z) ** 2
    if cls is ArcTan:
        return 1.0 / (1.0 + Z**2)
    if cls is ReLU:
        return (Z >= 0).astype(float)
    if cls is LeakyReLU:
        return np.where(Z >= 0, 1.0, 0.01)
    if cls is ELU:
        return np.where(Z >= 0, 1.0, np.exp(Z))
    raise AssertionError(cls)


def away_from_zero(rng, shape, margin=0.05):
    """Random values with |z| in [margin, 3]: no kink of ReLU/LeakyReLU/ELU nearby."""
    magnitude = rng.uniform(margin, 3.0, size=shape)
    return magnitude * rng.choice([-1.0, 1.0], size=shape)


# ---------------------------------------------------------------------------
# Hand-computed values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ELEMENTWISE, ids=lambda c: c.__name__)
def test_forward_hand_values(cls):
    out = cls().forward(Z_HAND.copy())
    np.testing.assert_allclose(out, [FORWARD_HAND[cls]], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", ELEMENTWISE, ids=lambda c: c.__name__)
def test_backward_hand_values(cls):
    dY = np.array([[1.0, 2.0, -1.0, 0.5, 3.0]])
    expected = np.array(BACKWARD_HAND[cls]) * dY
    np.testing.assert_allclose(cls().backward(Z_HAND.copy(), dY), expected, rtol=1e-12, atol=1e-15)


def test_call_is_forward():
    Z = np.array([[-1.0, 0.25, 3.0]])
    np.testing.assert_array_equal(TanH()(Z), np.tanh(Z))
    np.testing.assert_array_equal(ReLU()(Z), [[0.0, 0.25, 3.0]])


def test_relu_derivative_at_zero_is_one():
    Z = np.zeros((2, 3))
    dY = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_array_equal(ReLU().backward(Z, dY=dY), dY)


def test_softmax_hand_values():
    # Last row: e^-50 is ~1e-24 of e^5, negligible next to the 1/4 and 3/4.
    Z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [5.0, 5.0 + math.log(3.0), -50.0]])
    out = SoftMax().forward(Z)
    expected = [[0.09003057317038046, 0.24472847105479767, 0.6652409557748219],
                [1 / 3, 1 / 3, 1 / 3],
                [0.25, 0.75, 0.0]]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-20)


def test_softmax_shift_invariance_and_last_axis():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2, 3, 4, 5))
    out = SoftMax().forward(Z)
    np.testing.assert_allclose(out.sum(axis=-1), np.ones((2, 3, 4)), rtol=1e-12)
    np.testing.assert_allclose(SoftMax().forward(Z + 123.0), out, rtol=1e-10)
    e = np.exp(Z)
    np.testing.assert_allclose(out, e / e.sum(axis=-1, keepdims=True), rtol=1e-12)


def test_softmax_backward_hand_values():
    # s = [0.25, 0.75]; J = diag(s) - s s^T = [[0.1875, -0.1875], [-0.1875, 0.1875]]
    Z = np.array([[0.0, math.log(3.0)]])
    dY = np.array([[1.0, 3.0]])
    np.testing.assert_allclose(SoftMax().backward(Z, dY=dY), [[-0.375, 0.375]], rtol=1e-12)


# ---------------------------------------------------------------------------
# Backward against the analytic formula and against finite differences
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ELEMENTWISE, ids=lambda c: c.__name__)
@pytest.mark.parametrize("shape", [(4, 7), (2, 3, 4, 2)])
def test_backward_matches_derivative_formula(cls, shape):
    rng = np.random.default_rng(1)
    Z = away_from_zero(rng, shape)
    dY = rng.normal(size=shape)
    np.testing.assert_allclose(cls().backward(Z, dY), dY * derivative(cls, Z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("seed,shape", [(0, (3, 5)), (1, (4, 4)), (2, (2, 3, 2, 3))])
def test_gradient_check(cls, seed, shape):
    rng = np.random.default_rng(seed)
    Z = away_from_zero(rng, shape)
    dY = rng.normal(size=shape)
    act = cls()
    grad = act.backward(Z, dY)
    assert check_gradients(act.forward, grad, Z, dY) < 1e-7


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_backward_matches_explicit_jacobian(seed):
    rng = np.random.default_rng(seed)
    Z = rng.normal(scale=2.0, size=(4, 6))
    dY = rng.normal(size=(4, 6))
    got = SoftMax().backward(Z, dY)
    for n in range(Z.shape[0]):
        e = np.exp(Z[n] - Z[n].max())
        s = e / e.sum()
        jacobian = np.diag(s) - np.outer(s, s)
        np.testing.assert_allclose(got[n], jacobian @ dY[n], rtol=1e-10, atol=1e-14)


def test_softmax_backward_on_images_is_per_pixel():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(2, 2, 3, 4))
    dY = rng.normal(size=(2, 2, 3, 4))
    got = SoftMax().backward(Z, dY)
    for index in np.ndindex(Z.shape[:-1]):
        s = np.exp(Z[index]) / np.exp(Z[index]).sum()
        np.testing.assert_allclose(got[index], (np.diag(s) - np.outer(s, s)) @ dY[index],
                                   rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------
# Inputs are never modified, outputs never alias them
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_inputs_not_mutated(cls):
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(3, 4))
    dY = rng.normal(size=(3, 4))
    Z0, dY0 = Z.copy(), dY.copy()
    act = cls()
    out = act.forward(Z)
    grad = act.backward(Z, dY=dY)
    np.testing.assert_array_equal(Z, Z0)
    np.testing.assert_array_equal(dY, dY0)
    # The caller may modify what it gets back without corrupting its inputs.
    assert not np.shares_memory(out, Z)
    assert not np.shares_memory(grad, dY)
    assert not np.shares_memory(grad, Z)


# ---------------------------------------------------------------------------
# Numerical stability
# ---------------------------------------------------------------------------

# Limits of f and f' as z -> -inf and +inf (ELU: alpha (e^z - 1) -> -1).
LIMITS = {
    Linear: None,
    Sigmoid: ((0.0, 0.0), (1.0, 0.0)),
    TanH: ((-1.0, 0.0), (1.0, 0.0)),
    ArcTan: ((-math.pi / 2, 0.0), (math.pi / 2, 0.0)),
    ReLU: None,
    LeakyReLU: None,
    ELU: ((-1.0, 0.0), None),
}


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("magnitude", [1e3, 1e5, 1e300])
def test_stable_at_huge_inputs(cls, magnitude):
    Z = np.array([[-magnitude, -1.0, 0.0, 1.0, magnitude]])
    dY = np.array([[1.0, -2.0, 0.5, 3.0, -1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            act = cls()
            out = act.forward(Z)
            grad = act.backward(Z, dY)
    assert np.all(np.isfinite(out)), out
    assert np.all(np.isfinite(grad)), grad
    assert out.shape == Z.shape and grad.shape == Z.shape
    if cls is SoftMax:
        np.testing.assert_allclose(out, [[0.0, 0.0, 0.0, 0.0, 1.0]], atol=1e-300)
        return
    if cls in (Linear, ReLU, LeakyReLU):
        expected = {Linear: Z[0], ReLU: np.maximum(Z[0], 0),
                    LeakyReLU: np.where(Z[0] >= 0, Z[0], 0.01 * Z[0])}[cls]
        np.testing.assert_allclose(out[0], expected, rtol=1e-12)
        return
    low, high = LIMITS[cls]
    if cls is ArcTan:  # arctan(1e3) is still 1e-3 away from pi/2
        low, high = (math.atan(-magnitude), 0.0), (math.atan(magnitude), 0.0)
    np.testing.assert_allclose(out[0, 0], low[0], atol=1e-6)
    np.testing.assert_allclose(grad[0, 0], low[1], atol=1e-5)
    if high is not None:
        np.testing.assert_allclose(out[0, 4], high[0], atol=1e-6)
        np.testing.assert_allclose(grad[0, 4], high[1], atol=1e-5)


@pytest.mark.parametrize("magnitude", [1e3, 1e5, 1e300])
def test_softmax_stable_rows_of_equal_huge_values(magnitude):
    Z = np.array([[magnitude, magnitude], [-magnitude, -magnitude], [magnitude, -magnitude]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = SoftMax().forward(Z)
        grad = SoftMax().backward(Z, np.ones_like(Z))
    # An underflowed probability comes out as the smallest normal number, not 0.
    np.testing.assert_allclose(out, [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], atol=np.finfo(float).tiny)
    assert out.min() >= np.finfo(float).tiny
    # The rows of a softmax Jacobian sum to zero, so dY = 1 gives zero.
    np.testing.assert_allclose(grad, np.zeros_like(Z), atol=1e-15)


def test_arctan_backward_at_large_input_value():
    Z = np.array([1e3, -1e5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ArcTan().backward(Z, np.ones(2))
    np.testing.assert_allclose(got, [1 / (1 + 1e6), 1 / (1 + 1e10)], rtol=1e-12)


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_float32_stays_float32(cls):
    Z = np.array([[-1.5, 0.25, 2.0]], dtype=np.float32)
    act = cls()
    assert act.forward(Z).dtype == np.float32
    assert act.backward(Z, np.ones_like(Z)).dtype == np.float32


def test_integer_input_is_accepted_as_float():
    out = Sigmoid().forward(np.array([[0, 0]]))
    np.testing.assert_array_equal(out, [[0.5, 0.5]])


# ---------------------------------------------------------------------------
# Factory and bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name,cls", [
    ("linear", Linear), ("sigmoid", Sigmoid), ("tanh", TanH), ("arctan", ArcTan),
    ("relu", ReLU), ("softmax", SoftMax), ("leaky_relu", LeakyReLU), ("elu", ELU),
])
def test_initialize_activation(name, cls):
    assert type(initialize_activation(name)) is cls


BAD_CALLS = [  # (call on an activation, exception, message)
    (lambda act: act.forward([[1.0, 2.0]]), TypeError, r"\.forward: Z must be a numpy array"),
    (lambda act: act.forward(np.array([["a", "b"]])), TypeError, r"\.forward: Z must hold real numbers"),
    (lambda act: act.backward(np.zeros((2, 3)), np.zeros((3, 2))), ValueError,
     r"\.backward: Z and dY must have the same shape; got \(2, 3\) and \(3, 2\)"),
    (lambda act: act.backward(np.zeros((1, 2)), [[1.0, 1.0]]), TypeError,
     r"\.backward: dY must be a numpy array"),
    (lambda act: act.backward(np.zeros((1, 2)), np.array([["a", "b"]])), TypeError,
     r"\.backward: dY must hold real numbers"),
]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("call, error, message", BAD_CALLS)
def test_bad_input_is_refused_with_the_class_and_argument_named(cls, call, error, message):
    with pytest.raises(error, match=cls.__name__ + message):
        call(cls())


@pytest.mark.parametrize("name, error, message", [
    ("swish", ValueError, r"unknown activation 'swish'; valid names are \['arctan', 'elu', 'leaky_relu', "
                          r"'linear', 'relu', 'sigmoid', 'softmax', 'tanh'\]"),
    (3, TypeError, r"activation must be a string, one of \['arctan',"),
])
def test_initialize_activation_refuses_unknown_names(name, error, message):
    with pytest.raises(error, match=message):
        initialize_activation(name)


def test_repr_shows_the_hyperparameters():
    assert [repr(a) for a in (ReLU(), LeakyReLU(), ELU(alpha=0.5))] == [
        "ReLU()", "LeakyReLU(slope=0.01)", "ELU(alpha=0.5)"]
