"""Readers of the dataset files. A loader in :data:`LOADERS` takes the data folder (a ``pathlib.Path``) and a
float dtype and returns ``(splits, indices)``: "train", "validate", "test" -> ``(examples, classes)``,
examples ``(batch, features)`` or ``(batch, rows, cols, channels)`` standardized with the training split's
statistics, classes ``(batch,)`` or None (hidden test labels); and the same keys -> the rows of each split
in its source file.
"""

import csv
import gzip
import math
import pickle
import struct
import zipfile
import zlib

import numpy as np

from .checks import describe, non_finite
from .utils import load_pickle, standardize

#: Seed of the generator that splits every dataset into train, validation and test: set to 0 once,
#: before any model was trained, and never tuned (changing it changes which examples are scored).
SPLIT_SEED = 0
_CHUNK = 4096  # images per chunk of a conversion, so that its temporaries stay small

IRIS_HEADER = "sepal_length,sepal_width,petal_length,petal_width,species,species_name"
IRIS_CLASSES = ("setosa", "versicolor", "virginica")
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
CIFAR10_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
CIFAR10_FOLDER = "cifar-10-batches-py"


def file_error(path, problem=None):
    """The error for a data file, saying where it comes from: a ``FileNotFoundError`` that
    lists what the folder holds when ``problem`` is None, else a ``ValueError`` with ``problem``."""
    folder, name = path.parent, path.name
    idx = ", ".join(IDX_FILES)
    given = "or give their folder as data_dir (--data-dir on the command line). Nothing is downloaded."
    if name in ("iris.csv", "digits.npz", "fashion_mnist.npz"):
        hint = (f"Restore it with `git checkout -- datasets/{name}` from the repository root, or copy it "
                f"again from the course's shared data (datasets/README.md lists its sha256).")
        hint += {"iris.csv": f" Or, to use the course's own split, put iris/iris_{{train,val,test}}_"
                             f"{{data,labels}}.npy in {folder}.",
                 "fashion_mnist.npz": f" Or put Fashion-MNIST's four IDX files ({idx}, each may end in "
                                      f".gz) in {folder}."}.get(name, "")
    elif name.startswith("iris_"):
        hint = (f"The course's iris split is six files in {folder}: iris_{{train,val,test}}_data.npy (float, "
                f"shape (examples, 4)) and iris_{{train,val,test}}_labels.npy (one-hot, shape (examples, 3), "
                f"or class indices 0 to 2); iris_test_labels.npy may be left out. Nothing is downloaded.")
    elif name.removesuffix(".gz") in IDX_FILES:
        hint = (f"Put the four IDX files {idx} (each may end in .gz; t10k-labels-idx1-ubyte may be left "
                f"out when the test labels are hidden) in {folder}, {given}")
    else:  # a CIFAR-10 batch, in the data folder or in the folder its archive extracts to
        top = folder.parent if folder.name == CIFAR10_FOLDER else folder
        hint = (f"Put the CIFAR-10 python version ({', '.join(CIFAR10_FILES)}, as extracted from "
                f"cifar-10-python.tar.gz) in {top} or in {top / CIFAR10_FOLDER}, {given}")
        if (top / "cifar-10-python.tar.gz").is_file():
            hint = f"{top} holds cifar-10-python.tar.gz: extract it (tar -xzf cifar-10-python.tar.gz). {hint}"
    if problem is not None:
        return ValueError(f"initialize_dataset: the data file {path} is corrupt or not in the expected "
                          f"format ({problem}). {hint}")
    names = sorted(p.name + "/" * p.is_dir() for p in folder.iterdir())
    held = f"holds {', '.join(names[:5])}{', ...' * (len(names) > 5)}" if names else "is empty"
    return FileNotFoundError(f"initialize_dataset: the data file {path} is missing ({folder} {held}). {hint}")


def _stratified_split(labels, validation_fraction, test_fraction):
    """``{"train", "validate", "test"}`` -> sorted rows. Each class's rows, in class order, are
    shuffled by one generator seeded with SPLIT_SEED; the first ``round(test_fraction * n_c)``
    go to test, the next ``round(validation_fraction * n_c)`` to validation (half up)."""
    rng = np.random.default_rng(SPLIT_SEED)
    parts = {"train": [], "validate": [], "test": []}
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        n_test = math.floor(test_fraction * rows.size + 0.5)
        n_held = n_test + math.floor(validation_fraction * rows.size + 0.5)
        for key, part in zip(("test", "validate", "train"), np.split(rows, [n_test, n_held])):
            parts[key].append(part)
    return {key: np.sort(np.concatenate(chunks)) for key, chunks in parts.items()}


