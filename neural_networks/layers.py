"""Layers: forward and backward passes over a mini-batch.

Every layer maps an input ``X`` to an output ``Y`` in ``forward`` and, in
``backward``, maps ``dL/dY`` to ``dL/dX`` while filling ``gradients`` with
``dL/dparameter`` (summed over the batch: the loss already holds the ``1/m``).
Parameters are created lazily, on the first ``forward``, once the input size
is known. Dense data is ``(batch, features)``; images are
``(batch, rows, cols, channels)``; kernels are
``(kernel_rows, kernel_cols, in_channels, out_channels)``.
"""

import numpy as np

from .activations import ACTIVATIONS, Activation, initialize_activation
from .utils import (
    check_array,
    check_int,
    check_pair,
    describe,
    lookup,
    make_rng,
)
from .weights import initialize_weights


class Layer:
    """Base class of all layers.

    Attributes
    ----------
    activation : Activation or None
    n_in, n_out : int or None
        Input and output features (channels for images); ``n_in`` is None
        until the first ``forward``.
    parameters, gradients : dict of str to ndarray
        The learnable arrays and ``dL/d`` each of them, under the same keys.
    cache : dict
        What ``forward`` keeps for ``backward``; each forward overwrites it.
    """

    def __init__(self):
        self.activation = None
        self.n_in = None
        self.n_out = None
        self.parameters = {}
        self.gradients = {}
        self.cache = {}
        self._out_shape = None  # shape of the last forward's output, checked by backward
        # The first layer of a network has no use for dL/dX (the data is not
        # trained): the model turns this off there, and backward returns None.
        self.input_gradient = True

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X):
        raise NotImplementedError

    def backward(self, dLdY):
        raise NotImplementedError

    def _init_parameters(self, X_shape):
        """Create the parameters for inputs of shape ``X_shape``."""
        raise NotImplementedError

    def _build(self, X):
        """Create the parameters for ``X``, in its precision (float32 or float64)."""
        self._init_parameters(X.shape)
        for key, value in self.parameters.items():
            self.parameters[key] = value.astype(X.dtype, copy=False)
        self.clear_gradients()

    def clear_gradients(self):
        """Reset every gradient to zeros of its parameter's shape."""
        for name, value in self.parameters.items():
            self.gradients[name] = np.zeros_like(value)

    def forward_with_param(self, param_name, X):
        """Return ``f(value)`` that sets ``parameters[param_name] = value`` and
        runs ``forward(X)`` on this fixed ``X``; the gradient checker uses it."""
        X = self._check_input(X, "forward_with_param")
        if self.n_in is None and self._has_parameters():
            self._build(X)
        if param_name not in self.parameters:
            raise ValueError(
                f"{self._name()}.forward_with_param: unknown param_name {param_name!r}; "
                f"this layer has {sorted(self.parameters)}"
            )

        def inner_forward(value):
            self.parameters[param_name] = value
            return self.forward(X)

        return inner_forward

    def _get_parameters(self):
        return list(self.parameters.values())

    def _get_cache(self):
        return list(self.cache.values())

    def _get_gradients(self):
        return list(self.gradients.values())

    # -- shared checks ----------------------------------------------------------

    def _has_parameters(self):
        return True

    def _name(self):
        return type(self).__name__

    def _check_input(self, X, method="forward"):
        where = f"{self._name()}.{method}"
        X = check_array(X, "X", where, ndim=self._input_ndim)
        # An empty batch is fine; an example with no features or channels is not.
        if X.ndim >= 2 and 0 in X.shape[1:]:
            raise ValueError(f"{where}: every axis of X but the batch must be non-empty; got shape {X.shape}")
        return X

    def _check_upstream(self, dLdY):
        """Check ``dLdY`` against the last forward's output shape."""
        where = f"{self._name()}.backward"
        if self._out_shape is None:
            raise ValueError(f"{where}: backward was called before forward")
        dLdY = check_array(dLdY, "dLdY", where)
        if dLdY.shape != self._out_shape:
            raise ValueError(
                f"{where}: dLdY must have the shape of the last output "
                f"{self._out_shape}; got {dLdY.shape}"
            )
        return dLdY

    def _check_parameter_shapes(self):
        """Parameters set by hand must keep the shapes the layer was built with."""
        expected = {"W": self._weight_shape(), "b": (1, self.n_out)}
        for name, shape in expected.items():
            value = self.parameters.get(name)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                got = value.shape if isinstance(value, np.ndarray) else describe(value)
                raise ValueError(
                    f"{self._name()}.forward: parameters[{name!r}] must be an array of shape "
                    f"{shape}; got {got}"
                )

    def _activate(self, X, Z):
        """Apply the activation to ``Z`` and cache ``X`` and ``Z`` for backward."""
        Y = self.activation.forward(Z)
        self.cache = {"X": X, "Z": Z}
        self._out_shape = Y.shape
        return Y

    def _preactivation_gradient(self, dLdY):
        """``dL/dZ`` from ``dL/dY`` through the activation (after checking ``dLdY``)."""
        dLdY = self._check_upstream(dLdY)
        return self.activation.backward(self.cache["Z"], dLdY)

    def _set_activation(self, activation):
        if isinstance(activation, Activation):
            return activation
        return initialize_activation("linear" if activation is None else activation)


