"""Tests for neural_networks.logs.

Every promised file is read back and compared with hand-built expectations;
plots are checked to be real PNGs whose texts fit; an earlier run is never
touched before the new run's first epoch, and only the run's files are
replaced; and arguments are validated.
"""

import csv
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread

from neural_networks import logs
from neural_networks.logs import Logger, load_log

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ARG_FILES = {"model_args", "data_args", "model_args.json", "data_args.json"}
HISTORY_FILES = {"log", "history.json", "history.csv"}
METRIC_PLOTS = {"loss.png", "error.png", "accuracy.png"}
MODEL_ARGS = {"loss": "cross_entropy", "layers": [{"n_out": 25, "activation": "relu"}], "lr": 0.01}
DATA_ARGS = {"name": "iris", "batch_size": 25}


def epoch_log(k, validate=True, params=("W0", "b0")):
    """The dict a model would push after epoch ``k`` (0-based), simple numbers."""
    log = {
        "loss": {"train": 1.0 / (k + 1), "validate": 1.5 / (k + 1) if validate else None},
        "error": {"train": 0.5 / (k + 2), "validate": 0.25 + 0.01 * k if validate else None},
        "params": {name: {"max": 1.0 + k + i, "min": -1.0 - k - i} for i, name in enumerate(params)},
    }
    if not validate:
        del log["loss"]["validate"]  # both spellings of "no validation set"
    return log


def expected_history(n, validate=True, params=("W0", "b0")):
    """The course-format history of ``n`` pushes of :func:`epoch_log`, by hand."""
    history = {
        "loss": {"train": [1.0 / (k + 1) for k in range(n)],
                 "validate": [1.5 / (k + 1) for k in range(n)] if validate else []},
        "error": {"train": [0.5 / (k + 2) for k in range(n)],
                  "validate": [0.25 + 0.01 * k for k in range(n)] if validate else []},
    }
    history["params"] = {name: {"max": [1.0 + k + i for k in range(n)], "min": [-1.0 - k - i for k in range(n)]}
                         for i, name in enumerate(params)}
    return history


