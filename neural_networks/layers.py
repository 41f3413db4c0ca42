"""Layers: forward and backward passes over a mini-batch.

Every layer maps an input ``X`` to an output ``Y`` in ``forward`` and, in
``backward``, maps ``dL/dY`` to ``dL/dX`` while filling ``gradients`` with
``dL/dparameter`` (summed over the batch: the loss already holds the ``1/m``).
Parameters are created lazily, on the first ``forward``, once the input size
is known. Dense data is ``(batch, features)``; images are
``(batch, rows, cols, channels)``; kernels are
``(kernel_rows, kernel_cols, in_channels, out_channels)``.

Each ``forward`` and ``backward`` opens with one guard call
(``self._check_input(X)``, ``self._check_upstream(dLdY)``) that rejects bad
arguments with a clear message; the guards live in ``layer_checks.py`` and
the window gathering of Conv2D and Pool2D in ``im2col.py``, so the methods
below hold only the math.
"""

import numpy as np

from .activations import ACTIVATIONS, Activation, initialize_activation
from .im2col import (average_pool, average_pool_backward, col2im_product, im2col, max_pool,
                     max_pool_backward, output_shape)
from .layer_checks import ConvChecks, DenseChecks, FlattenChecks, LayerChecks, PoolChecks
from .utils import check_int, lookup, make_rng
from .weights import initialize_weights


class Layer(LayerChecks):
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
        What ``forward`` keeps for ``backward``; each forward replaces it.
    input_gradient : bool
        Whether ``backward`` computes ``dL/dX``. A network turns it off on its
        first layer, whose input is the data (nothing upstream to train);
        ``backward`` then returns None.
    """

    def __init__(self):
        self.activation = None
        self.n_in = None
        self.n_out = None
        self.parameters = {}
        self.gradients = {}
        self.cache = {}
        self.input_gradient = True

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X):
        raise NotImplementedError

    def backward(self, dLdY):
        raise NotImplementedError

    def _init_parameters(self, X_shape, dtype=np.float64):
        """Set ``n_in`` (and ``n_out``) from ``X_shape``, create the parameters in
        ``dtype`` and zero gradients of the same shapes."""
        raise NotImplementedError

    def clear_gradients(self):
        """Set every gradient to zeros of its parameter's shape (in place)."""
        for name, value in self.parameters.items():
            self.gradients[name] = np.zeros_like(value)

    def forward_with_param(self, param_name, X):
        """Return ``f(value)`` that sets ``parameters[param_name] = value`` and
        runs ``forward(X)`` on this fixed ``X``; the gradient checker uses it."""
        X = self._check_input(X, "forward_with_param")
        if self.n_in is None:
            self._init_parameters(X.shape, X.dtype)
        self._check_param_name(param_name)

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


class FullyConnected(DenseChecks, Layer):
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

    def __init__(self, n_out, activation="linear", weight_init="xavier_uniform", seed=None):
        super().__init__()
        self.n_out = check_int(n_out, "n_out", "FullyConnected")
        self.activation = _activation(activation)
        self.weight_init = weight_init
        self.init_weights = initialize_weights(weight_init, activation=_activation_name(self.activation))
        self.rng = make_rng(seed)

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = X_shape[1]
        W = self.init_weights((self.n_in, self.n_out), self.rng).astype(dtype, copy=False)
        b = np.zeros((1, self.n_out), dtype=dtype)
        self.parameters = {"W": W, "b": b}
        self.cache = {}
        self.clear_gradients()

    def forward(self, X):
        """``(batch, n_in) -> (batch, n_out)``; caches ``X`` and ``Z``."""
        X = self._check_input(X)
        if self.n_in is None:
            self._init_parameters(X.shape, X.dtype)
        W, b = self.parameters["W"], self.parameters["b"]

        Z = X @ W + b
        self.cache = {"X": X, "Z": Z}
        return self.activation.forward(Z)

    def backward(self, dLdY):
        """``dL/dY (batch, n_out) -> dL/dX (batch, n_in)``; fills ``gradients``."""
        dLdY = self._check_upstream(dLdY)
        X, Z = self.cache["X"], self.cache["Z"]
        W = self.parameters["W"]

        dZ = self.activation.backward(Z, dLdY)
        self.gradients["W"] = X.T @ dZ
        self.gradients["b"] = dZ.sum(axis=0, keepdims=True)
        if not self.input_gradient:
            return None
        return dZ @ W.T

    def __repr__(self):
        return (f"FullyConnected(n_out={self.n_out}, activation={self.activation!r}, "
                f"weight_init={self.weight_init!r}, n_in={self.n_in})")