def _pixel_statistics(images, rows):
    """Mean and std ``(channels,)`` of the uint8 pixels of ``images[rows]`` ``(batch, rows, cols, channels)``.
    Exact, from histograms counted chunk by chunk: no float copy of the split is made."""
    offsets = 256 * np.arange(images.shape[3], dtype=np.uint16)  # channel c counts in bins 256c to 256c+255
    chunks = (images[rows[start:start + _CHUNK]] for start in range(0, rows.size, _CHUNK))
    counts = sum(np.bincount((chunk + offsets).ravel(), minlength=offsets.size * 256) for chunk in chunks)
    counts = counts.reshape(-1, 256)
    values, totals = np.arange(256.0), counts.sum(axis=1)
    mean = counts @ values / totals
    return mean, np.sqrt((counts * (values - mean[:, None]) ** 2).sum(axis=1) / totals)


def _image_splits(sources, indices, dtype):
    """``(splits, indices)`` from ``sources[key] = (images uint8, labels or None)`` and the rows
    ``indices[key]``: NHWC images in ``dtype``, standardized with the training split's pixel statistics."""
    sources = {key: (images[..., None] if images.ndim == 3 else images, labels)
               for key, (images, labels) in sources.items()}
    mean, std = _pixel_statistics(sources["train"][0], indices["train"])
    splits = {}
    for key, rows in indices.items():
        images, labels = sources[key]
        out = np.empty((rows.size, *images.shape[1:]), dtype=dtype)
        for start in range(0, rows.size, _CHUNK):
            out[start:start + _CHUNK] = standardize(images[rows[start:start + _CHUNK]], mean=mean, std=std)
        splits[key] = (out, None if labels is None else labels[rows])
    return splits, indices


def _official_splits(x_train, y_train, x_test, y_test, validation_fraction, dtype):
    """Splits of a dataset published as a training and a test set (``y_test`` may be None): the
    test set as it is, and a stratified ``validation_fraction`` of each training class to validate."""
    indices = _stratified_split(y_train, validation_fraction, test_fraction=0.0)
    indices["test"] = np.arange(len(x_test))
    train = (x_train, y_train)
    return _image_splits({"train": train, "validate": train, "test": (x_test, y_test)}, indices, dtype)


def _read_iris_csv(path):
    """``(features (150, 4) float64, species (150,) int)`` from iris.csv."""
    if not path.is_file():
        raise file_error(path)
    try:
        with open(path, newline="", encoding="utf-8") as file:
            header, *rows = list(csv.reader(file)) or [[]]
    except (UnicodeDecodeError, csv.Error) as error:
        raise file_error(path, f"not a readable CSV file: {error}") from None
    if header != IRIS_HEADER.split(",") or len(rows) != 150:
        raise file_error(path, f"expected the header {IRIS_HEADER} and 150 rows; found {len(rows)} rows "
                               f"under {','.join(header)!r}")
    features, species = np.empty((150, 4)), np.empty(150, dtype=int)
    for i, row in enumerate(rows):
        try:
            features[i], species[i] = [float(value) for value in row[:4]], int(row[4])
            if len(row) != 6 or not 0 <= species[i] < 3 or row[5] != IRIS_CLASSES[species[i]] \
                    or not np.isfinite(features[i]).all():
                raise ValueError
        except (ValueError, IndexError):
            raise file_error(path, f"line {i + 2}: expected 4 measurements, a species 0, 1 or 2 and its "
                                   f"name; found {','.join(row)!r}") from None
    return features, species


def _read_npy(path):
    if not path.is_file():
        raise file_error(path)
    try:
        return np.load(path, allow_pickle=False)
    except (EOFError, ValueError) as error:
        start = path.read_bytes()[:16]
        problem = (f"cannot read it as a .npy array: {error}" if start.startswith(b"\x93NUMPY") else
                   f"not a .npy file (numpy.save writes b'\\x93NUMPY' first): it starts with {start!r}")
        raise file_error(path, problem) from None


def _read_iris_classes(path, n, data_name):
    """Class indices ``(n,)`` from a file of one-hot labels ``(n, 3)`` or class indices ``(n,)``."""
    labels = _read_npy(path)
    expected = (f"expected one-hot labels of shape ({n}, 3) or class indices 0 to 2 of shape ({n},), "
                f"one per row of {data_name}")
    if labels.dtype.kind not in "fiu" or labels.shape not in ((n, 3), (n,)):
        raise file_error(path, f"{expected}; got {describe(labels)}")
    one_hot = labels.ndim == 2
    wrong = ((labels != np.eye(3)[labels.argmax(axis=1)]).any(axis=1) if one_hot
             else ~np.isin(labels, (0, 1, 2)))
    if wrong.any():
        row = int(np.argmax(wrong))
        raise file_error(path, f"{expected}; row {row} is {labels[row]}, not "
                               f"{'a single 1 among 0s' if one_hot else 'a class 0, 1 or 2'}")
    return labels.argmax(axis=1) if one_hot else labels.astype(int)


