"""Tests for neural_networks.datasets: sampling, splits, loading and errors."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from neural_networks import datasets
from neural_networks.datasets import Data, Dataset, initialize_dataset

DATA_DIR = Path(__file__).resolve().parent.parent / "datasets"
SPLITS = ("train", "validate", "test")


# ----------------------------------------------------------------------------
# Fixtures: each shipped dataset is loaded once per test session.
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    return initialize_dataset("iris", batch_size=25, seed=0)


@pytest.fixture(scope="module")
def digits():
    return initialize_dataset("digits", batch_size=64, seed=0)


@pytest.fixture(scope="module")
def fashion():
    return initialize_dataset("fashion_mnist", batch_size=100, seed=0, dtype=np.float32)


@pytest.fixture(scope="module")
def raw_iris():
    table = np.loadtxt(DATA_DIR / "iris.csv", delimiter=",", skiprows=1, usecols=range(5))
    return table[:, :4], table[:, 4].astype(int)


@pytest.fixture(scope="module")
def raw_digits():
    with np.load(DATA_DIR / "digits.npz") as archive:
        return archive["X"], archive["y"]


def classes_of(data):
    return np.argmax(data.labels, axis=1)


def collect_pass(data):
    """Concatenate one pass of ``sample()``; return (X, Y, batch sizes)."""
    batches = [data.sample() for _ in range(data.samples_per_epoch)]
    X = np.concatenate([X for X, _ in batches])
    Y = None if batches[0][1] is None else np.concatenate([Y for _, Y in batches])
    return X, Y, [len(X) for X, _ in batches]


def counting_data(n=30, batch_size=7, seed=0, **kwargs):
    """A set whose single feature is the example's index, labels its index mod 3."""
    X = np.arange(n, dtype=np.float64)[:, None]
    return Data(X, batch_size=batch_size, labels=np.arange(n) % 3, seed=seed, **kwargs)


# ----------------------------------------------------------------------------
# Splits of the shipped datasets
# ----------------------------------------------------------------------------


def test_iris_split_sizes_and_per_class_counts(iris):
    assert (iris.train.n_samples, iris.validate.n_samples, iris.test.n_samples) == (105, 15, 30)
    assert np.bincount(classes_of(iris.train), minlength=3).tolist() == [35, 35, 35]
    assert np.bincount(classes_of(iris.validate), minlength=3).tolist() == [5, 5, 5]
    assert np.bincount(classes_of(iris.test), minlength=3).tolist() == [10, 10, 10]
    assert iris.out_dim == 3
    assert iris.input_shape == (4,) and iris.n_features == 4
    assert iris.train.data.shape == (105, 4)


def test_digits_split_sizes_are_stratified(digits, raw_digits):
    sizes = [getattr(digits, split).n_samples for split in SPLITS]
    assert sizes == [1259, 179, 359]
    assert np.bincount(classes_of(digits.train)).tolist() == [124, 128, 124, 128, 127, 128, 127, 125, 122, 126]
    assert np.bincount(classes_of(digits.validate)).tolist() == [18] * 8 + [17, 18]
    assert np.bincount(classes_of(digits.test)).tolist() == [36, 36, 35, 37, 36, 36, 36, 36, 35, 36]
    # Each class is split about 70/10/20.
    per_class = np.bincount(raw_digits[1])
    for split, fraction in zip(SPLITS, (0.7, 0.1, 0.2)):
        counts = np.bincount(classes_of(getattr(digits, split)))
        assert np.all(np.abs(counts - fraction * per_class) <= 1)