class FullyConnected(Layer):
    """A dense layer ``Y = activation(X @ W + b)``.

    Parameters
    ----------
    n_out : int
        Output features.
    activation : str or Activation
        A name from ``activations.ACTIVATIONS``.
    weight_init : str
        A name from ``weights.initialize_weights``.
    seed : int or numpy.random.Generator, optional
        Draws the initial weights.

    Shape: ``X`` is ``(batch, n_in)``, ``Y`` is ``(batch, n_out)``;
    ``W`` is ``(n_in, n_out)`` and ``b`` is ``(1, n_out)``.
    """

    _input_ndim = 2

    def __init__(self, n_out, activation="linear", weight_init="xavier_uniform", seed=None):
        super().__init__()
        self.n_out = check_int(n_out, "n_out", "FullyConnected")
        self.activation = self._set_activation(activation)
        self.weight_init = weight_init
        self.init_weights = initialize_weights(weight_init, activation=_activation_name(self.activation))
        self.rng = make_rng(seed)

    def _weight_shape(self):
        return (self.n_in, self.n_out)

    def _init_parameters(self, X_shape):
        self.n_in = X_shape[1]
        W = self.init_weights(self._weight_shape(), self.rng)
        self.parameters = {"W": W, "b": np.zeros((1, self.n_out))}
        self.cache = {}
        self.clear_gradients()

    def forward(self, X):
        """``(batch, n_in) -> (batch, n_out)``; caches ``X`` and ``Z``."""
        X = self._check_input(X)
        if self.n_in is None:
            self._build(X)
        elif X.shape[1] != self.n_in:
            raise ValueError(
                f"FullyConnected.forward: X has {X.shape[1]} features but the layer "
                f"was built for n_in={self.n_in}; got shape {X.shape}"
            )
        self._check_parameter_shapes()
        Z = X @ self.parameters["W"]
        Z += self.parameters["b"]
        return self._activate(X, Z)

    def backward(self, dLdY):
        """``dL/dY (batch, n_out) -> dL/dX (batch, n_in)``; fills ``gradients``."""
        return self._backward_affine(self._preactivation_gradient(dLdY))

    def _backward_affine(self, dZ):
        """Backward through ``X @ W + b`` given ``dL/dZ`` (skips the activation;
        the model uses it for a fused softmax and cross-entropy)."""
        X = self.cache["X"]
        self.gradients["W"] = X.T @ dZ
        self.gradients["b"] = _column_sums(dZ)
        if not self.input_gradient:
            return None
        return dZ @ self.parameters["W"].T

    def __repr__(self):
        return (f"FullyConnected(n_out={self.n_out}, activation={self.activation!r}, "
                f"weight_init={self.weight_init!r}, n_in={self.n_in})")


def _column_sums(A):
    """``A.sum(axis=0, keepdims=True)`` for a tall 2-D array, as a matrix-vector
    product: BLAS does it several times faster than NumPy's reduction."""
    return (np.ones(A.shape[0], dtype=A.dtype) @ A)[np.newaxis, :]


def _activation_name(activation):
    """The registry name of an activation (it sets the initializer's gain)."""
    for name, cls in ACTIVATIONS.items():
        if type(activation) is cls:
            return name
    return None


