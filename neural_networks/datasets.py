"""Mini-batches: :class:`Data` hands out one set of examples, :class:`Dataset` holds
the training, validation and test sets, and :func:`initialize_dataset` loads one by
name (:mod:`neural_networks.loaders` reads the files).
"""

import math
import os
from pathlib import Path

import numpy as np

from .checks import check_array, check_bool, check_int, describe, lookup, non_finite
from .loaders import LOADERS, SPLIT_SEED  # noqa: F401  (datasets.SPLIT_SEED is the documented name)
from .utils import integers_to_one_hot, make_rng

#: The environment variable that overrides the default data folder, and that folder.
DATA_ENV_VAR = "NEURAL_NETWORKS_DATA"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "datasets"


class Data:
    """One set of examples, and their labels, handed out in mini-batches.

    ``data`` is ``(batch, features)`` or ``(batch, rows, cols, channels)``, all finite; an integer array
    becomes float64, a float array is kept as a read-only view. ``labels`` is None, class indices
    ``(batch,)`` (one-hot encoded in the dtype of ``data``), or one-hot labels or regression targets
    ``(batch, out_dim)``, kept as given. ``out_dim`` defaults to the columns of 2-D labels or
    ``max(labels) + 1``. ``shuffle`` draws a new order with ``self.rng`` (seeded by ``seed``) at the start
    of each pass. Attributes: ``data``, ``labels``, ``batch_size``, ``n_samples``, ``out_dim``, ``shuffle``,
    ``rng``, and ``samples_per_epoch``, the mini-batches per pass, ``ceil(n_samples / batch_size)``."""

    def __init__(self, data, batch_size=50, labels=None, out_dim=None, shuffle=True, seed=None):
        where = "Data"
        self.batch_size = check_int(batch_size, "batch_size", where)
        data = check_array(data, "data", where)
        if data.ndim == 0 or data.shape[0] == 0:
            raise ValueError(f"{where}: data must hold at least one example along its first axis; "
                             f"got shape {data.shape}")
        # A NaN found later, as a NaN loss, would look like a diverging run.
        if problem := non_finite(data, "data"):
            raise ValueError(f"{where}: {problem}")
        out_dim = None if out_dim is None else check_int(out_dim, "out_dim", where)
        self.shuffle = check_bool(shuffle, "shuffle", where)
        self.rng = _prefixed(where, make_rng, seed)
        self.data, self.n_samples = _read_only(data), int(data.shape[0])
        self.labels, self.out_dim = _prepare_labels(labels, out_dim, self.n_samples, data.dtype, where)
        self.samples_per_epoch = math.ceil(self.n_samples / self.batch_size)
        # The order of the current pass and the position in it of the next batch.
        self._order, self._position = np.arange(self.n_samples), 0

    def sample(self):
        """The next mini-batch ``(X, Y)``, Y None without labels. A pass hands out
        every example once, in a new order when ``shuffle`` is True."""
        if self._position == 0 and self.shuffle:
            self._order = self.rng.permutation(self.n_samples)
        rows = self._order[self._position:self._position + self.batch_size]
        self._position = (self._position + len(rows)) % self.n_samples
        return self._batch(rows)

    def iter_batches(self):
        """Yield ``(X, Y)`` over the set in stored order, as :meth:`sample` does,
        without drawing from ``self.rng`` or moving :meth:`sample`'s position."""
        for start in range(0, self.n_samples, self.batch_size):
            yield self._batch(slice(start, start + self.batch_size))

    def reset(self):
        """Restart the pass (a shuffled set gets a fresh order)."""
        self._position = 0

    def get_state(self):
        """The sampling state as a JSON-serialisable dict, for :meth:`set_state`."""
        return {"rng": self.rng.bit_generator.state, "position": self._position, "n_samples": self.n_samples,
                "order": self._order.tolist() if self.shuffle and self._position else None}

    def set_state(self, state):
        """Restore a state from :meth:`get_state`, checking all of it before changing anything."""
        where = "Data.set_state"
        if not isinstance(state, dict):
            raise TypeError(f"{where}: state must be a dict from get_state(); got {describe(state)}")
        if missing := {"rng", "order", "position", "n_samples"} - set(state):
            raise ValueError(f"{where}: state lacks the keys {sorted(missing)}")
        if state["n_samples"] != self.n_samples:
            raise ValueError(f"{where}: state is for a set of {state['n_samples']} examples; this one has "
                             f"{self.n_samples}")
        position = check_int(state["position"], "state['position']", where, minimum=0)
        if position >= self.n_samples:
            raise ValueError(f"{where}: state['position'] must be < n_samples={self.n_samples}; "
                             f"got {position}")
        order = None if state["order"] is None else np.asarray(state["order"])
        if order is not None and (order.dtype.kind not in "iu" or order.shape != (self.n_samples,)
                                  or not np.array_equal(np.sort(order), np.arange(self.n_samples))):
            raise ValueError(f"{where}: state['order'] must be a permutation of range({self.n_samples})")
        if (order is not None) != (self.shuffle and position > 0):
            raise ValueError(f"{where}: state['order'] must be a list inside a pass of a shuffled set and "
                             f"None otherwise; got {describe(state['order'])} at position {position}")
        try:  # numpy reads the whole state before it sets any of it
            self.rng.bit_generator.state = state["rng"]
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"{where}: state['rng'] is not a {type(self.rng.bit_generator).__name__} "
                             f"state: {error}") from None
        self._order = np.arange(self.n_samples) if order is None else order
        self._position = position

    def _batch(self, rows):
        return self.data[rows], None if self.labels is None else self.labels[rows]

    def __repr__(self):
        return (f"Data(n_samples={self.n_samples}, example_shape={self.data.shape[1:]}, "
                f"batch_size={self.batch_size}, out_dim={self.out_dim}, shuffle={self.shuffle})")


