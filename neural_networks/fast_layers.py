"""Tuned kernels for Conv2D and Pool2D: the numbers of ``layers.py`` (to float
rounding), sooner. :func:`use_fast_layers` switches a built network to them, as
``train_cnn.py`` does when ``model_args["fast_layers"]`` is True. Each kernel
says where its time goes; ``benchmarks/bench_targets.py`` times both versions.

Images are ``(batch, rows, cols, channels)``; ``kernel_shape``, ``stride``
and ``pads = ((top, bottom), (left, right))`` are the layers' attributes.
"""

from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .checks import check_layer_upstream
from .layers import Conv2D, Pool2D


class FastConv2D(Conv2D):
    """:class:`layers.Conv2D` on this module's kernels: the same arguments,
    attributes, cache keys (``X``, ``Z``), shapes and numbers."""

    # (X, im2col(X)) of the last forward; backward gathers anew for another X.
    _columns = (None, None)

    def forward(self, X):
        X = self._checked_input(X)
        W, b = self.parameters["W"], self.parameters["b"]

        X_cols = im2col(X, self.kernel_shape, self.stride, self.pads)
        Z = X_cols @ W.reshape(-1, self.n_out)
        Z += b  # in place: Z is the layer's largest array, a second one costs a pass
        Z = Z.reshape(self.output_shape_for(X.shape))
        self.cache = OrderedDict([("X", X), ("Z", Z)])
        self._columns = (X, X_cols)
        return self.activation.forward(Z)

    def backward(self, dLdY):
        """Fills ``gradients``; works on a cache set by hand (``X`` and ``Z``) too."""
        dLdY = check_layer_upstream(self, dLdY)
        X, Z = self.cache["X"], self.cache["Z"]
        W = self.parameters["W"]
        columns_of, X_cols = self._columns
        if columns_of is not X:
            X_cols = im2col(X, self.kernel_shape, self.stride, self.pads)

        dZ = self.activation.backward(Z, dLdY)
        dZ_rows = dZ.reshape(-1, self.n_out)  # a row per output cell, as X_cols has
        self.gradients["W"] = (X_cols.T @ dZ_rows).reshape(W.shape)
        self.gradients["b"] = np.ones((1, len(dZ_rows)), dZ.dtype) @ dZ_rows  # the BLAS product 1^T dZ
        if not self.input_gradient:
            return None
        return col2im_product(dZ, W, X.shape, self.stride, self.pads)


class FastPool2D(Pool2D):
    """:class:`layers.Pool2D` on this module's kernels: the same arguments,
    attributes, shapes and numbers; the cache holds ``X``."""

    # (X, winner) of the last max-pooling forward; backward finds them anew for another X.
    _winners = (None, None)

    def forward(self, X):
        X = self._checked_input(X)

        if self.mode == "max":
            Y, winner = max_pool(X, self.kernel_shape, self.stride, self.pads)
            self._winners = (X, winner)
        else:
            Y = average_pool(X, self.kernel_shape, self.stride, self.pads)
        self.cache = OrderedDict([("X", X)])
        return Y

    def backward(self, dLdY):
        dLdY = check_layer_upstream(self, dLdY)
        X = self.cache["X"]
        if self.mode == "average":
            return average_pool_backward(dLdY, X.shape, self.kernel_shape, self.stride, self.pads)
        winners_of, winner = self._winners
        if winners_of is not X:
            winner = max_pool(X, self.kernel_shape, self.stride, self.pads)[1]
        return max_pool_backward(dLdY, winner, X.shape, self.kernel_shape, self.stride, self.pads)


def use_fast_layers(model):
    """Switch every Conv2D and Pool2D in ``model.layers`` to FastConv2D or
    FastPool2D, in place, and return ``model``. Only each layer's class changes: it keeps
    its parameters, gradients, cache, rng and geometry, and whatever refers to it still does."""
    fast = {Conv2D: FastConv2D, Pool2D: FastPool2D}
    for layer in model.layers:
        if type(layer) in fast:
            layer.__class__ = fast[type(layer)]
    return model


# -- convolution ------------------------------------------------------------------------


def im2col(X, kernel_shape, stride, pads):
    """Every window of the zero-padded ``X`` as a row: ``(batch * out_rows *
    out_cols, kernel_rows * kernel_cols * channels)``, columns in the ``(i, j,
    channel)`` order of ``W``, so the convolution is ``im2col(...) @ W.reshape(-1, n_out)``."""
    windows = _windows(_pad(X, pads, 0.0), kernel_shape, stride)
    kh, kw, batch, out_rows, out_cols, channels = windows.shape
    X_cols = np.empty((batch, out_rows, out_cols, kh, kw, channels), dtype=X.dtype)
    if channels == 1:  # one kernel offset at a time: runs of a row of outputs, not of kw numbers
        for i in range(kh):
            for j in range(kw):
                X_cols[:, :, :, i, j] = windows[i, j]
    else:
        np.copyto(X_cols, windows.transpose(2, 3, 4, 0, 1, 5))
    return X_cols.reshape(batch * out_rows * out_cols, kh * kw * channels)


