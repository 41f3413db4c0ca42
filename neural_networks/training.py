"""The epoch loop around ``NeuralNetwork``, with what a long run needs and the
model's math does not: a progress bar, a line per epoch, a clear error when
training diverges, and Ctrl-C, which never leaves the log and the checkpoint
out of step."""

import math
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np

from .checkpoints import save, state_dict
from .checks import check_int, describe
from .logs import run_dir
from .losses import CrossEntropy


class TrainingDiverged(RuntimeError):
    """Raised when the loss or a parameter stops being a finite number."""


def train(model, dataset, epochs, verbose=True, checkpoint=True):
    """Train ``model`` for ``epochs`` more epochs on ``dataset.train``; returns
    ``model.history``. A new run first evaluates the untrained network into
    ``model.history["baseline"]`` (epoch 0). After every epoch the validation
    split is evaluated, the numbers go to ``model.history`` and the logger, and
    ``checkpoint.npz`` follows the log; ``logger.close`` runs whenever training
    stops. Ctrl-C abandons the current epoch and raises ``KeyboardInterrupt``
    again; a non-finite loss raises ``TrainingDiverged``."""
    epochs = check_int(epochs, "epochs", "NeuralNetwork.train", minimum=0)
    if not (hasattr(dataset, "train") and hasattr(dataset, "validate")):
        raise TypeError(f"NeuralNetwork.train: dataset must have .train and .validate; "
                        f"got {describe(dataset)}")
    if dataset.train.labels is None:
        raise ValueError("NeuralNetwork.train: dataset.train has no labels to learn from")
    model.build(int(dataset.out_dim))
    if model.seed is not None:
        dataset.train.rng = model.data_rng
    state = None  # the checkpoint of the last finished epoch, until it is written
    try:
        # A diverging run overflows before its loss stops being finite; that is
        # reported once, as TrainingDiverged, not as a stream of NumPy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if model.epoch == 0 and "baseline" not in model.history:
                start = time.perf_counter()
                baseline = _evaluate(model, dataset, {"loss": {}, "error": {}}, "train")
                model.history["baseline"] = baseline
                if hasattr(model.logger, "push_baseline"):
                    model.logger.push_baseline(baseline)
                if verbose:
                    print(epoch_line("untrained", baseline, model.loss, start), flush=True)
            for _ in range(epochs):
                start = time.perf_counter()
                record = _run_epoch(model, dataset, verbose)
                if checkpoint and getattr(model.logger, "save", False):
                    state = state_dict(model, dataset)
                if model.logger is not None:
                    _log(model, state, model.logger.push, record)
                if verbose:
                    print(epoch_line(f"epoch {model.epoch:3d}", record, model.loss, start), flush=True)
    except KeyboardInterrupt:
        message = f"\nInterrupted during epoch {model.epoch + 1}; {model.epoch} finished epoch(s) kept"
        if run_dir(model.logger) is not None and model.epoch > 0:
            message += f" in {run_dir(model.logger)} (history, plots and checkpoint.npz)"
        print(message + ".", file=sys.stderr, flush=True)
        raise
    finally:
        if hasattr(model.logger, "close"):
            _log(model, state, model.logger.close)
    return model.history


def _log(model, state, write, *args):
    """Call the logger's ``write(*args)``, and when that wrote the log, write to
    ``checkpoint.npz`` the ``state`` of the same epoch (not the model, which an
    abandoned epoch may have changed); a Ctrl-C meanwhile waits for both."""
    with sigint_deferred():
        written = getattr(model.logger, "written", None)
        write(*args)
        if state is not None and run_dir(model.logger) is not None and model.logger.written != written:
            save(model, run_dir(model.logger) / "checkpoint.npz", state=state)


