"""Tests for neural_networks.training that the model's tests leave out: the
progress bar is drawn on a terminal only, short epochs do not pay for writing
their files after every one of them, and the checkpoint written when training
stops is that of the last finished epoch."""

import io
import os
import sys
import time

import numpy as np
import pytest

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
    assert progress_bar(100, 4, 1, verbose=True).disable
    monkeypatch.setattr(sys, "stderr", Terminal())
    with progress_bar(100, 4, 1, verbose=True) as bar:
        assert not bar.disable and bar.total == 100
    assert progress_bar(100, 4, 1, verbose=False).disable
    assert progress_bar(100, 1, 1, verbose=True).disable  # one batch: nothing to follow


LAYERS = [{"name": "fully_connected", "activation": "relu", "n_out": 25},
          {"name": "fully_connected", "activation": "softmax", "n_out": None}]


def iris_model(logger=None):
    return NeuralNetwork("cross_entropy", LAYERS, {"name": "SGD", "lr": 0.01, "momentum": 0.9}, logger, seed=0)


def test_an_abandoned_epoch_leaves_the_checkpoint_of_the_last_finished_one(tmp_path):
    dataset = initialize_dataset("iris", batch_size=25, seed=0)
    model = iris_model(Logger("run", {}, {}, save=True, save_dir=tmp_path))
    sample, calls = dataset.train.sample, []

    def interrupted_sample():  # Ctrl-C in the middle of epoch 3, after two updates
        calls.append(1)
        if len(calls) == 2 * dataset.train.samples_per_epoch + 3:
            raise KeyboardInterrupt
        return sample()

    dataset.train.sample = interrupted_sample
    with pytest.raises(KeyboardInterrupt):
        model.train(dataset, 5, verbose=False)
    straight = iris_model()
    straight.train(initialize_dataset("iris", batch_size=25, seed=0), 2, verbose=False)
    restored = iris_model().load(tmp_path / "run" / "checkpoint.npz")
    assert restored.epoch == 2 and load_log(tmp_path / "run")["loss"] == straight.history["loss"]
    for name, value in straight.parameters().items():
        assert np.array_equal(restored.parameters()[name], value), name


def test_short_epochs_write_their_files_about_once_a_second(tmp_path, monkeypatch):
    # A 200-epoch Iris run rewrote four files after every epoch: on a slow disk
    # it spent 6 s of 10 s in os.fsync and os.replace.
    replaced = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda old, new: (replaced.append(new), replace(old, new)))
    dataset = initialize_dataset("iris", batch_size=25, seed=0)
    model = iris_model(Logger("run", {}, {}, save=True, save_dir=tmp_path))
    start = time.monotonic()
    model.train(dataset, 200, verbose=False)
    rounds = (time.monotonic() - start) / WRITE_SECONDS + 2
    assert len(replaced) <= 4 + 4 * rounds, len(replaced)  # the arguments, then log, history and checkpoint
    # When training stops, the files hold every epoch, the log and the checkpoint alike.
    assert load_log(tmp_path / "run")["loss"] == model.history["loss"]
    assert iris_model().load(tmp_path / "run" / "checkpoint.npz").epoch == 200
