"""Your own data files: MNIST/Fashion-MNIST IDX files, the CIFAR-10 python
batches and the course's iris .npy split.

Every test writes tiny files in the exact published format (the writers below
follow the format descriptions, not the loader), then checks shapes, dtypes,
label counts, the standardization formula and that a known pixel comes out at
the right row, column and channel. The last tests train ``train_cnn.py`` for
one epoch on such folders, in a subprocess.
"""

import gzip
import os
import pickle
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neural_networks.datasets import initialize_dataset
from neural_networks.models import NeuralNetwork

REPO = Path(__file__).resolve().parent.parent
SPLITS = ("train", "validate", "test")
FINAL_LINE = re.compile(r"Test Loss: \S+ Test Accuracy: \S+")


def classes_of(data):
    return np.argmax(data.labels, axis=1)


# ----------------------------------------------------------------------------
# Writers of the published formats
# ----------------------------------------------------------------------------


def idx_bytes(array, magic):
    """An IDX file: the magic number, one big-endian uint32 per axis, the bytes."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx_folder(folder, x_train, y_train, x_test, y_test, gz=False, skip=()):
    """The four MNIST files, magic 2051 for images and 2049 for labels."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "train-images-idx3-ubyte": idx_bytes(x_train, 2051),
        "train-labels-idx1-ubyte": idx_bytes(y_train, 2049),
        "t10k-images-idx3-ubyte": idx_bytes(x_test, 2051),
        "t10k-labels-idx1-ubyte": idx_bytes(y_test, 2049),
    }
    for name, content in files.items():
        if name in skip:
            continue
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return folder


def tiny_mnist(n_per_class=12, n_classes=3, n_test=6):
    """Random uint8 digits; label k for rows k, k + n_classes, ... (every class alike)."""
    rng = np.random.default_rng(1)
    n = n_per_class * n_classes
    x_train = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y_train = (np.arange(n) % n_classes).astype(np.uint8)
    x_test = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    y_test = (np.arange(n_test) % n_classes).astype(np.uint8)
    return x_train, y_train, x_test, y_test


def py2_str(data):
    """A Python 2 ``str`` as cPickle protocol 2 writes it (SHORT_BINSTRING / BINSTRING)."""
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def py2_int(value):
    assert 0 <= value < 256
    return b"K" + bytes([value])


def py2_pickle(value):
    """Opcodes of a protocol-2 pickle as Python 2's cPickle writes the CIFAR-10
    batches: dicts of str keys, lists, ints, str, and uint8 arrays through
    numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype."""

    def emit(v):
        if isinstance(v, bytes):
            return py2_str(v)
        if isinstance(v, int):
            return py2_int(v)
        if isinstance(v, list):
            return b"](" + b"".join(emit(item) for item in v) + b"e"
        if isinstance(v, dict):
            return b"}(" + b"".join(emit(k) + emit(x) for k, x in v.items()) + b"u"
        if isinstance(v, np.ndarray):
            assert v.dtype == np.uint8 and v.ndim == 2
            dtype = (b"cnumpy\ndtype\n" + py2_str(b"u1") + py2_int(0) + py2_int(1) + b"\x87R"
                     + b"(" + py2_int(3) + py2_str(b"|") + b"NNN"
                     + b"J\xff\xff\xff\xffJ\xff\xff\xff\xff" + py2_int(0) + b"tb")
            shape = b"J" + struct.pack("<i", v.shape[0]) + b"J" + struct.pack("<i", v.shape[1]) + b"\x86"
            return (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
                    + py2_int(0) + b"\x85" + py2_str(b"b") + b"\x87R"
                    + b"(" + py2_int(1) + shape + dtype + b"\x89" + py2_str(v.tobytes()) + b"tb")
        raise TypeError(type(v))

    return b"\x80\x02" + emit(value) + b"."


