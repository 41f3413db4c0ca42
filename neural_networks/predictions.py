"""The line ``NeuralNetwork.test`` prints and the files of its predictions,
one row per example in stored order."""

import csv
import io

import numpy as np

from .losses import CrossEntropy
from .utils import atomic_write_text


def test_means(loss, log, sizes, outputs, labels):
    """The numbers of the course's line ``Test Loss: <x> Test Accuracy: <y>``, as
    ``{"Test Loss": x, "Test Accuracy": y}``: means over examples of the
    per-batch ``log``. With the L2 loss, accuracy only for one-hot targets, then
    ``"Test MSE"``; nothing for a test set without labels."""
    if labels is None:
        return {}
    means = {"Test Loss": float(np.average(log["loss"], weights=sizes))}
    error = float(np.average(log["error"], weights=sizes))
    if isinstance(loss, CrossEntropy):
        return {**means, "Test Accuracy": 1 - error}
    if labels.ndim == 2 and np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1):
        classes = np.argmax(np.concatenate(outputs), axis=-1)
        means["Test Accuracy"] = float(np.mean(classes == np.argmax(labels, axis=-1)))
    return {**means, "Test MSE": error}


def write_predictions(path, outputs, data, loss):
    """Write ``predictions.csv``: for classification the predicted class, the
    label (when ``data`` has labels) and every class probability; for
    regression the ``outputs``."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    outputs = outputs.reshape(len(outputs), -1)
    if not isinstance(loss, CrossEntropy):
        writer.writerow(["index"] + [f"y{k}" for k in range(outputs.shape[1])])
        writer.writerows([i] + [f"{v:.8g}" for v in row] for i, row in enumerate(outputs))
    else:
        labels = [] if data.labels is None else [np.argmax(data.labels, axis=1)]  # a column when known
        writer.writerow(["index", "predicted"] + ["label"] * len(labels)
                        + [f"p{k}" for k in range(outputs.shape[1])])
        for i, row in enumerate(outputs):
            writer.writerow([i, int(np.argmax(row))] + [int(y[i]) for y in labels]
                            + [f"{p:.6g}" for p in row])
    atomic_write_text(path, text.getvalue())


def write_kaggle(path, classes):
    """Write the course's Kaggle file: header ``Id,Category``, then ``i,classes[i]`` as integers."""
    atomic_write_text(path, "Id,Category\n" + "".join(f"{i},{int(c)}\n" for i, c in enumerate(classes)))
