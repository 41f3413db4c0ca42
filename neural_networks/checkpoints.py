"""Saving and loading a ``NeuralNetwork``: parameters, optimizer state, history.

A checkpoint is one ``.npz`` of plain arrays under stable names: the
parameters as "W0", "b0", "gamma1", ..., the layers' buffers (BatchNorm's
running statistics) as "buffer.running_mu1" and the like, the optimizer's
state as "optimizer.W0.velocity" and the like, and "meta", a JSON string with
the finished epochs, the history, the network's ``layer_args``, the loss, the
optimizer's class, the training data's order and the state of every layer's
random generator (the dropout masks still to come). :func:`load` checks all of
it before changing anything, so a checkpoint that does not fit leaves the
model (and the dataset) exactly as they were.
"""

import inspect
import json
import zipfile
from pathlib import Path

import numpy as np

from .layers import LAYERS
from .utils import atomic_open


def run_dir(logger):
    """The run folder of a model's ``logger``, or None when nothing is saved."""
    if logger is None or not getattr(logger, "save", False):
        return None
    return Path(logger.save_dir)


def save_parameters(model, epoch):
    """Write every parameter to ``parameters_epoch<epoch>.npz`` in the run folder
    (when there is one); return the ``{"W0": array, ...}`` dict."""
    params = {k: v.copy() for k, v in model.parameters().items()}
    folder = run_dir(model.logger)
    if folder is not None:
        with atomic_open(folder / f"parameters_epoch{epoch}.npz") as f:
            np.savez(f, **params)
    return params


def state_dict(model, dataset=None):
    """Everything needed to resume, as arrays under stable names (see the module)."""
    state = {k: v.copy() for k, v in model.parameters().items()}
    for k, v in buffers(model).items():
        state[f"buffer.{k}"] = v.copy()
    for k, v in model.optimizer.state_dict().items():
        state[f"optimizer.{k}"] = v
    meta = {
        "epoch": model.epoch,
        "history": model.history,
        "layer_args": model.layer_args,
        "loss": model.loss.name,
        "optimizer": type(model.optimizer).__name__,
        "data_state": None if dataset is None else dataset.train.get_state(),
        "layer_rngs": [rng.bit_generator.state for rng in model.layer_rngs],
    }
    state["meta"] = np.array(json.dumps(meta))
    return state


def buffers(model):
    """Every layer's buffers (state kept in its cache, such as BatchNorm's
    running statistics) under stable names: ``{"running_mu1": array, ...}``."""
    return {f"{name}{i}": layer.cache[name] for i, layer in enumerate(model.layers)
            for name in layer.buffer_names if name in layer.cache}


def save(model, path, dataset=None):
    """Write :func:`state_dict` to ``path`` (a ``.npz``) atomically."""
    state = state_dict(model, dataset)
    with atomic_open(path) as f:
        np.savez(f, **state)
    return Path(path)


def load(model, path, dataset=None):
    """Restore parameters, optimizer state, epoch count and history from ``path``.

    With ``dataset``, the training order is restored too, so training goes
    on exactly as if it had never stopped. Everything is checked before
    anything changes: a checkpoint that does not fit (another network or
    optimizer, missing or unexpected keys, other shapes, a dataset of
    another size) raises ``ValueError`` naming the problem and leaves the
    model and the dataset as they were.
    """
    path = Path(path)
    params, stored_buffers, optimizer_state, meta = _read(path)
    _check_meta(model, meta, path)
    data_state = meta.get("data_state") if dataset is not None else None
    # Checking may create the layers or parameters of a network that has not
    # run yet; if a check fails, the network is put back as it was.
    snapshot = _snapshot(model)
    try:
        out_key = f"W{len(model.layer_args) - 1}"
        if not model.built and out_key in params:
            model.build(int(params[out_key].shape[-1]))
        _check_parameters(model, params, path)
        _check_buffers(model, stored_buffers, path)
        _check_rng_states(model, meta.get("layer_rngs"), path)
        if data_state is not None:
            _check_data_state(dataset, data_state, path)
    except BaseException:
        _restore(model, snapshot)
        raise
    # Every check passed: now change the model (and the dataset).
    for i, layer in enumerate(model.layers):
        for name in layer.parameters:
            layer.parameters[name] = params[f"{name}{i}"].copy()
        layer.clear_gradients()
        for name in layer.buffer_names:
            layer.cache[name] = stored_buffers[f"{name}{i}"].copy()
    # Checkpoints written before the generators were saved have no states.
    for rng, rng_state in zip(model.layer_rngs, meta.get("layer_rngs") or []):
        rng.bit_generator.state = rng_state
    model.optimizer.load_state_dict(optimizer_state)
    model.epoch, model.history = meta["epoch"], meta["history"]
    if data_state is not None:
        if model.seed is not None:
            dataset.train.rng = model.data_rng
        dataset.train.set_state(data_state)
    return model


def _read(path):
    if not path.is_file():
        raise FileNotFoundError(f"NeuralNetwork.load: no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = {k: archive[k] for k in archive.files}
        meta = json.loads(str(stored.pop("meta")))
        meta["epoch"] = int(meta["epoch"])
        if "history" not in meta:
            raise KeyError("history")
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile,
            json.JSONDecodeError) as error:
        raise ValueError(
            f"NeuralNetwork.load: {path} is not a readable checkpoint ({type(error).__name__}: {error})"
        ) from None
    optimizer_state = {k[len("optimizer."):]: v for k, v in stored.items() if k.startswith("optimizer.")}
    stored_buffers = {k[len("buffer."):]: v for k, v in stored.items() if k.startswith("buffer.")}
    params = {k: v for k, v in stored.items() if not k.startswith(("optimizer.", "buffer."))}
    return params, stored_buffers, optimizer_state, meta


