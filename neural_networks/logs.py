"""The Logger: one place that records, saves and plots a training run.

A model calls :meth:`Logger.push` once per finished epoch with a dict of numbers.
The Logger keeps the history in memory (``Logger.log``, the course format) and,
when asked, writes it under ``<save_dir>/<model_name>/`` after every epoch:

* ``model_args``, ``data_args``: pickles of the arguments (the course format),
  plus ``model_args.json`` and ``data_args.json`` readable copies;
* ``log``: a pickle of ``Logger.log`` (the course format, see :class:`Logger`);
* ``history.json`` and ``history.csv``: the same numbers for people and tools;
* ``loss.png``, ``error.png``, ``accuracy.png`` and one plot per parameter
  (``W0.png``, ``b0.png``, ...).

Every file is written atomically (see :func:`neural_networks.utils.atomic_open`):
a crash leaves the previous complete file, never half of one. A run never
overwrites an earlier run unless asked to with ``overwrite=True``, and even
then the earlier run stays until the new one has finished its first epoch.

Plots are drawn on :class:`matplotlib.figure.Figure` objects, which need no
pyplot and no GUI backend, so importing or using this module never changes the
user's matplotlib backend.
"""

import contextlib
import csv
import io
import json
import math
import numbers
import os
import pickle
import re
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .checks import describe
from .utils import atomic_open, atomic_write_text

# Files the Logger owns inside a run folder (parameter plots come on top).
_ARG_FILES = ("model_args", "data_args", "model_args.json", "data_args.json")
_HISTORY_FILES = ("log", "history.json", "history.csv")
_METRIC_PLOTS = ("loss.png", "error.png", "accuracy.png")
_LOGGER_FILES = _ARG_FILES + _HISTORY_FILES + _METRIC_PLOTS
# Files the model writes into the run folder: part of the same run.
_RUN_FILES = ("checkpoint.npz", "predictions.csv")
# Files that exist only once an epoch has finished: a folder without any of
# them holds no earlier run, only the stub of a start that failed.
_FINISHED_EPOCH_FILES = ("log", "checkpoint.npz", "loss.png")
# With overwrite=True the new run is written into this sub-folder of the run
# folder until its first epoch is finished, then moved into place.
_STAGING = ".new_run"

_METRICS = ("loss", "error")
_SPLITS = ("train", "validate")
_CSV_COLUMNS = (
    "epoch",
    "train_loss", "validate_loss",
    "train_error", "validate_error",
    "train_accuracy", "validate_accuracy",
)
# With the L2 loss the model's error is the mean squared error, not 1 - accuracy.
_CSV_COLUMNS_L2 = ("epoch", "train_loss", "validate_loss", "train_mse", "validate_mse")

# 6 x 4 inches at 100 dpi: a 600 x 400 image, legible and cheap to redraw.
_FIGSIZE = (6.0, 4.0)
_DPI = 100
# Fixed margins (fractions of the figure) with room for tick labels such as
# "-0.0025". tight_layout would fit them exactly but doubles the drawing time.
_MARGINS = {"left": 0.14, "right": 0.97, "bottom": 0.12, "top": 0.86}
# The run's name goes above the plot's title in small print, wrapped at "_" and
# "-" into lines of at most this many characters (they fit the figure's width).
_NAME_FONTSIZE = 8
_NAME_LINE_CHARS = 60
# zlib level 1: files about a third larger than the default level 6, but
# encoded several times faster, and a plot is rewritten after every epoch.
_PNG_OPTIONS = {"compress_level": 1}
# With few epochs a bare line is hard to see (a single epoch draws nothing), so
# points get markers up to this many epochs.
_MARKER_EPOCHS = 20


