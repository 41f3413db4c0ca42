"""Layers: forward and backward passes over a mini-batch.

``forward`` maps ``X`` to ``Y``; ``backward`` maps ``dL/dY`` to ``dL/dX`` and
fills ``gradients`` with ``dL/dparameter``, summed over the batch (the loss
holds the ``1/m``). Parameters are created on the first ``forward``, once the
input size is known. Dense data is ``(batch, features)``, images are
``(batch, rows, cols, channels)``, kernels are
``(kernel_rows, kernel_cols, in_channels, out_channels)``. Each ``forward`` and
``backward`` opens with a guard from ``checks.py``; the rest is the math.

``BatchNorm1D``, ``BatchNorm2D`` and ``Dropout`` set ``takes_mode``: their
``forward`` also takes ``mode``, "train" (the default) or "test", which
``NeuralNetwork.forward(X, mode=...)`` passes to exactly those.
"""

import inspect
from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .activations import ACTIVATIONS, Activation, initialize_activation
from .checks import (check_applicable, check_batchnorm_upstream, check_choice, check_int,
                     check_layer_input, check_layer_upstream, check_number, check_pair, lookup)
from .utils import make_rng
from .weights import initialize_weights


def _set_weighting(layer, activation, weight_init, seed):
    """Set ``activation`` (an Activation, a name, or None: linear), ``weight_init``,
    ``init_weights`` (its gain follows the activation) and ``rng`` on ``layer``."""
    if not isinstance(activation, Activation):
        activation = initialize_activation("linear" if activation is None else activation)
    layer.activation = activation
    layer.weight_init = weight_init
    name = next((name for name, cls in ACTIVATIONS.items() if type(activation) is cls), None)
    layer.init_weights = initialize_weights(weight_init, activation=name)
    layer.rng = make_rng(seed)


class Layer:
    """Base class of all layers.

    Attributes: ``activation`` (an Activation or None); ``n_in``, ``n_out``
    (features, or channels of images; ``n_in`` is None until the first
    ``forward``); ``parameters`` and ``gradients`` (the learnable arrays and
    ``dL/d`` each, under the same keys); ``cache`` (what ``forward`` keeps for
    ``backward``); ``input_gradient`` (False: ``backward`` returns None, not
    ``dL/dX``; a network sets it on its first layer, whose input is the data).

    Class attributes: ``input_ndim`` (the rank ``forward`` takes; None: any
    rank of at least ``min_ndim``), ``features`` (what the last axis of ``X``
    counts, when it must match ``n_in``), ``takes_mode``, ``buffer_names``
    (keys of ``cache`` that checkpoints keep) and ``repr_fields``.
    """

    input_ndim = None
    min_ndim = 1
    features = None
    takes_mode = False
    buffer_names = ()
    repr_fields = ()

    def __init__(self):
        self.activation = None
        self.n_in = None
        self.n_out = None
        self.parameters = OrderedDict()
        self.gradients = OrderedDict()
        self.cache = OrderedDict()
        self.input_gradient = True

    def __call__(self, X):
        return self.forward(X)

    @property
    def class_name(self):
        """The class's name in messages and ``repr``; a faster subclass defined
        elsewhere (``fast_layers``) goes by the layer whose numbers it gives."""
        return next(cls.__name__ for cls in type(self).__mro__ if cls.__module__ == __name__)

    def __repr__(self):
        name = self.class_name
        fields = []
        for key in self.repr_fields:
            value = getattr(self, key)
            fields.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value!r}")
        return f"{name}({', '.join(fields)})"

    def forward(self, X):
        raise NotImplementedError

    def backward(self, dLdY):
        raise NotImplementedError

    def _init_parameters(self, X_shape, dtype=np.float64):
        """Set ``n_in`` and ``n_out`` from ``X_shape``, create the parameters in
        ``dtype`` and zero gradients of the same shapes. Here: a layer without
        parameters whose output keeps the input's last axis."""
        self.n_in = self.n_out = X_shape[-1]

    def _checked_input(self, X, method="forward", mode="train"):
        """``X`` through ``check_layer_input``; the first call builds the layer."""
        X = check_layer_input(self, X, method, mode)
        if self.n_in is None:
            self._init_parameters(X.shape, X.dtype)
        return X

    def output_shape_for(self, X_shape):
        """The shape of ``forward``'s output for an input of shape ``X_shape``."""
        return X_shape

    def expected_shapes(self):
        """``{(dict name, key): shape}`` of the arrays a built layer must keep
        (``("parameters", "W")``, ...): graders set them by hand."""
        return {}

    def clear_gradients(self):
        """Set every gradient to zeros of its parameter's shape (in place)."""
        for name, value in self.parameters.items():
            self.gradients[name] = np.zeros_like(value)

    def forward_with_param(self, param_name, X):
        """Return ``f(value)`` that sets ``parameters[param_name] = value`` and
        runs ``forward(X)`` on this fixed ``X``; the gradient checker uses it."""
        X = self._checked_input(X, "forward_with_param")
        if param_name not in self.parameters:
            raise ValueError(f"{self.class_name}.forward_with_param: unknown param_name "
                             f"{param_name!r}; this layer has {sorted(self.parameters)}")

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


