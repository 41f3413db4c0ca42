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

Training and test modes: ``BatchNorm1D``, ``BatchNorm2D`` and ``Dropout``
behave differently while training (batch statistics, dropped units) and at
test time (running statistics, every unit kept). Their ``forward`` takes
``mode="train"`` (the default, as in the course) or ``mode="test"``, and they
set ``takes_mode = True``; ``NeuralNetwork.forward(X, mode=...)`` passes the
mode to exactly those layers (``train`` uses "train", everything else "test").
"""

import numpy as np

from .activations import ACTIVATIONS, Activation, initialize_activation
from .layer_checks import (
    BatchNormChecks,
    ConvChecks,
    DenseChecks,
    DropoutChecks,
    FlattenChecks,
    LayerChecks,
    PoolChecks,
    output_shape,
)
from .checks import check_applicable, check_int, lookup
from .utils import make_rng
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
    input_ndim : int or None
        The rank ``forward`` takes (2 for dense layers, 4 for images, None: any).
    input_gradient : bool
        Whether ``backward`` computes ``dL/dX``. A network turns it off on its
        first layer, whose input is the data (nothing upstream to train);
        ``backward`` then returns None.
    takes_mode : bool (class attribute)
        Whether ``forward`` takes ``mode="train"``/``"test"`` (see the module).
    buffer_names : tuple of str (class attribute)
        Keys of ``cache`` that are state, not scratch (BatchNorm's running
        statistics): checkpoints save and restore them.
    """

    takes_mode = False
    buffer_names = ()

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
        from .fast_layers import im2col

        X = self._check_input(X)
        if self.n_in is None:
            self._init_parameters(X.shape, X.dtype)
        W, b = self.parameters["W"], self.parameters["b"]
        out_rows, out_cols = output_shape(X.shape, self.kernel_shape, self.stride, self.pads)

        X_cols = im2col(X, self.kernel_shape, self.stride, self.pads)
        Z = X_cols @ W.reshape(-1, self.n_out)
        Z += b  # in place: Z is the largest array of the layer
        Z = Z.reshape(X.shape[0], out_rows, out_cols, self.n_out)
        self.cache = {"X": X, "Z": Z, "X_cols": X_cols}
        return self.activation.forward(Z)

    def backward(self, dLdY):
        """``dL/dY (batch, out_rows, out_cols, n_out) -> dL/dX (batch, rows, cols, in_channels)``."""
        from .fast_layers import col2im_product, im2col

        dLdY = self._check_upstream(dLdY)
        X, Z = self.cache["X"], self.cache["Z"]
        X_cols = self.cache.get("X_cols")
        if X_cols is None:
            X_cols = im2col(X, self.kernel_shape, self.stride, self.pads)
        W = self.parameters["W"]

        dZ = self.activation.backward(Z, dLdY).reshape(-1, self.n_out)  # a row per output cell
        self.gradients["W"] = (X_cols.T @ dZ).reshape(W.shape)
        # db sums the rows of dZ, written as the product 1^T dZ: with this many rows,
        # one matrix product is several times faster than dZ.sum(axis=0).
        self.gradients["b"] = np.ones((1, len(dZ)), dZ.dtype) @ dZ
        if not self.input_gradient:
            return None
        # dL/dX = col2im(dZ @ W.reshape(-1, n_out).T): each window sends its row of the
        # product back onto the input cells it read.
        return col2im_product(dZ.reshape(Z.shape), W, X.shape, self.stride, self.pads)

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
        from .fast_layers import average_pool, max_pool

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
        from .fast_layers import average_pool_backward, max_pool_backward

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


