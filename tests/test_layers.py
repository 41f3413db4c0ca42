"""Tests for neural_networks.layers.

* hand-computed tiny cases for FullyConnected, Conv2D, Pool2D and Flatten;
* Conv2D and Pool2D against the loop oracle of ``tests/loops.py`` (forward
  and backward) on many geometries, in float64 and float32;
* numerical gradient checks (utils.check_gradients) for X, W and b;
* the layer API (lazy parameters, gradients, caches, initialize_layer, seeds,
  dtypes) and input validation.
"""

from collections import OrderedDict

import loops
import numpy as np
import pytest

from neural_networks.activations import ReLU
from neural_networks.layers import (
    Conv2D,
    Dropout,
    Flatten,
    FullyConnected,
    Pool2D,
    initialize_layer,
    layer_arguments,
)
from neural_networks.utils import check_gradients

# Each activation the conv cases use, with its derivative, written here.
ACTIVATIONS = {
    "linear": (lambda Z: Z, lambda Z: np.ones_like(Z)),
    "tanh": (np.tanh, lambda Z: 1 - np.tanh(Z) ** 2),
    "relu": (lambda Z: np.maximum(Z, 0), lambda Z: (Z >= 0).astype(Z.dtype)),
}


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def ref_conv(X, W, b, stride, pad, activation, dY):
    """The oracle's conv through an activation: ``Y, dX, dW, db`` for ``dY = dL/dY``."""
    f, df = ACTIVATIONS[activation]
    stride, pads = pair(stride), loops.pads_for(pad, W.shape[:2])
    Z = loops.conv2d_forward(X, W, b, stride, pads)
    return (f(Z), *loops.conv2d_backward(X, W, dY * df(Z), stride, pads))


def ref_pool(X, kernel, stride, pad, mode, dY):
    """The oracle's pooling: ``Y, dX``."""
    kernel, stride = pair(kernel), pair(stride)
    pads = loops.pads_for(pad, kernel)
    return (loops.pool2d_forward(X, kernel, stride, pads, mode),
            loops.pool2d_backward(X, dY, kernel, stride, pads, mode))


def distinct_values(rng, shape, spacing=0.01):
    """A random permutation of an evenly spaced grid: no ties, no near-ties."""
    size = int(np.prod(shape))
    return (rng.permutation(size) - size / 2 + 0.5) * spacing


def set_params(layer, X, W, b):
    """Build a layer's parameters, then set them by hand (as the graders do)."""
    layer._init_parameters(X.shape)
    layer.parameters["W"] = W
    layer.parameters["b"] = b


# Conv2D settings: (kernel_shape, stride, pad, activation, input shape, n_out)
CONV_CASES = [
    (3, 1, "same", "linear", (2, 5, 5, 2), 3),
    (3, 2, "same", "tanh", (2, 6, 5, 2), 2),
    (2, 1, "same", "linear", (1, 4, 5, 3), 2),
    (4, 3, "same", "linear", (2, 7, 6, 1), 2),
    ((2, 3), 1, "same", "tanh", (2, 5, 4, 2), 3),
    ((3, 2), 2, "valid", "linear", (2, 6, 7, 2), 2),
    ((1, 3), (1, 2), 1, "linear", (1, 4, 5, 2), 2),
    (2, 3, "valid", "linear", (2, 7, 8, 2), 2),
    (3, 1, 2, "tanh", (1, 3, 4, 2), 2),
    ((2, 4), (3, 1), "same", "linear", (2, 6, 5, 2), 2),
    (1, 1, "valid", "linear", (2, 3, 3, 3), 4),
    (5, 2, 1, "linear", (1, 6, 7, 1), 2),
    ((4, 2), (2, 3), 2, "tanh", (1, 5, 6, 2), 2),
    (5, 1, "same", "linear", (1, 3, 2, 2), 2),
    (2, 3, "valid", "linear", (2, 2, 2, 1), 2),
]


def conv_id(case):
    kernel, stride, pad, act, shape, n_out = case
    return f"k{kernel}-s{stride}-p{pad}-{act}-{'x'.join(map(str, shape))}-o{n_out}"


def make_conv(case, seed):
    kernel, stride, pad, act, shape, n_out = case
    rng = np.random.default_rng(seed)
    X = rng.normal(size=shape)
    kh, kw = pair(kernel)
    W = rng.normal(size=(kh, kw, shape[3], n_out))
    b = rng.normal(size=(1, n_out))
    layer = Conv2D(n_out, kernel, activation=act, stride=stride, pad=pad)
    set_params(layer, X, W, b)
    return layer, X, W, b, rng


# Pool2D settings: (kernel_shape, stride, pad, input shape)
POOL_CASES = [
    (2, 2, 0, (2, 4, 4, 2)),
    (3, 1, 0, (2, 5, 5, 2)),
    (3, 2, 1, (2, 5, 6, 2)),
    (2, 1, "same", (1, 4, 5, 3)),
    ((2, 3), (1, 2), "same", (2, 5, 6, 1)),
    ((3, 2), (2, 3), "valid", (2, 7, 8, 2)),
    (2, 3, 0, (1, 7, 7, 2)),
    (3, 2, "same", (2, 6, 5, 1)),
    (4, 1, 2, (1, 4, 3, 2)),
    ((1, 2), 1, "valid", (1, 3, 4, 2)),
    (3, 1, "same", (1, 1, 2, 2)),
    (2, 3, "valid", (2, 2, 3, 1)),
]


def pool_id(case):
    kernel, stride, pad, shape = case
    return f"k{kernel}-s{stride}-p{pad}-{'x'.join(map(str, shape))}"


# ---------------------------------------------------------------------------
# FullyConnected
# ---------------------------------------------------------------------------


def fc_hand_layer(activation="relu"):
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    layer = FullyConnected(3, activation)
    set_params(layer, X, np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]), np.array([[0.5, -0.5, 1.0]]))
    return layer, X


def test_fully_connected_hand_forward_backward():
    layer, X = fc_hand_layer("relu")
    # Z = X @ W + b = [[5.5, 1.5, 0], [11.5, 3.5, -2]]
    Y = layer.forward(X)
    np.testing.assert_allclose(Y, [[5.5, 1.5, 0.0], [11.5, 3.5, 0.0]], rtol=1e-12)
    np.testing.assert_allclose(layer.cache["Z"], [[5.5, 1.5, 0.0], [11.5, 3.5, -2.0]], rtol=1e-12)
    # dZ = dY * [Z >= 0] = [[1, 1, 1], [1, 1, 0]] (ReLU'(0) = 1)
    dX = layer.backward(np.ones((2, 3)))
    np.testing.assert_allclose(layer.gradients["W"], [[4.0, 4.0, 1.0], [6.0, 6.0, 2.0]], rtol=1e-12)
    np.testing.assert_allclose(layer.gradients["b"], [[2.0, 2.0, 1.0]], rtol=1e-12)
    np.testing.assert_allclose(dX, [[0.0, 3.0], [1.0, 3.0]], rtol=1e-12)


def test_fully_connected_hand_softmax():
    X = np.array([[1.0, 0.0]])
    layer = FullyConnected(2, "softmax")
    set_params(layer, X, np.array([[0.0, np.log(3.0)], [5.0, 5.0]]), np.zeros((1, 2)))
    np.testing.assert_allclose(layer.forward(X), [[0.25, 0.75]], rtol=1e-12)
    # dZ = s * (dY - s.dY) = [0.25, 0.75] * ([1, 3] - 2.5) = [-0.375, 0.375]
    dX = layer.backward(np.array([[1.0, 3.0]]))
    np.testing.assert_allclose(layer.gradients["b"], [[-0.375, 0.375]], rtol=1e-12)
    np.testing.assert_allclose(layer.gradients["W"], [[-0.375, 0.375], [0.0, 0.0]], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dX, [[0.375 * np.log(3.0), 0.0]], rtol=1e-12, atol=1e-15)


