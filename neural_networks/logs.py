"""The Logger: one place that records a training run, saves it and plots it.

A model pushes one dict of numbers per finished epoch. The Logger keeps the
history in memory (``Logger.log``, the course format) and, with ``save``,
rewrites these files of ``<save_dir>/<model_name>/`` after every epoch:

* ``model_args``, ``data_args``: pickles of the arguments (the course format),
  with readable copies ``model_args.json`` and ``data_args.json``;
* ``log``: a pickle of ``Logger.log``;
* ``history.json`` and ``history.csv``: the same numbers for people and tools.

With ``plot``, :meth:`Logger.close` draws ``loss.png``, ``error.png``,
``accuracy.png`` and one plot per parameter (``W0.png``, ...). Drawing them
takes longer than an epoch of a small network, so the training loop calls it
once, whenever training stops (finished, interrupted or diverged).

Three rules keep a run folder sound:

* every file is written whole under a temporary name and then renamed over
  the old one (:func:`utils.atomic_open`): a crash or Ctrl-C leaves complete files;
* a folder that holds an earlier run (at least one finished epoch) is written
  only with ``overwrite=True``, and even then nothing changes in it until the
  new run's first :meth:`Logger.push`, which first deletes the earlier run's
  files of :data:`RUN_FILES` (its parameter plots are redrawn by name);
* the Logger deletes no other file.
"""

import csv
import io
import json
import os
import pickle
import textwrap
from pathlib import Path

from .checks import check_bool, check_int, describe
from .utils import atomic_open, load_pickle

# The files of a run that have fixed names: the Logger's and the model's.
RUN_FILES = ("model_args", "data_args", "model_args.json", "data_args.json", "log",
             "history.json", "history.csv", "loss.png", "error.png", "accuracy.png",
             "checkpoint.npz", "predictions.csv", "kaggle_predictions.csv")
# Each of these is written only once an epoch has finished: a folder without
# any of them holds no earlier run (at most the arguments of a failed start).
_FINISHED_EPOCH_FILES = ("log", "checkpoint.npz", "loss.png")
_SPLITS = ("train", "validate")
# The only globals a log may name: the NumPy floats of older course logs.
_LOG_GLOBALS = {("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar")}


