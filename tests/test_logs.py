"""Tests for neural_networks.logs.

Every promised file is read back and compared with hand-built expectations;
plots are checked to be real PNGs; runs are protected from being overwritten;
bad pushes are refused before anything changes; writes are atomic when they
fail halfway; and arguments are validated.
"""

import csv
import gc
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
MODEL_ARGS = {"loss": "cross_entropy", "layers": [{"n_out": 25, "activation": "relu"}],
              "lr": 0.01}
DATA_ARGS = {"name": "iris", "batch_size": 25}


def epoch_log(k, validate=True, params=("W0", "b0")):
    """The dict a model would push after epoch ``k`` (0-based), simple numbers."""
    log = {
        "loss": {"train": 1.0 / (k + 1), "validate": 1.5 / (k + 1) if validate else None},
        "error": {"train": 0.5 / (k + 2), "validate": 0.25 + 0.01 * k if validate else None},
        "params": {name: {"max": 1.0 + k + i, "min": -1.0 - k - i}
                   for i, name in enumerate(params)},
    }
    if not validate:
        del log["loss"]["validate"]  # both spellings of "no validation set"
    return log


def expected_history(n, validate=True, params=("W0", "b0")):
    """The course-format history of ``n`` pushes of :func:`epoch_log`."""
    pushed = [epoch_log(k, validate, params) for k in range(n)]
    history = {
        metric: {
            "train": [p[metric]["train"] for p in pushed],
            "validate": [p[metric]["validate"] for p in pushed] if validate else [],
        }
        for metric in ("loss", "error")
    }
    history["params"] = {
        name: {"max": [p["params"][name]["max"] for p in pushed],
               "min": [p["params"][name]["min"] for p in pushed]}
        for name in params
    }
    return history


def snapshot(folder):
    """name -> (bytes, mtime_ns) of every file in ``folder`` (sub-folders left out)."""
    return {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(Path(folder).iterdir()) if path.is_file()
    }


def temp_files(folder):
    return [path.name for path in Path(folder).iterdir() if path.name.endswith(".tmp")]


# --------------------------------------------------------------------- files


def test_every_file_written_and_read_back(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True,
                    save_dir=tmp_path)
    for k in range(3):
        logger.push(epoch_log(k))
    run = tmp_path / "run"
    expected = expected_history(3)

    names = {path.name for path in run.iterdir()}
    assert names == ARG_FILES | HISTORY_FILES | METRIC_PLOTS | {"W0.png", "b0.png"}

    with open(run / "model_args", "rb") as f:
        assert pickle.load(f) == MODEL_ARGS
    with open(run / "data_args", "rb") as f:
        assert pickle.load(f) == DATA_ARGS
    assert json.loads((run / "model_args.json").read_text()) == MODEL_ARGS
    assert json.loads((run / "data_args.json").read_text()) == DATA_ARGS

    with open(run / "log", "rb") as f:
        assert pickle.load(f) == expected
    assert logger.log == expected
    assert logger.counter == 3
    assert load_log(run) == expected
    assert load_log(run / "log") == expected

    history = json.loads((run / "history.json").read_text())
    assert history == {"epoch": [1, 2, 3], **expected}

    with open(run / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "train_loss", "validate_loss", "train_error",
                             "validate_error", "train_accuracy", "validate_accuracy"]
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    for k, row in enumerate(rows):
        for metric in ("loss", "error"):
            for split in ("train", "validate"):
                assert float(row[f"{split}_{metric}"]) == expected[metric][split][k]
        for split in ("train", "validate"):
            assert float(row[f"{split}_accuracy"]) == pytest.approx(
                1.0 - expected["error"][split][k], abs=1e-15
            )


