"""Tests for the training scripts, run as a user runs them: in a subprocess.

``train_ffnn.py`` and ``train_cnn.py`` are started with ``sys.executable`` from
the repository root, always with ``--save-dir`` under pytest's ``tmp_path``.
Checked: exit statuses (0 ok, 1 diverged, 2 bad input, 130 Ctrl-C), the
course's final ``Test Loss: <x> Test Accuracy: <y>`` line, the files of a run,
overwrite protection, the sweep table, Ctrl-C with resume (bit-identical to an
uninterrupted run), and that killing a writer at any moment never leaves a
truncated file behind.
"""

import json
import os
import math
import pickle
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from neural_networks.logs import load_log

REPO = Path(__file__).resolve().parent.parent
FFNN = "train_ffnn.py"
CNN = "train_cnn.py"
FINAL_LINE = re.compile(r"Test Loss: (-?\d+(\.\d+)?(e-?\d+)?) Test Accuracy: (\d+(\.\d+)?(e-?\d+)?)")
FFNN_RUN = "feed_forward_2layers_25-lr0.01_mom0.9_seed0"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and subprocesses as on POSIX")


def env():
    return dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg",
                PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run(script, *args, timeout=120):
    return subprocess.run([sys.executable, script, *map(str, args)], cwd=REPO, env=env(),
                          capture_output=True, text=True, timeout=timeout)


def start(script, *args):
    return subprocess.Popen([sys.executable, "-u", script, *map(str, args)], cwd=REPO, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_until(process, pattern, count=1, timeout=60):
    """Read stdout lines until ``count`` of them match ``pattern``; return all lines read."""
    lines, hits = [], 0
    deadline = time.monotonic() + timeout
    while hits < count:
        assert time.monotonic() < deadline, f"timed out waiting for {pattern!r}: {lines}"
        line = process.stdout.readline()
        assert line, f"the process ended before {pattern!r}: {lines}"
        lines.append(line)
        if re.match(pattern, line):
            hits += 1
    return lines


def final_line(stdout):
    line = stdout.strip().splitlines()[-1]
    match = FINAL_LINE.fullmatch(line)
    assert match, line
    return float(match.group(1)), float(match.group(4))


def checkpoint_epoch(path):
    with np.load(path) as archive:
        return json.loads(str(archive["meta"]))["epoch"]


def checkpoint_parameters(path):
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files if k != "meta"}


