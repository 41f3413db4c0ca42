"""Speed of the layers and of whole training steps, as ratios measured in one run.

Absolute times depend on the machine, so every figure is set against a
yardstick measured in the same process:

* compute-bound work (dense and convolution layers, training steps) against
  the machine's own matrix-multiply speed (GFLOP/s of a large square GEMM in
  the same dtype);
* memory-bound work (pooling) against one ``np.copy`` of its input.

Run from the repository root:

    python benchmarks/bench_layers.py            # everything, float64 and float32
    python benchmarks/bench_layers.py --quick    # fewer repeats

The last lines show how a training step's cost grows with the batch: the
examples per second of train_cnn.py's network at batch 16, 64 and 256 and of
an MLP 784-256-256-10 at batch 32, 128 and 512.

Each time is the best of several repeats (the least disturbed by other work).
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from neural_networks.layers import Conv2D, FullyConnected, Pool2D  # noqa: E402
from neural_networks.models import NeuralNetwork  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_targets import train_cnn_layers  # noqa: E402


def best_time(fn, repeats):
    fn()  # warm up: first-touch page faults, buffer allocation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_peak(dtype, repeats, n=2048):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    return 2 * n**3 / best_time(lambda: A @ B, repeats) / 1e9


def time_layer(layer, X, repeats):
    Y = layer.forward(X)
    dY = np.random.default_rng(1).standard_normal(Y.shape).astype(X.dtype)
    forward = best_time(lambda: layer.forward(X), repeats)
    layer.forward(X)
    backward = best_time(lambda: layer.backward(dY), repeats)
    return forward, backward


def layer_benchmarks(dtype, peak, repeats):
    rng = np.random.default_rng(0)
    rows = []

    def report(name, forward, backward, flops):
        total = forward + backward
        gflops = flops / total / 1e9
        rows.append((name, forward * 1e3, backward * 1e3, gflops, gflops / peak))

    X = rng.standard_normal((64, 784)).astype(dtype)
    fc = FullyConnected(256, "relu", seed=0)
    f, b = time_layer(fc, X, repeats)
    report("FullyConnected 784->256, batch 64", f, b, 3 * 2 * 64 * 784 * 256)

    for (size, c_in, c_out) in ((28, 1, 32), (14, 32, 64)):
        X = rng.standard_normal((64, size, size, c_in)).astype(dtype)
        conv = Conv2D(c_out, 3, "relu", seed=0)
        f, b = time_layer(conv, X, repeats)
        # forward, dW and dX are one GEMM each of 2 * M * K * N flops.
        flops = 3 * 2 * (64 * size * size) * (9 * c_in) * c_out
        report(f"Conv2D 3x3 {c_in}->{c_out} on {size}x{size}, batch 64", f, b, flops)
        if c_in == 32:
            conv_share = rows[-1][4]

    X = rng.standard_normal((64, 28, 28, 32)).astype(dtype)
    pool = Pool2D(2, "max", stride=2)
    f, b = time_layer(pool, X, repeats)
    copy = best_time(lambda: np.copy(X), repeats)
    pool_ratio = (f + b) / copy
    return rows, conv_share, (f * 1e3, b * 1e3, copy * 1e3, pool_ratio)


# -- whole training steps ----------------------------------------------------------------


MLP_LAYERS = [
    {"name": "fully_connected", "n_out": 256, "activation": "relu"},
    {"name": "fully_connected", "n_out": 256, "activation": "relu"},
    {"name": "fully_connected", "n_out": 10, "activation": "softmax"},
]


def step_time(layer_args, X, Y, optimizer, repeats):
    model = NeuralNetwork("cross_entropy", layer_args, optimizer, seed=0)

    def step():
        out = model.forward(X)
        model.backward(Y, out)
        model.update(0)

    return best_time(step, repeats), model


def gemm_shapes(model):
    """``(kind, m, k, n)`` of every GEMM in one training step: an ``(m, k) @ (k, n)``
    product whose left ("T.") or right (".T") operand is a transposed view."""
    shapes = []
    for index, layer in enumerate(model.layers):
        W = layer.parameters.get("W")
        if W is None:
            continue
        K, N = int(np.prod(W.shape[:-1])), W.shape[-1]
        M = int(np.prod(layer.cache["Z"].shape[:-1]))
        # forward Z = X @ W; dW = X.T @ dZ; dX = dZ @ W.T (the first layer skips dX)
        shapes += [("NN", M, K, N), ("TN", K, M, N)]
        if index > 0:
            shapes.append(("NT", M, N, K))
    return shapes


def time_gemms(shapes, dtype, repeats):
    """Total best time and flops of the given GEMMs, each timed alone."""
    rng = np.random.default_rng(0)
    total = 0.0
    flops = 0
    for kind, m, k, n in shapes:
        A = rng.standard_normal((k, m)).T if kind == "TN" else rng.standard_normal((m, k))
        B = rng.standard_normal((n, k)).T if kind == "NT" else rng.standard_normal((k, n))
        A, B = A.astype(dtype, order="K"), B.astype(dtype, order="K")
        total += best_time(lambda: A @ B, repeats)
        flops += 2 * m * k * n
    return total, flops


def step_benchmarks(dtype, peak, repeats):
    rng = np.random.default_rng(0)
    results = {}
    eye = np.eye(10, dtype=dtype)
    optimizer = {"name": "SGD", "lr": 0.01, "momentum": 0.9}

    X = rng.standard_normal((128, 784)).astype(dtype)
    Y = eye[rng.integers(0, 10, 128)]
    t, model = step_time(MLP_LAYERS, X, Y, optimizer, repeats)
    _, flops = time_gemms(gemm_shapes(model), dtype, 1)
    results["mlp"] = (128 / t, flops / t / 1e9 / peak, t * 1e3)

    X = rng.standard_normal((64, 28, 28, 1)).astype(dtype)
    Y = eye[rng.integers(0, 10, 64)]
    layers = train_cnn_layers()
    t, model = step_time(layers, X, Y, optimizer, repeats)
    gemm_total, flops = time_gemms(gemm_shapes(model), dtype, repeats)
    channels = "-".join(str(a["n_out"]) for a in layers if a["name"] == "conv2d")
    results["cnn"] = (64 / t, flops / t / 1e9 / peak, t * 1e3, t / gemm_total, channels)
    return results


def scaling_benchmarks(dtype, peak, repeats):
    """Examples/s of the two training steps as the batch grows: ``(label,
    batch, examples/s, share of peak)`` per row."""
    rng = np.random.default_rng(0)
    eye = np.eye(10, dtype=dtype)
    optimizer = {"name": "SGD", "lr": 0.01, "momentum": 0.9}
    networks = [("train_cnn.py CNN", train_cnn_layers(), (28, 28, 1), (16, 64, 256)),
                ("MLP 784-256-256-10", MLP_LAYERS, (784,), (32, 128, 512))]
    rows = []
    for label, layers, example_shape, batches in networks:
        for batch in batches:
            X = rng.standard_normal((batch, *example_shape)).astype(dtype)
            Y = eye[rng.integers(0, 10, batch)]
            t, model = step_time(layers, X, Y, optimizer, repeats)
            _, flops = time_gemms(gemm_shapes(model), dtype, 1)
            rows.append((label, batch, batch / t, flops / t / 1e9 / peak))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 10
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        peak = gemm_peak(dtype, repeats)
        print(f"\n=== {name}: matrix-multiply peak {peak:.1f} GFLOP/s (2048x2048 GEMM) ===")
        rows, conv_share, pool = layer_benchmarks(dtype, peak, repeats)
        print(f"{'layer':45s} {'fwd ms':>8s} {'bwd ms':>8s} {'GFLOP/s':>8s} {'of peak':>8s}")
        for label, f, b, gflops, share in rows:
            print(f"{label:45s} {f:8.2f} {b:8.2f} {gflops:8.1f} {share:8.0%}")
        f, b, copy, ratio = pool
        print(f"{'Pool2D 2x2 max on 28x28x32, batch 64':45s} {f:8.2f} {b:8.2f}"
              f"   = {ratio:.1f}x one np.copy of the input ({copy:.2f} ms)")
        steps = step_benchmarks(dtype, peak, repeats)
        ex, share, ms = steps["mlp"]
        print(f"MLP 784-256-256-10 training step, batch 128: {ms:.2f} ms, {ex:,.0f} examples/s, "
              f"{share:.0%} of peak")
        ex, share, ms, gemm_ratio, channels = steps["cnn"]
        print(f"train_cnn.py's CNN (conv {channels}) step, batch 64: {ms:.2f} ms, {ex:,.0f} examples/s, "
              f"{share:.0%} of peak, {gemm_ratio:.2f}x the sum of its GEMMs alone")
        print(f"Targets: Conv2D 32->64 >= 25% of peak: {conv_share:.0%}; "
              f"max pool <= 4x copy: {ratio:.1f}x"
              + (f"; MLP step >= 50% of peak: {steps['mlp'][1]:.0%}" if name == "float64" else "")
              + f"; CNN step <= 2x its GEMMs: {gemm_ratio:.2f}x")
        print("Scaling with the batch (one training step, SGD with momentum):")
        for label, batch, examples, share in scaling_benchmarks(dtype, peak, repeats):
            print(f"  {label:20s} batch {batch:4d}: {examples:10,.0f} examples/s, {share:4.0%} of peak")


if __name__ == "__main__":
    main()