class Logger:
    """Record one finished epoch at a time; save and plot the history.

    Parameters
    ----------
    model_name : str
        The run's name and the name of its folder under ``save_dir``. Must not be
        empty, ``"."`` or ``".."``, nor contain ``"/"`` or ``"\\"``.
    model_args, data_args : object
        The arguments that built the model and the dataset (usually dicts). With
        ``save`` they are pickled to ``model_args``/``data_args`` and copied to
        readable ``.json`` files (values JSON cannot hold are written as ``repr``).
        When ``model_args["loss"]`` is ``"l2"`` the pushed error is the mean
        squared error: ``history.csv`` calls it ``mse``, ``error.png`` is titled
        ``mse``, and there is no accuracy column or ``accuracy.png``.
    save : bool
        Write the arguments at construction and ``log``, ``history.json`` and
        ``history.csv`` after every :meth:`push`.
    plot : bool
        Redraw ``loss.png``, ``error.png``, ``accuracy.png`` and one plot per
        parameter after every :meth:`push`.
    save_dir : str or os.PathLike
        The folder that holds the run folders. Folders are created as needed,
        and only when ``save`` or ``plot`` is on.
    overwrite : bool
        If the run folder already holds an earlier run (at least one finished
        epoch), the constructor raises ``FileExistsError`` before writing
        anything, unless ``overwrite`` is true. Then the new run is written
        aside, into ``<run folder>/.new_run/``, and the earlier run stays as it
        was until the new run's first :meth:`push`: only then are the earlier
        run's files (and only those) deleted and the new ones moved into place.
        A new run that stops before its first epoch leaves the earlier run
        untouched (see :meth:`discard_unfinished`). The model's own files in
        the run folder (``checkpoint.npz``, ``predictions.csv``,
        ``parameters_epoch*.npz``) count as the run's files too. A folder with
        Logger files but no finished epoch (a start that failed) is not an
        earlier run: its files are replaced without ``overwrite``.
    resume : bool
        Continue the run saved in the folder: its ``log`` is read back and new
        epochs are appended (see :meth:`truncate` to match a checkpoint).
    plot_interval : float
        Plots are redrawn at most once every this many seconds (drawing costs
        tens of milliseconds, more than an epoch of a small network);
        :meth:`flush` draws the latest epochs, and the model calls it when
        training stops for any reason.

    Attributes
    ----------
    log : dict
        The history, one entry per pushed epoch::

            {"loss":   {"train": [...], "validate": [...]},
             "error":  {"train": [...], "validate": [...]},
             "params": {"W0": {"max": [...], "min": [...]}, ...}}

        ``"validate"`` lists stay empty when the pushes carry no validation
        numbers; ``"params"`` stays empty when they carry no parameters.
    counter : int
        The number of epochs pushed so far.
    save_dir : pathlib.Path
        The folder written to: the run folder ``Path(save_dir) / model_name``
        (the course's name for it), or, while an overwriting run has not
        finished its first epoch, ``<run folder>/.new_run``.

    Epochs are numbered from 1 in ``history.json``, ``history.csv`` and the
    plots: epoch ``k`` is the state after ``k`` finished epochs. Accuracy
    (``1 - error``) appears only in ``history.csv`` and ``accuracy.png``.

    With ``plot`` the Logger keeps one figure per plot for the whole run;
    :meth:`close` frees them. A saved run reads back with :func:`load_log`.
    """

    def __init__(self, model_name, model_args, data_args, save=False, plot=False,
                 save_dir="experiments/", overwrite=False, resume=False, plot_interval=2.0):
        _check_file_name(model_name, "model_name", "Logger")
        save = _check_bool(save, "save")
        plot = _check_bool(plot, "plot")
        overwrite = _check_bool(overwrite, "overwrite")
        resume = _check_bool(resume, "resume")
        if overwrite and resume:
            raise ValueError("Logger: overwrite and resume cannot both be True")
        if (isinstance(plot_interval, bool) or not isinstance(plot_interval, numbers.Real)
                or not plot_interval >= 0):
            raise ValueError(
                f"Logger: plot_interval must be a number of seconds >= 0; got {describe(plot_interval)}"
            )
        if not isinstance(save_dir, (str, os.PathLike)):
            raise TypeError(
                f"Logger: save_dir must be a str or os.PathLike; got {describe(save_dir)}"
            )

        self.model_name = model_name
        self.model_args = model_args
        self.data_args = data_args
        self.save = save
        self.plot = plot
        self.overwrite = overwrite
        self.save_dir = Path(save_dir) / model_name
        # The run folder while the new run is written aside (see overwrite).
        self._replaces = None
        loss = model_args.get("loss") if isinstance(model_args, Mapping) else None
        self._error_is_mse = str(getattr(loss, "name", loss)).lower() == "l2"
        self.counter = 0
        self.log = {
            "loss": {"train": [], "validate": []},
            "error": {"train": [], "validate": []},
            "params": {},
        }
        # Fixed by the first push, so that every list stays one entry per epoch.
        self._layout = None
        # file name -> (figure, axes, lines), reused by every redraw.
        self._figures = {}
        self.resume = resume
        self.plot_interval = float(plot_interval)
        self._last_plot = None
        self._plots_stale = False

        if not (save or plot):
            return
        # Serialize first: an argument that cannot be pickled fails here,
        # before any file or folder exists.
        arg_files = {}
        if save:
            for name, value in (("model_args", model_args), ("data_args", data_args)):
                try:
                    arg_files[name] = pickle.dumps(value)
                except Exception as error:
                    raise TypeError(
                        f"Logger: {name} cannot be pickled ({error}); "
                        f"got {describe(value)}"
                    ) from error
                arg_files[name + ".json"] = json.dumps(
                    _jsonable(value), indent=2, allow_nan=False
                ) + "\n"

        existing = _existing_logger_files(self.save_dir)
        earlier_run = _holds_finished_epochs(self.save_dir)
        if resume or existing:
            # Temporary files of writes that a crash or kill cut short.
            for stale in self.save_dir.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
            _remove_staging(self.save_dir / _STAGING)
        if resume:
            if not (self.save_dir / "log").is_file():
                raise FileNotFoundError(
                    f"Logger: cannot resume: {str(self.save_dir)!r} holds no log of an earlier run"
                )
            self.log = load_log(self.save_dir)
            self.log.setdefault("params", {})
            self.counter = len(self.log["loss"]["train"])
            return
        if earlier_run and not overwrite:
            names = ", ".join(path.name for path in existing)
            raise FileExistsError(
                f"Logger: the run folder {str(self.save_dir)!r} already holds the files "
                f"of an earlier run ({names}). Pass overwrite=True (on the command "
                f"line: --overwrite) to replace them, or pick another model_name."
            )
        if earlier_run:
            # Keep the earlier run until this one has an epoch to show for itself.
            self._replaces = self.save_dir
            self.save_dir = self.save_dir / _STAGING
        else:
            # The stub of a start that failed before its first epoch.
            for path in existing:
                path.unlink(missing_ok=True)

        self.save_dir.mkdir(parents=True, exist_ok=True)
        for name, content in arg_files.items():
            if isinstance(content, bytes):
                with atomic_open(self.save_dir / name, "wb") as f:
                    f.write(content)
            else:
                atomic_write_text(self.save_dir / name, content)

    def __repr__(self):
        return (
            f"Logger(model_name={self.model_name!r}, save={self.save}, "
            f"plot={self.plot}, save_dir={str(self.save_dir.parent)!r}, "
            f"epochs={self.counter})"
        )

    # ------------------------------------------------------------------ push

    def push(self, log):
        """Record one finished epoch, then save and plot if enabled.

        Parameters
        ----------
        log : dict
            ``{"loss": {"train": float, "validate": float},
            "error": {"train": float, "validate": float},
            "params": {"W0": {"max": float, "min": float}, ...}}``.
            ``"validate"`` may be missing or ``None`` (no validation set) and
            ``"params"`` may be missing, ``None`` or empty, but each push must
            have the same layout as the first one. Every number must be a finite
            real number.

        Raises
        ------
        TypeError, ValueError
            For a malformed ``log``, before anything is recorded or written.
            A NaN or infinite number is refused: it is not a result to be kept
            in the history (the model decides what to do about divergence).
        OSError
            If a file cannot be written. The epoch stays recorded in memory and
            every file on disk stays complete (the previous version); the next
            push rewrites all of them.
        """
        record, layout = _parse_push(log)
        if self._layout is None:
            self._layout = layout
        elif layout != self._layout:
            raise ValueError(
                f"Logger.push: every epoch must carry the same entries as the first "
                f"one; expected {_describe_layout(self._layout)}, "
                f"got {_describe_layout(layout)}"
            )

        for metric in _METRICS:
            for split, value in record[metric].items():
                self.log[metric][split].append(value)
        for name, extremes in record["params"].items():
            entry = self.log["params"].setdefault(name, {"max": [], "min": []})
            entry["max"].append(extremes["max"])
            entry["min"].append(extremes["min"])
        self.counter += 1

        if self.save:
            self._write_history()
        if self.plot:
            self._plots_stale = True
            self._maybe_draw_plots()
        if self._replaces is not None:
            self._replace_earlier_run()

    def push_baseline(self, log):
        """Record the untrained network's numbers (epoch 0), before the first push.

        ``log`` has the layout of :meth:`push` (``"params"`` is ignored). The
        numbers are kept as ``self.log["baseline"] = {"loss": {...}, "error":
        {...}}``, an extra key: the per-epoch lists keep the course's layout (one
        entry per finished epoch). Nothing is written until the first epoch is
        pushed (a run folder holds finished epochs only); from then on
        ``history.json`` carries the key, ``history.csv`` has an epoch-0 row,
        and the curves start at epoch 0.
        """
        record, _ = _parse_push(log)
        self.log["baseline"] = {metric: record[metric] for metric in _METRICS}

    def _replace_earlier_run(self):
        """Swap the new run (written aside) in for the earlier one after its first epoch."""
        staged, run_dir = self.save_dir, self._replaces
        for path in _existing_logger_files(run_dir):
            path.unlink(missing_ok=True)
        for path in sorted(staged.iterdir()):
            if path.is_file() and not path.name.endswith(".tmp"):
                os.replace(path, run_dir / path.name)
        _remove_staging(staged)
        self.save_dir, self._replaces = run_dir, None

    def discard_unfinished(self):
        """End a run that was written aside and never finished an epoch.

        With ``overwrite=True`` over an earlier run, the new run lives in
        ``<run folder>/.new_run/`` until its first :meth:`push`. If it stops
        before that, this deletes what it wrote there and leaves the earlier
        run as it was. Returns True if there was something to discard.
        """
        if self._replaces is None:
            return False
        _remove_staging(self.save_dir)
        self.save_dir, self._replaces = self._replaces, None
        self.counter = 0
        self.save = self.plot = False  # nothing more is written for this run
        return True

    def _maybe_draw_plots(self):
        # Redrawing every plot costs tens of milliseconds, far more than an
        # epoch of a small network: redraw at most every plot_interval seconds.
        # flush() (called by the model when training stops) draws what is left.
        now = time.monotonic()
        if self._last_plot is None or now - self._last_plot >= self.plot_interval:
            self.flush()

    def flush(self):
        """Draw the plots now if epochs were pushed since they were last drawn."""
        if self.plot and self._plots_stale and self.counter:
            self._draw_plots()
            self._plots_stale = False
            self._last_plot = time.monotonic()

    def truncate(self, n_epochs):
        """Keep only the first ``n_epochs`` epochs (to match a resumed checkpoint)."""
        if isinstance(n_epochs, bool) or not isinstance(n_epochs, numbers.Integral) or n_epochs < 0:
            raise ValueError(f"Logger.truncate: n_epochs must be an int >= 0; got {describe(n_epochs)}")
        if n_epochs >= self.counter:
            return
        for metric in _METRICS:
            for split in _SPLITS:
                del self.log[metric][split][n_epochs:]
        for extremes in self.log["params"].values():
            del extremes["max"][n_epochs:]
            del extremes["min"][n_epochs:]
        self.counter = n_epochs
        if self.save:
            self._write_history()
        self._plots_stale = True
        self.flush()

    # --------------------------------------------------------------- loading

    # --------------------------------------------------------------- writing

    def _epochs(self):
        return list(range(1, self.counter + 1))

    def _curve(self, metric):
        """``(epochs, {split: values})`` of one metric, from epoch 0 when the
        untrained network's numbers were pushed (a split it lacks starts at 1)."""
        values = self.log[metric] if metric != "accuracy" else self._accuracy()
        baseline = self.log.get("baseline")
        epochs = self._epochs()
        if baseline is None:
            return epochs, {split: list(values[split]) for split in _SPLITS}
        source = baseline["error" if metric == "accuracy" else metric]
        first = {split: (1.0 - v if metric == "accuracy" else v) for split, v in source.items()}
        return [0] + epochs, {split: ([first[split]] if split in first else [None]) + list(values[split])
                              for split in _SPLITS}

    def _accuracy(self):
        """1 - error per split, or None when the error is not a classification error."""
        if self._error_is_mse:
            return None
        return {
            split: [1.0 - error for error in self.log["error"][split]]
            for split in _SPLITS
        }

    def _write_history(self):
        with atomic_open(self.save_dir / "log", "wb") as f:
            pickle.dump(self.log, f)

        history = {"epoch": self._epochs(), **self.log}
        atomic_write_text(
            self.save_dir / "history.json",
            json.dumps(history, indent=2, allow_nan=False) + "\n",
        )

        metrics = ("loss", "error") if self._error_is_mse else ("loss", "error", "accuracy")
        epochs, columns = None, []
        for metric in metrics:
            epochs, values = self._curve(metric)
            columns += [values[split] for split in _SPLITS]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS_L2 if self._error_is_mse else _CSV_COLUMNS)
        for row, epoch in enumerate(epochs):
            writer.writerow([epoch] + [
                repr(column[row]) if row < len(column) and column[row] is not None else ""
                for column in columns
            ])
        atomic_write_text(self.save_dir / "history.csv", buffer.getvalue())

    def _draw_plots(self):
        self.save_dir.mkdir(parents=True, exist_ok=True)
        epochs = self._epochs()
        # (file, values, title, y label)
        series = [("loss.png", "loss", "loss", "loss")]
        if self._error_is_mse:
            series.append(("error.png", "error", "mse (mean squared error)", "mse"))
        else:
            series.append(("error.png", "error", "error", "error"))
            series.append(("accuracy.png", "accuracy", "accuracy", "accuracy"))
        for file_name, metric, title, ylabel in series:
            curve_epochs, values = self._curve(metric)
            lines = [("train", _nan_for_none(values["train"]))]
            if self.log[metric if metric != "accuracy" else "error"]["validate"]:
                lines.append(("validation", _nan_for_none(values["validate"])))
            self._save_plot(file_name, curve_epochs, lines, title=title, ylabel=ylabel)
        for name, extremes in self.log["params"].items():
            lines = [("max", extremes["max"]), ("min", extremes["min"])]
            self._save_plot(f"{name}.png", epochs, lines, title=f"{name} (max and min)",
                            ylabel=f"{name} value")

    def _save_plot(self, file_name, epochs, lines, title, ylabel):
        """Draw ``lines`` (label, values) against ``epochs`` into ``file_name``.

        Each plot keeps one Figure for the whole run and only replaces its data:
        building a figure from scratch costs as much as drawing it. The figures
        are bare :class:`matplotlib.figure.Figure` objects, never registered with
        pyplot, so there is nothing global to close and memory stays bounded by
        the number of plots however many epochs are pushed.
        """
        if file_name not in self._figures:
            self._figures[file_name] = _new_plot(
                [label for label, _ in lines], self.model_name, title, ylabel
            )
        fig, ax, artists = self._figures[file_name]
        marker = "o" if len(epochs) <= _MARKER_EPOCHS else "None"
        for artist, (_, values) in zip(artists, lines):
            artist.set_data(epochs, values)
            artist.set_marker(marker)
        ax.relim()
        ax.autoscale_view()
        # Epochs are whole numbers: half an epoch of room on each side keeps
        # the integer locator from labelling 0.95 ... 1.05 when there is one.
        margin = max(0.5, 0.03 * (len(epochs) - 1))
        ax.set_xlim(epochs[0] - margin, epochs[-1] + margin)
        with atomic_open(self.save_dir / file_name, "wb") as f:
            fig.savefig(f, format="png", dpi=_DPI, pil_kwargs=_PNG_OPTIONS)

    def close(self):
        """Free the figures kept for redrawing (pushing again recreates them)."""
        self._figures.clear()

    def __getstate__(self):
        # Figures are a cache for drawing, not part of the Logger's state.
        state = self.__dict__.copy()
        state["_figures"] = {}
        return state


