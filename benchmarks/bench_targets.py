"""Speed of Conv2D, Pool2D and train_cnn.py's training step, as ratios to
yardsticks timed in the same process.

Two tables per dtype (float64, then float32):

1. The layers of train_cnn.py's network (batch 64), forward and backward
   apart: the readable Conv2D and Pool2D of ``layers.py`` against
   FastConv2D and FastPool2D of ``fast_layers.py``. A convolution's
   yardstick is the matrix products it cannot avoid (the forward GEMM, or
   the two of dW and dX), each timed alone; a pooling layer's is one
   ``np.copy`` of its input.
2. One training step of train_cnn.py's network (batch 64, SGD with momentum)
   in every checkout given with ``--tree``, against its 8 GEMMs timed alone.
   A checkout with ``neural_networks/fast_layers.py`` trains with
   ``use_fast_layers`` (as train_cnn.py does by default); an older one, whose
   layers call ``im2col.py``, as it is.

Timing: the yardstick and the versions are timed in interleaved rounds (the
order rotates each round), with a pause before each timed block because the
BLAS threads keep spinning for a moment after a call. Each round gives one
ratio per version (its time over the yardstick's in that round); a cell
shows the median ratio over the rounds, the spread of their middle half in
brackets, and the median time.

    python benchmarks/bench_targets.py
    python benchmarks/bench_targets.py --tree /tmp/before --tree .   # before and after
    python benchmarks/bench_targets.py --rounds 5 --dtype float32    # shorter
"""

import argparse
import importlib
import importlib.util
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAUSE = 0.15  # seconds before a timed block: OpenBLAS threads spin ~0.1 s after a call
BLOCK = 0.02  # a timed block repeats a call until it lasts about this long


# -- loading code versions ---------------------------------------------------------------


def load_tree(root, alias):
    """``(NeuralNetwork, speed_up)`` of the checkout at ``root``, its package
    imported as ``alias`` (so that several checkouts live in one process);
    ``speed_up(model)`` is ``use_fast_layers`` where the checkout has it."""
    package_dir = os.path.join(root, "neural_networks")
    init = os.path.join(package_dir, "__init__.py")
    if not os.path.isfile(init):
        raise SystemExit(f"--tree: no neural_networks/__init__.py under {root!r}")
    spec = importlib.util.spec_from_file_location(alias, init, submodule_search_locations=[package_dir])
    sys.modules[alias] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules[alias])
    models = importlib.import_module(alias + ".models")
    if os.path.isfile(os.path.join(package_dir, "fast_layers.py")):
        return models.NeuralNetwork, importlib.import_module(alias + ".fast_layers").use_fast_layers
    return models.NeuralNetwork, lambda model: model


def tree_label(root):
    """A checkout's directory and git commit ("+": ``neural_networks/`` has
    uncommitted changes)."""
    name = os.path.basename(os.path.abspath(root))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "neural_networks"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return name
    return f"{name}@{commit}{'+' if dirty else ''}"


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


# -- timing ------------------------------------------------------------------------------


def calls_per_block(fn):
    """How many calls of ``fn`` make one timed block of about ``BLOCK`` seconds."""
    fn()
    start = time.perf_counter()
    fn()
    return max(1, min(1000, int(BLOCK / max(time.perf_counter() - start, 1e-7))))


def time_block(fn, calls):
    time.sleep(PAUSE)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(yardstick, versions, rounds):
    """Per-round times of ``yardstick`` (callables whose times add up) and of
    each version; the order of the versions rotates every round."""
    counts = [calls_per_block(fn) for fn in yardstick]
    version_counts = [calls_per_block(fn) for fn in versions]
    yard_times, version_times = [], [[] for _ in versions]
    for r in range(rounds):
        yard_times.append(sum(time_block(fn, n) for fn, n in zip(yardstick, counts)))
        order = list(range(len(versions)))
        for v in order[r % len(order):] + order[:r % len(order)]:
            version_times[v].append(time_block(versions[v], version_counts[v]))
    return yard_times, version_times


def cell(yard_times, times):
    ratios = sorted(t / y for t, y in zip(times, yard_times))
    q = len(ratios) // 4
    return (f"{statistics.median(ratios):5.2f}x [{ratios[q]:4.2f}-{ratios[-1 - q]:4.2f}] "
            f"{statistics.median(times) * 1e3:7.2f}ms")


def print_table(title, rows, labels, rounds):
    print(f"\n{title}")
    print(f"{'row':40s} {'yardstick':12s} {'yard ms':>8s}  " + "  ".join(f"{label[:30]:>30s}" for label in labels))
    for name, yard_name, yardstick, versions in rows:
        yard_times, times = interleaved(yardstick, versions, rounds)
        cells = "  ".join(f"{cell(yard_times, t):>30s}" for t in times)
        print(f"{name:40s} {yard_name:12s} {statistics.median(yard_times) * 1e3:8.3f}  {cells}", flush=True)


# -- the workloads -----------------------------------------------------------------------