class FullyConnected(Layer):
    """A dense layer ``Y = activation(X @ W + b)``.

    ``activation`` is a name from ``activations.ACTIVATIONS`` (or an
    Activation), ``weight_init`` one of ``weights.initialize_weights``, and
    ``seed`` (an int or a Generator) draws the initial weights.

    Shape: ``X`` is ``(batch, n_in)``, ``Y`` is ``(batch, n_out)``;
    ``W`` is ``(n_in, n_out)`` and ``b`` is ``(1, n_out)``.
    """

    input_ndim = 2
    features = "features"
    repr_fields = ("n_out", "activation", "weight_init", "n_in")

    def __init__(self, n_out, activation="linear", weight_init="xavier_uniform", seed=None):
        super().__init__()
        self.n_out = check_int(n_out, "n_out", "FullyConnected")
        _set_weighting(self, activation, weight_init, seed)

    def _init_parameters(self, X_shape, dtype=np.float64):
        # BEGIN SOLUTION
        self.n_in = X_shape[1]
        W = self.init_weights((self.n_in, self.n_out), self.rng).astype(dtype, copy=False)
        b = np.zeros((1, self.n_out), dtype=dtype)
        self.parameters = OrderedDict(W=W, b=b)
        self.cache = OrderedDict()
        self.clear_gradients()
        # END SOLUTION

    def output_shape_for(self, X_shape):
        return (X_shape[0], self.n_out)

    def expected_shapes(self):
        return {("parameters", "W"): (self.n_in, self.n_out), ("parameters", "b"): (1, self.n_out)}

    def forward(self, X):
        """``(batch, n_in) -> (batch, n_out)``; caches ``X`` and ``Z``."""
        X = self._checked_input(X)
        W, b = self.parameters["W"], self.parameters["b"]

        # BEGIN SOLUTION
        Z = X @ W + b
        self.cache = OrderedDict(X=X, Z=Z)
        return self.activation.forward(Z)
        # END SOLUTION

    def backward(self, dLdY):
        """``dL/dY (batch, n_out) -> dL/dX (batch, n_in)``; fills ``gradients``."""
        dLdY = check_layer_upstream(self, dLdY)
        X, Z = self.cache["X"], self.cache["Z"]
        W = self.parameters["W"]

        # BEGIN SOLUTION
        dZ = self.activation.backward(Z, dLdY)
        self.gradients["W"] = X.T @ dZ
        self.gradients["b"] = dZ.sum(axis=0, keepdims=True)
        if not self.input_gradient:
            return None
        return dZ @ W.T
        # END SOLUTION