class Logger:
    """Record one finished epoch at a time; save and plot the history.

    Parameters
    ----------
    model_name : str
        The run's name and the name of its folder under ``save_dir``: not
        empty, ``"."`` or ``".."``, and without ``"/"`` or ``"\\"``.
    model_args, data_args : object
        The arguments that built the model and the dataset (usually dicts),
        saved with ``save``. When ``model_args["loss"]`` is ``"l2"`` the error
        is the mean squared error: ``history.csv`` and ``error.png`` call it
        ``mse`` and there is no accuracy.
    save : bool
        Write the arguments, and ``log``, ``history.json`` and ``history.csv``
        after every :meth:`push`.
    plot : bool
        Draw the plots when :meth:`close` is called.
    save_dir : str or os.PathLike
        The folder that holds the run folders (created as needed).
    overwrite : bool
        Replace an earlier run in the run folder (see the module's rules);
        without it such a folder raises ``FileExistsError`` before anything
        is written.
    resume : bool
        Continue the run saved in the folder: its ``log`` is read back and new
        epochs are appended (:meth:`truncate` matches it to a checkpoint).

    Attributes
    ----------
    log : dict
        One entry per pushed epoch::

            {"loss":   {"train": [...], "validate": [...]},
             "error":  {"train": [...], "validate": [...]},
             "params": {"W0": {"max": [...], "min": [...]}, ...}}

        and ``"baseline"`` once :meth:`push_baseline` was called.
    counter : int
        The number of epochs pushed so far.
    save_dir : pathlib.Path
        The run folder, ``Path(save_dir) / model_name``.

    In ``history.json``, ``history.csv`` and the plots epoch ``k`` is the
    state after ``k`` finished epochs; epoch 0 is the untrained network.
    """

    def __init__(self, model_name, model_args, data_args, save=False, plot=False,
                 save_dir="experiments/", overwrite=False, resume=False):
        if not isinstance(model_name, str):
            raise TypeError(f"Logger: model_name must be a str; got {describe(model_name)}")
        if not model_name.strip() or model_name in (".", "..") or any(c in model_name for c in "/\\\0"):
            raise ValueError(
                f"Logger: model_name must be a non-empty name without '/' or '\\', and not "
                f"'.' or '..' (it names a folder); got {model_name!r}"
            )
        self.save = check_bool(save, "save", "Logger")
        self.plot = check_bool(plot, "plot", "Logger")
        if check_bool(overwrite, "overwrite", "Logger") and check_bool(resume, "resume", "Logger"):
            raise ValueError("Logger: overwrite and resume cannot both be True")
        if not isinstance(save_dir, (str, os.PathLike)):
            raise TypeError(f"Logger: save_dir must be a str or os.PathLike; got {describe(save_dir)}")
        self.model_name = model_name
        self.model_args = model_args
        self.data_args = data_args
        self.save_dir = Path(save_dir) / model_name
        loss = model_args.get("loss") if isinstance(model_args, dict) else None
        self._mse = str(getattr(loss, "name", loss)).lower() == "l2"
        self.log = {"loss": {"train": [], "validate": []},
                    "error": {"train": [], "validate": []}, "params": {}}
        self.counter = 0
        # True while an earlier run in the folder is kept (until the first push).
        self._keeps_earlier_run = False
        # Files not written yet: the arguments, while an earlier run is kept.
        self._pending = {}
        if not (self.save or self.plot):
            return
        if resume:
            if not (self.save_dir / "log").is_file():
                raise FileNotFoundError(
                    f"Logger: cannot resume: {str(self.save_dir)!r} holds no log of an earlier run")
            self.log = load_log(self.save_dir)
            self.log.setdefault("params", {})
            self.counter = len(self.log["loss"]["train"])
            return
        if self.save:  # an argument that cannot be saved fails before any file exists
            for name, value in (("model_args", model_args), ("data_args", data_args)):
                try:
                    self._pending[name] = pickle.dumps(value)
                    self._pending[name + ".json"] = json.dumps(value, indent=2, default=repr) + "\n"
                except Exception as error:
                    raise TypeError(f"Logger: {name} cannot be saved ({error}); got {describe(value)}") from None
        if any((self.save_dir / name).is_file() for name in _FINISHED_EPOCH_FILES):
            if not overwrite:
                names = ", ".join(name for name in RUN_FILES if (self.save_dir / name).is_file())
                raise FileExistsError(
                    f"Logger: the run folder {str(self.save_dir)!r} already holds the files of an "
                    f"earlier run ({names}). Pass overwrite=True (on the command line: "
                    f"--overwrite) to replace them, or pick another model_name."
                )
            self._keeps_earlier_run = True
        else:
            self._write_pending()

    def __repr__(self):
        return (f"Logger(model_name={self.model_name!r}, save={self.save}, plot={self.plot}, "
                f"save_dir={str(self.save_dir.parent)!r}, epochs={self.counter})")

    @property
    def run_dir(self):
        """The folder the model writes its own files into (``checkpoint.npz``,
        ``predictions.csv``), or None: when nothing is saved, and while an
        earlier run is kept."""
        return self.save_dir if self.save and not self._keeps_earlier_run else None

    def push(self, log):
        """Record one finished epoch; with ``save``, rewrite the history files.

        ``log`` is ``{"loss": {"train": x, "validate": y}, "error": {...},
        "params": {"W0": {"max": a, "min": b}, ...}}`` (numbers); a missing or
        None ``"validate"`` is no validation set, ``"params"`` may be left out.
        """
        for metric in ("loss", "error"):
            for split in _SPLITS:
                if log[metric].get(split) is not None:
                    self.log[metric][split].append(float(log[metric][split]))
        for name, extremes in (log.get("params") or {}).items():
            entry = self.log["params"].setdefault(name, {"max": [], "min": []})
            entry["max"].append(float(extremes["max"]))
            entry["min"].append(float(extremes["min"]))
        self.counter += 1
        if self._keeps_earlier_run:
            for name in RUN_FILES:
                (self.save_dir / name).unlink(missing_ok=True)
            for path in self.save_dir.glob("parameters_epoch*.npz"):
                path.unlink()
        self._keeps_earlier_run = False
        if self.save:
            self._write_history()

    def push_baseline(self, log):
        """Record the untrained network's ``{"loss": {...}, "error": {...}}``
        (epoch 0) as ``log["baseline"]``; it is written with the first epoch."""
        self.log["baseline"] = {metric: {split: float(value) for split, value in log[metric].items()
                                         if value is not None} for metric in ("loss", "error")}

    def truncate(self, n_epochs):
        """Keep only the first ``n_epochs`` epochs (to match a resumed checkpoint)."""
        n_epochs = check_int(n_epochs, "n_epochs", "Logger.truncate", minimum=0)
        if n_epochs >= self.counter:
            return
        for metric in ("loss", "error"):
            for split in _SPLITS:
                del self.log[metric][split][n_epochs:]
        for extremes in self.log["params"].values():
            del extremes["max"][n_epochs:]
            del extremes["min"][n_epochs:]
        self.counter = n_epochs
        if self.save:
            self._write_history()

    def discard_unfinished(self):
        """True if this run finished no epoch and so left an earlier run as it
        was (``overwrite=True``); the Logger then writes nothing more."""
        if not self._keeps_earlier_run:
            return False
        self.save = self.plot = self._keeps_earlier_run = False
        return True

    def close(self):
        """Draw the plots of the epochs pushed so far (with ``plot``).

        Pushing more epochs afterwards is fine; the next call redraws."""
        if not (self.plot and self.counter):
            return
        epochs, loss = self._series("loss")
        _, error = self._series("error")
        plots = [("loss.png", "loss", "loss", loss)]
        if self._mse:
            plots.append(("error.png", "mse (mean squared error)", "mse", error))
        else:
            plots.append(("error.png", "error", "error", error))
            plots.append(("accuracy.png", "accuracy", "accuracy", _accuracy(error)))
        for file_name, title, ylabel, values in plots:
            lines = [(label, values[split]) for split, label in (("train", "train"), ("validate", "validation"))
                     if any(value is not None for value in values[split])]
            self._draw(file_name, title, ylabel, epochs, lines)
        for name, extremes in self.log["params"].items():
            self._draw(f"{name}.png", f"{name} (max and min)", f"{name} value",
                       list(range(1, self.counter + 1)), [("max", extremes["max"]), ("min", extremes["min"])])

    # -- writing ---------------------------------------------------------------------

    def _write(self, name, content):
        with atomic_open(self.save_dir / name, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)

    def _write_pending(self):
        for name, content in self._pending.items():
            self._write(name, content)
        self._pending = {}

    def _write_history(self):
        self._write_pending()
        self._write("log", pickle.dumps(self.log))
        history = {"epoch": list(range(1, self.counter + 1)), **self.log}
        self._write("history.json", json.dumps(history, indent=2) + "\n")
        epochs, loss = self._series("loss")
        _, error = self._series("error")
        columns = {"loss": loss, "mse" if self._mse else "error": error}
        if not self._mse:
            columns["accuracy"] = _accuracy(error)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["epoch"] + [f"{split}_{name}" for name in columns for split in _SPLITS])
        for row, epoch in enumerate(epochs):
            writer.writerow([epoch] + ["" if values[split][row] is None else repr(values[split][row])
                                       for values in columns.values() for split in _SPLITS])
        self._write("history.csv", text.getvalue())

    def _series(self, metric):
        """``(epochs, {split: values})`` of "loss" or "error", from epoch 0 when
        the untrained network's numbers were pushed; None where a split has none."""
        epochs = list(range(1, self.counter + 1))
        values = {split: list(self.log[metric][split]) or [None] * self.counter for split in _SPLITS}
        if "baseline" in self.log:
            epochs.insert(0, 0)
            for split in _SPLITS:
                values[split].insert(0, self.log["baseline"][metric].get(split))
        return epochs, values

    def _draw(self, file_name, title, ylabel, epochs, lines):
        """Draw ``lines`` (label, values) against ``epochs`` into ``file_name``.

        A bare :class:`matplotlib.figure.Figure` needs no pyplot: drawing never
        changes the user's backend, and the figure is freed with its last reference.
        """
        from matplotlib.figure import Figure  # here: importing the package does not load matplotlib
        from matplotlib.ticker import MaxNLocator

        fig = Figure(figsize=(6, 4), dpi=100, layout="constrained")
        # The run's name, which can be long, small above the title, wrapped at 60 characters.
        fig.suptitle("\n".join(textwrap.wrap(self.model_name, 60)), fontsize=8, color="0.3")
        ax = fig.add_subplot(title=title, xlabel="epoch", ylabel=ylabel)
        marker = "o" if len(epochs) <= 20 else None  # a lone point needs a marker to be seen
        for label, values in lines:
            ax.plot(epochs, [float("nan") if v is None else v for v in values], label=label,
                    marker=marker, markersize=3)
        # Whole epochs only, and room for a single one.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
        ax.grid(alpha=0.3)
        ax.legend()
        with atomic_open(self.save_dir / file_name) as f:
            fig.savefig(f, format="png")