def load_iris(folder, dtype):
    # The course's split, in folder/iris/ or in folder itself, else the shipped csv.
    own = folder / "iris" if (folder / "iris").is_dir() else folder
    if own != folder or any(folder.glob("iris_*_data.npy")):
        splits = {}
        for key, name in (("train", "train"), ("validate", "val"), ("test", "test")):
            path, labels_path = own / f"iris_{name}_data.npy", own / f"iris_{name}_labels.npy"
            features = _read_npy(path)
            if problem := (f"expected numbers of shape (examples, 4); got {describe(features)}"
                           if features.ndim != 2 or features.shape[1] != 4 or features.dtype.kind not in "fiu"
                           else non_finite(features.astype(float), "a measurement")):
                raise file_error(path, problem)
            hidden = key == "test" and not labels_path.is_file()
            classes = None if hidden else _read_iris_classes(labels_path, len(features), path.name)
            splits[key] = (features.astype(float), classes)
        indices = {key: np.arange(len(features)) for key, (features, _) in splits.items()}
    else:
        features, species = _read_iris_csv(folder / "iris.csv")
        indices = _stratified_split(species, validation_fraction=0.1, test_fraction=0.2)
        splits = {key: (features[rows], species[rows]) for key, rows in indices.items()}
    train = splits["train"][0]
    mean, std = train.mean(axis=0, keepdims=True), train.std(axis=0, keepdims=True)
    splits = {key: (standardize(features, mean=mean, std=std).astype(dtype), classes)
              for key, (features, classes) in splits.items()}
    return splits, indices


def _read_npz(path, expected):
    """The uint8 arrays named in ``expected`` (name -> (shape, largest value)) of an npz."""
    if not path.is_file():
        raise file_error(path)
    try:
        with np.load(path) as archive:  # a single array (an .npy file) has no "with"
            arrays = dict(archive)
    except (OSError, EOFError, ValueError, TypeError, zipfile.BadZipFile, zlib.error,
            pickle.UnpicklingError) as error:
        raise file_error(path, f"cannot read it as an .npz archive: {error}") from None
    for key, (shape, largest) in expected.items():
        array = arrays.get(key, np.empty(0))
        if array.dtype != np.uint8 or array.shape != shape or array.max() > largest:
            got = f"got {describe(array)}, largest {array.max(initial=0)}" if key in arrays else "missing"
            raise file_error(path, f"array {key!r}: expected uint8 of shape {shape}, values 0 to {largest}; "
                                   f"{got}")
    return arrays


def load_digits(folder, dtype):
    arrays = _read_npz(folder / "digits.npz", {"X": ((1797, 8, 8), 16), "y": ((1797,), 9)})
    indices = _stratified_split(arrays["y"], validation_fraction=0.1, test_fraction=0.2)
    return _image_splits(dict.fromkeys(indices, (arrays["X"], arrays["y"])), indices, dtype)


def load_fashion_mnist(folder, dtype):
    # The official IDX files when the folder has them, else the shipped npz.
    if any((folder / (IDX_FILES[0] + gz)).is_file() for gz in ("", ".gz")):
        return load_mnist(folder, dtype)
    path = folder / "fashion_mnist.npz"
    arrays = _read_npz(path, {"x_train": ((60000, 28, 28), 255), "y_train": ((60000,), 9),
                              "x_test": ((10000, 28, 28), 255), "y_test": ((10000,), 9)})
    return _official_splits(*arrays.values(), 1 / 12, dtype)


