"""The benchmark runs and prints its rows (its numbers are not checked:
speed is judged from its ratios, never by a timed test)."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = os.path.join(ROOT, "benchmarks")


def test_bench_targets_prints_every_row_and_a_step_per_checkout(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "bench_targets.py"), "--rounds", "1", "--batch", "2",
         "--dtype", "float32", "--tree", ROOT, "--tree", ROOT],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    layer_rows = [line for line in lines if line.startswith(("Conv2D", "max pool"))]
    assert len(layer_rows) == 8 and all(line.count("x [") == 2 for line in layer_rows)  # readable, fast
    step = [line for line in lines if line.startswith("train_cnn.py step, batch 2")]
    assert len(step) == 1 and step[0].count("x [") == 2  # one cell per --tree


def test_the_benchmark_times_the_network_train_cnn_trains():
    sys.path.insert(0, BENCHMARKS)
    try:
        from bench_targets import train_cnn_layers
    finally:
        sys.path.remove(BENCHMARKS)
    import train_cnn

    layers = train_cnn_layers()
    assert [args["name"] for args in layers] == [args["name"] for args in train_cnn.layer_args]
    assert layers[-1]["n_out"] == 10 and train_cnn.layer_args[-1]["n_out"] is None