def gemm(kind, m, k, n, dtype, rng):
    """An ``(m, k) @ (k, n)`` product; "TN" takes the left operand as a
    transposed view, "NT" the right one (as a layer's backward does)."""
    A = rng.standard_normal((k, m)).astype(dtype).T if kind == "TN" else rng.standard_normal((m, k)).astype(dtype)
    B = rng.standard_normal((n, k)).astype(dtype).T if kind == "NT" else rng.standard_normal((k, n)).astype(dtype)
    return lambda: A @ B


def forward_and_backward(layer, X, rng):
    """``(forward, backward)`` callables of ``layer`` on ``X`` with a fixed ``dL/dY``."""
    dY = rng.standard_normal(layer.forward(X).shape).astype(X.dtype)
    layer.backward(dY)
    return (lambda: layer.forward(X)), (lambda: layer.backward(dY))


def layer_rows(dtype, batch, rng):
    """Readable against fast: ``(name, yardstick name, yardstick, [readable, fast])``."""
    from neural_networks.fast_layers import FastConv2D, FastPool2D
    from neural_networks.layers import Conv2D, Pool2D

    rows = []
    for size, c_in, c_out in ((28, 1, 32), (14, 32, 64)):
        X = rng.standard_normal((batch, size, size, c_in)).astype(dtype)
        pair = [forward_and_backward(cls(c_out, 3, "relu", seed=0), X, rng) for cls in (Conv2D, FastConv2D)]
        m, k = batch * size * size, 9 * c_in
        name = f"Conv2D 3x3 {c_in}->{c_out} {batch}x{size}x{size}"
        rows.append((f"{name} forward", "1 GEMM", [gemm("NN", m, k, c_out, dtype, rng)], [f for f, _ in pair]))
        rows.append((f"{name} backward", "2 GEMMs", [gemm("TN", k, m, c_out, dtype, rng),
                                                    gemm("NT", m, c_out, k, dtype, rng)], [b for _, b in pair]))
    for size, channels in ((28, 32), (14, 64)):
        X = rng.standard_normal((batch, size, size, channels)).astype(dtype)
        pair = [forward_and_backward(cls(2, "max", stride=2), X, rng) for cls in (Pool2D, FastPool2D)]
        name = f"max pool 2x2/2 {batch}x{size}x{size}x{channels}"
        for part, index in (("forward", 0), ("backward", 1)):
            rows.append((f"{name} {part}", "np.copy(X)", [lambda X=X: np.copy(X)], [p[index] for p in pair]))
    return rows


def step_row(dtype, batch, trees, rng):
    """train_cnn.py's training step in every checkout against its 8 GEMMs."""
    X = rng.standard_normal((batch, 28, 28, 1)).astype(dtype)
    Y = np.eye(10, dtype=dtype)[rng.integers(0, 10, batch)]
    steps = []
    for NeuralNetwork, speed_up in trees:
        model = speed_up(NeuralNetwork("cross_entropy", train_cnn_layers(),
                                       {"name": "SGD", "lr": 0.01, "momentum": 0.9}, seed=0))

        def step(model=model):
            model.backward(Y, model.forward(X))
            model.update(0)

        steps.append(step)
    gemms = []
    for m, k, n, first in ((batch * 28 * 28, 9, 32, True), (batch * 14 * 14, 9 * 32, 64, False),
                           (batch, 7 * 7 * 64, 10, False)):
        gemms += [gemm("NN", m, k, n, dtype, rng), gemm("TN", k, m, n, dtype, rng)]
        if not first:  # the first layer computes no dL/dX
            gemms.append(gemm("NT", m, n, k, dtype, rng))
    return (f"train_cnn.py step, batch {batch}", "its 8 GEMMs", gemms, steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=None,
                        help="root of a checkout whose training step to time (repeat to compare); default: this one")
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds per row (default 11)")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    parser.add_argument("--batch", type=int, default=64, help="images per batch (default 64, as train_cnn.py)")
    args = parser.parse_args()
    if args.rounds < 1 or args.batch < 1:
        parser.error(f"--rounds and --batch must be >= 1; got {args.rounds} and {args.batch}")
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    roots = args.tree or [ROOT]
    labels = [f"{tree_label(root)}#{i}" if roots.count(root) > 1 else tree_label(root) for i, root in enumerate(roots)]
    trees = [load_tree(root, f"_bench_tree{i}") for i, root in enumerate(roots)]
    print(f"rounds {args.rounds}, pause {PAUSE} s; a cell: median ratio to the yardstick "
          "[middle half of the rounds], median time")
    for dtype in ("float64", "float32") if args.dtype == "both" else (args.dtype,):
        rng = np.random.default_rng(0)
        print_table(f"=== {dtype}: layers, readable (layers.py) against fast (fast_layers.py)",
                    layer_rows(np.dtype(dtype), args.batch, rng), ["readable", "fast"], args.rounds)
        print_table(f"=== {dtype}: training step per checkout",
                    [step_row(np.dtype(dtype), args.batch, trees, rng)], labels, args.rounds)


if __name__ == "__main__":
    main()
