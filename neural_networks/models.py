"""The model: a chain of layers trained by mini-batch gradient descent.

``NeuralNetwork.forward`` runs the layers in order, ``backward`` computes the
loss and runs their backward passes in reverse, ``update`` lets the optimizer
step every parameter, and ``train`` repeats that over a dataset, evaluating,
logging and checkpointing after every epoch.
"""

import csv
import inspect
import io
import json
import math
import os
import signal
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .activations import SoftMax
from .layers import LAYERS, FullyConnected, Layer, initialize_layer
from .losses import CrossEntropy, Loss, initialize_loss
from .optimizers import Optimizer, initialize_optimizer
from .utils import atomic_open, atomic_write_text, check_array, check_int, check_same_shape, describe

CHECKPOINT_FORMAT = 1


class TrainingDiverged(RuntimeError):
    """Raised when the loss or a parameter stops being a finite number."""


class NeuralNetwork:
    """A feed-forward network.

    Parameters
    ----------
    loss : str or Loss
        "cross_entropy" or "l2".
    layer_args : list of dict
        One dict of ``initialize_layer`` arguments per layer, each with a
        "name". The last one is the output layer; its ``n_out`` may be None
        and is then taken from ``dataset.out_dim`` on the first ``train``.
    optimizer_args : dict
        Arguments of ``initialize_optimizer`` (at least "name" and "lr").
    logger : logs.Logger, optional
        Receives one record per finished epoch and holds the run's folder.
    seed : int, optional
        Seeds the initial weights and the order of the training examples:
        the same seed gives bit-identical runs.
    """

    def __init__(self, loss, layer_args, optimizer_args, logger=None, seed=None):
        self.loss = loss if isinstance(loss, Loss) else initialize_loss(loss)
        self.layer_args = _check_layer_args(layer_args)
        self.optimizer_args = _check_optimizer_args(optimizer_args)
        if isinstance(optimizer_args, Optimizer):
            self.optimizer = optimizer_args
        else:
            try:
                self.optimizer = initialize_optimizer(**self.optimizer_args)
            except TypeError as error:
                raise TypeError(f"NeuralNetwork: optimizer_args: {error}") from None
        if seed is not None:
            seed = check_int(seed, "seed", "NeuralNetwork", minimum=0)
        self.seed = seed
        self.logger = logger
        # One independent stream per layer plus one for the data order, so that
        # changing one layer's size does not change another layer's weights.
        streams = np.random.SeedSequence(seed).spawn(len(self.layer_args) + 1)
        self._layer_rngs = [np.random.default_rng(s) for s in streams[:-1]]
        self._data_rng = np.random.default_rng(streams[-1])
        self._data_rng_attached = False  # train() hands _data_rng to the dataset once
        self.layers = []
        for i, args in enumerate(self.layer_args):
            last = i == len(self.layer_args) - 1
            if last and args.get("n_out") is None and args["name"].lower() in ("fully_connected", "conv2d"):
                break  # built by train() once the dataset says how many outputs
            self.layers.append(self._build_layer(i, args))
        self.epoch = 0
        self.history = {"loss": {"train": [], "validate": []},
                        "error": {"train": [], "validate": []}}

    # -- construction -------------------------------------------------------------

    def _build_layer(self, index, args):
        kwargs = {k: v for k, v in args.items() if k != "name"}
        try:
            return initialize_layer(args["name"], seed=self._layer_rngs[index], **kwargs)
        except TypeError as error:
            if "unexpected keyword" in str(error):
                raise TypeError(f"NeuralNetwork: layer_args[{index}]: {error}") from None
            raise

    def build(self, out_dim):
        """Create the output layer now, with ``out_dim`` units, when its ``n_out``
        was left as None (``train`` does this from ``dataset.out_dim``)."""
        out_dim = check_int(out_dim, "out_dim", "NeuralNetwork.build")
        if self.built:
            return
        args = dict(self.layer_args[-1], n_out=out_dim)
        self.layers.append(self._build_layer(len(self.layer_args) - 1, args))

    @property
    def built(self):
        """True once every layer exists (the output layer may wait for ``train``)."""
        return len(self.layers) == len(self.layer_args)

    def _fused_softmax_cross_entropy(self):
        last = self.layers[-1]
        return (isinstance(self.loss, CrossEntropy) and type(last) is FullyConnected
                and isinstance(last.activation, SoftMax))

    # -- the course's methods -----------------------------------------------------------

    def forward(self, X):
        """Run every layer on ``X`` and return the output (e.g. class probabilities)."""
        if not self.built:
            raise ValueError(
                "NeuralNetwork.forward: the output layer's n_out is not known yet; give "
                "it in layer_args or call train(dataset) first"
            )
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, target, out):
        """Compute the loss of ``out`` against ``target`` and backpropagate it.

        Fills every layer's ``gradients``; returns the loss (a float).
        With a softmax output layer and cross-entropy, the two backward passes
        are fused into ``dL/dZ = (out - target) / batch``: the same numbers,
        without dividing by probabilities that can underflow.
        """
        L = self.loss.forward(target, out)
        if self._fused_softmax_cross_entropy():
            dZ = (out - target) / target.shape[0]
            dLdX = self.layers[-1]._backward_affine(dZ)
            layers = self.layers[:-1]
        else:
            dLdX = self.loss.backward(target, out)
            layers = self.layers
        # Nothing needs dL/dX of the input data, so the first layer skips it.
        first = self.layers[0]
        first.input_gradient = False
        try:
            for layer in reversed(layers):
                dLdX = layer.backward(dLdX)
        finally:
            first.input_gradient = True
        return L

    def update(self, epoch):
        """Let the optimizer step every parameter (named like "W0", "b1")."""
        for i, layer in enumerate(self.layers):
            for name, param in layer.parameters.items():
                self.optimizer.step(f"{name}{i}", param, layer.gradients[name], epoch)
            layer.clear_gradients()

    def predict(self, X, Y):
        """Return ``(Y_hat, loss)`` for inputs ``X`` and targets ``Y`` (no training)."""
        Y_hat = self.forward(X)
        return Y_hat, self.loss.forward(Y, Y_hat)

    def predict_classes(self, X):
        """Class indices ``(batch,)``: the argmax of the network's output."""
        return np.argmax(self.forward(X), axis=-1)

    def error(self, target, out):
        """1 - accuracy for cross-entropy, the mean squared error for L2."""
        target = check_array(target, "target", "NeuralNetwork.error")
        out = check_array(out, "out", "NeuralNetwork.error")
        check_same_shape(target, out, "target", "out", "NeuralNetwork.error")
        if isinstance(self.loss, CrossEntropy):
            return float(np.mean(np.argmax(out, axis=-1) != np.argmax(target, axis=-1)))
        return float(np.mean((target - out) ** 2))

    def parameters(self):
        """Every parameter under its stable name: ``{"W0": array, "b0": array, ...}``."""
        return {f"{name}{i}": p for i, layer in enumerate(self.layers)
                for name, p in layer.parameters.items()}

    # -- training -----------------------------------------------------------------------

    def train(self, dataset, epochs, verbose=True, checkpoint=True):
        """Train for ``epochs`` more epochs on ``dataset.train``.

        After every epoch: evaluate on ``dataset.validate`` (when there is one),
        record the numbers in ``self.history``, push them to the logger, and,
        when the logger saves, write ``checkpoint.npz`` to the run folder so the
        run can be resumed with :meth:`load`.

        With a ``seed``, the model also sets the order of the training
        examples: it hands its own generator to ``dataset.train``.

        Ctrl-C abandons the current epoch: the finished epochs stay logged and
        checkpointed, and ``KeyboardInterrupt`` is raised again for the caller.
        A loss that stops being finite raises :class:`TrainingDiverged`.

        Returns ``self.history``.
        """
        epochs = check_int(epochs, "epochs", "NeuralNetwork.train", minimum=0)
        for split in ("train", "validate"):
            if not hasattr(dataset, split):
                raise TypeError(
                    f"NeuralNetwork.train: dataset must have .train and .validate; got {describe(dataset)}"
                )
        train = dataset.train
        if train.labels is None:
            raise ValueError("NeuralNetwork.train: dataset.train has no labels to learn from")
        if not self.built:
            self.build(int(dataset.out_dim))
        if self.seed is not None and not self._data_rng_attached:
            train.rng = self._data_rng
            self._data_rng_attached = True
        try:
            for _ in range(epochs):
                start = time.perf_counter()
                record = self._train_one_epoch(dataset, verbose)
                # The log and the checkpoint describe the same finished epoch: a
                # Ctrl-C that arrives while they are written waits for both.
                with _sigint_deferred():
                    if self.logger is not None:
                        self.logger.push(record)
                    if checkpoint:
                        self._checkpoint(dataset)
                if verbose:
                    print(_epoch_line(self.epoch, record, self.loss, time.perf_counter() - start),
                          flush=True)
        except KeyboardInterrupt:
            self._flush_logger()
            self._report_interrupt()
            raise
        except BaseException:
            self._flush_logger()
            raise
        self._flush_logger()
        return self.history

    def _flush_logger(self):
        flush = getattr(self.logger, "flush", None)
        if flush is not None:
            with _sigint_deferred():
                flush()

    def _train_one_epoch(self, dataset, verbose):
        # A diverging run overflows somewhere before its loss stops being
        # finite; that is reported once, as TrainingDiverged, not as a stream
        # of NumPy warnings (or as a warning turned into an error).
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._run_epoch(dataset, verbose)

    def _run_epoch(self, dataset, verbose):
        train = dataset.train
        total_loss = total_error = 0.0
        seen = 0
        with _sigint_deferred():  # a half-built progress bar complains at exit
            progress = _progress_bar(train.n_samples, train.samples_per_epoch, self.epoch + 1, verbose)
        try:
            for batch in range(train.samples_per_epoch):
                X, Y = train.sample()
                out = self.forward(X)
                loss = self.backward(Y, out)
                if not math.isfinite(loss):
                    raise TrainingDiverged(self._diverged_message(batch, loss))
                self.update(self.epoch)
                n = X.shape[0]
                seen += n
                total_loss += loss * n
                total_error += self.error(Y, out) * n
                if progress is not None:
                    progress.update(n)
                    progress.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
        finally:
            if progress is not None:
                progress.close()
        self._check_parameters_finite(train.samples_per_epoch - 1)
        record = {"loss": {"train": total_loss / seen}, "error": {"train": total_error / seen}}
        if dataset.validate is not None:
            val_loss, val_error = self.evaluate(dataset.validate)
            if not math.isfinite(val_loss):
                raise TrainingDiverged(self._diverged_message(
                    train.samples_per_epoch - 1, val_loss, where="the validation loss"))
            record["loss"]["validate"] = val_loss
            record["error"]["validate"] = val_error
        record["params"] = {
            name: {"max": float(np.max(p)), "min": float(np.min(p))}
            for name, p in self.parameters().items()
        }
        self.epoch += 1
        for key in ("loss", "error"):
            for split in ("train", "validate"):
                if split in record[key]:
                    self.history[key][split].append(record[key][split])
        return record

    def evaluate(self, data):
        """Mean loss and error over a whole ``Data`` split, in stored order."""
        total_loss = total_error = 0.0
        seen = 0
        for X, Y in data.iter_batches():
            out = self.forward(X)
            n = X.shape[0]
            total_loss += self.loss.forward(Y, out) * n
            total_error += self.error(Y, out) * n
            seen += n
        return total_loss / seen, total_error / seen

    def test(self, dataset, save_predictions=False, predictions_path=None):
        """Evaluate on ``dataset.test`` batch by batch.

        Returns a dict with per-batch lists under "loss" and "error" (and
        "prediction", the network's outputs, when ``save_predictions``), and
        prints ``Test Loss: <x> Test Accuracy: <y>`` (means over examples).
        With ``save_predictions`` it also writes ``predictions.csv`` (one row
        per test example, in dataset order) to ``predictions_path`` or, when
        that is None, into the logger's run folder (no file without either).
        """
        data = getattr(dataset, "test", None)
        if data is None:
            raise ValueError("NeuralNetwork.test: dataset has no test split (dataset.test is None)")
        log = {"loss": [], "error": []}
        if save_predictions:
            log["prediction"] = []
        sizes = []
        for X, Y in data.iter_batches():
            out, loss = self.predict(X, Y)
            log["loss"].append(loss)
            log["error"].append(self.error(Y, out))
            sizes.append(X.shape[0])
            if save_predictions:
                log["prediction"].append(out)
        weights = np.asarray(sizes) / np.sum(sizes)
        mean_loss = float(np.dot(weights, log["loss"]))
        mean_error = float(np.dot(weights, log["error"]))
        print(f"Test Loss: {mean_loss} Test Accuracy: {1 - mean_error}")
        if save_predictions:
            path = predictions_path
            if path is None and self._run_dir() is not None:
                path = self._run_dir() / "predictions.csv"
            if path is not None:
                self._write_predictions(path, np.concatenate(log["prediction"]), data)
        return log

    def _write_predictions(self, path, outputs, data):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if isinstance(self.loss, CrossEntropy):
            header = ["index", "predicted"]
            if data.labels is not None:
                header.append("label")
            writer.writerow(header + [f"p{k}" for k in range(outputs.shape[1])])
            predicted = np.argmax(outputs, axis=1)
            labels = None if data.labels is None else np.argmax(data.labels, axis=1)
            for i, row in enumerate(outputs):
                fields = [i, int(predicted[i])] + ([] if labels is None else [int(labels[i])])
                writer.writerow(fields + [f"{p:.6g}" for p in row])
        else:
            writer.writerow(["index"] + [f"y{k}" for k in range(outputs.shape[1])])
            for i, row in enumerate(outputs.reshape(len(outputs), -1)):
                writer.writerow([i] + [f"{v:.8g}" for v in row])
        atomic_write_text(path, buffer.getvalue())

    # -- divergence ------------------------------------------------------------------------

    def _first_non_finite(self):
        """Describe the first layer output or parameter that is not finite, or None."""
        for i, layer in enumerate(self.layers):
            for name, p in layer.parameters.items():
                if not np.all(np.isfinite(p)):
                    return f"parameter {name}{i} of layer {i} ({type(layer).__name__})"
            Z = layer.cache.get("Z")
            if Z is not None and not np.all(np.isfinite(Z)):
                return f"the output of layer {i} ({type(layer).__name__})"
        return None

    def _diverged_message(self, batch, value, where="the loss"):
        culprit = self._first_non_finite() or where
        lr = self.optimizer.lr_scheduler(self.epoch)
        advice = "lower the learning rate"
        if getattr(self.optimizer, "clip_norm", None) is None:
            advice += " or set clip_norm in optimizer_args to clip large gradients"
        return (
            f"training diverged in epoch {self.epoch + 1}, batch {batch + 1}: {where} is "
            f"{value}; first non-finite: {culprit}. The learning rate is {lr:g}: {advice}."
        )

    def _check_parameters_finite(self, batch):
        culprit = self._first_non_finite()
        if culprit is not None and culprit.startswith("parameter"):
            raise TrainingDiverged(self._diverged_message(batch, float("nan")))

    # -- saving and loading -------------------------------------------------------------------

    def _run_dir(self):
        if self.logger is None or not getattr(self.logger, "save", False):
            return None
        return Path(self.logger.save_dir)

    def save_parameters(self, epoch):
        """Save every parameter to ``parameters_epoch<epoch>.npz`` in the run folder.

        Returns the ``{"W0": array, ...}`` dict (also when there is no folder).
        """
        params = {k: v.copy() for k, v in self.parameters().items()}
        run_dir = self._run_dir()
        if run_dir is not None:
            with atomic_open(run_dir / f"parameters_epoch{epoch}.npz") as f:
                np.savez(f, **params)
        return params

    def state_dict(self, dataset=None):
        """Everything needed to resume, as arrays under stable names.

        Parameters under "W0", "b0", ...; optimizer state under
        "optimizer.W0.velocity" and the like; the finished epochs, the history
        and the data order's state (when ``dataset`` is given) as JSON strings.
        """
        state = {k: v.copy() for k, v in self.parameters().items()}
        for k, v in self.optimizer.state_dict().items():
            state[f"optimizer.{k}"] = v
        meta = {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,
            "history": self.history,
            "layer_args": self.layer_args,
            "loss": self.loss.name,
            "optimizer": type(self.optimizer).__name__,
            "data_state": None if dataset is None else dataset.train.get_state(),
        }
        state["meta"] = np.array(json.dumps(meta))
        return state

    def save(self, path, dataset=None):
        """Write :meth:`state_dict` to ``path`` (a ``.npz``) atomically."""
        state = self.state_dict(dataset)
        with atomic_open(path) as f:
            np.savez(f, **state)
        return Path(path)

    def load(self, path, dataset=None):
        """Restore parameters, optimizer state, epoch count and history from ``path``.

        With ``dataset``, the training order is restored too, so training goes
        on exactly as if it had never stopped. Everything is checked before
        anything changes: a checkpoint that does not fit (another network or
        optimizer, missing or unexpected keys, other shapes, a dataset of
        another size) raises ``ValueError`` naming the problem and leaves the
        model and the dataset as they were.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"NeuralNetwork.load: no checkpoint at {path}")
        try:
            with np.load(path, allow_pickle=False) as archive:
                stored = {k: archive[k] for k in archive.files}
            meta = json.loads(str(stored.pop("meta")))
            epoch, history = int(meta["epoch"]), meta["history"]
        except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile,
                json.JSONDecodeError) as error:
            raise ValueError(
                f"NeuralNetwork.load: {path} is not a readable checkpoint ({type(error).__name__}: {error})"
            ) from None
        if not _same_architecture(meta.get("layer_args"), self.layer_args):
            raise ValueError(
                f"NeuralNetwork.load: {path} was saved from a network with layer_args "
                f"{meta.get('layer_args')}, not {self.layer_args}"
            )
        optimizer_name = type(self.optimizer).__name__
        if meta.get("optimizer", optimizer_name) != optimizer_name:
            raise ValueError(
                f"NeuralNetwork.load: {path} holds the state of a {meta['optimizer']} optimizer; "
                f"this network uses {optimizer_name}"
            )
        if meta.get("loss", self.loss.name) != self.loss.name:
            raise ValueError(
                f"NeuralNetwork.load: {path} was trained with the {meta['loss']!r} loss; "
                f"this network uses {self.loss.name!r}"
            )
        optimizer_state = {k[len("optimizer."):]: v for k, v in stored.items() if k.startswith("optimizer.")}
        params = {k: v for k, v in stored.items() if not k.startswith("optimizer.")}
        data_state = meta.get("data_state") if dataset is not None else None
        # Checking may create the parameters of a network that has not run
        # yet; if a check fails, the network is put back as it was.
        snapshot = self._layer_snapshot()
        try:
            if not self.built:
                out_key = f"W{len(self.layer_args) - 1}"
                if out_key in params:
                    self.build(int(params[out_key].shape[-1]))
            self._check_stored_parameters(params, path)
            if data_state is not None:
                previous = dataset.train.get_state()
                try:
                    dataset.train.set_state(data_state)
                except (ValueError, TypeError) as error:
                    raise ValueError(
                        f"NeuralNetwork.load: the data order saved in {path} does not fit this "
                        f"dataset's training split ({error})"
                    ) from None
                dataset.train.set_state(previous)
        except BaseException:
            self._restore_layer_snapshot(snapshot)
            raise
        # Every check passed: now change the model (and the dataset).
        for i, layer in enumerate(self.layers):
            for name in layer.parameters:
                layer.parameters[name] = params[f"{name}{i}"].copy()
            layer.clear_gradients()
        self.optimizer.load_state_dict(optimizer_state)
        self.epoch, self.history = epoch, history
        if data_state is not None:
            if self.seed is not None:
                dataset.train.rng = self._data_rng
                self._data_rng_attached = True
            dataset.train.set_state(data_state)
        return self

    def _layer_snapshot(self):
        return list(self.layers), [rng.bit_generator.state for rng in self._layer_rngs], [
            (layer.n_in, dict(layer.parameters), dict(layer.gradients), layer.cache)
            for layer in self.layers
        ]

    def _restore_layer_snapshot(self, snapshot):
        layers, rng_states, states = snapshot
        self.layers = layers
        for rng, state in zip(self._layer_rngs, rng_states):
            rng.bit_generator.state = state
        for layer, (n_in, parameters, gradients, cache) in zip(layers, states):
            layer.n_in, layer.parameters, layer.gradients, layer.cache = n_in, parameters, gradients, cache

    def _check_stored_parameters(self, params, path):
        for i, layer in enumerate(self.layers):
            W = params.get(f"W{i}")
            if not layer.parameters and W is not None:
                # Parameters are created on the first forward; a network loaded
                # before any forward builds them from the stored kernel's shape.
                layer._init_parameters(_input_shape_for(W))
        expected = set(self.parameters())
        missing = sorted(expected - set(params))
        unexpected = sorted(set(params) - expected)
        if missing or unexpected:
            raise ValueError(
                f"NeuralNetwork.load: {path} does not match this network: missing {missing}, "
                f"unexpected {unexpected}"
            )
        for name, current in self.parameters().items():
            if params[name].shape != current.shape:
                raise ValueError(
                    f"NeuralNetwork.load: {name} has shape {params[name].shape} in {path} "
                    f"but {current.shape} in this network"
                )

    def _checkpoint(self, dataset):
        run_dir = self._run_dir()
        if run_dir is not None:
            self.save(run_dir / "checkpoint.npz", dataset)

    def _report_interrupt(self):
        where = self._run_dir()
        message = f"\nInterrupted during epoch {self.epoch + 1}; {self.epoch} finished epoch(s) kept"
        if where is not None:
            message += f" in {where} (history, plots and checkpoint.npz)"
        print(message + ".", file=sys.stderr, flush=True)

    def __repr__(self):
        lines = [f"NeuralNetwork(loss={self.loss!r}, optimizer={self.optimizer!r}, seed={self.seed})"]
        for i, layer in enumerate(self.layers):
            lines.append(f"  ({i}) {layer!r}")
        for i in range(len(self.layers), len(self.layer_args)):
            lines.append(f"  ({i}) {self.layer_args[i]} (built on the first train)")
        return "\n".join(lines)


def initialize_model(name, loss, layer_args, optimizer_args, logger=None, seed=None):
    """Build a model by name ("feed_forward"; any name builds a NeuralNetwork)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"initialize_model: name must be a non-empty string; got {describe(name)}")
    return NeuralNetwork(loss=loss, layer_args=layer_args, optimizer_args=optimizer_args,
                         logger=logger, seed=seed)


