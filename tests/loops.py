"""The tests' oracle: convolution and pooling as plain loops over every example
and output cell, straight from the formulas, sharing no code with the package.

Notation: ``X`` is ``(batch, rows, cols, in_channels)``, the kernel ``W`` is
``(kernel_rows, kernel_cols, in_channels, out_channels)``, ``b`` is
``(1, out_channels)``, ``Xp`` is ``X`` padded by ``pads = ((top, bottom),
(left, right))``, and ``(sr, sc)`` is the stride.
"""

import numpy as np



def pad_images(X, pads, value=0.0):
    (top, bottom), (left, right) = pads
    return np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def output_shape(X_shape, kernel_shape, stride, pads):
    """``floor((size + pad_before + pad_after - kernel) / stride) + 1`` per axis."""
    return tuple((X_shape[1 + a] + sum(pads[a]) - kernel_shape[a]) // stride[a] + 1 for a in range(2))


def conv2d_forward(X, W, b, stride, pads):
    """``Z[n, r, c, o] = b[o] + sum_{i, j, ch} Xp[n, r*sr + i, c*sc + j, ch] * W[i, j, ch, o]``."""
    kh, kw, _, n_out = W.shape
    sr, sc = stride
    Xp = pad_images(X, pads)
    out_rows, out_cols = output_shape(X.shape, (kh, kw), stride, pads)
    Z = np.zeros((X.shape[0], out_rows, out_cols, n_out), dtype=np.result_type(X, W))
    for n in range(X.shape[0]):
        for r in range(out_rows):
            for c in range(out_cols):
                window = Xp[n, r * sr:r * sr + kh, c * sc:c * sc + kw, :]
                for o in range(n_out):
                    Z[n, r, c, o] = np.sum(window * W[:, :, :, o]) + b[0, o]
    return Z


def conv2d_backward(X, W, dZ, stride, pads):
    """``(dX, dW, db)`` from ``dZ = dL/dZ``: every window passes ``dZ[n, r, c, o]``
    back to the weights it used (``dW``) and to the input cells it read (``dX``)."""
    kh, kw, _, n_out = W.shape
    sr, sc = stride
    Xp = pad_images(X, pads)
    dXp = np.zeros_like(Xp, dtype=np.result_type(X, W, dZ))
    dW = np.zeros_like(W, dtype=dXp.dtype)
    _, out_rows, out_cols, _ = dZ.shape
    for n in range(X.shape[0]):
        for r in range(out_rows):
            for c in range(out_cols):
                rows, cols = slice(r * sr, r * sr + kh), slice(c * sc, c * sc + kw)
                for o in range(n_out):
                    dW[:, :, :, o] += Xp[n, rows, cols, :] * dZ[n, r, c, o]
                    dXp[n, rows, cols, :] += W[:, :, :, o] * dZ[n, r, c, o]
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, n_out)
    (top, _), (left, _) = pads
    dX = dXp[:, top:top + X.shape[1], left:left + X.shape[2], :]
    return dX, dW, db


def pool2d_forward(X, kernel_shape, stride, pads, mode):
    """``Y[n, r, c, ch]`` = the max (or the mean) of the window
    ``Xp[n, r*sr : r*sr + kh, c*sc : c*sc + kw, ch]``.

    Max pooling pads with -inf (a padded cell never wins); average pooling
    pads with zeros and divides by the full window size ``kh * kw``.
    """
    kh, kw = kernel_shape
    sr, sc = stride
    Xp = pad_images(X, pads, -np.inf if mode == "max" else 0.0)
    out_rows, out_cols = output_shape(X.shape, kernel_shape, stride, pads)
    Y = np.zeros((X.shape[0], out_rows, out_cols, X.shape[3]), dtype=X.dtype)
    for n in range(X.shape[0]):
        for r in range(out_rows):
            for c in range(out_cols):
                for ch in range(X.shape[3]):
                    window = Xp[n, r * sr:r * sr + kh, c * sc:c * sc + kw, ch]
                    Y[n, r, c, ch] = window.max() if mode == "max" else window.sum() / (kh * kw)
    return Y


def pool2d_backward(X, dY, kernel_shape, stride, pads, mode):
    """``dX``: max pooling sends ``dY[n, r, c, ch]`` to the first maximum of its
    window (row-major order); average pooling spreads it evenly, ``1 / (kh * kw)``
    to every cell. Overlapping windows add up."""
    kh, kw = kernel_shape
    sr, sc = stride
    Xp = pad_images(X, pads, -np.inf if mode == "max" else 0.0)
    dXp = np.zeros(Xp.shape, dtype=dY.dtype)
    _, out_rows, out_cols, _ = dY.shape
    for n in range(X.shape[0]):
        for r in range(out_rows):
            for c in range(out_cols):
                for ch in range(X.shape[3]):
                    rows, cols = slice(r * sr, r * sr + kh), slice(c * sc, c * sc + kw)
                    if mode == "max":
                        i, j = np.unravel_index(np.argmax(Xp[n, rows, cols, ch]), (kh, kw))
                        dXp[n, r * sr + i, c * sc + j, ch] += dY[n, r, c, ch]
                    else:
                        dXp[n, rows, cols, ch] += dY[n, r, c, ch] / (kh * kw)
    (top, _), (left, _) = pads
    return dXp[:, top:top + X.shape[1], left:left + X.shape[2], :]


def pads_for(pad, kernel_shape):
    """``((top, bottom), (left, right))`` of ``pad``: "same" puts ``(k-1)//2``
    before and the rest of ``k-1`` after, "valid" nothing, an int that much."""
    if pad == "same":
        return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel_shape)
    if pad == "valid":
        return ((0, 0), (0, 0))
    return ((pad, pad), (pad, pad))
