"""Datasets: mini-batch sampling (:class:`Data`), train/validation/test bundles
(:class:`Dataset`), the three datasets shipped with the project and readers for
your own MNIST, Fashion-MNIST, CIFAR-10 and iris files (:func:`initialize_dataset`).

Shapes use the package's vocabulary: dense data is ``(batch, features)`` and
images are NHWC, ``(batch, rows, cols, channels)``; here ``batch`` is the number
of examples in the set or in the mini-batch. Labels are one-hot,
``(batch, classes)``, or regression targets ``(batch, targets)``.

The shipped files live in the ``datasets/`` folder at the root of the repository
(``datasets/README.md`` gives their origin, license and checksums). The split of
each dataset into train/validation/test is fixed by :data:`SPLIT_SEED`, so every
run, whatever its ``seed``, trains and is scored on the same examples.
Nothing is ever downloaded: files you bring are read from ``data_dir``.
"""

import csv
import gzip
import math
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .checks import check_array, check_int, describe, lookup
from .utils import integers_to_one_hot, make_rng, standardize

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
        Every value must be finite: a NaN or infinity raises a ValueError
        giving its position (and so do non-finite regression targets).
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
        _check_finite(data, "data", where)
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


def _check_finite(array, name, where):
    """Raise a ValueError naming the first NaN or infinity of ``array``.

    A NaN in the data would otherwise surface much later as a NaN loss, which
    looks like a diverging run.
    """
    problem = _non_finite(array, name)
    if problem is not None:
        raise ValueError(f"{where}: {problem}")


def _non_finite(array, name):
    """None if every value of ``array`` is finite, else words for the first
    NaN or infinity and its position. Scanned chunk by chunk, so that the
    temporaries stay small for a large image set."""
    if array.dtype.kind != "f":
        return None
    for start in range(0, array.shape[0], _CHUNK):
        bad = ~np.isfinite(array[start:start + _CHUNK])
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), bad.shape)
            index = (start + int(index[0]), *(int(i) for i in index[1:]))
            return f"{name} has a non-finite value ({array[index]}) at {_position(index)}"
    return None


