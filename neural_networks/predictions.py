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

from .checkpoints import run_dir
from .losses import CrossEntropy
from .utils import atomic_write_text


def run_file(logger, name):
    """``<run folder>/name`` when the model's ``logger`` saves files, else None."""
    folder = run_dir(logger)
    return None if folder is None else folder / name


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