class Conv2D(ConvChecks, Layer):
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

    The sum is one matrix product: ``im2col`` gathers every window into a row
    of ``X_cols`` ``(batch * out_rows * out_cols, kernel_rows * kernel_cols *
    in_channels)``, and the kernel, reshaped to ``(kernel_rows * kernel_cols *
    in_channels, n_out)``, multiplies them all at once. ``reference.py`` has
    the same computation as loops over every output cell.
    """

    def __init__(self, n_out, kernel_shape, activation="linear", stride=1, pad="same",
                 weight_init="xavier_uniform", seed=None):
        super().__init__()
        self.n_out = check_int(n_out, "n_out", "Conv2D")
        self._set_window(kernel_shape, stride, pad)
        self.activation = _activation(activation)
        self.weight_init = weight_init
        self.init_weights = initialize_weights(weight_init, activation=_activation_name(self.activation))
        self.rng = make_rng(seed)

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = X_shape[3]
        kernel = (*self.kernel_shape, self.n_in, self.n_out)
        W = self.init_weights(kernel, self.rng).astype(dtype, copy=False)
        b = np.zeros((1, self.n_out), dtype=dtype)
        self.parameters = {"W": W, "b": b}
        self.cache = {}
        self.clear_gradients()

    def forward(self, X):
        """``(batch, rows, cols, in_channels) -> (batch, out_rows, out_cols, n_out)``;
        caches ``X``, ``Z`` and ``X_cols``."""
        X = self._check_input(X)
        if self.n_in is None:
            self._init_parameters(X.shape, X.dtype)
        W, b = self.parameters["W"], self.parameters["b"]
        out_rows, out_cols = output_shape(X.shape, self.kernel_shape, self.stride, self.pads)

        X_cols = im2col(X, self.kernel_shape, self.stride, self.pads)
        Z = X_cols @ W.reshape(-1, self.n_out) + b
        Z = Z.reshape(X.shape[0], out_rows, out_cols, self.n_out)
        self.cache = {"X": X, "Z": Z, "X_cols": X_cols}
        return self.activation.forward(Z)

    def backward(self, dLdY):
        """``dL/dY (batch, out_rows, out_cols, n_out) -> dL/dX (batch, rows, cols, in_channels)``."""
        dLdY = self._check_upstream(dLdY)
        X, Z, X_cols = self.cache["X"], self.cache["Z"], self.cache["X_cols"]
        W = self.parameters["W"]

        dZ = self.activation.backward(Z, dLdY).reshape(-1, self.n_out)  # a row per output cell
        self.gradients["W"] = (X_cols.T @ dZ).reshape(W.shape)
        self.gradients["b"] = dZ.sum(axis=0, keepdims=True)
        if not self.input_gradient:
            return None
        # dL/dX = col2im(dZ @ W.reshape(-1, n_out).T): each window sends its row of the
        # product back onto the input cells it read.
        return col2im_product(dZ, W, X.shape, self.stride, self.pads)

    def __repr__(self):
        return (f"Conv2D(n_out={self.n_out}, kernel_shape={self.kernel_shape}, "
                f"activation={self.activation!r}, stride={self.stride}, pad={self.pad!r}, "
                f"weight_init={self.weight_init!r}, n_in={self.n_in})")


class Pool2D(PoolChecks, Layer):
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
        self._set_pool_window(kernel_shape, mode, stride, pad, self.MODES)
        self.mode = mode

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = self.n_out = X_shape[3]

    def forward(self, X):
        """``(batch, rows, cols, channels) -> (batch, out_rows, out_cols, channels)``;
        caches ``X`` and, for max pooling, the offset of each window's winner."""
        X = self._check_input(X)
        if self.n_in is None:
            self._init_parameters(X.shape)

        # Y[n, r, c, ch] is the max (or the mean) of the window at (r, c) of channel ch;
        # winner is the offset i * kernel_cols + j of each window's first maximum.
        if self.mode == "max":
            Y, winner = max_pool(X, self.kernel_shape, self.stride, self.pads)
        else:
            Y, winner = average_pool(X, self.kernel_shape, self.stride, self.pads), None
        self.cache = {"X": X, "winner": winner}
        return Y

    def backward(self, dLdY):
        """``dL/dY (batch, out_rows, out_cols, channels) -> dL/dX (batch, rows, cols, channels)``."""
        dLdY = self._check_upstream(dLdY)
        X, winner = self.cache["X"], self.cache["winner"]

        if self.mode == "max":
            # dL/dX gets each window's dL/dY at its winning cell only.
            return max_pool_backward(dLdY, winner, X.shape, self.kernel_shape, self.stride, self.pads)
        # Every cell of a window counts 1 / (kernel_rows * kernel_cols).
        return average_pool_backward(dLdY, X.shape, self.kernel_shape, self.stride, self.pads)

    def __repr__(self):
        return (f"Pool2D(kernel_shape={self.kernel_shape}, mode={self.mode!r}, "
                f"stride={self.stride}, pad={self.pad!r})")