class BatchNorm1D(BatchNormChecks, Layer):
    """Batch normalization of every feature over the mini-batch.

    Training (``mode="train"``), with the mean and the biased variance of the
    batch (divided by ``batch``)::

        mu = mean(X, axis=0)          var = mean((X - mu)**2, axis=0)
        X_hat = (X - mu) / sqrt(var + eps)
        Y = gamma * X_hat + beta

    and the running statistics follow the batch ones:
    ``running = momentum * running + (1 - momentum) * batch_statistic``.
    At test time (``mode="test"``) ``mu`` and ``var`` are the running
    statistics and nothing changes.

    Parameters
    ----------
    weight_init : str
        Kept for the course's signature and checked, but gamma starts at ones
        and beta at zeros whatever it says: the layer starts as a plain
        standardization.
    eps : float
        Added to the variance (> 0).
    momentum : float
        Weight of the old running statistics, in [0, 1].

    Shape: ``X`` and ``Y`` are ``(batch, n_in)``; ``gamma``, ``beta``,
    ``mu``, ``var`` and the running statistics are ``(1, n_in)``.

    Attributes
    ----------
    cache : dict
        ``"X"``, ``"X_hat"``, ``"mu"``, ``"var"`` of the last training
        forward, and ``"running_mu"``, ``"running_var"`` (zeros at first).
    """

    takes_mode = True
    buffer_names = ("running_mu", "running_var")
    # The axes each statistic is taken over (BatchNorm2D adds rows and cols).
    _axes = (0,)

    def __init__(self, weight_init="xavier_uniform", eps=1e-8, momentum=0.9):
        super().__init__()
        initialize_weights(weight_init)  # an unknown name is an error, as in the other layers
        self.weight_init = weight_init
        self._set_batchnorm_args(eps, momentum)

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = self.n_out = X_shape[-1]
        self.parameters = {"gamma": np.ones((1, self.n_in), dtype=dtype),
                           "beta": np.zeros((1, self.n_in), dtype=dtype)}
        self.cache = {"X": None, "X_hat": None, "mu": None, "var": None,
                      "running_mu": np.zeros((1, self.n_in), dtype=dtype),
                      "running_var": np.zeros((1, self.n_in), dtype=dtype)}
        self.clear_gradients()

    def forward(self, X, mode="train"):
        """``(batch, n_in) -> (batch, n_in)``; in training caches ``X``, ``X_hat``,
        ``mu``, ``var`` and updates the running statistics."""
        X, mode = self._check_forward(X, mode)
        if self.n_in is None:
            self._init_parameters(X.shape, X.dtype)
        gamma, beta = self.parameters["gamma"], self.parameters["beta"]

        if mode == "test":
            mu, var = self.cache["running_mu"], self.cache["running_var"]
            return gamma * (X - mu) / np.sqrt(var + self.eps) + beta

        mu = _per_feature(X.mean(axis=self._axes))
        var = _per_feature(((X - mu) ** 2).mean(axis=self._axes))
        X_hat = (X - mu) / np.sqrt(var + self.eps)
        # Only the keys forward owns: the running statistics stay in the cache.
        self.cache.update(X=X, X_hat=X_hat, mu=mu, var=var)
        m = self.momentum
        self.cache["running_mu"] = m * self.cache["running_mu"] + (1 - m) * mu
        self.cache["running_var"] = m * self.cache["running_var"] + (1 - m) * var
        return gamma * X_hat + beta

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
        dLdY = self._check_upstream(dLdY)
        X, X_hat = self.cache["X"], self.cache["X_hat"]
        mu, var = self.cache["mu"], self.cache["var"]
        gamma = self.parameters["gamma"]
        m = X.size // X.shape[-1]  # values behind each statistic

        self.gradients["gamma"] = _per_feature((dLdY * X_hat).sum(axis=self._axes))
        self.gradients["beta"] = _per_feature(dLdY.sum(axis=self._axes))
        if not self.input_gradient:
            return None
        dX_hat = dLdY * gamma
        inv_std = 1 / np.sqrt(var + self.eps)
        dvar = _per_feature((dX_hat * (X - mu)).sum(axis=self._axes)) * -0.5 * inv_std ** 3
        dmu = (-_per_feature(dX_hat.sum(axis=self._axes)) * inv_std
               + dvar * _per_feature((-2 * (X - mu)).sum(axis=self._axes)) / m)
        return dX_hat * inv_std + dvar * 2 * (X - mu) / m + dmu / m

    def __repr__(self):
        return (f"{self._name()}(eps={self.eps:g}, momentum={self.momentum:g}, "
                f"n_in={self.n_in})")