def _padding(pad, kernel_shape, where):
    """``((top, bottom), (left, right))`` for "same", "valid" or an int."""
    if isinstance(pad, str):
        if pad == "valid":
            return ((0, 0), (0, 0))
        if pad == "same":
            return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel_shape)
        raise ValueError(f"{where}: pad must be 'same', 'valid' or an int >= 0; got {pad!r}")
    p = check_int(pad, "pad", where, minimum=0)
    return ((p, p), (p, p))


def _output_size(size, pads, kernel, stride):
    return (size + pads[0] + pads[1] - kernel) // stride + 1


class _Windowed(Layer):
    """What Conv2D and Pool2D share: kernel, stride, padding and the
    input checks for ``(batch, rows, cols, channels)`` images."""

    _input_ndim = 4

    def _setup_windows(self, kernel_shape, stride, pad):
        where = self._name()
        self.kernel_shape = check_pair(kernel_shape, "kernel_shape", where)
        self.stride = check_pair(stride, "stride", where)
        self.pad = pad
        self.pads = _padding(pad, self.kernel_shape, where)

    def _check_image(self, X, method="forward"):
        X = self._check_input(X, method)
        where = f"{self._name()}.{method}"
        if self.n_in is not None and X.shape[3] != self.n_in:
            raise ValueError(
                f"{where}: X has {X.shape[3]} channels but the layer was built for "
                f"n_in={self.n_in}; got shape {X.shape}"
            )
        for axis, name in ((1, "rows"), (2, "cols")):
            padded = X.shape[axis] + sum(self.pads[axis - 1])
            k = self.kernel_shape[axis - 1]
            if padded < k:
                raise ValueError(
                    f"{where}: the kernel ({k} {name}) is larger than the padded input "
                    f"({padded} {name}, from X of shape {X.shape} and pad={self.pad!r})"
                )
        return X

    def _geometry(self, X_shape):
        """``(out_rows, out_cols)`` by ``floor((in + pad_before + pad_after - k) / stride) + 1``."""
        return tuple(
            _output_size(X_shape[axis + 1], self.pads[axis], self.kernel_shape[axis], self.stride[axis])
            for axis in range(2)
        )

    def _pad(self, X, value=0.0):
        (top, bottom), (left, right) = self.pads
        if top == bottom == left == right == 0:
            return X
        return np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)

    def _offsets(self, out_rows, out_cols):
        """For each kernel offset ``(i, j)``, the slices of the padded input
        that the offset touches in every window: one strided view per offset."""
        kh, kw = self.kernel_shape
        sh, sw = self.stride
        for i in range(kh):
            for j in range(kw):
                yield i, j, (
                    slice(None),
                    slice(i, i + sh * (out_rows - 1) + 1, sh),
                    slice(j, j + sw * (out_cols - 1) + 1, sw),
                )

    def _unpad(self, dXp, X_shape):
        (top, _), (left, _) = self.pads
        return dXp[:, top:top + X_shape[1], left:left + X_shape[2], :]

    def _windows_overlap(self):
        return any(s < k for s, k in zip(self.stride, self.kernel_shape))


