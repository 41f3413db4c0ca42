"""Weight initializers for dense ``(n_in, n_out)`` and kernel
``(kernel_rows, kernel_cols, in_channels, out_channels)`` shapes. Fans: ``n_in``
and ``n_out``, or ``kernel_rows * kernel_cols`` times the in and out channels.
Standard deviations (Glorot & Bengio 2010; He et al. 2015): Xavier
``gain * sqrt(2 / (fan_in + fan_out))``, He ``gain / sqrt(fan)``; a uniform
draw of standard deviation ``std`` has the bound ``sqrt(3) * std``. Gains: 1 for
linear, sigmoid and softmax, 5/3 for tanh, sqrt(2) for relu.
"""

import numpy as np

from .checks import describe, lookup
from .utils import make_rng

GAINS = {"linear": 1.0, "sigmoid": 1.0, "softmax": 1.0, "arctan": 1.0, "tanh": 5.0 / 3.0,
         "relu": np.sqrt(2.0), "leaky_relu": np.sqrt(2.0 / (1 + 0.01**2)), "elu": np.sqrt(2.0)}


def fans(shape):
    """``(fan_in, fan_out)`` of a dense ``(n_in, n_out)`` or a conv kernel shape."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        return shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]
    raise ValueError(f"initialize_weights: shape must be (n_in, n_out) or "
                     f"(kernel_rows, kernel_cols, in_channels, out_channels); got {shape}")


def _identity(shape):
    if len(shape) == 2:
        return np.eye(*shape)
    if len(shape) != 4:
        raise ValueError(f"initialize_weights: 'identity' needs a 2-D or 4-D shape; got {shape}")
    # The "Dirac" kernel: the center tap passes channel c to channel c.
    W = np.zeros(shape)
    k = np.arange(min(shape[2], shape[3]))
    W[(shape[0] - 1) // 2, (shape[1] - 1) // 2, k, k] = 1
    return W


def _sparse(shape, rng, nonzero=15):
    # Martens (2010): each unit gets a fixed number of non-zero incoming
    # weights drawn from N(0, 1); all the others are zero.
    fan_in, n_units = fans(shape)[0], shape[-1]
    W = np.zeros((fan_in, n_units))
    k = min(nonzero, fan_in)
    rows = np.argsort(rng.random((fan_in, n_units)), axis=0)[:k]
    W[rows, np.arange(n_units)] = rng.standard_normal((k, n_units))
    return W.reshape(shape)


# The standard deviation of each random scheme's draws, from the fans, gain and mode.
_STD = {
    "uniform": lambda fan_in, fan_out, g, mode: 1 / np.sqrt(3 * fan_in),  # bound 1/sqrt(fan_in)
    "normal": lambda fan_in, fan_out, g, mode: 1 / np.sqrt(fan_in),
    **dict.fromkeys(("he_uniform", "he_normal"),
                    lambda fan_in, fan_out, g, mode: g / np.sqrt(fan_in if mode == "fan_in" else fan_out)),
    **dict.fromkeys(("xavier_uniform", "xavier_normal"),
                    lambda fan_in, fan_out, g, mode: g * np.sqrt(2.0 / (fan_in + fan_out))),
}
# The other schemes, from the shape, the generator and the "constant" value.
_FIXED = {
    "zeros": lambda shape, rng, value: np.zeros(shape),
    "ones": lambda shape, rng, value: np.ones(shape),
    "constant": lambda shape, rng, value: np.full(shape, float(value)),
    "identity": lambda shape, rng, value: _identity(shape),
    "sparse": lambda shape, rng, value: _sparse(shape, rng),
}


def initialize_weights(name, activation=None, mode="fan_in", value=0.01):
    """Return ``init(shape, rng=None)`` drawing weights by the named scheme (``rng``
    a ``numpy.random.Generator`` or a seed; the model passes its own):
    "zeros", "ones", "constant" (every entry ``value``), "identity" (the
    identity matrix, or for a kernel the centered Dirac kernel), "uniform"
    (``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``), "normal" (``N(0, 1/fan_in)``),
    "sparse" (15 ``N(0, 1)`` inputs per unit, the rest zero), "he_uniform",
    "he_normal", "xavier_uniform", "xavier_normal". ``activation`` (the one
    that follows) sets the gain (see ``GAINS``); ``mode`` ("fan_in" or
    "fan_out") is the fan of the He initializers.
    """
    lookup({**_STD, **_FIXED}, name, "weight initializer")
    key = name.lower()
    g = 1.0 if activation is None else lookup(GAINS, activation, "activation")
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"initialize_weights: mode must be 'fan_in' or 'fan_out'; got {mode!r}")

    def init(shape, rng=None):
        shape = tuple(shape) if isinstance(shape, list) else shape
        if not isinstance(shape, tuple) or not all(isinstance(s, (int, np.integer)) and s > 0
                                                   for s in shape):
            raise ValueError(f"initialize_weights: shape must be a tuple of positive ints; "
                             f"got {describe(shape)}")
        shape, rng = tuple(int(s) for s in shape), make_rng(rng)
        if key in _FIXED:
            return _FIXED[key](shape, rng, value)
        std = _STD[key](*fans(shape), g, mode)
        if key.endswith("normal"):
            return rng.normal(0, std, size=shape)
        return rng.uniform(-np.sqrt(3.0) * std, np.sqrt(3.0) * std, size=shape)

    init.__name__ = f"init_{key}"
    return init
