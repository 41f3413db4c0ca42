"""The Logger: one place that records a training run, saves it and plots it,
every file whole (:func:`utils.atomic_open`: a crash or Ctrl-C leaves complete files)."""

import csv
import io
import json
import os
import pickle
import textwrap
import time
from pathlib import Path

from .checks import check_bool, check_int, describe
from .utils import atomic_open, load_pickle

WRITE_SECONDS, PLOT_SECONDS = 1.0, 30.0
# The files of a run that have fixed names: the Logger's and the model's.
RUN_FILES = ("model_args", "data_args", "model_args.json", "data_args.json", "log",
             "history.json", "history.csv", "loss.png", "error.png", "accuracy.png",
             "checkpoint.npz", "predictions.csv", "kaggle_predictions.csv")
# Each of these is written only once an epoch has finished: a folder without
# any of them holds no earlier run (at most the arguments of a failed start).
_FINISHED_EPOCH_FILES = ("log", "checkpoint.npz", "loss.png")
_SPLITS = ("train", "validate")
# Each curve's file and its title, also its y label ("l2" is the loss of "l2").
_PLOTS = {"loss": ("loss.png", "cross-entropy loss"), "l2": ("loss.png", "L2 loss"),
          "error": ("error.png", "error (1 - accuracy)"), "mse": ("error.png", "mse (mean squared error)"),
          "accuracy": ("accuracy.png", "accuracy")}