class Conv2D(_Windowed):
    """A 2-D convolution (cross-correlation, the kernel is not flipped).

    ``Z[n, r, c, o] = b[o] + sum_{i, j, ch} Xp[n, r*s + i, c*s + j, ch] * W[i, j, ch, o]``
    with ``Xp`` the zero-padded input, then ``Y = activation(Z)``.

    Parameters
    ----------
    n_out : int
        Output channels.
    kernel_shape : int or (int, int)
        ``(kernel_rows, kernel_cols)``; odd, even and non-square all work.
    activation : str or Activation
    stride : int or (int, int)
    pad : "same", "valid" or int
        "same" pads ``(k-1)//2`` before and ``k-1-(k-1)//2`` after on each
        spatial axis; an int pads that much on every side.
    weight_init : str
    seed : int or numpy.random.Generator, optional

    Shape: ``X`` ``(batch, rows, cols, in_channels)`` ->
    ``Y`` ``(batch, out_rows, out_cols, n_out)`` with
    ``out_rows = floor((rows + pad_top + pad_bottom - kernel_rows) / stride) + 1``
    (likewise for cols); ``W`` is ``(kernel_rows, kernel_cols, in_channels, n_out)``
    and ``b`` is ``(1, n_out)``.

    The sum is one matrix product: the windows are gathered into a
    ``(batch * out_rows * out_cols, kernel_rows * kernel_cols * in_channels)``
    matrix (im2col), one strided copy per kernel offset.
    """

    def __init__(self, n_out, kernel_shape, activation="linear", stride=1, pad="same",
                 weight_init="xavier_uniform", seed=None):
        super().__init__()
        self.n_out = check_int(n_out, "n_out", "Conv2D")
        self._setup_windows(kernel_shape, stride, pad)
        self.activation = self._set_activation(activation)
        self.weight_init = weight_init
        self.init_weights = initialize_weights(weight_init, activation=_activation_name(self.activation))
        self.rng = make_rng(seed)
        self._cols = None  # the im2col matrix of the last forward, reused by backward
        self._cols_source = None  # the input it was gathered from

    def _weight_shape(self):
        return (*self.kernel_shape, self.n_in, self.n_out)

    def _init_parameters(self, X_shape):
        self.n_in = X_shape[3]
        W = self.init_weights(self._weight_shape(), self.rng)
        self.parameters = {"W": W, "b": np.zeros((1, self.n_out))}
        self.cache = {}
        self.clear_gradients()

    def _im2col(self, Xp, out_rows, out_cols):
        """Gather every window into the rows of a ``(batch * out_rows * out_cols,
        kh * kw * channels + 1)`` matrix whose last column is all ones.

        Multiplied by the kernel stacked on the bias, ``[W; b]``, the ones
        column adds the bias inside the matrix product (no extra pass over the
        output), and in backward ``cols.T @ dZ`` yields ``dW`` and ``db`` at once.
        The buffer (and its ones) is kept for the next batch of the same shape.
        """
        kh, kw = self.kernel_shape
        rows = Xp.shape[0] * out_rows * out_cols
        width = kh * kw * Xp.shape[3]
        if self._cols is None or self._cols.shape != (rows, width + 1) or self._cols.dtype != Xp.dtype:
            self._cols = np.empty((rows, width + 1), dtype=Xp.dtype)
            self._cols[:, width] = 1
        windows = self._cols[:, :width].reshape(Xp.shape[0], out_rows, out_cols, kh, kw, Xp.shape[3])
        for i, j, window in self._offsets(out_rows, out_cols):
            windows[:, :, :, i, j, :] = Xp[window]
        return self._cols

    def forward(self, X):
        """``(batch, rows, cols, in_channels) -> (batch, out_rows, out_cols, n_out)``."""
        X = self._check_image(X)
        if self.n_in is None:
            self._build(X)
        self._check_parameter_shapes()
        W = self.parameters["W"]
        out_rows, out_cols = self._geometry(X.shape)
        cols = self._im2col(self._pad(X), out_rows, out_cols)
        self._cols_source = X
        kernel_and_bias = np.concatenate([W.reshape(-1, self.n_out), self.parameters["b"]])
        Z = cols @ kernel_and_bias
        return self._activate(X, Z.reshape(X.shape[0], out_rows, out_cols, self.n_out))

    def backward(self, dLdY):
        """``dL/dY (batch, out_rows, out_cols, n_out) -> dL/dX (batch, rows, cols, in_channels)``."""
        dZ = self._preactivation_gradient(dLdY)
        X = self.cache["X"]
        W = self.parameters["W"]
        batch, out_rows, out_cols, n_out = dZ.shape
        dZ2 = dZ.reshape(-1, n_out)
        if self._cols_source is not X:
            # The cache was replaced since the last forward: gather its windows.
            self._im2col(self._pad(X), out_rows, out_cols)
            self._cols_source = X
        dW_and_db = self._cols.T @ dZ2  # the ones column of cols gives db
        self.gradients["W"] = dW_and_db[:-1].reshape(W.shape)
        self.gradients["b"] = dW_and_db[-1:]
        if not self.input_gradient:
            return None
        # col2im: each kernel offset (i, j) sends dZ @ W[i, j].T back to the input
        # cells it read. One small GEMM per offset into a reused buffer keeps
        # every read contiguous (faster than one big GEMM and strided reads).
        (top, bottom), (left, right) = self.pads
        dtype = np.result_type(dZ2, W)
        dXp = np.zeros((batch, X.shape[1] + top + bottom, X.shape[2] + left + right, X.shape[3]),
                       dtype=dtype)
        share = np.empty((dZ2.shape[0], X.shape[3]), dtype=dtype)
        shaped = share.reshape(batch, out_rows, out_cols, X.shape[3])
        for i, j, window in self._offsets(out_rows, out_cols):
            np.matmul(dZ2, W[i, j].T, out=share)
            dXp[window] += shaped
        return self._unpad(dXp, X.shape)

    def __repr__(self):
        return (f"Conv2D(n_out={self.n_out}, kernel_shape={self.kernel_shape}, "
                f"activation={self.activation!r}, stride={self.stride}, pad={self.pad!r}, "
                f"weight_init={self.weight_init!r}, n_in={self.n_in})")


