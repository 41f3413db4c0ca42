"""Loss functions: a number that says how far predictions are from targets.

Both losses average over the batch (the first axis), so that layer gradients,
which are sums over the batch, come out as means. ``forward(Y, Y_hat)`` returns
the loss as a float and ``backward(Y, Y_hat)`` returns ``dL/dY_hat``.
"""

import numpy as np

from .checks import check_array, check_same_shape, lookup


class Loss:
    """Base class. Calling a loss is the same as calling ``forward``; ``name``
    is the loss's short name ("cross_entropy", "l2")."""

    def __init__(self, name):
        self.name = name

    def __call__(self, Y, Y_hat):
        return self.forward(Y, Y_hat)

    def forward(self, Y, Y_hat):
        """Return the mean loss over the batch (a float)."""
        raise NotImplementedError

    def backward(self, Y, Y_hat):
        """Return ``dL/dY_hat`` (same shape as ``Y_hat``)."""
        raise NotImplementedError

    def _check(self, Y, Y_hat, method):
        """The guard: targets and predictions, real arrays of one shape with at
        least one example (0/1 integer targets take the predictions' dtype)."""
        where = f"{type(self).__name__}.{method}"
        integer_targets = isinstance(Y, np.ndarray) and Y.dtype.kind in "biu"
        Y = check_array(Y, "Y", where)
        Y_hat = check_array(Y_hat, "Y_hat", where)
        if integer_targets:
            Y = Y.astype(Y_hat.dtype)
        check_same_shape(Y, Y_hat, "Y", "Y_hat", where)
        if Y.ndim == 0 or Y.shape[0] == 0:
            raise ValueError(f"{where}: Y must hold at least one example; got shape {Y.shape}")
        return Y, Y_hat

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class CrossEntropy(Loss):
    """Cross-entropy between one-hot targets and predicted probabilities:
    ``L = -(1/m) * sum(Y * log(Y_hat))`` with ``m`` the batch size.

    Shape: ``Y`` and ``Y_hat`` are ``(batch, classes)``; each row of ``Y_hat``
    holds probabilities (the output of a softmax). Probabilities are raised to
    at least ``tiny`` (the smallest normal number of their dtype) before the
    log and the division, so one that underflowed to 0 gives a large finite
    loss, not inf.
    """

    def __init__(self, name="cross_entropy"):
        super().__init__(name)

    def forward(self, Y, Y_hat):
        Y, Y_hat = self._check(Y, Y_hat, "forward")
        m = Y.shape[0]
        P = np.maximum(Y_hat, np.finfo(Y_hat.dtype).tiny)  # log(0) would be -inf
        return float(-np.sum(Y * np.log(P)) / m)

    def backward(self, Y, Y_hat):
        """``dL/dY_hat = -Y / (m * Y_hat)``."""
        Y, Y_hat = self._check(Y, Y_hat, "backward")
        m = Y.shape[0]
        P = np.maximum(Y_hat, np.finfo(Y_hat.dtype).tiny)  # no division by 0
        with np.errstate(over="ignore"):
            return -Y / (m * P)


class L2(Loss):
    """Half the mean squared error: ``L = (1/(2m)) * sum((Y - Y_hat)**2)``.

    Shape: ``Y`` and ``Y_hat`` are ``(batch, outputs)``.
    """

    def __init__(self, name="l2"):
        super().__init__(name)

    def forward(self, Y, Y_hat):
        Y, Y_hat = self._check(Y, Y_hat, "forward")
        m = Y.shape[0]
        return float(np.sum((Y - Y_hat) ** 2) / (2 * m))

    def backward(self, Y, Y_hat):
        """``dL/dY_hat = (Y_hat - Y) / m``."""
        Y, Y_hat = self._check(Y, Y_hat, "backward")
        m = Y.shape[0]
        return (Y_hat - Y) / m


LOSSES = {"cross_entropy": CrossEntropy, "l2": L2}


def initialize_loss(name):
    """Build a loss from its name: "cross_entropy" or "l2"."""
    return lookup(LOSSES, name, "loss")(name.lower())