FC_CASES = [
    ("linear", 0, (3, 4), 5),
    ("tanh", 1, (5, 3), 2),
    ("sigmoid", 2, (1, 6), 4),
    ("relu", 3, (4, 5), 3),
    ("softmax", 4, (3, 4), 4),
    ("arctan", 5, (2, 2), 2),
    ("elu", 6, (3, 3), 3),
]


@pytest.mark.parametrize("activation,seed,shape,n_out", FC_CASES)
def test_fully_connected_gradient_checks(activation, seed, shape, n_out):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=shape)
    W = rng.normal(size=(shape[1], n_out))
    b = rng.normal(size=(1, n_out))
    dY = rng.normal(size=(shape[0], n_out))
    layer = FullyConnected(n_out, activation)
    set_params(layer, X, W, b)
    layer.forward(X)
    if activation in ("relu", "elu"):
        assert np.abs(layer.cache["Z"]).min() > 1e-3, "seed puts Z next to the kink"
    dX = layer.backward(dY)
    dW, db = layer.gradients["W"].copy(), layer.gradients["b"].copy()
    assert check_gradients(layer.forward, dX, X.copy(), dY) < 1e-7
    assert check_gradients(layer.forward_with_param("W", X), dW, W.copy(), dY) < 1e-7
    assert check_gradients(layer.forward_with_param("b", X), db, b.copy(), dY) < 1e-7


def test_fully_connected_gradients_are_sums_over_the_batch():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3, 2))
    dY = rng.normal(size=(3, 4))
    layer = FullyConnected(4, "linear")
    layer.forward(X)
    layer.backward(dY)
    total_W = sum(np.outer(X[n], dY[n]) for n in range(3))
    np.testing.assert_allclose(layer.gradients["W"], total_W, rtol=1e-12)
    np.testing.assert_allclose(layer.gradients["b"], dY.sum(axis=0, keepdims=True), rtol=1e-12)


# ---------------------------------------------------------------------------
# Conv2D: hand-computed cases
# ---------------------------------------------------------------------------

X33 = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
W22 = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)


def test_conv_hand_valid_is_cross_correlation():
    layer = Conv2D(1, 2, "linear", stride=1, pad="valid")
    set_params(layer, X33, W22.copy(), np.array([[1.0]]))
    # out[0, 0] = 1*1 + 2*2 + 3*4 + 4*5 + 1 = 38 (a flipped kernel would give 24)
    np.testing.assert_allclose(layer.forward(X33)[0, :, :, 0], [[38.0, 48.0], [68.0, 78.0]])


def test_conv_hand_same_even_kernel_pads_after():
    layer = Conv2D(1, 2, "linear", stride=1, pad="same")
    set_params(layer, X33, W22.copy(), np.zeros((1, 1)))
    # k = 2: pad (k-1)//2 = 0 before and 1 after, so the output is 3x3, out[0, 0]
    # is the full top-left window, and the last row/col see zeros below/right.
    expected = [[1 * 1 + 2 * 2 + 3 * 4 + 4 * 5, 1 * 2 + 2 * 3 + 3 * 5 + 4 * 6, 1 * 3 + 3 * 6],
                [1 * 4 + 2 * 5 + 3 * 7 + 4 * 8, 1 * 5 + 2 * 6 + 3 * 8 + 4 * 9, 1 * 6 + 3 * 9],
                [1 * 7 + 2 * 8, 1 * 8 + 2 * 9, 1 * 9]]
    np.testing.assert_allclose(layer.forward(X33)[0, :, :, 0], expected)


def test_conv_hand_stride_two_with_int_pad():
    # 3x3 input, 2x2 kernel of ones, pad 1, stride 2: windows of the 5x5 padded
    # input start at rows/cols 0 and 2: out size floor((3 + 2 - 2) / 2) + 1 = 2.
    layer = Conv2D(1, 2, "linear", stride=2, pad=1)
    set_params(layer, X33, np.ones((2, 2, 1, 1)), np.zeros((1, 1)))
    np.testing.assert_allclose(layer.forward(X33)[0, :, :, 0], [[1.0, 2 + 3.0], [4 + 7.0, 5 + 6 + 8 + 9.0]])
    dX = layer.backward(np.array([[[[1.0], [10.0]], [[100.0], [1000.0]]]]))
    np.testing.assert_allclose(dX[0, :, :, 0], [[1.0, 10.0, 10.0], [100.0, 1000.0, 1000.0],
                                                [100.0, 1000.0, 1000.0]])


def test_conv_hand_backward():
    layer = Conv2D(1, 2, "linear", stride=1, pad="valid")
    set_params(layer, X33, W22.copy(), np.zeros((1, 1)))
    layer.forward(X33)
    dX = layer.backward(np.ones((1, 2, 2, 1)))
    # dW[i, j] = sum of the 2x2 block of X starting at (i, j)
    np.testing.assert_allclose(layer.gradients["W"][:, :, 0, 0], [[12.0, 16.0], [24.0, 28.0]])
    np.testing.assert_allclose(layer.gradients["b"], [[4.0]])
    # each input cell collects the weights of the windows that cover it
    np.testing.assert_allclose(dX[0, :, :, 0], [[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]])


def test_conv_channels_mix_hand():
    # 1x1 kernel mixing 2 input channels into 3 outputs: a per-pixel matrix product.
    X = np.array([[[[1.0, 2.0], [3.0, -1.0]]]])  # (1, 1, 2, 2)
    W = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]).reshape(1, 1, 2, 3)
    layer = Conv2D(3, 1, "linear", pad="valid")
    set_params(layer, X, W, np.array([[0.0, 10.0, 0.0]]))
    np.testing.assert_allclose(layer.forward(X), [[[[1.0, 12.0, 0.0], [3.0, 9.0, 7.0]]]])


def test_conv_identity_kernel_with_same_padding_returns_input():
    # The identity ("Dirac") initializer with "same" padding copies the input,
    # for odd and even kernels alike, if and only if both use the (k-1)//2 rule.
    rng = np.random.default_rng(8)
    for kernel in (3, 2, 4, (2, 3)):
        X = rng.normal(size=(2, 5, 6, 3))
        layer = Conv2D(3, kernel, "linear", pad="same", weight_init="identity")
        np.testing.assert_allclose(layer.forward(X), X, rtol=1e-12, err_msg=str(kernel))


