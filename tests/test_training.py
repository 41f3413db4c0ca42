"""Tests for neural_networks.training that the model's tests leave out: the
progress bar is drawn on a terminal only, and short epochs do not pay for
writing their files after every one of them."""

import io
import os
import sys
import time

from neural_networks.datasets import initialize_dataset
from neural_networks.logs import WRITE_SECONDS, Logger, load_log
from neural_networks.models import NeuralNetwork
from neural_networks.training import progress_bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    # Output redirected to a file used to get every frame of the bar.
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_bar(100, 4, 1, verbose=True) is None
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_bar(100, 4, 1, verbose=True)
    assert bar is not None and bar.total == 100
    bar.close()
    assert progress_bar(100, 4, 1, verbose=False) is None


def test_short_epochs_write_their_files_about_once_a_second(tmp_path, monkeypatch):
    # A 200-epoch Iris run rewrote four files after every epoch: on a slow disk
    # it spent 6 s of 10 s in os.fsync and os.replace.
    replaced = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda source, target: (replaced.append(target), replace(source, target)))
    dataset = initialize_dataset("iris", batch_size=25, seed=0)
    logger = Logger("run", {}, {}, save=True, save_dir=tmp_path)
    layers = [{"name": "fully_connected", "activation": "relu", "n_out": 25},
              {"name": "fully_connected", "activation": "softmax", "n_out": None}]
    model = NeuralNetwork("cross_entropy", layers, {"name": "SGD", "lr": 0.01, "momentum": 0.9}, logger, seed=0)
    start = time.monotonic()
    model.train(dataset, 200, verbose=False)
    rounds = (time.monotonic() - start) / WRITE_SECONDS + 2
    assert len(replaced) <= 4 + 4 * rounds, len(replaced)  # the arguments, then log, history and checkpoint
    # When training stops, the files hold every epoch, the log and the checkpoint alike.
    assert load_log(tmp_path / "run")["loss"] == model.history["loss"]
    assert NeuralNetwork("cross_entropy", layers, {"name": "SGD", "lr": 0.01}).load(
        tmp_path / "run" / "checkpoint.npz").epoch == 200