class Pool2D(_Windowed):
    """Max or average pooling over ``kernel_shape`` windows of each channel.

    Parameters
    ----------
    kernel_shape : int or (int, int)
        An int means a square window.
    mode : {"max", "average"}
    stride : int or (int, int)
    pad : "same", "valid" or int
        Padded like Conv2D. Max pooling never picks a padded cell; average
        pooling divides by the full window size, padded zeros included.
        An int pad must be smaller than the kernel (else a window could hold
        padding only).

    Shape: ``(batch, rows, cols, channels) -> (batch, out_rows, out_cols, channels)``
    with ``out_rows = floor((rows + pad_top + pad_bottom - kernel_rows) / stride) + 1``.

    In the backward pass of max pooling each window sends its gradient to
    exactly one cell, the first maximum in row-major order, even when several
    cells tie; overlapping windows add up their contributions.
    """

    MODES = ("max", "average")

    def __init__(self, kernel_shape, mode="max", stride=1, pad=0):
        super().__init__()
        self._setup_windows(kernel_shape, stride, pad)
        if mode not in self.MODES:
            raise ValueError(f"Pool2D: mode must be one of {list(self.MODES)}; got {describe(mode)}")
        self.mode = mode
        for k, (before, after), axis in zip(self.kernel_shape, self.pads, ("rows", "cols")):
            if max(before, after) >= k:
                raise ValueError(
                    f"Pool2D: pad must be smaller than the kernel ({k} {axis}); got pad={pad!r}"
                )

    def _has_parameters(self):
        return False

    def _init_parameters(self, X_shape):
        self.n_in = self.n_out = X_shape[3]

    def forward(self, X):
        """``(batch, rows, cols, channels) -> (batch, out_rows, out_cols, channels)``."""
        X = self._check_image(X)
        if self.n_in is None:
            self._init_parameters(X.shape)
        out_rows, out_cols = self._geometry(X.shape)
        # Max pooling pads with -inf, so a padded cell never wins a window.
        Xp = self._pad(X, -np.inf if self.mode == "max" else 0.0)
        windows = [window for _, _, window in self._offsets(out_rows, out_cols)]
        Y = Xp[windows[0]].copy()
        for window in windows[1:]:
            if self.mode == "max":
                np.maximum(Y, Xp[window], out=Y)
            else:
                Y += Xp[window]
        winners = None
        if self.mode == "max":
            winners = self._first_maxima(Xp, Y, windows)
        else:
            Y /= len(windows)
        self.cache = {"X_shape": X.shape, "padded_shape": Xp.shape, "winners": winners}
        self._out_shape = Y.shape
        return Y

    @staticmethod
    def _first_maxima(Xp, Y, windows):
        """One boolean mask per kernel offset, of the output's shape: True where
        that offset holds its window's maximum and no earlier offset (in
        row-major order) does. On a tie exactly one cell of the window wins."""
        winners = np.empty((len(windows),) + Y.shape, dtype=bool)
        unclaimed = np.ones(Y.shape, dtype=bool)
        for k, window in enumerate(windows):
            hit = winners[k]
            np.equal(Xp[window], Y, out=hit)
            hit &= unclaimed
            unclaimed ^= hit
        return winners

    def backward(self, dLdY):
        """``dL/dY (batch, out_rows, out_cols, channels) -> dL/dX (batch, rows, cols, channels)``."""
        dLdY = self._check_upstream(dLdY)
        padded_shape = self.cache["padded_shape"]
        out_rows, out_cols = dLdY.shape[1:3]
        windows = [window for _, _, window in self._offsets(out_rows, out_cols)]
        overlap = self._windows_overlap()
        # Windows that tile the input exactly write every cell: no zero fill needed.
        tiled = self.stride == self.kernel_shape and all(
            n * k == size for n, k, size in zip((out_rows, out_cols), self.kernel_shape, padded_shape[1:3])
        )
        dXp = (np.empty if tiled else np.zeros)(padded_shape, dtype=dLdY.dtype)
        winners = self.cache["winners"]
        share = None if winners is not None else dLdY / len(windows)
        for k, window in enumerate(windows):
            if winners is not None:
                if overlap:
                    dXp[window] += dLdY * winners[k]
                else:
                    np.multiply(dLdY, winners[k], out=dXp[window])
            elif overlap:
                dXp[window] += share
            else:
                dXp[window] = share
        return self._unpad(dXp, self.cache["X_shape"])

    def __repr__(self):
        return (f"Pool2D(kernel_shape={self.kernel_shape}, mode={self.mode!r}, "
                f"stride={self.stride}, pad={self.pad!r})")


