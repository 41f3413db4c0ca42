"""Tests for neural_networks.checkpoints: save, load, resume.

A run split in two by save/load must equal one uninterrupted run, bit for
bit; a checkpoint that does not fit must be refused with a message naming
the problem and change nothing (model, generators, optimizer, data order);
the files a saving Logger and the model promise must exist and read back.
Nothing is written outside pytest's ``tmp_path``.
"""

import csv
import json
import pickle

import numpy as np
import pytest
from matplotlib.image import imread

from neural_networks.datasets import initialize_dataset
from neural_networks.logs import Logger, load_log
from neural_networks.models import NeuralNetwork

from test_models import (IRIS_LAYERS, assert_same_parameters, iris, iris_model, saving_logger,
                         snapshot)

# The course's default network with BatchNorm1D and Dropout.
BN_DROPOUT_LAYERS = [IRIS_LAYERS[0], {"name": "batchnorm1d"}, {"name": "dropout", "p": 0.2}, IRIS_LAYERS[1]]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def bn_model(seed=0):
    return iris_model(seed=seed, layer_args=BN_DROPOUT_LAYERS)


# ---------------------------------------------------------------------------
# Save, load and resume
# ---------------------------------------------------------------------------


def test_resume_from_checkpoint_equals_an_uninterrupted_run(tmp_path):
    straight = iris_model()
    straight.train(iris(), 6, verbose=False)

    first = iris_model()
    first_data = iris()
    first.train(first_data, 3, verbose=False)
    path = tmp_path / "half.npz"
    first.save(path, first_data)
    del first, first_data

    second = iris_model()  # a NEW model and a NEW dataset object
    second_data = iris()
    second.load(path, second_data)
    assert second.epoch == 3
    second.train(second_data, 3, verbose=False)

    assert second.epoch == straight.epoch == 6
    assert second.history == straight.history
    assert_same_parameters(snapshot(second), snapshot(straight))
    straight_state = straight.optimizer.state_dict()
    second_state = second.optimizer.state_dict()
    assert straight_state.keys() == second_state.keys()
    for key in straight_state:
        assert np.array_equal(straight_state[key], second_state[key]), key


def test_load_missing_checkpoint_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint"):
        iris_model().load(tmp_path / "nothing.npz")


def test_load_garbage_file_raises_value_error(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(ValueError, match=r"not a readable checkpoint"):
        iris_model().load(path)


def _saved_checkpoint(tmp_path, model=None):
    dataset = iris()
    model = model or iris_model()
    model.train(dataset, 1, verbose=False)
    return model.save(tmp_path / "ck.npz", dataset)


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
def test_load_truncated_checkpoint_raises_value_error(tmp_path, keep):
    # Found while writing these tests: zipfile.BadZipFile / EOFError escaped load().
    path = _saved_checkpoint(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)])
    with pytest.raises(ValueError, match=r"not a readable checkpoint"):
        iris_model().load(path)


def _digits_checkpoint(tmp_path):
    digits = initialize_dataset("digits", batch_size=25, seed=0, flatten=True)
    model = iris_model()
    model.train(digits, 1, verbose=False)
    return model.save(tmp_path / "digits.npz", digits)



def test_failed_load_leaves_an_unbuilt_model_untouched(tmp_path):
    path = _digits_checkpoint(tmp_path)
    model = iris_model()
    with pytest.raises(ValueError, match=r"NeuralNetwork.load"):
        model.load(path, iris())
    assert not model.built
    assert all(not layer.parameters for layer in model.layers)
    model.train(iris(), 2, verbose=False)
    fresh = iris_model()
    fresh.train(iris(), 2, verbose=False)
    assert_same_parameters(snapshot(fresh), snapshot(model))