def cifar_rows(images):
    """NHWC uint8 images -> CIFAR rows: the red plane, then green, then blue,
    each 32x32 in row-major order (written pixel by pixel, as the format says)."""
    n = images.shape[0]
    rows = np.empty((n, 3072), dtype=np.uint8)
    for channel in range(3):
        for row in range(32):
            for col in range(32):
                rows[:, channel * 1024 + row * 32 + col] = images[:, row, col, channel]
    return rows


def cifar_batch(images, labels, name):
    batch = {
        b"batch_label": name.encode(),
        b"data": cifar_rows(images),
        b"filenames": [f"img_{i}.png".encode() for i in range(len(images))],
    }
    if labels is not None:
        batch[b"labels"] = [int(label) for label in labels]
    return batch


def tiny_cifar(per_batch_per_class=2, n_classes=3, n_test=6):
    """Random NHWC images for 5 training batches and a test batch."""
    rng = np.random.default_rng(2)
    per_batch = per_batch_per_class * n_classes
    batches = []
    for _ in range(5):
        images = rng.integers(0, 256, size=(per_batch, 32, 32, 3), dtype=np.uint8)
        batches.append((images, np.arange(per_batch) % n_classes))
    test = (rng.integers(0, 256, size=(n_test, 32, 32, 3), dtype=np.uint8), np.arange(n_test) % n_classes)
    return batches, test


def write_cifar_folder(folder, batches, test, test_labels=True):
    folder.mkdir(parents=True, exist_ok=True)
    for k, (images, labels) in enumerate(batches, start=1):
        batch = cifar_batch(images, labels, f"training batch {k} of 5")
        (folder / f"data_batch_{k}").write_bytes(py2_pickle(batch))
    images, labels = test
    batch = cifar_batch(images, labels if test_labels else None, "testing batch 1 of 1")
    (folder / "test_batch").write_bytes(py2_pickle(batch))
    return folder


def write_iris_split(folder, sizes=(105, 15, 30), test_labels=True):
    """The course's layout: iris/iris_{train,val,test}_{data,labels}.npy, one-hot labels."""
    rng = np.random.default_rng(3)
    iris = folder / "iris"
    iris.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, n in zip(("train", "val", "test"), sizes):
        data = rng.normal(5.0, 2.0, size=(n, 4))
        classes = np.arange(n) % 3
        one_hot = np.zeros((n, 3))
        one_hot[np.arange(n), classes] = 1.0
        np.save(iris / f"iris_{name}_data.npy", data)
        if name != "test" or test_labels:
            np.save(iris / f"iris_{name}_labels.npy", one_hot)
        arrays[name] = (data, classes)
    return arrays


def test_the_pickle_writer_follows_python2_cpickle():
    # Python 2 str loads as bytes with encoding="bytes"; the writer names the
    # same numpy globals as the real files do.
    content = py2_pickle({b"data": np.arange(6, dtype=np.uint8).reshape(2, 3), b"labels": [1, 0]})
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in content
    assert b"_codecs" not in content
    loaded = pickle.loads(content, encoding="bytes")
    assert set(loaded) == {b"data", b"labels"}
    np.testing.assert_array_equal(loaded[b"data"], [[0, 1, 2], [3, 4, 5]])


# ----------------------------------------------------------------------------
# IDX: mnist and fashion_mnist
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_files_load_split_and_standardized(tmp_path, name, gz):
    x_train, y_train, x_test, y_test = tiny_mnist()
    write_idx_folder(tmp_path, x_train, y_train, x_test, y_test, gz=gz)
    dataset = initialize_dataset(name, batch_size=8, data_dir=tmp_path)

    # 12 per class: round(12 / 12) = 1 per class to validation.
    assert [getattr(dataset, s).n_samples for s in SPLITS] == [33, 3, 6]
    assert np.bincount(classes_of(dataset.train)).tolist() == [11, 11, 11]
    assert np.bincount(classes_of(dataset.validate)).tolist() == [1, 1, 1]
    assert dataset.out_dim == 3 and dataset.input_shape == (28, 28, 1)
    for split in SPLITS:
        assert getattr(dataset, split).data.dtype == np.float64
        assert getattr(dataset, split).data.shape[1:] == (28, 28, 1)
    assert np.array_equal(dataset.indices["test"], np.arange(6))
    assert np.array_equal(np.union1d(dataset.indices["train"], dataset.indices["validate"]), np.arange(36))

    # One scalar mean and std over every pixel of the training split.
    pixels = x_train[dataset.indices["train"]].astype(np.float64)
    mean, std = pixels.mean(), pixels.std()
    for split in SPLITS:
        source = x_test if split == "test" else x_train
        labels = y_test if split == "test" else y_train
        rows = dataset.indices[split]
        expected = (source[rows].astype(np.float64) - mean) / std
        np.testing.assert_allclose(getattr(dataset, split).data[..., 0], expected, atol=1e-12)
        assert np.array_equal(classes_of(getattr(dataset, split)), labels[rows])


