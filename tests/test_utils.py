"""Tests for neural_networks.utils: the gradient checker, data helpers,
AttrDict, atomic file writes and the restricted unpickler."""

import datetime
import io
import os
import pickle

import numpy as np
import pytest

from neural_networks.utils import (
    AttrDict,
    atomic_open,
    center,
    check_gradients,
    integers_to_one_hot,
    load_pickle,
    normalize,
    standardize,
)

# ---------------------------------------------------------------------------
# check_gradients
# ---------------------------------------------------------------------------


def cube_and_mix(x):
    """f(x) = [x0^3 + x1 x2, sin(x1), ...] written for a 1-D x of length 3."""
    return np.array([x[0] ** 3 + x[1] * x[2], np.sin(x[1]), x[2] ** 2])


def cube_and_mix_grad(x, w):
    """d/dx of sum(w * f(x))."""
    return np.array([
        3 * x[0] ** 2 * w[0],
        x[2] * w[0] + np.cos(x[1]) * w[1],
        x[1] * w[0] + 2 * x[2] * w[2],
    ])


def test_check_gradients_small_error_for_correct_gradient():
    x = np.array([0.7, -1.3, 2.1])
    w = np.array([1.5, -0.5, 2.0])
    assert check_gradients(cube_and_mix, cube_and_mix_grad(x, w), x, w) < 1e-8


def test_check_gradients_large_error_for_wrong_gradient():
    x = np.array([0.7, -1.3, 2.1])
    w = np.array([1.5, -0.5, 2.0])
    wrong = cube_and_mix_grad(x, w)
    wrong[1] += 0.5
    assert check_gradients(cube_and_mix, wrong, x, w) > 1e-2
    # a gradient off by a factor 2 everywhere gives exactly 1/3
    assert check_gradients(cube_and_mix, 2 * cube_and_mix_grad(x, w), x, w) == pytest.approx(1 / 3, rel=1e-6)


def test_check_gradients_matrix_function():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 3))
    X = rng.normal(size=(3, 2))
    dLdf = rng.normal(size=(4, 2))
    # f(X) = A @ X, so d sum(dLdf * f) / dX = A^T dLdf
    assert check_gradients(lambda x: A @ x, A.T @ dLdf, X, dLdf) < 1e-8
    assert check_gradients(lambda x: A @ x, A.T @ dLdf + 1e-3, X, dLdf) > 1e-4


def test_check_gradients_zero_gradients_agree():
    x = np.array([1.0, 2.0])
    assert check_gradients(lambda v: np.zeros(3), np.zeros(2), x, np.ones(3)) == 0.0


def test_check_gradients_respects_h():
    # f(x) = x^3 at x = 1: central differences give 3 + h^2, exactly
    x = np.array([1.0])
    coarse = check_gradients(lambda v: v**3, np.array([3.0]), x, np.ones(1), h=0.1)
    assert coarse == pytest.approx(0.01 / 6.01, rel=1e-6)
    assert check_gradients(lambda v: v**3, np.array([3.0]), x, np.ones(1)) < 1e-8


def awkward_x():
    """Values for which x + h - h is not x in floating point."""
    x = np.array([0.1, 1 / 3, 1e-7, 12345.678, -2.5e-3, 7.0])
    h = 1e-6
    assert np.any((x + h) - h != x), "precondition: arithmetic restoring would drift"
    return x


def test_check_gradients_leaves_x_bit_identical():
    x = awkward_x()
    before = x.tobytes()
    seen = []

    def fn(v):
        seen.append(v.copy())
        return np.sin(v)

    check_gradients(fn, np.cos(x), x, np.ones_like(x))
    assert x.tobytes() == before
    # the checker really did perturb x in place while it ran
    assert any(not np.array_equal(s, x) for s in seen)


@pytest.mark.parametrize("fail_at", [1, 2, 5])
def test_check_gradients_leaves_x_bit_identical_when_fn_raises(fail_at):
    x = awkward_x()
    before = x.tobytes()
    calls = []

    def fn(v):
        calls.append(1)
        if len(calls) == fail_at:
            raise RuntimeError("boom")
        return v * 2

    with pytest.raises(RuntimeError, match="boom"):
        check_gradients(fn, 2 * np.ones_like(x), x, np.ones_like(x))
    assert x.tobytes() == before


