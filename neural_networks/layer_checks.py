"""The argument checks of the layers, kept apart from their math.

Every layer in ``layers.py`` opens ``forward`` with ``self._check_input(X)``
and ``backward`` with ``self._check_upstream(dLdY)``. Those guards live here,
in a mixin the layers inherit, so that the layers' own methods hold only the
math a student derives. Each check raises ``ValueError`` or ``TypeError``
naming the layer, the method, the argument, what was expected and what was
received, before any work is done.
"""

import numpy as np

from .checks import check_array, check_int, check_number, check_pair, describe


def padding(pad, kernel_shape, where="pad"):
    """``((top, bottom), (left, right))`` for ``pad`` = "same", "valid" or an int."""
    if isinstance(pad, str):
        if pad == "valid":
            return ((0, 0), (0, 0))
        if pad == "same":
            return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel_shape)
        raise ValueError(f"{where}: pad must be 'same', 'valid' or an int >= 0; got {pad!r}")
    p = check_int(pad, "pad", where, minimum=0)
    return ((p, p), (p, p))


def output_shape(X_shape, kernel_shape, stride, pads):
    """``(out_rows, out_cols)``: ``floor((size + pad_before + pad_after - kernel) / stride) + 1``."""
    return tuple(
        (X_shape[axis + 1] + sum(pads[axis]) - kernel_shape[axis]) // stride[axis] + 1
        for axis in range(2)
    )


class LayerChecks:
    """Input checks shared by every layer (mixed into ``layers.Layer``).

    A layer class sets ``input_ndim`` (None: any rank) and may override
    :meth:`output_shape_for`, :meth:`_check_features` and
    :meth:`_expected_parameter_shapes`.
    """

    input_ndim = None

    def _name(self):
        return type(self).__name__

    def _check_input(self, X, method="forward"):
        """``X`` as a real array of the right rank and size for this layer;
        on a built layer, also the hand-set parameters' shapes."""
        where = f"{self._name()}.{method}"
        X = check_array(X, "X", where, ndim=self.input_ndim)
        # An empty batch is fine; an example with no features or channels is not.
        if X.ndim >= 2 and 0 in X.shape[1:]:
            raise ValueError(f"{where}: every axis of X but the batch must be non-empty; got shape {X.shape}")
        self._check_features(X, where)
        if self.n_in is not None:
            self._check_parameter_shapes(where)
        return X

    def _check_features(self, X, where):
        """Layer-specific checks of ``X`` (feature counts, window sizes)."""

    def output_shape_for(self, X_shape):
        """The shape of ``forward``'s output for an input of shape ``X_shape``."""
        return X_shape

    def _check_upstream(self, dLdY):
        """``dLdY`` as a real array of the last forward's output shape."""
        where = f"{self._name()}.backward"
        if "X" not in self.cache:
            raise ValueError(f"{where}: backward was called before forward")
        dLdY = check_array(dLdY, "dLdY", where)
        expected = self.output_shape_for(self.cache["X"].shape)
        if dLdY.shape != expected:
            raise ValueError(
                f"{where}: dLdY must have the shape of the last output {expected}; got {dLdY.shape}"
            )
        return dLdY

    def _expected_parameter_shapes(self):
        return {}

    def _check_param_name(self, param_name):
        if param_name not in self.parameters:
            raise ValueError(
                f"{self._name()}.forward_with_param: unknown param_name {param_name!r}; "
                f"this layer has {sorted(self.parameters)}"
            )

    def _check_parameter_shapes(self, where):
        """Parameters set by hand must keep the shapes the layer was built with."""
        for name, shape in self._expected_parameter_shapes().items():
            value = self.parameters.get(name)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                got = value.shape if isinstance(value, np.ndarray) else describe(value)
                raise ValueError(
                    f"{where}: parameters[{name!r}] must be an array of shape {shape}; got {got}"
                )


