"""Saving and loading a ``NeuralNetwork``: one ``.npz`` of plain arrays under
stable names: the parameters ("W0", "b0", "gamma1", ...), the buffers
("buffer.running_mu1", ...), the optimizer's state ("optimizer.W0.velocity",
...) and "meta", a JSON string with the finished epochs, the history, the
``layer_args``, the loss, the optimizer's class, the data order and every
layer generator's state (the dropout masks to come)."""

import copy
import json
import zipfile
from pathlib import Path

import numpy as np

from .layers import initialize_layer
from .logs import run_dir
from .utils import atomic_open


def save_parameters(model, epoch):
    """Write ``parameters_epoch<epoch>.npz`` to the run folder (if any); return the parameters."""
    params = {k: v.copy() for k, v in model.parameters().items()}
    if run_dir(model.logger) is not None:
        save(model, run_dir(model.logger) / f"parameters_epoch{epoch}.npz", state=params)
    return params


def buffers(layers):
    """The buffers (state in the cache: running statistics) as ``{"running_mu1": array, ...}``."""
    return {f"{name}{i}": layer.cache[name] for i, layer in enumerate(layers)
            for name in layer.buffer_names if name in layer.cache}


def state_dict(model, dataset=None):
    """Everything needed to resume, as arrays under stable names (see the module)."""
    state = {k: v.copy() for k, v in model.parameters().items()}
    state.update({f"buffer.{k}": v.copy() for k, v in buffers(model.layers).items()})
    state.update({f"optimizer.{k}": v for k, v in model.optimizer.state_dict().items()})
    state["meta"] = np.array(json.dumps({
        "epoch": model.epoch, "history": model.history, "layer_args": model.layer_args,
        "loss": model.loss.name, "optimizer": type(model.optimizer).__name__,
        "data_state": None if dataset is None else dataset.train.get_state(),
        "layer_rngs": [rng.bit_generator.state for rng in model.layer_rngs],
    }))
    return state


def save(model, path, dataset=None, state=None):
    """Write :func:`state_dict` (or a ``state`` it returned before) to the ``.npz`` ``path``."""
    state = state_dict(model, dataset) if state is None else state
    with atomic_open(path) as f:
        np.savez(f, **state)
    return Path(path)


def load(model, path, dataset=None):
    """Restore what :func:`state_dict` saved in ``path`` (with ``dataset``, the
    data order too: training goes on as if it had never stopped). A checkpoint
    that does not fit raises ``ValueError`` naming the problem and changes nothing."""
    path = Path(path)
    params, stored_buffers, optimizer_state, meta = _read(path)
    out_W = params.get(f"W{len(model.layer_args) - 1}")
    n_out = 1 if out_W is None else int(out_W.shape[-1])
    _check_meta(model, meta, n_out, path)
    # The checks run on copies of the layers, with their parameters created if
    # they have not run yet: the model and its generators stay untouched.
    draft = copy.copy(model)
    draft.layers = list(model.layers)
    draft.build(n_out)
    draft.layers = _create_parameters(copy.deepcopy(draft.layers), params)
    _check_arrays(draft.parameters(), params, path, "this network")
    _check_arrays(buffers(draft.layers), stored_buffers, path, "this network's buffers (running statistics)")
    rng_states = meta.get("layer_rngs") or []  # older checkpoints have none
    try:
        if len(rng_states) not in (0, len(model.layer_rngs)):
            raise ValueError(f"{len(rng_states)} states for {len(model.layer_rngs)} layers")
        for rng, state in zip(model.layer_rngs, rng_states):
            type(rng.bit_generator)().state = state
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"NeuralNetwork.load: the generator states in {path} do not fit: {error}") \
            from None
    try:  # on a copy: its state is replaced, the model's stays
        copy.copy(model.optimizer).load_state_dict(optimizer_state)
        for key, value in optimizer_state.items():  # a buffer per entry of its parameter, "t" a count
            if not key.endswith(".t") and np.shape(value) != np.shape(params.get(key.rpartition(".")[0])):
                raise ValueError(f"{key} has shape {np.shape(value)}, not its parameter's")
    except (ValueError, TypeError) as error:
        raise ValueError(f"NeuralNetwork.load: the optimizer state in {path} does not fit: {error}") \
            from None
    if dataset is not None and meta.get("data_state") is not None:
        try:  # the last check: set_state changes nothing unless the state fits
            dataset.train.set_state(meta["data_state"])
        except (ValueError, TypeError) as error:
            raise ValueError(f"NeuralNetwork.load: the data order saved in {path} does not fit "
                             f"this dataset's training split ({error})") from None
        if model.seed is not None:
            model.data_rng = dataset.train.rng
    # Every check passed: assign.
    model.build(n_out)
    _create_parameters(model.layers, params)
    for i, layer in enumerate(model.layers):
        for name in layer.parameters:
            layer.parameters[name] = params[f"{name}{i}"].copy()
        layer.clear_gradients()
        for name in layer.buffer_names:
            layer.cache[name] = stored_buffers[f"{name}{i}"].copy()
    for rng, state in zip(model.layer_rngs, rng_states):
        rng.bit_generator.state = state
    model.optimizer.load_state_dict(optimizer_state)
    model.epoch, model.history = meta["epoch"], meta["history"]
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
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"NeuralNetwork.load: {path} is not a readable checkpoint ({type(error).__name__}: {error})"
        ) from None
    parts = {"optimizer.": {}, "buffer.": {}, "": {}}
    for key, value in stored.items():
        prefix = next(p for p in parts if key.startswith(p))
        parts[prefix][key[len(prefix):]] = value
    return parts[""], parts["buffer."], parts["optimizer."], meta


