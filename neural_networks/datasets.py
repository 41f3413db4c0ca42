"""Datasets: mini-batch sampling (:class:`Data`), train/validation/test bundles
(:class:`Dataset`) and the three datasets shipped with the project
(:func:`initialize_dataset`).

Shapes use the package's vocabulary: dense data is ``(batch, features)`` and
images are NHWC, ``(batch, rows, cols, channels)``; here ``batch`` is the number
of examples in the set or in the mini-batch. Labels are one-hot,
``(batch, classes)``, or regression targets ``(batch, targets)``.

The shipped files live in the ``datasets/`` folder at the root of the repository
(``datasets/README.md`` gives their origin, license and checksums). The split of
each dataset into train/validation/test is fixed by :data:`SPLIT_SEED`, so every
run, whatever its ``seed``, trains and is scored on the same examples.
"""

import csv
import math
import os
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .utils import (
    check_array,
    check_int,
    describe,
    integers_to_one_hot,
    lookup,
    make_rng,
    standardize,
)

#: Seed of the generator that splits every shipped dataset into train,
#: validation and test. It was set to 0 once, before any model was trained, and
#: is never tuned: changing it changes which examples are scored.
SPLIT_SEED = 0

#: Environment variable that overrides the default data folder.
DATA_ENV_VAR = "NEURAL_NETWORKS_DATA"

#: The default data folder: ``datasets/`` at the root of the repository.
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "datasets"

# Examples per chunk when converting images, so that the temporaries stay small
# (a few tens of MB) however large the split is.
_CHUNK = 4096


# ----------------------------------------------------------------------------
# Mini-batches over one set
# ----------------------------------------------------------------------------


