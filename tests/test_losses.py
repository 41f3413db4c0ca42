"""Tests for neural_networks.losses: hand-computed values, gradient checks,
the course's names and signatures, and input validation."""

import math

import numpy as np
import pytest

from neural_networks.losses import L2, CrossEntropy, initialize_loss
from neural_networks.utils import check_gradients


def random_probabilities(rng, shape):
    """Rows of probabilities, each entry in about [0.03, 0.6]: far from log's pole."""
    P = rng.uniform(0.5, 3.0, size=shape)
    return P / P.sum(axis=1, keepdims=True)


def one_hot(rng, batch, classes):
    Y = np.zeros((batch, classes))
    Y[np.arange(batch), rng.integers(0, classes, size=batch)] = 1.0
    return Y


# ---------------------------------------------------------------------------
# Hand-computed values
# ---------------------------------------------------------------------------


def test_cross_entropy_hand_values():
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    Y_hat = np.array([[0.2, 0.5, 0.3], [0.25, 0.25, 0.5]])
    loss = CrossEntropy("cross_entropy")
    # -(ln 0.5 + ln 0.25) / 2 = (ln 2 + ln 4) / 2
    assert loss.forward(Y, Y_hat) == pytest.approx(1.0397207708399179, rel=1e-12)
    assert loss(Y, Y_hat) == pytest.approx(1.0397207708399179, rel=1e-12)
    # -Y / (m * Y_hat) with m = 2
    np.testing.assert_allclose(loss.backward(Y, Y_hat), [[0.0, -1.0, 0.0], [-2.0, 0.0, 0.0]],
                               rtol=1e-12)


def test_cross_entropy_soft_targets_hand_values():
    Y = np.array([[0.5, 0.5]])
    Y_hat = np.array([[0.5, 0.25]])
    loss = CrossEntropy("cross_entropy")
    # -(0.5 ln 0.5 + 0.5 ln 0.25) = 1.5 ln 2
    assert loss.forward(Y, Y_hat) == pytest.approx(1.5 * 0.6931471805599453, rel=1e-12)
    np.testing.assert_allclose(loss.backward(Y, Y_hat), [[-1.0, -2.0]], rtol=1e-12)


def test_l2_hand_values():
    Y = np.array([[1.0, 2.0], [3.0, 4.0]])
    Y_hat = np.array([[1.5, 2.0], [2.0, 5.0]])
    loss = L2("l2")
    # squared differences 0.25 + 0 + 1 + 1 = 2.25, over 2m = 4
    assert loss.forward(Y, Y_hat) == pytest.approx(0.5625, rel=1e-12)
    assert loss(Y, Y_hat) == pytest.approx(0.5625, rel=1e-12)
    np.testing.assert_allclose(loss.backward(Y, Y_hat), [[0.25, 0.0], [-0.5, 0.5]], rtol=1e-12)


def test_forward_returns_a_python_float():
    Y = np.array([[1.0, 0.0]])
    Y_hat = np.array([[0.5, 0.5]])
    assert type(CrossEntropy("cross_entropy").forward(Y, Y_hat)) is float
    assert type(L2("l2").forward(Y, Y_hat)) is float


def test_losses_are_batch_means():
    # Repeating a batch must not change the loss; the gradient halves per entry.
    Y = np.array([[0.0, 1.0]])
    Y_hat = np.array([[0.3, 0.7]])
    for loss in (CrossEntropy("cross_entropy"), L2("l2")):
        single = loss.forward(Y, Y_hat)
        double = loss.forward(np.vstack([Y, Y]), np.vstack([Y_hat, Y_hat]))
        assert double == pytest.approx(single, rel=1e-12)
        g1 = loss.backward(Y, Y_hat)
        g2 = loss.backward(np.vstack([Y, Y]), np.vstack([Y_hat, Y_hat]))
        np.testing.assert_allclose(g2, np.vstack([g1, g1]) / 2, rtol=1e-12)


def test_cross_entropy_zero_probability_gives_large_finite_loss():
    Y = np.array([[1.0, 0.0]])
    Y_hat = np.array([[0.0, 1.0]])
    loss = CrossEntropy("cross_entropy")
    value = loss.forward(Y, Y_hat)
    assert math.isfinite(value) and value > 700  # -ln(smallest normal double) ~ 708
    grad = loss.backward(Y, Y_hat)
    assert np.all(np.isfinite(grad))
    assert grad[0, 0] < -1e300 and grad[0, 1] == 0.0


def test_cross_entropy_zero_target_with_zero_probability_adds_nothing():
    Y = np.array([[0.0, 1.0]])
    Y_hat = np.array([[0.0, 1.0]])
    assert CrossEntropy("cross_entropy").forward(Y, Y_hat) == 0.0


# ---------------------------------------------------------------------------
# Gradient checks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed,batch,classes", [(0, 1, 3), (1, 4, 5), (2, 7, 2)])
def test_cross_entropy_gradient_check(seed, batch, classes):
    rng = np.random.default_rng(seed)
    Y = one_hot(rng, batch, classes)
    Y_hat = random_probabilities(rng, (batch, classes))
    loss = CrossEntropy("cross_entropy")
    grad = loss.backward(Y, Y_hat)
    error = check_gradients(lambda p: np.array(loss.forward(Y, p)), grad, Y_hat, np.array(1.0))
    assert error < 1e-7