def test_idx_pixel_orientation(tmp_path):
    x_train, y_train, x_test, y_test = tiny_mnist()
    x_train[:] = 0
    x_test[:] = 0
    # Row 3, column 20 of the first test image; row 25, column 2 of the second.
    x_test[0, 3, 20] = 255
    x_test[1, 25, 2] = 255
    x_train[0, 0, 0] = 1  # keep the training std above zero
    write_idx_folder(tmp_path, x_train, y_train, x_test, y_test)
    test = initialize_dataset("mnist", data_dir=tmp_path).test.data
    for example, where in ((0, (3, 20, 0)), (1, (25, 2, 0))):
        assert np.unravel_index(np.argmax(test[example]), test[example].shape) == where
    flat = initialize_dataset("mnist", data_dir=tmp_path, flatten=True).test.data
    assert flat.shape == (6, 784) and np.argmax(flat[0]) == 3 * 28 + 20


def test_idx_float32_and_flatten(tmp_path):
    write_idx_folder(tmp_path, *tiny_mnist())
    dataset = initialize_dataset("mnist", data_dir=tmp_path, dtype=np.float32, flatten=True)
    assert dataset.train.data.shape == (33, 784) and dataset.train.data.dtype == np.float32
    assert dataset.train.labels.dtype == np.float32


def test_idx_without_test_labels_gives_an_unlabelled_test_split(tmp_path):
    write_idx_folder(tmp_path, *tiny_mnist(), skip=("t10k-labels-idx1-ubyte",))
    dataset = initialize_dataset("mnist", data_dir=tmp_path)
    assert dataset.test.labels is None and dataset.test.n_samples == 6
    assert dataset.train.labels is not None and dataset.validate.labels is not None
    X, Y = dataset.test.sample()
    assert X.shape == (6, 28, 28, 1) and Y is None


def test_fashion_idx_files_give_the_shipped_dataset(tmp_path):
    # The shipped npz holds the official IDX files' arrays in file order, so
    # the same files in IDX form must give the same splits, bit for bit.
    with np.load(REPO / "datasets" / "fashion_mnist.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    write_idx_folder(tmp_path, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"])
    from_idx = initialize_dataset("fashion_mnist", data_dir=tmp_path, dtype=np.float32)
    shipped = initialize_dataset("fashion_mnist", dtype=np.float32)
    for split in SPLITS:
        assert np.array_equal(from_idx.indices[split], shipped.indices[split])
        assert np.array_equal(getattr(from_idx, split).data, getattr(shipped, split).data)
        assert np.array_equal(getattr(from_idx, split).labels, getattr(shipped, split).labels)


def idx_case(edit):
    """A tiny mnist folder with one file replaced by ``edit(files) -> (name, bytes)``."""
    def build(folder):
        x_train, y_train, x_test, y_test = tiny_mnist()
        write_idx_folder(folder, x_train, y_train, x_test, y_test)
        name, content = edit((x_train, y_train, x_test, y_test))
        (folder / name).write_bytes(content)
        return folder / name
    return build