class Window2D(Layer):
    """A window of ``kernel_shape`` ``(kernel_rows, kernel_cols)`` slid with
    ``stride`` ``(row_stride, col_stride)`` (ints mean squares) over images padded
    by ``pads`` ``((top, bottom), (left, right))``, from ``pad``: "same" pads
    ``(k-1)//2`` before and ``k-1-(k-1)//2`` after on each axis (the size stays
    at stride 1), "valid" nothing, an int that much on every side."""

    input_ndim = 4
    features = "channels"

    def __init__(self, kernel_shape, stride, pad):
        super().__init__()
        where = self.class_name
        self.kernel_shape = check_pair(kernel_shape, "kernel_shape", where)
        self.stride = check_pair(stride, "stride", where)
        self.pad = pad
        if pad == "same":
            self.pads = tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in self.kernel_shape)
        elif isinstance(pad, str) and pad != "valid":
            raise ValueError(f"{where}: pad must be 'same', 'valid' or an int >= 0; got {pad!r}")
        else:
            p = 0 if pad == "valid" else check_int(pad, "pad", where, minimum=0)
            self.pads = ((p, p), (p, p))

    def output_shape_for(self, X_shape):
        out_rows, out_cols = ((X_shape[axis + 1] + sum(self.pads[axis]) - self.kernel_shape[axis])
                              // self.stride[axis] + 1 for axis in range(2))
        return (X_shape[0], out_rows, out_cols, self.n_out)


class Conv2D(Window2D):
    """A 2-D convolution (cross-correlation: the kernel is not flipped) with
    ``n_out`` output channels, padded and strided as in ``Window2D``::

        Z[n, r, c, o] = b[o] + sum_{i, j, ch} Xp[n, r*row_stride + i, c*col_stride + j, ch] * W[i, j, ch, o]

    with ``Xp`` the zero-padded input, then ``Y = activation(Z)``.
    ``activation``, ``weight_init`` and ``seed`` as in ``FullyConnected``.

    Shape: ``X`` ``(batch, rows, cols, in_channels)`` -> ``Y`` ``(batch,
    out_rows, out_cols, n_out)`` with ``out_rows = floor((rows + pad_top +
    pad_bottom - kernel_rows) / row_stride) + 1`` (likewise for cols); ``W`` is
    ``(kernel_rows, kernel_cols, in_channels, n_out)`` and ``b`` is ``(1, n_out)``.
    """

    repr_fields = ("n_out", "kernel_shape", "activation", "stride", "pad", "weight_init", "n_in")

    def __init__(self, n_out, kernel_shape, activation="linear", stride=1, pad="same",
                 weight_init="xavier_uniform", seed=None):
        super().__init__(kernel_shape, stride, pad)
        self.n_out = check_int(n_out, "n_out", "Conv2D")
        _set_weighting(self, activation, weight_init, seed)

    def _init_parameters(self, X_shape, dtype=np.float64):
        # BEGIN SOLUTION
        self.n_in = X_shape[3]
        W = self.init_weights((*self.kernel_shape, self.n_in, self.n_out), self.rng).astype(dtype, copy=False)
        b = np.zeros((1, self.n_out), dtype=dtype)
        self.parameters = OrderedDict(W=W, b=b)
        self.cache = OrderedDict()
        self.clear_gradients()
        # END SOLUTION

    def expected_shapes(self):
        return {("parameters", "W"): (*self.kernel_shape, self.n_in, self.n_out),
                ("parameters", "b"): (1, self.n_out)}

    def forward(self, X):
        """``(batch, rows, cols, in_channels) -> (batch, out_rows, out_cols, n_out)``;
        caches ``X`` and ``Z``. Each window of the padded input is a row of
        ``X_cols`` (in the kernel's ``(i, j, ch)`` order): the sum is one product.
        """
        X = self._checked_input(X)
        W, b = self.parameters["W"], self.parameters["b"]
        (top, bottom), (left, right) = self.pads
        row_stride, col_stride = self.stride

        # BEGIN SOLUTION
        Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)))
        # windows[n, r, c, ch, i, j] = Xp[n, r*row_stride + i, c*col_stride + j, ch]
        windows = sliding_window_view(Xp, self.kernel_shape, axis=(1, 2))[:, ::row_stride, ::col_stride]
        batch, out_rows, out_cols = windows.shape[:3]
        W_cols = W.reshape(-1, self.n_out)
        # A row per output cell: (batch * out_rows * out_cols, kernel_rows * kernel_cols * in_channels)
        X_cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, len(W_cols))
        Z = (X_cols @ W_cols + b).reshape(batch, out_rows, out_cols, self.n_out)
        self.cache = OrderedDict(X=X, Z=Z)
        return self.activation.forward(Z)
        # END SOLUTION

    def backward(self, dLdY):
        """``dL/dY (batch, out_rows, out_cols, n_out) -> dL/dX (batch, rows, cols, in_channels)``;
        fills ``gradients``. Offset ``(i, j)`` of the windows read the padded
        cells ``Xp[:, i::row_stride, j::col_stride]``: they get ``dZ @ W[i, j].T``.
        """
        dLdY = check_layer_upstream(self, dLdY)
        X, Z = self.cache["X"], self.cache["Z"]
        W = self.parameters["W"]
        (top, bottom), (left, right) = self.pads
        row_stride, col_stride = self.stride

        # BEGIN SOLUTION
        Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)))
        windows = sliding_window_view(Xp, self.kernel_shape, axis=(1, 2))[:, ::row_stride, ::col_stride]
        W_cols = W.reshape(-1, self.n_out)
        X_cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, len(W_cols))
        dZ = self.activation.backward(Z, dLdY)
        dZ_cols = dZ.reshape(-1, self.n_out)  # a row per output cell
        self.gradients["W"] = (X_cols.T @ dZ_cols).reshape(W.shape)
        self.gradients["b"] = dZ_cols.sum(axis=0, keepdims=True)
        if not self.input_gradient:
            return None
        dXp = np.zeros(Xp.shape, dZ.dtype)  # dL/dXp, the padded input's gradient
        out_rows, out_cols = dZ.shape[1:3]
        for i in range(self.kernel_shape[0]):
            for j in range(self.kernel_shape[1]):
                rows = slice(i, i + row_stride * out_rows, row_stride)
                cols = slice(j, j + col_stride * out_cols, col_stride)
                dXp[:, rows, cols, :] += dZ @ W[i, j].T
        return dXp[:, top:top + X.shape[1], left:left + X.shape[2], :]
        # END SOLUTION