@pytest.mark.parametrize("seed", [3, 4])
def test_cross_entropy_gradient_check_soft_targets(seed):
    rng = np.random.default_rng(seed)
    Y = random_probabilities(rng, (3, 4))
    Y_hat = random_probabilities(rng, (3, 4))
    loss = CrossEntropy("cross_entropy")
    error = check_gradients(lambda p: np.array(loss.forward(Y, p)), loss.backward(Y, Y_hat),
                            Y_hat, np.array(1.0))
    assert error < 1e-7


@pytest.mark.parametrize("seed,shape", [(0, (1, 1)), (1, (4, 3)), (2, (6, 2))])
def test_l2_gradient_check(seed, shape):
    rng = np.random.default_rng(seed)
    Y = rng.normal(size=shape)
    Y_hat = rng.normal(size=shape)
    loss = L2("l2")
    error = check_gradients(lambda p: np.array(loss.forward(Y, p)), loss.backward(Y, Y_hat),
                            Y_hat, np.array(1.0))
    assert error < 1e-7


# ---------------------------------------------------------------------------
# Inputs untouched, names, factory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [CrossEntropy("cross_entropy"), L2("l2")], ids=["ce", "l2"])
def test_inputs_not_mutated(loss):
    rng = np.random.default_rng(5)
    Y = one_hot(rng, 3, 4)
    Y_hat = random_probabilities(rng, (3, 4))
    Y0, Y_hat0 = Y.copy(), Y_hat.copy()
    loss.forward(Y, Y_hat)
    grad = loss.backward(Y, Y_hat)
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(Y_hat, Y_hat0)
    assert not np.shares_memory(grad, Y_hat) and not np.shares_memory(grad, Y)


def test_names_are_positional_and_stored():
    assert CrossEntropy("cross_entropy").name == "cross_entropy"
    assert L2("l2").name == "l2"
    assert (CrossEntropy().name, L2().name) == ("cross_entropy", "l2")


@pytest.mark.parametrize("name,cls,stored", [
    ("cross_entropy", CrossEntropy, "cross_entropy"),
    ("l2", L2, "l2"),
    ("L2", L2, "l2"),
])
def test_initialize_loss(name, cls, stored):
    loss = initialize_loss(name)
    assert type(loss) is cls
    assert loss.name == stored


@pytest.mark.parametrize("name, error, message", [
    ("mse", ValueError, r"unknown loss 'mse'; valid names are \['cross_entropy', 'l2'\]"),
    (None, TypeError, r"loss must be a string, one of \['cross_entropy', 'l2'\]; got None"),
])
def test_initialize_loss_refuses_unknown_names(name, error, message):
    with pytest.raises(error, match=message):
        initialize_loss(name)


BAD_CALLS = [  # (Y, Y_hat, exception, message after "<Loss>.<method>: ")
    (np.zeros((2, 3)), np.full((2, 4), 0.25), ValueError,
     r"Y and Y_hat must have the same shape; got \(2, 3\) and \(2, 4\)"),
    (np.zeros((1, 2)), [[0.5, 0.5]], TypeError, "Y_hat must be a numpy array"),
    ([[0.0, 1.0]], np.full((1, 2), 0.5), TypeError, "Y must be a numpy array"),
    (np.array([["a", "b"]]), np.full((1, 2), 0.5), TypeError, "Y must hold real numbers"),
    (np.zeros((0, 3)), np.zeros((0, 3)), ValueError, r"Y must hold at least one example; got shape \(0, 3\)"),
]


@pytest.mark.parametrize("loss", [CrossEntropy("cross_entropy"), L2("l2")], ids=["ce", "l2"])
@pytest.mark.parametrize("method", ["forward", "backward"])
@pytest.mark.parametrize("Y, Y_hat, error, message", BAD_CALLS)
def test_bad_input_is_refused_with_the_method_and_argument_named(loss, method, Y, Y_hat, error, message):
    with pytest.raises(error, match=rf"{type(loss).__name__}\.{method}: {message}"):
        getattr(loss, method)(Y, Y_hat)


def test_cross_entropy_follows_the_formula_for_any_positive_y_hat():
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    Y_hat = np.array([[0.5, 1.5], [2.0, 0.25]])  # not probabilities: the formula still holds
    loss = CrossEntropy("cross_entropy")
    assert loss.forward(Y, Y_hat) == pytest.approx(-(np.log(1.5) + np.log(2.0)) / 2, rel=1e-15)
    np.testing.assert_allclose(loss.backward(Y, Y_hat), [[0, -1 / 3], [-1 / 4, 0]], rtol=1e-15)


def test_integer_targets_take_the_predictions_precision():
    Y = np.array([[0, 1], [1, 0]])
    Y_hat = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)
    assert CrossEntropy("cross_entropy").backward(Y, Y_hat).dtype == np.float32