class Flatten(FlattenChecks, Layer):
    """Reshape ``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)`` and back.

    ``keep_dim="first"`` keeps the first (batch) axis; ``"last"`` keeps the
    last axis instead, giving ``(batch * d1 * ..., d_last)``.
    """

    KEEP_DIMS = ("first", "last")

    def __init__(self, keep_dim="first"):
        super().__init__()
        self._set_keep_dim(keep_dim, self.KEEP_DIMS)
        self.keep_dim = keep_dim

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = int(np.prod(X_shape[1:]))
        self.n_out = self.n_in if self.keep_dim == "first" else X_shape[-1]

    def forward(self, X):
        """``(batch, d1, ..., dk) -> (batch, d1 * ... * dk)`` (or ``(batch * d1 * ..., dk)``)."""
        X = self._check_input(X)
        if self.n_in is None:
            self._init_parameters(X.shape)

        if self.keep_dim == "first":
            Y = X.reshape(X.shape[0], int(np.prod(X.shape[1:])))
        else:
            Y = X.reshape(-1, X.shape[-1])
        self.cache = {"X": X}
        return Y

    def backward(self, dLdY):
        """``dL/dX`` is ``dL/dY`` in the input's shape."""
        dLdY = self._check_upstream(dLdY)
        return dLdY.reshape(self.cache["X"].shape)

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

    An argument the named layer does not take (``activation`` for "pool2d",
    say) must be left as None: a value there raises ``ValueError``, as an
    unknown argument does in ``initialize_optimizer``.
    """
    cls = lookup(LAYERS, name, "layer")
    given = {
        "activation": activation,
        "weight_init": weight_init,
        "n_out": n_out,
        "kernel_shape": kernel_shape,
        "stride": stride,
        "pad": pad,
        "mode": mode,
        "keep_dim": None if keep_dim == "first" else keep_dim,
        "seed": seed,
    }
    accepted = {
        FullyConnected: ("n_out", "activation", "weight_init", "seed"),
        Conv2D: ("n_out", "kernel_shape", "activation", "weight_init", "stride", "pad", "seed"),
        Pool2D: ("kernel_shape", "stride", "pad", "mode"),
        Flatten: ("keep_dim",),
    }[cls]
    for key, value in given.items():
        if value is not None and key not in accepted and key != "seed":
            raise ValueError(f"initialize_layer: {name!r} does not take {key}; got {key}={value!r}")
    for key in ("n_out", "kernel_shape"):
        if key in accepted and given[key] is None:
            raise ValueError(f"initialize_layer: {name!r} needs {key}; got None")
    return cls(**{key: given[key] for key in accepted if given[key] is not None})


def _activation(activation):
    """An Activation from an instance, a name, or None (linear)."""
    if isinstance(activation, Activation):
        return activation
    return initialize_activation("linear" if activation is None else activation)


def _activation_name(activation):
    """The registry name of an activation (it sets the initializer's gain)."""
    for name, cls in ACTIVATIONS.items():
        if type(activation) is cls:
            return name
    return None