class Pool2D(Window2D):
    """Max or average pooling (``mode``) over the windows of each channel,
    padded and strided as in ``Window2D`` (a pad smaller than the kernel). Max
    pooling never picks a padded cell; average pooling divides by the full
    window, padded zeros included.

    Shape: ``(batch, rows, cols, channels) -> (batch, out_rows, out_cols, channels)``, with
    ``out_rows = floor((rows + pad_top + pad_bottom - kernel_rows) / row_stride) + 1``, cols alike.
    """

    repr_fields = ("kernel_shape", "mode", "stride", "pad")

    def __init__(self, kernel_shape, mode="max", stride=1, pad=0):
        super().__init__(kernel_shape, stride, pad)
        self.mode = check_choice(mode, ("max", "average"), "mode", "Pool2D")
        for k, pads, axis in zip(self.kernel_shape, self.pads, ("rows", "cols")):
            if max(pads) >= k:
                raise ValueError(f"Pool2D: pad must be smaller than the kernel ({k} {axis}); got pad={pad!r}")

    def output_shape_for(self, X_shape):
        return super().output_shape_for(X_shape)[:3] + (X_shape[3],)

    def forward(self, X):
        """``(batch, rows, cols, channels) -> (batch, out_rows, out_cols, channels)``;
        caches ``X`` and, for max pooling, ``winner``: the offset
        ``i * kernel_cols + j`` of each window's first maximum."""
        X = self._checked_input(X)
        (top, bottom), (left, right) = self.pads
        kernel_rows, kernel_cols = self.kernel_shape
        row_stride, col_stride = self.stride

        # BEGIN SOLUTION
        # Max pooling pads with -inf: a padded cell never wins.
        fill = -np.inf if self.mode == "max" else 0
        Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
        out_rows = (Xp.shape[1] - kernel_rows) // row_stride + 1
        out_cols = (Xp.shape[2] - kernel_cols) // col_stride + 1
        Y = np.full((X.shape[0], out_rows, out_cols, X.shape[3]), fill, dtype=X.dtype)
        winner = np.zeros(Y.shape, dtype=np.intp) if self.mode == "max" else None
        for i in range(kernel_rows):
            for j in range(kernel_cols):
                rows = slice(i, i + row_stride * out_rows, row_stride)
                cols = slice(j, j + col_stride * out_cols, col_stride)
                cells = Xp[:, rows, cols, :]  # offset (i, j) of every window
                if self.mode == "max":
                    # Strictly greater: a tie keeps the earlier offset.
                    winner[cells > Y] = i * kernel_cols + j
                    np.maximum(Y, cells, out=Y)
                else:
                    Y += cells
        if self.mode == "average":
            Y /= kernel_rows * kernel_cols  # padded zeros count
        self.cache = OrderedDict(X=X, winner=winner)
        return Y
        # END SOLUTION

    def backward(self, dLdY):
        """``dL/dY (batch, out_rows, out_cols, channels) -> dL/dX (batch, rows, cols, channels)``:
        max sends each window's ``dL/dY`` to its winner only, average spreads
        ``dL/dY / (kernel_rows * kernel_cols)`` over the window; overlaps add up."""
        dLdY = check_layer_upstream(self, dLdY)
        # BEGIN SOLUTION
        X, winner = self.cache["X"], self.cache["winner"]
        (top, bottom), (left, right) = self.pads
        kernel_rows, kernel_cols = self.kernel_shape
        row_stride, col_stride = self.stride
        batch, out_rows, out_cols, channels = dLdY.shape

        dXp = np.zeros((batch, top + X.shape[1] + bottom, left + X.shape[2] + right, channels), dLdY.dtype)
        for i in range(kernel_rows):
            for j in range(kernel_cols):
                rows = slice(i, i + row_stride * out_rows, row_stride)
                cols = slice(j, j + col_stride * out_cols, col_stride)
                if self.mode == "max":
                    dXp[:, rows, cols, :] += np.where(winner == i * kernel_cols + j, dLdY, 0)
                else:
                    dXp[:, rows, cols, :] += dLdY / (kernel_rows * kernel_cols)
        return dXp[:, top:top + X.shape[1], left:left + X.shape[2], :]
        # END SOLUTION