def test_save_load_round_trip_restores_predictions(tmp_path):
    dataset = iris()
    model = iris_model()
    model.train(dataset, 4, verbose=False)
    model.save(tmp_path / "ck.npz")
    clone = iris_model(seed=123).load(tmp_path / "ck.npz")
    assert np.array_equal(clone.forward(dataset.test.data), model.forward(dataset.test.data))
    assert clone.epoch == 4


# ---------------------------------------------------------------------------
# Logger integration: every promised file
# ---------------------------------------------------------------------------


def test_logger_files_exist_and_read_back_after_training(tmp_path, capsys):
    epochs = 4
    dataset = iris()
    logger = Logger("run", {"layer_args": IRIS_LAYERS}, {"name": "iris", "batch_size": 25},
                    save=True, plot=True, save_dir=tmp_path)
    model = iris_model(logger=logger)
    model.train(dataset, epochs, verbose=False)
    results = model.test(dataset, save_predictions=True)
    run = tmp_path / "run"

    log = load_log(run)
    # The course's keys, plus the untrained network's numbers under "baseline".
    assert set(log) == {"loss", "error", "params", "baseline"}
    assert log["baseline"] == {k: model.history["baseline"][k] for k in ("loss", "error")}
    for metric in ("loss", "error"):
        assert set(log[metric]) == {"train", "validate"}
        assert log[metric]["train"] == model.history[metric]["train"]
        assert log[metric]["validate"] == model.history[metric]["validate"]
        assert len(log[metric]["train"]) == epochs
    assert set(log["params"]) == {"W0", "b0", "W1", "b1"}
    for name, extremes in log["params"].items():
        assert len(extremes["max"]) == len(extremes["min"]) == epochs
        assert extremes["max"][-1] == float(np.max(model.parameters()[name]))
        assert extremes["min"][-1] == float(np.min(model.parameters()[name]))

    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == list(range(1, epochs + 1))
    assert history["loss"] == model.history["loss"]
    with open(run / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # An epoch-0 row for the untrained network, then one row per epoch.
    assert [r["epoch"] for r in rows] == [str(e) for e in range(epochs + 1)]
    baseline = model.history["baseline"]
    assert float(rows[0]["validate_loss"]) == baseline["loss"]["validate"]
    assert float(rows[0]["train_accuracy"]) == pytest.approx(1 - baseline["error"]["train"])
    rows = rows[1:]
    assert [float(r["train_loss"]) for r in rows] == model.history["loss"]["train"]
    assert [float(r["validate_accuracy"]) for r in rows] == pytest.approx(
        [1 - e for e in model.history["error"]["validate"]])

    for name in ("loss", "error", "accuracy", "W0", "b0", "W1", "b1"):
        png = run / f"{name}.png"
        assert png.read_bytes()[:8] == PNG_SIGNATURE, name
        assert imread(png).ndim == 3

    for name in ("model_args", "data_args", "model_args.json", "data_args.json"):
        assert (run / name).is_file(), name
    assert json.loads((run / "data_args.json").read_text()) == {"name": "iris", "batch_size": 25}

    with np.load(run / "checkpoint.npz") as archive:
        meta = json.loads(str(archive["meta"]))
        assert meta["epoch"] == epochs
        assert np.array_equal(archive["W0"], model.parameters()["W0"])
    restored = iris_model().load(run / "checkpoint.npz")
    assert restored.history == model.history

    assert set(results) == {"loss", "error", "prediction", "Test Loss", "Test Accuracy"}  # the course's keys, and the printed numbers
    with open(run / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == dataset.test.n_samples == 30
    assert [int(r["index"]) for r in rows] == list(range(30))
    expected = model.predict_classes(dataset.test.data)
    assert [int(r["predicted"]) for r in rows] == expected.tolist()
    assert [int(r["label"]) for r in rows] == np.argmax(dataset.test.labels, axis=1).tolist()
    probabilities = np.array([[float(r[f"p{k}"]) for k in range(3)] for r in rows])
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    capsys.readouterr()



def test_save_parameters_without_a_folder_returns_copies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = iris_model()
    model.train(iris(), 1, verbose=False)
    params = model.save_parameters(1)
    assert list(params) == ["W0", "b0", "W1", "b1"]
    assert_same_parameters(params, model.parameters())
    params["W0"][...] = 0
    assert not np.array_equal(model.parameters()["W0"], params["W0"])
    assert list(tmp_path.iterdir()) == []


def test_save_parameters_writes_an_npz_in_the_run_folder(tmp_path):
    model = iris_model(logger=saving_logger(tmp_path))
    model.train(iris(), 3, verbose=False)
    params = model.save_parameters(3)
    path = tmp_path / "run" / "parameters_epoch3.npz"
    assert path.is_file()
    with np.load(path) as archive:
        assert sorted(archive.files) == ["W0", "W1", "b0", "b1"]
        for key in archive.files:
            assert np.array_equal(archive[key], params[key])



def test_load_accepts_the_same_network_written_with_or_without_defaults(tmp_path):
    explicit = [
        {"name": "conv2d", "n_out": 2, "kernel_shape": (3, 3), "stride": 1, "pad": "same",
         "activation": "relu", "weight_init": "he_uniform"},
        {"name": "flatten", "keep_dim": "first"},
        {"name": "fully_connected", "n_out": 3, "activation": "softmax", "weight_init": "xavier_uniform"},
    ]
    implicit = [
        {"name": "Conv2D", "n_out": 2, "kernel_shape": 3, "activation": "relu"},
        {"name": "flatten"},
        {"name": "fully_connected", "n_out": None, "activation": "softmax"},
    ]
    optimizer = {"name": "SGD", "lr": 0.1}
    source = NeuralNetwork("cross_entropy", explicit, optimizer, seed=0)
    source.forward(np.ones((1, 4, 4, 1)))
    path = source.save(tmp_path / "net.npz")
    target = NeuralNetwork("cross_entropy", implicit, optimizer, seed=1).load(path)
    for name, value in source.parameters().items():
        assert np.array_equal(target.parameters()[name], value), name
    other = [dict(implicit[0], stride=2)] + implicit[1:]
    with pytest.raises(ValueError, match="was saved from a network with layer_args"):
        NeuralNetwork("cross_entropy", other, optimizer, seed=1).load(path)



def test_resume_with_batchnorm_and_dropout_equals_an_uninterrupted_run(tmp_path):
    straight = bn_model()
    straight.train(iris(), 6, verbose=False)

    first, first_data = bn_model(), iris()
    first.train(first_data, 3, verbose=False)
    path = tmp_path / "half.npz"
    first.save(path, first_data)
    del first, first_data

    second, second_data = bn_model(), iris()
    second.load(path, second_data)
    second.train(second_data, 3, verbose=False)

    assert second.history == straight.history
    assert_same_parameters(snapshot(second), snapshot(straight))
    for key in ("running_mu", "running_var"):
        assert np.array_equal(second.layers[1].cache[key], straight.layers[1].cache[key]), key
    dataset = iris()
    assert np.array_equal(second.forward(dataset.test.data), straight.forward(dataset.test.data))


def test_checkpoint_holds_the_running_statistics(tmp_path):
    dataset = iris()
    model = bn_model()
    model.train(dataset, 2, verbose=False)
    path = model.save(tmp_path / "ck.npz")
    with np.load(path) as archive:
        assert np.array_equal(archive["buffer.running_mu1"], model.layers[1].cache["running_mu"])
        assert np.array_equal(archive["buffer.running_var1"], model.layers[1].cache["running_var"])
        assert "gamma1" in archive.files and "beta1" in archive.files
    clone = bn_model(seed=5).load(path)  # never ran forward: the layers are built from the file
    assert np.array_equal(clone.forward(dataset.test.data), model.forward(dataset.test.data))


def test_checkpoint_without_generator_states_still_loads(tmp_path):
    # Checkpoints written before the layers' generators were saved.
    dataset = iris()
    model = iris_model()
    model.train(dataset, 1, verbose=False)
    state = model.state_dict()
    meta = json.loads(str(state["meta"]))
    del meta["layer_rngs"]
    state["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **state)
    clone = iris_model().load(tmp_path / "old.npz")
    assert clone.epoch == 1
    assert_same_parameters(snapshot(clone), snapshot(model))




# ---------------------------------------------------------------------------
# A checkpoint that does not fit changes nothing
# ---------------------------------------------------------------------------

# (a change to the saved arrays and meta, the message it must raise)
REFUSED = [
    (lambda state, meta: meta["layer_args"][2].update(p=0.5), r"was saved from a network with layer_args"),
    (lambda state, meta: meta["layer_args"].pop(), r"was saved from a network with layer_args"),
    (lambda state, meta: meta.update(optimizer="Adam"), r"holds the state of a Adam optimizer; this network uses SGD"),
    (lambda state, meta: meta.update(loss="l2"), r"was trained with the 'l2' loss; this network uses 'cross_entropy'"),
    (lambda state, meta: state.update(b0=state["b0"][:, :3]), r"b0 has shape \(1, 3\) in .*ck.npz but \(1, 25\)"),
    (lambda state, meta: state.update(W9=state["W0"]), r"does not match this network: missing \[\], unexpected \['W9'\]"),
    # (a layer that has not run yet learns its size from gamma: without it, beta is too many)
    (lambda state, meta: state.pop("gamma1"),
     r"does not match this network: missing (\['gamma1'\]|\[\], unexpected \['beta1'\])"),
    (lambda state, meta: state.pop("buffer.running_var1"),
     r"this network's buffers \(running statistics\): missing \['running_var1'\], unexpected \[\]"),
    (lambda state, meta: state.update({"buffer.running_mu1": np.zeros((1, 3))}), r"running_mu1 has shape \(1, 3\)"),
    (lambda state, meta: meta["layer_rngs"][2].update(state="junk"), r"the generator states in .* do not fit: "),
    (lambda state, meta: meta.update(layer_rngs=meta["layer_rngs"][:1]), r"the generator states in .* do not fit: 1 states for 4 layers"),
    (lambda state, meta: state.update({"optimizer.W0.bogus": state["W0"]}), r"the optimizer state in .* does not fit"),
    (lambda state, meta: state.update({"optimizer.W0.velocity": state["optimizer.W0.velocity"][:2]}),
     r"the optimizer state in .* does not fit: W0.velocity has shape \(2, 25\), not its parameter's"),
    (lambda state, meta: meta["data_state"].update(n_samples=7), r"the data order saved in .* does not fit"),
]


def fingerprint(model, dataset):
    """Everything a load could change, as bytes."""
    layers = [(layer.n_in, layer.parameters, layer.cache.get("running_mu")) for layer in model.layers]
    return pickle.dumps((model.built, layers, model.epoch, model.history, model.optimizer.state_dict(),
                         [rng.bit_generator.state for rng in model.layer_rngs + [model.data_rng]],
                         dataset.train.get_state()))


@pytest.mark.parametrize("built", [True, False])
@pytest.mark.parametrize("change, message", REFUSED)
def test_a_checkpoint_that_does_not_fit_is_refused_and_changes_nothing(tmp_path, change, message, built):
    source, data = bn_model(), iris()
    source.train(data, 1, verbose=False)
    state = source.state_dict(data)
    meta = json.loads(str(state["meta"]))
    change(state, meta)
    state["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "ck.npz", **state)

    model, dataset = bn_model(seed=3), iris(seed=3)
    if built:
        model.train(dataset, 2, verbose=False)
    before = fingerprint(model, dataset)
    with pytest.raises(ValueError, match=r"^NeuralNetwork.load: .*" + message):
        model.load(tmp_path / "ck.npz", dataset)
    assert fingerprint(model, dataset) == before
