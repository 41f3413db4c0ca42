"""FastConv2D, FastPool2D and use_fast_layers: the loop oracle's numbers
(tests/loops.py) on many geometries, the readable layers' numbers, and the
state of a switched network."""

import numpy as np
import pytest

import loops
from neural_networks.fast_layers import FastConv2D, FastPool2D, copy_cells, use_fast_layers
from neural_networks.layers import Conv2D, Pool2D
from neural_networks.models import NeuralNetwork

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-4)}


def random_geometries(seed, count, pool=False):
    """``(X_shape, kernel_shape, stride, pad)``: odd, even and non-square
    kernels, strides 1-3, int, "same" and "valid" pads, one to three channels
    (pools: pads smaller than the kernel, and strides below the kernel, so
    that windows overlap)."""
    rng = np.random.default_rng(seed)
    geometries = []
    while len(geometries) < count:
        kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
        stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
        pad = ["same", "valid", int(rng.integers(0, min(kernel) if pool else 3))][len(geometries) % 3]
        X_shape = (int(rng.integers(1, 4)), int(rng.integers(4, 9)), int(rng.integers(4, 9)),
                   int(rng.integers(1, 4)))
        if not pool or pad != "same" or max(kernel) > 1:
            geometries.append((X_shape, kernel, stride, pad))
    return geometries


# Windows that tile the input (with and without leftover cells) and train_cnn.py's sizes.
TILING = [((2, 4, 6, 3), 2, 2, 0), ((3, 5, 7, 2), 2, 2, 0), ((2, 6, 6, 1), (3, 2), (3, 2), 0),
          ((2, 6, 6, 4), 2, 2, "same"), ((4, 28, 28, 8), 2, 2, 0)]
CONV_GEOMETRIES = random_geometries(0, 30) + [((2, 28, 28, 1), 3, 1, "same"), ((2, 14, 14, 8), 3, 1, "same")]
POOL_GEOMETRIES = random_geometries(1, 30, pool=True) + TILING


def geometry_id(geometry):
    X_shape, kernel, stride, pad = geometry
    return f"X{X_shape}-k{kernel}-s{stride}-p{pad}".replace(" ", "")


def pool_input(rng, shape, ties, dtype):
    """Random values, or (``ties``) a few small integers, so that most windows
    hold their maximum more than once."""
    X = rng.integers(-2, 2, size=shape) if ties else rng.standard_normal(shape)
    return X.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("geometry", CONV_GEOMETRIES, ids=geometry_id)
def test_fast_conv_matches_the_loops(geometry, dtype):
    X_shape, kernel, stride, pad = geometry
    rng = np.random.default_rng(2)
    layer = FastConv2D(3, kernel, "linear", stride=stride, pad=pad, seed=0)
    X = rng.standard_normal(X_shape).astype(dtype)
    layer.forward(X)
    layer.parameters["b"] = rng.standard_normal((1, 3)).astype(dtype)
    W, b = layer.parameters["W"], layer.parameters["b"]
    Z = layer.forward(X)
    assert Z.dtype == dtype
    np.testing.assert_allclose(Z, loops.conv2d_forward(X, W, b, layer.stride, layer.pads), **TOLERANCE[dtype])
    dZ = rng.standard_normal(Z.shape).astype(dtype)
    dX = layer.backward(dZ)
    dX_ref, dW_ref, db_ref = loops.conv2d_backward(X, W, dZ, layer.stride, layer.pads)
    assert dX.dtype == dtype and dX.shape == X.shape
    for got, expected in ((dX, dX_ref), (layer.gradients["W"], dW_ref), (layer.gradients["b"], db_ref)):
        np.testing.assert_allclose(got, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=geometry_id)
def test_fast_pool_matches_the_loops(geometry, mode, ties, dtype):
    X_shape, kernel, stride, pad = geometry
    rng = np.random.default_rng(3)
    layer = FastPool2D(kernel, mode, stride=stride, pad=pad)
    X = pool_input(rng, X_shape, ties, dtype)
    Y = layer.forward(X)
    assert Y.dtype == dtype
    np.testing.assert_allclose(Y, loops.pool2d_forward(X, layer.kernel_shape, layer.stride, layer.pads, mode),
                               **TOLERANCE[dtype])
    dY = rng.standard_normal(Y.shape).astype(dtype)
    dX = layer.backward(dY)
    assert dX.dtype == dtype
    np.testing.assert_allclose(dX, loops.pool2d_backward(X, dY, layer.kernel_shape, layer.stride, layer.pads, mode),
                               **TOLERANCE[dtype])


