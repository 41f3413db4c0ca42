"""Sliding windows over images: padding, im2col, col2im and pooling.

A convolution or a pooling layer looks at one ``kernel_rows x kernel_cols``
window of its (padded) input for every output cell. These functions gather
those windows into arrays that NumPy can reduce or multiply in one call, and
send gradients back from the windows to the input cells they came from.

Images are ``(batch, rows, cols, channels)``. A layer's geometry is its
``kernel_shape = (kernel_rows, kernel_cols)``, ``stride = (row_stride,
col_stride)`` and ``pads = ((top, bottom), (left, right))``; the output has
``out_rows = floor((rows + top + bottom - kernel_rows) / row_stride) + 1``
rows (likewise for cols).

Two habits keep these functions fast; neither changes a single number:

* Gathering the windows is one copy from a strided view of the padded
  input (``as_strided``) rather than one copy per kernel offset: each inner
  loop of NumPy's copy then moves ``kernel_cols * channels`` contiguous
  numbers instead of ``channels`` (the per-loop overhead, not the memory,
  dominates when channels are few).
* The batch is processed in slices of a few images (``BLOCK_BYTES`` of
  windows, see ``_Geometry.blocks``) that fit in the processor's cache, so
  the several passes that a maximum, its winner, a sum of windows or the
  scatter of their gradients take read the cache, not memory. Padding is
  written into a small reused buffer per slice instead of a padded copy of
  the whole batch, and is skipped when no window reads it. (Backward passes
  instead scatter into one zeroed array of padded images for the whole
  batch, and the input gradient is its unpadded part, a view: no cropping
  copy.)

``reference.py`` holds the same operations as plain loops over every output
cell, for reading and for the tests.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .checks import check_int

# Bytes of windows processed at a time: small enough to stay in a core's cache.
BLOCK_BYTES = 1 << 21


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


# -- convolution ------------------------------------------------------------------------


def im2col(X, kernel_shape, stride, pads):
    """Every window of the zero-padded ``X`` as one row of a matrix.

    Returns ``cols`` of shape ``(batch * out_rows * out_cols,
    kernel_rows * kernel_cols * channels)``: row ``(n, r, c)`` (in row-major
    order) holds the window whose top-left cell is ``(r * row_stride,
    c * col_stride)`` of image ``n``, flattened in the order ``(i, j, channel)``
    of a kernel ``W`` of shape ``(kernel_rows, kernel_cols, channels, n_out)``.
    A convolution is then ``cols @ W.reshape(-1, n_out)``.

    Each block of images is padded into a small reused buffer and copied
    in one pass from a strided view of it (``windows[n, r, c, i, j]`` is the
    cell ``Xp[n, r * row_stride + i, c * col_stride + j]``), whose runs of
    contiguous numbers are ``kernel_cols * channels`` long at column stride 1.
    Single-channel images are copied one kernel offset at a time instead:
    there a run along the output columns is the longer one.
    """
    X = np.ascontiguousarray(X)
    geometry = _Geometry(X.shape, kernel_shape, stride, pads, itemsize=X.itemsize)
    (kh, kw), (out_rows, out_cols) = kernel_shape, geometry.out_shape
    batch, channels = X.shape[0], X.shape[3]
    windows = np.empty((batch, out_rows, out_cols, kh, kw, channels), dtype=X.dtype)
    for block, Xp in geometry.padded_blocks(X, 0.0):
        if channels == 1:
            for i, j, index in window_offsets(kernel_shape, stride, geometry.out_shape):
                windows[block, :, :, i, j, :] = Xp[index]
        else:
            np.copyto(windows[block], geometry.window_view(Xp, offsets_first=False))
    return windows.reshape(batch * out_rows * out_cols, kh * kw * channels)


def col2im(cols, X_shape, kernel_shape, stride, pads):
    """The adjoint of :func:`im2col`: add every window's row of ``cols`` back
    onto the input cells it was gathered from (cells shared by overlapping
    windows receive the sum), and drop the padding.

    ``cols`` is ``(batch * out_rows * out_cols, kernel_rows * kernel_cols *
    channels)``; the result has shape ``X_shape``.
    """
    geometry = _Geometry(X_shape, kernel_shape, stride, pads, itemsize=cols.itemsize)
    (kh, kw), (out_rows, out_cols) = kernel_shape, geometry.out_shape
    batch, channels = X_shape[0], X_shape[3]
    windows = cols.reshape(batch, out_rows, out_cols, kh, kw, channels)
    padded, dX = geometry.gradient_arrays(cols.dtype)
    for block, dXp in geometry.scatter_blocks(padded):
        geometry.add_windows(dXp, windows[block].transpose(3, 4, 0, 1, 2, 5))
    return dX


def col2im_product(dZ, W, X_shape, stride, pads):
    """``col2im(dZ @ W.reshape(-1, n_out).T, X_shape, W.shape[:2], stride, pads)``:
    the gradient of a convolution with respect to its input.

    ``dZ`` is ``(batch * out_rows * out_cols, n_out)`` and ``W`` is
    ``(kernel_rows, kernel_cols, channels, n_out)``. Rather than building the
    whole ``(batch * out_rows * out_cols, kernel_rows * kernel_cols *
    channels)`` matrix and reading it back offset by offset (runs of
    ``channels`` numbers), each block of images gets one small product per
    kernel offset, ``dZ_block @ W[i, j].T``, laid out contiguously and added
    onto the cells that offset read.
    """
    kernel_shape = W.shape[:2]
    dtype = np.result_type(dZ, W)
    geometry = _Geometry(X_shape, kernel_shape, stride, pads, itemsize=dtype.itemsize)
    out_rows, out_cols = geometry.out_shape
    channels, n_out = W.shape[2], W.shape[3]
    # (kh * kw, n_out, channels): one W[i, j].T per offset, for a stacked product.
    W_offsets = np.ascontiguousarray(W.reshape(-1, channels, n_out).transpose(0, 2, 1), dtype=dtype)
    padded, dX = geometry.gradient_arrays(dtype)
    cells = out_rows * out_cols
    shares = None
    for block, dXp in geometry.scatter_blocks(padded):
        dZ_block = dZ[block.start * cells:block.stop * cells]
        size = block.stop - block.start
        if shares is None or shares.shape[1] != dZ_block.shape[0]:
            shares = np.empty((geometry.n_offsets, dZ_block.shape[0], channels), dtype=dtype)
        np.matmul(dZ_block, W_offsets, out=shares)
        geometry.add_windows(dXp, shares.reshape(*kernel_shape, size, out_rows, out_cols, channels))
    return dX


# -- pooling ----------------------------------------------------------------------------


def pool_windows(X, kernel_shape, stride, pads, fill=0.0):
    """Every window of ``X`` (padded with ``fill``), one kernel offset per slab.

    Returns ``windows`` of shape ``(kernel_rows * kernel_cols, batch,
    out_rows, out_cols, channels)``: ``windows[k]`` holds the cell at offset
    ``k = i * kernel_cols + j`` of every window. Pooling reduces over the
    first axis: ``windows.max(axis=0)`` or ``windows.mean(axis=0)``;
    :func:`max_pool` and :func:`average_pool` compute the same a block of
    images at a time, without holding all the windows at once.
    """
    X = np.ascontiguousarray(X)
    geometry = _Geometry(X.shape, kernel_shape, stride, pads, itemsize=X.itemsize)
    windows = np.empty((geometry.n_offsets, X.shape[0], *geometry.out_shape, X.shape[3]), dtype=X.dtype)
    for block, Xp in geometry.padded_blocks(X, fill):
        slab = windows[:, block]
        copy_cells(slab.reshape(*kernel_shape, *slab.shape[1:]), geometry.window_view(Xp))
    return windows


def window_argmax(windows, window_max):
    """``windows.argmax(axis=0)``, the offset of the first maximum of every
    window, given ``window_max = windows.max(axis=0)``; the smallest integer
    type that holds every offset (uint8 up to 256 offsets).

    NumPy's argmax over a leading axis copies the array into the transposed
    layout first; comparing one offset's slab at a time with the maximum is
    several times faster and gives the same first (row-major) offset on ties.
    """
    winner = np.full(window_max.shape, len(windows) - 1, dtype=_offset_type(len(windows)))
    for k in range(len(windows) - 2, -1, -1):  # last to first: the first max wins
        np.copyto(winner, k, where=windows[k] == window_max)
    return winner


def pool_col2im(dwindows, X_shape, kernel_shape, stride, pads):
    """The adjoint of :func:`pool_windows`: add each offset's slab of
    ``dwindows`` back onto the input cells it read; drop the padding."""
    geometry = _Geometry(X_shape, kernel_shape, stride, pads, itemsize=dwindows.itemsize)
    padded, dX = geometry.gradient_arrays(dwindows.dtype)
    for block, dXp in geometry.scatter_blocks(padded):
        geometry.add_windows(dXp, dwindows[:, block].reshape(*kernel_shape, *dwindows[:, block].shape[1:]))
    return dX


def max_pool(X, kernel_shape, stride, pads):
    """``(Y, winner)``: the maximum of every window of ``X`` (padded with
    -inf, so a padded cell never wins) and the offset ``i * kernel_cols + j``
    of its first maximum in row-major order.

    The same as ``windows = pool_windows(X, ..., fill=-np.inf)``,
    ``Y = windows.max(axis=0)``, ``winner = window_argmax(windows, Y)``, a
    block of images at a time. ``winner`` has the smallest integer type that
    holds every offset (uint8 up to 256 offsets).
    """
    X = np.ascontiguousarray(X)
    geometry = _Geometry(X.shape, kernel_shape, stride, pads, itemsize=X.itemsize)
    Y = np.empty((X.shape[0], *geometry.out_shape, X.shape[3]), dtype=X.dtype)
    winner = np.empty(Y.shape, dtype=_offset_type(geometry.n_offsets))
    windows = greater = offset = None
    for block, Xp in geometry.padded_blocks(X, -np.inf):
        if windows is None or windows.shape[1] != Xp.shape[0]:
            windows = np.empty((geometry.n_offsets, *Y[block].shape), dtype=X.dtype)
            greater = np.empty(Y[block].shape, dtype=bool)
            offset = np.empty(Y[block].shape, dtype=winner.dtype)
        copy_cells(windows.reshape(*kernel_shape, *windows.shape[1:]), geometry.window_view(Xp))
        y, w = Y[block], winner[block]
        if geometry.n_offsets == 1:
            np.copyto(y, windows[0])
            w.fill(0)
            continue
        # Only a strictly greater value takes over: on a tie the earlier offset stays.
        np.greater(windows[1], windows[0], out=greater)
        np.maximum(windows[0], windows[1], out=y)
        np.copyto(w, greater)
        for k in range(2, geometry.n_offsets):
            # Offsets grow with k, so the latest taker is the largest: max() records it.
            np.greater(windows[k], y, out=greater)
            np.maximum(y, windows[k], out=y)
            np.multiply(greater.view(np.uint8), k, out=offset, casting="unsafe")
            np.maximum(w, offset, out=w)
    return Y, winner


def max_pool_backward(dY, winner, X_shape, kernel_shape, stride, pads):
    """``dL/dX`` of :func:`max_pool`: each window's ``dY`` goes to the cell
    at its ``winner`` offset; cells shared by overlapping windows add up.

    The same as ``pool_col2im(dwindows, ...)`` with ``dwindows[k] = dY``
    where ``winner == k`` and 0 elsewhere, a block of images at a time
    (overlapping windows: see :func:`_add_at_winners`).
    """
    geometry = _Geometry(X_shape, kernel_shape, stride, pads, itemsize=dY.itemsize)
    if geometry.overlap:
        return _add_at_winners(dY, winner, geometry)
    padded, dX = geometry.gradient_arrays(dY.dtype)
    offsets = np.arange(geometry.n_offsets, dtype=winner.dtype).reshape(-1, 1, 1, 1, 1)
    dwindows = won = None
    for block, dXp in geometry.scatter_blocks(padded):
        dy, w = dY[block], winner[block]
        if dwindows is None or dwindows.shape[1] != dy.shape[0]:
            dwindows = np.empty((geometry.n_offsets, *dy.shape), dtype=dY.dtype)
            won = np.empty(dwindows.shape, dtype=bool)
        # dwindows[k] = dY where offset k won the window, else 0.
        np.equal(w, offsets, out=won)
        np.multiply(dy, won, out=dwindows)
        geometry.add_windows(dXp, dwindows.reshape(*kernel_shape, *dy.shape))
    return dX


def _add_at_winners(dY, winner, geometry):
    """:func:`max_pool_backward` for overlapping windows: a cell may win
    several windows, so the gradients are summed with one ``np.bincount``
    per block (a histogram of the winners' flat positions in the padded
    block, weighted by ``dY``) instead of one masked pass per kernel offset."""
    (top, _), (left, _) = geometry.pads
    batch, rows, cols, channels = geometry.X_shape
    padded_rows, padded_cols = geometry.padded_shape
    (kh, kw), (sh, sw), (out_rows, out_cols) = geometry.kernel_shape, geometry.stride, geometry.out_shape
    # Flat distance from a window's first cell to its cell at offset k = i * kw + j.
    shift = ((np.arange(kh)[:, None] * padded_cols + np.arange(kw)) * channels).ravel()
    image_size = padded_rows * padded_cols * channels
    dX = np.empty(geometry.X_shape, dtype=dY.dtype)
    first = None
    for block in geometry.blocks():
        size = block.stop - block.start
        if first is None or first.shape[0] != size:
            # The flat position of every window's first cell (and channel) in the block.
            first = (np.arange(size)[:, None, None, None] * image_size
                     + np.arange(out_rows)[:, None, None] * (sh * padded_cols * channels)
                     + np.arange(out_cols)[:, None] * (sw * channels) + np.arange(channels))
        position = first + np.take(shift, winner[block])
        sums = np.bincount(position.ravel(), weights=dY[block].ravel(), minlength=size * image_size)
        dX[block] = sums.reshape(size, padded_rows, padded_cols, channels)[:, top:top + rows, left:left + cols]
    return dX


def average_pool(X, kernel_shape, stride, pads):
    """The mean of every window of ``X`` padded with zeros: the sum of its
    ``kernel_rows * kernel_cols`` cells (padded zeros included) divided by
    that count. The same as ``pool_windows(X, ...).mean(axis=0)``, a block
    of images at a time, adding each kernel offset's strided view of the
    block straight into the output (no copy of the windows)."""
    X = np.ascontiguousarray(X)
    geometry = _Geometry(X.shape, kernel_shape, stride, pads, itemsize=X.itemsize)
    Y = np.empty((X.shape[0], *geometry.out_shape, X.shape[3]), dtype=X.dtype)
    offsets = [index for _, _, index in window_offsets(kernel_shape, stride, geometry.out_shape)]
    for block, Xp in geometry.padded_blocks(X, 0.0):
        y = Y[block]
        np.copyto(y, Xp[offsets[0]])
        for index in offsets[1:]:
            y += Xp[index]
    Y /= geometry.n_offsets
    return Y


def average_pool_backward(dY, X_shape, kernel_shape, stride, pads):
    """``dL/dX`` of :func:`average_pool`: every cell of a window receives
    ``dY / (kernel_rows * kernel_cols)``; overlapping windows add up."""
    geometry = _Geometry(X_shape, kernel_shape, stride, pads, itemsize=dY.itemsize)
    share = dY / geometry.n_offsets
    padded, dX = geometry.gradient_arrays(share.dtype)
    for block, dXp in geometry.scatter_blocks(padded):
        s = share[block]
        geometry.add_windows(dXp, np.broadcast_to(s, (*kernel_shape, *s.shape)))
    return dX


# -- the machinery ----------------------------------------------------------------------


def copy_cells(dst, src):
    """``np.copyto(dst, src)``, moving each cell's channels (the last axis) as
    one item when that axis is contiguous in both arrays.

    A strided copy of numbers pays NumPy's per-step cost for every number;
    viewed as one raw item of ``channels * itemsize`` bytes per cell, the same
    bytes move in one step per cell (in float32, a 2x2 pool's gather and
    scatter of 32-channel images take about a quarter less time). The bytes
    are copied as they are, so every value, -0.0 and NaN included, arrives
    unchanged.
    """
    if (dst.dtype == src.dtype and dst.ndim and src.ndim and src.shape[-1] == dst.shape[-1]
            and dst.strides[-1] == dst.itemsize and src.strides[-1] == src.itemsize):
        cell = np.dtype((np.void, dst.shape[-1] * dst.itemsize))
        dst, src = dst.view(cell), src.view(cell)
    np.copyto(dst, src)


def _offset_type(n_offsets):
    """The smallest unsigned integer type that holds ``0 .. n_offsets - 1``."""
    return np.min_scalar_type(max(n_offsets - 1, 0))


class _Geometry:
    """Windows of one kernel, stride and padding over images of one shape,
    and the block loops that :func:`im2col`, the pooling functions and their
    adjoints share."""

    def __init__(self, X_shape, kernel_shape, stride, pads, block_bytes=None, itemsize=8):
        self.X_shape = tuple(X_shape)
        self.kernel_shape = tuple(kernel_shape)
        self.stride = tuple(stride)
        self.pads = pads
        self.out_shape = output_shape(X_shape, kernel_shape, stride, pads)
        self.n_offsets = kernel_shape[0] * kernel_shape[1]
        (top, bottom), (left, right) = pads
        batch, rows, cols, channels = X_shape
        self.padded_shape = (rows + top + bottom, cols + left + right)
        # Do the windows read any padded cell? (If not, the padding is never built.)
        reach = [(n - 1) * s + k for n, s, k in zip(self.out_shape, stride, kernel_shape)]
        self.reads_padding = top > 0 or left > 0 or reach[0] > rows or reach[1] > cols
        # Do the windows cover every input cell exactly once?
        self.tiles = (self.stride == self.kernel_shape and not self.reads_padding
                      and reach == [rows, cols])
        self.overlap = any(s < k for s, k in zip(stride, kernel_shape))
        window_bytes = self.n_offsets * self.out_shape[0] * self.out_shape[1] * channels * itemsize
        image_bytes = max(window_bytes, rows * cols * channels * itemsize, 1)
        self.block = max(1, (BLOCK_BYTES if block_bytes is None else block_bytes) // image_bytes)

    def blocks(self):
        batch = self.X_shape[0]
        for start in range(0, batch, self.block):
            yield slice(start, min(start + self.block, batch))

    def padded_blocks(self, X, fill):
        """Yield ``(block, Xp)``: a slice of the batch and its images padded
        with ``fill`` (a reused buffer; ``X[block]`` itself when the windows
        read no padding)."""
        buffer = None
        (top, _), (left, _) = self.pads
        rows, cols = self.X_shape[1:3]
        for block in self.blocks():
            if not self.reads_padding:
                yield block, X[block]
                continue
            size = block.stop - block.start
            if buffer is None or buffer.shape[0] != size:
                buffer = np.full((size, *self.padded_shape, X.shape[3]), fill, dtype=X.dtype)
            buffer[:, top:top + rows, left:left + cols] = X[block]
            yield block, buffer

    def gradient_arrays(self, dtype):
        """``(padded, dX)`` for a backward pass: ``padded`` is the array of
        padded images ``(batch, padded_rows, padded_cols, channels)`` that the
        window gradients are added onto, and ``dX`` is its cells without the
        padding (a view of it, no copy). ``padded`` starts at zero, except
        when the windows tile the input: then every cell is written once,
        no padding is read, and ``padded`` is ``dX`` itself."""
        if self.tiles:
            dX = np.empty(self.X_shape, dtype=dtype)
            return dX, dX
        (top, _), (left, _) = self.pads
        batch, rows, cols, channels = self.X_shape
        padded = np.zeros((batch, *self.padded_shape, channels), dtype=dtype)
        return padded, padded[:, top:top + rows, left:left + cols]

    def scatter_blocks(self, padded):
        """Yield ``(block, padded[block])``: a slice of the batch and its
        padded images, to scatter that block's window gradients into."""
        for block in self.blocks():
            yield block, padded[block]

    def window_view(self, Xp, offsets_first=True):
        """A strided view of the windows of padded images ``Xp``
        ``(n, padded_rows, padded_cols, channels)``: shape
        ``(kernel_rows, kernel_cols, n, out_rows, out_cols, channels)`` (or
        ``(n, out_rows, out_cols, kernel_rows, kernel_cols, channels)``), the
        cell at offset ``(i, j)`` of window ``(r, c)`` of image ``n``."""
        sn, sr, sc = Xp.strides[:3]
        (kh, kw), (sh, sw), (out_rows, out_cols) = self.kernel_shape, self.stride, self.out_shape
        if offsets_first:
            shape, strides = (kh, kw, Xp.shape[0], out_rows, out_cols), (sr, sc, sn, sr * sh, sc * sw)
        else:
            shape, strides = (Xp.shape[0], out_rows, out_cols, kh, kw), (sn, sr * sh, sc * sw, sr, sc)
        return as_strided(Xp, shape + Xp.shape[3:], strides + Xp.strides[3:], writeable=False)

    def add_windows(self, dXp, dwindows):
        """Add ``dwindows`` ``(kernel_rows, kernel_cols, n, out_rows, out_cols,
        channels)`` onto the cells of ``dXp`` each offset read. Windows that
        tile the input are copied in one pass into a strided view of ``dXp``."""
        if self.tiles and dXp.shape[3] > 1:
            # (With one channel, a copy per offset runs along the output columns instead.)
            target = as_strided(dXp, *self._offsets_first_layout(dXp))
            copy_cells(target, dwindows)
            return
        for i, j, index in window_offsets(self.kernel_shape, self.stride, self.out_shape):
            if self.overlap:
                dXp[index] += dwindows[i, j]
            else:
                copy_cells(dXp[index], dwindows[i, j])

    def _offsets_first_layout(self, Xp):
        sn, sr, sc, sch = Xp.strides
        (kh, kw), (sh, sw), (out_rows, out_cols) = self.kernel_shape, self.stride, self.out_shape
        return (kh, kw, Xp.shape[0], out_rows, out_cols, Xp.shape[3]), (sr, sc, sn, sr * sh, sc * sw, sch)
