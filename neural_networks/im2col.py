"""Sliding windows over images: padding, im2col and col2im.

A convolution or a pooling layer looks at one ``kernel_rows x kernel_cols``
window of its (padded) input for every output cell. These functions gather
those windows into arrays that NumPy can reduce or multiply in one call, and
send gradients back from the windows to the input cells they came from.

Images are ``(batch, rows, cols, channels)``. A layer's geometry is its
``kernel_shape = (kernel_rows, kernel_cols)``, ``stride = (row_stride,
col_stride)`` and ``pads = ((top, bottom), (left, right))``; the output has
``out_rows = floor((rows + top + bottom - kernel_rows) / row_stride) + 1``
rows (likewise for cols).

The windows are gathered one kernel offset ``(i, j)`` at a time: for a fixed
offset, the input cells that all windows read form one strided view of the
padded input, so the loop runs ``kernel_rows * kernel_cols`` times and each
step copies a whole batch. ``reference.py`` holds the same operations as
plain loops over every output cell, for reading and for the tests.
"""

import numpy as np

from .utils import check_int


def padding(pad, kernel_shape, where="pad"):
    """``((top, bottom), (left, right))`` for ``pad`` = "same", "valid" or an int.

    "same" pads ``(k - 1) // 2`` before and ``k - 1 - (k - 1) // 2`` after on
    each axis: the padding that keeps the size at stride 1.
    """
    if isinstance(pad, str):
        if pad == "valid":
            return ((0, 0), (0, 0))
        if pad == "same":
            return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel_shape)
        raise ValueError(f"{where}: pad must be 'same', 'valid' or an int >= 0; got {pad!r}")
    p = check_int(pad, "pad", where, minimum=0)
    return ((p, p), (p, p))


def output_shape(X_shape, kernel_shape, stride, pads):
    """``(out_rows, out_cols)`` of windows over images of shape ``X_shape``:
    ``floor((size + pad_before + pad_after - kernel) / stride) + 1`` per axis."""
    return tuple(
        (X_shape[axis + 1] + sum(pads[axis]) - kernel_shape[axis]) // stride[axis] + 1
        for axis in range(2)
    )