def _accuracy(error):
    return {split: [None if e is None else 1.0 - e for e in values] for split, values in error.items()}


def run_dir(logger):
    """The run folder a model writes its files into, or None (see :attr:`Logger.run_dir`)."""
    return getattr(logger, "run_dir", None)


def load_log(run_dir):
    """Read back the ``log`` a :class:`Logger` saved in ``run_dir`` (a run
    folder or the ``log`` file itself); returns the dict of ``Logger.log``.

    Raises ``FileNotFoundError`` without a ``log`` file and ``ValueError`` for
    one that is corrupt, truncated, or not a Logger history.
    """
    if not isinstance(run_dir, (str, os.PathLike)):
        raise TypeError(f"load_log: run_dir must be a str or os.PathLike; got {describe(run_dir)}")
    path = Path(run_dir)
    if path.is_dir():
        path = path / "log"
    if not path.is_file():
        raise FileNotFoundError(
            f"load_log: no Logger history at {str(path)!r} (a run saved with save=True "
            f"has a 'log' file in its folder)"
        )
    try:
        with open(path, "rb") as f:
            history = load_pickle(f, _LOG_GLOBALS)
    except Exception as error:
        raise ValueError(
            f"load_log: {str(path)!r} is not a readable Logger history (corrupt or "
            f"truncated?): {type(error).__name__}: {error}"
        ) from None
    if not (isinstance(history, dict) and all(isinstance(history.get(m), dict) for m in ("loss", "error"))):
        raise ValueError(
            f"load_log: {str(path)!r} does not hold a Logger history (a dict with 'loss' "
            f"and 'error' dicts); got {describe(history)}"
        )
    return history
