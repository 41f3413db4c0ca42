"""The argument checks of the whole package, as plain functions: each raises ``ValueError``
or ``TypeError`` naming where it ran, the argument, what was expected and what was received."""

import numbers

import numpy as np


def describe(value):
    """A short description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return f"{text[:57] + '...' if len(text) > 60 else text} ({type(value).__name__})"


def lookup(registry, name, what):
    """``registry[name.lower()]``, or an error naming ``what`` (``"activation"``) and the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, one of {sorted(registry)}; got {describe(name)}")
    if name.lower() not in registry:
        raise ValueError(f"unknown {what} {name!r}; valid names are {sorted(registry)}")
    return registry[name.lower()]


def check_int(value, name, where, minimum=1):
    """``value`` as an int, or an error unless it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an integer; got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}; got {value}")
    return int(value)


def check_number(value, name, where, minimum=None, maximum=None, strict=False):
    """``value`` as a finite float within the bounds (exclusive when ``strict``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number; got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite; got {value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValueError(f"{where}: {name} must be {'>' if strict else '>='} {minimum}; got {value}")
    if maximum is not None and (value >= maximum if strict else value > maximum):
        raise ValueError(f"{where}: {name} must be {'<' if strict else '<='} {maximum}; got {value}")
    return value


def check_pair(value, name, where):
    """An int or a pair of ints as a pair of positive ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{where}: {name} must be an int or a pair of ints; got {value!r}")
        return tuple(check_int(v, name, where) for v in value)
    return (check_int(value, name, where),) * 2


def check_array(x, name, where, ndim=None):
    """A real ndarray (of rank ``ndim`` if given); integer and boolean arrays come back as float64."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array; got {describe(x)}")
    if x.dtype.kind in "biu":
        x = x.astype(np.float64)
    elif x.dtype.kind != "f":
        raise TypeError(f"{where}: {name} must hold real numbers; got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{where}: {name} must have {ndim} dimensions; got shape {x.shape}")
    return x


def check_same_shape(a, b, name_a, name_b, where):
    """An error unless arrays ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{where}: {name_a} and {name_b} must have the same shape; "
                         f"got {a.shape} and {b.shape}")


# -- datasets: where an array holds a NaN or an infinity ----------------------------------------


def non_finite(array, name):
    """None when every value of ``array`` is finite, else where the first NaN or infinity is (``data
    has a non-finite value (nan) at row 3, column 2``); 4096 examples at a time, for small temporaries."""
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
    """The ``arguments`` that are not None, each one that ``target`` takes (its names
    in ``accepted``): a value for an argument that does not apply is an error."""
    given = {key: value for key, value in arguments.items() if value is not None}
    for key, value in given.items():
        if key not in accepted:
            takes = ", ".join(accepted) or nothing
            raise ValueError(f"{where}: {key} does not apply to {target} (it takes {takes}); got {value!r}")
    return given


def check_bool(value, name, where):
    """``value`` as a bool, or an error unless it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be True or False; got {describe(value)}")
    return bool(value)


# -- layers: the guards that open each forward and backward of layers.py ------------------


def check_choice(value, choices, name, where):
    """Return ``value`` if it is one of the strings ``choices``, or raise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{where}: {name} must be one of {list(choices)}; got {describe(value)}")
    return value


def check_layer_input(layer, X, method="forward", mode="train"):
    """``X`` (and ``mode``, for a layer that ``takes_mode``) as ``layer`` takes them, by the class
    attributes of ``layers.Layer``; on a built layer, also its ``expected_shapes()`` (set by hand)."""
    where = f"{layer.class_name}.{method}"
    X = check_array(X, "X", where, ndim=layer.input_ndim)
    if X.ndim < layer.min_ndim:
        raise ValueError(f"{where}: X must have at least {layer.min_ndim} dimensions; got shape {X.shape}")
    # An empty batch is fine; an example with no features or channels is not.
    if 0 in X.shape[1:]:
        raise ValueError(f"{where}: every axis of X but the batch must be non-empty; got shape {X.shape}")
    if layer.features and layer.n_in is not None and X.shape[-1] != layer.n_in:
        raise ValueError(f"{where}: X has {X.shape[-1]} {layer.features} but the layer was built "
                         f"for n_in={layer.n_in}; got shape {X.shape}")
    for k, pads, size, axis in zip(getattr(layer, "kernel_shape", ()), getattr(layer, "pads", ()),
                                   X.shape[1:3], ("rows", "cols")):
        if size + sum(pads) < k:
            raise ValueError(f"{where}: the kernel ({k} {axis}) is larger than the padded input "
                             f"({size + sum(pads)} {axis}, from X of shape {X.shape} and pad={layer.pad!r})")
    if layer.takes_mode:
        check_choice(mode, ("train", "test"), "mode", where)
        # Running statistics cannot follow a batch that has none.
        if layer.buffer_names and mode == "train" and X.shape[0] == 0:
            raise ValueError(f"{where}: an empty batch has no statistics to normalize with in "
                             f"mode 'train'; got shape {X.shape}")
    if layer.n_in is not None:
        for (owner, key), shape in layer.expected_shapes().items():
            _check_kept(layer, owner, key, [shape], f"shape {shape}", where)
    return X


def check_layer_upstream(layer, dLdY):
    """``dLdY`` as a real array of the shape of the last forward's output."""
    where = f"{layer.class_name}.backward"
    X = layer.cache.get("X")
    if X is None:
        raise ValueError(f"{where}: backward was called before forward")
    dLdY = check_array(dLdY, "dLdY", where)
    expected = layer.output_shape_for(X.shape)
    if dLdY.shape != expected:
        raise ValueError(f"{where}: dLdY must have the shape of the last output {expected}; got {dLdY.shape}")
    return dLdY


def check_batchnorm_upstream(layer, dLdY):
    """BatchNorm's backward guard: ``dLdY``, and what backward reads (graders set it
    by hand): ``X``, ``X_hat`` of the shape of ``dLdY``; ``mu``, ``var``, ``gamma`` rows."""
    where = f"{layer.class_name}.backward"
    if layer.cache.get("X") is None:
        raise ValueError(f"{where}: backward was called before forward")
    dLdY = check_array(dLdY, "dLdY", where, ndim=layer.input_ndim)
    row = (1, dLdY.shape[-1])
    for key in ("X", "X_hat"):
        _check_kept(layer, "cache", key, [dLdY.shape], f"the shape of dLdY {dLdY.shape}", where)
    for owner, key in (("cache", "mu"), ("cache", "var"), ("parameters", "gamma")):
        _check_kept(layer, owner, key, [row] if key == "gamma" else [row, row[1:]], f"shape {row}", where)
    return dLdY


def _check_kept(layer, owner, key, shapes, expected, where):
    """An error unless ``getattr(layer, owner)[key]`` is an array of one of ``shapes``."""
    value = getattr(layer, owner).get(key)
    if not isinstance(value, np.ndarray) or value.shape not in shapes:
        got = value.shape if isinstance(value, np.ndarray) else describe(value)
        raise ValueError(f"{where}: {owner}[{key!r}] must be an array of {expected}; got {got}")


# ---- model: the arguments of NeuralNetwork and its methods


def check_layer_args(layer_args, layer_type):
    """A copy of ``layer_args``: a non-empty list of dicts (not ``layer_type`` objects) with a "name"."""
    if not isinstance(layer_args, (list, tuple)) or not layer_args:
        raise TypeError(f"NeuralNetwork: layer_args must be a non-empty list of dicts; "
                        f"got {describe(layer_args)}")
    for i, args in enumerate(layer_args):
        if isinstance(args, layer_type):
            raise TypeError(f"NeuralNetwork: layer_args[{i}] must be a dict of initialize_layer "
                            f"arguments, not a layer object; got {args!r}")
        if not isinstance(args, dict):
            raise TypeError(f"NeuralNetwork: layer_args[{i}] must be a dict; got {describe(args)}")
        if "name" not in args:
            raise ValueError(f"NeuralNetwork: layer_args[{i}] has no 'name'; got {args}")
    return [dict(args) for args in layer_args]


def check_output_activation(loss, layer_args, softmax_type):
    """Cross-entropy compares probabilities: an output layer with an activation
    must end in a softmax (the name or a ``softmax_type`` object)."""
    i, args = len(layer_args) - 1, layer_args[-1]
    if loss.name != "cross_entropy" or str(args["name"]).lower() not in ("fully_connected", "conv2d"):
        return
    activation = args.get("activation")
    if not (isinstance(activation, softmax_type) or str(activation).lower() == "softmax"):
        shown = "None (linear)" if activation is None else repr(activation)
        raise ValueError(f"NeuralNetwork: the cross_entropy loss needs probabilities, but the output "
                         f"layer layer_args[{i}] ({args['name']}) has activation {shown}; give it "
                         f"activation 'softmax', or use the 'l2' loss")


def check_optimizer_args(optimizer_args):
    """``optimizer_args``, a dict with "name" and "lr"."""
    if not isinstance(optimizer_args, dict):
        raise TypeError(f"NeuralNetwork: optimizer_args must be a dict; got {describe(optimizer_args)}")
    for key in ("name", "lr"):
        if key not in optimizer_args:
            raise ValueError(f"NeuralNetwork: optimizer_args needs {key!r}; got {optimizer_args}")
    return optimizer_args


def check_ready(model, method, mode="test"):
    """The guard of the model's methods: every layer built, ``mode`` "train" or "test"."""
    if not model.built:
        raise ValueError(f"NeuralNetwork.{method}: the output layer's n_out is not known yet; "
                         f"give it in layer_args or call train(dataset) first")
    if not isinstance(mode, str) or mode not in ("train", "test"):
        raise ValueError(f"NeuralNetwork.{method}: mode must be 'train' or 'test'; got {describe(mode)}")


def check_split(dataset, split, where):
    """``getattr(dataset, split)``, which must exist and not be None."""
    data = getattr(dataset, split, None)
    if data is None:
        raise ValueError(f"{where}: dataset has no {split} split (dataset.{split} is None)")
    return data
