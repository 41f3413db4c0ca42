"""The training loop around ``NeuralNetwork``: epochs, progress, safety.

:func:`train` runs ``forward``, ``backward`` and ``update`` over the batches
of every epoch, then evaluates on the validation split, records the epoch in
the model's history, pushes it to the logger and writes a checkpoint. Around
that it handles what a long run needs and the model's math does not: a
progress bar, a line per epoch, a clear error when training diverges, and
Ctrl-C, which never leaves the log and the checkpoint out of step.
"""

import math
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np

from .checkpoints import run_dir, save
from .losses import CrossEntropy
from .checks import check_int, describe


class TrainingDiverged(RuntimeError):
    """Raised when the loss or a parameter stops being a finite number."""


def train(model, dataset, epochs, verbose=True, checkpoint=True):
    """Train ``model`` for ``epochs`` more epochs on ``dataset.train``.

    After every epoch: evaluate on ``dataset.validate`` (when there is one),
    record the numbers in ``model.history``, push them to the logger, and,
    when the logger saves, write ``checkpoint.npz`` to the run folder so the
    run can be resumed with ``model.load``.

    With a ``seed``, the model also sets the order of the training examples:
    it hands its own generator to ``dataset.train``.

    The batches run in training mode (``model.forward(X, mode="train")``),
    the evaluations in test mode. Before the first epoch of a new run the
    untrained network is evaluated on both splits (in test mode) and kept as
    ``model.history["baseline"] = {"loss": {"train": x, "validate": y},
    "error": {...}}`` (epoch 0; the per-epoch lists are left as the course
    has them), and handed to ``logger.push_baseline`` when the logger has one.

    Ctrl-C abandons the current epoch: the finished epochs stay logged and
    checkpointed, and ``KeyboardInterrupt`` is raised again for the caller.
    A loss that stops being finite raises :class:`TrainingDiverged`.

    Returns ``model.history``.
    """
    epochs = check_int(epochs, "epochs", "NeuralNetwork.train", minimum=0)
    for split in ("train", "validate"):
        if not hasattr(dataset, split):
            raise TypeError(
                f"NeuralNetwork.train: dataset must have .train and .validate; got {describe(dataset)}"
            )
    if dataset.train.labels is None:
        raise ValueError("NeuralNetwork.train: dataset.train has no labels to learn from")
    if not model.built:
        model.build(int(dataset.out_dim))
    if model.seed is not None:
        dataset.train.rng = model.data_rng
    try:
        if model.epoch == 0 and "baseline" not in model.history:
            _record_baseline(model, dataset, verbose)
        for _ in range(epochs):
            start = time.perf_counter()
            record = _train_one_epoch(model, dataset, verbose)
            # The log and the checkpoint describe the same finished epoch: a
            # Ctrl-C that arrives while they are written waits for both.
            with sigint_deferred():
                if model.logger is not None:
                    model.logger.push(record)
                if checkpoint and run_dir(model.logger) is not None:
                    save(model, run_dir(model.logger) / "checkpoint.npz", dataset)
            if verbose:
                print(epoch_line(model.epoch, record, model.loss, time.perf_counter() - start),
                      flush=True)
    except KeyboardInterrupt:
        _flush_logger(model)
        _report_interrupt(model)
        raise
    except BaseException:
        _flush_logger(model)
        raise
    _flush_logger(model)
    return model.history


def _train_one_epoch(model, dataset, verbose):
    # A diverging run overflows somewhere before its loss stops being
    # finite; that is reported once, as TrainingDiverged, not as a stream
    # of NumPy warnings (or as a warning turned into an error).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _run_epoch(model, dataset, verbose)