BAD_IDX = [
    (idx_case(lambda a: ("train-images-idx3-ubyte", idx_bytes(a[1], 2049))),
     "starts with the magic number 2051; found 2049 (a label file)"),
    (idx_case(lambda a: ("train-labels-idx1-ubyte", idx_bytes(a[1], 2051))),
     "starts with the magic number 2049; found 2051"),
    (idx_case(lambda a: ("train-images-idx3-ubyte", idx_bytes(a[0], 2051)[:-10])),
     "the header announces 36 images, 28240 bytes in all, but the file holds 28230 bytes"),
    (idx_case(lambda a: ("t10k-images-idx3-ubyte", idx_bytes(np.zeros((2, 32, 32)), 2051))),
     "expected images of shape (items, 28, 28)"),
    (idx_case(lambda a: ("t10k-labels-idx1-ubyte", idx_bytes(a[3][:5], 2049))),
     "it holds 5 labels but t10k-images-idx3-ubyte holds 6 images"),
    (idx_case(lambda a: ("train-labels-idx1-ubyte", idx_bytes(np.full(36, 10), 2049))),
     "expected class labels 0 to 9; found 10"),
    (idx_case(lambda a: ("train-labels-idx1-ubyte", b"\x00\x00")), "found too few bytes"),
]


@pytest.mark.parametrize("build, fragment", BAD_IDX, ids=[case[1][:40] for case in BAD_IDX])
def test_malformed_idx_files_name_the_file_and_what_was_expected(tmp_path, build, fragment):
    path = build(tmp_path)
    with pytest.raises(ValueError) as info:
        initialize_dataset("mnist", data_dir=tmp_path)
    message = str(info.value)
    assert str(path) in message and fragment in message
    assert "train-images-idx3-ubyte" in message and "Nothing is downloaded" in message


def test_a_damaged_gzip_file_is_reported(tmp_path):
    write_idx_folder(tmp_path, *tiny_mnist(), gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=re.escape(f"{path} is corrupt or not in the expected format (cannot read it")):
        initialize_dataset("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("skip", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"])
def test_a_missing_idx_file_says_which_and_where_to_put_it(tmp_path, skip):
    write_idx_folder(tmp_path, *tiny_mnist(), skip=(skip,))
    with pytest.raises(FileNotFoundError) as info:
        initialize_dataset("mnist", data_dir=tmp_path)
    message = str(info.value)
    assert f"{tmp_path / skip} is missing" in message
    assert "(each may end in .gz" in message and "Nothing is downloaded" in message


def test_mnist_is_not_shipped_and_says_where_to_put_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape("train-images-idx3-ubyte is missing")):
        initialize_dataset("mnist")
    with pytest.raises(FileNotFoundError) as info:
        initialize_dataset("fashion_mnist", data_dir=tmp_path)
    assert "fashion_mnist.npz is missing" in str(info.value)
    assert "Or put Fashion-MNIST's four IDX files" in str(info.value)


def test_too_few_examples_for_a_validation_split(tmp_path):
    # round(5 / 12) = 0 per class: the validation split would be empty.
    write_idx_folder(tmp_path, *tiny_mnist(n_per_class=5))
    with pytest.raises(ValueError, match=re.escape("validation set: data must hold at least one example")):
        initialize_dataset("mnist", data_dir=tmp_path)


