"""Tests for BatchNorm1D and BatchNorm2D in neural_networks.layers.

The expected values are written out with plain NumPy in each test (the
normalization, the running-average recurrence, and the backward pass in its
compact closed form, which the layer does not use), and every gradient is
also checked numerically in float64.
"""

import numpy as np
import pytest

from neural_networks.layers import BatchNorm1D, BatchNorm2D, initialize_layer
from neural_networks.utils import check_gradients

EPS = 1e-8
MOMENTUM = 0.9


def expected_forward(X, gamma, beta, mu, var, eps=EPS):
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def expected_backward(dY, X_hat, var, gamma, eps=EPS):
    """dL/dX of batch norm in its compact form (derived by hand):
    ``gamma / (m * std) * (m * dY - sum(dY) - X_hat * sum(dY * X_hat))``."""
    m = dY.shape[0]
    std = np.sqrt(var + eps)
    return gamma / (m * std) * (m * dY - dY.sum(axis=0) - X_hat * (dY * X_hat).sum(axis=0))


# ---------------------------------------------------------------------------
# The course's test, written out
# ---------------------------------------------------------------------------


def test_batchnorm1d_course_style():
    rng = np.random.default_rng(189)
    batch, n_in = 8, 5
    layer = BatchNorm1D(weight_init="xavier_uniform", eps=EPS, momentum=MOMENTUM)
    layer._init_parameters((batch, n_in))
    assert set(layer.parameters) == {"gamma", "beta"}
    assert set(layer.gradients) == {"gamma", "beta"}
    assert {"X", "X_hat", "mu", "var", "running_mu", "running_var"} <= set(layer.cache)
    assert np.array_equal(layer.parameters["gamma"], np.ones((1, n_in)))
    assert np.array_equal(layer.parameters["beta"], np.zeros((1, n_in)))
    assert np.array_equal(layer.cache["running_mu"], np.zeros((1, n_in)))
    assert np.array_equal(layer.cache["running_var"], np.zeros((1, n_in)))

    gamma = rng.uniform(0.5, 2.0, size=(1, n_in))
    beta = rng.normal(size=(1, n_in))
    layer.parameters["gamma"] = gamma.copy()
    layer.parameters["beta"] = beta.copy()

    running_mu = np.zeros((1, n_in))
    running_var = np.zeros((1, n_in))
    for _ in range(10):
        X = rng.normal(loc=3.0, scale=2.0, size=(batch, n_in))
        Y = layer.forward(X, mode="train")
        mu = X.sum(axis=0, keepdims=True) / batch
        var = ((X - mu) ** 2).sum(axis=0, keepdims=True) / batch  # biased
        running_mu = MOMENTUM * running_mu + (1 - MOMENTUM) * mu
        running_var = MOMENTUM * running_var + (1 - MOMENTUM) * var
        np.testing.assert_allclose(Y, expected_forward(X, gamma, beta, mu, var), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.cache["mu"], mu, rtol=1e-12)
        np.testing.assert_allclose(layer.cache["var"], var, rtol=1e-12)
        np.testing.assert_allclose(layer.cache["X_hat"], (X - mu) / np.sqrt(var + EPS), rtol=1e-12, atol=1e-12)
        assert layer.cache["X"] is X
        np.testing.assert_allclose(layer.cache["running_mu"], running_mu, rtol=1e-12)
        np.testing.assert_allclose(layer.cache["running_var"], running_var, rtol=1e-12)

    # Test mode: the running statistics, and nothing changes.
    before = {k: np.copy(v) for k, v in layer.cache.items()}
    X_test = rng.normal(loc=3.0, scale=2.0, size=(3, n_in))
    Y_test = layer.forward(X_test, mode="test")
    np.testing.assert_allclose(Y_test, expected_forward(X_test, gamma, beta, running_mu, running_var),
                               rtol=1e-12, atol=1e-12)
    for key, value in before.items():
        assert np.array_equal(layer.cache[key], value), key

    # Backward from a hand-set cache.
    X = rng.normal(size=(batch, n_in))
    mu = X.mean(axis=0, keepdims=True)
    var = X.var(axis=0, keepdims=True)
    X_hat = (X - mu) / np.sqrt(var + EPS)
    layer.cache["X"], layer.cache["X_hat"], layer.cache["mu"], layer.cache["var"] = X, X_hat, mu, var
    dY = rng.normal(size=(batch, n_in))
    dX = layer.backward(dY)
    np.testing.assert_allclose(dX, expected_backward(dY, X_hat, var, gamma), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.gradients["gamma"], (dY * X_hat).sum(axis=0, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(layer.gradients["beta"], dY.sum(axis=0, keepdims=True), rtol=1e-12)
    assert layer.gradients["gamma"].shape == layer.gradients["beta"].shape == (1, n_in)
    # ... and the same gradient numerically, through the batch statistics.
    assert check_gradients(lambda x: layer.forward(x), dX, X.copy(), dY) < 1e-7


def test_hand_computed_two_by_one():
    # X = [1, 3]: mu = 2, var = 1, X_hat = [-1, 1] (up to eps); gamma 2, beta 0.5.
    layer = BatchNorm1D(eps=EPS, momentum=MOMENTUM)
    X = np.array([[1.0], [3.0]])
    layer.forward(X)  # builds the layer
    layer.cache["running_mu"][:] = 0
    layer.cache["running_var"][:] = 0
    layer.parameters["gamma"] = np.array([[2.0]])
    layer.parameters["beta"] = np.array([[0.5]])
    Y = layer.forward(X)
    np.testing.assert_allclose(Y, [[-1.5], [2.5]], rtol=1e-7)
    np.testing.assert_allclose(layer.cache["running_mu"], [[0.2]])
    np.testing.assert_allclose(layer.cache["running_var"], [[0.1]])
    # With two rows the output is always +-gamma + beta: nothing flows back to X.
    dX = layer.backward(np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(dX, [[0.0], [0.0]], atol=1e-7)
    np.testing.assert_allclose(layer.gradients["gamma"], [[-1.0]], rtol=1e-7)
    np.testing.assert_allclose(layer.gradients["beta"], [[1.0]])
    # Test mode: (X - 0.2) / sqrt(0.1 + eps) * 2 + 0.5.
    np.testing.assert_allclose(layer.forward(np.array([[1.2]]), mode="test"),
                               [[2 / np.sqrt(0.1) + 0.5]], rtol=1e-7)


def test_momentum_one_keeps_and_zero_replaces_the_running_statistics():
    X = np.array([[0.0, 1.0], [2.0, 5.0], [4.0, 9.0]])
    keep = BatchNorm1D(momentum=1.0)
    keep.forward(X)
    assert np.array_equal(keep.cache["running_mu"], np.zeros((1, 2)))
    replace = BatchNorm1D(momentum=0.0)
    replace.forward(X)
    np.testing.assert_allclose(replace.cache["running_mu"], [[2.0, 5.0]])
    np.testing.assert_allclose(replace.cache["running_var"], [[8 / 3, 32 / 3]])


def test_initialize_layer_builds_batchnorm_with_its_arguments():
    layer = initialize_layer("batchnorm1d", eps=1e-5, momentum=0.5)
    assert isinstance(layer, BatchNorm1D) and not isinstance(layer, BatchNorm2D)
    assert layer.eps == 1e-5 and layer.momentum == 0.5
    default = initialize_layer("batchnorm1d")
    assert default.eps == 1e-8 and default.momentum == 0.9
    assert isinstance(initialize_layer("batchnorm2d"), BatchNorm2D)
    assert "momentum=0.5" in repr(layer)


def test_float32_input_keeps_float32():
    X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    layer = BatchNorm1D()
    Y = layer.forward(X)
    assert Y.dtype == np.float32
    assert layer.cache["running_var"].dtype == np.float32
    assert layer.backward(np.ones_like(X)).dtype == np.float32


# ---------------------------------------------------------------------------
# Numerical gradient checks (float64, seeded random shapes)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_batchnorm1d_gradients(seed):
    rng = np.random.default_rng(seed)
    batch, n_in = rng.integers(2, 9), rng.integers(1, 6)
    X = rng.normal(loc=rng.normal(), scale=rng.uniform(0.5, 3), size=(batch, n_in))
    layer = BatchNorm1D(eps=1e-5)
    layer.forward(X)
    layer.parameters["gamma"] = rng.normal(size=(1, n_in))
    layer.parameters["beta"] = rng.normal(size=(1, n_in))
    dY = rng.normal(size=(batch, n_in))
    layer.forward(X)
    dX = layer.backward(dY)
    grads = {k: v.copy() for k, v in layer.gradients.items()}
    assert check_gradients(lambda x: layer.forward(x), dX, X, dY) < 1e-7
    for name in ("gamma", "beta"):
        fn = layer.forward_with_param(name, X)
        assert check_gradients(fn, grads[name], layer.parameters[name], dY) < 1e-7, name


@pytest.mark.parametrize("seed", range(3))
def test_batchnorm2d_gradients_and_per_channel_statistics(seed):
    rng = np.random.default_rng(seed)
    shape = (rng.integers(1, 4), rng.integers(2, 5), rng.integers(2, 5), rng.integers(1, 4))
    X = rng.normal(loc=2.0, size=shape)
    layer = BatchNorm2D(eps=1e-5)
    layer.forward(X)
    C = shape[-1]
    gamma, beta = rng.normal(size=(1, C)), rng.normal(size=(1, C))
    layer.parameters["gamma"], layer.parameters["beta"] = gamma, beta
    Y = layer.forward(X)
    # Per channel: every example and position of that channel.
    for c in range(C):
        values = X[..., c]
        expected = gamma[0, c] * (values - values.mean()) / np.sqrt(values.var() + 1e-5) + beta[0, c]
        np.testing.assert_allclose(Y[..., c], expected, rtol=1e-10, atol=1e-12)
    assert layer.cache["mu"].shape == layer.cache["running_mu"].shape == (1, C)

    dY = rng.normal(size=shape)
    dX = layer.backward(dY)
    grads = {k: v.copy() for k, v in layer.gradients.items()}
    # The closed form on the (examples * positions, channels) matrix.
    X_hat = layer.cache["X_hat"].reshape(-1, C)
    expected = expected_backward(dY.reshape(-1, C), X_hat, layer.cache["var"], gamma, eps=1e-5)
    np.testing.assert_allclose(dX, expected.reshape(shape), rtol=1e-8, atol=1e-12)
    assert check_gradients(lambda x: layer.forward(x), dX, X, dY) < 1e-7
    for name in ("gamma", "beta"):
        fn = layer.forward_with_param(name, X)
        assert check_gradients(fn, grads[name], layer.parameters[name], dY) < 1e-7, name


def test_first_layer_fills_gradients_and_returns_none():
    layer = BatchNorm1D()
    X = np.arange(6.0).reshape(3, 2)
    layer.forward(X)
    layer.input_gradient = False
    assert layer.backward(np.ones((3, 2))) is None
    np.testing.assert_allclose(layer.gradients["beta"], [[3.0, 3.0]])


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"eps": 0}, ValueError, r"BatchNorm1D: eps must be > 0"),
    ({"eps": -1e-5}, ValueError, r"eps must be > 0"),
    ({"eps": "small"}, TypeError, r"eps must be a number"),
    ({"momentum": 1.5}, ValueError, r"momentum must be <= 1"),
    ({"momentum": -0.1}, ValueError, r"momentum must be >= 0"),
    ({"momentum": None}, TypeError, r"momentum must be a number"),
    ({"weight_init": "nope"}, ValueError, r"nope"),
])
def test_constructor_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        BatchNorm1D(**kwargs)