def _nan_for_none(values):
    """A gap in a curve (matplotlib skips NaN) where a value is missing."""
    return [float("nan") if v is None else v for v in values]


def _new_plot(labels, model_name, title, ylabel):
    """An empty figure with one line per label; returns (fig, ax, lines).

    The run's name, which can be long, is printed small above the title and
    wrapped so that it never runs off the figure.
    """
    # Imported here so that importing the package does not load matplotlib.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=_FIGSIZE, dpi=_DPI)
    name_lines = _wrap_name(model_name, _NAME_LINE_CHARS)
    # Each extra line of the name takes room from the top of the plot.
    line_height = 1.25 * _NAME_FONTSIZE / 72 * _DPI / (_FIGSIZE[1] * _DPI)
    fig.subplots_adjust(**dict(_MARGINS, top=_MARGINS["top"] - line_height * (len(name_lines) - 1)))
    fig.text(0.5, 0.985, "\n".join(name_lines), ha="center", va="top",
             fontsize=_NAME_FONTSIZE, color="0.3")
    ax = fig.add_subplot()
    lines = [ax.plot([], [], label=label, markersize=3)[0] for label in labels]
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig, ax, lines


def _wrap_name(name, width):
    """Split a run name into lines of at most ``width`` characters, after a "_"
    or "-" where possible (run names have no spaces)."""
    lines = [""]
    for piece in re.split(r"(?<=[_\-\s])", name):
        while len(piece) > width:  # a piece too long for any line is cut
            if lines[-1]:
                lines.append("")
            lines[-1], piece = piece[:width], piece[width:]
            lines.append("")
        if len(lines[-1]) + len(piece) > width and lines[-1]:
            lines.append("")
        lines[-1] += piece
    return [line for line in lines if line] or [""]


