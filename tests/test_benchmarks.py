"""The benchmark scripts run and print their rows (their numbers are not
checked: speed is judged from their ratios, never by a timed test)."""

import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = os.path.join(ROOT, "benchmarks")


def test_bench_targets_prints_a_ratio_for_every_checkout(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "bench_targets.py"), "--rounds", "1",
         "--dtype", "float64", "--only", "Iris", "--tree", ROOT, "--tree", ROOT],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    row = [line for line in result.stdout.splitlines() if line.startswith("Iris 4-25-3 step")]
    assert len(row) == 1 and row[0].count("x [") == 2  # one ratio per --tree
    assert "Conv2D" not in result.stdout  # --only keeps the Iris row alone


def test_the_benchmarks_time_the_network_train_cnn_trains():
    sys.path.insert(0, BENCHMARKS)
    try:
        from bench_targets import train_cnn_layers
    finally:
        sys.path.remove(BENCHMARKS)
    import train_cnn

    layers = train_cnn_layers()
    assert [args["name"] for args in layers] == [args["name"] for args in train_cnn.layer_args]
    assert layers[-1]["n_out"] == 10 and train_cnn.layer_args[-1]["n_out"] is None


def test_bench_floors_prints_a_floor_for_each_pooling_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "bench_floors.py"), "--rounds", "1", "--dtype", "float32"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = [line for line in result.stdout.splitlines() if ": least found " in line]
    assert [line.split(":")[0] for line in summary] == ["max pool", "average pool"]
    assert all("target" in line and "this checkout" in line for line in summary)


def test_the_floors_compute_what_pooling_computes():
    sys.path.insert(0, BENCHMARKS)
    try:
        from bench_floors import backward_floors, forward_floors
    finally:
        sys.path.remove(BENCHMARKS)
    import loops as reference

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6, 4, 3))  # two blocks of images for the shifted form
    no_pad = ((0, 0), (0, 0))
    for reduce, mode, scale in ((np.maximum, "max", 1), (np.add, "average", 4)):
        expected = reference.pool2d_forward(X, (2, 2), (2, 2), no_pad, mode) * scale
        for form in forward_floors(X, reduce).values():
            np.testing.assert_allclose(form(), expected, rtol=1e-13)
    dY = rng.standard_normal((20, 3, 2, 3))
    for form in backward_floors(dY, X.shape).values():
        np.testing.assert_array_equal(form(), dY.repeat(2, axis=1).repeat(2, axis=2))
