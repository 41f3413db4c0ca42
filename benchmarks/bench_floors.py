"""How fast can 2x2 pooling be in NumPy? The least work any implementation
of the two pooling rows of bench_targets.py must do, in the cheapest NumPy
forms found, as ratios to the same yardstick (one ``np.copy`` of the
64x28x28x32 input), timed in the same process.

Whatever the implementation, pooling forward + backward must

* read every cell of ``X`` and write one value per window (the forward), and
* write every cell of ``dX`` from ``dY`` (the backward).

Only that is timed here, with nothing else: no winners, no mask, no division
by the window size, and into buffers allocated once. Max pooling (which must
also find and use each window's first maximum) and average pooling (which
must also scale) cost more than the sum of the cheapest forward and the
cheapest backward below. These are the cheapest forms found, not a proof:
a cheaper form would lower the figure.

Forward values (max or sum of every window), three forms:

* the four strided quarter views ``X[:, i::2, j::2]``, reduced in turn;
* pairs of rows first (runs of a whole image row), then pairs of columns;
* per block of images, two reductions of the contiguous block with itself
  shifted (by one row, then by one cell; each computes every cell's value,
  twice the work needed, but reads no strided operand), then one strided
  copy of each window's top-left cell, a cell's channels moved as one item.

Backward (every cell of ``dX`` gets its window's ``dY``), two forms:

* one broadcast copy ``dX.reshape(n, 14, 2, 14, 2, c)[...] = dY[:, :, None, :, None]``;
* the same copy with each cell's channels moved as one item.

NumPy's ufuncs copy strided operands through a small buffer, and its copies
pay a step for every number they move; contiguous operands and one-item-per-
cell copies avoid both. What remains is what the figures below show.

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

sys.path.insert(0, ROOT)
from neural_networks.im2col import copy_cells  # noqa: E402  (a cell's channels as one item)

SHAPE = (64, 28, 28, 32)
BLOCK = 16  # images per block of the shifted forward
TARGETS = {"max": 5.0, "average": 4.0}  # bench_targets' rows: forward + backward over one copy


def quarter_views(X):
    """The four cells of every 2x2 window, as strided views ``X[:, i::2, j::2]``."""
    return [X[:, i::2, j::2] for i in range(2) for j in range(2)]


def forward_floors(X, reduce):
    """The three forms of the forward values (each returns its reused output
    buffer: the max or the sum of every window). ``X`` is C-contiguous."""
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

    # The shifted form's buffers: BLOCK images of each cell with the one below
    # (pair), then of that with the pair to its right (quad).
    size, row, cell = rows * cols * channels, cols * channels, channels
    pair, quad = np.empty(BLOCK * size, X.dtype), np.empty(BLOCK * size, X.dtype)
    corners = quad.reshape(BLOCK, rows, cols, channels)[:, 0::2, 0::2]

    def shifted():
        for start in range(0, n, BLOCK):
            stop = min(start + BLOCK, n)
            x = X[start:stop].reshape(-1)
            end = x.size
            reduce(x[:end - row], x[row:], out=pair[:end - row])
            reduce(pair[:end - row - cell], pair[cell:end - row], out=quad[:end - row - cell])
            copy_cells(out[start:stop], corners[:stop - start])  # each window's top-left cell
        return out

    return {"four quarter views": quarters, "rows, then columns": rows_then_columns,
            "shifted, then corners": shifted}


def backward_floors(dY, X_shape):
    """The two forms of the backward copy of ``dY`` into every cell of its
    window (each returns its reused ``dX``)."""
    n, rows, cols, channels = X_shape
    dX = np.empty(X_shape, dtype=dY.dtype)
    windows = dX.reshape(n, rows // 2, 2, cols // 2, 2, channels)
    source = dY[:, :, None, :, None, :]

    def numbers():
        np.copyto(windows, source)
        return dX

    def cells():
        copy_cells(windows, source)
        return dX

    return {"broadcast copy": numbers, "broadcast copy of cells": cells}


def interleaved(fns, rounds):
    """Per-round times of each callable; the order rotates every round."""
    names = list(fns)
    counts = {name: calls_per_block(fns[name]) for name in names}
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(time_block(fns[name], counts[name]))
    return times


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
        fns = {"yardstick: np.copy(X)": lambda: np.copy(X)}
        for form, fn in backward_floors(dY, SHAPE).items():
            fns[f"backward: {form}"] = fn
        for mode, reduce in (("max", np.maximum), ("average", np.add)):
            for form, fn in forward_floors(X, reduce).items():
                fns[f"{mode} forward: {form}"] = fn
            fns[f"{mode} pool, this checkout"] = layer_step(tree["Pool2D"](2, mode, stride=2), X)
        times = interleaved(fns, args.rounds)
        copies = times["yardstick: np.copy(X)"]
        # Each round's time over that round's copy; the median over the rounds.
        ratio = {name: statistics.median(t / c for t, c in zip(ts, copies)) for name, ts in times.items()}
        print(f"\n=== {dtype} ===  (np.copy: {statistics.median(copies) * 1e3:.3f} ms)")
        print(f"{'':38s} {'ms':>7s} {'x copy':>7s}")
        for name, ts in times.items():
            print(f"{name:38s} {statistics.median(ts) * 1e3:7.3f} {ratio[name]:6.2f}x")
        backward = min(r for name, r in ratio.items() if name.startswith("backward"))
        for mode in ("max", "average"):
            forward = min(r for name, r in ratio.items() if name.startswith(f"{mode} forward"))
            print(f"{mode} pool: least found {forward + backward:.2f}x (cheapest forward + cheapest backward), "
                  f"target {TARGETS[mode]:.0f}x, this checkout {ratio[f'{mode} pool, this checkout']:.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