def col2im_product(dZ, W, X_shape, stride, pads):
    """``dL/dX`` (shape ``X_shape``) of a convolution: every window sends
    ``dZ @ W[i, j].T`` back to the input cell it read at offset ``(i, j)``.
    ``dZ`` is ``(batch, out_rows, out_cols, n_out)``."""
    kh, kw, channels, n_out = W.shape
    dtype = np.result_type(dZ, W)
    # (kernel_rows * kernel_cols, n_out, channels): every W[i, j].T, for one stacked product.
    W_offsets = np.ascontiguousarray(W.reshape(kh * kw, channels, n_out).transpose(0, 2, 1), dtype=dtype)
    dXp, dX = _padded(X_shape, pads, dtype)
    # A few images at a time, so that their shares, kh * kw times their size, stay in cache.
    block = max(1, (1 << 21) // (dZ.shape[1] * dZ.shape[2] * kh * kw * channels * dtype.itemsize))
    for start in range(0, len(dZ), block):
        dZ_block = dZ[start:start + block]
        shares = np.matmul(dZ_block.reshape(-1, n_out).astype(dtype, copy=False), W_offsets)
        _add_windows(dXp[start:start + block], shares.reshape(kh, kw, *dZ_block.shape[:3], channels), stride)
    return dX


# -- pooling ----------------------------------------------------------------------------


def max_pool(X, kernel_shape, stride, pads):
    """``(Y, winner)``: the maximum of every window of ``X`` (padded with
    -inf, so a padded cell never wins) and the offset ``i * kernel_cols + j``
    of its first maximum in row-major order, in the smallest unsigned integer
    type that holds every offset. The windows are copied into one contiguous
    slab per offset, then in-place ufuncs keep the running maximum and its offset."""
    view = _windows(_pad(X, pads, -np.inf), kernel_shape, stride)
    windows = np.empty(view.shape, dtype=X.dtype)
    copy_cells(windows, view)
    windows = windows.reshape(kernel_shape[0] * kernel_shape[1], *view.shape[2:])  # offsets first, flat
    Y = windows[0].copy()
    winner = np.zeros(Y.shape, dtype=np.min_scalar_type(len(windows) - 1))
    greater = np.empty(Y.shape, dtype=bool)
    offset = np.empty(Y.shape, dtype=winner.dtype)
    for k in range(1, len(windows)):
        # Only a strictly greater value takes over, so a tie keeps the earlier offset;
        # offsets grow with k, so the latest taker is the largest and max() records it.
        np.greater(windows[k], Y, out=greater)
        np.maximum(Y, windows[k], out=Y)
        np.multiply(greater.view(np.uint8), k, out=offset, casting="unsafe")
        np.maximum(winner, offset, out=winner)
    return Y, winner


def max_pool_backward(dY, winner, X_shape, kernel_shape, stride, pads):
    """``dL/dX`` of :func:`max_pool`: each window's ``dY`` goes to the cell
    at its ``winner`` offset; cells shared by overlapping windows add up."""
    if any(s < k for s, k in zip(stride, kernel_shape)):
        return _add_at_winners(dY, winner, X_shape, kernel_shape, stride, pads)
    kh, kw = kernel_shape
    offsets = np.arange(kh * kw, dtype=winner.dtype).reshape(kh, kw, 1, 1, 1, 1)
    # A mask product: np.where is several times slower (a NaN in dY spreads over its window).
    return _scatter(dY * (winner == offsets), X_shape, stride, pads)


def _add_at_winners(dY, winner, X_shape, kernel_shape, stride, pads):
    """:func:`max_pool_backward` for overlapping windows, where a cell may win
    several: ``np.bincount`` adds ``dY`` at the winners' flat positions in the
    padded gradient, a few images at a time (their sums then stay in cache)."""
    (top, bottom), (left, right) = pads
    batch, rows, cols, channels = X_shape
    padded = (rows + top + bottom, cols + left + right, channels)
    image, row = padded[0] * padded[1] * channels, padded[1] * channels
    block = max(1, (1 << 21) // (image * 8))  # images whose float64 sums take ~2 MB
    # The flat position of every window's first cell, and each offset's distance from it.
    first = (np.arange(block)[:, None, None, None] * image
             + np.arange(dY.shape[1])[:, None, None] * (stride[0] * row)
             + np.arange(dY.shape[2])[:, None] * (stride[1] * channels) + np.arange(channels))
    shift = (np.arange(kernel_shape[0])[:, None] * row + np.arange(kernel_shape[1]) * channels).ravel()
    dX = np.empty(X_shape, dtype=dY.dtype)
    for start in range(0, batch, block):
        n = min(block, batch - start)
        cells = first[:n] + shift[winner[start:start + n]]
        sums = np.bincount(cells.ravel(), weights=dY[start:start + n].ravel(), minlength=n * image)
        dX[start:start + n] = sums.reshape(n, *padded)[:, top:top + rows, left:left + cols]
    return dX


def average_pool(X, kernel_shape, stride, pads):
    """The mean of every window of ``X`` padded with zeros: the sum of its
    ``kernel_rows * kernel_cols`` cells, padded zeros included, over that count."""
    windows = _windows(_pad(X, pads, 0.0), kernel_shape, stride)
    Y = windows[0, 0].copy()
    for k in range(1, kernel_shape[0] * kernel_shape[1]):
        Y += windows[divmod(k, kernel_shape[1])]  # offset (i, j) = divmod(k, kernel_cols)
    Y /= kernel_shape[0] * kernel_shape[1]
    return Y


def average_pool_backward(dY, X_shape, kernel_shape, stride, pads):
    """``dL/dX`` of :func:`average_pool`: every cell of a window receives
    ``dY / (kernel_rows * kernel_cols)``; overlapping windows add up."""
    share = dY / (kernel_shape[0] * kernel_shape[1])
    return _scatter(np.broadcast_to(share, (*kernel_shape, *share.shape)), X_shape, stride, pads)


# -- windows ----------------------------------------------------------------------------


def _pad(X, pads, fill):
    """``X`` with ``pads`` rows and columns of ``fill`` around every image
    (``X`` itself when there is no padding)."""
    if not np.any(pads):
        return X
    Xp, cells = _padded(X.shape, pads, X.dtype, fill)
    cells[...] = X
    return Xp


def _windows(Xp, kernel_shape, stride, writeable=False):
    """A view of the windows of padded images ``Xp``, shape ``(kernel_rows,
    kernel_cols, batch, out_rows, out_cols, channels)``: ``[i, j, n, r, c]``
    is the cell ``Xp[n, r * row_stride + i, c * col_stride + j]``."""
    view = sliding_window_view(Xp, kernel_shape, axis=(1, 2), writeable=writeable)
    return view[:, ::stride[0], ::stride[1]].transpose(4, 5, 0, 1, 2, 3)


def _scatter(dwindows, X_shape, stride, pads):
    """``dL/dX`` from the gradients of the windows ``dwindows`` (shaped as
    :func:`_windows`): each offset's slab is added onto the input cells it
    read; the padding is dropped."""
    kh, kw = dwindows.shape[:2]
    if (kh, kw) == tuple(stride) and not np.any(pads) and X_shape[1] % kh == X_shape[2] % kw == 0:
        # The windows tile the input: each cell is written once, by one copy.
        dX = np.empty(X_shape, dtype=dwindows.dtype)
        copy_cells(_windows(dX, (kh, kw), stride, writeable=True), dwindows)
        return dX
    dXp, dX = _padded(X_shape, pads, dwindows.dtype)
    _add_windows(dXp, dwindows, stride)
    return dX


def _padded(X_shape, pads, dtype, fill=0.0):
    """``(Xp, cells)``: ``fill`` in the shape of the padded input, and the view
    of its cells that are not padding."""
    (top, bottom), (left, right) = pads
    batch, rows, cols, channels = X_shape
    Xp = np.full((batch, rows + top + bottom, cols + left + right, channels), fill, dtype=dtype)
    return Xp, Xp[:, top:top + rows, left:left + cols]


def _add_windows(dXp, dwindows, stride):
    """Add each offset's slab of ``dwindows`` onto the cells of ``dXp`` it read."""
    target = _windows(dXp, dwindows.shape[:2], stride, writeable=True)
    for i in range(dwindows.shape[0]):
        for j in range(dwindows.shape[1]):
            target[i, j] += dwindows[i, j]  # one offset's cells are distinct: no lost update


def copy_cells(dst, src):
    """``np.copyto(dst, src)``, moving each cell's channels (the last axis,
    when contiguous in both) as one raw item: one step per cell instead of one
    per number. The bytes move unchanged: -0.0, NaN and inf arrive bit for bit."""
    if (dst.dtype == src.dtype and dst.ndim and src.ndim and src.shape[-1] == dst.shape[-1]
            and dst.strides[-1] == dst.itemsize and src.strides[-1] == src.itemsize):
        cell = np.dtype((np.void, dst.shape[-1] * dst.itemsize))
        dst, src = dst.view(cell), src.view(cell)
    np.copyto(dst, src)
