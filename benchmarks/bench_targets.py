"""The speed targets of the window kernels, each as a ratio to a yardstick
timed in the same process.

Rows (batch 64 unless said otherwise):

* max pooling 2x2 stride 2 on 64x28x28x32, forward + backward, against one
  ``np.copy`` of its input;
* average pooling, the same, against one ``np.copy``;
* Conv2D 3x3 "same" (ReLU), 32 -> 64 channels on 64x14x14x32, forward +
  backward, against its three GEMMs timed alone (``(12544, 288) @ (288, 64)``
  forward, ``cols.T @ dZ`` for dW and ``dZ @ W.T`` for dX);
* one training step of train_cnn.py's network (conv32-pool-conv64-pool-
  flatten-fc10 on 28x28x1, SGD with momentum) against the sum of the GEMMs
  that step needs, each timed alone;
* one training step of the Iris network (4-25-3, ReLU, softmax, cross-entropy,
  SGD with momentum, batch 25) against the same step written as bare NumPy.

Timing: the yardstick and every code version are timed in interleaved rounds
(the order rotates each round), with a pause between timed blocks because the
BLAS threads keep spinning for a moment after a call. Each round gives one
ratio per version (its time over the yardstick's time in that round); the
table shows the median ratio over the rounds and, in brackets, the spread of
the middle half of them. ``peak MB`` is the most memory one step allocates
(tracemalloc, measured apart from the timing).

Run from anywhere:

    python benchmarks/bench_targets.py                    # this checkout
    python benchmarks/bench_targets.py --tree /tmp/old --tree .   # versions side by side
    python benchmarks/bench_targets.py --rounds 5 --dtype float64  # shorter

``--tree`` takes the root of any checkout of the project; each one is loaded
as a package of its own, so all versions are timed in the same process.
"""

import argparse
import importlib
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PAUSE = 0.15  # seconds between timed blocks: OpenBLAS threads spin ~0.1 s after a call
BLOCK = 0.02  # a timed block repeats a call until it lasts about this long


# -- loading code versions ---------------------------------------------------------------


def load_tree(root, alias):
    """The ``neural_networks`` package of the checkout at ``root``, imported
    under the name ``alias`` (so several checkouts can live in one process)."""
    package_dir = os.path.join(root, "neural_networks")
    init = os.path.join(package_dir, "__init__.py")
    if not os.path.isfile(init):
        raise SystemExit(f"--tree: no neural_networks/__init__.py under {root!r}")
    spec = importlib.util.spec_from_file_location(alias, init, submodule_search_locations=[package_dir])
    package = importlib.util.module_from_spec(spec)
    sys.modules[alias] = package
    spec.loader.exec_module(package)
    layers = importlib.import_module(alias + ".layers")
    models = importlib.import_module(alias + ".models")
    return {"Conv2D": layers.Conv2D, "Pool2D": layers.Pool2D, "NeuralNetwork": models.NeuralNetwork}


def tree_label(root):
    """A short name for a checkout: its directory and its git commit ("+" when
    ``neural_networks/`` has uncommitted changes)."""
    name = os.path.basename(os.path.abspath(root))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "neural_networks"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return name
    return f"{name}@{commit}{'+' if dirty else ''}"


# -- timing ------------------------------------------------------------------------------


def calls_per_block(fn):
    """How many calls of ``fn`` make one timed block of about ``BLOCK`` seconds."""
    fn()
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return max(1, min(1000, int(BLOCK / max(once, 1e-7))))


def time_block(fn, calls):
    time.sleep(PAUSE)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(yardstick, versions, rounds):
    """Per-round times of ``yardstick`` (a list of callables whose times add up)
    and of each version; the order of the versions rotates every round."""
    parts = list(yardstick)
    counts = [calls_per_block(fn) for fn in parts]
    version_counts = [calls_per_block(fn) for fn in versions]
    yard_times, version_times = [], [[] for _ in versions]
    for r in range(rounds):
        yard_times.append(sum(time_block(fn, n) for fn, n in zip(parts, counts)))
        order = list(range(len(versions)))
        order = order[r % len(order):] + order[:r % len(order)]
        for v in order:
            version_times[v].append(time_block(versions[v], version_counts[v]))
    return yard_times, version_times


def summary(yard_times, times):
    ratios = sorted(t / y for t, y in zip(times, yard_times))
    q = len(ratios) // 4
    return statistics.median(ratios), ratios[q], ratios[-1 - q], statistics.median(times)


def peak_memory(fn):
    """The most memory (bytes) ``fn`` holds at once beyond what existed before."""
    fn()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- the workloads -----------------------------------------------------------------------


def layer_step(layer, X, seed=1):
    """forward + backward of one layer on ``X`` with a fixed upstream gradient."""
    Y = layer.forward(X)
    dY = np.random.default_rng(seed).standard_normal(Y.shape).astype(X.dtype)

    def step():
        layer.forward(X)
        layer.backward(dY)

    return step


def gemm(kind, m, k, n, dtype, rng):
    """An ``(m, k) @ (k, n)`` product; "TN" takes the left operand as a
    transposed view, "NT" the right one (as a layer's backward does)."""
    A = rng.standard_normal((k, m)).astype(dtype).T if kind == "TN" else rng.standard_normal((m, k)).astype(dtype)
    B = rng.standard_normal((n, k)).astype(dtype).T if kind == "NT" else rng.standard_normal((k, n)).astype(dtype)
    return lambda: A @ B


def conv_gemms(m, k, n, dtype, rng, input_gradient=True):
    """The GEMMs of a convolution (or dense layer): Z = cols @ W, dW = cols.T @ dZ
    and, unless it is the first layer, dcols = dZ @ W.T."""
    fns = [gemm("NN", m, k, n, dtype, rng), gemm("TN", k, m, n, dtype, rng)]
    if input_gradient:
        fns.append(gemm("NT", m, n, k, dtype, rng))
    return fns