def test_history_rewritten_after_every_push(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    for k in range(4):
        logger.push(epoch_log(k))
        assert load_log(tmp_path / "run") == expected_history(k + 1)
        history = json.loads((tmp_path / "run" / "history.json").read_text())
        assert history["epoch"] == list(range(1, k + 2))


def test_plots_are_valid_pngs(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    for k in range(2):
        logger.push(epoch_log(k, params=("W0", "b0", "W1")))
    run = tmp_path / "run"
    # plot alone writes the plots and nothing else
    assert {path.name for path in run.iterdir()} == METRIC_PLOTS | {"W0.png", "b0.png",
                                                                    "W1.png"}
    for name in METRIC_PLOTS | {"W0.png", "b0.png", "W1.png"}:
        data = (run / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE, name
        image = imread(run / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert image.std() > 0, f"{name} is blank"


def test_no_validation_set(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    for k in range(2):
        logger.push(epoch_log(k, validate=False, params=()))
    expected = expected_history(2, validate=False, params=())
    assert logger.log == expected
    assert expected["loss"]["validate"] == [] and expected["params"] == {}
    assert load_log(tmp_path / "run") == expected
    with open(tmp_path / "run" / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for row in rows:
        assert row["validate_loss"] == row["validate_error"] == ""
        assert row["validate_accuracy"] == ""
        assert row["train_loss"] != ""


def test_params_may_be_missing(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS)
    logger.push({"loss": {"train": 1.0}, "error": {"train": 0.5}})
    assert logger.log == {"loss": {"train": [1.0], "validate": []},
                          "error": {"train": [0.5], "validate": []}, "params": {}}


def test_numpy_numbers_are_stored_as_floats(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    log = epoch_log(0)
    log["loss"]["train"] = np.float32(0.5)
    log["error"]["train"] = np.float64(0.25)
    log["params"]["W0"]["max"] = 3  # an int is a real number too
    logger.push(log)
    saved = load_log(tmp_path / "run")
    assert saved["loss"]["train"] == [0.5] and saved["error"]["train"] == [0.25]
    assert type(saved["loss"]["train"][0]) is float
    assert type(saved["params"]["W0"]["max"][0]) is float


def test_args_json_copy_accepts_any_value(tmp_path):
    model_args = {"activation": print, "shape": (2, 3), "lr": np.float64(0.1),
                  "w": np.zeros(2), "path": Path("a"), 1: "int key", "x": float("nan")}
    Logger("run", model_args, None, save=True, save_dir=tmp_path)
    copy = json.loads((tmp_path / "run" / "model_args.json").read_text())
    assert copy["activation"] == repr(print)
    assert copy["shape"] == [2, 3] and copy["lr"] == 0.1 and copy["w"] == [0.0, 0.0]
    assert copy["path"] == "a" and copy["1"] == "int key" and copy["x"] == "nan"
    assert json.loads((tmp_path / "run" / "data_args.json").read_text()) is None


def test_unpicklable_args_rejected_before_writing(tmp_path):
    with pytest.raises(TypeError, match=r"Logger: model_args cannot be pickled"):
        Logger("run", {"f": lambda x: x}, DATA_ARGS, save=True, save_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_nested_directories_created(tmp_path):
    save_dir = tmp_path / "a" / "b" / "c"
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=str(save_dir))
    logger.push(epoch_log(0))
    assert (save_dir / "run" / "log").is_file()
    assert logger.save_dir == save_dir / "run"


def test_nothing_written_when_save_and_plot_are_off(tmp_path):
    save_dir = tmp_path / "experiments"
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save_dir=save_dir)
    for k in range(3):
        logger.push(epoch_log(k))
    assert logger.log == expected_history(3)
    assert not save_dir.exists()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ no overwriting


def test_second_logger_refuses_and_touches_nothing(tmp_path):
    first = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    first.push(epoch_log(0))
    before = snapshot(tmp_path / "run")

    for save, plot in ((True, False), (False, True), (True, True)):
        with pytest.raises(FileExistsError) as info:
            Logger("run", {"other": 1}, DATA_ARGS, save=save, plot=plot,
                   save_dir=tmp_path)
        message = str(info.value)
        assert str(tmp_path / "run") in message
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
    assert load_log(tmp_path / "run") == expected_history(1)
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    # One finished epoch makes it an earlier run.
    with pytest.raises(FileExistsError):
        Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)


def test_folder_without_logger_files_is_fine(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


def test_overwrite_replaces_only_logger_files(tmp_path):
    old = Logger("run", {"old": True}, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    for k in range(3):
        old.push(epoch_log(k, params=("W0", "b0", "W5")))
    (tmp_path / "run" / "notes.txt").write_text("keep me")
    (tmp_path / "run" / "parameters_epoch2").write_bytes(b"model's own file")

    run = tmp_path / "run"
    before = snapshot(run)
    new = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path,
                 overwrite=True)
    # Until the new run has finished an epoch it is written aside and the
    # earlier run stays as it was.
    assert new.save_dir == run / ".new_run"
    with open(run / ".new_run" / "model_args", "rb") as f:
        assert pickle.load(f) == MODEL_ARGS
    assert snapshot(run) == before
    new.push(epoch_log(0))
    assert new.save_dir == run
    assert not (run / ".new_run").exists()
    with open(run / "model_args", "rb") as f:
        assert pickle.load(f) == MODEL_ARGS

    assert load_log(run) == expected_history(1)
    assert (run / "notes.txt").read_text() == "keep me"
    assert (run / "parameters_epoch2").read_bytes() == b"model's own file"
    assert {path.name for path in run.iterdir()} == (
        ARG_FILES | HISTORY_FILES | METRIC_PLOTS
        | {"W0.png", "b0.png", "notes.txt", "parameters_epoch2"}
    )


# ---------------------------------------------------------------- bad pushes


def _with(path, value):
    """A copy of ``epoch_log(5)`` with the entry at ``path`` set (or deleted)."""
    log = epoch_log(5)
    target = log
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return log


_DELETE = object()

BAD_PUSHES = [
    # (log, exception, text the message must contain)
    ("not a dict", TypeError, "log must be a dict"),
    (_with(("loss",), _DELETE), ValueError, "log is missing the key 'loss'"),
    (_with(("error", "train"), _DELETE), ValueError,
     "log['error'] is missing the key 'train'"),
    (_with(("loss", "train"), "0.5"), TypeError, "log['loss']['train'] must be a real"),
    (_with(("loss", "train"), True), TypeError, "log['loss']['train']"),
    (_with(("loss", "train"), [0.5]), TypeError, "log['loss']['train']"),
    (_with(("loss", "validate"), float("nan")), ValueError,
     "log['loss']['validate'] is nan"),
    (_with(("error", "train"), float("inf")), ValueError, "log['error']['train'] is inf"),
    (_with(("params", "W0", "min"), np.float64("-inf")), ValueError,
     "log['params']['W0']['min'] is -inf"),
    (_with(("params", "W0", "max"), _DELETE), ValueError,
     "log['params']['W0'] is missing the key 'max'"),
    (_with(("params", "W0", "max"), -100.0), ValueError, "is smaller than"),
    (_with(("params", "b0"), 0.3), TypeError, "log['params']['b0'] must be a dict"),
    (_with(("loss",), [1.0, 2.0]), TypeError, "log['loss'] must be a dict"),
    (_with(("accuracy",), {"train": 0.9}), ValueError, "unexpected key 'accuracy'"),
    (_with(("loss", "valid"), 0.3), ValueError, "unexpected key 'valid'"),
    (_with(("params", "loss"), {"max": 1.0, "min": 0.0}), ValueError, "'loss'"),
    (_with(("params", "../W0"), {"max": 1.0, "min": 0.0}), ValueError, "'../W0'"),
    # the layout must match the first push
    (_with(("params", "W9"), {"max": 1.0, "min": 0.0}), ValueError, "same entries"),
    (_with(("loss", "validate"), None), ValueError, "same entries"),
]


@pytest.mark.parametrize("bad, error, text", BAD_PUSHES)
def test_bad_push_changes_nothing(tmp_path, bad, error, text):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    before = snapshot(tmp_path / "run")

    with pytest.raises(error) as info:
        logger.push(bad)
    message = str(info.value)
    assert message.startswith("Logger.push"), message
    assert text in message, message

    assert snapshot(tmp_path / "run") == before
    assert logger.log == expected_history(1)
    assert logger.counter == 1
    logger.push(epoch_log(1))  # and the logger still works
    assert load_log(tmp_path / "run") == expected_history(2)


def test_non_finite_refused_on_first_push_too(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    with pytest.raises(ValueError, match=r"not recorded"):
        logger.push(_with(("loss", "train"), float("nan")))
    assert not (tmp_path / "run" / "log").exists()
    assert logger.counter == 0 and logger.log["loss"]["train"] == []


def test_bad_push_does_not_redraw_plots(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    before = snapshot(tmp_path / "run")
    with pytest.raises(TypeError):
        logger.push(_with(("error", "validate"), "oops"))
    assert snapshot(tmp_path / "run") == before


# ----------------------------------------------------------------- atomicity


def test_log_intact_when_pickle_dump_fails_halfway(tmp_path, monkeypatch):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    run = tmp_path / "run"
    before = (run / "log").read_bytes()

    def broken_dump(obj, f, *args, **kwargs):
        f.write(pickle.dumps(obj)[:10])  # half a pickle, then the crash
        raise OSError("disk full")

    monkeypatch.setattr(logs.pickle, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        logger.push(epoch_log(1))
    assert (run / "log").read_bytes() == before
    assert load_log(run) == expected_history(1)
    assert temp_files(run) == []

    monkeypatch.undo()
    logger.push(epoch_log(2))  # the next push catches the files up
    assert load_log(run)["loss"]["train"] == [epoch_log(k)["loss"]["train"]
                                              for k in range(3)]


def test_plot_intact_when_savefig_fails_halfway(tmp_path, monkeypatch):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path, plot_interval=0)
    logger.push(epoch_log(0))
    run = tmp_path / "run"
    before = snapshot(run)

    def broken_savefig(self, f, *args, **kwargs):
        f.write(PNG_SIGNATURE + b"\0" * 100)
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        logger.push(epoch_log(1))
    assert snapshot(run) == before
    assert temp_files(run) == []
    imread(run / "loss.png")


def test_json_intact_when_writing_fails(tmp_path, monkeypatch):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    run = tmp_path / "run"
    before = (run / "history.json").read_bytes()

    def broken_dumps(*args, **kwargs):
        raise OSError("no space")

    monkeypatch.setattr(logs.json, "dumps", broken_dumps)
    with pytest.raises(OSError):
        logger.push(epoch_log(1))
    assert (run / "history.json").read_bytes() == before
    assert temp_files(run) == []


# ------------------------------------------------------------------- loading


def test_load_log_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_log: no Logger history"):
        load_log(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"'log' file"):
        load_log(tmp_path / "empty")

    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    logger.push(epoch_log(0))
    good = (tmp_path / "run" / "log").read_bytes()

    (tmp_path / "run" / "log").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"corrupt or truncated"):
        load_log(tmp_path / "run")

    (tmp_path / "run" / "log").write_bytes(pickle.dumps([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"does not hold a Logger history"):
        load_log(tmp_path / "run")

    # a pickle that would call a function when loaded is refused
    (tmp_path / "run" / "log").write_bytes(pickle.dumps(Path("x")))
    with pytest.raises(ValueError, match=r"refusing to load"):
        load_log(tmp_path / "run")

    with pytest.raises(TypeError, match=r"load_log: run_dir"):
        load_log(3)


def test_load_log_accepts_numpy_floats_from_course_logs(tmp_path):
    history = {"loss": {"train": [np.float64(0.5)], "validate": []},
               "error": {"train": [np.float64(0.1)], "validate": []}}
    (tmp_path / "log").write_bytes(pickle.dumps(history))
    assert load_log(tmp_path) == history


# --------------------------------------------------------------- constructor


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
    ({"save_dir": 3}, TypeError, "save_dir must be a str or os.PathLike; got 3"),
    ({"save_dir": None}, TypeError, "save_dir"),
])
def test_constructor_validates_arguments(tmp_path, kwargs, error, text):
    arguments = {"model_name": "run", "model_args": MODEL_ARGS, "data_args": DATA_ARGS,
                 "save": True, "save_dir": tmp_path}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        Logger(**arguments)
    assert str(info.value).startswith("Logger:")
    assert text in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_repr(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save_dir=tmp_path / "exp")
    logger.push(epoch_log(0))
    text = repr(logger)
    assert text.startswith("Logger(model_name='run'")
    assert "save=False" in text and "plot=False" in text and "epochs=1" in text
    assert repr(str(tmp_path / "exp")) in text


# ------------------------------------------------------------------ plotting


def test_figures_do_not_accumulate(tmp_path):
    def live_figures():
        gc.collect()
        return sum(isinstance(obj, Figure) for obj in gc.get_objects())

    before = live_figures()
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push(epoch_log(0, params=("W0",)))
    after_one = live_figures()
    assert after_one - before <= 4  # loss, error, accuracy, W0
    for k in range(1, 6):
        logger.push(epoch_log(k, params=("W0",)))
    assert live_figures() == after_one
    logger.close()
    assert live_figures() == before


def test_logger_can_be_pickled_while_plotting(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push(epoch_log(0, params=()))
    copy = pickle.loads(pickle.dumps(logger))
    assert copy.log == logger.log and copy.counter == 1


def test_using_the_logger_leaves_pyplot_and_the_backend_alone(tmp_path):
    # In a fresh interpreter: plotting must not import pyplot (which would pick
    # or change the user's backend).
    code = (
        "import sys\n"
        "from neural_networks.logs import Logger\n"
        "assert 'matplotlib' not in sys.modules, 'importing logs loaded matplotlib'\n"
        f"logger = Logger('run', {{}}, {{}}, plot=True, save_dir={str(tmp_path)!r})\n"
        "logger.push({'loss': {'train': 1.0}, 'error': {'train': 0.5}})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'plotting imported pyplot'\n"
    )
    root = Path(__file__).resolve().parents[1]
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, env=env, cwd=root, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "loss.png").read_bytes()[:8] == PNG_SIGNATURE


def test_plots_are_throttled_and_flush_draws_the_rest(tmp_path, monkeypatch):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path,
                    plot_interval=3600)
    drawn = []
    original = Logger._draw_plots

    def counting_draw(self):
        drawn.append(self.counter)
        original(self)

    monkeypatch.setattr(Logger, "_draw_plots", counting_draw)
    for k in range(5):
        logger.push(epoch_log(k))
    assert drawn == [1]  # the first push draws, the next four wait for the interval
    logger.flush()
    assert drawn == [1, 5]
    logger.flush()  # nothing new: no redraw
    assert drawn == [1, 5]


def test_resume_appends_to_the_saved_history_and_truncate_cuts_it(tmp_path):
    first = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    for k in range(3):
        first.push(epoch_log(k))
    with pytest.raises(FileExistsError):
        Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    resumed = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path, resume=True)
    assert resumed.counter == 3
    resumed.truncate(2)
    assert load_log(tmp_path / "run") == expected_history(2)
    resumed.push(epoch_log(2))
    assert load_log(tmp_path / "run") == expected_history(3)


def test_resume_without_an_earlier_run_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match="overwrite and resume"):
        Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path, resume=True,
               overwrite=True)


# ------------------------------------------------ overwriting keeps the old run


def test_overwrite_that_never_finishes_an_epoch_leaves_the_earlier_run(tmp_path):
    old = Logger("run", {"old": True}, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    for k in range(2):
        old.push(epoch_log(k))
    run = tmp_path / "run"
    (run / "checkpoint.npz").write_bytes(b"the model's checkpoint")
    before = snapshot(run)

    new = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path,
                 overwrite=True)
    # The model writes its files where the Logger writes (e.g. an untrained test).
    (new.save_dir / "predictions.csv").write_text("index\n")
    assert new.discard_unfinished() is True
    assert snapshot(run) == before
    assert not (run / ".new_run").exists()
    assert new.discard_unfinished() is False
    assert load_log(run) == {**expected_history(2)}


def test_stale_new_run_folder_of_a_killed_run_is_cleared(tmp_path):
    old = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path)
    old.push(epoch_log(0))
    stale = tmp_path / "run" / ".new_run"
    stale.mkdir()
    (stale / "log").write_bytes(b"half a run")
    new = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, save_dir=tmp_path, overwrite=True)
    assert sorted(p.name for p in stale.iterdir()) == sorted(ARG_FILES)
    new.push(epoch_log(0))
    assert not stale.exists()


# ------------------------------------------------------------- the L2 loss


def test_l2_error_is_called_mse_and_has_no_accuracy(tmp_path):
    logger = Logger("run", {"loss": "l2"}, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    for k in range(2):
        logger.push(epoch_log(k))
    run = tmp_path / "run"
    with open(run / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "train_loss", "validate_loss", "train_mse", "validate_mse"]
    assert [float(row["train_mse"]) for row in rows] == [0.5 / 2, 0.5 / 3]
    assert not (run / "accuracy.png").exists()
    assert_png_file(run / "error.png")
    _, ax, _ = logger._figures["error.png"]
    assert "mse" in ax.get_title() and ax.get_ylabel() == "mse"
    assert "accuracy.png" not in logger._figures


def assert_png_file(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


# ------------------------------------------------------- titles and ticks

LONG_NAME = "feed_forward_2layers_25-lr0.01_mom0.9_seed0"


@pytest.mark.parametrize("name", [LONG_NAME, "cnn_" + "32-64-" * 20 + "lr0.001_seed0", "x" * 200])
def test_every_text_of_every_plot_fits_in_the_figure(tmp_path, name):
    # The parameter plots' titles used to run off the right edge:
    # "feed_forward_2layers_25-lr0.01_mom0.9_seed0: W0 (max and m".
    logger = Logger(name, MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path)
    logger.push(epoch_log(0, params=("W0", "b0", "W1")))
    assert set(logger._figures) == METRIC_PLOTS | {"W0.png", "b0.png", "W1.png"}
    for file_name, (fig, ax, _) in logger._figures.items():
        renderer = FigureCanvasAgg(fig).get_renderer()
        width, height = fig.bbox.width, fig.bbox.height
        texts = fig.texts + [ax.title, ax.xaxis.label, ax.yaxis.label]
        shown = "".join(t.get_text().replace("\n", "") for t in fig.texts)
        assert shown == name, file_name  # the whole name, wrapped, no character lost
        for text in texts:
            box = text.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= width, (file_name, text.get_text())
            assert 0 <= box.y0 and box.y1 <= height, (file_name, text.get_text())


@pytest.mark.parametrize("n_epochs", [1, 2, 3, 7, 25])
def test_epoch_ticks_are_whole_numbers(tmp_path, n_epochs):
    # One epoch used to get the ticks 0.945 ... 1.050.
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, plot=True, save_dir=tmp_path, plot_interval=0)
    for k in range(n_epochs):
        logger.push(epoch_log(k))
    for file_name, (fig, ax, _) in logger._figures.items():
        FigureCanvasAgg(fig).draw()
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert ticks, file_name
        assert all(float(t).is_integer() for t in ticks), (file_name, ticks)
        assert 1 in ticks or n_epochs > 10
        # every epoch's point is inside the plot
        assert low < 1 and n_epochs < high


def test_baseline_is_epoch_zero_of_the_files_and_written_with_the_first_epoch(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    run = tmp_path / "run"
    baseline = {"loss": {"train": 2.5, "validate": 2.75}, "error": {"train": 0.75, "validate": 0.8}}
    logger.push_baseline(baseline)
    # Nothing of an unfinished epoch on disk: the baseline waits for epoch 1.
    assert not any((run / name).exists() for name in HISTORY_FILES | METRIC_PLOTS)
    for k in range(2):
        logger.push(epoch_log(k))
    expected = expected_history(2)
    expected["baseline"] = baseline
    assert load_log(run) == expected
    assert json.loads((run / "history.json").read_text())["baseline"] == baseline
    with open(run / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["train_loss"] == "2.5" and rows[0]["validate_error"] == "0.8"
    assert float(rows[0]["validate_accuracy"]) == pytest.approx(0.2)
    assert [float(r["train_loss"]) for r in rows[1:]] == expected["loss"]["train"]
    for name in METRIC_PLOTS:
        assert (run / name).read_bytes()[:8] == PNG_SIGNATURE


def test_baseline_without_a_validation_split_leaves_that_cell_empty(tmp_path):
    logger = Logger("run", MODEL_ARGS, DATA_ARGS, save=True, plot=True, save_dir=tmp_path)
    logger.push_baseline({"loss": {"train": 2.0}, "error": {"train": 0.5}})
    logger.push(epoch_log(0, validate=False))
    with open(tmp_path / "run" / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["epoch"] == "0" and rows[0]["train_loss"] == "2.0"
    assert rows[0]["validate_loss"] == "" and rows[1]["validate_loss"] == ""
