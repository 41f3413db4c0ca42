"""Conv2D and Pool2D forward + backward over many geometries, one code
version against another, timed in the same process.

A fast path for one geometry must not make another one slower: this script
times each layer (strides 1-3, padding, odd, even and non-square kernels,
overlapping and tiling pools, one and many channels) in every checkout given
with ``--tree`` and prints each time as a ratio to the first tree's (below
1 is faster). Times are medians of interleaved rounds with a short pause
between timed blocks.

    python benchmarks/bench_geometries.py --tree /tmp/old --tree .
"""

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_targets import ROOT, calls_per_block, layer_step, load_tree, time_block, tree_label  # noqa: E402

# (name, batch shape, layer arguments)
POOLS = [
    ((64, 28, 28, 32), dict(kernel_shape=2, stride=2)),
    ((64, 27, 27, 16), dict(kernel_shape=2, stride=2, pad="same")),
    ((64, 28, 28, 32), dict(kernel_shape=3, stride=2, pad=1)),
    ((64, 14, 14, 64), dict(kernel_shape=3, stride=1, pad="same")),
    ((64, 28, 28, 1), dict(kernel_shape=2, stride=2)),
    ((64, 28, 28, 3), dict(kernel_shape=(3, 2), stride=(3, 1))),
    ((32, 32, 32, 8), dict(kernel_shape=4, stride=3, pad=1)),
]
CONVS = [
    ((64, 28, 28, 1), dict(n_out=32, kernel_shape=3)),
    ((64, 14, 14, 32), dict(n_out=64, kernel_shape=3)),
    ((64, 28, 28, 3), dict(n_out=16, kernel_shape=5, stride=2, pad=2)),
    ((64, 28, 28, 16), dict(n_out=16, kernel_shape=3, stride=2, pad="valid")),
    ((64, 16, 16, 8), dict(n_out=8, kernel_shape=(2, 4), stride=(1, 3), pad="same")),
    ((32, 30, 30, 4), dict(n_out=8, kernel_shape=4, stride=3, pad=1)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=None,
                        help="root of a checkout (repeat; the first is the baseline)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1; got {args.rounds}")
    roots = args.tree or [ROOT]
    trees = [(tree_label(root), load_tree(root, f"_geometry_tree{i}")) for i, root in enumerate(roots)]
    rng = np.random.default_rng(0)
    print(f"{args.dtype}, rounds {args.rounds}; time of {trees[0][0]} in ms, then each tree's time over it")
    print(f"{'layer':58s} {'base ms':>8s}  " + "  ".join(f"{label[:18]:>18s}" for label, _ in trees[1:]))
    cases = [("Pool2D", mode, shape, kw) for shape, kw in POOLS for mode in ("max", "average")]
    cases += [("Conv2D", "relu", shape, kw) for shape, kw in CONVS]
    for kind, mode, shape, kwargs in cases:
        X = rng.standard_normal(shape).astype(args.dtype)
        steps = []
        for _, tree in trees:
            if kind == "Pool2D":
                layer = tree["Pool2D"](mode=mode, **kwargs)
            else:
                layer = tree["Conv2D"](activation=mode, seed=0, **kwargs)
            steps.append(layer_step(layer, X))
        counts = [calls_per_block(step) for step in steps]
        times = [[] for _ in steps]
        for r in range(args.rounds):
            order = list(range(len(steps)))
            order = order[r % len(order):] + order[:r % len(order)]
            for v in order:
                times[v].append(time_block(steps[v], counts[v]))
        base = statistics.median(times[0])
        ratios = [statistics.median(t) / base for t in times[1:]]
        args_text = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        name = f"{kind} {mode} {shape[1:]} {args_text}"
        print(f"{name:58s} {base * 1e3:8.2f}  " + "  ".join(f"{r:17.2f}x" for r in ratios))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
