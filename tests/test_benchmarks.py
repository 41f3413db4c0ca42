"""The benchmark scripts run and print their rows (their numbers are not
checked: speed is judged from their ratios, never by a timed test)."""

import os
import subprocess
import sys

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