def _position(index):
    """Words for an index into ``(batch,)``, ``(batch, features)`` or NHWC images."""
    if len(index) == 1:
        return f"row {index[0]}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    if len(index) == 4:
        example, row, col, channel = index
        return (f"index {index} (example {example}, row {row}, column {col}, "
                f"channel {channel})")
    return f"index {index}"


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
        _check_finite(labels, "labels", where)
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
        training set's ``out_dim``. Give labels for every set or for none,
        except that ``test_labels`` may be None for a test set whose labels
        are hidden (as in a Kaggle competition): ``test.labels`` is then None.
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
        # A test set may come without labels (a competition's hidden test
        # set): the model then writes predictions but cannot score them.
        unlabelled_test = kind == "test" and split.labels is None
        if (split.labels is None) != (self.train.labels is None) and not unlabelled_test:
            raise ValueError(
                f"{where}: give labels for all sets or for none (only the test set "
                f"may lack them); the training set "
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
    """Load a shipped dataset, or your own files of a known format, split and standardized.

    Every split is stratified (each class is split in the same proportions),
    drawn with a generator seeded by :data:`SPLIT_SEED`, and kept in file order.
    Statistics for standardizing come from the training split alone.

    ==============  ====================  ========================  ======================
    name            example shape         train / validate / test   per class
    ==============  ====================  ========================  ======================
    iris            (4,)                  105 / 15 / 30             35 / 5 / 10
    digits          (8, 8, 1)             1259 / 179 / 359          about 70 / 10 / 20 %
    fashion_mnist   (28, 28, 1)           55000 / 5000 / 10000      5500 / 500 / 1000
    mnist           (28, 28, 1)           54998 / 5002 / 10000      1/12 to validation
    cifar10         (32, 32, 3)           45000 / 5000 / 10000      4500 / 500 / 1000
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
      (500 per class). 10 classes. When the data folder holds the four IDX
      files (see **mnist**) they are read instead of ``fashion_mnist.npz``;
      the official files give exactly the shipped splits.
    * **mnist** (not shipped: bring the files): the four IDX files
      ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
      ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` in the data
      folder, each optionally gzipped (``.gz``; the plain file wins when both
      are there). Images must be 28x28 and labels 0..9 (magic numbers 2051
      and 2049). Split and standardized as fashion_mnist: the official test
      set is the test split, 1/12 of each class of the training set (rounded)
      the validation split.
    * **cifar10** (not shipped: bring the files): the CIFAR-10 python version,
      ``data_batch_1`` ... ``data_batch_5`` and ``test_batch`` in the data
      folder or in its ``cifar-10-batches-py`` subfolder. Each row of a
      batch's ``b"data"`` (uint8, 3072 columns) holds the red, green and blue
      32x32 planes in row-major order; labels are 0..9. The test split is
      ``test_batch``; 1/10 of each class of the training batches is the
      validation split. Standardized per channel with the training split's
      mean and std. The pickles are read by an unpickler that builds nothing
      but dicts, lists, strings, numbers and numpy arrays. In float64 the
      splits take 1.5 GB: pass ``dtype=np.float32`` to halve that.
    * **iris**, the course's own split: when the data folder has a subfolder
      ``iris/`` with ``iris_{train,val,test}_{data,labels}.npy`` (features
      ``(n, 4)``, one-hot labels ``(n, 3)``), those splits are used as given
      (in file order) instead of ``iris.csv``, standardized with the training
      split's statistics.

    A test split may come without labels (a competition's hidden labels):
    leave out ``t10k-labels-idx1-ubyte``, the ``b"labels"`` of ``test_batch``
    or ``iris_test_labels.npy``; ``dataset.test.labels`` is then None.

    Parameters
    ----------
    name : str
        "iris", "digits", "fashion_mnist", "mnist" or "cifar10" (case-insensitive).
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
        When a file of the dataset is missing; the message names it and says
        where to put it.
    ValueError
        When a file cannot be read or holds something unexpected (the message
        names the file and what was expected: magic number, shape, keys), or
        an argument has a wrong value (TypeError for a wrong type).
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
    return Path(data_dir).expanduser()


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

    ``images`` is uint8, ``(batch, rows, cols)`` or ``(batch, rows, cols,
    channels)``. One scalar mean and std over all pixels for the first; one
    per channel, as arrays of shape ``(channels,)``, for the second.
    Computed exactly from a histogram of the pixel values, chunk by chunk, so
    that no float copy of the whole split is needed.
    """
    if images.ndim == 4:
        stats = [_pixel_statistics(images[..., c], picked) for c in range(images.shape[3])]
        return tuple(np.array(values) for values in zip(*stats))
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
    """``(images[picked] - mean) / std`` as ``(batch, rows, cols, channels)`` of ``dtype``.

    ``images`` is ``(batch, rows, cols)`` (one channel, added as the last
    axis) or ``(batch, rows, cols, channels)``; ``mean`` and ``std`` are
    scalars or one value per channel. Scaling the pixels by a constant before
    standardizing changes nothing, so pixel-unit statistics are used directly.
    Computed in float64 chunk by chunk and rounded once into the output.
    """
    if images.ndim == 3:
        images = images[..., None]
    std = np.where(np.asarray(std) == 0, 1.0, std)
    out = np.empty((picked.size, *images.shape[1:]), dtype=dtype)
    for start in range(0, picked.size, _CHUNK):
        stop = start + _CHUNK
        out[start:stop] = (images[picked[start:stop]] - mean) / std
    return out


def _official_splits(x_train, y_train, x_test, y_test, validation_fraction, dtype, source):
    """Splits of a dataset published as a training set and a test set.

    The test split is the official test set, in file order; a stratified
    ``validation_fraction`` of each class of the official training set (drawn
    with :data:`SPLIT_SEED`) becomes the validation split, the rest the
    training split. Pixels are standardized with the training split's
    statistics (see :func:`_pixel_statistics`). ``y_test`` may be None (test
    labels withheld). ``source`` names the training labels in errors.

    Returns ``(splits, indices)`` as the loaders do.
    """
    indices = _stratified_split(y_train, validation_fraction=validation_fraction, test_fraction=0.0)
    del indices["test"]
    if indices["validate"].size == 0:
        smallest = int(np.bincount(y_train)[np.unique(y_train)].min())
        raise ValueError(
            f"initialize_dataset: {source} holds too few examples per class for a "
            f"validation split: it takes {validation_fraction:.3g} of each class (rounded), "
            f"and the smallest class has {smallest} examples"
        )
    indices["test"] = np.arange(x_test.shape[0])
    mean, std = _pixel_statistics(x_train, indices["train"])
    splits = {}
    for key, rows in indices.items():
        images, labels = (x_test, y_test) if key == "test" else (x_train, y_train)
        splits[key] = (
            _standardized_images(images, rows, mean, std, dtype),
            None if labels is None else labels[rows],
        )
    return splits, indices


# ---- file reading -------------------------------------------------------------


def _restore_hint(path):
    name = Path(path).name
    return (
        f"Restore it with `git checkout -- datasets/{name}` from the repository root, "
        f"or copy {name} again from the course's shared data "
        f"(datasets/README.md lists its sha256)."
    )


def _check_exists(path, alternative=""):
    if not path.is_file():
        raise FileNotFoundError(
            f"initialize_dataset: the data file {path} is missing. {_restore_hint(path)}"
            f"{alternative}"
        )


def _corrupt(path, problem):
    return ValueError(
        f"initialize_dataset: the data file {path} is corrupt or not the expected "
        f"file ({problem}). {_restore_hint(path)}"
    )


def _missing_own_file(path, hint):
    return FileNotFoundError(f"initialize_dataset: the data file {path} is missing. {hint}")


def _malformed_own_file(path, problem, hint):
    return ValueError(
        f"initialize_dataset: the data file {path} is not in the expected format "
        f"({problem}). {hint}"
    )


_IRIS_HEADER = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species", "species_name"]
_IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def _read_iris(path):
    """Return ``(features (150, 4) float64, species (150,) int64)`` from iris.csv."""
    _check_exists(
        path,
        f" Or, to use the course's own split, put iris/iris_{{train,val,test}}_{{data,labels}}.npy "
        f"in {path.parent}.",
    )
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


def _read_npz(path, expected, alternative=""):
    """Read the arrays named in ``expected`` (name -> (shape, max value)) from an npz.

    Each array must be uint8 with that exact shape and values <= max value.
    ``alternative`` is added to the message when the file is missing.
    """
    _check_exists(path, alternative)
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


# ---- your own files: the course's iris split (.npy) -----------------------------

_IRIS_SPLIT_FOLDER = "iris"
_IRIS_SPLIT_NAMES = {"train": "train", "validate": "val", "test": "test"}


def _iris_split_hint(folder):
    return (
        f"The course's iris split is six files in {folder}: "
        f"iris_{{train,val,test}}_data.npy (float, shape (examples, 4)) and "
        f"iris_{{train,val,test}}_labels.npy (one-hot, shape (examples, 3)); "
        f"iris_test_labels.npy may be left out. Nothing is downloaded."
    )


def _read_iris_split(folder):
    """Return ``{"train", "validate", "test"}`` -> (features, class indices or None)."""
    hint = _iris_split_hint(folder)
    splits = {}
    for key, name in _IRIS_SPLIT_NAMES.items():
        data_path = folder / f"iris_{name}_data.npy"
        labels_path = folder / f"iris_{name}_labels.npy"
        if not data_path.is_file():
            raise _missing_own_file(data_path, hint)
        features = _read_npy(data_path, hint)
        if features.ndim != 2 or features.shape[1] != 4 or features.dtype.kind not in "fiu":
            raise _malformed_own_file(
                data_path, f"expected numbers of shape (examples, 4); got {describe(features)}", hint
            )
        features = features.astype(np.float64)
        problem = _non_finite(features, "a measurement")
        if problem is not None:
            raise _malformed_own_file(data_path, problem, hint)
        if key == "test" and not labels_path.is_file():
            splits[key] = (features, None)
            continue
        if not labels_path.is_file():
            raise _missing_own_file(labels_path, hint)
        one_hot = _read_npy(labels_path, hint)
        if (
            one_hot.shape != (features.shape[0], 3)
            or one_hot.dtype.kind not in "fiu"
            or not np.all((one_hot == 0) | (one_hot == 1))
            or not np.all(one_hot.sum(axis=1) == 1)
        ):
            raise _malformed_own_file(
                labels_path,
                f"expected one-hot labels of shape ({features.shape[0]}, 3), one row per row of "
                f"{data_path.name}, each row a single 1 among 0s; got {describe(one_hot)}",
                hint,
            )
        splits[key] = (features, np.argmax(one_hot, axis=1))
    return splits


def _read_npy(path, hint):
    try:
        with open(path, "rb") as file:
            return np.load(file, allow_pickle=False)
    except (OSError, EOFError, ValueError) as error:
        raise _malformed_own_file(path, f"cannot read it as a .npy array: {error}", hint) from None


# ---- your own files: IDX (MNIST, Fashion-MNIST) ----------------------------------

#: The four IDX files of MNIST and Fashion-MNIST, each optionally gzipped (.gz).
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# First four bytes, big-endian: 0, 0, 0x08 (unsigned bytes), number of axes.
_IDX_IMAGES_MAGIC = 2051
_IDX_LABELS_MAGIC = 2049
_IDX_IMAGE_SHAPE = (28, 28)


def _idx_hint(folder):
    names = ", ".join(IDX_FILES.values())
    return (
        f"Put the four IDX files {names} (each may end in .gz; "
        f"t10k-labels-idx1-ubyte may be left out when the test labels are hidden) "
        f"in {folder}, or give the folder that holds them as data_dir "
        f"(--data-dir on the command line). Nothing is downloaded."
    )


def _find_idx(folder, stem):
    """``folder/stem`` or else ``folder/stem.gz``, or None when neither is a file."""
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_idx(path, magic, item_shape, largest, hint):
    """The uint8 array ``(items, *item_shape)`` of one IDX file (gzipped or not)."""
    kind = "images" if magic == _IDX_IMAGES_MAGIC else "labels"
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as file:
                content = file.read()
        else:
            content = path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise _malformed_own_file(path, f"cannot read it: {error}", hint) from None
    n_axes = 1 + len(item_shape)
    header = 4 + 4 * n_axes
    found = int.from_bytes(content[:4], "big") if len(content) >= 4 else None
    if found != magic:
        other = {_IDX_IMAGES_MAGIC: "an image file", _IDX_LABELS_MAGIC: "a label file"}.get(found)
        raise _malformed_own_file(
            path,
            f"an IDX {kind} file starts with the magic number {magic}; found "
            f"{'too few bytes' if found is None else found}"
            f"{f' ({other})' if other else ''}",
            hint,
        )
    if len(content) < header:
        raise _malformed_own_file(path, f"the header is cut short ({len(content)} bytes)", hint)
    sizes = struct.unpack(f">{n_axes}I", content[4:header])
    if sizes[1:] != item_shape or sizes[0] == 0:
        raise _malformed_own_file(
            path,
            f"expected {kind} of shape (items, {', '.join(map(str, item_shape))}) with at "
            f"least one item; the header says {sizes}".replace(", )", ")"),
            hint,
        )
    expected_size = header + math.prod(sizes)
    if len(content) != expected_size:
        raise _malformed_own_file(
            path,
            f"the header announces {sizes[0]} {kind}, {expected_size} bytes in all, "
            f"but the file holds {len(content)} bytes",
            hint,
        )
    array = np.frombuffer(content, dtype=np.uint8, offset=header).reshape(sizes)
    if largest is not None and array.max() > largest:
        raise _malformed_own_file(
            path, f"expected class labels 0 to {largest}; found {array.max()}", hint
        )
    return array


def _has_idx(folder):
    return _find_idx(folder, IDX_FILES["train_images"]) is not None


def _read_idx_folder(folder):
    """``(x_train, y_train, x_test, y_test or None)`` from the four IDX files."""
    hint = _idx_hint(folder)
    paths = {key: _find_idx(folder, stem) for key, stem in IDX_FILES.items()}
    for key in ("train_images", "train_labels", "test_images"):
        if paths[key] is None:
            raise _missing_own_file(folder / IDX_FILES[key], hint)
    arrays = {}
    for key, path in paths.items():
        if path is None:
            arrays[key] = None
        elif key.endswith("images"):
            arrays[key] = _read_idx(path, _IDX_IMAGES_MAGIC, _IDX_IMAGE_SHAPE, None, hint)
        else:
            arrays[key] = _read_idx(path, _IDX_LABELS_MAGIC, (), 9, hint)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if labels is not None and labels.shape[0] != images.shape[0]:
            raise _malformed_own_file(
                paths[f"{split}_labels"],
                f"it holds {labels.shape[0]} labels but {paths[f'{split}_images'].name} holds "
                f"{images.shape[0]} images; expected one label per image",
                hint,
            )
    return (arrays["train_images"], arrays["train_labels"],
            arrays["test_images"], arrays["test_labels"])


def _load_idx(folder, dtype):
    x_train, y_train, x_test, y_test = _read_idx_folder(folder)
    # 1/12 of each class goes to validation: 5000 of the 60000 official
    # training images, as for the shipped Fashion-MNIST.
    source = _find_idx(folder, IDX_FILES["train_labels"])
    return _official_splits(x_train, y_train, x_test, y_test, 1 / 12, dtype, source)


# ---- your own files: CIFAR-10 python version --------------------------------------

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_FILES = tuple(f"data_batch_{k}" for k in range(1, 6)) + ("test_batch",)
_CIFAR10_ROW = 3 * 32 * 32
_CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)