# -- helpers ---------------------------------------------------------------------------------


def _check_layer_args(layer_args):
    if not isinstance(layer_args, (list, tuple)) or not layer_args:
        raise TypeError(
            f"NeuralNetwork: layer_args must be a non-empty list of dicts; got {describe(layer_args)}"
        )
    checked = []
    for i, args in enumerate(layer_args):
        if isinstance(args, Layer):
            raise TypeError(
                f"NeuralNetwork: layer_args[{i}] must be a dict of initialize_layer arguments, "
                f"not a layer object; got {args!r}"
            )
        if not isinstance(args, dict):
            raise TypeError(f"NeuralNetwork: layer_args[{i}] must be a dict; got {describe(args)}")
        if "name" not in args:
            raise ValueError(f"NeuralNetwork: layer_args[{i}] has no 'name'; got {args}")
        checked.append(dict(args))
    return checked


def _check_optimizer_args(optimizer_args):
    if isinstance(optimizer_args, Optimizer):
        return {}
    if not isinstance(optimizer_args, dict):
        raise TypeError(
            f"NeuralNetwork: optimizer_args must be a dict; got {describe(optimizer_args)}"
        )
    for key in ("name", "lr"):
        if key not in optimizer_args:
            raise ValueError(f"NeuralNetwork: optimizer_args needs {key!r}; got {optimizer_args}")
    return dict(optimizer_args)


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


def _progress_bar(n_samples, n_batches, epoch, verbose):
    """A bar over the epoch's examples (examples per second, running loss)."""
    if not verbose or n_batches < 2:
        return None
    from tqdm.auto import tqdm

    # Shown only if the epoch lasts more than a second; gone when it ends.
    return tqdm(total=n_samples, desc=f"epoch {epoch}", unit="ex", unit_scale=True,
                leave=False, delay=1.0, file=sys.stderr, dynamic_ncols=True)


def _epoch_line(epoch, record, loss, seconds):
    def part(split):
        l = record["loss"].get(split)
        if l is None:
            return ""
        e = record["error"][split]
        if isinstance(loss, CrossEntropy):
            return f"  {split} loss {l:.4f} acc {100 * (1 - e):.2f}%"
        return f"  {split} loss {l:.4f} mse {e:.4g}"

    return f"epoch {epoch:3d}{part('train')}{part('validate')}  ({seconds:.1f}s)"


@contextmanager
def _sigint_deferred():
    """Hold a Ctrl-C that arrives while files are written until they are complete."""
    if os.name != "posix" or not _in_main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


def _in_main_thread():
    import threading

    return threading.current_thread() is threading.main_thread()