class Data:
    """One set of examples (and labels) handed out in mini-batches.

    Parameters
    ----------
    data : ndarray, shape (batch, features) or (batch, rows, cols, channels)
        The examples along the first axis (any number of further axes).
        Integer arrays are converted to float64; float arrays are stored
        without a copy, as a read-only view (the caller's array is untouched).
    batch_size : int
        Examples per mini-batch (>= 1). The last batch of a pass may be smaller.
    labels : ndarray or None
        * shape (batch,) of non-negative integers: class indices, one-hot
          encoded to shape (batch, out_dim) in the dtype of ``data``;
        * shape (batch, out_dim): kept as given (one-hot labels or regression
          targets); an integer array is converted to the dtype of ``data``;
        * None: no labels, ``sample`` then returns ``(X, None)``.
    out_dim : int or None
        Width of the labels. By default the number of columns of 2-D labels,
        or ``max(labels) + 1`` for class indices. Give it when a set may lack
        the highest classes (a small validation set, say).
    shuffle : bool
        Draw a new random order at the start of each pass of :meth:`sample`.
    seed : int, numpy.random.Generator or None
        Seeds ``self.rng``, the generator that draws those orders.

    Attributes
    ----------
    data, labels : ndarray (read-only views) or None for ``labels``
    batch_size, n_samples : int
    samples_per_epoch : int
        Mini-batches per pass, ``ceil(n_samples / batch_size)``.
    out_dim : int or None
    shuffle : bool
    rng : numpy.random.Generator
    """

    def __init__(self, data, batch_size=50, labels=None, out_dim=None, shuffle=True, seed=None):
        where = "Data"
        self.batch_size = check_int(batch_size, "batch_size", where)
        data = check_array(data, "data", where)
        if data.ndim < 1:
            raise ValueError(
                f"{where}: data must have at least 1 dimension (examples first); "
                f"got shape {data.shape}"
            )
        if data.shape[0] == 0:
            raise ValueError(f"{where}: data must hold at least one example; got shape {data.shape}")
        if out_dim is not None:
            out_dim = check_int(out_dim, "out_dim", where)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"{where}: shuffle must be True or False; got {describe(shuffle)}")
        self.rng = _make_rng(seed, where)

        self.data = _read_only(data)
        self.n_samples = int(data.shape[0])
        self.labels, self.out_dim = _prepare_labels(labels, out_dim, self.n_samples, data.dtype, where)
        self.shuffle = bool(shuffle)
        self.samples_per_epoch = math.ceil(self.n_samples / self.batch_size)
        # The order of the current pass (None between passes or when not
        # shuffling) and the position in it of the next batch.
        self._order = None
        self._position = 0

    def sample(self):
        """Return the next mini-batch ``(X, Y)``.

        A pass hands out every example exactly once. At the start of each pass
        (the first call, and the call after a pass's last batch) a new order is
        drawn with ``self.rng`` when ``shuffle`` is True; otherwise the stored
        order is used.

        Returns
        -------
        X : ndarray, shape (batch, features) or (batch, rows, cols, channels)
        Y : ndarray, shape (batch, out_dim), or None when there are no labels
            ``batch`` is ``batch_size``, or less for the last batch of a pass.
        """
        if self._position == 0 and self.shuffle:
            self._order = self.rng.permutation(self.n_samples)
        start = self._position
        stop = min(start + self.batch_size, self.n_samples)
        index = slice(start, stop) if self._order is None else self._order[start:stop]
        if stop == self.n_samples:
            self.reset()
        else:
            self._position = stop
        return self._batch(index)

    def iter_batches(self):
        """Yield ``(X, Y)`` over the whole set in stored order, never shuffled.

        Meant for evaluation: it neither draws from ``self.rng`` nor moves the
        position of :meth:`sample`. Shapes as in :meth:`sample`.
        """
        for start in range(0, self.n_samples, self.batch_size):
            yield self._batch(slice(start, start + self.batch_size))

    def reset(self):
        """Restart the pass: the next :meth:`sample` begins a new one.

        The generator is not rewound, so a shuffled set gets a fresh order.
        """
        self._order = None
        self._position = 0

    def get_state(self):
        """Return the sampling state as a JSON-serialisable dict.

        Keys: ``"rng"`` (``rng.bit_generator.state``), ``"order"`` (the current
        pass's order as a list of ints, or None), ``"position"`` (index in that
        order of the next batch) and ``"n_samples"``. Restoring it with
        :meth:`set_state` makes the following batches identical.
        """
        return {
            "rng": self.rng.bit_generator.state,
            "order": None if self._order is None else self._order.tolist(),
            "position": self._position,
            "n_samples": self.n_samples,
        }

    def set_state(self, state):
        """Restore a state returned by :meth:`get_state` (possibly via JSON).

        Everything is checked before anything changes: on error the set is
        left as it was.
        """
        where = "Data.set_state"
        if not isinstance(state, dict):
            raise TypeError(f"{where}: state must be a dict from get_state(); got {describe(state)}")
        missing = {"rng", "order", "position", "n_samples"} - set(state)
        if missing:
            raise ValueError(f"{where}: state lacks the keys {sorted(missing)}")
        if state["n_samples"] != self.n_samples:
            raise ValueError(
                f"{where}: state is for a set of {state['n_samples']} examples; "
                f"this one has {self.n_samples}"
            )
        position = check_int(state["position"], "state['position']", where, minimum=0)
        if position >= self.n_samples:
            raise ValueError(
                f"{where}: state['position'] must be < n_samples={self.n_samples}; got {position}"
            )
        order = state["order"]
        if order is not None:
            if not self.shuffle:
                raise ValueError(f"{where}: state has an order but this set does not shuffle")
            order = np.asarray(order)
            if (
                order.shape != (self.n_samples,)
                or order.dtype.kind not in "iu"
                or not np.array_equal(np.sort(order), np.arange(self.n_samples))
            ):
                raise ValueError(
                    f"{where}: state['order'] must be a permutation of range({self.n_samples})"
                )
            order = order.astype(np.intp)
        elif self.shuffle and position != 0:
            raise ValueError(f"{where}: state has a position inside a pass but no order")
        # Try the generator state on a scratch generator first, so that a bad
        # one leaves self.rng untouched.
        scratch = type(self.rng.bit_generator)()
        try:
            scratch.state = state["rng"]
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(
                f"{where}: state['rng'] is not a {type(scratch).__name__} state: {error}"
            ) from None
        self.rng.bit_generator.state = state["rng"]
        self._order = order
        self._position = position

    def _batch(self, index):
        X = self.data[index]
        Y = None if self.labels is None else self.labels[index]
        return X, Y

    def __len__(self):
        return self.samples_per_epoch

    def __repr__(self):
        return (
            f"Data(n_samples={self.n_samples}, example_shape={self.data.shape[1:]}, "
            f"batch_size={self.batch_size}, out_dim={self.out_dim}, shuffle={self.shuffle})"
        )