def _read_idx(path, kind):
    """The uint8 array of an IDX file: images ``(items, 28, 28)`` or labels ``(items,)``."""
    try:
        content = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise file_error(path, f"cannot read it: {error}") from None
    # A big-endian header: the magic number, then one 32-bit size per axis.
    item_shape, magic = ((28, 28), 2051) if kind == "images" else ((), 2049)
    header = 8 + 4 * len(item_shape)
    found = int.from_bytes(content[:4], "big") if len(content) >= 4 else "too few bytes"
    if found != magic:
        other = {2051: " (an image file)", 2049: " (a label file)"}.get(found, "")
        raise file_error(path, f"an IDX {kind} file starts with the magic number {magic}; "
                               f"found {found}{other}")
    sizes = struct.unpack(f">{header // 4 - 1}I", content[4:header]) if len(content) >= header else ()
    if not sizes or sizes[1:] != item_shape or sizes[0] == 0:
        raise file_error(path, f"expected {kind} of shape ({', '.join(map(str, ('items', *item_shape)))}) "
                               f"with at least one item; the header says {sizes}")
    if len(content) != header + math.prod(sizes):
        raise file_error(path, f"the header announces {sizes[0]} {kind}, {header + math.prod(sizes)} "
                               f"bytes in all, but the file holds {len(content)} bytes")
    array = np.frombuffer(content, dtype=np.uint8, offset=header).reshape(sizes)
    if kind == "labels" and array.max() > 9:
        raise file_error(path, f"expected class labels 0 to 9; found {array.max()}")
    return array


def load_mnist(folder, dtype):
    # Each file is name or name.gz (the plain file first); the test labels may be hidden.
    paths = [next((p for p in (folder / n, folder / f"{n}.gz") if p.is_file()), None) for n in IDX_FILES]
    for name, path in zip(IDX_FILES[:3], paths):
        if path is None:
            raise file_error(folder / name)
    arrays = [path and _read_idx(path, ("images", "labels")[k % 2]) for k, path in enumerate(paths)]
    for k in (0, 2):
        if arrays[k + 1] is not None and len(arrays[k + 1]) != len(arrays[k]):
            raise file_error(paths[k + 1], f"it holds {len(arrays[k + 1])} labels but {paths[k].name} holds "
                                           f"{len(arrays[k])} images; expected one label per image")
    # 1/12 of each class goes to validation: 5000 of the 60000 official training images.
    return _official_splits(*arrays, 1 / 12, dtype)


# What a CIFAR-10 batch may name: numpy's array rebuilders (numpy.core in the Python 2 files, numpy._core
# from numpy 2) and, re-saved by Python 3, pickle protocol 2's bytes and protocol 5's arrays.
_CIFAR10_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")} | {
    (f"numpy.{core}.{module}", name) for core in ("core", "_core")
    for module, name in (("multiarray", "_reconstruct"), ("numeric", "_frombuffer"))}


def _read_cifar10_batch(path, labels_required=True):
    """``(images (n, 32, 32, 3) uint8, labels (n,) or None)`` from one batch file."""
    try:
        with open(path, "rb") as file:
            batch = load_pickle(file, _CIFAR10_GLOBALS, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError,
            AttributeError, IndexError, KeyError, MemoryError) as error:
        raise file_error(path, f"cannot unpickle it as a CIFAR-10 batch: {error}") from None
    entries = {(key.decode("latin-1") if isinstance(key, bytes) else key): value
               for key, value in (batch.items() if isinstance(batch, dict) else ())}
    if "data" not in entries or labels_required and "labels" not in entries:
        raise file_error(path, f"expected a pickled dict with the keys b'data' and b'labels'; got "
                               f"{sorted(map(repr, batch)) if isinstance(batch, dict) else describe(batch)}")
    data = entries["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape[1:] != (3072,) \
            or not len(data):
        raise file_error(path, f"b'data' should be uint8 of shape (images, 3072); got {describe(data)}")
    # A row holds the red, then the green, then the blue 32x32 plane, each row
    # by row: (n, channel, row, col) -> NHWC.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    if "labels" not in entries:
        return images, None
    try:
        labels = np.asarray(entries["labels"])
    except (TypeError, ValueError):
        labels = np.empty(0)
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise file_error(path, f"b'labels' should be a list of {len(data)} class indices 0 to 9 (one per row "
                               f"of b'data'); got {describe(entries['labels'])}")
    return images, labels


def load_cifar10(folder, dtype):
    batches = folder / CIFAR10_FOLDER if (folder / CIFAR10_FOLDER / CIFAR10_FILES[0]).is_file() else folder
    for name in CIFAR10_FILES:
        if not (batches / name).is_file():
            raise file_error(batches / name)
    train = [_read_cifar10_batch(batches / name) for name in CIFAR10_FILES[:5]]
    x_test, y_test = _read_cifar10_batch(batches / "test_batch", labels_required=False)
    # 1/10 of each class goes to validation: 5000 of the 50000 training images.
    return _official_splits(np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
                            np.ascontiguousarray(x_test), y_test, 1 / 10, dtype)


LOADERS = {"iris": load_iris, "digits": load_digits, "fashion_mnist": load_fashion_mnist,
           "mnist": load_mnist, "cifar10": load_cifar10}