# The only globals a log may name: the NumPy floats of older course logs.
_LOG_GLOBALS = {("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}


class Logger:
    """Record one finished epoch at a time. With ``save`` write into ``<save_dir>/<model_name>/`` the
    arguments (``model_args``, ``data_args``: pickles, and ``.json`` copies) and the history (``log``, the
    course's pickle of ``Logger.log``; ``history.json``; ``history.csv``): at the first push, then at most
    every ``WRITE_SECONDS`` (an epoch can be far shorter). With ``plot`` draw ``loss.png``, ``error.png``
    (``mse`` for the "l2" loss, then without ``accuracy.png``) and ``W0.png``, ... per parameter, at
    150 dpi, at most every ``PLOT_SECONDS``. :meth:`close` writes and draws the rest.

    A folder with an earlier run is written only with ``overwrite`` (else ``FileExistsError``), from the
    first push on, which deletes its :data:`RUN_FILES`, ``parameters_epoch*.npz`` and the parameter
    plots its ``history.json`` names, no other file; ``resume`` appends to the saved ``log``.

    ``log`` is ``{"loss": {"train": [...], "validate": [...]}, "error": {...}, "params": {"W0": {"max":
    [...], "min": [...]}, ...}}`` (one entry per epoch) and ``"baseline"`` (epoch 0); ``counter`` and
    ``written`` are the epochs pushed and those in the files; ``save_dir`` is the run folder.
    """

    def __init__(self, model_name, model_args, data_args, save=False, plot=False,
                 save_dir="experiments/", overwrite=False, resume=False):
        if not isinstance(model_name, str):
            raise TypeError(f"Logger: model_name must be a str; got {describe(model_name)}")
        if not model_name.strip() or model_name in (".", "..") or any(c in model_name for c in "/\\\0"):
            raise ValueError(f"Logger: model_name must be a non-empty name without '/' or '\\', and not "
                             f"'.' or '..' (it names a folder); got {model_name!r}")
        self.save = check_bool(save, "save", "Logger")
        self.plot = check_bool(plot, "plot", "Logger")
        resume = check_bool(resume, "resume", "Logger")
        if check_bool(overwrite, "overwrite", "Logger") and resume:
            raise ValueError("Logger: overwrite and resume cannot both be True")
        if not isinstance(save_dir, (str, os.PathLike)):
            raise TypeError(f"Logger: save_dir must be a str or os.PathLike; got {describe(save_dir)}")
        self.model_name, self.model_args, self.data_args = model_name, model_args, data_args
        self.save_dir = Path(save_dir) / model_name
        loss = model_args.get("loss") if isinstance(model_args, dict) else None
        self._mse = str(getattr(loss, "name", loss)).lower() == "l2"
        self.log = {"loss": {"train": [], "validate": []}, "error": {"train": [], "validate": []},
                    "params": {}}
        self.counter = self.written = 0
        self._last_write, self._last_plot = -WRITE_SECONDS, time.monotonic()
        self._keeps_earlier_run = False  # until the first push
        self._pending = {}  # the arguments' files, while an earlier run is kept
        if not (self.save or self.plot):
            return
        if resume:
            self.log = load_log(self.save_dir)
            self.log.setdefault("params", {})
            self.counter = self.written = len(self.log["loss"]["train"])
            return
        args = {}
        if self.save:  # an argument that cannot be saved fails before any file exists
            for name, value in (("model_args", model_args), ("data_args", data_args)):
                try:
                    args[name] = pickle.dumps(value)
                    args[name + ".json"] = json.dumps(value, indent=2, default=repr) + "\n"
                except Exception as error:
                    raise TypeError(f"Logger: {name} cannot be saved ({error}); "
                                    f"got {describe(value)}") from None
        if not any((self.save_dir / name).is_file() for name in _FINISHED_EPOCH_FILES):
            self._write(args)
        elif overwrite:
            self._keeps_earlier_run, self._pending = True, args
        else:
            names = ", ".join(name for name in RUN_FILES if (self.save_dir / name).is_file())
            raise FileExistsError(
                f"Logger: the run folder {str(self.save_dir)!r} already holds the files of an earlier "
                f"run ({names}). Pass overwrite=True (on the command line: --overwrite) to replace "
                f"them, or pick another model_name.")

    @property
    def run_dir(self):
        """Where the model writes ``checkpoint.npz`` and ``predictions.csv``; None
        when nothing is saved and while an earlier run is kept."""
        return self.save_dir if self.save and not self._keeps_earlier_run else None

    def push(self, log):
        """Record one finished epoch: ``log`` has a number for each list (no "validate": no validation set)."""
        for metric in ("loss", "error"):
            for split in _SPLITS:
                if log[metric].get(split) is not None:
                    self.log[metric][split].append(float(log[metric][split]))
        for name, extremes in (log.get("params") or {}).items():
            for key, values in self.log["params"].setdefault(name, {"max": [], "min": []}).items():
                values.append(float(extremes[key]))
        self.counter += 1
        if self._keeps_earlier_run:  # the first epoch: now the earlier run goes
            for path in [*_parameter_plots(self.save_dir), *(self.save_dir / n for n in RUN_FILES),
                         *self.save_dir.glob("parameters_epoch*.npz")]:
                path.unlink(missing_ok=True)
            self._keeps_earlier_run = False
        if time.monotonic() - self._last_write >= WRITE_SECONDS:
            self._write_history()
        if self.plot and time.monotonic() - self._last_plot >= PLOT_SECONDS:
            self._plot()  # a long run's plots are seen as it goes

    def push_baseline(self, log):
        """Record the untrained network's ``{"loss": ..., "error": ...}`` as ``log["baseline"]`` (epoch 0)."""
        self.log["baseline"] = {metric: {split: float(value) for split, value in log[metric].items()
                                         if value is not None} for metric in ("loss", "error")}

    def truncate(self, n_epochs):
        """Keep only the first ``n_epochs`` epochs (to match a resumed checkpoint)."""
        n_epochs = check_int(n_epochs, "n_epochs", "Logger.truncate", minimum=0)
        if n_epochs < self.counter:
            for lists in [self.log["loss"], self.log["error"], *self.log["params"].values()]:
                for values in lists.values():
                    del values[n_epochs:]
            self.counter = n_epochs
            self._write_history()

    def discard_unfinished(self):
        """True if this run finished no epoch and so left an earlier run as it
        was (``overwrite=True``); the Logger then writes nothing more."""
        if not self._keeps_earlier_run:
            return False
        self.save = self.plot = self._keeps_earlier_run = False
        return True

    def close(self):
        """Write the epochs not written yet and draw the plots (pushing more afterwards is fine)."""
        if self.written != self.counter:
            self._write_history()
        if self.plot and self.counter:
            self._plot()

    def _plot(self):
        epochs, curves = self._curves()
        for name, values in curves.items():
            self._draw(*_PLOTS["l2" if self._mse and name == "loss" else name], epochs, [(label, values[s])
                       for s, label in zip(_SPLITS, ("train", "validation")) if values[s][-1] is not None])
        for name, extremes in self.log["params"].items():  # over the same epochs as the loss
            self._draw(f"{name}.png", f"{name}: max and min", epochs,
                       [(key, [None] * (len(epochs) - self.counter) + extremes[key]) for key in ("max", "min")])
        self._last_plot = time.monotonic()

    def _write(self, files):
        """Write ``{file name: bytes or str}`` into the run folder."""
        for name, content in files.items():
            with atomic_open(self.save_dir / name) as f:
                f.write(content if isinstance(content, bytes) else content.encode())

    def _write_history(self):
        if not self.save:
            return
        epochs, curves = self._curves()
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["epoch"] + [f"{split}_{name}" for name in curves for split in _SPLITS])
        writer.writerows([epoch] + ["" if values[split][row] is None else repr(values[split][row])
                                    for values in curves.values() for split in _SPLITS]
                         for row, epoch in enumerate(epochs))
        history = {"epoch": list(range(1, self.counter + 1)), **self.log}
        self._write({**self._pending, "log": pickle.dumps(self.log), "history.csv": table.getvalue(),
                     "history.json": json.dumps(history, indent=2) + "\n"})
        self._pending, self.written, self._last_write = {}, self.counter, time.monotonic()

    def _curves(self):
        """``(epochs, {name: {split: values}})`` of "loss", "error" (or "mse") and
        "accuracy", from epoch 0 when there is a baseline; None for no number."""
        first = [self.log["baseline"]] if "baseline" in self.log else []
        curves = {metric: {split: [b[metric].get(split) for b in first]
                           + (self.log[metric][split] or [None] * self.counter) for split in _SPLITS}
                  for metric in ("loss", "error")}
        if self._mse:
            curves["mse"] = curves.pop("error")
        else:
            curves["accuracy"] = {split: [None if e is None else 1 - e for e in values]
                                  for split, values in curves["error"].items()}
        return [0] * len(first) + list(range(1, self.counter + 1)), curves

    def _draw(self, file_name, title, epochs, lines):
        """Draw ``lines`` (label, values) over ``epochs`` into ``file_name``; no pyplot: the backend stays."""
        from matplotlib.figure import Figure  # here: importing the package does not load matplotlib
        from matplotlib.ticker import MaxNLocator

        fig = Figure(figsize=(6, 4), dpi=150, layout="constrained")
        # The run's name, which can be long, small above the title.
        fig.suptitle("\n".join(textwrap.wrap(self.model_name, 60)), fontsize=8, color="0.3")
        ax = fig.add_subplot(title=title, xlabel="epoch", ylabel=title)
        start = int(epochs[0] == 0)  # epoch 0, the untrained network, comes first
        trained = [v for _, values in lines for v in values[start:] if v is not None and abs(v) < float("inf")]
        if trained:  # an untrained loss of 500 would flatten the rest: the y range fits the trained
            low, high = min(trained), max(trained)  # epochs, and an epoch 0 up to one span beyond
            span = high - low or abs(high) or 1.0
            near = [v[0] for _, v in lines if start and v[0] is not None and low - span <= v[0] <= high + span]
            low, high = min(trained + near), max(trained + near)
            ax.set_ylim(low - (high - low or span) / 20, high + (high - low or span) / 20)
        for label, values in lines:  # a marker on each of a few points: one alone is seen too
            if start and trained and values[0] is not None and not low <= values[0] <= high:
                label += f" (epoch 0: {values[0]:.4g}, off the scale)"  # its number instead
            ax.plot(epochs, [float("nan") if v is None else v for v in values], label=label,
                    marker="o" if len(epochs) <= 20 else None, markersize=3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole epochs
        ax.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
        ax.grid(alpha=0.3)
        ax.legend()
        with atomic_open(self.save_dir / file_name) as f:
            fig.savefig(f, format="png", dpi="figure")


def _parameter_plots(folder):
    """The parameter plots (``W0.png``, ...) that a run's ``history.json`` names."""
    try:
        return [folder / f"{name}.png" for name in json.loads((folder / "history.json").read_text())["params"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def run_dir(logger):
    """``logger.run_dir`` (see :attr:`Logger.run_dir`) or None."""
    return getattr(logger, "run_dir", None)


def load_log(run_dir):
    """Read back the ``Logger.log`` saved in ``run_dir`` (a run folder or its ``log`` file). Raises
    ``FileNotFoundError`` without a ``log`` file, ``ValueError`` for one corrupt, truncated or not a history."""
    if not isinstance(run_dir, (str, os.PathLike)):
        raise TypeError(f"load_log: run_dir must be a str or os.PathLike; got {describe(run_dir)}")
    path = Path(run_dir) / "log" if Path(run_dir).is_dir() else Path(run_dir)
    if not path.is_file():
        raise FileNotFoundError(f"load_log: no Logger history at {str(path)!r} (a run saved with "
                                f"save=True has a 'log' file in its folder)")
    try:
        with open(path, "rb") as f:
            history = load_pickle(f, _LOG_GLOBALS)
    except Exception as error:
        raise ValueError(f"load_log: {str(path)!r} is not a readable Logger history (corrupt or "
                         f"truncated?): {type(error).__name__}: {error}") from None
    if not (isinstance(history, dict) and all(isinstance(history.get(k), dict) for k in ("loss", "error"))):
        raise ValueError(f"load_log: {str(path)!r} does not hold a Logger history (a dict with 'loss' "
                         f"and 'error' dicts); got {describe(history)}")
    return history