@pytest.mark.parametrize("size,kernel,stride,pad", [
    (5, 3, 1, "same"), (5, 3, 2, "same"), (6, 2, 1, "same"), (7, 4, 3, "same"),
    (6, 4, 2, "same"), (7, 3, 1, "valid"), (7, 3, 2, "valid"), (8, 3, 3, "valid"),
    (5, 2, 2, 1), (4, 5, 1, 2), (9, 1, 3, 0), (6, 5, 2, "same"),
])
def test_conv_output_size_formula(size, kernel, stride, pad):
    if pad == "same":
        before, after = (kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2
    elif pad == "valid":
        before = after = 0
    else:
        before = after = pad
    expected = (size + before + after - kernel) // stride + 1
    layer = Conv2D(2, (kernel, 1), "linear", stride=(stride, 1), pad=pad)
    Y = layer.forward(np.zeros((1, size, 3, 1)))
    assert Y.shape[1] == expected
    layer = Conv2D(2, (1, kernel), "linear", stride=(1, stride), pad=pad)
    assert layer.forward(np.zeros((1, 3, size, 1))).shape[2] == expected


# ---------------------------------------------------------------------------
# Conv2D against the loop reference, and gradient checks
# ---------------------------------------------------------------------------


# ReLU has a kink at 0, so CONV_CASES (also used by the numerical checks below)
# leave it out; the loop reference has no kink and covers it here.
@pytest.mark.parametrize("case", CONV_CASES + [(3, 2, "same", "relu", (2, 5, 6, 2), 3)], ids=conv_id)
def test_conv_matches_loop_reference(case):
    layer, X, W, b, rng = make_conv(case, seed=11)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    Y_ref, dX_ref, dW_ref, db_ref = ref_conv(X, W, b, case[1], case[2], case[3], dY)
    assert Y.shape == Y_ref.shape
    np.testing.assert_allclose(Y, Y_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.gradients["W"], dW_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.gradients["b"], db_ref, rtol=1e-10, atol=1e-12)


def test_conv_repeated_forward_backward_with_new_shapes():
    # A second batch of another size must not reuse stale buffers.
    case = (3, 1, "same", "linear", (2, 5, 5, 2), 3)
    layer, X, W, b, rng = make_conv(case, seed=13)
    for shape in ((2, 5, 5, 2), (3, 4, 6, 2), (2, 5, 5, 2)):
        X = rng.normal(size=shape)
        Y = layer.forward(X)
        dY = rng.normal(size=Y.shape)
        dX = layer.backward(dY)
        Y_ref, dX_ref, dW_ref, _ = ref_conv(X, W, b, 1, "same", "linear", dY)
        np.testing.assert_allclose(Y, Y_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dX, dX_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.gradients["W"], dW_ref, rtol=1e-10, atol=1e-12)


def test_conv_output_does_not_change_with_later_forward():
    case = (2, 1, "same", "linear", (1, 4, 4, 1), 2)
    layer, X, W, b, rng = make_conv(case, seed=14)
    Y1 = layer.forward(X)
    Y1_copy = Y1.copy()
    layer.forward(rng.normal(size=X.shape))
    np.testing.assert_array_equal(Y1, Y1_copy)


@pytest.mark.parametrize("case", CONV_CASES, ids=conv_id)
def test_conv_gradient_checks(case):
    layer, X, W, b, rng = make_conv(case, seed=21)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    dW, db = layer.gradients["W"].copy(), layer.gradients["b"].copy()
    assert check_gradients(layer.forward, dX, X.copy(), dY) < 1e-7
    assert check_gradients(layer.forward_with_param("W", X), dW, W.copy(), dY) < 1e-7
    assert check_gradients(layer.forward_with_param("b", X), db, b.copy(), dY) < 1e-7


def test_conv_relu_gradient_check_away_from_kink():
    case = (3, 2, 1, "relu", (1, 5, 5, 2), 2)
    layer, X, W, b, rng = make_conv(case, seed=22)
    Y = layer.forward(X)
    assert np.abs(layer.cache["Z"]).min() > 1e-3, "seed puts Z next to the kink"
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    dW, db = layer.gradients["W"].copy(), layer.gradients["b"].copy()
    assert check_gradients(layer.forward, dX, X.copy(), dY) < 1e-7
    assert check_gradients(layer.forward_with_param("W", X), dW, W.copy(), dY) < 1e-7
    assert check_gradients(layer.forward_with_param("b", X), db, b.copy(), dY) < 1e-7


# ---------------------------------------------------------------------------
# Pool2D: hand-computed cases
# ---------------------------------------------------------------------------

X44 = np.arange(16.0).reshape(1, 4, 4, 1)


def test_max_pool_hand():
    layer = Pool2D(2, "max", stride=2)
    np.testing.assert_array_equal(layer.forward(X44)[0, :, :, 0], [[5.0, 7.0], [13.0, 15.0]])
    dX = layer.backward(np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]]))
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[3, 1], expected[3, 3] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(dX[0, :, :, 0], expected)


