"""Tests for Dropout in neural_networks.layers.

The expected masks are drawn in the test from a generator seeded like the
layer's: ``keep = uniform >= p``, kept units scaled by ``1 / (1 - p)``.
"""

import numpy as np
import pytest

from neural_networks.layers import Dropout, initialize_layer
from neural_networks.utils import check_gradients


def test_train_mode_drops_with_the_seeded_mask_and_scales_the_rest():
    X = np.arange(1.0, 13.0).reshape(3, 4)
    layer = Dropout(0.25, seed=7)
    Y = layer.forward(X)
    keep = np.random.default_rng(7).random(X.shape) >= 0.25
    np.testing.assert_allclose(Y, np.where(keep, X / 0.75, 0.0), rtol=1e-15)
    dY = np.full(X.shape, 2.0)
    np.testing.assert_allclose(layer.backward(dY), np.where(keep, 2.0 / 0.75, 0.0), rtol=1e-15)


def test_hand_computed_values():
    # A generator whose draws are known: p = 0.5 drops exactly the draws below 0.5.
    draws = np.random.default_rng(3).random((2, 3))
    layer = Dropout(p=0.5, seed=3)
    Y = layer.forward(np.ones((2, 3)))
    for value, u in zip(Y.ravel(), draws.ravel()):
        assert value == (2.0 if u >= 0.5 else 0.0)


def test_test_mode_is_the_identity_and_draws_nothing():
    X = np.random.default_rng(0).normal(size=(5, 4))
    layer = Dropout(0.9, seed=1)
    state = layer.rng.bit_generator.state
    Y = layer.forward(X, mode="test")
    assert Y is X
    assert layer.rng.bit_generator.state == state
    dY = np.ones_like(X)
    assert np.array_equal(layer.backward(dY), dY)


def test_p_zero_keeps_everything():
    X = np.random.default_rng(0).normal(size=(4, 6))
    assert np.array_equal(Dropout(0.0, seed=0).forward(X), X)


def test_drop_rate_and_mean_are_kept_on_average():
    X = np.ones((200, 500))
    Y = Dropout(0.3, seed=0).forward(X)
    assert abs(np.mean(Y == 0) - 0.3) < 0.01
    assert abs(Y.mean() - 1.0) < 0.02  # inverted dropout keeps the expected value


def test_any_rank_and_float32():
    X = np.ones((2, 3, 3, 4), dtype=np.float32)
    Y = Dropout(0.5, seed=0).forward(X)
    assert Y.shape == X.shape and Y.dtype == np.float32
    assert set(np.unique(Y)) <= {0.0, 2.0}


@pytest.mark.parametrize("seed", range(3))
def test_numerical_gradient_with_a_fixed_mask(seed):
    rng = np.random.default_rng(seed)
    shape = (rng.integers(1, 5), rng.integers(1, 6))
    X = rng.normal(size=shape)
    dY = rng.normal(size=shape)
    layer = Dropout(0.4, seed=seed)

    def forward(x):
        layer.rng = np.random.default_rng(100 + seed)  # the same mask every call
        return layer.forward(x)

    forward(X)
    dX = layer.backward(dY)
    assert check_gradients(forward, dX, X, dY) < 1e-7


def test_initialize_layer_builds_dropout_and_rejects_other_arguments():
    layer = initialize_layer("dropout", p=0.2)
    assert isinstance(layer, Dropout) and layer.p == 0.2
    assert initialize_layer("dropout").p == 0.5
    with pytest.raises(ValueError, match=r"eps does not apply to 'dropout' \(it takes p\); got"):
        initialize_layer("dropout", eps=1e-5)
    with pytest.raises(ValueError, match=r"p does not apply to 'fully_connected'"):
        initialize_layer("fully_connected", n_out=3, p=0.5)


@pytest.mark.parametrize("p,exc,match", [
    (1.0, ValueError, r"Dropout: p must be in \[0, 1\)"),
    (1, ValueError, r"p must be in \[0, 1\)"),
    (-0.1, ValueError, r"p must be >= 0"),
    (1.5, ValueError, r"p must be <= 1"),
    ("0.5", TypeError, r"p must be a number"),
    (float("nan"), ValueError, r"p must be finite"),
])
def test_bad_p(p, exc, match):
    with pytest.raises(exc, match=match):
        Dropout(p)


def test_forward_and_backward_errors():
    layer = Dropout(0.5)
    with pytest.raises(TypeError, match=r"Dropout.forward: X must be a numpy array"):
        layer.forward([1.0, 2.0])
    with pytest.raises(ValueError, match=r"mode must be one of \['train', 'test'\]; got 'Train'"):
        layer.forward(np.ones((2, 2)), mode="Train")
    with pytest.raises(ValueError, match=r"before forward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"dLdY must have the shape of the last output \(2, 2\)"):
        layer.backward(np.ones((3, 2)))


def test_first_layer_returns_none():
    layer = Dropout(0.5, seed=0)
    layer.input_gradient = False
    layer.forward(np.ones((2, 2)))
    assert layer.backward(np.ones((2, 2))) is None
