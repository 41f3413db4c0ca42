"""Window kernels of im2col.py against the loop formulas of reference.py,
against the windows written out cell by cell, and against each other."""

import itertools

import numpy as np
import pytest

from neural_networks import im2col as kernels
import loops as reference
from neural_networks.im2col import (
    average_pool,
    average_pool_backward,
    col2im,
    col2im_product,
    im2col,
    max_pool,
    max_pool_backward,
    output_shape,
    pool_col2im,
    pool_windows,
    window_argmax,
)


def random_geometries(seed, count, pool=False):
    """``(X_shape, kernel_shape, stride, pads)``: strides 1-3, odd, even and
    non-square kernels, asymmetric pads (smaller than the kernel for pools)."""
    rng = np.random.default_rng(seed)
    geometries = []
    while len(geometries) < count:
        kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
        stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
        pads = tuple(
            tuple(int(p) for p in rng.integers(0, k if pool else 3, size=2)) for k in kernel
        )
        X_shape = (int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9)),
                   int(rng.integers(1, 4)))
        if all(size + sum(p) >= k for size, p, k in zip(X_shape[1:3], pads, kernel)):
            geometries.append((X_shape, kernel, stride, pads))
    return geometries


# Windows that tile the input (stride == kernel), with and without leftover
# rows and columns, plus the layer sizes of the course's CNN.
TILING = [
    ((2, 4, 6, 3), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((3, 5, 7, 2), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((2, 6, 6, 1), (3, 2), (3, 2), ((0, 0), (0, 0))),
    ((2, 6, 6, 4), (2, 2), (2, 2), ((0, 1), (0, 1))),  # "same": the pad is never read
    ((4, 28, 28, 8), (2, 2), (2, 2), ((0, 0), (0, 0))),
]
GEOMETRIES = random_geometries(0, 40) + TILING
POOL_GEOMETRIES = random_geometries(1, 40, pool=True) + TILING


def geometry_id(geometry):
    X_shape, kernel, stride, pads = geometry
    return f"X{X_shape}-k{kernel}-s{stride}-p{pads}".replace(" ", "")


def loop_im2col(X, kernel, stride, pads):
    """The im2col matrix written cell by cell from its definition."""
    kh, kw = kernel
    Xp = np.pad(X, ((0, 0), pads[0], pads[1], (0, 0)))
    out_rows = (Xp.shape[1] - kh) // stride[0] + 1
    out_cols = (Xp.shape[2] - kw) // stride[1] + 1
    batch, channels = X.shape[0], X.shape[3]
    cols = np.zeros((batch * out_rows * out_cols, kh * kw * channels))
    for n, r, c, i, j, ch in itertools.product(range(batch), range(out_rows), range(out_cols),
                                               range(kh), range(kw), range(channels)):
        row = (n * out_rows + r) * out_cols + c
        cols[row, (i * kw + j) * channels + ch] = Xp[n, r * stride[0] + i, c * stride[1] + j, ch]
    return cols


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
def test_im2col_matches_the_windows_written_out(geometry):
    X_shape, kernel, stride, pads = geometry
    X = np.random.default_rng(2).standard_normal(X_shape)
    np.testing.assert_array_equal(im2col(X, kernel, stride, pads), loop_im2col(X, kernel, stride, pads))


def assert_adjoint(gather, scatter, geometry, seed):
    """<scatter(C), X> == <C, gather(X)> for random X and C: ``scatter`` is
    the adjoint (the transpose) of the linear map ``gather``."""
    X_shape, kernel, stride, pads = geometry
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(X_shape)
    gathered = gather(X, kernel, stride, pads)
    C = rng.standard_normal(gathered.shape)
    left = np.sum(scatter(C, X_shape, kernel, stride, pads) * X)
    right = np.sum(C * gathered)
    assert abs(left - right) <= 1e-12 * max(1.0, np.sum(np.abs(C * gathered)))


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
def test_col2im_is_the_adjoint_of_im2col(geometry):
    assert_adjoint(im2col, col2im, geometry, seed=3)


@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=geometry_id)
def test_pool_col2im_is_the_adjoint_of_pool_windows(geometry):
    assert_adjoint(pool_windows, pool_col2im, geometry, seed=4)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
def test_convolution_through_im2col_matches_the_loops(geometry):
    X_shape, kernel, stride, pads = geometry
    rng = np.random.default_rng(5)
    X = rng.standard_normal(X_shape)
    W = rng.standard_normal((*kernel, X_shape[3], 2))
    b = rng.standard_normal((1, 2))
    out_rows, out_cols = output_shape(X_shape, kernel, stride, pads)
    Z = (im2col(X, kernel, stride, pads) @ W.reshape(-1, 2) + b).reshape(X_shape[0], out_rows, out_cols, 2)
    np.testing.assert_allclose(Z, reference.conv2d_forward(X, W, b, stride, pads), rtol=1e-12, atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    dX = col2im(dZ.reshape(-1, 2) @ W.reshape(-1, 2).T, X_shape, kernel, stride, pads)
    dX_ref, _, _ = reference.conv2d_backward(X, W, dZ, stride, pads)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
def test_col2im_product_is_col2im_of_the_product(geometry):
    X_shape, kernel, stride, pads = geometry
    rng = np.random.default_rng(11)
    W = rng.standard_normal((*kernel, X_shape[3], 3))
    out_rows, out_cols = output_shape(X_shape, kernel, stride, pads)
    dZ = rng.standard_normal((X_shape[0], out_rows, out_cols, 3))
    dX = col2im_product(dZ.reshape(-1, 3), W, X_shape, stride, pads)
    X = rng.standard_normal(X_shape)
    dX_ref, _, _ = reference.conv2d_backward(X, W, dZ, stride, pads)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dX, col2im(dZ.reshape(-1, 3) @ W.reshape(-1, 3).T, X_shape, kernel, stride, pads),
                               rtol=1e-12, atol=1e-12)


def pool_input(rng, shape, ties):
    """Random values, or (``ties``) a few small integers so that most windows
    hold their maximum more than once."""
    if ties:
        return rng.integers(-2, 2, size=shape).astype(np.float64)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=geometry_id)
