"""Activation functions: ``forward(Z)`` maps pre-activations to activations,
``backward(Z, dY)`` the upstream gradient ``dY = dL/dY`` to ``dL/dZ``. Both take
any shape (``(batch, features)``, ``(batch, rows, cols, channels)``), never modify
their inputs, and stay finite and warning-free for inputs of any magnitude."""

import numpy as np

from .checks import check_array, check_same_shape, lookup


class Activation:
    """Base class. Calling an activation is the same as calling ``forward``."""

    needs_classes = False  # SoftMax: the last axis holds the classes

    def __call__(self, Z):
        return self.forward(Z)

    def _check(self, Z, *dY):
        """The guard: ``forward`` checks ``Z``, ``backward`` ``Z`` and ``dY`` (one shape)."""
        where = f"{type(self).__name__}.{'backward' if dY else 'forward'}"
        Z = check_array(Z, "Z", where)
        if self.needs_classes and (Z.ndim == 0 or Z.shape[-1] == 0):
            raise ValueError(f"{where}: Z needs at least one class on its last axis; got shape {Z.shape}")
        if not dY:
            return Z
        dY = check_array(dY[0], "dY", where)
        check_same_shape(Z, dY, "Z", "dY", where)
        return Z, dY

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in vars(self).items())})"


class Linear(Activation):
    """The identity: ``f(z) = z``."""

    def forward(self, Z):
        return self._check(Z).copy()

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        return dY.copy()


class Sigmoid(Activation):
    """The logistic function ``f(z) = 1 / (1 + exp(-z))``; ``f' = f (1 - f)``."""

    def forward(self, Z):
        Z = self._check(Z)
        # exp of a non-positive number never overflows: use exp(-|z|) on both sides.
        e = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        s = self.forward(Z)
        return dY * s * (1 - s)


class TanH(Activation):
    """The hyperbolic tangent; ``f' = 1 - f**2``."""

    def forward(self, Z):
        return np.tanh(self._check(Z))

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        t = np.tanh(Z)
        return dY * (1 - t * t)


class ArcTan(Activation):
    """The inverse tangent; ``f' = 1 / (1 + z**2)``."""

    def forward(self, Z):
        return np.arctan(self._check(Z))

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        # For |z| > 1e154, z**2 overflows to inf and gives 0, the correct value.
        with np.errstate(over="ignore"):
            return dY / (1 + Z * Z)


class ReLU(Activation):
    """The rectifier ``f(z) = max(z, 0)``. By the course's convention f'(0) = 1."""

    def forward(self, Z):
        Z = self._check(Z)
        # BEGIN SOLUTION
        return np.maximum(Z, 0)
        # END SOLUTION

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        # BEGIN SOLUTION
        # A 0/1 mask of dY's dtype: several times faster than np.where or booleans.
        return dY * (Z >= 0).astype(dY.dtype)
        # END SOLUTION


class LeakyReLU(Activation):
    """``f(z) = z`` for ``z >= 0`` and ``slope * z`` otherwise (slope 0.01)."""

    def __init__(self, slope=0.01):
        self.slope = float(slope)

    def forward(self, Z):
        Z = self._check(Z)
        return np.where(Z >= 0, Z, self.slope * Z)

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        return np.where(Z >= 0, dY, self.slope * dY)


class ELU(Activation):
    """``f(z) = z`` for ``z >= 0`` and ``alpha * (exp(z) - 1)`` otherwise (alpha 1)."""

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def forward(self, Z):
        Z = self._check(Z)
        return np.where(Z >= 0, Z, self.alpha * np.expm1(np.minimum(Z, 0)))

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        return np.where(Z >= 0, dY, dY * self.alpha * np.exp(np.minimum(Z, 0)))


class SoftMax(Activation):
    """``softmax(z)_i = exp(z_i) / sum_j exp(z_j)`` over the last axis.

    The row maximum is subtracted first, so no exponent is ever positive, and
    no output is below the smallest normal number of its dtype.
    ``backward`` is the Jacobian-vector product ``s * (dY - sum(dY * s))``
    per row, with ``s = softmax(Z)``: one expression, no loop over the batch.
    """

    needs_classes = True  # the guard wants at least one class on the last axis

    def forward(self, Z):
        Z = self._check(Z)
        # BEGIN SOLUTION
        e = np.exp(Z - Z.max(axis=-1, keepdims=True))
        s = e / e.sum(axis=-1, keepdims=True)
        # No probability below the smallest normal number: then cross-entropy's
        # gradient -Y / (m * s), chained through backward, stays finite and
        # gives (s - Y) / m even where exp underflowed.
        return np.maximum(s, np.finfo(s.dtype).tiny)
        # END SOLUTION

    def backward(self, Z, dY):
        Z, dY = self._check(Z, dY)
        # BEGIN SOLUTION
        s = self.forward(Z)
        return s * (dY - np.sum(dY * s, axis=-1, keepdims=True))
        # END SOLUTION


ACTIVATIONS = {"linear": Linear, "sigmoid": Sigmoid, "tanh": TanH, "arctan": ArcTan, "relu": ReLU,
               "leaky_relu": LeakyReLU, "elu": ELU, "softmax": SoftMax}


def initialize_activation(name):
    """Build an activation from its name (see ``ACTIVATIONS`` for the names)."""
    return lookup(ACTIVATIONS, name, "activation")()