class DenseChecks(LayerChecks):
    """Checks of a layer on ``(batch, n_in)`` inputs with ``W`` and ``b``."""

    input_ndim = 2

    def _check_features(self, X, where):
        if self.n_in is not None and X.shape[1] != self.n_in:
            raise ValueError(
                f"{where}: X has {X.shape[1]} features but the layer was built for "
                f"n_in={self.n_in}; got shape {X.shape}"
            )

    def output_shape_for(self, X_shape):
        return (X_shape[0], self.n_out)

    def _expected_parameter_shapes(self):
        return {"W": (self.n_in, self.n_out), "b": (1, self.n_out)}


class WindowChecks(LayerChecks):
    """Checks of a layer that slides a window over ``(batch, rows, cols,
    channels)`` images: the kernel, stride and padding, and that the kernel
    fits inside the padded input."""

    input_ndim = 4

    def _set_window(self, kernel_shape, stride, pad):
        where = self._name()
        self.kernel_shape = check_pair(kernel_shape, "kernel_shape", where)
        self.stride = check_pair(stride, "stride", where)
        self.pad = pad
        self.pads = padding(pad, self.kernel_shape, where)

    def _check_features(self, X, where):
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

    def output_shape_for(self, X_shape):
        out_rows, out_cols = output_shape(X_shape, self.kernel_shape, self.stride, self.pads)
        return (X_shape[0], out_rows, out_cols, self.n_out)


class ConvChecks(WindowChecks):
    """Checks of ``Conv2D``: the window checks and the kernel's shape."""

    def _expected_parameter_shapes(self):
        return {"W": (*self.kernel_shape, self.n_in, self.n_out), "b": (1, self.n_out)}


class PoolChecks(WindowChecks):
    """Checks of ``Pool2D``: the window checks, a known mode, and a pad
    smaller than the kernel (else a window could hold padding only)."""

    def _set_pool_window(self, kernel_shape, mode, stride, pad, modes):
        self._set_window(kernel_shape, stride, pad)
        if mode not in modes:
            raise ValueError(f"Pool2D: mode must be one of {list(modes)}; got {describe(mode)}")
        for k, (before, after), axis in zip(self.kernel_shape, self.pads, ("rows", "cols")):
            if max(before, after) >= k:
                raise ValueError(
                    f"Pool2D: pad must be smaller than the kernel ({k} {axis}); got pad={pad!r}"
                )

    def output_shape_for(self, X_shape):
        out_rows, out_cols = output_shape(X_shape, self.kernel_shape, self.stride, self.pads)
        return (X_shape[0], out_rows, out_cols, X_shape[3])


class FlattenChecks(LayerChecks):
    """Checks of ``Flatten``: a known ``keep_dim`` and inputs of rank >= 2."""

    def _set_keep_dim(self, keep_dim, keep_dims):
        if keep_dim not in keep_dims:
            raise ValueError(
                f"Flatten: keep_dim must be one of {list(keep_dims)}; got {describe(keep_dim)}"
            )

    def _check_features(self, X, where):
        if X.ndim < 2:
            raise ValueError(f"{where}: X must have at least 2 dimensions; got shape {X.shape}")

    def output_shape_for(self, X_shape):
        if self.keep_dim == "first":
            return (X_shape[0], int(np.prod(X_shape[1:])))
        return (int(np.prod(X_shape[:-1])), X_shape[-1])


class ModeChecks(LayerChecks):
    """The ``mode`` argument of a layer that behaves differently in training
    ("train") and at test time ("test"): ``BatchNorm1D``, ``BatchNorm2D``,
    ``Dropout``."""

    MODES = ("train", "test")

    def _check_forward(self, X, mode):
        """``forward``'s guard: ``X`` as in :meth:`_check_input`, and the mode."""
        X = self._check_input(X)
        if not isinstance(mode, str) or mode not in self.MODES:
            raise ValueError(
                f"{self._name()}.forward: mode must be one of {list(self.MODES)}; got {describe(mode)}"
            )
        return X, mode