def _make_rng(seed, where):
    try:
        return make_rng(seed)
    except TypeError as error:
        raise TypeError(f"{where}: {error}") from None


def _read_only(array):
    # A read-only view: in-place changes by a caller raise instead of silently
    # corrupting the stored set. The caller's own array keeps its flags.
    view = array.view()
    view.flags.writeable = False
    return view


def _prepare_labels(labels, out_dim, n_samples, dtype, where):
    """Return ``(labels, out_dim)`` for :class:`Data`, labels as a read-only array."""
    if labels is None:
        return None, out_dim
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{where}: labels must be a numpy array or None; got {describe(labels)}")
    if labels.ndim not in (1, 2):
        raise ValueError(
            f"{where}: labels must have shape (batch,) (class indices) or "
            f"(batch, out_dim); got shape {labels.shape}"
        )
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"{where}: labels must have one row per example: data has {n_samples} "
            f"examples but labels has {labels.shape[0]}"
        )
    if labels.ndim == 1:
        if labels.dtype.kind not in "iu":
            raise TypeError(
                f"{where}: labels of shape (batch,) must be integer class indices; got "
                f"dtype {labels.dtype} (for regression pass targets of shape (batch, targets))"
            )
        if labels.min() < 0:
            raise ValueError(f"{where}: class indices in labels must be >= 0; got {labels.min()}")
        largest = int(labels.max())
        if out_dim is None:
            out_dim = largest + 1
        elif largest >= out_dim:
            raise ValueError(
                f"{where}: labels holds class {largest} but out_dim is {out_dim} "
                f"(classes must be < out_dim)"
            )
        one_hot = integers_to_one_hot(labels, max_val=out_dim - 1).astype(dtype, copy=False)
        return _read_only(one_hot), out_dim
    if labels.dtype.kind in "biu":
        labels = labels.astype(dtype)
    else:
        labels = check_array(labels, "labels", where)
    if out_dim is None:
        out_dim = int(labels.shape[1])
    elif labels.shape[1] != out_dim:
        raise ValueError(
            f"{where}: labels has {labels.shape[1]} columns but out_dim is {out_dim}"
        )
    return _read_only(labels), out_dim


# ----------------------------------------------------------------------------
# Train / validation / test
# ----------------------------------------------------------------------------