class Flatten(Layer):
    """Reshape ``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)`` and back.

    ``keep_dim="first"`` keeps the first (batch) axis; ``"last"`` keeps the
    last axis instead, giving ``(batch * d1 * ..., d_last)``.
    """

    min_ndim = 2
    repr_fields = ("keep_dim",)

    def __init__(self, keep_dim="first"):
        super().__init__()
        self.keep_dim = check_choice(keep_dim, ("first", "last"), "keep_dim", "Flatten")

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = int(np.prod(X_shape[1:]))
        self.n_out = self.n_in if self.keep_dim == "first" else X_shape[-1]

    def output_shape_for(self, X_shape):
        if self.keep_dim == "first":
            return (X_shape[0], int(np.prod(X_shape[1:])))
        return (int(np.prod(X_shape[:-1])), X_shape[-1])

    def forward(self, X):
        """``(batch, d1, ..., dk) -> (batch, d1 * ... * dk)`` (or ``(batch * d1 * ..., dk)``)."""
        X = self._checked_input(X)

        # BEGIN SOLUTION
        if self.keep_dim == "first":
            Y = X.reshape(X.shape[0], int(np.prod(X.shape[1:])))
        else:
            Y = X.reshape(-1, X.shape[-1])
        self.cache = OrderedDict(X=X)
        return Y
        # END SOLUTION

    def backward(self, dLdY):
        """``dL/dX`` is ``dL/dY`` in the input's shape."""
        dLdY = check_layer_upstream(self, dLdY)
        # BEGIN SOLUTION
        return dLdY.reshape(self.cache["X"].shape)
        # END SOLUTION