class BatchNorm2D(BatchNorm1D):
    """Batch normalization of every channel of ``(batch, rows, cols, channels)``
    images: BatchNorm1D's math with each statistic taken over the batch and
    all positions (``m = batch * rows * cols`` values per channel).

    Shape: ``X`` and ``Y`` are ``(batch, rows, cols, channels)``; ``gamma``,
    ``beta``, ``mu``, ``var`` and the running statistics are ``(1, channels)``.
    """

    input_ndim = 4
    _axes = (0, 1, 2)


class Dropout(DropoutChecks, Layer):
    """Inverted dropout: in training each unit is dropped with probability ``p``
    and the kept ones are scaled by ``1 / (1 - p)``, so that test time (every
    unit kept, ``Y = X``) needs no rescaling::

        mask = (uniform(X.shape) >= p) / (1 - p)       Y = X * mask

    ``backward`` multiplies ``dL/dY`` by the same mask.

    Parameters
    ----------
    p : float
        The probability of dropping a unit, in [0, 1).
    seed : int or numpy.random.Generator, optional
        Draws the masks; a network gives each layer its own stream, so a
        seeded run is bit-identical.

    Shape: any ``(batch, ...)``; ``Y`` has the shape of ``X``.
    """

    takes_mode = True

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        self._set_p(p)
        self.rng = make_rng(seed)

    def _init_parameters(self, X_shape, dtype=np.float64):
        self.n_in = self.n_out = X_shape[-1]

    def forward(self, X, mode="train"):
        """``X -> X * mask`` in training, ``X`` at test time; caches ``X`` and
        the mask (None at test time)."""
        X, mode = self._check_forward(X, mode)
        if self.n_in is None:
            self._init_parameters(X.shape)

        mask = None
        if mode == "train":
            keep = self.rng.random(X.shape) >= self.p
            mask = keep.astype(X.dtype) / X.dtype.type(1 - self.p)
        self.cache = {"X": X, "mask": mask}
        return X if mask is None else X * mask

    def backward(self, dLdY):
        """``dL/dX = dL/dY * mask`` (the mask of the last forward)."""
        dLdY = self._check_upstream(dLdY)
        if not self.input_gradient:
            return None
        mask = self.cache["mask"]
        return dLdY if mask is None else dLdY * mask

    def __repr__(self):
        return f"Dropout(p={self.p:g})"


LAYERS = {
    "fully_connected": FullyConnected,
    "conv2d": Conv2D,
    "pool2d": Pool2D,
    "flatten": Flatten,
    "batchnorm1d": BatchNorm1D,
    "batchnorm2d": BatchNorm2D,
    "dropout": Dropout,
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
    p=None,
    eps=None,
    momentum=None,
):
    """Build a layer by name; an argument left as None takes the class default.

    An argument the named layer does not take (``activation`` for "pool2d",
    say) must be left as None: a value there raises ``ValueError``, as an
    unknown argument does in ``initialize_optimizer``. ``p`` is Dropout's;
    ``eps`` and ``momentum`` are BatchNorm's (not the optimizer's momentum).
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
        "p": p,
        "eps": eps,
        "momentum": momentum,
    }
    accepted = {
        FullyConnected: ("n_out", "activation", "weight_init", "seed"),
        Conv2D: ("n_out", "kernel_shape", "activation", "weight_init", "stride", "pad", "seed"),
        Pool2D: ("kernel_shape", "stride", "pad", "mode"),
        Flatten: ("keep_dim",),
        BatchNorm1D: ("weight_init", "eps", "momentum"),
        BatchNorm2D: ("weight_init", "eps", "momentum"),
        Dropout: ("p", "seed"),
    }[cls]
    if "seed" not in accepted:
        given.pop("seed")  # a network hands every layer a generator; this one draws nothing
    given = check_applicable(given, accepted, "initialize_layer", repr(name))
    for key in ("n_out", "kernel_shape"):
        if key in accepted and key not in given:
            raise ValueError(f"initialize_layer: {name!r} needs {key}; got None")
    return cls(**given)


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


def _per_feature(statistic):
    """A per-feature statistic ``(n_in,)`` as the row ``(1, n_in)`` the
    parameters have (it broadcasts over ``(batch, n_in)`` and images alike)."""
    return statistic.reshape(1, -1)