class Dataset:
    """A training set with optional validation and test sets.

    Parameters
    ----------
    training_set : ndarray, shape (batch, features) or (batch, rows, cols, channels)
    training_labels : ndarray, shape (batch,) of class indices, (batch, out_dim), or None
    batch_size : int
        Mini-batch size of all three sets.
    validation_set, test_set : ndarray or None
        Same shape per example as ``training_set``.
    validation_labels, test_labels : ndarray or None
        As ``training_labels``; class indices are one-hot encoded to the
        training set's ``out_dim``.
    seed : int, numpy.random.Generator or None
        Seeds the shuffling of the training set (only). A ``NeuralNetwork``
        built with its own ``seed`` replaces this generator with its own when
        it trains, so that the model's seed alone fixes the whole run.

    Attributes
    ----------
    train : Data
        Shuffled anew at every pass.
    validate, test : Data or None
        Not shuffled; None when not given.
    out_dim : int or None
        Width of the labels (number of classes).
    input_shape : tuple of int
        Shape of one example: ``(features,)`` or ``(rows, cols, channels)``.
    n_features : int
        Numbers per example, the product of ``input_shape``.
    indices : dict or None
        For the shipped datasets, ``{"train", "validate", "test"}`` -> the
        rows of the source file each split was taken from (see
        :func:`initialize_dataset`); None for a Dataset built from arrays.
    class_names : tuple of str or None
        For the shipped datasets, the name of each class.
    """

    def __init__(
        self,
        training_set,
        training_labels,
        batch_size,
        validation_set=None,
        validation_labels=None,
        test_set=None,
        test_labels=None,
        seed=None,
    ):
        where = "Dataset"
        batch_size = check_int(batch_size, "batch_size", where)
        self.train = _make_data(where, "training", training_set, training_labels,
                                batch_size, None, True, _make_rng(seed, where))
        self.out_dim = self.train.out_dim
        self.input_shape = tuple(int(n) for n in self.train.data.shape[1:])
        self.n_features = math.prod(self.input_shape)
        self.validate = self._optional(where, "validation", validation_set, validation_labels, batch_size)
        self.test = self._optional(where, "test", test_set, test_labels, batch_size)
        self.indices = None
        self.class_names = None

    def _optional(self, where, kind, data, labels, batch_size):
        if data is None:
            if labels is not None:
                raise ValueError(f"{where}: {kind}_labels were given without a {kind}_set")
            return None
        split = _make_data(where, kind, data, labels, batch_size, self.out_dim, False, None)
        if split.data.shape[1:] != self.input_shape:
            raise ValueError(
                f"{where}: {kind}_set examples have shape {split.data.shape[1:]} but "
                f"training examples have shape {self.input_shape}"
            )
        if (split.labels is None) != (self.train.labels is None):
            raise ValueError(
                f"{where}: give labels for all sets or for none; the training set "
                f"{'has' if self.train.labels is not None else 'has no'} labels but "
                f"{kind}_labels is {'None' if split.labels is None else 'given'}"
            )
        return split

    def __repr__(self):
        sizes = ", ".join(
            f"{name}={getattr(self, name).n_samples if getattr(self, name) is not None else None}"
            for name in ("train", "validate", "test")
        )
        return f"Dataset({sizes}, input_shape={self.input_shape}, out_dim={self.out_dim})"


def _make_data(where, kind, data, labels, batch_size, out_dim, shuffle, rng):
    """Build a :class:`Data`, naming the set in any error message."""
    try:
        return Data(data, batch_size, labels=labels, out_dim=out_dim, shuffle=shuffle, seed=rng)
    except (TypeError, ValueError) as error:
        message = str(error).removeprefix("Data: ")
        raise type(error)(f"{where}: {kind} set: {message}") from None


# ----------------------------------------------------------------------------
# The shipped datasets
# ----------------------------------------------------------------------------