def _run_epoch(model, dataset, verbose):
    """Train on every batch once, then validate; returns the record to push."""
    data, total_loss, total_error, seen = dataset.train, 0.0, 0.0, 0
    with sigint_deferred():  # a half-built progress bar complains at exit
        progress = progress_bar(data.n_samples, data.samples_per_epoch, model.epoch + 1, verbose)
    with progress:
        for batch in range(data.samples_per_epoch):
            X, Y = data.sample()
            out = model.forward(X, mode="train")
            loss = model.backward(Y, out)
            if not math.isfinite(loss):
                raise TrainingDiverged(diverged_message(model, batch, loss))
            model.update(model.epoch)
            seen += len(X)
            total_loss += loss * len(X)
            total_error += model.error(Y, out) * len(X)
            progress.update(len(X))
            progress.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
    # The last update can make a parameter non-finite after the last loss.
    if str(first_non_finite(model)).startswith("parameter"):
        raise TrainingDiverged(diverged_message(model, batch, float("nan")))
    record = _evaluate(model, dataset, {"loss": {"train": total_loss / seen},
                                        "error": {"train": total_error / seen}})
    loss = record["loss"].get("validate", 0.0)
    if not math.isfinite(loss):
        raise TrainingDiverged(diverged_message(model, batch, loss, "the validation loss"))
    record["params"] = {name: {"max": float(np.max(p)), "min": float(np.min(p))}
                        for name, p in model.parameters().items()}
    model.epoch += 1
    for metric in ("loss", "error"):
        for split, value in record[metric].items():
            model.history[metric][split].append(value)
    return record


def _evaluate(model, dataset, record, *splits):
    """Add the loss and error on the validation split (and ``splits``) to ``record``."""
    for split in splits + ("validate",):
        if getattr(dataset, split) is not None:
            loss, error = model.evaluate(getattr(dataset, split))
            record["loss"][split], record["error"][split] = float(loss), float(error)
    return record


def first_non_finite(model):
    """Describe the first parameter or layer output that is not finite, or None."""
    for i, layer in enumerate(model.layers):
        for name, p in layer.parameters.items():
            if not np.all(np.isfinite(p)):
                return f"parameter {name}{i} of layer {i} ({type(layer).__name__})"
        if "Z" in layer.cache and not np.all(np.isfinite(layer.cache["Z"])):
            return f"the output of layer {i} ({type(layer).__name__})"
    return None


def diverged_message(model, batch, value, where="the loss"):
    advice = "lower the learning rate"
    if getattr(model.optimizer, "clip_norm", None) is None:
        advice += " or set clip_norm in optimizer_args to clip large gradients"
    return (f"training diverged in epoch {model.epoch + 1}, batch {batch + 1}: {where} is {value}; "
            f"first non-finite: {first_non_finite(model) or where}. The learning rate is "
            f"{model.optimizer.lr_scheduler(model.epoch):g}: {advice}.")


def progress_bar(n_samples, n_batches, epoch, verbose):
    """A bar over the epoch's examples (examples per second, running loss),
    shown on a terminal only (output redirected to a file gets no progress
    frames) if the epoch lasts more than a second, and gone when it ends."""
    from tqdm.auto import tqdm

    return tqdm(total=n_samples, desc=f"epoch {epoch}", unit="ex", unit_scale=True, leave=False,
                delay=1.0, file=sys.stderr, dynamic_ncols=True,
                disable=not verbose or n_batches < 2 or not sys.stderr.isatty())


def epoch_line(label, record, loss, start):
    """``epoch   3  train loss 0.1234 acc 96.19%  validate loss ...  (0.1s)``
    for ``record``, timed from ``start`` (a ``time.perf_counter()``)."""
    parts = [label]
    for split, value in record["loss"].items():
        error = record["error"][split]
        measure = f"acc {100 * (1 - error):.2f}%" if isinstance(loss, CrossEntropy) else f"mse {error:.4g}"
        parts.append(f"{split} loss {value:.4f} {measure}")
    return "  ".join(parts) + f"  ({time.perf_counter() - start:.1f}s)"


@contextmanager
def sigint_deferred():
    """Hold a Ctrl-C that arrives while files are written until they are complete."""
    if os.name != "posix" or threading.current_thread() is not threading.main_thread():
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