# ----------------------------------------------------------------------------
# CIFAR-10 python version
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("subfolder", [False, True], ids=["in DIR", "in DIR/cifar-10-batches-py"])
def test_cifar10_batches_load_split_and_standardized_per_channel(tmp_path, subfolder):
    batches, test = tiny_cifar()
    write_cifar_folder(tmp_path / "cifar-10-batches-py" if subfolder else tmp_path, batches, test)
    dataset = initialize_dataset("cifar10", batch_size=8, data_dir=tmp_path)

    # 10 per class over the five batches: round(10 / 10) = 1 per class to validation.
    assert [getattr(dataset, s).n_samples for s in SPLITS] == [27, 3, 6]
    assert np.bincount(classes_of(dataset.train)).tolist() == [9, 9, 9]
    assert np.bincount(classes_of(dataset.validate)).tolist() == [1, 1, 1]
    assert dataset.input_shape == (32, 32, 3) and dataset.out_dim == 3
    for split in SPLITS:
        assert getattr(dataset, split).data.dtype == np.float64

    x_train = np.concatenate([images for images, _ in batches])
    y_train = np.concatenate([labels for _, labels in batches])
    train = x_train[dataset.indices["train"]].astype(np.float64)
    mean = np.array([train[..., c].mean() for c in range(3)])
    std = np.array([train[..., c].std() for c in range(3)])
    for split in SPLITS:
        source, labels = (test if split == "test" else (x_train, y_train))
        rows = dataset.indices[split]
        expected = (source[rows] - mean) / std
        np.testing.assert_allclose(getattr(dataset, split).data, expected, atol=1e-12)
        assert np.array_equal(classes_of(getattr(dataset, split)), labels[rows])
    # Each channel of the training split has mean 0 and std 1.
    np.testing.assert_allclose(dataset.train.data.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(dataset.train.data.std(axis=(0, 1, 2)), 1, atol=1e-12)


def test_cifar10_pixel_orientation(tmp_path):
    batches, (test_images, test_labels) = tiny_cifar()
    # Build the test batch's first row by hand: red plane, green plane, blue
    # plane, each row-major. Red lights row 2, column 7; green row 30,
    # column 1; blue row 0, column 31.
    row = np.zeros(3072, dtype=np.uint8)
    row[0 * 1024 + 2 * 32 + 7] = 255
    row[1 * 1024 + 30 * 32 + 1] = 255
    row[2 * 1024 + 0 * 32 + 31] = 255
    write_cifar_folder(tmp_path, batches, (test_images, test_labels))
    batch = {b"batch_label": b"testing batch 1 of 1",
             b"data": np.vstack([row, cifar_rows(test_images[1:])]),
             b"labels": [int(k) for k in test_labels],
             b"filenames": [b"x.png"] * len(test_labels)}
    (tmp_path / "test_batch").write_bytes(py2_pickle(batch))
    image = initialize_dataset("cifar10", data_dir=tmp_path).test.data[0]
    for channel, (r, c) in enumerate([(2, 7), (30, 1), (0, 31)]):
        plane = image[..., channel]
        assert np.unravel_index(np.argmax(plane), plane.shape) == (r, c)
        assert np.sum(plane == plane.max()) == 1


def test_cifar10_test_batch_without_labels(tmp_path):
    batches, test = tiny_cifar()
    write_cifar_folder(tmp_path, batches, test, test_labels=False)
    dataset = initialize_dataset("cifar10", data_dir=tmp_path, dtype=np.float32)
    assert dataset.test.labels is None and dataset.test.data.shape == (6, 32, 32, 3)
    assert dataset.test.data.dtype == np.float32


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar10_batches_re_saved_by_python3_load(tmp_path, protocol):
    # pickle.dump in Python 3 writes bytes through _codecs.encode (protocol 2)
    # and arrays through numpy's _frombuffer (protocol 5).
    batches, test = tiny_cifar()
    folder = write_cifar_folder(tmp_path, batches, test)
    for name in ("data_batch_1", "test_batch"):
        batch = pickle.loads((folder / name).read_bytes(), encoding="bytes")
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    assert b"_codecs" in (folder / "test_batch").read_bytes() or protocol == 5
    dataset = initialize_dataset("cifar10", data_dir=tmp_path)
    assert [getattr(dataset, s).n_samples for s in SPLITS] == [27, 3, 6]
    expected = initialize_dataset("cifar10", data_dir=write_cifar_folder(tmp_path / "py2", batches, test))
    np.testing.assert_array_equal(dataset.test.data, expected.test.data)


def test_an_unsafe_pickle_is_refused_without_running_it(tmp_path):
    batches, test = tiny_cifar()
    write_cifar_folder(tmp_path, batches, test)
    marker = tmp_path / "ran"
    # os.mkdir(marker): harmless, but proves whether the pickle was executed.
    evil = b"\x80\x02cos\nmkdir\n" + py2_str(str(marker).encode()) + b"\x85R."
    (tmp_path / "data_batch_3").write_bytes(evil)
    with pytest.raises(ValueError) as info:
        initialize_dataset("cifar10", data_dir=tmp_path)
    assert str(tmp_path / "data_batch_3") in str(info.value)
    assert "refers to os.mkdir" in str(info.value)
    assert not marker.exists()


def cifar_case(name, content):
    def build(folder):
        write_cifar_folder(folder, *tiny_cifar())
        (folder / name).write_bytes(content(folder))
        return folder / name
    return build


GOOD_ROWS = cifar_rows(np.zeros((6, 32, 32, 3), dtype=np.uint8))
BAD_CIFAR = [
    (cifar_case("data_batch_1", lambda f: py2_pickle([1, 2])),
     "expected a pickled dict with the keys b'data' and b'labels'; got [1, 2] (list)"),
    (cifar_case("data_batch_2", lambda f: py2_pickle({b"data": GOOD_ROWS})),
     "expected a pickled dict with the keys b'data' and b'labels'; got [\"b'data'\"]"),
    (cifar_case("data_batch_2", lambda f: py2_pickle({b"data": GOOD_ROWS[:, :1024], b"labels": [0] * 6})),
     "b'data' should be uint8 of shape (images, 3072)"),
    (cifar_case("data_batch_5", lambda f: py2_pickle({b"data": GOOD_ROWS, b"labels": [0] * 5})),
     "b'labels' should be a list of 6 class indices 0 to 9"),
    (cifar_case("test_batch", lambda f: py2_pickle({b"data": GOOD_ROWS, b"labels": [12] * 6})),
     "b'labels' should be a list of 6 class indices 0 to 9"),
    (cifar_case("data_batch_4", lambda f: py2_pickle({b"data": GOOD_ROWS, b"labels": [0] * 6})[:200]),
     "cannot unpickle it as a CIFAR-10 batch"),
    (cifar_case("data_batch_1", lambda f: b"not a pickle at all"), "cannot unpickle it as a CIFAR-10 batch"),
]


@pytest.mark.parametrize("build, fragment", BAD_CIFAR, ids=[case[1][:40] for case in BAD_CIFAR])
def test_malformed_cifar_batches_name_the_file_and_what_was_expected(tmp_path, build, fragment):
    path = build(tmp_path)
    with pytest.raises(ValueError) as info:
        initialize_dataset("cifar10", data_dir=tmp_path)
    message = str(info.value)
    assert f"{path} is corrupt or not in the expected format" in message
    assert fragment in message and "Nothing is downloaded" in message


def test_missing_cifar_files_say_which_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        initialize_dataset("cifar10", data_dir=tmp_path)
    message = str(info.value)
    assert f"{tmp_path / 'data_batch_1'} is missing" in message
    assert str(tmp_path / "cifar-10-batches-py") in message and "test_batch" in message

    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=re.escape("tar -xzf cifar-10-python.tar.gz")):
        initialize_dataset("cifar10", data_dir=tmp_path)

    write_cifar_folder(tmp_path, *tiny_cifar())
    (tmp_path / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(f"{tmp_path / 'test_batch'} is missing")):
        initialize_dataset("cifar10", data_dir=tmp_path)