def snapshot(folder):
    """name -> (bytes, mtime_ns) of every file in ``folder``."""
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(Path(folder).iterdir()) if path.is_file()}


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def assert_png(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, path
    assert image.std() > 0, f"{path} is blank"


@pytest.fixture
def drawn(monkeypatch):
    """file name -> the Figure saved into it, for every plot drawn."""
    figures, names = {}, []
    draw, savefig = Logger._draw, Figure.savefig

    def recording_draw(self, file_name, *args):
        names.append(file_name)
        return draw(self, file_name, *args)

    def recording_savefig(self, *args, **kwargs):
        figures[names[-1]] = self
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(Logger, "_draw", recording_draw)
    monkeypatch.setattr(Figure, "savefig", recording_savefig)
    return figures


# --------------------------------------------------------------------- files


def test_every_file_written_and_read_back(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    for k in range(3):
        logger.push(epoch_log(k))
    logger.close()
    run = tmp_path / "run"
    expected = expected_history(3)

    assert {path.name for path in run.iterdir()} == ARG_FILES | HISTORY_FILES | METRIC_PLOTS | {"W0.png", "b0.png"}
    with open(run / "model_args", "rb") as f:
        assert pickle.load(f) == MODEL_ARGS
    with open(run / "data_args", "rb") as f:
        assert pickle.load(f) == DATA_ARGS
    assert json.loads((run / "model_args.json").read_text()) == MODEL_ARGS
    assert json.loads((run / "data_args.json").read_text()) == DATA_ARGS

    with open(run / "log", "rb") as f:
        assert pickle.load(f) == expected
    assert logger.log == expected and logger.counter == 3
    assert load_log(run) == load_log(run / "log") == expected
    assert json.loads((run / "history.json").read_text()) == {"epoch": [1, 2, 3], **expected}

    rows = csv_rows(run / "history.csv")
    assert list(rows[0]) == ["epoch", "train_loss", "validate_loss", "train_error",
                             "validate_error", "train_accuracy", "validate_accuracy"]
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    for k, row in enumerate(rows):
        for metric in ("loss", "error"):
            for split in ("train", "validate"):
                assert float(row[f"{split}_{metric}"]) == expected[metric][split][k]
            assert float(row[f"{split}_accuracy"]) == pytest.approx(1 - expected["error"][split][k], abs=1e-15)
    for name in METRIC_PLOTS | {"W0.png", "b0.png"}:
        assert_png(run / name)


def test_history_written_by_the_first_push_then_once_a_second_and_by_close(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(logs.time, "monotonic", lambda: clock[0])
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    on_disk = []
    for k, seconds in enumerate([0.0, 0.5, 0.4, 0.2, 0.1]):
        clock[0] += seconds
        logger.push(epoch_log(k))
        on_disk.append(len(load_log(tmp_path / "run")["loss"]["train"]))
    assert on_disk == [1, 1, 1, 4, 4] and logger.written == 4  # 1 s after the first writing
    assert not any(tmp_path.glob("run/*.png"))
    logger.close()
    assert load_log(tmp_path / "run") == expected_history(5) and logger.written == 5
    assert json.loads((tmp_path / "run" / "history.json").read_text())["epoch"] == [1, 2, 3, 4, 5]
    assert_png(tmp_path / "run" / "loss.png")
    logger.push(epoch_log(5))  # pushing after close goes on
    logger.close()
    assert load_log(tmp_path / "run") == expected_history(6)


def test_a_long_run_redraws_its_plots_every_plot_seconds(tmp_path, monkeypatch, drawn):
    clock = [100.0]
    monkeypatch.setattr(logs.time, "monotonic", lambda: clock[0])
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    plotted = []  # the epochs in loss.png after each push
    for k, seconds in enumerate([10, 10, 10, 10, 25, 10]):
        clock[0] += seconds
        logger.push(epoch_log(k))
        plotted.append(len(drawn["loss.png"].axes[0].lines[0].get_xdata()) if "loss.png" in drawn else 0)
    assert logs.PLOT_SECONDS == 30 and plotted == [0, 0, 3, 3, 5, 5]
    assert {"W0.png", "b0.png", "error.png", "accuracy.png"} <= set(drawn)


def test_plot_alone_writes_the_plots_and_nothing_else(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    for k in range(2):
        logger.push(epoch_log(k, params=("W0", "b0", "W1")))
    logger.close()
    assert {path.name for path in (tmp_path / "run").iterdir()} == METRIC_PLOTS | {"W0.png", "b0.png", "W1.png"}


def test_no_validation_set_and_no_params(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    logger.push({"loss": {"train": 1.0}, "error": {"train": 0.5}})
    logger.push(epoch_log(1, validate=False, params=()))
    logger.close()
    assert load_log(tmp_path / "run") == {"loss": {"train": [1.0, 0.5], "validate": []},
                                          "error": {"train": [0.5, 0.5 / 3], "validate": []}, "params": {}}
    for row in csv_rows(tmp_path / "run" / "history.csv"):
        assert row["validate_loss"] == row["validate_error"] == row["validate_accuracy"] == ""
        assert row["train_loss"] != ""


def test_numpy_numbers_are_stored_as_floats(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    log = epoch_log(0)
    log["loss"]["train"] = np.float32(0.5)
    log["params"]["W0"]["max"] = 3  # an int is a number too
    logger.push(log)
    saved = load_log(tmp_path / "run")
    assert saved["loss"]["train"] == [0.5] and type(saved["loss"]["train"][0]) is float
    assert type(saved["params"]["W0"]["max"][0]) is float


def test_args_json_copy_accepts_any_value(tmp_path):
    model_args = {"activation": print, "shape": (2, 3), "lr": np.float64(0.1), 1: "int key"}
    Logger("run", model_args, None, save=True, save_dir=tmp_path)
    copy = json.loads((tmp_path / "run" / "model_args.json").read_text())
    assert copy == {"activation": repr(print), "shape": [2, 3], "lr": 0.1, "1": "int key"}
    assert json.loads((tmp_path / "run" / "data_args.json").read_text()) is None


def test_unpicklable_args_rejected_before_writing(tmp_path):
    with pytest.raises(TypeError, match=r"Logger: model_args cannot be saved"):
        Logger("run", {"f": lambda x: x}, DATA_ARGS, save=True, save_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_nested_directories_created(tmp_path):
    save_dir = tmp_path / "a" / "b" / "c"
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=str(save_dir))
    logger.push(epoch_log(0))
    assert (save_dir / "run" / "log").is_file()
    assert logger.save_dir == logger.run_dir == save_dir / "run"


def test_nothing_written_when_save_and_plot_are_off(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save_dir=tmp_path / "experiments")
    for k in range(3):
        logger.push(epoch_log(k))
    logger.close()
    assert logger.log == expected_history(3)
    assert logger.run_dir is None
    assert list(tmp_path.iterdir()) == []


def test_plot_intact_when_savefig_fails_halfway(tmp_path, monkeypatch):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    logger.close()
    before = snapshot(tmp_path / "run")

    def broken_savefig(self, f, *args, **kwargs):
        f.write(PNG_SIGNATURE + b"\0" * 100)
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    logger.push(epoch_log(1))
    with pytest.raises(RuntimeError, match="renderer crashed"):
        logger.close()
    assert snapshot(tmp_path / "run") == before  # no half file, no temporary file


# ------------------------------------------------- earlier runs and overwrite


def test_second_logger_refuses_and_touches_nothing(tmp_path):
    first = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    first.push(epoch_log(0))
    before = snapshot(tmp_path / "run")
    for save, plot in ((True, False), (False, True), (True, True)):
        with pytest.raises(FileExistsError) as info:
            Logger("run", {"other": 1}, DATA_ARGS, save=save, plot=plot, save_dir=tmp_path)
        message = str(info.value)
        assert str(tmp_path / "run") in message and "(model_args, data_args" in message
        assert "overwrite=True" in message and "--overwrite" in message
    assert snapshot(tmp_path / "run") == before


def test_folder_of_a_start_that_failed_is_not_an_earlier_run(tmp_path):
    # A run that stopped before its first epoch leaves only its arguments: a
    # second start (the fixed run) replaces them without overwrite=True.
    Logger("run", {"old": True}, DATA_ARGS, save=True, save_dir=tmp_path)
    (tmp_path / "run" / "notes.txt").write_text("mine")
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    with open(tmp_path / "run" / "model_args", "rb") as f:
        assert pickle.load(f) == MODEL_ARGS
    logger.push(epoch_log(0))
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    with pytest.raises(FileExistsError):  # one finished epoch makes it an earlier run
        Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)


def earlier_run(tmp_path):
    """A run of 3 epochs with plots, a checkpoint and predictions, plus files of the user's."""
    old = Logger("run", {"old": True}, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    for k in range(3):
        old.push(epoch_log(k, params=("W0", "b0", "W5")))
    old.close()
    run = tmp_path / "run"
    for name in ("checkpoint.npz", "predictions.csv", "kaggle_predictions.csv", "parameters_epoch3.npz",
                 "notes.txt", "parameters_epoch2", "figure.png"):
        (run / name).write_bytes(name.encode())
    return run


def test_overwrite_keeps_the_earlier_run_until_the_first_push_then_replaces_only_its_files(tmp_path):
    run = earlier_run(tmp_path)
    before = snapshot(run)
    new = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path, overwrite=True)
    assert new.run_dir is None  # the model writes nothing either
    assert snapshot(run) == before

    new.push(epoch_log(0))
    assert new.run_dir == run
    with open(run / "model_args", "rb") as f:
        assert pickle.load(f) == MODEL_ARGS
    assert load_log(run) == expected_history(1)
    # The earlier run's parameter plots go too (W5.png, of a layer the new run may not have);
    # files it did not write stay.
    assert {path.name for path in run.iterdir()} == ARG_FILES | HISTORY_FILES | {
        "notes.txt", "parameters_epoch2", "figure.png"}
    for name in ("notes.txt", "parameters_epoch2", "figure.png"):
        assert (run / name).read_bytes() == before[name][0]
    new.close()
    assert (run / "W0.png").read_bytes() != before["W0.png"][0]  # redrawn
    assert not (run / "W5.png").exists()


def test_overwrite_that_never_finishes_an_epoch_leaves_the_earlier_run(tmp_path):
    run = earlier_run(tmp_path)
    before = snapshot(run)
    new = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path, overwrite=True)
    new.close()
    assert new.discard_unfinished() is True
    assert new.discard_unfinished() is False
    new.push(epoch_log(0))  # after discarding, nothing is written
    new.close()
    assert snapshot(run) == before


def test_resume_appends_to_the_saved_history_and_truncate_cuts_it(tmp_path):
    first = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    first.push_baseline({"loss": {"train": 2.0}, "error": {"train": 0.5}})
    for k in range(3):
        first.push(epoch_log(k))
    first.close()
    args = snapshot(tmp_path / "run")["model_args"]
    resumed = Logger("run", {"other": 1}, DATA_ARGS, save=True, save_dir=tmp_path, resume=True)
    assert resumed.counter == 3 and resumed.log["baseline"]["loss"] == {"train": 2.0}
    resumed.truncate(2)
    assert load_log(tmp_path / "run") == {**expected_history(2), "baseline": resumed.log["baseline"]}
    resumed.push(epoch_log(2))
    resumed.close()
    assert load_log(tmp_path / "run")["loss"] == expected_history(3)["loss"]
    assert snapshot(tmp_path / "run")["model_args"] == args  # the run's arguments stay


# ------------------------------------------------------- loading and arguments


def test_load_log_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_log: no Logger history"):
        load_log(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"'log' file"):
        load_log(tmp_path / "empty")
    with pytest.raises(TypeError, match=r"load_log: run_dir"):
        load_log(3)

    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    log = tmp_path / "run" / "log"
    good = log.read_bytes()
    for content, message in [
        (good[: len(good) // 2], r"corrupt or truncated"),
        (pickle.dumps([1.0, 2.0]), r"does not hold a Logger history"),
        (pickle.dumps(Path("x")), r"pathlib.*not allowed"),  # it would call a function when loaded
    ]:
        log.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            load_log(tmp_path / "run")


def test_load_log_accepts_numpy_floats_from_course_logs(tmp_path):
    history = {"loss": {"train": [np.float64(0.5)], "validate": []},
               "error": {"train": [np.float64(0.1)], "validate": []}}
    (tmp_path / "log").write_bytes(pickle.dumps(history))
    assert load_log(tmp_path) == history


@pytest.mark.parametrize("kwargs, error, text", [
    ({"model_name": ""}, ValueError, "model_name"),
    ({"model_name": "   "}, ValueError, "model_name"),
    ({"model_name": "a/b"}, ValueError, "'a/b'"),
    ({"model_name": "a\\b"}, ValueError, "model_name"),
    ({"model_name": "."}, ValueError, "model_name"),
    ({"model_name": ".."}, ValueError, "'..'"),
    ({"model_name": 7}, TypeError, "model_name must be a str; got 7 (int)"),
    ({"save": "yes"}, TypeError, "save must be True or False; got 'yes'"),
    ({"plot": 1}, TypeError, "plot must be True or False; got 1"),
    ({"overwrite": None}, TypeError, "overwrite"),
    ({"resume": "yes"}, TypeError, "resume must be True or False; got 'yes'"),
    ({"overwrite": True, "resume": True}, ValueError, "overwrite and resume cannot both be True"),
    ({"save_dir": 3}, TypeError, "save_dir must be a str or os.PathLike; got 3"),
    ({"save_dir": None}, TypeError, "save_dir"),
])
def test_constructor_validates_arguments(tmp_path, kwargs, error, text):
    arguments = {"model_name": "run", "model_args": MODEL_ARGS, "data_args": DATA_ARGS,
                 "save": True, "save_dir": tmp_path, **kwargs}
    with pytest.raises(error) as info:
        Logger(**arguments)
    assert str(info.value).startswith("Logger:")
    assert text in str(info.value)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ plotting


def test_using_the_logger_leaves_pyplot_and_the_backend_alone(tmp_path):
    # In a fresh interpreter: plotting must not import pyplot (which would pick
    # or change the user's backend).
    code = (
        "import sys\n"
        "from neural_networks.logs import Logger\n"
        "assert 'matplotlib' not in sys.modules, 'importing logs loaded matplotlib'\n"
        f"logger = Logger('run', {{}}, {{}}, plot=True, save_dir={str(tmp_path)!r})\n"
        "logger.push({'loss': {'train': 1.0}, 'error': {'train': 0.5}})\n"
        "logger.close()\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'plotting imported pyplot'\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert_png(tmp_path / "run" / "loss.png")


def test_l2_error_is_called_mse_and_has_no_accuracy(tmp_path, drawn):
    logger = Logger("run", {"loss": "l2"}, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    for k in range(2):
        logger.push(epoch_log(k))
    logger.close()
    rows = csv_rows(tmp_path / "run" / "history.csv")
    assert list(rows[0]) == ["epoch", "train_loss", "validate_loss", "train_mse", "validate_mse"]
    assert [float(row["train_mse"]) for row in rows] == [0.5 / 2, 0.5 / 3]
    assert not (tmp_path / "run" / "accuracy.png").exists()
    for file_name, text in (("loss.png", "L2 loss"), ("error.png", "mse (mean squared error)")):
        ax = drawn[file_name].axes[0]
        assert ax.get_title() == ax.get_ylabel() == text


LONG_NAME = "feed_forward_2layers_25-lr0.01_mom0.9_seed0"


@pytest.mark.parametrize("name", [LONG_NAME, "cnn_" + "32-64-" * 20 + "lr0.001_seed0", "x" * 200])
def test_every_text_of_every_plot_fits_in_the_figure(tmp_path, drawn, name):
    logger = Logger(name, MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push(epoch_log(0, params=("W0", "b0", "W1")))
    logger.close()
    assert set(drawn) == METRIC_PLOTS | {"W0.png", "b0.png", "W1.png"}
    for file_name, fig in drawn.items():
        ax = fig.axes[0]
        renderer = FigureCanvasAgg(fig).get_renderer()
        assert fig._suptitle.get_text().replace("\n", "") == name, file_name  # wrapped, nothing lost
        for text in [fig._suptitle, ax.title, ax.xaxis.label, ax.yaxis.label]:
            box = text.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= fig.bbox.width, (file_name, text.get_text())
            assert 0 <= box.y0 and box.y1 <= fig.bbox.height, (file_name, text.get_text())


@pytest.mark.parametrize("n_epochs", [1, 2, 3, 7, 25])
def test_epoch_ticks_are_whole_numbers(tmp_path, drawn, n_epochs):
    # One epoch used to get the ticks 0.945 ... 1.050.
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    for k in range(n_epochs):
        logger.push(epoch_log(k))
    logger.close()
    for file_name, fig in drawn.items():
        ax = fig.axes[0]
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert ticks and all(float(t).is_integer() for t in ticks), (file_name, ticks)
        assert low < 1 and n_epochs < high  # every epoch's point is inside the plot


def test_baseline_is_epoch_zero_of_the_files_and_written_with_the_first_epoch(tmp_path, drawn):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    run = tmp_path / "run"
    baseline = {"loss": {"train": 2.5, "validate": 2.75}, "error": {"train": 0.75, "validate": 0.8}}
    logger.push_baseline(baseline)
    assert not any((run / name).exists() for name in HISTORY_FILES)  # it waits for epoch 1
    for k in range(2):
        logger.push(epoch_log(k))
    logger.close()
    expected = {**expected_history(2), "baseline": baseline}
    assert load_log(run) == expected
    assert json.loads((run / "history.json").read_text())["baseline"] == baseline
    rows = csv_rows(run / "history.csv")
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["train_loss"] == "2.5" and rows[0]["validate_error"] == "0.8"
    assert float(rows[0]["validate_accuracy"]) == pytest.approx(0.2)
    assert [float(r["train_loss"]) for r in rows[1:]] == expected["loss"]["train"]
    train_line = drawn["loss.png"].axes[0].get_lines()[0]
    assert list(train_line.get_xdata()) == [0, 1, 2]
    assert list(train_line.get_ydata()) == [2.5] + expected["loss"]["train"]
    assert drawn["W0.png"].axes[0].get_xlim() == drawn["loss.png"].axes[0].get_xlim() == (-0.5, 2.5)
    assert list(drawn["W0.png"].axes[0].get_lines()[0].get_xdata()) == [0, 1, 2]  # epoch 0 without a point
    for file_name, text in (("loss.png", "cross-entropy loss"), ("error.png", "error (1 - accuracy)")):
        assert drawn[file_name].axes[0].get_title() == drawn[file_name].axes[0].get_ylabel() == text


@pytest.mark.parametrize("untrained, clipped", [(495.8, True), (0.5, False)])
def test_an_untrained_loss_far_off_does_not_flatten_the_curve(tmp_path, drawn, untrained, clipped):
    # A loss of 495.8 at epoch 0 made the trained epochs (1.0 ... 0.1) one flat line.
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push_baseline({"loss": {"train": untrained, "validate": None}, "error": {"train": 0.9}})
    for k in range(10):
        logger.push({"loss": {"train": 1 / (k + 1)}, "error": {"train": 0.5 / (k + 1)}})
    logger.close()
    ax = drawn["loss.png"].axes[0]
    low, high = ax.get_ylim()
    assert low < 0.1 and 1.0 < high < 3  # every trained epoch inside, on most of the height
    assert (untrained > high) == clipped
    label = ax.get_legend().get_texts()[0].get_text()
    assert label == ("train (epoch 0: 495.8, off the scale)" if clipped else "train")


def test_plots_are_saved_at_150_dpi(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    logger.close()
    header = (tmp_path / "run" / "loss.png").read_bytes()
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert (width, height) == (6 * 150, 4 * 150)  # a 6 x 4 inch figure


def test_baseline_without_a_validation_split_leaves_that_cell_empty(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    logger.push_baseline({"loss": {"train": 2.0, "validate": None}, "error": {"train": 0.5}})
    logger.push(epoch_log(0, validate=False))
    logger.close()
    rows = csv_rows(tmp_path / "run" / "history.csv")
    assert rows[0]["epoch"] == "0" and rows[0]["train_loss"] == "2.0"
    assert rows[0]["validate_loss"] == rows[1]["validate_loss"] == ""