def assert_png(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


# ---------------------------------------------------------------------------
# Ordinary runs
# ---------------------------------------------------------------------------


def test_train_ffnn_runs_and_writes_every_file(tmp_path):
    result = run(FFNN, "--save-dir", tmp_path, "--epochs", 3)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    loss, accuracy = final_line(result.stdout)
    assert loss > 0 and 0 <= accuracy <= 1
    assert len(re.findall(r"^epoch +\d+ ", result.stdout, flags=re.M)) == 3
    folder = tmp_path / FFNN_RUN
    assert f"predictions are in {folder}\n" in result.stdout  # a finished run says where its files went
    for name in ("model_args", "data_args", "model_args.json", "data_args.json", "log",
                 "history.json", "history.csv", "checkpoint.npz", "predictions.csv"):
        assert (folder / name).is_file(), name
    for name in ("loss", "error", "accuracy", "W0", "b0", "W1", "b1"):
        assert_png(folder / f"{name}.png")
    assert len(load_log(folder)["loss"]["train"]) == 3
    assert checkpoint_epoch(folder / "checkpoint.npz") == 3
    rows = (folder / "predictions.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 30
    model_args = json.loads((folder / "model_args.json").read_text())
    assert model_args["seed"] == 0 and model_args["epochs"] == 3


def test_train_cnn_runs_on_digits(tmp_path):
    result = run(CNN, "--dataset", "digits", "--epochs", 3, "--save-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    loss, accuracy = final_line(result.stdout)
    assert accuracy > 0.7  # three epochs of Adam on digits (chance is 0.1)
    # The name follows train_cnn.py's channels, learning rate and optimizer.
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1
    folder = folders[0]
    assert folder.name.startswith("cnn_") and folder.name.endswith("_adam_digits_seed0")
    assert checkpoint_epoch(folder / "checkpoint.npz") == 3
    for name in ("loss", "W0", "W2", "W5"):
        assert_png(folder / f"{name}.png")
    rows = (folder / "predictions.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 359


@pytest.mark.parametrize("script", [FFNN, CNN])
def test_help_lists_the_options(script):
    result = run(script, "--help")
    assert result.returncode == 0
    for option in ("--lr", "--epochs", "--save-dir", "--overwrite", "--resume", "--sweep"):
        assert option in result.stdout
    assert result.stdout.startswith("usage:")


# ---------------------------------------------------------------------------
# Bad options: exit 2 and one readable line
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("script, args, fragment", [
    (FFNN, ["--lr", "-1"], "--lr"),
    (FFNN, ["--lr", "0"], "--lr"),
    (FFNN, ["--dataset", "nope"], "nope"),
    (FFNN, ["--batch-size", "0"], "--batch-size"),
    (FFNN, ["--epochs", "-1"], "--epochs"),
    (FFNN, ["--momentum", "1.5"], "--momentum"),
    (FFNN, ["--hidden", "0"], "--hidden"),
    (FFNN, ["--optimizer", "adagrad"], "adagrad"),
    (FFNN, ["--model-name", "a/b"], "model_name"),
    (FFNN, ["--resume"], "--resume"),
    (CNN, ["--dataset", "nope"], "nope"),
    (CNN, ["--lr", "nan"], "--lr"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_bad_option_exits_2_with_one_error_line(tmp_path, script, args, fragment):
    result = run(script, "--save-dir", tmp_path, "--epochs", 1, "--no-plot", *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert fragment in lines[0]
    assert result.stdout == ""
    assert not any(tmp_path.rglob("log"))  # nothing was trained or logged


@pytest.mark.parametrize("args, fragment", [
    (["--lr", "abc"], "--lr"),
    (["--dtype", "float16"], "--dtype"),
    (["--bogus"], "--bogus"),
    (["--epochs"], "--epochs"),
])
def test_option_parser_error_exits_2_with_one_error_line(tmp_path, args, fragment):
    result = run(FFNN, "--save-dir", tmp_path, *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert fragment in lines[0]


def test_cnn_has_no_hidden_option(tmp_path):
    result = run(CNN, "--save-dir", tmp_path, "--hidden", 5)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "--hidden" in result.stderr


# ---------------------------------------------------------------------------
# Overwrite protection
# ---------------------------------------------------------------------------


def test_second_run_into_the_same_folder_needs_overwrite(tmp_path):
    args = ("--save-dir", tmp_path, "--epochs", 2, "--no-plot")
    assert run(FFNN, *args).returncode == 0
    history = tmp_path / FFNN_RUN / "history.json"
    before = history.read_bytes()

    again = run(FFNN, *args[:3], 4, "--no-plot")
    assert again.returncode == 2
    assert again.stderr == (f"error: the run folder '{tmp_path / FFNN_RUN}' already holds a run of these "
                            f"settings (2 of 4 epochs); pass --resume to train it on, --overwrite to "
                            f"replace it, or --model-name NAME\n")
    assert history.read_bytes() == before  # the earlier run is untouched

    replaced = run(FFNN, *args[:3], 4, "--no-plot", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads(history.read_text())["epoch"] == [1, 2, 3, 4]
    assert checkpoint_epoch(tmp_path / FFNN_RUN / "checkpoint.npz") == 4


@pytest.mark.parametrize("flags, edit", [(["--batch-size", 5], None), (["--data-dir", "datasets"], None),
                                         ([], ('"relu"', '"sigmoid"')), ([], ('"cross_entropy"', '"l2"')),
                                         ([], ("EPOCHS = 1", "EPOCHS = 2"))])
def test_a_changed_setting_trains_into_a_folder_of_its_own(tmp_path, flags, edit):
    """Each setting that changes the numbers gets a folder of its own; the same settings again are
    refused. The number of epochs is not in the folder's name: --resume continues the same run."""
    script = tmp_path / "train.py"
    script.write_text((REPO / FFNN).read_text().replace("EPOCHS = 100", "EPOCHS = 1"))
    args = ("--save-dir", tmp_path / "runs", "--no-plot", "--quiet")
    assert run(script, *args).returncode == 0
    if edit:
        script.write_text(script.read_text().replace(*edit, 1))
    changed = run(script, *args, *flags)
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    if edit and "EPOCHS" in edit[0]:
        assert changed.returncode == 2 and folders == [FFNN_RUN]
        assert "(1 of 2 epochs); pass --resume to train it on" in changed.stderr
        return
    assert changed.returncode == 0, changed.stderr
    assert folders[0] == FFNN_RUN and re.fullmatch(FFNN_RUN + "_[0-9a-f]{6}", folders[1]), folders
    again = run(script, *args, *flags)
    assert again.returncode == 2 and f"'{tmp_path / 'runs' / folders[1]}' already holds" in again.stderr


# ---------------------------------------------------------------------------
# Sweep
# ---------------------------------------------------------------------------


def table_rows(text):
    return [line for line in text.splitlines()
            if re.match(r"^\| *[\d.e-]+ *\|", line)]


def test_sweep_prints_a_markdown_table_and_saves_it(tmp_path):
    result = run(FFNN, "--save-dir", tmp_path, "--sweep", "--sweep-lr", 0.01, 0.1,
                 "--sweep-hidden", 5, 10, "--epochs", 3)
    assert result.returncode == 0, result.stderr
    assert "| lr | hidden |" in result.stdout
    assert "| ---: |" in result.stdout
    rows = table_rows(result.stdout)
    assert len(rows) == 4
    combos = {(float(r.split("|")[1]), int(r.split("|")[2])) for r in rows}
    assert combos == {(0.01, 5), (0.01, 10), (0.1, 5), (0.1, 10)}
    assert "Best by validation error" in result.stdout
    saved = (tmp_path / "sweep" / "sweep_lr0.01-0.1_hidden5-10.md").read_text()
    assert table_rows(saved) == rows
    assert_png(tmp_path / "sweep" / "sweep_lr0.01-0.1_hidden5-10_best_loss.png")
    assert len(FINAL_LINE.findall(result.stdout)) == 4
    for lr, hidden in combos:
        folder = tmp_path / "sweep" / f"feed_forward_2layers_{hidden}-lr{lr:g}_mom0.9_seed0"
        assert checkpoint_epoch(folder / "checkpoint.npz") == 3


def test_sweep_next_to_a_single_run_reuses_finished_runs_and_names_ties(tmp_path):
    """A sweep does not collide with the default run; a second sweep that shares a combination with
    the first tests that finished run again and trains the rest; one with fewer epochs is refused."""
    single = run(FFNN, "--save-dir", tmp_path, "--epochs", 2, "--no-plot")
    assert single.returncode == 0, single.stderr
    options = ("--save-dir", tmp_path, "--sweep", "--epochs", 2, "--no-plot", "--quiet")
    first = run(FFNN, *options, "--sweep-lr", 0.01, "--sweep-hidden", 100)
    assert first.returncode == 0, first.stderr
    second = run(FFNN, *options, "--sweep-lr", 0.1, 0.01, "--sweep-hidden", 100)
    assert second.returncode == 0, second.stderr
    reused = "feed_forward_2layers_100-lr0.01_mom0.9_seed0"
    assert f"{reused} has 2 finished epochs already (--epochs 2): nothing left to train." in second.stdout
    assert second.stdout.count("nothing left to train") == 1
    rows = table_rows((tmp_path / "sweep" / "sweep_lr0.1-0.01_hidden100.md").read_text())
    assert [row.split("|")[3].strip() for row in rows] == ["0.0667", "0.0667"]  # 2 of 30 wrong, both
    assert (f"Best by validation error, a tie of 2: lr=0.1, hidden=100 (feed_forward_2layers_100-lr0.1_"
            f"mom0.9_seed0); lr=0.01, hidden=100 ({reused}).") in second.stdout
    fewer = run(FFNN, *options[:3], "--epochs", 1, "--no-plot", "--sweep-lr", 0.01, "--sweep-hidden", 100)
    assert fewer.returncode == 2 and fewer.stderr == (
        f"error: the run folder '{tmp_path / 'sweep' / reused}' already holds a run of these settings "
        f"(2 of 1 epochs); pass --overwrite to replace it\n")


def test_resume_refuses_changed_options(tmp_path):
    first = run(FFNN, "--save-dir", tmp_path, "--epochs", 2, "--no-plot", "--model-name", "r")
    assert first.returncode == 0, first.stderr
    changed = run(FFNN, "--save-dir", tmp_path, "--epochs", 4, "--no-plot", "--model-name", "r",
                  "--resume", "--batch-size", 5)
    assert changed.returncode == 2
    assert "--resume: the options differ" in changed.stderr and "batch_size was 25, now 5" in changed.stderr
    same = run(FFNN, "--save-dir", tmp_path, "--epochs", 4, "--no-plot", "--model-name", "r",
               "--resume")
    assert same.returncode == 0, same.stderr
    # --lr is part of the run's name: the run meant is the one the dicts name, and the
    # message is that the options differ, not "no checkpoint to resume from".
    assert run(FFNN, "--save-dir", tmp_path, "--epochs", 1, "--no-plot").returncode == 0
    renamed = run(FFNN, "--save-dir", tmp_path, "--epochs", 2, "--no-plot", "--resume", "--lr", 0.1)
    assert renamed.returncode == 2
    assert renamed.stderr.startswith(f"error: --resume: the options differ from the run in "
                                     f"{tmp_path / FFNN_RUN} (optimizer_args was ")
    assert "'lr': 0.01" in renamed.stderr and "'lr': 0.1," in renamed.stderr


# ---------------------------------------------------------------------------
# Ctrl-C and resume
# ---------------------------------------------------------------------------

# Digits, one example per batch: about 0.1 s per epoch, long enough to interrupt.
SLOW_DIGITS = ("--dataset", "digits", "--hidden", 32, "--epochs", 8, "--batch-size", 1,
               "--no-plot")
SLOW_DIGITS_RUN = "feed_forward_2layers_32-lr0.01_mom0.9_digits_seed0"
EPOCH_LINE = r"^epoch +\d+ "


def test_ctrl_c_keeps_finished_epochs_and_resume_matches_an_uninterrupted_run(tmp_path):
    interrupted, straight = tmp_path / "interrupted", tmp_path / "straight"
    process = start(FFNN, "--save-dir", interrupted, *SLOW_DIGITS)
    read_until(process, EPOCH_LINE, count=3)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    folder = interrupted / SLOW_DIGITS_RUN
    assert str(folder) in stderr
    assert "Traceback" not in stderr, stderr
    assert "Test Loss" not in stdout

    finished = checkpoint_epoch(folder / "checkpoint.npz")
    assert 3 <= finished < 8
    assert len(load_log(folder)["loss"]["train"]) == finished
    assert json.loads((folder / "history.json").read_text())["epoch"] == list(range(1, finished + 1))
    assert f"{finished} finished epoch" in stderr

    resumed = run(FFNN, "--save-dir", interrupted, *SLOW_DIGITS, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"after epoch {finished} of 8" in resumed.stdout
    assert len(re.findall(EPOCH_LINE, resumed.stdout, flags=re.M)) == 8 - finished
    assert checkpoint_epoch(folder / "checkpoint.npz") == 8

    reference = run(FFNN, "--save-dir", straight, *SLOW_DIGITS)
    assert reference.returncode == 0, reference.stderr
    a = checkpoint_parameters(folder / "checkpoint.npz")
    b = checkpoint_parameters(straight / SLOW_DIGITS_RUN / "checkpoint.npz")
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert (folder / "history.json").read_text() == \
        (straight / SLOW_DIGITS_RUN / "history.json").read_text()
    assert (folder / "predictions.csv").read_text() == \
        (straight / SLOW_DIGITS_RUN / "predictions.csv").read_text()
    assert final_line(resumed.stdout) == final_line(reference.stdout)


def test_ctrl_c_at_random_moments_keeps_log_and_checkpoint_in_step(tmp_path):
    """SIGINT may land while the log and the checkpoint are written: they must agree."""
    rng = random.Random(20240601)
    for attempt in range(4):
        save_dir = tmp_path / str(attempt)
        process = start(FFNN, "--save-dir", save_dir, "--dataset", "digits", "--hidden", 16,
                        "--epochs", 500, "--no-plot")
        read_until(process, EPOCH_LINE)
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr, stderr
        folder = save_dir / "feed_forward_2layers_16-lr0.01_mom0.9_digits_seed0"
        finished = checkpoint_epoch(folder / "checkpoint.npz")
        assert finished >= 1
        assert len(load_log(folder)["loss"]["train"]) == finished
        assert json.loads((folder / "history.json").read_text())["epoch"][-1] == finished
        assert not list(folder.glob(".*.tmp")), "a temporary file was left behind"


def test_ctrl_c_during_a_sweep_reports_the_finished_combinations(tmp_path):
    process = start(FFNN, "--save-dir", tmp_path, "--dataset", "digits", "--batch-size", 1,
                    "--sweep", "--sweep-lr", 0.01, 0.001, "--sweep-hidden", 8, 16,
                    "--epochs", 3, "--no-plot")
    read_until(process, r"^== lr=0\.01 hidden=16 ==")
    read_until(process, EPOCH_LINE)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    rows = table_rows(stdout)
    assert len(rows) == 1
    assert rows[0].split("|")[1].strip() == "0.01" and rows[0].split("|")[2].strip() == "8"
    assert "Only 1 of 4 combinations finished." in stdout
    assert "Only 1 of 4" in (tmp_path / "sweep" / "sweep_lr0.01-0.001_hidden8-16.md").read_text()
    assert "feed_forward_2layers_16-lr0.01_mom0.9_digits_seed0" in stderr


INTERRUPT_WHILE_BUILDING_THE_BAR = textwrap.dedent("""
    import os, runpy, signal, sys
    import tqdm.std

    original = tqdm.std.tqdm._get_free_pos

    def interrupted(*args, **kwargs):
        # The moment a real Ctrl-C often hits: right after an epoch line, while
        # tqdm.__init__ of the next epoch's bar runs (before it sets .pos).
        os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kwargs)

    tqdm.std.tqdm._get_free_pos = staticmethod(interrupted)

    class Terminal:  # stderr passes for a terminal: the progress bar is built
        def __init__(self, stream):
            self.stream = stream

        def isatty(self):
            return True

        def __getattr__(self, name):
            return getattr(self.stream, name)

    sys.stderr = Terminal(sys.stderr)
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def test_ctrl_c_while_the_progress_bar_is_built_prints_no_traceback(tmp_path):
    # Found while writing these tests: a Ctrl-C right after an epoch line often landed
    # in tqdm.__init__ of the next epoch's bar; the half-built bar's __del__ printed
    # "Exception ignored ... AttributeError: ... no attribute 'pos'" at exit.
    driver = tmp_path / "driver.py"
    driver.write_text(INTERRUPT_WHILE_BUILDING_THE_BAR)
    result = subprocess.run([sys.executable, str(driver), FFNN, "--save-dir", str(tmp_path / "runs"),
                             "--dataset", "digits", "--epochs", "3", "--no-plot"],
                            cwd=REPO, env=env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert "Stopped by Ctrl-C." in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


# ---------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------


def test_divergent_run_exits_1_naming_where_and_what_to_do(tmp_path):
    result = run(FFNN, "--save-dir", tmp_path, "--lr", "1e6", "--epochs", 20, "--no-plot")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    message = errors[0]
    match = re.search(r"epoch (\d+), batch (\d+)", message)
    assert match, message
    assert "layer" in message
    assert "lower the learning rate" in message
    assert "Test Loss" not in result.stdout
    finished = int(match.group(1)) - 1
    folder = tmp_path / "feed_forward_2layers_25-lr1e+06_mom0.9_seed0"
    text = (folder / "history.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["epoch"] == list(range(1, finished + 1))
    assert checkpoint_epoch(folder / "checkpoint.npz") == finished


def test_divergent_run_prints_only_the_error_line(tmp_path):
    # Found while writing these tests: numpy's RuntimeWarnings (overflow in matmul,
    # invalid value in subtract) came first, with their source lines.
    result = run(FFNN, "--save-dir", tmp_path, "--lr", "1e6", "--epochs", 20, "--no-plot",
                 "--quiet")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: training diverged"), result.stderr


def test_divergence_on_validation_exits_1(tmp_path):
    # --lr 1000 --seed 1 diverges on the validation set first (epoch 11). Found while
    # writing these tests: Logger.push refused the NaN and the CLI exited 2 with
    # "error: Logger.push: log['loss']['validate'] is nan".
    result = run(FFNN, "--save-dir", tmp_path, "--lr", "1000", "--seed", 1, "--epochs", 30,
                 "--no-plot")
    assert result.returncode == 1, result.stderr
    assert re.search(r"^error: training diverged in epoch 11, batch \d+: the validation loss",
                     result.stderr, flags=re.M), result.stderr
    folder = tmp_path / "feed_forward_2layers_25-lr1000_mom0.9_seed1"
    assert checkpoint_epoch(folder / "checkpoint.npz") == 10
    assert "NaN" not in (folder / "history.json").read_text()


# ---------------------------------------------------------------------------
# A kill at any moment never leaves a truncated file
# ---------------------------------------------------------------------------

ATOMIC_WRITER = textwrap.dedent("""
    import itertools, sys
    import numpy as np
    from neural_networks.utils import atomic_open

    target = sys.argv[1]
    for i in itertools.count():
        with atomic_open(target) as f:
            np.savez(f, a=np.full(1_000_000, i, dtype=np.int64), i=np.array(i))
        print(i, flush=True)
""")

LOGGER_WRITER = textwrap.dedent("""
    import itertools, sys
    from neural_networks.logs import Logger

    logger = Logger("run", {"m": 1}, {"d": 2}, save=True, plot=False, save_dir=sys.argv[1])
    for k in itertools.count():
        logger.push({
            "loss": {"train": 1.0 / (k + 1), "validate": 2.0 / (k + 1)},
            "error": {"train": 0.5, "validate": 0.25},
            "params": {f"W{j}": {"max": float(k), "min": -float(k)} for j in range(300)},
        })
        print(k, flush=True)
""")


def kill_at_random_moments(tmp_path, source, target_arg, check, kills=6, seed=0):
    """Start ``source`` afresh ``kills`` times, SIGKILL it at a random moment, check."""
    script = tmp_path / "writer.py"
    script.write_text(source)
    rng = random.Random(seed)
    written = []
    for attempt in range(kills):
        process = subprocess.Popen([sys.executable, str(script), str(target_arg)], cwd=tmp_path,
                                   env=env(), stdout=subprocess.PIPE, text=True)
        # Let it start writing (imports take a while), then kill at a random moment.
        if attempt % 5 != 0:
            assert process.stdout.readline(), "the writer died"
        time.sleep(rng.uniform(0.0, 0.3))
        process.kill()
        process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
        written.append(check())
    return written


def test_sigkill_never_leaves_a_truncated_atomic_file(tmp_path):
    target = tmp_path / "big.npz"

    def check():
        if not target.exists():
            return None
        with np.load(target) as archive:  # raises on a truncated zip
            i = int(archive["i"])
            a = archive["a"]
        assert a.shape == (1_000_000,) and np.all(a == i)
        return i

    written = kill_at_random_moments(tmp_path, ATOMIC_WRITER, target, check, kills=6)
    assert any(w is not None for w in written)
    # A SIGKILL cannot clean up: each kill that landed inside a write leaves its
    # temporary file, which shows that the kills did hit writes in progress.
    leftovers = list(tmp_path.glob(".big.npz.*.tmp"))
    assert leftovers, "no kill landed inside a write: the test proved nothing"
    print(f"atomic_open: {len(leftovers)} of 6 kills landed inside a write; files seen: {written}")


def test_sigkill_never_leaves_a_truncated_logger_file(tmp_path):
    run_dir = tmp_path / "runs" / "run"

    def check():
        if not (run_dir / "log").exists():
            return None
        log = load_log(run_dir)  # ValueError on a truncated pickle
        n = len(log["loss"]["train"])
        assert len(log["loss"]["validate"]) == len(log["error"]["train"]) == n
        assert all(len(p["max"]) == len(p["min"]) == n for p in log["params"].values())
        with open(run_dir / "log", "rb") as f:
            assert pickle.load(f) == log
        if (run_dir / "history.json").exists():
            history = json.loads((run_dir / "history.json").read_text())
            assert history["epoch"] == list(range(1, len(history["loss"]["train"]) + 1))
        if (run_dir / "history.csv").exists():
            lines = (run_dir / "history.csv").read_text().splitlines()
            assert lines[0].startswith("epoch,")
            assert all(len(line.split(",")) == 7 for line in lines)
            assert [int(line.split(",")[0]) for line in lines[1:]] == list(range(1, len(lines)))
        return n

    def check_and_reset():
        n = check()
        # The next writer starts a fresh run in the same folder.
        for path in run_dir.parent.glob("run/*"):
            if not path.name.startswith("."):
                path.unlink()
        return n

    written = kill_at_random_moments(tmp_path, LOGGER_WRITER, tmp_path / "runs",
                                     check_and_reset, kills=10, seed=1)
    assert any(n for n in written)
    leftovers = list(run_dir.glob(".*.tmp"))
    print(f"Logger: {len(leftovers)} of 10 kills landed inside a write; epochs seen: {written}")


# ---------------------------------------------------------------------------
# Every key of every dict at the top of the scripts: a mistake is one line
# naming the key, exit status 2, never a traceback
# ---------------------------------------------------------------------------

# The line that closes the block of dicts a student edits.
END_OF_DICTS = re.compile(r"^# -{20,}$", flags=re.M)


def script_parts(script):
    """The script's source split into the dicts at the top and the rest."""
    source = (REPO / script).read_text()
    cut = list(END_OF_DICTS.finditer(source))[-1].end()
    return source[:cut], source[cut:]


def run_edited(script, edit, argv, monkeypatch, capsys):
    """Run ``script`` as ``__main__`` in this process, with ``edit(namespace)``
    applied to its dicts as if the student had typed the change; returns
    (exit status, stdout, stderr)."""
    top, rest = script_parts(script)
    namespace = {"__name__": "__main__", "__file__": str(REPO / script)}
    exec(compile(top, script, "exec"), namespace)
    edit(namespace)
    monkeypatch.setattr(sys, "argv", [script, *map(str, argv)])
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit) as info:
        exec(compile(rest, script, "exec"), namespace)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def script_dicts(script):
    namespace = {"__name__": "dicts"}
    exec(compile(script_parts(script)[0], script, "exec"), namespace)
    return namespace


# Keys a script cannot do without: those without a default, and those whose default
# would silently give another run (an optional key may be deleted).
REQUIRED = {
    "data_args": {"name", "batch_size", "dtype"},
    "optimizer_args": {"name", "lr", "lr_scheduler", "momentum", "lr_decay"},
    "model_args": {"name", "loss", "seed"},
    "log_args": {"save", "plot", "save_dir"},
    "sweep_args": {"lr", "hidden"},
    "fully_connected": {"name", "n_out", "activation", "weight_init"},
    "conv2d": {"name", "n_out", "kernel_shape", "activation", "weight_init"},
    "pool2d": {"name", "kernel_shape"},
    "flatten": {"name"},
}
WRONG_TYPE = {"oops": 1}
# A value of the right type that no key accepts (None: the key has no range).
OUT_OF_RANGE = {
    ("data_args", "name"): "nope", ("data_args", "batch_size"): 0,
    ("optimizer_args", "name"): "adagrad", ("optimizer_args", "lr"): -0.1,
    ("optimizer_args", "lr_scheduler"): "linear", ("optimizer_args", "momentum"): 1.5,
    ("optimizer_args", "clip_norm"): -1.0, ("optimizer_args", "lr_decay"): 1.5,
    ("optimizer_args", "stage_length"): 0,
    ("model_args", "name"): "", ("model_args", "loss"): "l1", ("model_args", "seed"): -1,
    ("log_args", "save"): None, ("log_args", "plot"): None, ("log_args", "save_dir"): "",
    ("sweep_args", "lr"): [0.01, -0.1],
    ("layer", "name"): "dense", ("layer", "n_out"): 0, ("layer", "activation"): "rel",
    ("layer", "weight_init"): "xavier", ("layer", "kernel_shape"): 0, ("layer", "stride"): 0,
    ("layer", "pad"): -1, ("layer", "mode"): "min", ("layer", "keep_dim"): "middle",
}


def dict_key_cases():
    cases = []
    for script in (FFNN, CNN):
        dicts = script_dicts(script)
        entries = [(name, name, dicts[name]) for name in
                   ("data_args", "optimizer_args", "model_args", "log_args", "sweep_args")]
        entries += [(f"layer_args[{i}]", args["name"], args)
                    for i, args in enumerate(dicts["layer_args"])]
        for where, kind, mapping in entries:
            for key in mapping:
                if key in REQUIRED[kind]:
                    cases.append((script, where, key, "delete", None))
                cases.append((script, where, key, "typo", key + "s"))
                cases.append((script, where, key, "wrong type", WRONG_TYPE))
                bad = OUT_OF_RANGE.get(("layer" if where.startswith("layer") else where, key))
                if where == "sweep_args" and key == "hidden":
                    bad = [5] if script == CNN else [25, 0]
                if bad is not None:
                    cases.append((script, where, key, "out of range", bad))
        for value in (-1, "10", 2.5):
            cases.append((script, "EPOCHS", "EPOCHS", "value", value))
    return cases


DICT_KEY_CASES = dict_key_cases()


def apply_case(where, key, change, value):
    def edit(namespace):
        if where == "EPOCHS":
            namespace["EPOCHS"] = value
            return
        match = re.fullmatch(r"layer_args\[(\d+)\]", where)
        mapping = namespace["layer_args"][int(match.group(1))] if match else namespace[where]
        if change == "delete":
            del mapping[key]
        elif change == "typo":
            mapping[value] = mapping.pop(key)
        else:
            mapping[key] = value
    return edit


def test_the_dict_table_covers_every_key_of_both_scripts():
    assert len(DICT_KEY_CASES) > 120
    for script in (FFNN, CNN):
        dicts = script_dicts(script)
        covered = {(where, key) for s, where, key, _, _ in DICT_KEY_CASES if s == script}
        for name in ("data_args", "optimizer_args", "model_args", "log_args", "sweep_args"):
            assert {(name, key) for key in dicts[name]} <= covered
        for i, args in enumerate(dicts["layer_args"]):
            assert {(f"layer_args[{i}]", key) for key in args} <= covered


@pytest.mark.parametrize("script, where, key, change, value", DICT_KEY_CASES,
                         ids=lambda v: v if isinstance(v, str) else repr(v))
def test_a_mistake_in_a_dict_is_one_line_naming_the_key(tmp_path, monkeypatch, capsys,
                                                        script, where, key, change, value):
    # Flags set the dicts' values: leave out the one that would replace the value tried.
    flags = {("log_args", "save_dir"): ["--save-dir", tmp_path / "runs"],
             ("EPOCHS", "EPOCHS"): ["--epochs", 0], ("log_args", "plot"): ["--no-plot"]}
    argv = [arg for target, args in flags.items() if target != (where, key) for arg in args]
    status, out, err = run_edited(script, apply_case(where, key, change, value), argv,
                                  monkeypatch, capsys)
    assert status == 2, (out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    line = lines[0]
    assert where in line
    assert (value if change == "typo" else key) in line
    if change in ("wrong type", "out of range", "value"):
        shown = value[-1] if isinstance(value, list) else value  # the bad one of a list
        assert repr(shown) in line or repr(shown)[1:-1] in line
    assert out == ""
    assert not (tmp_path / "runs").exists()  # nothing written


@pytest.mark.parametrize("script", [FFNN, CNN])
def test_help_works_and_a_typo_in_a_layer_is_named_even_with_help(monkeypatch, capsys, script):
    status, out, _ = run_edited(script, lambda ns: None, ["--help"], monkeypatch, capsys)
    assert status == 0 and out.startswith("usage:")

    def typo(namespace):
        namespace["layer_args"][0]["n_outs"] = namespace["layer_args"][0].pop("n_out")

    status, out, err = run_edited(script, typo, ["--help"], monkeypatch, capsys)
    # It used to be a KeyError: 'n_out' traceback.
    assert status == 2 and "Traceback" not in err
    assert err.strip() == (
        "error: layer_args[0] (" + script_dicts(script)["layer_args"][0]["name"] + ") has the "
        "unknown key 'n_outs' (did you mean 'n_out'?); the valid keys are "
        + ("['name', 'n_out', 'activation', 'weight_init']" if script == FFNN else
           "['name', 'n_out', 'kernel_shape', 'activation', 'stride', 'pad', 'weight_init']")
    )


def test_a_bad_hidden_size_in_the_dict_is_not_blamed_on_the_flag(tmp_path, monkeypatch, capsys):
    def zero(namespace):
        namespace["layer_args"][0]["n_out"] = 0

    status, _, err = run_edited(FFNN, zero, ["--save-dir", tmp_path], monkeypatch, capsys)
    assert status == 2
    assert err == 'error: layer_args[0]["n_out"]: FullyConnected: n_out must be >= 1; got 0\n'
    # The flag, when typed, is named; it replaces the dict's value.
    status, _, err = run_edited(FFNN, lambda ns: None, ["--save-dir", tmp_path, "--hidden", 0],
                                monkeypatch, capsys)
    assert status == 2 and err == "error: --hidden: FullyConnected: n_out must be >= 1; got 0\n"


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "linear"])
def test_cross_entropy_needs_a_softmax_output_layer(tmp_path, monkeypatch, capsys, activation):
    def edit(namespace):
        namespace["layer_args"][-1]["activation"] = activation

    status, out, err = run_edited(FFNN, edit, ["--save-dir", tmp_path / "runs"], monkeypatch, capsys)
    assert status == 2 and out == ""
    assert err.startswith('error: model_args["loss"]: ') and err.count("\n") == 1
    for fragment in ("cross_entropy", f"layer_args[1] (fully_connected) has activation {activation!r}",
                     "softmax", "'l2'"):
        assert fragment in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("script, where, key, default", [
    (FFNN, "layer_args[0]", "activation", "linear"),
    (FFNN, "layer_args[1]", "weight_init", "xavier_uniform"),
    (FFNN, "optimizer_args", "momentum", 0.0),
    (CNN, "optimizer_args", "lr_scheduler", "constant"),
    (CNN, "optimizer_args", "lr_decay", 0.99),
    (CNN, "data_args", "dtype", "float64"),
    (CNN, "layer_args[2]", "weight_init", "xavier_uniform"),
])
def test_a_deleted_key_names_the_default_it_would_take(tmp_path, monkeypatch, capsys,
                                                        script, where, key, default):
    # Each would otherwise train another network without a word (a linear hidden layer, no momentum).
    status, out, err = run_edited(script, apply_case(where, key, "delete", None),
                                  ["--save-dir", tmp_path / "runs"], monkeypatch, capsys)
    assert status == 2 and out == ""
    assert err.startswith(f"error: {where}")
    assert err.endswith(f" is missing the key {key!r}: without it the default {default!r} would be "
                        f"taken; write {key!r}: {default!r} to keep that\n")
    assert not (tmp_path / "runs").exists()


def test_a_key_that_does_not_apply_may_be_left_out(tmp_path, monkeypatch, capsys):
    """Adam takes no momentum, and a constant schedule no decay: nothing to write."""
    def edit(namespace):
        del namespace["optimizer_args"]["momentum"]
        namespace["optimizer_args"]["name"] = "adam"

    status, out, err = run_edited(FFNN, edit, ["--save-dir", tmp_path, "--epochs", 1, "--no-plot"],
                                  monkeypatch, capsys)
    assert status == 0, err
    assert (tmp_path / "feed_forward_2layers_25-lr0.01_adam_seed0" / "checkpoint.npz").is_file()


def test_a_flag_and_the_dict_follow_one_rule(tmp_path, monkeypatch, capsys):
    """The dict's momentum does not apply to Adam. Written in the dict, that is an error; switched
    by --optimizer, the script's momentum is left out with a note, never without a word; a
    momentum given by flag is refused as the dict's is."""
    def adam(namespace):
        namespace["optimizer_args"]["name"] = "Adam"

    args = ["--save-dir", tmp_path, "--epochs", 1, "--no-plot"]
    status, out, err = run_edited(FFNN, adam, args, monkeypatch, capsys)
    assert status == 2 and out == ""
    assert err.startswith('error: optimizer_args["momentum"]: ') and "does not apply to Adam" in err
    status, out, err = run_edited(FFNN, lambda ns: None, [*args, "--optimizer", "Adam"], monkeypatch, capsys)
    assert status == 0, err
    assert err.startswith("note: --optimizer Adam takes no momentum: optimizer_args['momentum'] = 0.9 is left out")
    assert FINAL_LINE.fullmatch(out.strip().splitlines()[-1])
    for script, flags in ((FFNN, ["--optimizer", "Adam", "--momentum", 0.5]), (CNN, ["--momentum", 0.5])):
        status, _, err = run_edited(script, lambda ns: None, [*args, *flags], monkeypatch, capsys)
        assert status == 2 and err.startswith("error: --momentum: ") and "Adam" in err


def test_an_empty_model_name_is_refused_not_ignored(tmp_path, monkeypatch, capsys):
    status, out, err = run_edited(FFNN, lambda ns: None, ["--save-dir", tmp_path, "--model-name", ""],
                                  monkeypatch, capsys)
    assert status == 2 and err.startswith("error: --model-name: Logger: model_name must be a non-empty")
    assert list(tmp_path.iterdir()) == []


def test_l2_with_a_linear_output_layer_trains(tmp_path, monkeypatch, capsys):
    def edit(namespace):
        namespace["layer_args"][-1]["activation"] = "linear"
        namespace["model_args"]["loss"] = "l2"

    status, out, err = run_edited(FFNN, edit, ["--save-dir", tmp_path, "--epochs", 2],
                                  monkeypatch, capsys)
    assert status == 0, err
    header = (tmp_path / FFNN_RUN / "history.csv").read_text().splitlines()[0]
    assert header == "epoch,train_loss,validate_loss,train_mse,validate_mse"
    assert not (tmp_path / FFNN_RUN / "accuracy.png").exists()


@pytest.mark.parametrize("fast", [True, False])
def test_train_cnn_gives_its_model_the_fast_kernels_by_its_switch(tmp_path, monkeypatch, capsys, fast):
    from neural_networks import cli

    assert script_dicts(CNN)["model_args"]["fast_layers"] is True  # on by default
    given, switch_layers = [], cli.use_fast_layers
    monkeypatch.setattr(cli, "use_fast_layers", lambda model: given.append(switch_layers(model)))

    def switch(namespace):
        namespace["model_args"]["fast_layers"] = fast

    status, _, err = run_edited(CNN, switch, ["--dataset", "digits", "--epochs", 0, "--no-plot",
                                              "--quiet", "--save-dir", tmp_path], monkeypatch, capsys)
    assert status == 0, err
    assert len(given) == fast
    if fast:  # every layer exists by then, the output layer too, and the window layers are switched
        names = [type(layer).__name__ for layer in given[0].layers]
        assert names == ["FastConv2D", "FastPool2D", "FastConv2D", "FastPool2D", "Flatten", "FullyConnected"]
    # The switch changes no number, so it is not part of the run (a resume may flip it).
    model_args = json.loads(next(tmp_path.glob("*/model_args.json")).read_text())
    assert "fast_layers" not in model_args


# ---------------------------------------------------------------------------
# The save folder: a file in the way, no permission
# ---------------------------------------------------------------------------


def test_save_dir_that_is_a_file(tmp_path):
    # It used to be a NotADirectoryError traceback.
    a_file = tmp_path / "runs.txt"
    a_file.write_text("not a folder")
    result = run(FFNN, "--save-dir", a_file, "--epochs", 1)
    assert result.returncode == 2
    assert result.stderr == f"error: --save-dir {str(a_file)!r} is a file, not a folder; give a folder\n"
    inside = run(FFNN, "--save-dir", a_file / "sub", "--epochs", 1)
    assert inside.returncode == 2
    assert inside.stderr == (f"error: --save-dir {str(a_file / 'sub')!r} is inside "
                             f"{str(a_file)!r}, a file, not a folder; give a folder\n")
    assert a_file.read_text() == "not a folder"


def test_save_dir_of_the_dict_that_is_a_file_names_the_key(tmp_path, monkeypatch, capsys):
    experiments = tmp_path / "experiments"
    experiments.write_text("")

    def edit(namespace):
        namespace["log_args"]["save_dir"] = str(experiments)

    status, _, err = run_edited(FFNN, edit, ["--epochs", 1], monkeypatch, capsys)
    assert status == 2
    assert err == (f'error: log_args["save_dir"] {str(experiments)!r} is a file, not a folder; '
                   f"give a folder\n")


READ_ONLY_SAVE_DIR = textwrap.dedent("""
    import errno, os, runpy, sys
    # What a read-only folder does to a writer, for a test that may run as root
    # (root ignores permissions): creating anything inside it fails.
    read_only = os.path.abspath(sys.argv[1])
    real_mkdir, real_open = os.mkdir, os.open

    def refuse(path):
        return os.path.abspath(path).startswith(read_only + os.sep)

    def mkdir(path, *args, **kwargs):
        if refuse(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_mkdir(path, *args, **kwargs)

    def open_(path, flags, *args, **kwargs):
        if refuse(path) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, flags, *args, **kwargs)

    os.mkdir, os.open = mkdir, open_
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def test_save_dir_without_permission_to_write(tmp_path):
    # It used to be a PermissionError traceback.
    read_only = tmp_path / "experiments"
    read_only.mkdir()
    driver = tmp_path / "driver.py"
    driver.write_text(READ_ONLY_SAVE_DIR)
    result = subprocess.run([sys.executable, str(driver), str(read_only), FFNN, "--save-dir",
                             str(read_only), "--epochs", "1", "--no-plot"],
                            cwd=REPO, env=env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    run_dir = read_only / FFNN_RUN
    assert result.stderr == (f"error: --save-dir {str(read_only)!r}: cannot write "
                             f"{str(run_dir)!r} (Permission denied)\n")
    assert list(read_only.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_save_dir_read_only_for_real(tmp_path):
    read_only = tmp_path / "experiments"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        result = run(FFNN, "--save-dir", read_only, "--epochs", 1)
    finally:
        read_only.chmod(0o755)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: --save-dir {str(read_only)!r}: cannot write")


# ---------------------------------------------------------------------------
# A failed start, --overwrite, EPOCHS = 0
# ---------------------------------------------------------------------------

# --lr 1e100 diverges in the first epoch (batch 3), before any epoch is finished.
DIVERGES_IN_EPOCH_1 = ("--lr", "1e100")


def test_a_start_that_failed_does_not_block_the_fixed_rerun(tmp_path):
    args = ("--save-dir", tmp_path, "--model-name", "r", "--epochs", 2, "--no-plot")
    failed = run(FFNN, *args, *DIVERGES_IN_EPOCH_1)
    assert failed.returncode == 1
    assert "epoch 1, batch" in failed.stderr
    assert (tmp_path / "r" / "model_args").is_file()  # the stub is there
    fixed = run(FFNN, *args)
    assert fixed.returncode == 0, fixed.stderr  # it used to say "already holds the files"
    assert json.loads((tmp_path / "r" / "history.json").read_text())["epoch"] == [1, 2]


def test_overwrite_keeps_the_earlier_run_until_the_new_one_finishes_an_epoch(tmp_path):
    args = ("--save-dir", tmp_path, "--model-name", "r", "--no-plot")
    first = run(FFNN, *args, "--epochs", 2)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "r"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    failed = run(FFNN, *args, "--epochs", 2, "--overwrite", *DIVERGES_IN_EPOCH_1)
    assert failed.returncode == 1
    assert f"The earlier run in {folder} is kept as it was: the new run finished no epoch." \
        in failed.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # not even a stub

    untrained = run(FFNN, *args, "--epochs", 0, "--overwrite")
    assert untrained.returncode == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before

    replaced = run(FFNN, *args, "--epochs", 3, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads((folder / "history.json").read_text())["epoch"] == [1, 2, 3]
    assert checkpoint_epoch(folder / "checkpoint.npz") == 3
    assert not (folder / ".new_run").exists()


def test_overwrite_help_says_the_earlier_run_is_kept():
    result = run(FFNN, "--help")
    text = " ".join(result.stdout.split())
    assert "the earlier run is kept until the new one has finished its first epoch" in text


def test_zero_epochs_says_the_network_is_untrained(tmp_path, monkeypatch, capsys):
    def edit(namespace):
        namespace["EPOCHS"] = 0

    status, out, err = run_edited(FFNN, edit, ["--save-dir", tmp_path, "--no-plot"],
                                  monkeypatch, capsys)
    assert status == 0, err
    assert out.splitlines()[0] == ("EPOCHS is 0: no training; the test below is of the untrained "
                                   "network (its random initial weights).")
    flag = run(FFNN, "--save-dir", tmp_path / "flag", "--epochs", 0, "--no-plot")
    assert flag.stdout.splitlines()[0].startswith("--epochs is 0: no training;")


def test_the_shipped_cnn_starts_at_the_loss_of_a_uniform_guess(tmp_path):
    # Its output layer starts at zero: every class equally likely, loss ln(classes), not 6.96 (digits).
    result = run(CNN, "--dataset", "digits", "--epochs", 0, "--no-plot", "--save-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("untrained"))
    losses = [float(value) for value in re.findall(r"loss (\S+)", line)]
    assert losses and all(abs(loss - math.log(10)) < 1e-4 for loss in losses), line  # printed to 4 places