def initialize_dataset(name, batch_size=50, seed=None, flatten=False, dtype=np.float64, data_dir=None):
    """Load one of the shipped datasets, split and standardized.

    Every split is stratified (each class is split in the same proportions),
    drawn with a generator seeded by :data:`SPLIT_SEED`, and kept in file order.
    Statistics for standardizing come from the training split alone.

    ==============  ====================  ========================  ======================
    name            example shape         train / validate / test   per class
    ==============  ====================  ========================  ======================
    iris            (4,)                  105 / 15 / 30             35 / 5 / 10
    digits          (8, 8, 1)             1259 / 179 / 359          about 70 / 10 / 20 %
    fashion_mnist   (28, 28, 1)           55000 / 5000 / 10000      5500 / 500 / 1000
    ==============  ====================  ========================  ======================

    * **iris**: the four measurements (cm), each standardized with the mean
      and std of the training split. 3 classes.
    * **digits**: 1797 8x8 images of handwritten digits, pixels 0..16 scaled to
      [0, 1] and standardized with one scalar mean and std of the training split.
      Per class ``c`` with ``n_c`` examples, ``round(0.2 n_c)`` go to test and
      ``round(0.1 n_c)`` to validation (rounding half up), the rest to train:
      1259 train / 179 validation / 359 test. 10 classes.
    * **fashion_mnist**: 28x28 images of clothing; pixels 0..255 scaled to
      [0, 1] and standardized with the training split's scalar mean and std.
      The test split is the official 10000-image test set; the official 60000
      training images are split into 55000 train and 5000 validation
      (500 per class). 10 classes.

    Parameters
    ----------
    name : str
        "iris", "digits" or "fashion_mnist" (case-insensitive).
    batch_size : int
        Mini-batch size of all three splits.
    seed : int, numpy.random.Generator or None
        Seeds the shuffling of the training split only; the split itself is
        fixed by :data:`SPLIT_SEED`. A ``NeuralNetwork`` with its own ``seed``
        replaces this generator when it trains.
    flatten : bool
        Reshape images to ``(batch, rows * cols * channels)`` (for a network of
        fully connected layers). No effect on iris.
    dtype : numpy.float32 or numpy.float64
        Dtype of the examples and of the one-hot labels.
    data_dir : str, os.PathLike or None
        Folder holding the files. By default the environment variable
        ``NEURAL_NETWORKS_DATA`` if set, else ``datasets/`` at the root of the
        repository.

    Returns
    -------
    Dataset
        With ``.train``, ``.validate``, ``.test`` and ``.out_dim``, plus
        ``.indices`` (the source rows of each split: for fashion_mnist the
        train and validate indices are rows of the official training set and
        the test indices rows of the official test set) and ``.class_names``.
        Examples have shape ``(batch, features)`` or
        ``(batch, rows, cols, channels)``; labels ``(batch, classes)``.

    Raises
    ------
    FileNotFoundError
        When the dataset's file is missing.
    ValueError
        When the file cannot be read or holds something unexpected, or an
        argument has a wrong value (TypeError for a wrong type).
    """
    where = "initialize_dataset"
    try:
        loader = lookup(_LOADERS, name, "dataset name")
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from None
    batch_size = check_int(batch_size, "batch_size", where)
    rng = _make_rng(seed, where)
    if not isinstance(flatten, (bool, np.bool_)):
        raise TypeError(f"{where}: flatten must be True or False; got {describe(flatten)}")
    dtype = _check_dtype(dtype, where)
    folder = _data_folder(data_dir, where)

    splits, indices, class_names = loader(folder, dtype)
    if flatten:
        splits = {key: (X.reshape(X.shape[0], -1), y) for key, (X, y) in splits.items()}
    dataset = Dataset(
        *splits["train"],
        batch_size,
        *splits["validate"],
        *splits["test"],
        seed=rng,
    )
    dataset.indices = indices
    dataset.class_names = class_names
    return dataset


def _check_dtype(dtype, where):
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{where}: dtype must be numpy.float32 or numpy.float64; got {describe(dtype)}"
        ) from None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{where}: dtype must be numpy.float32 or numpy.float64; got {resolved}")
    return resolved


def _data_folder(data_dir, where):
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_DIR
    elif not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"{where}: data_dir must be a path or None; got {describe(data_dir)}")
    return Path(data_dir)


# ---- split helpers ----------------------------------------------------------