def _cifar10_hint(folder):
    return (
        f"Put the CIFAR-10 python version ({', '.join(CIFAR10_FILES)}, as extracted from "
        f"cifar-10-python.tar.gz) in {folder} or in {folder / CIFAR10_FOLDER}, or give the "
        f"folder that holds them as data_dir (--data-dir on the command line). "
        f"Nothing is downloaded."
    )


# The globals a CIFAR-10 batch refers to: numpy's array reconstruction. The
# real files are protocol-2 pickles from Python 2 (numpy.core); arrays pickled
# by numpy 2 name numpy._core instead.
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_CIFAR10_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds only dicts, lists, strings, numbers and numpy
    arrays: a pickle that names any other class or function is refused, so
    that a file from elsewhere cannot run code when it is loaded."""

    def find_class(self, module, name):
        try:
            return _CIFAR10_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"it refers to {module}.{name}; a CIFAR-10 batch refers only to "
                f"numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype"
            ) from None


def _read_cifar10_batch(path, hint, labels_required=True):
    """``(images (n, 32, 32, 3) uint8, labels (n,) or None)`` from one batch file."""
    try:
        with open(path, "rb") as file:
            batch = _CifarUnpickler(file, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError,
            AttributeError, IndexError, KeyError, MemoryError) as error:
        raise _malformed_own_file(path, f"cannot unpickle it as a CIFAR-10 batch: {error}", hint) from None
    if not isinstance(batch, dict):
        raise _malformed_own_file(path, f"expected a pickled dict; got {describe(batch)}", hint)
    entries = {(key.decode("latin-1") if isinstance(key, bytes) else key): value
               for key, value in batch.items()}
    needed = {"data", "labels"} if labels_required else {"data"}
    missing = needed - set(entries)
    if missing:
        raise _malformed_own_file(
            path,
            f"the dict lacks the keys {sorted(missing)} (expected b'data' and b'labels'); "
            f"it holds {sorted(map(repr, batch))}",
            hint,
        )
    data = entries["data"]
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
            or data.shape[1] != _CIFAR10_ROW or data.shape[0] == 0):
        raise _malformed_own_file(
            path,
            f"b'data' should be uint8 of shape (images, {_CIFAR10_ROW}); got {describe(data)}",
            hint,
        )
    # Each row holds the red, then the green, then the blue 32x32 plane, each
    # in row-major order: (n, channel, row, col) -> NHWC.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    if "labels" not in entries:
        return images, None
    labels = entries["labels"]
    try:
        labels = np.asarray(labels)
    except (TypeError, ValueError):
        labels = None
    if (labels is None or labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu"
            or labels.min() < 0 or labels.max() > 9):
        raise _malformed_own_file(
            path,
            f"b'labels' should be a list of {data.shape[0]} class indices 0 to 9 (one per row "
            f"of b'data'); got {describe(entries['labels'])}",
            hint,
        )
    return images, labels


def _cifar10_folder(folder):
    """The folder that holds the batches: ``folder`` or ``folder/cifar-10-batches-py``."""
    for candidate in (folder, folder / CIFAR10_FOLDER):
        if (candidate / CIFAR10_FILES[0]).is_file():
            return candidate
    hint = _cifar10_hint(folder)
    if (folder / "cifar-10-python.tar.gz").is_file():
        hint = (f"{folder} holds cifar-10-python.tar.gz: extract it there first "
                f"(tar -xzf cifar-10-python.tar.gz). ") + hint
    raise _missing_own_file(folder / CIFAR10_FILES[0], hint)


def _load_cifar10(folder, dtype):
    folder = _cifar10_folder(folder)
    hint = _cifar10_hint(folder)
    for name in CIFAR10_FILES:
        if not (folder / name).is_file():
            raise _missing_own_file(folder / name, hint)
    train = [_read_cifar10_batch(folder / name, hint) for name in CIFAR10_FILES[:5]]
    x_test, y_test = _read_cifar10_batch(folder / "test_batch", hint, labels_required=False)
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    # 1/10 of each class goes to validation: 5000 of the 50000 training images.
    splits, indices = _official_splits(
        x_train, y_train, np.ascontiguousarray(x_test), y_test, 1 / 10, dtype,
        f"{folder / 'data_batch_1'} ... data_batch_5",
    )
    return splits, indices, _CIFAR10_CLASSES


# ---- one builder per dataset ----------------------------------------------------
# Each returns (splits, indices, class_names); splits maps "train"/"validate"/
# "test" to (examples, integer labels or None for hidden test labels).


def _load_iris(folder, dtype):
    if (folder / _IRIS_SPLIT_FOLDER).is_dir():
        raw = _read_iris_split(folder / _IRIS_SPLIT_FOLDER)
        indices = {key: np.arange(features.shape[0]) for key, (features, _) in raw.items()}
        mean = raw["train"][0].mean(axis=0, keepdims=True)
        std = raw["train"][0].std(axis=0, keepdims=True)
        splits = {
            key: (standardize(features, mean=mean, std=std).astype(dtype), labels)
            for key, (features, labels) in raw.items()
        }
        return splits, indices, _IRIS_CLASSES
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
    # The original IDX files, when the folder has them, else the shipped npz.
    if _has_idx(folder):
        splits, indices = _load_idx(folder, dtype)
        return splits, indices, _FASHION_CLASSES
    arrays = _read_npz(
        folder / "fashion_mnist.npz",
        {
            "x_train": ((60000, 28, 28), 255),
            "y_train": ((60000,), 9),
            "x_test": ((10000, 28, 28), 255),
            "y_test": ((10000,), 9),
        },
        alternative=f" Or put Fashion-MNIST's four IDX files ({', '.join(IDX_FILES.values())}, "
                    f"each may end in .gz) in {folder}.",
    )
    # 500 of the 6000 training images of each class go to validation.
    splits, indices = _official_splits(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
        1 / 12, dtype, folder / "fashion_mnist.npz",
    )
    return splits, indices, _FASHION_CLASSES


def _load_mnist(folder, dtype):
    splits, indices = _load_idx(folder, dtype)
    return splits, indices, tuple(str(digit) for digit in range(10))


_LOADERS = {
    "iris": _load_iris,
    "digits": _load_digits,
    "fashion_mnist": _load_fashion_mnist,
    "mnist": _load_mnist,
    "cifar10": _load_cifar10,
}