class BatchNorm1D(Layer):
    """Batch normalization of every feature over the mini-batch.

    Training (``mode="train"``) standardizes with the batch's mean ``mu`` and biased
    variance ``var``, ``Y = gamma * (X - mu) / sqrt(var + eps) + beta``, and moves each
    running statistic: ``running = momentum * running + (1 - momentum) * batch_statistic``.
    At test time (``mode="test"``) ``mu`` and ``var`` are the running statistics and
    nothing changes.

    ``weight_init`` is kept for the course's signature and checked, but gamma
    starts at ones and beta at zeros whatever it says (a plain
    standardization); ``eps > 0`` is added to the variance; ``momentum`` in
    [0, 1] weighs the old running statistics.

    Shape: ``X`` and ``Y`` are ``(batch, n_in)``; ``gamma``, ``beta``, ``mu``,
    ``var`` and the running statistics ``running_mu``, ``running_var`` (kept in
    the cache, zeros at first) are ``(1, n_in)``.
    """

    input_ndim = 2
    features = "features (last axis)"
    takes_mode = True
    buffer_names = ("running_mu", "running_var")
    repr_fields = ("eps", "momentum", "n_in")
    # The axes each statistic is taken over (BatchNorm2D adds rows and cols).
    axes = (0,)

    def __init__(self, weight_init="xavier_uniform", eps=1e-8, momentum=0.9):
        super().__init__()
        initialize_weights(weight_init)  # an unknown name is an error, as in the other layers
        self.weight_init = weight_init
        self.eps = check_number(eps, "eps", self.class_name, minimum=0, strict=True)
        self.momentum = check_number(momentum, "momentum", self.class_name, minimum=0, maximum=1)

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = self.n_out = X_shape[-1]
        row = np.zeros((1, self.n_in), dtype=dtype)
        self.parameters = OrderedDict(gamma=row + 1, beta=row.copy())
        self.cache = OrderedDict(X=None, X_hat=None, mu=None, var=None,
                                 running_mu=row.copy(), running_var=row.copy())
        self.clear_gradients()

    def expected_shapes(self):
        row = (1, self.n_in)
        return {("parameters", "gamma"): row, ("parameters", "beta"): row,
                ("cache", "running_mu"): row, ("cache", "running_var"): row}

    def forward(self, X, mode="train"):
        """``(batch, n_in) -> (batch, n_in)``; training caches ``X``, ``X_hat``, ``mu``, ``var``."""
        X = self._checked_input(X, mode=mode)
        gamma, beta = self.parameters["gamma"], self.parameters["beta"]

        # BEGIN SOLUTION
        if mode == "test":
            mu, var = self.cache["running_mu"], self.cache["running_var"]
            return gamma * (X - mu) / np.sqrt(var + self.eps) + beta

        # Each statistic as a row (1, n_in), like gamma and beta.
        mu = X.mean(axis=self.axes).reshape(1, -1)
        var = ((X - mu) ** 2).mean(axis=self.axes).reshape(1, -1)
        X_hat = (X - mu) / np.sqrt(var + self.eps)
        # Only the keys forward owns: the running statistics stay in the cache.
        self.cache.update(X=X, X_hat=X_hat, mu=mu, var=var)
        m = self.momentum
        self.cache["running_mu"] = m * self.cache["running_mu"] + (1 - m) * mu
        self.cache["running_var"] = m * self.cache["running_var"] + (1 - m) * var
        return gamma * X_hat + beta
        # END SOLUTION

    def backward(self, dLdY):
        """``dL/dY (batch, n_in) -> dL/dX (batch, n_in)``, through the batch
        statistics (``mu`` and ``var`` depend on every row of ``X``)::

            dX_hat = dLdY * gamma
            dvar   = sum(dX_hat * (X - mu)) * (-1/2) * (var + eps)**(-3/2)
            dmu    = -sum(dX_hat) / sqrt(var + eps) + dvar * sum(-2 * (X - mu)) / m
            dX     = dX_hat / sqrt(var + eps) + dvar * 2 * (X - mu) / m + dmu / m

        with sums over the batch and ``m`` the batch size; also
        ``dgamma = sum(dLdY * X_hat)`` and ``dbeta = sum(dLdY)``.
        """
        dLdY = check_batchnorm_upstream(self, dLdY)
        X, X_hat = self.cache["X"], self.cache["X_hat"]
        mu, var = self.cache["mu"], self.cache["var"]
        gamma = self.parameters["gamma"]
        # BEGIN SOLUTION
        m = X.size // X.shape[-1]  # values behind each statistic

        self.gradients["gamma"] = (dLdY * X_hat).sum(axis=self.axes).reshape(1, -1)
        self.gradients["beta"] = dLdY.sum(axis=self.axes).reshape(1, -1)
        if not self.input_gradient:
            return None
        dX_hat = dLdY * gamma
        inv_std = 1 / np.sqrt(var + self.eps)
        dvar = (dX_hat * (X - mu)).sum(axis=self.axes).reshape(1, -1) * -0.5 * inv_std ** 3
        dmu = (-dX_hat.sum(axis=self.axes).reshape(1, -1) * inv_std
               + dvar * (-2 * (X - mu)).sum(axis=self.axes).reshape(1, -1) / m)
        return dX_hat * inv_std + dvar * 2 * (X - mu) / m + dmu / m
        # END SOLUTION