def _prefixed(where, function, *args):
    """``function(*args)``, with ``where`` in front of the message of its TypeError or ValueError."""
    try:
        return function(*args)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from None


def _read_only(array):
    # A caller's in-place change raises instead of corrupting the stored set.
    view = array.view()
    view.flags.writeable = False
    return view


def _prepare_labels(labels, out_dim, n_samples, dtype, where):
    """``(labels as a read-only array or None, out_dim)`` for :class:`Data`."""
    if labels is None:
        return None, out_dim
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{where}: labels must be a numpy array or None; got {describe(labels)}")
    if labels.ndim not in (1, 2):
        raise ValueError(f"{where}: labels must have shape (batch,) (class indices) or (batch, out_dim); "
                         f"got shape {labels.shape}")
    if labels.shape[0] != n_samples:
        raise ValueError(f"{where}: labels must have one row per example: data has {n_samples} "
                         f"examples but labels has {labels.shape[0]}")
    if labels.ndim == 1:
        if labels.dtype.kind not in "iu":
            raise TypeError(f"{where}: labels of shape (batch,) must be integer class indices; got "
                            f"dtype {labels.dtype} (for regression pass targets of shape (batch, targets))")
        if labels.min() < 0:
            raise ValueError(f"{where}: class indices in labels must be >= 0; got {labels.min()}")
        out_dim = int(labels.max()) + 1 if out_dim is None else out_dim
        if labels.max() >= out_dim:
            raise ValueError(f"{where}: labels holds class {labels.max()} but out_dim is {out_dim} "
                             f"(classes must be < out_dim)")
        return _read_only(integers_to_one_hot(labels, out_dim - 1).astype(dtype, copy=False)), out_dim
    if labels.dtype.kind in "biu":
        labels = labels.astype(dtype)
    if problem := non_finite(check_array(labels, "labels", where), "labels"):
        raise ValueError(f"{where}: {problem}")
    if out_dim is not None and labels.shape[1] != out_dim:
        raise ValueError(f"{where}: labels has {labels.shape[1]} columns but out_dim is {out_dim}")
    return _read_only(labels), int(labels.shape[1])