def test_fashion_split_sizes_shapes_and_dtype(fashion):
    assert [getattr(fashion, split).n_samples for split in SPLITS] == [55000, 5000, 10000]
    assert np.bincount(classes_of(fashion.train)).tolist() == [5500] * 10
    assert np.bincount(classes_of(fashion.validate)).tolist() == [500] * 10
    assert np.bincount(classes_of(fashion.test)).tolist() == [1000] * 10
    assert fashion.train.data.shape == (55000, 28, 28, 1)
    assert fashion.input_shape == (28, 28, 1) and fashion.n_features == 784
    for split in SPLITS:
        assert getattr(fashion, split).data.dtype == np.float32
        assert getattr(fashion, split).labels.dtype == np.float32
    # train/validate come from the official training set, test is the official test set.
    train, validate = fashion.indices["train"], fashion.indices["validate"]
    assert np.intersect1d(train, validate).size == 0
    assert np.array_equal(np.union1d(train, validate), np.arange(60000))
    assert np.array_equal(fashion.indices["test"], np.arange(10000))
    assert np.all(np.abs(fashion.train.data.mean(dtype=np.float64)) < 1e-4)
    assert abs(fashion.train.data.std(dtype=np.float64) - 1) < 1e-4


@pytest.mark.parametrize("name, n_rows", [("iris", 150), ("digits", 1797)])
def test_splits_are_disjoint_and_cover_the_file(name, n_rows, iris, digits):
    dataset = {"iris": iris, "digits": digits}[name]
    parts = [dataset.indices[split] for split in SPLITS]
    for part, split in zip(parts, SPLITS):
        assert part.size == getattr(dataset, split).n_samples
    assert np.intersect1d(parts[0], parts[1]).size == 0
    assert np.intersect1d(parts[0], parts[2]).size == 0
    assert np.intersect1d(parts[1], parts[2]).size == 0
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(n_rows))


def test_iris_indices_match_the_raw_rows(iris, raw_iris):
    features, species = raw_iris
    train_rows = features[iris.indices["train"]]
    mean, std = train_rows.mean(axis=0), train_rows.std(axis=0)
    for split in SPLITS:
        rows = iris.indices[split]
        data = getattr(iris, split)
        np.testing.assert_allclose(data.data, (features[rows] - mean) / std, atol=1e-12)
        assert np.array_equal(classes_of(data), species[rows])


def test_digits_indices_match_the_raw_images(digits, raw_digits):
    images, labels = raw_digits
    pixels = images[digits.indices["train"]].astype(np.float64) / 16
    mean, std = pixels.mean(), pixels.std()
    for split in SPLITS:
        rows = digits.indices[split]
        expected = ((images[rows] / 16 - mean) / std)[..., None]
        np.testing.assert_allclose(getattr(digits, split).data, expected, atol=1e-12)
        assert np.array_equal(classes_of(getattr(digits, split)), labels[rows])


def test_the_split_does_not_depend_on_the_seed():
    a = initialize_dataset("iris", seed=1)
    b = initialize_dataset("iris", seed=2)
    for split in SPLITS:
        assert np.array_equal(a.indices[split], b.indices[split])
    assert datasets.SPLIT_SEED == 0


# ----------------------------------------------------------------------------
# Preprocessing
# ----------------------------------------------------------------------------