# ------------------------------------------------------------------- loading


class _HistoryUnpickler(pickle.Unpickler):
    """Unpickle plain containers and numbers only.

    A pickle can run arbitrary code when loaded; a Logger ``log`` holds nothing but
    dicts, lists, strings and floats, so any other global is refused. NumPy
    scalars are allowed because older course logs stored ``np.float64`` values.
    """

    _ALLOWED = {
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load_log(run_dir):
    """Read back the ``log`` a :class:`Logger` saved in ``run_dir``.

    Parameters
    ----------
    run_dir : str or os.PathLike
        A run folder (``<save_dir>/<model_name>``) or the ``log`` file itself.

    Returns
    -------
    dict
        ``{"loss": {...}, "error": {...}, "params": {...}}`` as in ``Logger.log``.

    Raises
    ------
    FileNotFoundError
        If there is no ``log`` file.
    ValueError
        If the file is corrupt, truncated, or not a Logger history.
    """
    if not isinstance(run_dir, (str, os.PathLike)):
        raise TypeError(
            f"load_log: run_dir must be a str or os.PathLike; got {describe(run_dir)}"
        )
    path = Path(run_dir)
    if path.is_dir():
        path = path / "log"
    if not path.is_file():
        raise FileNotFoundError(
            f"load_log: no Logger history at {str(path)!r} (a run saved with "
            f"save=True has a 'log' file in its folder)"
        )
    try:
        with open(path, "rb") as f:
            history = _HistoryUnpickler(f).load()
    except Exception as error:
        raise ValueError(
            f"load_log: {str(path)!r} is not a readable Logger history "
            f"(corrupt or truncated?): {type(error).__name__}: {error}"
        ) from error
    if not (isinstance(history, dict)
            and all(isinstance(history.get(metric), dict) for metric in _METRICS)):
        raise ValueError(
            f"load_log: {str(path)!r} does not hold a Logger history (a dict with "
            f"'loss' and 'error' dicts); got {describe(history)}"
        )
    return history


# ------------------------------------------------------------ private helpers


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Logger: {name} must be True or False; got {describe(value)}")
    return bool(value)


def _check_file_name(value, name, where):
    """Raise unless ``value`` can be used as one file or folder name."""
    if not isinstance(value, str):
        raise TypeError(f"{where}: {name} must be a str; got {describe(value)}")
    if not value.strip() or value in (".", "..") or "/" in value or "\\" in value \
            or "\0" in value:
        raise ValueError(
            f"{where}: {name} must be a non-empty name without '/' or '\\', and not "
            f"'.' or '..' (it names a file or folder); got {value!r}"
        )


def _existing_logger_files(run_dir):
    """The Logger files already in ``run_dir``, parameter plots included.

    Parameter plots are recognized by the names in the earlier run's ``log``; a
    file the Logger did not write is never listed.
    """
    if not run_dir.is_dir():
        return []
    names = list(_LOGGER_FILES) + list(_RUN_FILES)
    names += sorted(p.name for p in run_dir.glob("parameters_epoch*.npz"))
    try:
        names += [f"{param}.png" for param in load_log(run_dir).get("params", {})
                  if isinstance(param, str) and param not in (".", "..")
                  and "/" not in param and "\\" not in param]
    except (OSError, ValueError):
        pass
    return [run_dir / name for name in names if (run_dir / name).is_file()]


def _holds_finished_epochs(run_dir):
    """True if ``run_dir`` holds a run with at least one finished epoch."""
    return any((run_dir / name).is_file() for name in _FINISHED_EPOCH_FILES)


def _remove_staging(staging):
    """Delete the folder a new run was written into aside, if it exists.

    Only its files are deleted (this module and the model wrote them); if
    anything else is in there, the folder stays.
    """
    if staging.name != _STAGING or not staging.is_dir():
        return
    for path in staging.iterdir():
        if path.is_file():
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        staging.rmdir()


def _parse_push(log):
    """Validate a :meth:`Logger.push` argument; return (record, layout).

    ``record`` holds floats only, with the ``"validate"`` keys dropped where
    absent; ``layout`` says which entries are present, to compare epochs.
    """
    where = "Logger.push"
    if not isinstance(log, Mapping):
        raise TypeError(f"{where}: log must be a dict; got {describe(log)}")
    _check_keys(log, "log", required=_METRICS, optional=("params",))

    record = {}
    for metric in _METRICS:
        path = f"log[{metric!r}]"
        values = log[metric]
        if not isinstance(values, Mapping):
            raise TypeError(f"{where}: {path} must be a dict; got {describe(values)}")
        _check_keys(values, path, required=("train",), optional=("validate",))
        record[metric] = {"train": _check_value(values["train"], f"{path}['train']")}
        if values.get("validate") is not None:
            record[metric]["validate"] = _check_value(
                values["validate"], f"{path}['validate']"
            )

    params = log.get("params")
    record["params"] = {}
    if params is not None:
        if not isinstance(params, Mapping):
            raise TypeError(
                f"{where}: log['params'] must be a dict; got {describe(params)}"
            )
        for name, extremes in params.items():
            _check_file_name(name, "every key of log['params']", where)
            if f"{name}.png" in _METRIC_PLOTS:
                raise ValueError(
                    f"{where}: log['params'] cannot have a parameter named {name!r} "
                    f"(its plot would replace {name}.png)"
                )
            path = f"log['params'][{name!r}]"
            if not isinstance(extremes, Mapping):
                raise TypeError(f"{where}: {path} must be a dict; got {describe(extremes)}")
            _check_keys(extremes, path, required=("max", "min"))
            high = _check_value(extremes["max"], f"{path}['max']")
            low = _check_value(extremes["min"], f"{path}['min']")
            if high < low:
                raise ValueError(
                    f"{where}: {path}['max'] ({high}) is smaller than "
                    f"{path}['min'] ({low})"
                )
            record["params"][name] = {"max": high, "min": low}

    layout = (
        tuple("validate" in record[metric] for metric in _METRICS),
        frozenset(record["params"]),
    )
    return record, layout


def _check_keys(mapping, path, required, optional=()):
    missing = [key for key in required if key not in mapping]
    if missing:
        raise ValueError(
            f"Logger.push: {path} is missing the key {missing[0]!r}; "
            f"got keys {sorted(map(str, mapping))}"
        )
    unknown = [key for key in mapping if key not in required and key not in optional]
    if unknown:
        raise ValueError(
            f"Logger.push: {path} has the unexpected key {unknown[0]!r}; "
            f"the valid keys are {list(required) + list(optional)}"
        )


def _check_value(value, path):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"Logger.push: {path} must be a real number; got {describe(value)}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"Logger.push: {path} is {value}; a non-finite number is not recorded "
            f"as a result (a diverged run is for the model to handle, not to log)"
        )
    return value


def _describe_layout(layout):
    has_validate, params = layout
    parts = [
        f"{metric} {'with' if present else 'without'} 'validate'"
        for metric, present in zip(_METRICS, has_validate)
    ]
    parts.append(f"params {sorted(params)}")
    return "(" + ", ".join(parts) + ")"


def _jsonable(value, _active=None):
    """A copy of ``value`` that ``json.dumps`` accepts; the rest becomes ``repr``."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, np.generic):
        return _jsonable(value.item(), _active)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if not isinstance(value, (Mapping, list, tuple, set, frozenset, np.ndarray)):
        return repr(value)
    # Containers: guard against a structure that contains itself.
    _active = set() if _active is None else _active
    if id(value) in _active:
        return "<recursive reference>"
    _active.add(id(value))
    try:
        if isinstance(value, np.ndarray):
            return _jsonable(value.tolist(), _active)
        if isinstance(value, Mapping):
            return {
                key if isinstance(key, str) else repr(key): _jsonable(item, _active)
                for key, item in value.items()
            }
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(item, _active) for item in items]
    finally:
        _active.discard(id(value))