def _create_parameters(layers, params):
    """Create the parameters of every layer that has not run yet (``n_in`` is
    None) from the shapes of the stored ones."""
    for i, layer in enumerate(layers):
        W, gamma = params.get(f"W{i}"), params.get(f"gamma{i}")
        if layer.n_in is not None:
            continue
        if W is not None and W.ndim == 2:  # dense: (n_in, n_out)
            layer._init_parameters((1, W.shape[0]), W.dtype)
        elif W is not None and W.ndim == 4:  # a kernel: (rows, cols, in_channels, out_channels)
            layer._init_parameters((1,) + W.shape[:3], W.dtype)
        elif gamma is not None:  # BatchNorm: (1, features); the input has the layer's rank
            layer._init_parameters((1,) * (layer.input_ndim - 1) + gamma.shape[-1:], gamma.dtype)
    return layers


def _described(layer_args, n_out):
    """Each layer's repr (its hyperparameters) built from ``layer_args`` without
    the weight initializer (loaded weights replace its draws) and with an
    output size left as None set to ``n_out``; None if they build no network."""
    try:
        return [repr(initialize_layer(**dict(args, weight_init=None, **(
            {"n_out": n_out} if "n_out" in args and args["n_out"] is None else {}))))
            for args in layer_args]
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _check_meta(model, meta, n_out, path):
    stored = _described(meta.get("layer_args"), n_out)
    if stored is None or stored != _described(model.layer_args, n_out):
        raise ValueError(f"NeuralNetwork.load: {path} was saved from a network with layer_args "
                         f"{meta.get('layer_args')}, not {model.layer_args}")
    optimizer = type(model.optimizer).__name__
    if meta.get("optimizer", optimizer) != optimizer:
        raise ValueError(f"NeuralNetwork.load: {path} holds the state of a {meta['optimizer']} "
                         f"optimizer; this network uses {optimizer}")
    if meta.get("loss", model.loss.name) != model.loss.name:
        raise ValueError(f"NeuralNetwork.load: {path} was trained with the {meta['loss']!r} loss; "
                         f"this network uses {model.loss.name!r}")


def _check_arrays(expected, stored, path, what):
    missing, unexpected = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
    if missing or unexpected:
        raise ValueError(f"NeuralNetwork.load: {path} does not match {what}: missing {missing}, "
                         f"unexpected {unexpected}")
    for name, current in expected.items():
        if stored[name].shape != current.shape:
            raise ValueError(f"NeuralNetwork.load: {name} has shape {stored[name].shape} in {path} "
                             f"but {current.shape} in this network")