def test_iris_is_standardized_with_training_statistics(iris):
    np.testing.assert_allclose(iris.train.data.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(iris.train.data.std(axis=0), 1, atol=1e-12)
    # The other splits use the training statistics, so they are close but not exact.
    for data in (iris.validate, iris.test):
        assert np.max(np.abs(data.data.mean(axis=0))) > 1e-3
        assert np.max(np.abs(data.data.std(axis=0) - 1)) > 1e-3


def test_digits_are_nhwc_and_standardized_with_one_scalar(digits):
    assert digits.train.data.shape == (1259, 8, 8, 1)
    assert digits.validate.data.shape == (179, 8, 8, 1)
    assert digits.test.data.shape == (359, 8, 8, 1)
    assert digits.input_shape == (8, 8, 1) and digits.n_features == 64
    assert abs(digits.train.data.mean()) < 1e-12
    assert abs(digits.train.data.std() - 1) < 1e-12
    # One scalar for all pixels: per-pixel means are not all zero.
    assert np.max(np.abs(digits.train.data.mean(axis=0))) > 0.5
    assert abs(digits.test.data.mean()) > 1e-4


def test_labels_are_one_hot_in_the_data_dtype(iris, digits):
    for dataset in (iris, digits):
        for split in SPLITS:
            labels = getattr(dataset, split).labels
            assert labels.dtype == np.float64
            assert set(np.unique(labels)) == {0.0, 1.0}
            assert np.all(labels.sum(axis=1) == 1)
    assert digits.out_dim == 10 and digits.train.labels.shape == (1259, 10)


def test_flatten_reshapes_images(digits):
    flat = initialize_dataset("digits", flatten=True, seed=0)
    assert flat.train.data.shape == (1259, 64)
    assert flat.input_shape == (64,) and flat.n_features == 64
    np.testing.assert_array_equal(flat.test.data, digits.test.data.reshape(359, 64))
    # Iris is already flat.
    assert initialize_dataset("iris", flatten=True).train.data.shape == (105, 4)


def test_float32_is_honoured_everywhere():
    dataset = initialize_dataset("digits", dtype="float32")
    for split in SPLITS:
        assert getattr(dataset, split).data.dtype == np.float32
        assert getattr(dataset, split).labels.dtype == np.float32
    X, Y = dataset.train.sample()
    assert X.dtype == np.float32 and Y.dtype == np.float32


def test_names_are_case_insensitive():
    assert initialize_dataset("IRIS").train.n_samples == 105


# ----------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------


def test_sample_covers_every_example_once_per_pass_and_reshuffles():
    data = counting_data(n=30, batch_size=7)
    assert data.samples_per_epoch == 5
    orders = []
    for _ in range(3):
        X, Y, sizes = collect_pass(data)
        assert sizes == [7, 7, 7, 7, 2]
        order = X[:, 0].astype(int)
        assert sorted(order) == list(range(30))
        # Each label row still belongs to its example.
        assert np.array_equal(np.argmax(Y, axis=1), order % 3)
        orders.append(order)
    assert not np.array_equal(orders[0], np.arange(30))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


def test_unshuffled_sample_follows_the_stored_order(iris):
    data = counting_data(n=10, batch_size=4, shuffle=False)
    for _ in range(2):
        X, _, sizes = collect_pass(data)
        assert sizes == [4, 4, 2]
        assert X[:, 0].tolist() == list(range(10))
    X, Y = iris.test.sample()
    assert np.array_equal(X, iris.test.data[:25])
    assert iris.train.shuffle and not iris.validate.shuffle and not iris.test.shuffle
    iris.test.reset()


def test_the_same_seed_gives_the_same_batches_and_others_differ():
    def batches(seed):
        dataset = initialize_dataset("iris", batch_size=10, seed=seed)
        return np.concatenate([dataset.train.sample()[0] for _ in range(22)])

    assert np.array_equal(batches(3), batches(3))
    assert not np.array_equal(batches(3), batches(4))


def test_iter_batches_is_in_order_and_leaves_sample_alone():
    reference = counting_data(seed=5)
    data = counting_data(seed=5)
    for _ in range(2):
        reference.sample()
        data.sample()
    batches = list(data.iter_batches())
    assert [len(X) for X, _ in batches] == [7, 7, 7, 7, 2]
    assert np.concatenate([X for X, _ in batches])[:, 0].tolist() == list(range(30))
    assert np.array_equal(np.concatenate([Y for _, Y in batches]), data.labels)
    for _ in range(12):
        X_ref, Y_ref = reference.sample()
        X, Y = data.sample()
        assert np.array_equal(X, X_ref) and np.array_equal(Y, Y_ref)


def test_reset_restarts_the_pass():
    data = counting_data()
    data.sample()
    data.reset()
    X, _, _ = collect_pass(data)
    assert sorted(X[:, 0].astype(int)) == list(range(30))


def test_get_state_and_set_state_resume_identically():
    data = counting_data(seed=11)
    for _ in range(3):
        data.sample()
    state = json.loads(json.dumps(data.get_state()))
    expected = [data.sample() for _ in range(12)]

    # Resume on the same object and on a fresh one with another seed.
    for target in (data, counting_data(seed=99)):
        target.set_state(state)
        for X_ref, Y_ref in expected:
            X, Y = target.sample()
            assert np.array_equal(X, X_ref) and np.array_equal(Y, Y_ref)


def test_state_at_a_pass_boundary_and_unshuffled():
    data = counting_data(seed=2)
    collect_pass(data)
    state = data.get_state()
    assert state["order"] is None and state["position"] == 0
    following = collect_pass(data)[0]
    data.set_state(state)
    assert np.array_equal(collect_pass(data)[0], following)

    plain = counting_data(shuffle=False)
    plain.sample()
    state = json.loads(json.dumps(plain.get_state()))
    X_next = plain.sample()[0]
    plain.set_state(state)
    assert np.array_equal(plain.sample()[0], X_next)


def test_set_state_rejects_a_bad_state_and_keeps_the_old_one():
    data = counting_data(seed=1)
    data.sample()
    good = data.get_state()
    bad_states = [
        ({**good, "order": list(range(29)) + [0]}, "permutation"),
        ({**good, "order": None}, "inside a pass"),
        ({**good, "position": 30}, "position"),
        ({**good, "n_samples": 31}, "31"),
        ({**good, "rng": {"bit_generator": "PCG64"}}, "rng"),
        ({key: value for key, value in good.items() if key != "rng"}, "rng"),
    ]
    for state, fragment in bad_states:
        with pytest.raises(ValueError, match=fragment):
            data.set_state(state)
    with pytest.raises(TypeError, match="dict"):
        data.set_state([1, 2])
    assert data.get_state() == good


def test_sampling_never_modifies_the_stored_arrays():
    X = np.arange(40, dtype=np.float64).reshape(20, 2)
    original = X.copy()
    data = Data(X, batch_size=6, labels=np.arange(20) % 2, seed=0)
    for _ in range(10):
        data.sample()
    list(data.iter_batches())
    assert np.array_equal(X, original) and np.array_equal(data.data, original)
    assert X.flags.writeable  # the caller's array keeps its flags
    with pytest.raises(ValueError):
        data.data[0, 0] = 1.0  # the stored view is read-only


# ----------------------------------------------------------------------------
# Building Data and Dataset from arrays
# ----------------------------------------------------------------------------


def test_label_kinds():
    X = np.zeros((4, 3), dtype=np.float32)
    data = Data(X, batch_size=2, labels=np.array([0, 2, 1, 2]))
    assert data.out_dim == 3 and data.labels.dtype == np.float32
    assert data.labels.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    assert Data(X, labels=np.array([0, 1, 1, 0]), out_dim=5).labels.shape == (4, 5)

    targets = np.linspace(0, 1, 8).reshape(4, 2)
    regression = Data(X, labels=targets)
    assert regression.out_dim == 2 and np.shares_memory(regression.labels, targets)
    np.testing.assert_array_equal(regression.labels, targets)

    unlabelled = Data(X, batch_size=3)
    assert unlabelled.labels is None and unlabelled.sample()[1] is None


def test_dataset_from_arrays():
    rng = np.random.default_rng(0)
    dataset = Dataset(
        rng.normal(size=(20, 5)), np.arange(20) % 4, 6,
        validation_set=rng.normal(size=(6, 5)), validation_labels=np.array([0, 1, 0, 1, 0, 1]),
        seed=3,
    )
    assert dataset.out_dim == 4 and dataset.input_shape == (5,) and dataset.n_features == 5
    # Validation labels use the training set's width even though classes 2, 3 are absent.
    assert dataset.validate.labels.shape == (6, 4)
    assert dataset.test is None and dataset.indices is None
    assert dataset.train.shuffle and not dataset.validate.shuffle
    assert dataset.train.samples_per_epoch == 4 and dataset.train.batch_size == 6


def test_a_test_set_may_come_without_labels():
    X = np.arange(12, dtype=np.float64).reshape(6, 2)
    dataset = Dataset(X, np.array([0, 1, 2, 0, 1, 2]), 4, validation_set=X[:3],
                      validation_labels=np.array([0, 1, 2]), test_set=X[:5])
    assert dataset.test.labels is None and dataset.test.n_samples == 5
    assert dataset.test.out_dim == 3 and dataset.out_dim == 3
    X_test, Y_test = dataset.test.sample()
    assert np.array_equal(X_test, X[:4]) and Y_test is None
    assert [Y is None for _, Y in dataset.test.iter_batches()] == [True, True]


# ----------------------------------------------------------------------------
# Data must be finite: a NaN is blamed on the data, not on the learning rate
# ----------------------------------------------------------------------------


def with_value(shape, index, value, dtype=np.float64):
    array = np.ones(shape, dtype=dtype)
    array[index] = value
    return array


NON_FINITE = [
    (lambda: Dataset(np.ones((8, 4)), np.arange(8) % 2, 4,
                     validation_set=with_value((5, 4), (3, 2), np.nan), validation_labels=np.arange(5) % 2),
     "Dataset: validation set: data has a non-finite value (nan) at row 3, column 2"),
    (lambda: Dataset(with_value((6, 5, 4, 3), (1, 2, 3, 0), np.inf), np.arange(6) % 2, 4),
     "Dataset: training set: data has a non-finite value (inf) at index (1, 2, 3, 0) "
     "(example 1, row 2, column 3, channel 0)"),
    (lambda: Dataset(np.ones((8, 4)), np.arange(8) % 2, 4,
                     test_set=with_value((3, 4), (2, 0), -np.inf, np.float32)),
     "Dataset: test set: data has a non-finite value (-inf) at row 2, column 0"),
    (lambda: Data(with_value((7,), 5, np.nan)), "Data: data has a non-finite value (nan) at row 5"),
    # Past the first chunk of 4096 rows: the row counts from the start of the set.
    (lambda: Data(with_value((5000, 1), (4500, 0), np.nan, np.float32)),
     "Data: data has a non-finite value (nan) at row 4500, column 0"),
    (lambda: Data(np.ones((4, 2)), labels=with_value((4, 2), (0, 1), np.nan)),
     "Data: labels has a non-finite value (nan) at row 0, column 1"),
]


@pytest.mark.parametrize("call, message", NON_FINITE, ids=[case[1][:50] for case in NON_FINITE])
def test_non_finite_data_is_reported_with_its_set_and_position(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_finite_and_integer_data_pass_the_check():
    big = np.full((3, 2), np.finfo(np.float32).max, dtype=np.float32)
    assert Data(big).n_samples == 3
    assert Data(np.arange(6).reshape(3, 2)).data.dtype == np.float64


# ----------------------------------------------------------------------------
# Bad arguments
# ----------------------------------------------------------------------------

X4 = np.zeros((4, 2))

BAD_ARGUMENTS = [
    (lambda: Data(X4, batch_size=0), ValueError, "Data: batch_size must be >= 1; got 0"),
    (lambda: Data(X4, batch_size=2.5), TypeError, "Data: batch_size must be an integer; got 2.5"),
    (lambda: Data(X4, batch_size="8"), TypeError, "batch_size"),
    (lambda: Data([[1.0, 2.0]]), TypeError, "Data: data must be a numpy array"),
    (lambda: Data(np.array(3.0)), ValueError, "Data: data must hold at least one example along its first axis; got shape ()"),
    (lambda: Data(np.zeros((0, 3))), ValueError, "at least one example along its first axis; got shape (0, 3)"),
    (lambda: Data(np.array(["a", "b"])), TypeError, "real numbers"),
    (lambda: Data(X4, labels=np.arange(3)), ValueError, "data has 4 examples but labels has 3"),
    (lambda: Data(X4, labels=[0, 1, 0, 1]), TypeError, "labels must be a numpy array"),
    (lambda: Data(X4, labels=np.array([0.0, 1.0, 0.0, 1.0])), TypeError, "integer class indices"),
    (lambda: Data(X4, labels=np.array([0, -1, 0, 1])), ValueError, ">= 0"),
    (lambda: Data(X4, labels=np.array([0, 1, 2, 3]), out_dim=3), ValueError, "out_dim is 3"),
    (lambda: Data(X4, labels=np.zeros((4, 2)), out_dim=3), ValueError, "2 columns but out_dim is 3"),
    (lambda: Data(X4, labels=np.zeros((4, 2, 1))), ValueError, "labels must have shape"),
    (lambda: Data(X4, shuffle="yes"), TypeError, "Data: shuffle must be True or False"),
    (lambda: Data(X4, seed=-1), TypeError, "Data: seed"),
    (lambda: Data(X4, out_dim=0), ValueError, "Data: out_dim must be >= 1"),
    (lambda: Dataset(X4, np.arange(4), 0), ValueError, "Dataset: batch_size must be >= 1; got 0"),
    (lambda: Dataset(X4, np.arange(3), 2), ValueError, "Dataset: training set: labels must have one row per example: data has 4"),
    (lambda: Dataset(X4, np.arange(4), 2, validation_set=np.zeros((2, 3)), validation_labels=np.arange(2)),
     ValueError, "validation_set examples have shape (3,)"),
    (lambda: Dataset(X4, np.arange(4), 2, test_labels=np.arange(2)), ValueError, "test_labels were given without"),
    (lambda: Dataset(X4, np.arange(4), 2, validation_set=X4), ValueError, "labels for all sets or for none"),
    (lambda: Dataset(X4, None, 2, test_set=X4, test_labels=np.arange(4)), ValueError, "training set has no labels but test_labels is given"),
    (lambda: initialize_dataset("cifar100"), ValueError, "valid names are ['cifar10', 'digits', 'fashion_mnist', 'iris', 'mnist']"),
    (lambda: initialize_dataset(3), TypeError, "initialize_dataset: dataset name must be a string"),
    (lambda: initialize_dataset("iris", batch_size=-5), ValueError, "initialize_dataset: batch_size must be >= 1; got -5"),
    (lambda: initialize_dataset("iris", batch_size=None), TypeError, "initialize_dataset: batch_size must be an integer; got None"),
    (lambda: initialize_dataset("iris", dtype=np.int32), ValueError, "initialize_dataset: dtype must be numpy.float32 or numpy.float64"),
    (lambda: initialize_dataset("iris", dtype=np.float16), ValueError, "got float16"),
    (lambda: initialize_dataset("iris", dtype="banana"), TypeError, "dtype"),
    (lambda: initialize_dataset("iris", flatten=1), TypeError, "initialize_dataset: flatten must be True or False"),
    (lambda: initialize_dataset("iris", seed=1.5), TypeError, "initialize_dataset: seed"),
    (lambda: initialize_dataset("iris", data_dir=42), TypeError, "initialize_dataset: data_dir must be a path"),
]


@pytest.mark.parametrize("call, error, fragment", BAD_ARGUMENTS, ids=[case[2] for case in BAD_ARGUMENTS])
def test_bad_arguments_raise_clear_errors(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()


# ----------------------------------------------------------------------------
# Data files: location, missing, corrupt, checksums
# ----------------------------------------------------------------------------

FILES = {"iris": "iris.csv", "digits": "digits.npz", "fashion_mnist": "fashion_mnist.npz"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_missing_file_says_where_and_how_to_restore(name, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        initialize_dataset(name, data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / FILES[name]) in message
    assert f"git checkout -- datasets/{FILES[name]}" in message


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_garbage_file_says_where_and_how_to_restore(name, tmp_path):
    (tmp_path / FILES[name]).write_bytes(b"\x00\xffnot a data file\n" * 10)
    with pytest.raises(ValueError) as info:
        initialize_dataset(name, data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / FILES[name]) in message
    assert "corrupt" in message and f"git checkout -- datasets/{FILES[name]}" in message


def test_a_truncated_npz_is_reported_as_corrupt(tmp_path):
    content = (DATA_DIR / "digits.npz").read_bytes()
    (tmp_path / "digits.npz").write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="corrupt"):
        initialize_dataset("digits", data_dir=tmp_path)


def test_an_empty_file_or_a_bare_array_is_reported_as_corrupt(tmp_path):
    (tmp_path / "fashion_mnist.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="corrupt"):
        initialize_dataset("fashion_mnist", data_dir=tmp_path)
    with open(tmp_path / "digits.npz", "wb") as file:
        np.save(file, np.zeros((1797, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="digits.npz is corrupt or not in the expected format "
                                         r"\(cannot read it as an .npz archive"):
        initialize_dataset("digits", data_dir=tmp_path)


@pytest.mark.parametrize(
    "arrays, fragment",
    [
        ({"images": np.zeros((1797, 8, 8), np.uint8), "y": np.zeros(1797, np.uint8)},
         "array 'X': expected uint8 of shape (1797, 8, 8), values 0 to 16; missing"),
        ({"X": np.zeros((100, 8, 8), np.uint8), "y": np.zeros(100, np.uint8)},
         "array 'X': expected uint8 of shape (1797, 8, 8), values 0 to 16; got an array of shape (100, 8, 8)"),
        ({"X": np.zeros((1797, 8, 8)), "y": np.zeros(1797, np.uint8)}, "and dtype float64, largest 0.0"),
        ({"X": np.full((1797, 8, 8), 17, np.uint8), "y": np.zeros(1797, np.uint8)}, "dtype uint8, largest 17"),
    ],
)
def test_an_npz_with_wrong_content_is_rejected(arrays, fragment, tmp_path):
    np.savez(tmp_path / "digits.npz", **arrays)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        initialize_dataset("digits", data_dir=tmp_path)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda lines: ["a,b,c"] + lines[1:], "and 150 rows; found 150 rows under 'a,b,c'"),
        (lambda lines: lines[:-1], "expected the header sepal_length,sepal_width,petal_length,"
                                   "petal_width,species,species_name and 150 rows; found 149 rows"),
        (lambda lines: lines[:5] + ["5.0,3.1,1.4"] + lines[6:], "line 6: expected 4 measurements, a "
                                                                "species 0, 1 or 2 and its name; found '5.0,3.1,1.4'"),
        (lambda lines: lines[:5] + ["5.0,x,1.4,0.2,0,setosa"] + lines[6:], "found '5.0,x,1.4,0.2,0,setosa'"),
        (lambda lines: lines[:5] + ["5.0,3.1,1.4,0.2,7,setosa"] + lines[6:], "line 6: expected"),
        (lambda lines: lines[:5] + ["5.0,3.1,1.4,0.2,-1,virginica"] + lines[6:], "line 6: expected"),
        (lambda lines: lines[:5] + ["5.0,nan,1.4,0.2,0,setosa"] + lines[6:], "line 6: expected"),
    ],
)
def test_a_csv_with_wrong_content_is_rejected(edit, fragment, tmp_path):
    lines = (DATA_DIR / "iris.csv").read_text().splitlines()
    (tmp_path / "iris.csv").write_text("\n".join(edit(lines)) + "\n")
    with pytest.raises(ValueError, match=re.escape(fragment)):
        initialize_dataset("iris", data_dir=tmp_path)


def test_data_dir_and_environment_variable(tmp_path, monkeypatch):
    assert datasets.DEFAULT_DATA_DIR == DATA_DIR
    monkeypatch.setenv("NEURAL_NETWORKS_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path))):
        initialize_dataset("iris")
    (tmp_path / "iris.csv").write_bytes((DATA_DIR / "iris.csv").read_bytes())
    assert initialize_dataset("iris").train.n_samples == 105
    # An explicit data_dir wins over the variable.
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        initialize_dataset("iris", data_dir=tmp_path / "elsewhere")


def test_shipped_files_match_the_readme_checksums():
    readme = (DATA_DIR / "README.md").read_text()
    listed = dict(re.findall(r"`([\w.]+)` \| \d+ \| `([0-9a-f]{64})`", readme))
    assert set(listed) == set(FILES.values())
    for filename, digest in listed.items():
        assert hashlib.sha256((DATA_DIR / filename).read_bytes()).hexdigest() == digest