class Flatten(Layer):
    """Reshape ``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)`` and back.

    ``keep_dim="first"`` keeps the first (batch) axis; ``"last"`` keeps the
    last axis instead, giving ``(batch * d1 * ..., d_last)``.
    """

    KEEP_DIMS = ("first", "last")

    def __init__(self, keep_dim="first"):
        super().__init__()
        if keep_dim not in self.KEEP_DIMS:
            raise ValueError(
                f"Flatten: keep_dim must be one of {list(self.KEEP_DIMS)}; got {describe(keep_dim)}"
            )
        self.keep_dim = keep_dim

    _input_ndim = None

    def _has_parameters(self):
        return False

    def _init_parameters(self, X_shape):
        self.n_in = int(np.prod(X_shape[1:]))
        self.n_out = self.n_in if self.keep_dim == "first" else X_shape[-1]

    def forward(self, X):
        X = self._check_input(X)
        if X.ndim < 2:
            raise ValueError(f"Flatten.forward: X must have at least 2 dimensions; got shape {X.shape}")
        if self.n_in is None:
            self._init_parameters(X.shape)
        if self.keep_dim == "first":
            shape = (X.shape[0], int(np.prod(X.shape[1:])))
        else:
            shape = (int(np.prod(X.shape[:-1])), X.shape[-1])
        Y = X.reshape(shape)
        self.cache = {"in_shape": X.shape}
        self._out_shape = Y.shape
        return Y

    def backward(self, dLdY):
        dLdY = self._check_upstream(dLdY)
        return dLdY.reshape(self.cache["in_shape"])

    def __repr__(self):
        return f"Flatten(keep_dim={self.keep_dim!r})"


LAYERS = {
    "fully_connected": FullyConnected,
    "conv2d": Conv2D,
    "pool2d": Pool2D,
    "flatten": Flatten,
}


def initialize_layer(
    name,
    activation=None,
    weight_init=None,
    n_out=None,
    kernel_shape=None,
    stride=None,
    pad=None,
    mode=None,
    keep_dim="first",
    seed=None,
):
    """Build a layer by name; an argument left as None takes the class default.

    Arguments that the named layer does not take are ignored, so one dict of
    arguments per layer (as in ``layer_args``) can describe any of them.
    """
    cls = lookup(LAYERS, name, "layer")
    given = {
        "activation": activation,
        "weight_init": weight_init,
        "stride": stride,
        "pad": pad,
        "mode": mode,
        "keep_dim": keep_dim,
        "seed": seed,
    }
    accepted = {
        FullyConnected: ("activation", "weight_init", "seed"),
        Conv2D: ("activation", "weight_init", "stride", "pad", "seed"),
        Pool2D: ("stride", "pad", "mode"),
        Flatten: ("keep_dim",),
    }[cls]
    kwargs = {key: given[key] for key in accepted if given[key] is not None}
    if cls in (FullyConnected, Conv2D):
        if n_out is None:
            raise ValueError(f"initialize_layer: {name!r} needs n_out; got None")
        kwargs["n_out"] = n_out
    if cls in (Conv2D, Pool2D):
        if kernel_shape is None:
            raise ValueError(f"initialize_layer: {name!r} needs kernel_shape; got None")
        kwargs["kernel_shape"] = kernel_shape
    return cls(**kwargs)