# ----------------------------------------------------------------------------
# The course's iris split
# ----------------------------------------------------------------------------


def test_the_course_iris_split_is_used_as_given(tmp_path):
    arrays = write_iris_split(tmp_path)
    dataset = initialize_dataset("iris", batch_size=25, data_dir=tmp_path)
    assert [getattr(dataset, s).n_samples for s in SPLITS] == [105, 15, 30]
    train = arrays["train"][0]
    mean, std = train.mean(axis=0), train.std(axis=0)
    for split, name in zip(SPLITS, ("train", "val", "test")):
        data, classes = arrays[name]
        np.testing.assert_allclose(getattr(dataset, split).data, (data - mean) / std, atol=1e-12)
        assert np.array_equal(classes_of(getattr(dataset, split)), classes)
        assert np.array_equal(dataset.indices[split], np.arange(len(data)))
    assert dataset.out_dim == 3


def test_the_course_iris_split_without_test_labels(tmp_path):
    write_iris_split(tmp_path, test_labels=False)
    dataset = initialize_dataset("iris", data_dir=tmp_path)
    assert dataset.test.labels is None and dataset.test.n_samples == 30


@pytest.mark.parametrize("edit, file, fragment", [
    (lambda d: (d / "iris_val_labels.npy").unlink(), "iris_val_labels.npy", "is missing"),
    (lambda d: np.save(d / "iris_train_labels.npy", np.full((105, 3), 0.5)), "iris_train_labels.npy",
     "expected one-hot labels of shape (105, 3)"),
    (lambda d: np.save(d / "iris_val_labels.npy", np.eye(3)), "iris_val_labels.npy",
     "expected one-hot labels of shape (15, 3)"),
    (lambda d: np.save(d / "iris_test_data.npy", np.zeros((30, 5))), "iris_test_data.npy",
     "expected numbers of shape (examples, 4)"),
    (lambda d: np.save(d / "iris_train_data.npy", np.where(np.eye(105, 4) == 1, np.nan, 1.0)),
     "iris_train_data.npy", "non-finite value (nan) at row 0, column 0"),
    (lambda d: (d / "iris_train_data.npy").write_bytes(b"\x93NUMPY\x01\x00junk"), "iris_train_data.npy",
     "cannot read it as a .npy array"),
])
def test_a_bad_course_iris_file_is_named(tmp_path, edit, file, fragment):
    write_iris_split(tmp_path)
    edit(tmp_path / "iris")
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        initialize_dataset("iris", data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "iris" / file) in message and fragment in message
    assert "iris_{train,val,test}_data.npy" in message