def test_initialize_layer_rejects_arguments_batchnorm_does_not_take():
    with pytest.raises(ValueError, match=r"p does not apply to 'batchnorm1d' \(it takes weight_init, eps, momentum\); got 0.2"):
        initialize_layer("batchnorm1d", p=0.2)
    with pytest.raises(ValueError, match=r"n_out does not apply to 'batchnorm1d'"):
        initialize_layer("batchnorm1d", n_out=4)


def test_forward_errors():
    layer = BatchNorm1D()
    with pytest.raises(TypeError, match=r"BatchNorm1D.forward: X must be a numpy array"):
        layer.forward([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"X must have 2 dimensions"):
        layer.forward(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"mode must be one of \['train', 'test'\]; got 'eval'"):
        layer.forward(np.ones((2, 3)), mode="eval")
    with pytest.raises(ValueError, match=r"empty batch"):
        layer.forward(np.ones((0, 3)))
    assert layer.n_in is None  # nothing was built by the failed calls
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"X has 4 features .* n_in=3"):
        layer.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"X must have 4 dimensions"):
        BatchNorm2D().forward(np.ones((2, 3)))


def test_hand_set_parameters_and_cache_of_the_wrong_shape_are_named():
    layer = BatchNorm1D()
    layer.forward(np.arange(6.0).reshape(3, 2))
    layer.parameters["gamma"] = np.ones(2)
    with pytest.raises(ValueError, match=r"parameters\['gamma'\] must be an array of shape \(1, 2\)"):
        layer.forward(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"parameters\['gamma'\]"):
        layer.backward(np.ones((3, 2)))
    layer.parameters["gamma"] = np.ones((1, 2))
    layer.cache["running_var"] = None
    with pytest.raises(ValueError, match=r"cache\['running_var'\] must be an array of shape \(1, 2\)"):
        layer.forward(np.ones((3, 2)), mode="test")
    layer.cache["running_var"] = np.zeros((1, 2))
    layer.cache["mu"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"cache\['mu'\] must be an array of shape \(1, 2\)"):
        layer.backward(np.ones((3, 2)))


def test_backward_errors():
    layer = BatchNorm1D()
    with pytest.raises(ValueError, match=r"before forward"):
        layer.backward(np.ones((2, 2)))
    layer._init_parameters((2, 2))
    with pytest.raises(ValueError, match=r"before forward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.arange(4.0).reshape(2, 2))
    with pytest.raises(ValueError, match=r"cache\['X'\] must be an array of the shape of dLdY \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"dLdY must be a numpy array"):
        layer.backward("gradient")