def test_max_pool_matches_the_loops(geometry, ties):
    X_shape, kernel, stride, pads = geometry
    rng = np.random.default_rng(6)
    X = pool_input(rng, X_shape, ties)
    Y, winner = max_pool(X, kernel, stride, pads)
    np.testing.assert_array_equal(Y, reference.pool2d_forward(X, kernel, stride, pads, "max"))
    dY = rng.standard_normal(Y.shape)
    dX = max_pool_backward(dY, winner, X_shape, kernel, stride, pads)
    np.testing.assert_allclose(dX, reference.pool2d_backward(X, dY, kernel, stride, pads, "max"),
                               rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=geometry_id)
def test_max_pool_matches_the_window_formulation(geometry, ties):
    # The same numbers as gathering all windows, then max and first argmax.
    X_shape, kernel, stride, pads = geometry
    X = pool_input(np.random.default_rng(7), X_shape, ties)
    windows = pool_windows(X, kernel, stride, pads, fill=-np.inf)
    Y, winner = max_pool(X, kernel, stride, pads)
    np.testing.assert_array_equal(Y, windows.max(axis=0))
    np.testing.assert_array_equal(winner, windows.argmax(axis=0))
    np.testing.assert_array_equal(window_argmax(windows, windows.max(axis=0)), windows.argmax(axis=0))


@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=geometry_id)
def test_average_pool_matches_the_loops(geometry):
    X_shape, kernel, stride, pads = geometry
    rng = np.random.default_rng(8)
    X = rng.standard_normal(X_shape)
    Y = average_pool(X, kernel, stride, pads)
    np.testing.assert_allclose(Y, reference.pool2d_forward(X, kernel, stride, pads, "average"),
                               rtol=1e-13, atol=1e-14)
    dY = rng.standard_normal(Y.shape)
    dX = average_pool_backward(dY, X_shape, kernel, stride, pads)
    np.testing.assert_allclose(dX, reference.pool2d_backward(X, dY, kernel, stride, pads, "average"),
                               rtol=1e-13, atol=1e-14)


def test_max_pool_ties_go_to_the_first_cell_in_row_major_order():
    # Window [[1, 5], [5, 5]]: the maximum 5 sits at offsets 1, 2 and 3; offset 1 wins.
    X = np.array([[1.0, 5.0], [5.0, 5.0]]).reshape(1, 2, 2, 1)
    Y, winner = max_pool(X, (2, 2), (2, 2), ((0, 0), (0, 0)))
    assert Y.item() == 5.0 and winner.item() == 1
    dX = max_pool_backward(np.full((1, 1, 1, 1), 7.0), winner, X.shape, (2, 2), (2, 2), ((0, 0), (0, 0)))
    np.testing.assert_array_equal(dX.reshape(2, 2), [[0.0, 7.0], [0.0, 0.0]])


def test_max_pool_winner_is_a_small_integer():
    X = np.zeros((1, 4, 4, 1))
    assert max_pool(X, (2, 2), (2, 2), ((0, 0), (0, 0)))[1].dtype == np.uint8
    assert max_pool(X, (4, 4), (1, 1), ((0, 0), (0, 0)))[1].dtype == np.uint8