@pytest.mark.parametrize("inside, indices", [(True, False), (False, True)],
                         ids=["data_dir is the iris folder", "labels as class indices"])
def test_the_course_iris_files_as_students_have_them(tmp_path, inside, indices):
    arrays = write_iris_split(tmp_path)
    for name in ("train", "val", "test") if indices else ():
        np.save(tmp_path / "iris" / f"iris_{name}_labels.npy", arrays[name][1])
    dataset = initialize_dataset("iris", data_dir=tmp_path / "iris" if inside else tmp_path)
    for split, name in zip(SPLITS, ("train", "val", "test")):
        assert np.array_equal(classes_of(getattr(dataset, split)), arrays[name][1])


def soft(labels):
    return np.where(labels == 1, 0.9, 0.05)


@pytest.mark.parametrize("edit, file, message", [
    (lambda d: np.save(d / "iris_train_labels.npy", soft(np.load(d / "iris_train_labels.npy"))),
     "iris_train_labels.npy", "one per row of iris_train_data.npy; row 0 is [0.9  0.05 0.05], not a single 1 among 0s"),
    (lambda d: np.save(d / "iris_val_labels.npy", np.arange(15) % 4), "iris_val_labels.npy",
     "row 3 is 3, not a class 0, 1 or 2"),
    (lambda d: (d / "iris_test_data.npy").write_text("5.1,3.5,1.4,0.2\n"), "iris_test_data.npy",
     "(not a .npy file (numpy.save writes b'\\x93NUMPY' first): it starts with b'5.1,3.5,1.4,0.2\\n')"),
])
def test_a_wrong_course_iris_file_says_what_it_holds(tmp_path, edit, file, message):
    write_iris_split(tmp_path)
    edit(tmp_path / "iris")
    with pytest.raises(ValueError) as info:
        initialize_dataset("iris", data_dir=tmp_path)
    assert f"{tmp_path / 'iris' / file} is corrupt or not in the expected format" in str(info.value)
    assert message in str(info.value) and "allow_pickle" not in str(info.value)