def _check_meta(model, meta, path):
    if not _same_architecture(meta.get("layer_args"), model.layer_args):
        raise ValueError(
            f"NeuralNetwork.load: {path} was saved from a network with layer_args "
            f"{meta.get('layer_args')}, not {model.layer_args}"
        )
    optimizer_name = type(model.optimizer).__name__
    if meta.get("optimizer", optimizer_name) != optimizer_name:
        raise ValueError(
            f"NeuralNetwork.load: {path} holds the state of a {meta['optimizer']} optimizer; "
            f"this network uses {optimizer_name}"
        )
    if meta.get("loss", model.loss.name) != model.loss.name:
        raise ValueError(
            f"NeuralNetwork.load: {path} was trained with the {meta['loss']!r} loss; "
            f"this network uses {model.loss.name!r}"
        )


def _check_parameters(model, params, path):
    for i, layer in enumerate(model.layers):
        W, gamma = params.get(f"W{i}"), params.get(f"gamma{i}")
        if not layer.parameters and W is not None:
            # Parameters are created on the first forward; a network loaded
            # before any forward creates them from the stored kernel's shape.
            layer._init_parameters(_input_shape_for(W))
        elif not layer.parameters and gamma is not None and layer.n_in is None:
            # BatchNorm: gamma is (1, features); the input has the layer's rank.
            layer._init_parameters((1,) * (layer.input_ndim - 1) + (gamma.shape[-1],))
    expected = set(model.parameters())
    missing = sorted(expected - set(params))
    unexpected = sorted(set(params) - expected)
    if missing or unexpected:
        raise ValueError(
            f"NeuralNetwork.load: {path} does not match this network: missing {missing}, "
            f"unexpected {unexpected}"
        )
    for name, current in model.parameters().items():
        if params[name].shape != current.shape:
            raise ValueError(
                f"NeuralNetwork.load: {name} has shape {params[name].shape} in {path} "
                f"but {current.shape} in this network"
            )


def _check_buffers(model, stored_buffers, path):
    expected = buffers(model)
    missing = sorted(set(expected) - set(stored_buffers))
    unexpected = sorted(set(stored_buffers) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"NeuralNetwork.load: {path} does not match this network's buffers (running "
            f"statistics): missing {missing}, unexpected {unexpected}"
        )
    for name, current in expected.items():
        if stored_buffers[name].shape != current.shape:
            raise ValueError(
                f"NeuralNetwork.load: buffer {name} has shape {stored_buffers[name].shape} in "
                f"{path} but {current.shape} in this network"
            )


def _check_rng_states(model, states, path):
    if states is None:
        return
    if not isinstance(states, list) or len(states) != len(model.layer_rngs):
        raise ValueError(
            f"NeuralNetwork.load: {path} holds {len(states) if isinstance(states, list) else 'no list of'} "
            f"layer generator states; this network has {len(model.layer_rngs)} layers"
        )
    for i, (rng, state) in enumerate(zip(model.layer_rngs, states)):
        scratch = type(rng.bit_generator)()
        try:
            scratch.state = state
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(
                f"NeuralNetwork.load: the generator state of layer {i} in {path} is not a "
                f"{type(scratch).__name__} state: {error}"
            ) from None


def _check_data_state(dataset, data_state, path):
    previous = dataset.train.get_state()
    try:
        dataset.train.set_state(data_state)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"NeuralNetwork.load: the data order saved in {path} does not fit this "
            f"dataset's training split ({error})"
        ) from None
    dataset.train.set_state(previous)


def _snapshot(model):
    return list(model.layers), [rng.bit_generator.state for rng in model.layer_rngs], [
        (layer.n_in, dict(layer.parameters), dict(layer.gradients), layer.cache)
        for layer in model.layers
    ]


def _restore(model, snapshot):
    layers, rng_states, states = snapshot
    model.layers = layers
    for rng, state in zip(model.layer_rngs, rng_states):
        rng.bit_generator.state = state
    for layer, (n_in, parameters, gradients, cache) in zip(layers, states):
        layer.n_in, layer.parameters, layer.gradients, layer.cache = n_in, parameters, gradients, cache


def _architecture(layer_args):
    """``layer_args`` with the class defaults filled in, for comparing networks.

    The weight initializer and seed are left out (loaded weights replace
    them), sizes are written as pairs, and an output ``n_out`` of None (taken
    from the data) matches any size: the parameter shapes are compared later.
    """
    described = []
    for args in layer_args:
        cls = LAYERS.get(str(args.get("name", "")).lower())
        if cls is None:
            return None
        entry = {"name": cls.__name__}
        for key, parameter in inspect.signature(cls).parameters.items():
            if key in ("seed", "weight_init"):
                continue
            value = args.get(key)
            if value is None and parameter.default is not inspect.Parameter.empty:
                value = parameter.default
            if key in ("kernel_shape", "stride") and isinstance(value, int):
                value = [value, value]
            entry[key] = list(value) if isinstance(value, tuple) else value
        described.append(entry)
    return described


def _same_architecture(stored, current):
    if not isinstance(stored, list) or len(stored) != len(current):
        return False
    a, b = _architecture(stored), _architecture(current)
    if a is None or b is None:
        return False
    for x, y in zip(a, b):
        if x.get("n_out") is None or y.get("n_out") is None:
            x, y = dict(x, n_out=None), dict(y, n_out=None)
        if x != y:
            return False
    return True


def _input_shape_for(W):
    """An input shape that makes a layer create parameters of ``W``'s shape:
    ``(1, n_in)`` for dense weights, ``(1, rows, cols, in_channels)`` for a kernel."""
    if W.ndim == 2:
        return (1, W.shape[0])
    return (1, W.shape[0], W.shape[1], W.shape[2])