def _stratified_split(labels, validation_fraction, test_fraction):
    """Split row indices per class; return ``{"train", "validate", "test"}`` -> sorted indices.

    For each class (in increasing order) the class's rows are shuffled by one
    generator seeded with SPLIT_SEED; the first ``round(test_fraction * n_c)``
    go to test, the next ``round(validation_fraction * n_c)`` to validation
    and the rest to train (rounding half up).
    """
    rng = np.random.default_rng(SPLIT_SEED)
    parts = {"train": [], "validate": [], "test": []}
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        n_test = math.floor(test_fraction * rows.size + 0.5)
        n_validate = math.floor(validation_fraction * rows.size + 0.5)
        parts["test"].append(rows[:n_test])
        parts["validate"].append(rows[n_test:n_test + n_validate])
        parts["train"].append(rows[n_test + n_validate:])
    return {key: np.sort(np.concatenate(chunks)) for key, chunks in parts.items()}


def _pixel_statistics(images, picked):
    """Mean and std (population) of the integer pixels of ``images[picked]``.

    Computed exactly from a histogram of the pixel values, chunk by chunk, so
    that no float copy of the whole split is needed.
    """
    counts = np.zeros(256, dtype=np.int64)
    for start in range(0, picked.size, _CHUNK):
        chunk = images[picked[start:start + _CHUNK]]
        counts += np.bincount(chunk.ravel(), minlength=256)
    values = np.arange(256, dtype=np.float64)
    total = counts.sum()
    mean = counts @ values / total
    std = math.sqrt(counts @ (values - mean) ** 2 / total)
    return mean, std


def _standardized_images(images, picked, mean, std, dtype):
    """``(images[picked] - mean) / std`` as ``(batch, rows, cols, 1)`` of ``dtype``.

    Scaling the pixels by a constant before standardizing changes nothing, so
    pixel-unit statistics are used directly. Computed in float64 chunk by
    chunk and rounded once into the output.
    """
    out = np.empty((picked.size, *images.shape[1:], 1), dtype=dtype)
    flat = out[..., 0]
    if std == 0:
        std = 1.0
    for start in range(0, picked.size, _CHUNK):
        stop = start + _CHUNK
        flat[start:stop] = (images[picked[start:stop]] - mean) / std
    return out


# ---- file reading -------------------------------------------------------------


def _restore_hint(path):
    name = Path(path).name
    return (
        f"Restore it with `git checkout -- datasets/{name}` from the repository root, "
        f"or copy {name} again from the course's shared data "
        f"(datasets/README.md lists its sha256)."
    )


def _check_exists(path):
    if not path.is_file():
        raise FileNotFoundError(
            f"initialize_dataset: the data file {path} is missing. {_restore_hint(path)}"
        )


def _corrupt(path, problem):
    return ValueError(
        f"initialize_dataset: the data file {path} is corrupt or not the expected "
        f"file ({problem}). {_restore_hint(path)}"
    )


_IRIS_HEADER = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species", "species_name"]
_IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def _read_iris(path):
    """Return ``(features (150, 4) float64, species (150,) int64)`` from iris.csv."""
    _check_exists(path)
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))
    except (UnicodeDecodeError, csv.Error) as error:
        raise _corrupt(path, f"not a readable CSV file: {error}") from None
    if not rows or rows[0] != _IRIS_HEADER:
        raise _corrupt(path, f"expected the header {','.join(_IRIS_HEADER)}")
    body = rows[1:]
    if len(body) != 150:
        raise _corrupt(path, f"expected 150 rows of data, found {len(body)}")
    features = np.empty((150, 4))
    species = np.empty(150, dtype=np.int64)
    for number, row in enumerate(body, start=2):
        try:
            if len(row) != 6:
                raise ValueError(f"{len(row)} columns instead of 6")
            features[number - 2] = [float(value) for value in row[:4]]
            species[number - 2] = int(row[4])
            if not 0 <= species[number - 2] < 3 or row[5] != _IRIS_CLASSES[species[number - 2]]:
                raise ValueError(f"unknown species {row[4]!r}/{row[5]!r}")
        except ValueError as error:
            raise _corrupt(path, f"line {number}: {error}") from None
    if not np.all(np.isfinite(features)):
        raise _corrupt(path, "a measurement is not finite")
    return features, species