def test_check_gradients_leaves_2d_x_bit_identical():
    x = np.random.default_rng(1).normal(size=(3, 4)) * 1e3
    before = x.tobytes()
    check_gradients(np.sin, np.cos(x), x, np.ones_like(x))
    assert x.tobytes() == before


def _read_only(x):
    x.flags.writeable = False
    return x


@pytest.mark.parametrize("grad, x, dLdf, h, error, message", [
    (np.ones(3), np.ones(3, dtype=np.float32), np.ones(3), 1e-6, TypeError,
     "x must be float64 .*; got dtype float32"),
    (np.ones(2), np.ones(3), np.ones(3), 1e-6, ValueError, r"grad must have the shape of x \(3,\); got \(2,\)"),
    (np.ones(2), [1.0, 2.0], np.ones(2), 1e-6, TypeError, "x must be a numpy array"),
    (np.ones(2), np.ones(2), np.ones(2), 0.0, ValueError, "h must be > 0; got 0.0"),
    (np.ones((4, 3)), np.ones((4, 3)), np.ones((1, 3)), 1e-6, ValueError,
     r"dLdf must be a scalar or have the shape of fn\(x\) \(4, 3\); got \(1, 3\)"),
    (np.ones(3), _read_only(np.ones(3)), np.ones(3), 1e-6, ValueError,
     r"x must be writeable .*pass a copy, e.g. x.copy\(\)"),
])
def test_check_gradients_refuses_bad_input(grad, x, dLdf, h, error, message):
    with pytest.raises(error, match="check_gradients: " + message):
        check_gradients(lambda v: v * 2, grad, x, dLdf, h=h)


def test_check_gradients_takes_a_scalar_dldf():
    x = np.ones((4, 3))
    assert check_gradients(lambda v: (v ** 2).sum(), 2 * x, x, 1.0) < 1e-9


# ---------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------


def test_integers_to_one_hot():
    got = integers_to_one_hot(np.array([2, 0, 1, 2]))
    np.testing.assert_array_equal(got, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert got.dtype == np.float64


def test_integers_to_one_hot_max_val():
    got = integers_to_one_hot(np.array([1, 0]), max_val=3)
    np.testing.assert_array_equal(got, [[0, 1, 0, 0], [1, 0, 0, 0]])


def test_integers_to_one_hot_accepts_lists_and_unsigned():
    np.testing.assert_array_equal(integers_to_one_hot([0, 1]), [[1, 0], [0, 1]])
    np.testing.assert_array_equal(integers_to_one_hot(np.array([1], dtype=np.uint8)), [[0, 1]])


@pytest.mark.parametrize("bad,max_val,match", [
    (np.array([0, -1]), None, "must not hold negative values"),
    (np.array([0.0, 1.0]), None, "must be a 1-D array of integers"),
    (np.array([[0, 1]]), None, "must be a 1-D array of integers"),
    (np.array([0, 4]), 2, "max_val is 2 but the vector holds 4"),
])
def test_integers_to_one_hot_errors(bad, max_val, match):
    with pytest.raises(ValueError, match=match):
        integers_to_one_hot(bad, max_val=max_val)


def test_center():
    X = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(center(X), [[-1.0, -2.0], [1.0, 2.0]])
    np.testing.assert_allclose(center(X, axis=1), [[-0.5, 0.5], [-1.5, 1.5]])
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 6.0]])  # not modified


def test_normalize():
    X = np.array([[1.0, 10.0, 5.0], [3.0, 20.0, 5.0], [2.0, 30.0, 5.0]])
    expected = [[0.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.5, 1.0, 0.0]]
    np.testing.assert_allclose(normalize(X), expected)
    np.testing.assert_array_equal(X[:, 2], [5.0, 5.0, 5.0])


def test_normalize_with_max_val_and_axis():
    X = np.array([[0.0, 5.0], [10.0, 255.0]])
    np.testing.assert_allclose(normalize(X, max_val=255.0), [[0.0, 0.0], [10 / 255, 250 / 255]])
    np.testing.assert_allclose(normalize(np.array([[2.0, 4.0, 6.0]]), axis=1), [[0.0, 0.5, 1.0]])