class BatchNorm2D(BatchNorm1D):
    """Batch normalization of every channel of ``(batch, rows, cols, channels)``
    images: BatchNorm1D's math with each statistic taken over the batch and
    all positions (``m = batch * rows * cols`` values per channel).

    Shape: ``X`` and ``Y`` are ``(batch, rows, cols, channels)``; ``gamma``,
    ``beta``, ``mu``, ``var`` and the running statistics are ``(1, channels)``.
    """

    input_ndim = 4
    axes = (0, 1, 2)


class Dropout(Layer):
    """Inverted dropout: in training each unit is dropped with probability ``p`` and
    the kept ones are scaled by ``1 / (1 - p)`` (``Y = X * mask``), so that test time
    (``Y = X``) needs no rescaling; ``backward`` multiplies ``dL/dY`` by the same mask.
    ``p`` is in [0, 1); ``seed`` (an int or a Generator) draws the masks (a network
    gives each layer its own stream: a seeded run is bit-identical).

    Shape: any ``(batch, ...)``; ``Y`` has the shape of ``X``.
    """

    takes_mode = True
    repr_fields = ("p",)

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        self.p = check_number(p, "p", "Dropout", minimum=0, maximum=1)
        if self.p == 1:
            raise ValueError(f"Dropout: p must be in [0, 1) (p=1 would drop every unit); got {p!r}")
        self.rng = make_rng(seed)

    def forward(self, X, mode="train"):
        """``X -> X * mask`` in training, ``X`` at test time; caches ``X`` and
        the mask (None at test time)."""
        X = self._checked_input(X, mode=mode)

        mask = None
        if mode == "train":
            keep = self.rng.random(X.shape) >= self.p
            mask = keep.astype(X.dtype) / X.dtype.type(1 - self.p)
        self.cache = OrderedDict(X=X, mask=mask)
        return X if mask is None else X * mask

    def backward(self, dLdY):
        """``dL/dX = dL/dY * mask`` (the mask of the last forward)."""
        dLdY = check_layer_upstream(self, dLdY)
        if not self.input_gradient:
            return None
        mask = self.cache["mask"]
        return dLdY if mask is None else dLdY * mask


LAYERS = {"fully_connected": FullyConnected, "conv2d": Conv2D, "pool2d": Pool2D, "flatten": Flatten,
          "batchnorm1d": BatchNorm1D, "batchnorm2d": BatchNorm2D, "dropout": Dropout}


def layer_arguments(name):
    """The names of the arguments that the constructor of layer ``name`` takes,
    in its order, ``seed`` left out (a network hands every layer its own)."""
    cls = lookup(LAYERS, name, "layer")
    return tuple(key for key in inspect.signature(cls).parameters if key != "seed")


def initialize_layer(name, activation=None, weight_init=None, n_out=None, kernel_shape=None,
                     stride=None, pad=None, mode=None, keep_dim="first", seed=None, p=None, eps=None,
                     momentum=None):
    """Build a layer by name; an argument left as None takes the class default,
    and a value for one the layer does not take (``activation`` for "pool2d")
    is a ``ValueError``. ``p`` is Dropout's, ``eps`` and ``momentum`` BatchNorm's;
    ``seed`` goes to the layers that draw numbers and is ignored by the others.
    """
    cls = lookup(LAYERS, name, "layer")
    given = dict(activation=activation, weight_init=weight_init, n_out=n_out, kernel_shape=kernel_shape,
                 stride=stride, pad=pad, mode=mode, keep_dim=None if keep_dim == "first" else keep_dim,
                 p=p, eps=eps, momentum=momentum)
    given = check_applicable(given, layer_arguments(name), "initialize_layer", repr(name))
    for key, parameter in inspect.signature(cls).parameters.items():
        if key == "seed":
            given["seed"] = seed
        elif parameter.default is parameter.empty and key not in given:
            raise ValueError(f"initialize_layer: {name!r} needs {key}; got None")
    return cls(**given)