def _run_epoch(model, dataset, verbose):
    train_data = dataset.train
    total_loss = total_error = 0.0
    seen = 0
    last_batch = train_data.samples_per_epoch - 1
    with sigint_deferred():  # a half-built progress bar complains at exit
        progress = progress_bar(train_data.n_samples, train_data.samples_per_epoch,
                                model.epoch + 1, verbose)
    try:
        for batch in range(train_data.samples_per_epoch):
            X, Y = train_data.sample()
            out = model.forward(X, mode="train")
            loss = model.backward(Y, out)
            if not math.isfinite(loss):
                raise TrainingDiverged(diverged_message(model, batch, loss))
            model.update(model.epoch)
            n = X.shape[0]
            seen += n
            total_loss += loss * n
            total_error += model.error(Y, out) * n
            if progress is not None:
                progress.update(n)
                progress.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
    finally:
        if progress is not None:
            progress.close()
    culprit = first_non_finite(model)
    if culprit is not None and culprit.startswith("parameter"):
        raise TrainingDiverged(diverged_message(model, last_batch, float("nan")))
    record = {"loss": {"train": total_loss / seen}, "error": {"train": total_error / seen}}
    if dataset.validate is not None:
        val_loss, val_error = model.evaluate(dataset.validate)
        if not math.isfinite(val_loss):
            raise TrainingDiverged(diverged_message(model, last_batch, val_loss,
                                                    where="the validation loss"))
        record["loss"]["validate"] = val_loss
        record["error"]["validate"] = val_error
    record["params"] = {
        name: {"max": float(np.max(p)), "min": float(np.min(p))}
        for name, p in model.parameters().items()
    }
    model.epoch += 1
    for key in ("loss", "error"):
        for split in ("train", "validate"):
            if split in record[key]:
                model.history[key][split].append(record[key][split])
    return record


def _record_baseline(model, dataset, verbose):
    """Evaluate the untrained network (epoch 0) on the training and validation
    splits; store it in ``model.history["baseline"]`` and tell the logger."""
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss, error = model.evaluate(dataset.train)
        record = {"loss": {"train": float(loss)}, "error": {"train": float(error)}}
        if dataset.validate is not None:
            loss, error = model.evaluate(dataset.validate)
            record["loss"]["validate"] = float(loss)
            record["error"]["validate"] = float(error)
    model.history["baseline"] = record
    push_baseline = getattr(model.logger, "push_baseline", None)
    if push_baseline is not None:
        push_baseline(record)
    if verbose:
        print(epoch_line(0, record, model.loss, time.perf_counter() - start, label="untrained"),
              flush=True)


# -- divergence ----------------------------------------------------------------------------


def first_non_finite(model):
    """Describe the first parameter or layer output that is not finite, or None."""
    for i, layer in enumerate(model.layers):
        for name, p in layer.parameters.items():
            if not np.all(np.isfinite(p)):
                return f"parameter {name}{i} of layer {i} ({type(layer).__name__})"
        Z = layer.cache.get("Z")
        if Z is not None and not np.all(np.isfinite(Z)):
            return f"the output of layer {i} ({type(layer).__name__})"
    return None


def diverged_message(model, batch, value, where="the loss"):
    culprit = first_non_finite(model) or where
    lr = model.optimizer.lr_scheduler(model.epoch)
    advice = "lower the learning rate"
    if getattr(model.optimizer, "clip_norm", None) is None:
        advice += " or set clip_norm in optimizer_args to clip large gradients"
    return (
        f"training diverged in epoch {model.epoch + 1}, batch {batch + 1}: {where} is "
        f"{value}; first non-finite: {culprit}. The learning rate is {lr:g}: {advice}."
    )


# -- progress and messages --------------------------------------------------------------------


def progress_bar(n_samples, n_batches, epoch, verbose):
    """A bar over the epoch's examples (examples per second, running loss)."""
    if not verbose or n_batches < 2:
        return None
    from tqdm.auto import tqdm

    # Shown only if the epoch lasts more than a second; gone when it ends.
    return tqdm(total=n_samples, desc=f"epoch {epoch}", unit="ex", unit_scale=True,
                leave=False, delay=1.0, file=sys.stderr, dynamic_ncols=True)


def epoch_line(epoch, record, loss, seconds, label=None):
    """``epoch   3  train loss 0.1234 acc 96.19%  validate loss ...  (0.1s)``;
    ``label`` replaces ``epoch   3`` (the baseline's line says ``untrained``)."""
    def part(split):
        value = record["loss"].get(split)
        if value is None:
            return ""
        error = record["error"][split]
        if isinstance(loss, CrossEntropy):
            return f"  {split} loss {value:.4f} acc {100 * (1 - error):.2f}%"
        return f"  {split} loss {value:.4f} mse {error:.4g}"

    label = f"epoch {epoch:3d}" if label is None else label
    return f"{label}{part('train')}{part('validate')}  ({seconds:.1f}s)"


def _report_interrupt(model):
    where = run_dir(model.logger)
    message = f"\nInterrupted during epoch {model.epoch + 1}; {model.epoch} finished epoch(s) kept"
    if where is not None and model.epoch > 0:
        message += f" in {where} (history, plots and checkpoint.npz)"
    print(message + ".", file=sys.stderr, flush=True)


def _flush_logger(model):
    flush = getattr(model.logger, "flush", None)
    if flush is not None:
        with sigint_deferred():
            flush()


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