def _read_npz(path, expected):
    """Read the arrays named in ``expected`` (name -> (shape, max value)) from an npz.

    Each array must be uint8 with that exact shape and values <= max value.
    """
    _check_exists(path)
    unreadable = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError)
    # The file is opened here rather than by np.load, so that it is closed
    # even when np.load fails half-way through a damaged archive.
    with open(path, "rb") as file:
        try:
            archive = np.load(file)
        except unreadable as error:
            raise _corrupt(path, f"cannot read it as an .npz archive: {error}") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise _corrupt(path, f"a single array instead of an .npz archive: {describe(archive)}")
        with archive:
            missing = set(expected) - set(archive.files)
            if missing:
                raise _corrupt(
                    path, f"missing the arrays {sorted(missing)}; it holds {sorted(archive.files)}"
                )
            try:
                arrays = {key: archive[key] for key in expected}
            except unreadable as error:
                raise _corrupt(path, f"cannot read its arrays: {error}") from None
    for key, (shape, largest) in expected.items():
        array = arrays[key]
        if array.dtype != np.uint8 or array.shape != shape:
            raise _corrupt(
                path, f"array {key!r} should be uint8 of shape {shape}; got {describe(array)}"
            )
        if array.max() > largest:
            raise _corrupt(path, f"array {key!r} holds {array.max()}, above {largest}")
    return arrays


# ---- one builder per dataset ----------------------------------------------------
# Each returns (splits, indices, class_names); splits maps "train"/"validate"/
# "test" to (examples, integer labels).


def _load_iris(folder, dtype):
    features, species = _read_iris(folder / "iris.csv")
    indices = _stratified_split(species, validation_fraction=0.1, test_fraction=0.2)
    train = features[indices["train"]]
    mean = train.mean(axis=0, keepdims=True)
    std = train.std(axis=0, keepdims=True)
    splits = {
        key: (standardize(features[rows], mean=mean, std=std).astype(dtype), species[rows])
        for key, rows in indices.items()
    }
    return splits, indices, _IRIS_CLASSES


def _load_digits(folder, dtype):
    arrays = _read_npz(folder / "digits.npz", {"X": ((1797, 8, 8), 16), "y": ((1797,), 9)})
    images, digits = arrays["X"], arrays["y"]
    indices = _stratified_split(digits, validation_fraction=0.1, test_fraction=0.2)
    mean, std = _pixel_statistics(images, indices["train"])
    splits = {
        key: (_standardized_images(images, rows, mean, std, dtype), digits[rows])
        for key, rows in indices.items()
    }
    return splits, indices, tuple(str(digit) for digit in range(10))


_FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def _load_fashion_mnist(folder, dtype):
    arrays = _read_npz(
        folder / "fashion_mnist.npz",
        {
            "x_train": ((60000, 28, 28), 255),
            "y_train": ((60000,), 9),
            "x_test": ((10000, 28, 28), 255),
            "y_test": ((10000,), 9),
        },
    )
    # 500 of the 6000 training images of each class go to validation.
    indices = _stratified_split(arrays["y_train"], validation_fraction=1 / 12, test_fraction=0.0)
    del indices["test"]
    indices["test"] = np.arange(10000)
    mean, std = _pixel_statistics(arrays["x_train"], indices["train"])
    splits = {}
    for key, rows in indices.items():
        source = "test" if key == "test" else "train"
        images, labels = arrays[f"x_{source}"], arrays[f"y_{source}"]
        splits[key] = (_standardized_images(images, rows, mean, std, dtype), labels[rows])
    return splits, indices, _FASHION_CLASSES


_LOADERS = {
    "iris": _load_iris,
    "digits": _load_digits,
    "fashion_mnist": _load_fashion_mnist,
}