@pytest.mark.parametrize("geometry", [TILING[1], POOL_GEOMETRIES[0], GEOMETRIES[3]], ids=geometry_id)
def test_batches_split_into_blocks_give_the_same_numbers(geometry, monkeypatch):
    # One image per block (and a last block of another size) against the loops.
    X_shape, kernel, stride, pads = geometry
    monkeypatch.setattr(kernels, "BLOCK_BYTES", 1)
    X_shape = (5, *X_shape[1:])
    rng = np.random.default_rng(9)
    X = rng.standard_normal(X_shape)
    if all(max(p) < k for p, k in zip(pads, kernel)):
        Y, winner = max_pool(X, kernel, stride, pads)
        np.testing.assert_array_equal(Y, reference.pool2d_forward(X, kernel, stride, pads, "max"))
        dY = rng.standard_normal(Y.shape)
        np.testing.assert_allclose(max_pool_backward(dY, winner, X_shape, kernel, stride, pads),
                                   reference.pool2d_backward(X, dY, kernel, stride, pads, "max"), atol=1e-14)
        np.testing.assert_allclose(average_pool_backward(dY, X_shape, kernel, stride, pads),
                                   reference.pool2d_backward(X, dY, kernel, stride, pads, "average"),
                                   atol=1e-14)
    np.testing.assert_array_equal(im2col(X, kernel, stride, pads), loop_im2col(X, kernel, stride, pads))
    C = rng.standard_normal((X_shape[0] * np.prod(output_shape(X_shape, kernel, stride, pads)),
                             kernel[0] * kernel[1] * X_shape[3]))
    left = np.sum(col2im(C, X_shape, kernel, stride, pads) * X)
    assert abs(left - np.sum(C * im2col(X, kernel, stride, pads))) <= 1e-12 * np.abs(C).sum()
    W = rng.standard_normal((*kernel, X_shape[3], 2))
    dZ = rng.standard_normal((C.shape[0], 2))
    np.testing.assert_allclose(col2im_product(dZ, W, X_shape, stride, pads),
                               col2im(dZ @ W.reshape(-1, 2).T, X_shape, kernel, stride, pads), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_keep_the_dtype_and_accept_non_contiguous_input(dtype):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((3, 8, 6, 4)).astype(dtype).transpose(0, 2, 1, 3)  # (3, 6, 8, 4), strided
    pads = ((0, 0), (0, 0))
    Y, winner = max_pool(X, (2, 2), (2, 2), pads)
    assert Y.dtype == dtype
    np.testing.assert_array_equal(Y, reference.pool2d_forward(X, (2, 2), (2, 2), pads, "max"))
    dY = rng.standard_normal(Y.shape).astype(dtype)
    assert max_pool_backward(dY, winner, X.shape, (2, 2), (2, 2), pads).dtype == dtype
    assert average_pool(X, (2, 2), (2, 2), pads).dtype == dtype
    assert average_pool_backward(dY, X.shape, (2, 2), (2, 2), pads).dtype == dtype
    cols = im2col(X, (3, 3), (1, 1), ((1, 1), (1, 1)))
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, loop_im2col(X.astype(np.float64), (3, 3), (1, 1), ((1, 1), (1, 1))))
    assert col2im(cols, X.shape, (3, 3), (1, 1), ((1, 1), (1, 1))).dtype == dtype
    W = rng.standard_normal((3, 3, 4, 2)).astype(dtype)
    dZ = rng.standard_normal((cols.shape[0], 2)).astype(dtype)
    assert col2im_product(dZ, W, X.shape, (1, 1), ((1, 1), (1, 1))).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_copy_cells_moves_every_value_unchanged(dtype):
    # Cells as raw items: -0.0, NaN and inf arrive bit for bit, through strided
    # views and broadcasting; a view whose channels are strided takes np.copyto.
    rng = np.random.default_rng(12)
    src = rng.standard_normal((3, 4, 6, 5)).astype(dtype)
    src[0, 0, 0, :3] = [-0.0, np.nan, np.inf]
    dst = np.zeros((3, 8, 12, 5), dtype=dtype)
    kernels.copy_cells(dst[:, ::2, 1::2], src)
    assert dst[:, ::2, 1::2].tobytes() == src.tobytes()
    assert not dst[:, 1::2].any() and not dst[:, ::2, ::2].any()
    np.testing.assert_equal(np.signbit(dst[0, 0, 1, 0]), True)
    kernels.copy_cells(dst[:, :, :, ::-1][:, :4, :6], src)  # channels strided backwards
    np.testing.assert_array_equal(dst[:, :4, :6, ::-1], src)
    broadcast = np.zeros((2, 3, 4, 6, 5), dtype=dtype)
    kernels.copy_cells(broadcast, src[0])
    assert all(cell.tobytes() == src[0].tobytes() for cell in broadcast.reshape(6, 4, 6, 5))
