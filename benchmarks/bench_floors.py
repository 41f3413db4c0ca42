"""How fast can 2x2 pooling be in NumPy at all? Lower bounds for the two
pooling rows of bench_targets.py, as ratios to the same yardstick (one
``np.copy`` of the 64x28x28x32 input), timed in the same process.

Whatever the implementation, pooling forward + backward must

* read every cell of ``X`` and write one value per window (the forward), and
* write every cell of ``dX`` from ``dY`` (the backward).

Each of those is timed here in the cheapest NumPy form found, with nothing
else: no winners, no mask, no division by the window size. So the sum is
below what max pooling (which must also find and use each window's first
maximum) or average pooling (which must also scale) can cost; an
implementation in NumPy cannot beat it.

* forward values, the cheaper of two forms: the maximum (or sum) of the four
  strided quarter views ``X[:, i::2, j::2]``, or the pairs of rows first
  (contiguous runs of a whole image row) and then the pairs of columns;
* backward, one broadcast copy of ``dY`` into all four cells of every
  window, ``dX.reshape(n, 14, 2, 14, 2, c)[...] = dY[:, :, None, :, None]``.

With 32 channels in NHWC, every strided access moves 32 contiguous numbers,
and NumPy pays its per-run overhead for each: that overhead, not the memory,
is what these floors measure.

    python benchmarks/bench_floors.py
    python benchmarks/bench_floors.py --rounds 21 --dtype float32
"""

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_targets import ROOT, calls_per_block, layer_step, load_tree, time_block  # noqa: E402

SHAPE = (64, 28, 28, 32)
TARGETS = {"max": 5.0, "average": 4.0}  # bench_targets' rows: forward + backward over one copy


def quarter_views(X):
    """The four cells of every 2x2 window, as strided views ``X[:, i::2, j::2]``."""
    return [X[:, i::2, j::2] for i in range(2) for j in range(2)]


def forward_floors(X, reduce):
    """The two forms of the forward values (each returns its reused output
    buffer: the max or the sum of every window)."""
    n, rows, cols, channels = X.shape
    out = np.empty((n, rows // 2, cols // 2, channels), dtype=X.dtype)
    pairs = np.empty((n, rows // 2, cols, channels), dtype=X.dtype)
    v00, v01, v10, v11 = quarter_views(X)
    by_rows = X.reshape(n, rows // 2, 2, cols, channels)

    def quarters():
        reduce(v00, v01, out=out)
        reduce(out, v10, out=out)
        return reduce(out, v11, out=out)

    def rows_then_columns():
        reduce(by_rows[:, :, 0], by_rows[:, :, 1], out=pairs)
        return reduce(pairs[:, :, 0::2], pairs[:, :, 1::2], out=out)

    return {"four quarter views": quarters, "rows, then columns": rows_then_columns}


def backward_floor(dY, X_shape):
    """One broadcast copy of ``dY`` into every cell of its window (returns ``dX``)."""
    n, rows, cols, channels = X_shape
    dX = np.empty(X_shape, dtype=dY.dtype)
    windows = dX.reshape(n, rows // 2, 2, cols // 2, 2, channels)
    source = dY[:, :, None, :, None, :]

    def spread():
        np.copyto(windows, source)
        return dX

    return spread


def interleaved(fns, rounds):
    """Median time of each callable over interleaved timed blocks."""
    counts = {name: calls_per_block(fn) for name, fn in fns.items()}
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(time_block(fn, counts[name]))
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds (default 11)")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1; got {args.rounds}")
    tree = load_tree(ROOT, "_floors_tree")
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    print(f"2x2 stride 2 pooling of {SHAPE}; rounds {args.rounds}; ratio = time over one np.copy")
    for dtype in dtypes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal(SHAPE).astype(dtype)
        dY = rng.standard_normal((SHAPE[0], SHAPE[1] // 2, SHAPE[2] // 2, SHAPE[3])).astype(dtype)
        fns = {"yardstick: np.copy(X)": lambda: np.copy(X), "backward floor": backward_floor(dY, SHAPE)}
        for mode, reduce in (("max", np.maximum), ("average", np.add)):
            for form, fn in forward_floors(X, reduce).items():
                fns[f"{mode} forward: {form}"] = fn
            fns[f"{mode} pool, this checkout"] = layer_step(tree["Pool2D"](2, mode, stride=2), X)
        times = interleaved(fns, args.rounds)
        copy = times["yardstick: np.copy(X)"]
        print(f"\n=== {dtype} ===  (np.copy: {copy * 1e3:.3f} ms)")
        print(f"{'':34s} {'ms':>7s} {'x copy':>7s}")
        for name, t in times.items():
            print(f"{name:34s} {t * 1e3:7.3f} {t / copy:6.2f}x")
        for mode in ("max", "average"):
            forward = min(t for name, t in times.items() if name.startswith(f"{mode} forward"))
            floor = (forward + times["backward floor"]) / copy
            layer = times[f"{mode} pool, this checkout"] / copy
            print(f"{mode} pool: floor {floor:.2f}x (cheapest forward + backward floor), "
                  f"target {TARGETS[mode]:.0f}x, this checkout {layer:.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