def pad_images(X, pads, value=0.0):
    """``X`` with ``pads`` rows and columns of ``value`` around every image
    (``X`` itself when there is no padding)."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return X
    return np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def crop_padding(Xp, pads, X_shape):
    """The inverse of :func:`pad_images`: the cells of ``Xp`` that were not padding."""
    (top, _), (left, _) = pads
    return Xp[:, top:top + X_shape[1], left:left + X_shape[2], :]


def window_offsets(kernel_shape, stride, out_shape):
    """For every kernel offset ``(i, j)`` in row-major order, the index of the
    padded input's cells that offset reads in all the windows at once:
    ``Xp[index][n, r, c, ch] == Xp[n, r * row_stride + i, c * col_stride + j, ch]``.

    Yields ``(i, j, index)``.
    """
    (kh, kw), (sh, sw), (out_rows, out_cols) = kernel_shape, stride, out_shape
    for i in range(kh):
        for j in range(kw):
            yield i, j, (
                slice(None),
                slice(i, i + sh * (out_rows - 1) + 1, sh),
                slice(j, j + sw * (out_cols - 1) + 1, sw),
            )


def im2col(X, kernel_shape, stride, pads):
    """Every window of the zero-padded ``X`` as one row of a matrix.

    Returns ``cols`` of shape ``(batch * out_rows * out_cols,
    kernel_rows * kernel_cols * channels)``: row ``(n, r, c)`` (in row-major
    order) holds the window whose top-left cell is ``(r * row_stride,
    c * col_stride)`` of image ``n``, flattened in the order ``(i, j, channel)``
    of a kernel ``W`` of shape ``(kernel_rows, kernel_cols, channels, n_out)``.
    A convolution is then ``cols @ W.reshape(-1, n_out)``.
    """
    Xp = pad_images(X, pads)
    out_rows, out_cols = output_shape(X.shape, kernel_shape, stride, pads)
    kh, kw = kernel_shape
    batch, channels = X.shape[0], X.shape[3]
    windows = np.empty((batch, out_rows, out_cols, kh, kw, channels), dtype=X.dtype)
    for i, j, index in window_offsets(kernel_shape, stride, (out_rows, out_cols)):
        windows[:, :, :, i, j, :] = Xp[index]
    return windows.reshape(batch * out_rows * out_cols, kh * kw * channels)


def col2im(cols, X_shape, kernel_shape, stride, pads):
    """The adjoint of :func:`im2col`: add every window's row of ``cols`` back
    onto the input cells it was gathered from (cells shared by overlapping
    windows receive the sum), and drop the padding.

    ``cols`` is ``(batch * out_rows * out_cols, kernel_rows * kernel_cols *
    channels)``; the result has shape ``X_shape``.
    """
    out_rows, out_cols = output_shape(X_shape, kernel_shape, stride, pads)
    kh, kw = kernel_shape
    batch, channels = X_shape[0], X_shape[3]
    windows = cols.reshape(batch, out_rows, out_cols, kh, kw, channels)
    dXp = _padded_zeros(X_shape, pads, cols.dtype)
    for i, j, index in window_offsets(kernel_shape, stride, (out_rows, out_cols)):
        dXp[index] += windows[:, :, :, i, j, :]
    return crop_padding(dXp, pads, X_shape)


def pool_windows(X, kernel_shape, stride, pads, fill=0.0):
    """Every window of ``X`` (padded with ``fill``), one kernel offset per slab.

    Returns ``windows`` of shape ``(kernel_rows * kernel_cols, batch,
    out_rows, out_cols, channels)``: ``windows[k]`` holds the cell at offset
    ``k = i * kernel_cols + j`` of every window. Pooling reduces over the
    first axis: ``windows.max(axis=0)`` or ``windows.mean(axis=0)``.
    """
    Xp = pad_images(X, pads, fill)
    out_rows, out_cols = output_shape(X.shape, kernel_shape, stride, pads)
    kh, kw = kernel_shape
    windows = np.empty((kh * kw, X.shape[0], out_rows, out_cols, X.shape[3]), dtype=X.dtype)
    for i, j, index in window_offsets(kernel_shape, stride, (out_rows, out_cols)):
        windows[i * kw + j] = Xp[index]
    return windows


def window_argmax(windows, window_max):
    """``windows.argmax(axis=0)``, the offset of the first maximum of every
    window, given ``window_max = windows.max(axis=0)``.

    NumPy's argmax over a leading axis copies the array into the transposed
    layout first; comparing one offset's slab at a time with the maximum is
    several times faster and gives the same first (row-major) offset on ties.
    """
    winner = np.full(window_max.shape, len(windows) - 1, dtype=np.intp)
    for k in range(len(windows) - 2, -1, -1):  # last to first: the first max wins
        winner[windows[k] == window_max] = k
    return winner


def pool_col2im(dwindows, X_shape, kernel_shape, stride, pads):
    """The adjoint of :func:`pool_windows`: add each offset's slab of
    ``dwindows`` back onto the input cells it read; drop the padding."""
    out_shape = dwindows.shape[2:4]
    kw = kernel_shape[1]
    dXp = _padded_zeros(X_shape, pads, dwindows.dtype)
    for i, j, index in window_offsets(kernel_shape, stride, out_shape):
        dXp[index] += dwindows[i * kw + j]
    return crop_padding(dXp, pads, X_shape)


def _padded_zeros(X_shape, pads, dtype):
    (top, bottom), (left, right) = pads
    batch, rows, cols, channels = X_shape
    return np.zeros((batch, rows + top + bottom, cols + left + right, channels), dtype=dtype)
