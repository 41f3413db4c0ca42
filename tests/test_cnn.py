"""The convolutional network of train_cnn.py, end to end on the digits data."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from neural_networks.datasets import initialize_dataset
from neural_networks.models import NeuralNetwork

ROOT = Path(__file__).resolve().parent.parent


def cnn_layer_args():
    """The layer_args at the top of train_cnn.py (the network students run)."""
    spec = importlib.util.spec_from_file_location("train_cnn", ROOT / "train_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.layer_args


def build(dtype, seed=0, batch_size=32):
    dataset = initialize_dataset("digits", batch_size=batch_size, seed=seed, dtype=dtype)
    model = NeuralNetwork("cross_entropy", cnn_layer_args(), {"name": "adam", "lr": 0.003}, seed=seed)
    return model, dataset


def test_quick_digits_cnn_beats_90_percent(capsys):
    model, dataset = build(np.float64)
    model.train(dataset, 5, verbose=False)
    results = model.test(dataset)
    sizes = [min(dataset.test.batch_size, dataset.test.n_samples - i * dataset.test.batch_size)
             for i in range(len(results["error"]))]
    accuracy = 1 - np.average(results["error"], weights=sizes)
    assert accuracy > 0.90
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert printed.startswith("Test Loss: ") and " Test Accuracy: " in printed
    assert float(printed.rsplit(" ", 1)[1]) == pytest.approx(accuracy)


def test_float32_run_stays_float32_and_agrees_with_float64():
    runs = {}
    for dtype in (np.float64, np.float32):
        model, dataset = build(dtype)
        model.build(dataset.out_dim)
        losses = []
        for _ in range(5):
            X, Y = dataset.train.sample()
            out = model.forward(X)
            assert out.dtype == dtype
            losses.append(model.backward(Y, out))
            model.update(0)
        for layer in model.layers:
            for name, value in layer.parameters.items():
                assert value.dtype == dtype, (layer, name)
                assert layer.gradients[name].dtype == dtype, (layer, name)
        runs[dtype] = (losses, model.parameters())
    losses64, params64 = runs[np.float64]
    losses32, params32 = runs[np.float32]
    # The same data order and initial weights: the two precisions follow the
    # same path, up to float32 rounding amplified by five Adam steps.
    np.testing.assert_allclose(losses32, losses64, rtol=1e-3)
    for name in params64:
        np.testing.assert_allclose(params32[name], params64[name], rtol=1e-2, atol=1e-3)
