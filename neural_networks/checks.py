"""The argument checks of the whole package, as plain functions.

Each raises ``ValueError`` or ``TypeError`` whose message names where the
check ran, the argument, what was expected and what was received.
"""

import numbers

import numpy as np



def describe(value):
    """A short description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def lookup(registry, name, what):
    """Return ``registry[name.lower()]`` or raise a ``ValueError`` listing the names.

    ``what`` names the argument in the message, e.g. ``"activation"``.
    """
    if not isinstance(name, str):
        raise TypeError(
            f"{what} must be a string, one of {sorted(registry)}; got {describe(name)}"
        )
    key = name.lower()
    if key not in registry:
        raise ValueError(
            f"unknown {what} {name!r}; valid names are {sorted(registry)}"
        )
    return registry[key]


def check_int(value, name, where, minimum=1):
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an integer; got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}; got {value}")
    return int(value)


def check_number(value, name, where, minimum=None, maximum=None, strict=False):
    """Return ``value`` as a finite float inside the given bounds, or raise.

    With ``strict`` the bounds are exclusive.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number; got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite; got {value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{where}: {name} must be {relation} {minimum}; got {value}")
    if maximum is not None and (value >= maximum if strict else value > maximum):
        relation = "<" if strict else "<="
        raise ValueError(f"{where}: {name} must be {relation} {maximum}; got {value}")
    return value


def check_pair(value, name, where):
    """Turn an int or a pair of ints into a pair of positive ints, or raise."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{where}: {name} must be an int or a pair of ints; got {value!r}"
            )
        return tuple(check_int(v, name, where) for v in value)
    size = check_int(value, name, where)
    return (size, size)


def check_array(x, name, where, ndim=None):
    """Check that ``x`` is a real-valued ndarray (of rank ``ndim`` if given).

    Integer and boolean arrays are accepted and converted to float64; floating
    arrays are returned as they are (never copied).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array; got {describe(x)}")
    if x.dtype.kind in "biu":
        x = x.astype(np.float64)
    elif x.dtype.kind != "f":
        raise TypeError(
            f"{where}: {name} must hold real numbers; got dtype {x.dtype}"
        )
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{where}: {name} must have {ndim} dimensions; got shape {x.shape}"
        )
    return x


def check_same_shape(a, b, name_a, name_b, where):
    """Raise a ``ValueError`` unless arrays ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{where}: {name_a} and {name_b} must have the same shape; "
            f"got {a.shape} and {b.shape}"
        )


# -- datasets: where an array holds a NaN or an infinity ----------------------------------------


def non_finite(array, name):
    """None when every value of ``array`` is finite, else words naming the first
    NaN or infinity and where it is, e.g. ``data has a non-finite value (nan) at
    row 3, column 2``. Scanned 4096 examples at a time, so that the temporaries
    stay small for a large image set."""
    if array.dtype.kind != "f":
        return None
    for start in range(0, array.shape[0], 4096):
        bad = ~np.isfinite(array[start:start + 4096])
        if bad.any():
            index = np.unravel_index(np.argmax(bad), bad.shape)
            index = (start + int(index[0]), *map(int, index[1:]))
            words = {1: ("row",), 2: ("row", "column"), 4: ("example", "row", "column", "channel")}
            at = ", ".join(f"{word} {i}" for word, i in zip(words.get(len(index), ()), index))
            if len(index) > 2:
                at = f"index {index}" + (f" ({at})" if at else "")
            return f"{name} has a non-finite value ({array[index]}) at {at}"
    return None


def check_applicable(arguments, accepted, where, target, nothing="no arguments"):
    """The ``arguments`` whose value is not None, once each of them is one that
    ``target`` takes (its names in ``accepted``); else a ``ValueError`` naming it.

    The factories share this rule: an argument left as None keeps its default,
    and a value for one that does not apply is an error, never silently dropped.
    """
    given = {key: value for key, value in arguments.items() if value is not None}
    for key, value in given.items():
        if key not in accepted:
            takes = ", ".join(accepted) or nothing
            raise ValueError(f"{where}: {key} does not apply to {target} (it takes {takes}); got {value!r}")
    return given


def check_bool(value, name, where):
    """Return ``value`` as a bool, or raise unless it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be True or False; got {describe(value)}")
    return bool(value)