def train_cnn_layers():
    """The network train_cnn.py trains (its ``layer_args``), with 10 outputs."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)  # train_cnn.py imports neural_networks.cli
    spec = importlib.util.spec_from_file_location("train_cnn", os.path.join(ROOT, "train_cnn.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    layers = [dict(args) for args in module.layer_args]
    layers[-1]["n_out"] = 10
    return layers


IRIS_LAYERS = [
    {"name": "fully_connected", "activation": "relu", "weight_init": "xavier_uniform", "n_out": 25},
    {"name": "fully_connected", "activation": "softmax", "weight_init": "xavier_uniform", "n_out": 3},
]
SGD = {"name": "SGD", "lr": 0.01, "momentum": 0.9}


def model_step(tree, layer_args, X, Y):
    model = tree["NeuralNetwork"]("cross_entropy", layer_args, SGD, seed=0)

    def step():
        out = model.forward(X)
        model.backward(Y, out)
        model.update(0)

    return step


def bare_iris_step(X, Y, rng):
    """The Iris network's training step as plain NumPy: the yardstick."""
    dtype = X.dtype
    W1, b1 = rng.standard_normal((4, 25)).astype(dtype), np.zeros((1, 25), dtype)
    W2, b2 = rng.standard_normal((25, 3)).astype(dtype), np.zeros((1, 3), dtype)
    params = [W1, b1, W2, b2]
    velocity = [np.zeros_like(p) for p in params]

    def step():
        Z1 = X @ W1 + b1
        H = np.maximum(Z1, 0)
        Z2 = H @ W2 + b2
        E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        loss = -np.sum(Y * np.log(P)) / len(X)
        dZ2 = (P - Y) / len(X)
        dH = dZ2 @ W2.T
        dZ1 = dH * (Z1 >= 0)
        grads = [X.T @ dZ1, dZ1.sum(axis=0, keepdims=True), H.T @ dZ2, dZ2.sum(axis=0, keepdims=True)]
        for p, v, g in zip(params, velocity, grads):
            v *= 0.9
            v -= 0.01 * g
            p += v
        return loss

    return step


def rows_for(dtype, trees, rng):
    """``(name, yardstick name, yardstick callables, {label: step})`` per row."""
    rows = []
    X = rng.standard_normal((64, 28, 28, 32)).astype(dtype)
    for mode, name in (("max", "max pool 2x2/2 64x28x28x32"), ("average", "avg pool 2x2/2 64x28x28x32")):
        steps = {label: layer_step(t["Pool2D"](2, mode, stride=2), X) for label, t in trees.items()}
        rows.append((name, "np.copy(X)", [lambda X=X: np.copy(X)], steps))

    X = rng.standard_normal((64, 14, 14, 32)).astype(dtype)
    steps = {label: layer_step(t["Conv2D"](64, 3, "relu", seed=0), X) for label, t in trees.items()}
    rows.append(("Conv2D 3x3 same 32->64 64x14x14", "3 GEMMs", conv_gemms(12544, 288, 64, dtype, rng), steps))

    X = rng.standard_normal((64, 28, 28, 1)).astype(dtype)
    Y = np.eye(10, dtype=dtype)[rng.integers(0, 10, 64)]
    layers = train_cnn_layers()
    steps = {label: model_step(t, layers, X, Y) for label, t in trees.items()}
    gemms = (conv_gemms(64 * 28 * 28, 9, 32, dtype, rng, input_gradient=False)
             + conv_gemms(64 * 14 * 14, 9 * 32, 64, dtype, rng)
             + conv_gemms(64, 7 * 7 * 64, 10, dtype, rng))
    rows.append(("train_cnn.py step, batch 64", "its 8 GEMMs", gemms, steps))

    X = rng.standard_normal((25, 4)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 25)]
    steps = {label: model_step(t, IRIS_LAYERS, X, Y) for label, t in trees.items()}
    rows.append(("Iris 4-25-3 step, batch 25", "bare NumPy", [bare_iris_step(X, Y, rng)], steps))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=None,
                        help="root of a checkout to time (repeat to compare); default: this one")
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds per row (default 11)")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    parser.add_argument("--only", default="", help="time only the rows whose name contains this text")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1; got {args.rounds}")
    roots = args.tree or [ROOT]
    trees = {}
    for index, root in enumerate(roots):
        label = tree_label(root)
        if label in trees:
            label = f"{label}#{index}"
        trees[label] = load_tree(root, f"_bench_tree{index}")
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    print(f"rounds {args.rounds}, pause {PAUSE} s; ratio = median over rounds [middle half]")
    for dtype in dtypes:
        rows = rows_for(np.dtype(dtype), trees, np.random.default_rng(0))
        print(f"\n=== {dtype} ===")
        print(f"{'row':34s} {'yardstick':12s} {'yard ms':>8s}  "
              + "  ".join(f"{label[:22]:>34s}" for label in trees))
        for name, yard_name, yardstick, steps in rows:
            if args.only not in name:
                continue
            labels = list(steps)
            yard_times, times = interleaved(yardstick, [steps[k] for k in labels], args.rounds)
            cells = []
            for label, t in zip(labels, times):
                ratio, low, high, median = summary(yard_times, t)
                peak = peak_memory(steps[label]) / 2**20
                cells.append(f"{ratio:5.2f}x [{low:4.2f}-{high:4.2f}] {median * 1e3:7.3f}ms {peak:5.1f}MB")
            yard = statistics.median(yard_times) * 1e3
            print(f"{name:34s} {yard_name:12s} {yard:8.3f}  " + "  ".join(f"{c:>34s}" for c in cells))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
