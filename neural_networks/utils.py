"""Helpers: data (``AttrDict``, ``integers_to_one_hot``, ``center``, ``normalize``,
``standardize``), the one numerical gradient checker (``check_gradients``),
atomic file writes and the one restricted unpickler (``load_pickle``)."""

import contextlib
import numbers
import os
import pickle
import tempfile

import numpy as np

from .checks import check_array, check_number, describe


class AttrDict(dict):
    """A dict whose keys are also attributes: ``AttrDict(lr=0.1).lr == 0.1``."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __delattr__(self, key):
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None


def make_rng(seed=None):
    """A ``numpy.random.Generator`` from a seed, a generator, or ``None``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, (bool, np.bool_))
                             or not isinstance(seed, numbers.Integral) or seed < 0):
        raise TypeError(f"seed must be a non-negative integer or None; got {describe(seed)}")
    return np.random.default_rng(seed)


def integers_to_one_hot(integer_vector, max_val=None):
    """One-hot rows ``(batch, max_val + 1)`` of float64 for the class indices
    ``integer_vector`` ``(batch,)``; ``max_val`` is the largest class index, by
    default the largest present."""
    labels = np.asarray(integer_vector)
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(f"integers_to_one_hot: integer_vector must be a 1-D array of integers; "
                         f"got {describe(labels)}")
    if labels.size and labels.min() < 0:
        raise ValueError("integers_to_one_hot: integer_vector must not hold negative values")
    if max_val is None:
        max_val = int(labels.max()) if labels.size else 0
    if labels.size and labels.max() > max_val:
        raise ValueError(f"integers_to_one_hot: max_val is {max_val} but the vector holds {labels.max()}")
    one_hot = np.zeros((labels.shape[0], max_val + 1))
    one_hot[np.arange(labels.shape[0]), labels] = 1.0
    return one_hot


def center(X, axis=0):
    """Subtract the mean along ``axis``. Returns a new array."""
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=axis, keepdims=True)


def normalize(X, axis=0, max_val=None):
    """Rescale to ``[0, 1]`` along ``axis`` (min-max; a constant column maps to 0).
    With ``max_val``, divide by it instead of by the range. Returns a new array."""
    X = np.asarray(X, dtype=np.float64)
    shifted = X - X.min(axis=axis, keepdims=True)
    scale = shifted.max(axis=axis, keepdims=True) if max_val is None else max_val
    scale = np.where(scale == 0, 1.0, scale)
    return shifted / scale


def standardize(X, axis=0, mean=None, std=None):
    """Zero mean and unit variance along ``axis`` (a constant column maps to 0),
    or the given ``mean`` and ``std`` (e.g. a training split's). Returns a new array."""
    X = np.asarray(X, dtype=np.float64)
    if mean is None:
        mean = X.mean(axis=axis, keepdims=True)
    if std is None:
        std = X.std(axis=axis, keepdims=True)
    std = np.where(std == 0, 1.0, std)
    return (X - mean) / std


def check_gradients(fn, grad, x, dLdf, h=1e-6):
    """Compare an analytic gradient with central differences: ``grad`` (the shape
    of ``x``) is the gradient of ``L = sum(dLdf * fn(x))`` with respect to ``x``
    (``fn`` e.g. a layer's ``forward_with_param``; ``dLdf`` a scalar or the shape
    of ``fn(x)``). Each entry of ``x`` (float64) is nudged by ``+-h`` in place
    and put back exactly, even if ``fn`` raises. Returns the relative error
    ``||numeric - grad|| / (||numeric|| + ||grad||)`` (0 when both are zero):
    below about 1e-7 in float64 when ``grad`` is right."""
    x = check_array(x, "x", "check_gradients")
    if x.dtype != np.float64:
        raise TypeError(f"check_gradients: x must be float64 (finite differences are too coarse "
                        f"in lower precision); got dtype {x.dtype}")
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != x.shape:
        raise ValueError(f"check_gradients: grad must have the shape of x {x.shape}; got {grad.shape}")
    h = check_number(h, "h", "check_gradients", minimum=0, strict=True)
    if not x.flags.writeable:
        raise ValueError("check_gradients: x must be writeable (it is nudged in place and restored); "
                         "pass a copy, e.g. x.copy()")
    dLdf = np.asarray(dLdf)
    if dLdf.ndim != 0 and dLdf.shape != np.shape(fn(x)):
        raise ValueError(f"check_gradients: dLdf must be a scalar or have the shape of fn(x) "
                         f"{np.shape(fn(x))}; got {dLdf.shape}")
    numeric = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = np.sum(fn(x) * dLdf)
            x[index] = original - h
            f_minus = np.sum(fn(x) * dLdf)
        finally:
            x[index] = original
        numeric[index] = (f_plus - f_minus) / (2 * h)
    denominator = np.linalg.norm(numeric) + np.linalg.norm(grad)
    return 0.0 if denominator == 0 else float(np.linalg.norm(numeric - grad) / denominator)


@contextlib.contextmanager
def atomic_open(path, mode="wb"):
    """Open a temporary file next to ``path``, flushed to disk and renamed over
    ``path`` (atomic on POSIX and Windows) when the block ends: readers see the
    old file or the complete new one. If the block raises, ``path`` is untouched."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb'; got {mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            # mkstemp creates the file readable by its owner only; give it the
            # permissions an ordinary open() would (0o666 less the umask).
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_path)
        raise


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "w") as f:
        f.write(text)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, allowed, **kwargs):
        super().__init__(file, **kwargs)
        self.allowed = allowed

    def find_class(self, module, name):
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which is not allowed here")
        return super().find_class(module, name)


def load_pickle(file, allowed, **kwargs):
    """Unpickle the open binary ``file``, building only plain containers, numbers,
    strings and the globals in ``allowed`` (``(module, name)`` pairs): a pickle
    can run any code while it loads, so every other global is refused with a
    ``pickle.UnpicklingError`` naming it. ``kwargs`` go to ``pickle.Unpickler``
    (e.g. ``encoding="bytes"`` for Python 2 pickles)."""
    return _RestrictedUnpickler(file, allowed, **kwargs).load()