class BatchNormChecks(ModeChecks):
    """Checks of ``BatchNorm1D`` (``(batch, features)``) and ``BatchNorm2D``
    (``(batch, rows, cols, channels)``): ``eps > 0``, ``momentum`` in [0, 1],
    the feature count, and the hand-set ``gamma``, ``beta``, running
    statistics and cache."""

    input_ndim = 2

    def _set_batchnorm_args(self, eps, momentum):
        self.eps = check_number(eps, "eps", self._name(), minimum=0, strict=True)
        self.momentum = check_number(momentum, "momentum", self._name(), minimum=0, maximum=1)

    def _check_features(self, X, where):
        if self.n_in is not None and X.shape[-1] != self.n_in:
            raise ValueError(
                f"{where}: X has {X.shape[-1]} features (last axis) but the layer was built "
                f"for n_in={self.n_in}; got shape {X.shape}"
            )

    def _expected_parameter_shapes(self):
        return {"gamma": (1, self.n_in), "beta": (1, self.n_in)}

    def _check_forward(self, X, mode):
        X, mode = super()._check_forward(X, mode)
        if mode == "train" and X.shape[0] == 0:
            raise ValueError(
                f"{self._name()}.forward: an empty batch has no statistics to normalize "
                f"with in mode 'train'; got shape {X.shape}"
            )
        return X, mode

    def _check_parameter_shapes(self, where):
        """``gamma``, ``beta`` and the running statistics in ``cache``, any of
        which may have been set by hand."""
        super()._check_parameter_shapes(where)
        for key in ("running_mu", "running_var"):
            value = self.cache.get(key)
            if not isinstance(value, np.ndarray) or value.shape != (1, self.n_in):
                got = value.shape if isinstance(value, np.ndarray) else describe(value)
                raise ValueError(
                    f"{where}: cache[{key!r}] must be an array of shape {(1, self.n_in)} "
                    f"(it holds the running statistics); got {got}"
                )

    def _check_upstream(self, dLdY):
        """``dLdY`` and the cache ``backward`` reads: ``X`` and ``X_hat`` of
        the shape of ``dLdY``, ``mu`` and ``var`` with one value per feature,
        and ``gamma`` (all may have been set by hand)."""
        where = f"{self._name()}.backward"
        X = self.cache.get("X")
        if X is None:
            raise ValueError(f"{where}: backward was called before forward (cache['X'] is empty)")
        dLdY = check_array(dLdY, "dLdY", where, ndim=self.input_ndim)
        n = dLdY.shape[-1]
        for key in ("X", "X_hat"):
            value = self.cache.get(key)
            if not isinstance(value, np.ndarray) or value.shape != dLdY.shape:
                got = value.shape if isinstance(value, np.ndarray) else describe(value)
                raise ValueError(
                    f"{where}: cache[{key!r}] must be an array of the shape of dLdY "
                    f"{dLdY.shape}; got {got}"
                )
        for key in ("mu", "var"):
            value = self.cache.get(key)
            if not isinstance(value, np.ndarray) or value.shape not in ((1, n), (n,)):
                got = value.shape if isinstance(value, np.ndarray) else describe(value)
                raise ValueError(
                    f"{where}: cache[{key!r}] must be an array of shape {(1, n)}; got {got}"
                )
        gamma = self.parameters.get("gamma")
        if not isinstance(gamma, np.ndarray) or gamma.shape != (1, n):
            got = gamma.shape if isinstance(gamma, np.ndarray) else describe(gamma)
            raise ValueError(f"{where}: parameters['gamma'] must be an array of shape {(1, n)}; got {got}")
        return dLdY


class DropoutChecks(ModeChecks):
    """Checks of ``Dropout``: ``p`` in [0, 1); any input of rank >= 1."""

    def _set_p(self, p):
        self.p = check_number(p, "p", self._name(), minimum=0, maximum=1)
        if self.p == 1:
            raise ValueError(f"{self._name()}: p must be in [0, 1) (p=1 would drop every unit); got {p!r}")

    def _check_features(self, X, where):
        if X.ndim < 1:
            raise ValueError(f"{where}: X must have a batch axis; got a 0-dimensional array")