def test_a_wrong_data_folder_says_what_is_there(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        initialize_dataset("iris", data_dir=tmp_path / "nowhere")
    assert str(info.value).startswith(f"initialize_dataset: the data folder {tmp_path / 'nowhere'} does not "
                                      "exist; give the folder that holds the iris files as data_dir")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "mnist").mkdir()
    with pytest.raises(FileNotFoundError) as info:
        initialize_dataset("iris", data_dir=tmp_path)
    assert f"{tmp_path / 'iris.csv'} is missing ({tmp_path} holds mnist/, notes.txt)." in str(info.value)


def test_a_missing_iris_csv_mentions_the_course_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape("iris/iris_{train,val,test}_{data,labels}.npy")):
        initialize_dataset("iris", data_dir=tmp_path)


# ----------------------------------------------------------------------------
# train_cnn.py on your own folders
# ----------------------------------------------------------------------------


def run_script(script, *args):
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, script, *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def run_cnn(*args):
    return run_script("train_cnn.py", *args)


def only_run_folder(save_dir):
    folders = [p for p in save_dir.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_train_cnn_runs_one_epoch_on_your_own_files(tmp_path, dataset):
    data = tmp_path / "data"
    if dataset == "mnist":
        write_idx_folder(data, *tiny_mnist(), gz=True)
    else:
        write_cifar_folder(data / "cifar-10-batches-py", *tiny_cifar())
    save = tmp_path / "runs"
    result = run_cnn("--dataset", dataset, "--data-dir", data, "--epochs", 1, "--batch-size", 8,
                     "--save-dir", save, "--no-plot", "--quiet")
    assert result.returncode == 0, result.stderr
    assert FINAL_LINE.fullmatch(result.stdout.strip().splitlines()[-1]), result.stdout
    folder = only_run_folder(save)
    channels = "32-64-128" if dataset == "cifar10" else "32-64"
    assert folder.name == f"cnn_{channels}-lr0.001_adam_{dataset}_seed0"
    rows = (folder / "predictions.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 6
    assert (folder / "data_args.json").read_text().count(str(data)) == 1


def test_train_ffnn_runs_on_the_course_iris_files(tmp_path):
    write_iris_split(tmp_path / "data")
    save = tmp_path / "runs"
    result = run_script("train_ffnn.py", "--data-dir", tmp_path / "data", "--epochs", 1,
                        "--save-dir", save, "--no-plot", "--quiet")
    assert result.returncode == 0, result.stderr
    assert FINAL_LINE.fullmatch(result.stdout.strip().splitlines()[-1]), result.stdout
    rows = (only_run_folder(save) / "predictions.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 30


def test_train_cnn_reports_a_bad_data_dir_in_one_line(tmp_path):
    result = run_cnn("--dataset", "cifar10", "--data-dir", tmp_path / "nowhere", "--epochs", 1,
                     "--save-dir", tmp_path / "runs", "--no-plot")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert f"the data folder {tmp_path / 'nowhere'} does not exist" in lines[0]


@pytest.mark.skipif(not hasattr(NeuralNetwork, "test_kaggle"),
                    reason="needs NeuralNetwork.test_kaggle for a test split without labels")
def test_train_cnn_writes_kaggle_predictions_for_hidden_test_labels(tmp_path):
    data = tmp_path / "data"
    write_idx_folder(data, *tiny_mnist(), skip=("t10k-labels-idx1-ubyte",))
    save = tmp_path / "runs"
    result = run_cnn("--dataset", "mnist", "--data-dir", data, "--epochs", 1, "--batch-size", 8,
                     "--save-dir", save, "--no-plot", "--quiet")
    assert result.returncode == 0, result.stderr
    assert not FINAL_LINE.search(result.stdout)  # nothing to score against
    folder = only_run_folder(save)
    rows = (folder / "kaggle_predictions.csv").read_text().strip().splitlines()
    assert rows[0] == "Id,Category"
    ids = [int(row.split(",")[0]) for row in rows[1:]]
    categories = [int(row.split(",")[1]) for row in rows[1:]]
    assert ids == list(range(6)) and all(0 <= c < 3 for c in categories)
    assert len((folder / "predictions.csv").read_text().strip().splitlines()) == 1 + 6