def test_standardize():
    X = np.array([[1.0, 2.0], [3.0, 2.0]])
    # column 0: mean 2, std 1; column 1 is constant and maps to 0
    np.testing.assert_allclose(standardize(X), [[-1.0, 0.0], [1.0, 0.0]])
    Y = np.array([[1.0, 5.0, 9.0]])
    np.testing.assert_allclose(standardize(Y, axis=1), [[-1.224744871391589, 0.0, 1.224744871391589]])


def test_standardize_with_given_statistics():
    X = np.array([[4.0, 0.0], [6.0, 10.0]])
    got = standardize(X, mean=np.array([[2.0, 5.0]]), std=np.array([[2.0, 5.0]]))
    np.testing.assert_allclose(got, [[1.0, -1.0], [2.0, 1.0]])
    np.testing.assert_allclose(standardize(X, mean=2.0, std=2.0), [[1.0, -1.0], [2.0, 4.0]])


# ---------------------------------------------------------------------------
# AttrDict
# ---------------------------------------------------------------------------


def test_attrdict():
    d = AttrDict(lr=0.1, name="run")
    assert d.lr == 0.1 and d["name"] == "run"
    d.epochs = 5
    assert d["epochs"] == 5
    d["seed"] = 0
    assert d.seed == 0
    del d.lr
    assert "lr" not in d
    assert isinstance(d, dict)
    assert dict(d) == {"name": "run", "epochs": 5, "seed": 0}
    with pytest.raises(AttributeError):
        d.missing
    with pytest.raises(AttributeError):
        del d.missing


# ---------------------------------------------------------------------------
# atomic_open
# ---------------------------------------------------------------------------


def test_atomic_open_writes_binary_and_text(tmp_path):
    path = tmp_path / "weights.bin"
    with atomic_open(path) as f:
        f.write(b"\x00\x01new")
    assert path.read_bytes() == b"\x00\x01new"
    text = tmp_path / "log.txt"
    with atomic_open(text, "w") as f:
        f.write("héllo\n")
    assert text.read_text(encoding="utf-8") == "héllo\n"
    assert sorted(os.listdir(tmp_path)) == ["log.txt", "weights.bin"]


def test_atomic_open_failure_keeps_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("old contents")
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_open(path, "w") as f:
            f.write("half of the new")
            raise RuntimeError("crash")
    assert path.read_text() == "old contents"
    assert os.listdir(tmp_path) == ["model.txt"]


def test_atomic_open_failure_without_old_file_creates_nothing(tmp_path):
    path = tmp_path / "new.bin"
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(path) as f:
            f.write(b"partial")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_atomic_open_replaces_existing_file_and_creates_dirs(tmp_path):
    path = tmp_path / "sub" / "dir" / "out.txt"
    with atomic_open(path, "w") as f:
        f.write("one")
    with atomic_open(str(path), "w") as f:
        f.write("two")
    assert path.read_text() == "two"
    assert os.listdir(path.parent) == ["out.txt"]


def test_atomic_open_gives_ordinary_file_permissions(tmp_path):
    # an atomically written file gets the permissions a plain open() would give
    plain = tmp_path / "plain.txt"
    with open(plain, "w") as f:
        f.write("x")
    atomic = tmp_path / "atomic.txt"
    with atomic_open(atomic, "w") as f:
        f.write("x")
    assert oct(atomic.stat().st_mode & 0o777) == oct(plain.stat().st_mode & 0o777)


def test_atomic_open_bad_mode(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb'; got 'a'"):
        with atomic_open(tmp_path / "x", "a"):
            pass


def test_load_pickle_builds_plain_data_and_the_allowed_globals_only():
    data = {"labels": [1, 2], "name": "batch", "when": datetime.date(2020, 1, 2)}
    allowed = {("datetime", "date")}
    assert load_pickle(io.BytesIO(pickle.dumps(data)), allowed) == data
    with pytest.raises(pickle.UnpicklingError, match=r"it refers to posix.system|it refers to os.system"):
        load_pickle(io.BytesIO(pickle.dumps(os.system)), allowed)
    with pytest.raises(pickle.UnpicklingError, match=r"it refers to datetime.date, which is not allowed"):
        load_pickle(io.BytesIO(pickle.dumps(data)), set())
