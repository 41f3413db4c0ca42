"""The files of a model's test-set predictions.

* ``predictions.csv``: one row per test example in stored order; for
  classification the predicted class, the label (when the test split has
  labels) and every class probability; for regression the outputs.
* ``kaggle_predictions.csv``: the course's Kaggle format, header
  ``Id,Category``, ``Id`` running 0..n-1 and ``Category`` the predicted class
  as an integer (a file with decimal points in it scores zero).
"""

import csv
import io

import numpy as np

from .logs import run_dir
from .losses import CrossEntropy
from .utils import atomic_write_text


def run_file(logger, name):
    """``<run folder>/name`` when the model's ``logger`` saves files, else None."""
    folder = run_dir(logger)
    return None if folder is None else folder / name


def test_line(loss, log, sizes, outputs, labels):
    """The line ``NeuralNetwork.test`` prints, from its per-batch ``log``.

    * cross-entropy: ``Test Loss: <x> Test Accuracy: <y>`` (the course's line);
    * L2 with one-hot targets: the same, with the argmax accuracy, then
      ``Test MSE: <z>``;
    * L2 with other targets: ``Test Loss: <x> Test MSE: <z>``;
    * no labels: how many examples were predicted.
    """
    if labels is None:
        return f"The test set has no labels: {sum(sizes)} examples predicted, no Test Loss or Accuracy."
    mean_loss = float(np.average(log["loss"], weights=sizes))
    mean_error = float(np.average(log["error"], weights=sizes))
    if isinstance(loss, CrossEntropy):
        return f"Test Loss: {mean_loss} Test Accuracy: {1 - mean_error}"
    if not _one_hot(labels):
        return f"Test Loss: {mean_loss} Test MSE: {mean_error}"
    predicted = np.argmax(np.concatenate(outputs), axis=-1)
    accuracy = float(np.mean(predicted == np.argmax(labels, axis=-1)))
    return f"Test Loss: {mean_loss} Test Accuracy: {accuracy} Test MSE: {mean_error}"


def _one_hot(labels):
    """True when every row of ``labels`` is 0 except one 1."""
    return labels.ndim == 2 and bool(np.all((labels == 0) | (labels == 1))) and bool(
        np.all(labels.sum(axis=1) == 1))


def write_predictions(path, outputs, data, loss):
    """Write ``predictions.csv`` for the network's ``outputs`` on ``data``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if isinstance(loss, CrossEntropy):
        header = ["index", "predicted"]
        if data.labels is not None:
            header.append("label")
        writer.writerow(header + [f"p{k}" for k in range(outputs.shape[1])])
        predicted = np.argmax(outputs, axis=1)
        labels = None if data.labels is None else np.argmax(data.labels, axis=1)
        for i, row in enumerate(outputs):
            fields = [i, int(predicted[i])] + ([] if labels is None else [int(labels[i])])
            writer.writerow(fields + [f"{p:.6g}" for p in row])
    else:
        writer.writerow(["index"] + [f"y{k}" for k in range(outputs.shape[1])])
        for i, row in enumerate(outputs.reshape(len(outputs), -1)):
            writer.writerow([i] + [f"{v:.8g}" for v in row])
    atomic_write_text(path, buffer.getvalue())


def write_kaggle(path, classes):
    """Write ``Id,Category`` rows: ``i, classes[i]`` as integers."""
    lines = ["Id,Category"] + [f"{i},{int(c)}" for i, c in enumerate(classes)]
    atomic_write_text(path, "\n".join(lines) + "\n")