def test_max_pool_ties_go_to_the_first_cell_in_row_major_order():
    # Window [[1, 5], [5, 5]]: the maximum 5 sits at three cells; the first one wins.
    layer = FastPool2D(2, "max", stride=2)
    assert layer.forward(np.array([[1.0, 5.0], [5.0, 5.0]]).reshape(1, 2, 2, 1)).item() == 5.0
    dX = layer.backward(np.full((1, 1, 1, 1), 7.0))
    np.testing.assert_array_equal(dX.reshape(2, 2), [[0.0, 7.0], [0.0, 0.0]])


@pytest.mark.parametrize("geometry", [CONV_GEOMETRIES[i] for i in (0, 1, 2, -1)], ids=geometry_id)
def test_fast_conv_gives_the_readable_layers_numbers(geometry):
    X_shape, kernel, stride, pad = geometry
    rng = np.random.default_rng(4)
    X = rng.standard_normal(X_shape)
    readable = Conv2D(4, kernel, "relu", stride=stride, pad=pad, seed=5)
    fast = FastConv2D(4, kernel, "relu", stride=stride, pad=pad, seed=5)
    Y = readable.forward(X)
    np.testing.assert_allclose(fast.forward(X), Y, rtol=1e-12, atol=1e-12)
    dY = rng.standard_normal(Y.shape)
    np.testing.assert_allclose(fast.backward(dY), readable.backward(dY), rtol=1e-12, atol=1e-12)
    for name in ("W", "b"):
        np.testing.assert_allclose(fast.gradients[name], readable.gradients[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("geometry", [POOL_GEOMETRIES[i] for i in (0, 1, 2, -1)], ids=geometry_id)
def test_fast_pool_gives_the_readable_layers_numbers(geometry, mode):
    X_shape, kernel, stride, pad = geometry
    rng = np.random.default_rng(6)
    X = pool_input(rng, X_shape, True, np.float64)
    readable, fast = Pool2D(kernel, mode, stride, pad), FastPool2D(kernel, mode, stride, pad)
    Y = readable.forward(X)
    np.testing.assert_allclose(fast.forward(X), Y, rtol=1e-12, atol=1e-12)
    dY = rng.standard_normal(Y.shape)
    np.testing.assert_allclose(fast.backward(dY), readable.backward(dY), rtol=1e-12, atol=1e-12)


def test_a_cache_set_by_hand_is_what_backward_uses():
    # Graders set X and Z by hand after another forward; backward must not use stale windows.
    rng = np.random.default_rng(7)
    conv, pool = FastConv2D(2, 3, "linear", seed=0), FastPool2D(2, "max", stride=1)
    X_old, X = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((2, 5, 5, 3))
    conv.forward(X_old)
    W = conv.parameters["W"]
    Z = loops.conv2d_forward(X, W, conv.parameters["b"], conv.stride, conv.pads)
    conv.cache = {"X": X, "Z": Z}
    dZ = rng.standard_normal(Z.shape)
    dX_ref, dW_ref, _ = loops.conv2d_backward(X, W, dZ, conv.stride, conv.pads)
    np.testing.assert_allclose(conv.backward(dZ), dX_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.gradients["W"], dW_ref, rtol=1e-12, atol=1e-12)
    pool.forward(X_old)
    pool.cache = {"X": X}
    dY = rng.standard_normal((2, 4, 4, 3))
    np.testing.assert_allclose(pool.backward(dY), loops.pool2d_backward(X, dY, (2, 2), (1, 1), pool.pads, "max"),
                               rtol=1e-12, atol=1e-12)


def test_reruns_are_bit_identical_and_inputs_unchanged():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((3, 9, 7, 2)).astype(np.float32)
    X_copy = X.copy()
    for layer in (FastConv2D(4, (3, 2), "relu", stride=(2, 1), pad=1, seed=0), FastPool2D(3, "max", 2, 1),
                  FastPool2D(2, "average", 1, "same")):
        Y = layer.forward(X)
        dY = rng.standard_normal(Y.shape).astype(np.float32)
        dX = layer.backward(dY)
        assert layer.forward(X).tobytes() == Y.tobytes() and layer.backward(dY).tobytes() == dX.tobytes()
    np.testing.assert_array_equal(X, X_copy)


def test_empty_batches_and_non_contiguous_inputs():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((3, 8, 6, 4)).transpose(0, 2, 1, 3)  # (3, 6, 8, 4), strided
    conv, pool = FastConv2D(2, 3, seed=0), FastPool2D(2, "max", stride=2)
    np.testing.assert_allclose(conv.forward(X), conv.forward(np.ascontiguousarray(X)), rtol=1e-12)
    np.testing.assert_array_equal(pool.forward(X), loops.pool2d_forward(X, (2, 2), (2, 2), pool.pads, "max"))
    for layer in (conv, pool):
        Y = layer.forward(X[:0])
        assert Y.shape[0] == 0 and layer.backward(Y).shape == (0, 6, 8, 4)


def cnn_layer_args():
    return [
        {"name": "conv2d", "n_out": 4, "kernel_shape": 3, "activation": "relu"},
        {"name": "pool2d", "kernel_shape": 2, "stride": 2, "mode": "max"},
        {"name": "conv2d", "n_out": 6, "kernel_shape": (2, 3), "stride": 1, "pad": 1, "activation": "relu"},
        {"name": "pool2d", "kernel_shape": 3, "stride": 1, "mode": "average"},
        {"name": "flatten"},
        {"name": "fully_connected", "n_out": 3, "activation": "softmax"},
    ]


def test_use_fast_layers_keeps_the_state_and_the_numbers():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((5, 10, 10, 2))
    Y = np.eye(3)[rng.integers(0, 3, 5)]
    readable = NeuralNetwork("cross_entropy", cnn_layer_args(), {"name": "SGD", "lr": 0.1}, seed=0)
    model = NeuralNetwork("cross_entropy", cnn_layer_args(), {"name": "SGD", "lr": 0.1}, seed=0)
    model.forward(X)
    layers = list(model.layers)
    state = [dict(vars(layer)) for layer in layers]
    assert use_fast_layers(model) is model
    assert [type(layer).__name__ for layer in model.layers] == [
        "FastConv2D", "FastPool2D", "FastConv2D", "FastPool2D", "Flatten", "FullyConnected"]
    assert all(a is b for a, b in zip(model.layers, layers))
    # Every attribute (parameters, gradients, cache, rng, geometry, input_gradient) is the same object.
    for layer, before in zip(model.layers, state):
        assert vars(layer).keys() == before.keys()
        assert all(vars(layer)[name] is value for name, value in before.items())
    assert model.layers[0].input_gradient is False
    # The cache of the readable forward serves the fast backward.
    assert model.layers[0].cache["X"] is X
    for _ in range(2):
        np.testing.assert_allclose(model.forward(X), readable.forward(X), rtol=1e-12)
        assert model.backward(Y, model.forward(X)) == pytest.approx(readable.backward(Y, readable.forward(X)))
        for fast, slow in zip(model.layers, readable.layers):
            for name in slow.gradients:
                np.testing.assert_allclose(fast.gradients[name], slow.gradients[name], rtol=1e-10, atol=1e-12)
        model.update(0)
        readable.update(0)
    assert use_fast_layers(model) is model and type(model.layers[0]) is FastConv2D


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_copy_cells_moves_every_value_unchanged(dtype):
    # Cells as raw items: -0.0, NaN and inf arrive bit for bit, through strided
    # views and broadcasting; a view whose channels are strided takes np.copyto.
    rng = np.random.default_rng(12)
    src = rng.standard_normal((3, 4, 6, 5)).astype(dtype)
    src[0, 0, 0, :3] = [-0.0, np.nan, np.inf]
    dst = np.zeros((3, 8, 12, 5), dtype=dtype)
    copy_cells(dst[:, ::2, 1::2], src)
    assert dst[:, ::2, 1::2].tobytes() == src.tobytes()
    assert not dst[:, 1::2].any() and not dst[:, ::2, ::2].any()
    copy_cells(dst[:, :, :, ::-1][:, :4, :6], src)  # channels strided backwards
    np.testing.assert_array_equal(dst[:, :4, :6, ::-1], src)
    broadcast = np.zeros((2, 3, 4, 6, 5), dtype=dtype)
    copy_cells(broadcast, src[0])
    assert all(cell.tobytes() == src[0].tobytes() for cell in broadcast.reshape(6, 4, 6, 5))


def test_overlapping_max_pool_backward_over_several_blocks_of_images():
    # Large images: their gradient sums are added a few images at a time.
    rng = np.random.default_rng(11)
    X = rng.standard_normal((5, 230, 230, 1))
    layer = FastPool2D(3, "max", stride=2, pad=1)
    dY = rng.standard_normal(layer.forward(X).shape)
    np.testing.assert_allclose(layer.backward(dY), loops.pool2d_backward(X, dY, (3, 3), (2, 2), layer.pads, "max"),
                               rtol=1e-12, atol=1e-12)


def test_conv_input_gradient_over_several_blocks_of_images():
    # Large images: dX is computed a few images at a time.
    rng = np.random.default_rng(13)
    X = rng.standard_normal((5, 60, 60, 8))
    layer = FastConv2D(2, 3, "linear", seed=0)
    dZ = rng.standard_normal(layer.forward(X).shape)
    dX_ref, _, _ = loops.conv2d_backward(X, layer.parameters["W"], dZ, layer.stride, layer.pads)
    np.testing.assert_allclose(layer.backward(dZ), dX_ref, rtol=1e-10, atol=1e-10)