class Dataset:
    """A training set with optional validation and test sets.

    The sets are shaped as ``Data``'s ``data`` (one example shape), their labels as ``Data``'s ``labels``,
    class indices one-hot encoded to the training set's ``out_dim``. Give labels for every set or for none;
    only a test set's may be hidden (None). ``seed`` seeds the shuffling of the training set, the only one
    shuffled (a ``NeuralNetwork`` with its own ``seed`` replaces it). Attributes: ``train``, ``validate``,
    ``test`` (``Data`` or None), ``out_dim``, ``input_shape`` (one example's shape), ``n_features`` (its
    product), and from :func:`initialize_dataset` ``indices``: each split's rows in its source file."""

    def __init__(self, training_set, training_labels, batch_size, validation_set=None,
                 validation_labels=None, test_set=None, test_labels=None, seed=None):
        batch_size = check_int(batch_size, "batch_size", "Dataset")
        self.out_dim = None  # until the training set gives it
        rng = _prefixed("Dataset", make_rng, seed)
        self.train = self._split("training", training_set, training_labels, batch_size, rng)
        self.out_dim, self.input_shape = self.train.out_dim, tuple(int(n) for n in self.train.data.shape[1:])
        self.n_features = math.prod(self.input_shape)
        self.validate = self._split("validation", validation_set, validation_labels, batch_size)
        self.test = self._split("test", test_set, test_labels, batch_size)
        self.indices = None

    def _split(self, kind, data, labels, batch_size, rng=None):
        """A :class:`Data`, shuffled for training only, whose error messages name the set."""
        if data is None and kind != "training":
            if labels is not None:
                raise ValueError(f"Dataset: {kind}_labels were given without a {kind}_set")
            return None
        try:
            split = Data(data, batch_size, labels, self.out_dim, shuffle=kind == "training", seed=rng)
        except (TypeError, ValueError) as error:
            raise type(error)(f"Dataset: {kind} set: {str(error).removeprefix('Data: ')}") from None
        if kind == "training":
            return split
        if split.data.shape[1:] != self.input_shape:
            raise ValueError(f"Dataset: {kind}_set examples have shape {split.data.shape[1:]} "
                             f"but training examples have shape {self.input_shape}")
        # Only a test set may lack labels (hidden, as in a competition).
        hidden_test = kind == "test" and split.labels is None
        if (split.labels is None) != (self.train.labels is None) and not hidden_test:
            raise ValueError(
                f"Dataset: give labels for all sets or for none (only the test set may lack "
                f"them); the training set {'has' if self.train.labels is not None else 'has no'} "
                f"labels but {kind}_labels is {'None' if split.labels is None else 'given'}")
        return split

    def __repr__(self):
        sizes = [getattr(split, "n_samples", None) for split in (self.train, self.validate, self.test)]
        return ("Dataset(train={}, validate={}, test={}, ".format(*sizes)
                + f"input_shape={self.input_shape}, out_dim={self.out_dim})")


def initialize_dataset(name, batch_size=50, seed=None, flatten=False, dtype=np.float64, data_dir=None):
    """Load a dataset by name as a :class:`Dataset`, split and standardized.

    ``name`` (any case) is "iris" (examples ``(4,)``, 105 / 15 / 30 for train / validate / test), "digits"
    (``(8, 8, 1)``, 1259 / 179 / 359), "fashion_mnist" (``(28, 28, 1)``, 55000 / 5000 / 10000), "mnist"
    (``(28, 28, 1)``, 54998 / 5002 / 10000) or "cifar10" (``(32, 32, 3)``, 45000 / 5000 / 10000);
    ``datasets/README.md`` lists their files. Splits are stratified by class and fixed by
    :data:`SPLIT_SEED`; examples are standardized with the training split's statistics. ``seed`` seeds the
    training split's shuffling; ``flatten`` reshapes images to ``(batch, features)``; ``dtype``
    (numpy.float32 or numpy.float64) is that of examples and labels; ``data_dir`` defaults to
    ``$NEURAL_NETWORKS_DATA``, else ``datasets/``. A missing folder or file raises FileNotFoundError."""
    where = "initialize_dataset"
    loader = _prefixed(where, lookup, LOADERS, name, "dataset name")
    batch_size = check_int(batch_size, "batch_size", where)
    rng = _prefixed(where, make_rng, seed)
    flatten = check_bool(flatten, "flatten", where)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype must be numpy.float32 or numpy.float64; got "
                        f"{describe(dtype)}") from None
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{where}: dtype must be numpy.float32 or numpy.float64; got {dtype}")
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"{where}: data_dir must be a path or None; got {describe(data_dir)}")
    folder = Path(os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_DIR if data_dir is None else data_dir)
    folder = folder.expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{where}: the data folder {folder} {'is a file' if folder.exists() else 'does not exist'}; "
            f"give the folder that holds the {name.lower()} files as data_dir (--data-dir on the "
            f"command line; datasets/README.md lists the files)")
    splits, indices = loader(folder, dtype)
    if flatten:
        splits = {key: (X.reshape(len(X), -1), y) for key, (X, y) in splits.items()}
    dataset = Dataset(*splits["train"], batch_size, *splits["validate"], *splits["test"], seed=rng)
    dataset.indices = indices
    return dataset
