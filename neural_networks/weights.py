"""Weight initializers.

``initialize_weights(name, activation, mode)`` returns ``init(shape, rng=None)``
that draws an array of that shape. Shapes are ``(n_in, n_out)`` for dense
weights and ``(kernel_rows, kernel_cols, in_channels, out_channels)`` for
convolution kernels. ``rng`` is a ``numpy.random.Generator`` (or a seed); the
model passes its own so that a seed reproduces every weight.

Fans: for a dense matrix ``fan_in = n_in`` and ``fan_out = n_out``; for a
kernel ``fan_in = kernel_rows * kernel_cols * in_channels`` and
``fan_out = kernel_rows * kernel_cols * out_channels`` (each output sees
``fan_in`` inputs, each input feeds ``fan_out`` outputs).

Standard deviations (Glorot & Bengio 2010; He et al. 2015):

* Xavier: ``gain * sqrt(2 / (fan_in + fan_out))``
* He: ``gain / sqrt(fan)`` with ``fan`` chosen by ``mode``
* a uniform draw of standard deviation ``std`` uses the bound ``sqrt(3) * std``

Gains: 1 for linear, sigmoid and softmax, 5/3 for tanh, sqrt(2) for relu.
"""

import numpy as np

from .checks import describe, lookup
from .utils import make_rng

GAINS = {
    "linear": 1.0,
    "sigmoid": 1.0,
    "softmax": 1.0,
    "arctan": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": np.sqrt(2.0),
    "leaky_relu": np.sqrt(2.0 / (1 + 0.01**2)),
    "elu": np.sqrt(2.0),
}


def gain(activation):
    """The gain of an activation name (1 when ``activation`` is None)."""
    if activation is None:
        return 1.0
    return lookup(GAINS, activation, "activation")


def fans(shape):
    """``(fan_in, fan_out)`` of a dense ``(n_in, n_out)`` or a conv kernel shape."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        receptive = shape[0] * shape[1]
        return receptive * shape[2], receptive * shape[3]
    raise ValueError(
        f"initialize_weights: shape must be (n_in, n_out) or "
        f"(kernel_rows, kernel_cols, in_channels, out_channels); got {shape}"
    )


def _check_shape(shape):
    if isinstance(shape, list):
        shape = tuple(shape)
    if (
        not isinstance(shape, tuple)
        or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape)
    ):
        raise ValueError(
            f"initialize_weights: shape must be a tuple of positive ints; got {describe(shape)}"
        )
    return tuple(int(s) for s in shape)


def _identity(shape, rng):
    if len(shape) == 2:
        return np.eye(*shape)
    if len(shape) == 4:
        # The "Dirac" kernel: the center tap passes channel c to channel c.
        W = np.zeros(shape)
        k = min(shape[2], shape[3])
        W[(shape[0] - 1) // 2, (shape[1] - 1) // 2, np.arange(k), np.arange(k)] = 1
        return W
    raise ValueError(f"initialize_weights: 'identity' needs a 2-D or 4-D shape; got {shape}")


def _sparse(shape, rng, nonzero=15):
    # Martens (2010): each unit gets a fixed number of non-zero incoming
    # weights drawn from N(0, 1); all the others are zero.
    fan_in, _ = fans(shape)
    n_units = shape[-1]
    W = np.zeros((fan_in, n_units))
    k = min(nonzero, fan_in)
    rows = np.argsort(rng.random((fan_in, n_units)), axis=0)[:k]
    W[rows, np.arange(n_units)] = rng.standard_normal((k, n_units))
    return W.reshape(shape)


def initialize_weights(name, activation=None, mode="fan_in", value=0.01):
    """Return ``init(shape, rng=None)`` drawing weights by the named scheme.

    Parameters
    ----------
    name : str
        "zeros", "ones", "constant" (every entry ``value``), "identity" (the
        identity matrix, or for a kernel the centered Dirac kernel), "uniform"
        (``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``), "normal" (``N(0, 1/fan_in)``),
        "sparse" (15 ``N(0, 1)`` inputs per unit, the rest zero),
        "he_uniform", "he_normal", "xavier_uniform", "xavier_normal".
    activation : str, optional
        The activation that follows, which sets the gain (see ``GAINS``).
    mode : {"fan_in", "fan_out"}
        The fan used by the He initializers.
    value : float
        The fill value of "constant".
    """
    init_fn = lookup(_SCHEMES, name, "weight initializer")
    g = gain(activation)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(
            f"initialize_weights: mode must be 'fan_in' or 'fan_out'; got {mode!r}"
        )

    def init(shape, rng=None):
        shape = _check_shape(shape)
        return init_fn(shape, make_rng(rng), g, mode, value)

    init.__name__ = f"init_{name.lower()}"
    return init


def _he_std(shape, g, mode):
    fan_in, fan_out = fans(shape)
    return g / np.sqrt(fan_in if mode == "fan_in" else fan_out)


def _xavier_std(shape, g):
    fan_in, fan_out = fans(shape)
    return g * np.sqrt(2.0 / (fan_in + fan_out))


def _uniform(rng, shape, std):
    bound = np.sqrt(3.0) * std
    return rng.uniform(-bound, bound, size=shape)


_SCHEMES = {
    "zeros": lambda shape, rng, g, mode, value: np.zeros(shape),
    "ones": lambda shape, rng, g, mode, value: np.ones(shape),
    "constant": lambda shape, rng, g, mode, value: np.full(shape, float(value)),
    "identity": lambda shape, rng, g, mode, value: _identity(shape, rng),
    "uniform": lambda shape, rng, g, mode, value: _uniform(
        rng, shape, 1 / np.sqrt(3 * fans(shape)[0])
    ),
    "normal": lambda shape, rng, g, mode, value: rng.normal(
        0, 1 / np.sqrt(fans(shape)[0]), size=shape
    ),
    "sparse": lambda shape, rng, g, mode, value: _sparse(shape, rng),
    "he_uniform": lambda shape, rng, g, mode, value: _uniform(
        rng, shape, _he_std(shape, g, mode)
    ),
    "he_normal": lambda shape, rng, g, mode, value: rng.normal(
        0, _he_std(shape, g, mode), size=shape
    ),
    "xavier_uniform": lambda shape, rng, g, mode, value: _uniform(
        rng, shape, _xavier_std(shape, g)
    ),
    "xavier_normal": lambda shape, rng, g, mode, value: rng.normal(
        0, _xavier_std(shape, g), size=shape
    ),
}