def test_average_pool_hand():
    layer = Pool2D(2, "average", stride=2)
    np.testing.assert_allclose(layer.forward(X44)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    dX = layer.backward(np.array([[[[4.0], [8.0]], [[-4.0], [0.0]]]]))
    expected = np.array([[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0],
                         [-1.0, -1.0, 0.0, 0.0], [-1.0, -1.0, 0.0, 0.0]])
    np.testing.assert_allclose(dX[0, :, :, 0], expected)


def test_average_pool_divides_by_full_window_with_padding():
    X = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    layer = Pool2D(2, "average", stride=1, pad=1)
    expected = [[0.25, 0.75, 0.5], [1.0, 2.5, 1.5], [0.75, 1.75, 1.0]]
    np.testing.assert_allclose(layer.forward(X)[0, :, :, 0], expected)
    # every input cell is in 4 windows, each passing back dY / 4
    np.testing.assert_allclose(layer.backward(np.ones((1, 3, 3, 1)))[0, :, :, 0], np.ones((2, 2)))


def test_max_pool_never_picks_padding():
    X = -np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    layer = Pool2D(2, "max", stride=1, pad=1)
    expected = [[-1.0, -1.0, -2.0], [-1.0, -1.0, -2.0], [-3.0, -3.0, -4.0]]
    np.testing.assert_array_equal(layer.forward(X)[0, :, :, 0], expected)
    dX = layer.backward(np.ones((1, 3, 3, 1)))
    np.testing.assert_array_equal(dX[0, :, :, 0], [[4.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("pad", [1, "same"])
def test_max_pool_all_negative_padded_output_never_zero(pad):
    rng = np.random.default_rng(15)
    X = -rng.uniform(1.0, 2.0, size=(2, 5, 4, 3))
    layer = Pool2D(3, "max", stride=2, pad=pad)
    Y = layer.forward(X)
    assert np.all(Y < -0.999)
    dY = rng.uniform(1.0, 2.0, size=Y.shape)
    dX = layer.backward(dY)
    np.testing.assert_allclose(dX.sum(), dY.sum(), rtol=1e-12)


def test_max_pool_overlapping_windows_accumulate():
    X = np.array([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]).reshape(1, 3, 3, 1)
    layer = Pool2D(2, "max", stride=1)
    np.testing.assert_array_equal(layer.forward(X)[0, :, :, 0], [[9.0, 9.0], [9.0, 9.0]])
    dX = layer.backward(np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]]))
    expected = np.zeros((3, 3))
    expected[1, 1] = 10.0
    np.testing.assert_array_equal(dX[0, :, :, 0], expected)


def test_average_pool_overlapping_windows_accumulate():
    layer = Pool2D(2, "average", stride=1)
    layer.forward(np.zeros((1, 3, 3, 1)))
    dX = layer.backward(np.ones((1, 2, 2, 1)))
    np.testing.assert_allclose(dX[0, :, :, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


def test_max_pool_ties_non_overlapping_each_window_one_cell():
    X = np.full((2, 4, 6, 2), 3.0)
    rng = np.random.default_rng(16)
    layer = Pool2D(2, "max", stride=2)
    Y = layer.forward(X)
    np.testing.assert_array_equal(Y, np.full((2, 2, 3, 2), 3.0))
    dY = rng.uniform(1.0, 2.0, size=Y.shape)
    dX = layer.backward(dY)
    np.testing.assert_allclose(dX.sum(), dY.sum(), rtol=1e-12)
    for n, r, c, ch in np.ndindex(Y.shape):
        block = dX[n, 2 * r:2 * r + 2, 2 * c:2 * c + 2, ch]
        assert np.count_nonzero(block) == 1
        assert block.sum() == dY[n, r, c, ch]


@pytest.mark.parametrize("kernel,stride,pad", [(2, 1, 0), (3, 1, 1), (3, 2, "same"), ((2, 3), (1, 2), 0)])
def test_max_pool_ties_overlapping_conserve_gradient(kernel, stride, pad):
    # All-equal input: each window passes its whole gradient to a single cell,
    # so the total is conserved (splitting or copying it would change the sum).
    X = np.full((1, 5, 6, 2), -7.0)
    layer = Pool2D(kernel, "max", stride=stride, pad=pad)
    Y = layer.forward(X)
    np.testing.assert_array_equal(Y, np.full(Y.shape, -7.0))
    # powers of two: any sum of a subset of them is a distinct number
    dY = 2.0 ** np.arange(Y.size).reshape(Y.shape)
    dX = layer.backward(dY)
    np.testing.assert_allclose(dX.sum(), dY.sum(), rtol=1e-12)
    # every window's power of two appears in exactly one cell of dX
    bits = np.zeros(Y.size, dtype=int)
    for value in dX.ravel():
        value = int(value)
        for k in range(Y.size):
            if value >> k & 1:
                bits[k] += 1
    np.testing.assert_array_equal(bits, np.ones(Y.size, dtype=int))


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_output_does_not_change_with_later_forward(mode):
    rng = np.random.default_rng(17)
    layer = Pool2D(2, mode, stride=2)
    Y1 = layer.forward(rng.normal(size=(1, 4, 4, 2)))
    Y1_copy = Y1.copy()
    layer.forward(rng.normal(size=(1, 4, 4, 2)))
    np.testing.assert_array_equal(Y1, Y1_copy)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("change", ["output", "input"])
def test_pool_backward_unaffected_by_caller_changing_arrays(mode, change):
    rng = np.random.default_rng(18)
    X = distinct_values(rng, (2, 4, 6, 2)).reshape(2, 4, 6, 2)
    layer = Pool2D(2, mode, stride=2)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    _, dX_ref = ref_pool(X.copy(), 2, 2, 0, mode, dY)
    if change == "output":
        Y += 100.0  # the output belongs to the caller
    else:
        X[...] = rng.normal(size=X.shape)  # the next batch written into the same buffer
    np.testing.assert_allclose(layer.backward(dY), dX_ref, rtol=1e-12)


def test_conv_backward_unaffected_by_caller_modifying_output():
    case = (3, 2, 1, "linear", (2, 5, 5, 2), 3)
    layer, X, W, b, rng = make_conv(case, seed=20)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    _, dX_ref, dW_ref, db_ref = ref_conv(X, W, b, 2, 1, "linear", dY)
    Y += 100.0  # the output belongs to the caller
    np.testing.assert_allclose(layer.backward(dY), dX_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.gradients["W"], dW_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.gradients["b"], db_ref, rtol=1e-10, atol=1e-12)


def test_pool_works_per_channel():
    X = np.zeros((1, 2, 2, 2))
    X[0, :, :, 0] = [[1.0, 5.0], [2.0, 3.0]]
    X[0, :, :, 1] = [[9.0, 0.0], [4.0, 8.0]]
    np.testing.assert_array_equal(Pool2D(2, "max").forward(X), [[[[5.0, 9.0]]]])
    np.testing.assert_allclose(Pool2D(2, "average").forward(X), [[[[2.75, 5.25]]]])


# ---------------------------------------------------------------------------
# Pool2D against the loop reference, and gradient checks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES, ids=pool_id)
def test_pool_matches_loop_reference(case, mode):
    kernel, stride, pad, shape = case
    rng = np.random.default_rng(31)
    X = rng.normal(size=shape)
    layer = Pool2D(kernel, mode, stride=stride, pad=pad)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    Y_ref, dX_ref = ref_pool(X, kernel, stride, pad, mode, dY)
    assert Y.shape == Y_ref.shape
    np.testing.assert_allclose(Y, Y_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_matches_loop_reference_with_ties(mode):
    # Small integers: plenty of ties inside windows.
    rng = np.random.default_rng(32)
    X = rng.integers(0, 3, size=(2, 6, 5, 2)).astype(float)
    layer = Pool2D(3, mode, stride=2, pad=1)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    Y_ref, dX_ref = ref_pool(X, 3, 2, 1, mode, dY)
    np.testing.assert_allclose(Y, Y_ref, rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dY), dX_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES, ids=pool_id)
def test_pool_gradient_checks(case, mode):
    kernel, stride, pad, shape = case
    rng = np.random.default_rng(41)
    X = distinct_values(rng, shape).reshape(shape)
    layer = Pool2D(kernel, mode, stride=stride, pad=pad)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    assert check_gradients(layer.forward, dX, X.copy(), dY) < 1e-7


@pytest.mark.parametrize("size,kernel,stride,pad", [
    (5, 3, 1, "same"), (6, 2, 2, "same"), (7, 4, 3, "same"), (7, 3, 2, "valid"),
    (5, 2, 2, 1), (4, 3, 1, 2), (9, 1, 3, 0), (6, 5, 2, "same"),
])
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_output_size_formula(size, kernel, stride, pad, mode):
    if pad == "same":
        before, after = (kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2
    elif pad == "valid":
        before = after = 0
    else:
        before = after = pad
    rows = (size + before + after - kernel) // stride + 1
    cols = (size + 1 + before + after - kernel) // stride + 1
    Y = Pool2D(kernel, mode, stride=stride, pad=pad).forward(np.ones((2, size, size + 1, 3)))
    assert Y.shape == (2, rows, cols, 3)


def test_pool_same_padding_even_kernel_pads_after():
    # k = 2: nothing before, one row/col after. Average pooling shows where the
    # zeros went: the last row/column averages two real cells with two zeros.
    X = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    Y = Pool2D(2, "average", stride=1, pad="same").forward(X)[0, :, :, 0]
    expected = [[(1 + 2 + 4 + 5) / 4, (2 + 3 + 5 + 6) / 4, (3 + 6) / 4],
                [(4 + 5 + 7 + 8) / 4, (5 + 6 + 8 + 9) / 4, (6 + 9) / 4],
                [(7 + 8) / 4, (8 + 9) / 4, 9 / 4]]
    np.testing.assert_allclose(Y, expected)


def test_pool_int_kernel_means_square():
    layer = Pool2D(3)
    assert layer.kernel_shape == (3, 3)
    assert layer.forward(np.zeros((1, 5, 6, 1))).shape == (1, 3, 4, 1)


# ---------------------------------------------------------------------------
# Flatten
# ---------------------------------------------------------------------------


def test_flatten_hand():
    X = np.arange(24.0).reshape(2, 3, 2, 2)
    layer = Flatten()
    Y = layer.forward(X)
    assert Y.shape == (2, 12)
    np.testing.assert_array_equal(Y[1], np.arange(12.0, 24.0))
    dY = np.arange(100.0, 124.0).reshape(2, 12)
    dX = layer.backward(dY)
    assert dX.shape == (2, 3, 2, 2)
    assert dX[1, 2, 1, 0] == 100.0 + 12 + 2 * 4 + 1 * 2 + 0


def test_flatten_keep_last():
    X = np.arange(24.0).reshape(2, 3, 4)
    layer = Flatten(keep_dim="last")
    Y = layer.forward(X)
    assert Y.shape == (6, 4)
    np.testing.assert_array_equal(Y[5], [20.0, 21.0, 22.0, 23.0])
    np.testing.assert_array_equal(layer.backward(Y * 2), X * 2)


@pytest.mark.parametrize("keep_dim", ["first", "last"])
@pytest.mark.parametrize("shape", [(2, 3), (3, 2, 2, 2), (1, 4, 3)])
def test_flatten_gradient_check(keep_dim, shape):
    rng = np.random.default_rng(51)
    X = rng.normal(size=shape)
    layer = Flatten(keep_dim=keep_dim)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    assert check_gradients(layer.forward, dX, X.copy(), dY) < 1e-7


# ---------------------------------------------------------------------------
# Layer API
# ---------------------------------------------------------------------------


def test_fully_connected_lazy_parameters():
    layer = FullyConnected(3, "relu")
    assert layer.n_in is None
    assert layer.n_out == 3
    assert "W" not in layer.parameters
    layer.forward(np.ones((5, 4)))
    assert layer.n_in == 4
    assert layer.parameters["W"].shape == (4, 3)
    assert layer.parameters["b"].shape == (1, 3)
    np.testing.assert_array_equal(layer.parameters["b"], np.zeros((1, 3)))
    assert set(layer.gradients) == set(layer.parameters) == {"W", "b"}
    for key in ("W", "b"):
        assert layer.gradients[key].shape == layer.parameters[key].shape
        assert not layer.gradients[key].any()


def test_conv_lazy_parameters():
    layer = Conv2D(4, (2, 3), "relu")
    assert layer.n_in is None
    assert layer.n_out == 4
    assert "W" not in layer.parameters
    layer.forward(np.ones((2, 5, 5, 3)))
    assert layer.n_in == 3
    assert layer.parameters["W"].shape == (2, 3, 3, 4)
    assert layer.parameters["b"].shape == (1, 4)
    np.testing.assert_array_equal(layer.parameters["b"], np.zeros((1, 4)))
    for key in ("W", "b"):
        assert layer.gradients[key].shape == layer.parameters[key].shape
        assert not layer.gradients[key].any()


def test_second_forward_keeps_parameters():
    layer = FullyConnected(2, "tanh", seed=0)
    layer.forward(np.ones((3, 4)))
    W = layer.parameters["W"].copy()
    layer.forward(np.zeros((6, 4)))
    np.testing.assert_array_equal(layer.parameters["W"], W)


def test_clear_gradients():
    layer, X = fc_hand_layer("relu")
    layer.forward(X)
    layer.backward(np.ones((2, 3)))
    assert layer.gradients["W"].any()
    layer.clear_gradients()
    for key in ("W", "b"):
        assert layer.gradients[key].shape == layer.parameters[key].shape
        assert not layer.gradients[key].any()


def test_fully_connected_cache_keys_and_getters():
    layer, X = fc_hand_layer("relu")
    layer.forward(X)
    assert {"X", "Z"} <= set(layer.cache)
    np.testing.assert_array_equal(layer.cache["X"], X)
    np.testing.assert_allclose(layer.cache["Z"], [[5.5, 1.5, 0.0], [11.5, 3.5, -2.0]])
    params = layer._get_parameters()
    assert len(params) == 2
    assert params[0] is layer.parameters["W"] and params[1] is layer.parameters["b"]
    cache = layer._get_cache()
    assert any(c is layer.cache["X"] for c in cache)
    assert any(c is layer.cache["Z"] for c in cache)
    layer.backward(np.ones((2, 3)))
    grads = layer._get_gradients()
    assert len(grads) == 2
    np.testing.assert_allclose(grads[0], [[4.0, 4.0, 1.0], [6.0, 6.0, 2.0]])
    np.testing.assert_allclose(grads[1], [[2.0, 2.0, 1.0]])


def test_fully_connected_cache_holds_only_x_and_z():
    layer, X = fc_hand_layer("relu")
    layer.forward(X)
    assert set(layer.cache) == {"X", "Z"}
    assert len(layer._get_cache()) == 2


def test_forward_with_param_sets_value_and_runs_forward():
    layer, X = fc_hand_layer("linear")
    W_new = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    f = layer.forward_with_param("W", X)
    Y = f(W_new)
    assert layer.parameters["W"] is W_new
    np.testing.assert_allclose(Y, [[2.5, 0.5, 1.0], [4.5, 2.5, 1.0]])
    b_new = np.array([[1.0, 1.0, 1.0]])
    np.testing.assert_allclose(layer.forward_with_param("b", X)(b_new), [[3.0, 2.0, 1.0], [5.0, 4.0, 1.0]])


def test_forward_with_param_builds_parameters_lazily():
    layer = Conv2D(2, 3, "linear")
    X = np.ones((1, 4, 4, 2))
    f = layer.forward_with_param("W", X)
    assert layer.parameters["W"].shape == (3, 3, 2, 2)
    Y = f(np.zeros((3, 3, 2, 2)))
    np.testing.assert_array_equal(Y, np.zeros((1, 4, 4, 2)))


def test_forward_with_param_unknown_name():
    layer = FullyConnected(2)
    with pytest.raises(ValueError, match=r"unknown param_name 'gamma'.*\['W', 'b'\]"):
        layer.forward_with_param("gamma", np.ones((1, 3)))
    with pytest.raises(ValueError, match="unknown param_name 'W'"):
        Pool2D(2).forward_with_param("W", np.ones((1, 3, 3, 1)))


def test_parameterless_layers_have_empty_dicts():
    for layer, X in ((Pool2D(2), np.ones((1, 4, 4, 2))), (Flatten(), np.ones((2, 3, 4)))):
        layer.forward(X)
        assert layer.parameters == {} and layer.gradients == {}
        assert layer._get_parameters() == [] and layer._get_gradients() == []


def test_pool_and_flatten_sizes():
    pool = Pool2D(2, stride=2)
    pool.forward(np.ones((1, 4, 4, 3)))
    assert pool.n_in == 3 and pool.n_out == 3
    flat = Flatten()
    flat.forward(np.ones((2, 3, 4, 5)))
    assert flat.n_in == 60 and flat.n_out == 60


@pytest.mark.parametrize("make", [
    lambda seed: FullyConnected(5, "relu", seed=seed),
    lambda seed: Conv2D(3, (2, 3), "tanh", seed=seed),
    lambda seed: initialize_layer("fully_connected", activation="sigmoid", n_out=4, seed=seed),
    lambda seed: initialize_layer("conv2d", activation="relu", n_out=2, kernel_shape=3, seed=seed),
], ids=["fc", "conv", "init_fc", "init_conv"])
def test_seed_reproduces_weights(make):
    X = np.ones((1, 4, 4, 3)) if isinstance(make(0), Conv2D) else np.ones((2, 3))
    a, b, c = make(0), make(0), make(1)
    for layer in (a, b, c):
        layer.forward(X)
    np.testing.assert_array_equal(a.parameters["W"], b.parameters["W"])
    assert not np.array_equal(a.parameters["W"], c.parameters["W"])
    assert np.all(a.parameters["W"] != 0)


def test_default_weight_init_is_xavier_uniform():
    layer = FullyConnected(300, "linear", seed=0)
    layer.forward(np.ones((1, 500)))
    bound = np.sqrt(3.0) * np.sqrt(2.0 / 800)
    W = layer.parameters["W"]
    assert np.abs(W).max() <= bound
    assert np.abs(W).max() > 0.99 * bound
    assert np.std(W) == pytest.approx(bound / np.sqrt(3.0), rel=0.02)


@pytest.mark.parametrize("make,shape", [
    (lambda: FullyConnected(3, "tanh"), (4, 5)),
    (lambda: Conv2D(3, (2, 3), "relu", stride=2), (2, 5, 6, 2)),
], ids=["fc", "conv"])
def test_float32_input_gives_float32_parameters_and_output(make, shape):
    rng = np.random.default_rng(61)
    layer = make()
    X = rng.normal(size=shape).astype(np.float32)
    Y = layer.forward(X)
    assert Y.dtype == np.float32
    assert layer.parameters["W"].dtype == np.float32
    assert layer.parameters["b"].dtype == np.float32
    assert layer.gradients["W"].dtype == np.float32
    dX = layer.backward(np.ones(Y.shape, dtype=np.float32))
    assert dX.dtype == np.float32
    assert layer.gradients["W"].dtype == np.float32
    assert layer.gradients["b"].dtype == np.float32
    # same numbers as in float64, to float32 precision
    ref = make()
    ref._init_parameters(X.shape)
    ref.parameters = {k: v.astype(np.float64) for k, v in layer.parameters.items()}
    np.testing.assert_allclose(Y, ref.forward(X.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_forward_with_param_float32_input_gives_float32_parameters():
    layer = FullyConnected(3, "linear")
    X = np.ones((2, 4), dtype=np.float32)
    layer.forward_with_param("W", X)
    assert layer.parameters["W"].dtype == np.float32


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_float32(mode):
    X = np.random.default_rng(62).normal(size=(1, 4, 4, 2)).astype(np.float32)
    layer = Pool2D(2, mode, stride=2, pad=1)
    Y = layer.forward(X)
    assert Y.dtype == np.float32
    assert layer.backward(np.ones(Y.shape, dtype=np.float32)).dtype == np.float32


# ---------------------------------------------------------------------------
# initialize_layer
# ---------------------------------------------------------------------------


def test_contract_positional_signatures():
    # FullyConnected(n_out, activation, weight_init), Conv2D(n_out, kernel_shape,
    # activation, stride, pad, weight_init), Pool2D(kernel_shape, mode, stride, pad)
    fc = FullyConnected(3, "relu", "zeros")
    assert isinstance(fc.activation, ReLU) and fc.weight_init == "zeros"
    conv = Conv2D(4, (2, 3), "relu", 2, "valid", "he_normal")
    assert conv.kernel_shape == (2, 3) and conv.stride == (2, 2) and conv.pad == "valid"
    assert conv.weight_init == "he_normal" and isinstance(conv.activation, ReLU)
    pool = Pool2D(3, "average", 2, 1)
    assert pool.kernel_shape == (3, 3) and pool.mode == "average" and pool.stride == (2, 2) and pool.pad == 1
    assert Flatten("last").keep_dim == "last"


def test_initialize_layer_conv_none_arguments_fall_back_to_defaults():
    layer = initialize_layer("conv2d", activation="relu", n_out=4, kernel_shape=3,
                             stride=None, pad=None, weight_init=None)
    assert type(layer) is Conv2D
    assert isinstance(layer.activation, ReLU)
    assert layer.n_out == 4
    assert layer.kernel_shape == (3, 3)
    assert layer.stride == (1, 1)
    assert layer.pad == "same"
    assert layer.weight_init == "xavier_uniform"
    assert layer.forward(np.ones((1, 5, 5, 2))).shape == (1, 5, 5, 4)


def test_initialize_layer_fully_connected_defaults():
    layer = initialize_layer("fully_connected", n_out=3)
    assert type(layer) is FullyConnected
    assert layer.n_out == 3
    assert layer.weight_init == "xavier_uniform"
    np.testing.assert_array_equal(layer.activation.forward(np.array([-2.0, 3.0])), [-2.0, 3.0])


def test_initialize_layer_fully_connected_arguments():
    layer = initialize_layer("fully_connected", activation="softmax", weight_init="zeros", n_out=2)
    Y = layer.forward(np.ones((3, 4)))
    np.testing.assert_allclose(Y, np.full((3, 2), 0.5))


def test_initialize_layer_pool_defaults_and_arguments():
    layer = initialize_layer("pool2d", kernel_shape=2)
    assert type(layer) is Pool2D
    assert layer.mode == "max" and layer.stride == (1, 1) and layer.pad == 0
    layer = initialize_layer("pool2d", kernel_shape=(2, 3), mode="average", stride=2, pad="same",
                             activation=None, weight_init=None)
    assert layer.mode == "average" and layer.stride == (2, 2) and layer.kernel_shape == (2, 3)
    assert layer.forward(np.ones((1, 4, 6, 1))).shape == (1, 2, 3, 1)


def test_initialize_layer_flatten():
    layer = initialize_layer("flatten")
    assert type(layer) is Flatten and layer.keep_dim == "first"
    assert initialize_layer("flatten", keep_dim=None).keep_dim == "first"
    assert initialize_layer("flatten", keep_dim="last").keep_dim == "last"


def test_initialize_layer_conv_arguments_are_passed():
    layer = initialize_layer("conv2d", activation="tanh", weight_init="zeros", n_out=2,
                             kernel_shape=(2, 3), stride=2, pad="valid")
    assert layer.stride == (2, 2) and layer.pad == "valid" and layer.kernel_shape == (2, 3)
    Y = layer.forward(np.ones((1, 6, 7, 1)))
    assert Y.shape == (1, 3, 3, 2)
    assert not Y.any()


# ---------------------------------------------------------------------------
# Bad input: constructors
# ---------------------------------------------------------------------------

CONSTRUCTOR_ERRORS = [
    (lambda: initialize_layer("dense", n_out=3), ValueError,
     r"unknown layer 'dense'; valid names are \['batchnorm1d', 'batchnorm2d', 'conv2d', 'dropout', 'flatten', 'fully_connected', 'pool2d'\]"),
    (lambda: initialize_layer(None), TypeError, "layer must be a string"),
    (lambda: initialize_layer("fully_connected"), ValueError, "needs n_out"),
    (lambda: initialize_layer("conv2d", n_out=2), ValueError, "needs kernel_shape"),
    (lambda: initialize_layer("pool2d"), ValueError, "needs kernel_shape"),
    (lambda: FullyConnected(0), ValueError, "FullyConnected: n_out must be >= 1; got 0"),
    (lambda: FullyConnected(-3), ValueError, "n_out must be >= 1; got -3"),
    (lambda: FullyConnected(2.5), TypeError, "n_out must be an integer"),
    (lambda: FullyConnected("3"), TypeError, "n_out must be an integer"),
    (lambda: FullyConnected(3, "swish"), ValueError, r"unknown activation 'swish'; valid names are \[.*'relu'"),
    (lambda: FullyConnected(3, "relu", weight_init="glorot"), ValueError,
     r"unknown weight initializer 'glorot'; valid names are \[.*'xavier_uniform'"),
    (lambda: Conv2D(0, 3), ValueError, "Conv2D: n_out must be >= 1"),
    (lambda: Conv2D(2, 0), ValueError, "Conv2D: kernel_shape must be >= 1"),
    (lambda: Conv2D(2, (3, -1)), ValueError, "kernel_shape must be >= 1"),
    (lambda: Conv2D(2, (3,)), ValueError, "kernel_shape must be an int or a pair"),
    (lambda: Conv2D(2, 3, stride=0), ValueError, "Conv2D: stride must be >= 1; got 0"),
    (lambda: Conv2D(2, 3, stride=(1, -2)), ValueError, "stride must be >= 1; got -2"),
    (lambda: Conv2D(2, 3, stride=1.5), TypeError, "stride must be an integer"),
    (lambda: Conv2D(2, 3, pad=-1), ValueError, "pad must be >= 0"),
    (lambda: Conv2D(2, 3, pad="full"), ValueError, "pad must be 'same', 'valid' or an int"),
    (lambda: Conv2D(2, 3, activation="gelu"), ValueError, "unknown activation 'gelu'"),
    (lambda: Conv2D(2, 3, weight_init="orthogonal"), ValueError, "unknown weight initializer 'orthogonal'"),
    (lambda: Pool2D(0), ValueError, "Pool2D: kernel_shape must be >= 1"),
    (lambda: Pool2D(2, mode="min"), ValueError, r"mode must be one of \['max', 'average'\]; got 'min'"),
    (lambda: Pool2D(2, stride=0), ValueError, "Pool2D: stride must be >= 1"),
    (lambda: Pool2D(2, stride=-1), ValueError, "stride must be >= 1"),
    (lambda: Pool2D(2, pad=2), ValueError, "pad must be smaller than the kernel"),
    (lambda: Pool2D(2, pad=-1), ValueError, "pad must be >= 0"),
    (lambda: Pool2D(2, pad="full"), ValueError, "pad must be 'same', 'valid' or an int"),
    (lambda: Flatten(keep_dim="middle"), ValueError, r"keep_dim must be one of \['first', 'last'\]"),
]


@pytest.mark.parametrize("build,exc,match", CONSTRUCTOR_ERRORS,
                         ids=[f"c{i}" for i in range(len(CONSTRUCTOR_ERRORS))])
def test_constructor_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


# ---------------------------------------------------------------------------
# Bad input: forward and backward
# ---------------------------------------------------------------------------


def built(layer, X):
    layer.forward(X)
    return layer


FORWARD_ERRORS = [
    (lambda: FullyConnected(2), [[1.0, 2.0]], TypeError, "FullyConnected.forward: X must be a numpy array"),
    (lambda: FullyConnected(2), np.ones((2, 3, 4)), ValueError, r"X must have 2 dimensions; got shape \(2, 3, 4\)"),
    (lambda: FullyConnected(2), np.ones(3), ValueError, "X must have 2 dimensions"),
    (lambda: FullyConnected(2), np.array([["a", "b"]]), TypeError, "X must hold real numbers"),
    (lambda: built(FullyConnected(2), np.ones((1, 4))), np.ones((1, 5)), ValueError,
     "X has 5 features but the layer was built for n_in=4"),
    (lambda: Conv2D(2, 3), np.ones((4, 4, 1)), ValueError, "Conv2D.forward: X must have 4 dimensions"),
    (lambda: Conv2D(2, 3), np.ones((1, 4, 4, 1)).tolist(), TypeError, "X must be a numpy array"),
    (lambda: Conv2D(2, 3), np.full((1, 4, 4, 1), "x"), TypeError, "X must hold real numbers"),
    (lambda: built(Conv2D(2, 3), np.ones((1, 4, 4, 2))), np.ones((1, 4, 4, 3)), ValueError,
     "X has 3 channels but the layer was built for n_in=2"),
    (lambda: Conv2D(2, 5, pad="valid"), np.ones((1, 4, 6, 1)), ValueError,
     r"the kernel \(5 rows\) is larger than the padded input \(4 rows"),
    (lambda: Conv2D(2, (2, 4), pad=0), np.ones((1, 4, 3, 1)), ValueError,
     r"the kernel \(4 cols\) is larger than the padded input \(3 cols"),
    (lambda: Pool2D(2), np.ones((4, 4)), ValueError, "Pool2D.forward: X must have 4 dimensions"),
    (lambda: Pool2D(2), "image", TypeError, "X must be a numpy array"),
    (lambda: Pool2D(2), np.full((1, 2, 2, 1), "x"), TypeError, "X must hold real numbers"),
    (lambda: Pool2D(4, pad=1), np.ones((1, 5, 1, 1)), ValueError, r"larger than the padded input \(3 cols"),
    (lambda: Pool2D(5, pad="valid"), np.ones((1, 6, 4, 1)), ValueError, r"kernel \(5 cols\) is larger"),
    (lambda: built(Pool2D(2), np.ones((1, 4, 4, 2))), np.ones((1, 4, 4, 1)), ValueError,
     "X has 1 channels but the layer was built for n_in=2"),
    (lambda: Flatten(), np.ones(5), ValueError, "Flatten.forward: X must have at least 2 dimensions"),
    (lambda: Dropout(), np.ones(()), ValueError, r"Dropout.forward: X must have at least 1 dimensions; got shape \(\)"),
    (lambda: Flatten(), [[1.0]], TypeError, "X must be a numpy array"),
    (lambda: Flatten(), np.array([["a"]]), TypeError, "X must hold real numbers"),
]


@pytest.mark.parametrize("build,X,exc,match", FORWARD_ERRORS,
                         ids=[f"f{i}" for i in range(len(FORWARD_ERRORS))])
def test_forward_errors(build, X, exc, match):
    layer = build()
    with pytest.raises(exc, match=match):
        layer.forward(X)


LAYER_SAMPLES = [
    (lambda: FullyConnected(3), np.ones((2, 4))),
    (lambda: Conv2D(2, 3, stride=2), np.ones((2, 5, 5, 1))),
    (lambda: Pool2D(2, "max"), np.ones((1, 4, 4, 2))),
    (lambda: Pool2D(2, "average"), np.ones((1, 4, 4, 2))),
    (lambda: Flatten(), np.ones((2, 3, 2))),
]
SAMPLE_IDS = ["fc", "conv", "maxpool", "avgpool", "flatten"]


@pytest.mark.parametrize("build,X", LAYER_SAMPLES, ids=SAMPLE_IDS)
def test_backward_before_forward(build, X):
    layer = build()
    with pytest.raises(ValueError, match="backward was called before forward"):
        layer.backward(np.ones((2, 3)))


@pytest.mark.parametrize("build,X", LAYER_SAMPLES, ids=SAMPLE_IDS)
def test_backward_wrong_upstream_shape(build, X):
    layer = build()
    Y = layer.forward(X)
    wrong = np.ones(Y.shape[:-1] + (Y.shape[-1] + 1,))
    with pytest.raises(ValueError, match=r"dLdY must have the shape of the last output .*; got "):
        layer.backward(wrong)
    with pytest.raises(ValueError, match="dLdY must have the shape of the last output"):
        layer.backward(np.ones(Y.shape[1:]))


@pytest.mark.parametrize("build,X", LAYER_SAMPLES, ids=SAMPLE_IDS)
def test_backward_rejects_non_array_and_string_dtype(build, X):
    layer = build()
    Y = layer.forward(X)
    with pytest.raises(TypeError, match="dLdY must be a numpy array"):
        layer.backward(np.ones(Y.shape).tolist())
    with pytest.raises(TypeError, match="dLdY must hold real numbers"):
        layer.backward(np.full(Y.shape, "1"))


@pytest.mark.parametrize("case", CONV_CASES[:6], ids=conv_id)
def test_conv_backward_from_a_cache_set_by_hand(case):
    # Graders set cache["X"] and cache["Z"] by hand, after another forward.
    layer, X, W, b, rng = make_conv(case, seed=23)
    Z = loops.conv2d_forward(X, W, b, pair(case[1]), loops.pads_for(case[2], W.shape[:2]))
    layer.forward(rng.normal(size=X.shape))
    layer.cache = OrderedDict(X=X, Z=Z)
    dY = rng.normal(size=Z.shape)
    dX = layer.backward(dY)
    _, dX_ref, dW_ref, db_ref = ref_conv(X, W, b, case[1], case[2], case[3], dY)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.gradients["W"], dW_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.gradients["b"], db_ref, rtol=1e-10, atol=1e-12)


def test_backward_fills_the_same_gradients_dict():
    layer = FullyConnected(2, "relu", seed=0)
    X = np.random.default_rng(1).standard_normal((3, 4))
    Y = layer.forward(X)
    gradients = layer.gradients
    layer.backward(np.ones_like(Y))
    assert layer.gradients is gradients
    np.testing.assert_allclose(gradients["W"], X.T @ (np.ones_like(Y) * (layer.cache["Z"] >= 0)))
    layer.clear_gradients()
    assert layer.gradients is gradients and not gradients["W"].any()


@pytest.mark.parametrize("name, value, match", [
    ("W", np.zeros((3, 2)), r"parameters\['W'\] must be an array of shape \(4, 2\); got \(3, 2\)"),
    ("b", np.zeros((1, 5)), r"parameters\['b'\] must be an array of shape \(1, 2\); got \(1, 5\)"),
    ("b", [0.0, 0.0], r"parameters\['b'\] must be an array"),
])
def test_hand_set_parameter_of_the_wrong_shape_is_named(name, value, match):
    layer = FullyConnected(2, "linear", seed=0)
    X = np.ones((3, 4))
    layer.forward(X)
    layer.parameters[name] = value
    with pytest.raises(ValueError, match=match):
        layer.forward(X)


def test_conv_bias_of_the_wrong_shape_is_named():
    layer = Conv2D(2, 3, seed=0)
    X = np.ones((1, 4, 4, 1))
    layer.forward(X)
    layer.parameters["b"] = np.zeros((1, 3))
    with pytest.raises(ValueError, match=r"Conv2D.forward: parameters\['b'\]"):
        layer.forward(X)


@pytest.mark.parametrize("name, kwargs, match", [
    ("pool2d", {"kernel_shape": 2, "activation": "relu"},
     r"initialize_layer: activation does not apply to 'pool2d' \(it takes kernel_shape, mode, stride, pad\); got 'relu'"),
    ("flatten", {"n_out": 3}, r"n_out does not apply to 'flatten' \(it takes keep_dim\); got 3"),
    ("fully_connected", {"n_out": 3, "kernel_shape": 3}, r"kernel_shape does not apply to 'fully_connected'"),
    ("conv2d", {"n_out": 3, "kernel_shape": 3, "mode": "max"}, r"mode does not apply to 'conv2d'"),
    ("pool2d", {"kernel_shape": 2, "keep_dim": "last"}, r"keep_dim does not apply to 'pool2d'"),
])
def test_initialize_layer_rejects_an_argument_the_layer_does_not_take(name, kwargs, match):
    # The same rule as initialize_optimizer: a setting never silently does nothing.
    with pytest.raises(ValueError, match=match):
        initialize_layer(name, **kwargs)


def test_initialize_layer_accepts_the_generator_a_network_hands_every_layer():
    rng = np.random.default_rng(0)
    assert isinstance(initialize_layer("pool2d", kernel_shape=2, seed=rng), Pool2D)
    assert isinstance(initialize_layer("flatten", seed=rng), Flatten)


# ---------------------------------------------------------------------------
# float32 against the oracle, the window attributes, the course's dict types
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_CASES, ids=conv_id)
def test_conv_float32_matches_loop_reference(case):
    layer, X, W, b, rng = make_conv(case, seed=24)
    X32, W32, b32 = (a.astype(np.float32) for a in (X, W, b))
    layer.parameters = OrderedDict(W=W32, b=b32)
    Y = layer.forward(X32)
    dY = rng.normal(size=Y.shape).astype(np.float32)
    dX = layer.backward(dY)
    assert Y.dtype == dX.dtype == layer.gradients["W"].dtype == np.float32
    # The oracle in float64 on the same float32 numbers.
    Y_ref, dX_ref, dW_ref, db_ref = ref_conv(X32.astype(float), W32.astype(float), b32.astype(float),
                                             case[1], case[2], case[3], dY.astype(float))
    for got, want in ((Y, Y_ref), (dX, dX_ref), (layer.gradients["W"], dW_ref), (layer.gradients["b"], db_ref)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES, ids=pool_id)
def test_pool_float32_matches_loop_reference(case, mode):
    kernel, stride, pad, shape = case
    rng = np.random.default_rng(33)
    X = rng.integers(-3, 3, size=shape).astype(np.float32)  # ties in max pooling too
    layer = Pool2D(kernel, mode, stride=stride, pad=pad)
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape).astype(np.float32)
    dX = layer.backward(dY)
    assert Y.dtype == dX.dtype == np.float32
    Y_ref, dX_ref = ref_pool(X.astype(float), kernel, stride, pad, mode, dY.astype(float))
    np.testing.assert_allclose(Y, Y_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make,pads,output", [
    (lambda: Conv2D(4, (3, 2), stride=2, pad="same"), ((1, 1), (0, 1)), (2, 4, 4, 4)),
    (lambda: Conv2D(4, 4, stride=(1, 3), pad="valid"), ((0, 0), (0, 0)), (2, 5, 2, 4)),
    (lambda: Pool2D((2, 3), stride=3, pad=1), ((1, 1), (1, 1)), (2, 3, 3, 5)),
    (lambda: Pool2D(2, stride=2, pad="same"), ((0, 1), (0, 1)), (2, 4, 4, 5)),
], ids=["conv-same", "conv-valid", "pool-int", "pool-same-even"])
def test_window_attributes(make, pads, output):
    # The attributes tuned kernels read: pads, kernel_shape and stride as pairs,
    # and output_shape_for (the output-size formula).
    layer = make()
    assert layer.pads == pads
    assert len(layer.kernel_shape) == len(layer.stride) == 2
    assert layer.output_shape_for((2, 8, 7, 5)) == output
    assert layer.forward(np.ones((2, 8, 7, 5))).shape == output


def test_parameters_gradients_and_cache_are_ordered_dicts():
    for layer, X in ((FullyConnected(2), np.ones((3, 4))), (Conv2D(2, 3), np.ones((1, 4, 4, 1))),
                     (Pool2D(2), np.ones((1, 3, 3, 1))), (Flatten(), np.ones((2, 3, 1)))):
        assert type(layer.parameters) is type(layer.gradients) is type(layer.cache) is OrderedDict
        layer.forward(X)
        assert type(layer.parameters) is type(layer.gradients) is type(layer.cache) is OrderedDict


@pytest.mark.parametrize("name,arguments", [
    ("fully_connected", ("n_out", "activation", "weight_init")),
    ("Conv2D", ("n_out", "kernel_shape", "activation", "stride", "pad", "weight_init")),
    ("pool2d", ("kernel_shape", "mode", "stride", "pad")),
    ("flatten", ("keep_dim",)),
    ("batchnorm1d", ("weight_init", "eps", "momentum")),
    ("dropout", ("p",)),
])
def test_layer_arguments(name, arguments):
    assert layer_arguments(name) == arguments


def test_layer_arguments_unknown_name():
    with pytest.raises(ValueError, match=r"unknown layer 'dense'; valid names are \["):
        layer_arguments("dense")


def test_conv_and_pool_gradients_keep_the_wider_dtype_of_mixed_inputs():
    # float32 images with float64 parameters or upstream gradients: dL/dX is float64, as the
    # fast layers and a plain NumPy expression give, not rounded to the input's float32.
    X = np.random.default_rng(0).standard_normal((2, 5, 5, 2)).astype(np.float32)
    conv = Conv2D(3, 3, seed=0)
    conv.forward(X.astype(np.float64))  # float64 parameters
    Y = conv.forward(X)
    assert Y.dtype == np.float64 and conv.backward(np.ones_like(Y)).dtype == np.float64
    pool = Pool2D(2, stride=2)
    Y = pool.forward(X)
    assert pool.backward(np.ones(Y.shape)).dtype == np.float64
