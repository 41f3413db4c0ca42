"""Loss functions: ``forward(Y, Y_hat)`` says how far predictions are from the
targets (a float), ``backward(Y, Y_hat)`` returns ``dL/dY_hat``. Both average
over the batch, so the layers' gradients, sums over the batch, become means."""

import numpy as np

from .checks import check_array, check_same_shape, lookup


class Loss:
    """Base class. Calling a loss is the same as calling ``forward``; ``name``
    is the loss's short name ("cross_entropy", "l2")."""

    def __init__(self, name=None):
        self.name = name or self.short_name

    def __call__(self, Y, Y_hat):
        return self.forward(Y, Y_hat)

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
    """Cross-entropy between one-hot targets ``Y`` and probabilities ``Y_hat``
    (a softmax's output), both ``(batch, classes)``:
    ``L = -(1/m) * sum(Y * log(Y_hat))`` with ``m`` the batch size."""

    short_name = "cross_entropy"

    def forward(self, Y, Y_hat):
        Y, Y_hat = self._check(Y, Y_hat, "forward")
        # BEGIN SOLUTION
        m = Y.shape[0]
        # At least the smallest normal number: a probability that underflowed
        # to 0 gives a large finite loss, not inf.
        P = np.maximum(Y_hat, np.finfo(Y_hat.dtype).tiny)
        return float(-np.sum(Y * np.log(P)) / m)
        # END SOLUTION

    def backward(self, Y, Y_hat):
        """``dL/dY_hat = -Y / (m * Y_hat)``."""
        Y, Y_hat = self._check(Y, Y_hat, "backward")
        # BEGIN SOLUTION
        m = Y.shape[0]
        P = np.maximum(Y_hat, np.finfo(Y_hat.dtype).tiny)  # no division by 0
        with np.errstate(over="ignore"):
            return -Y / (m * P)
        # END SOLUTION


class L2(Loss):
    """Half the mean squared error of ``Y`` and ``Y_hat``, both ``(batch, outputs)``:
    ``L = (1/(2m)) * sum((Y - Y_hat)**2)``."""

    short_name = "l2"

    def forward(self, Y, Y_hat):
        Y, Y_hat = self._check(Y, Y_hat, "forward")
        return float(np.sum((Y - Y_hat) ** 2) / (2 * Y.shape[0]))

    def backward(self, Y, Y_hat):
        """``dL/dY_hat = (Y_hat - Y) / m``."""
        Y, Y_hat = self._check(Y, Y_hat, "backward")
        return (Y_hat - Y) / Y.shape[0]


LOSSES = {"cross_entropy": CrossEntropy, "l2": L2}


def initialize_loss(name):
    """Build a loss from its name: "cross_entropy" or "l2"."""
    return lookup(LOSSES, name, "loss")(name.lower())
