"""What the training scripts share: command-line options, one run, a sweep.

``train_ffnn.py`` and ``train_cnn.py`` keep their hyperparameters as plain
dicts at the top and hand them to :func:`main`, which

* applies command-line overrides (``--lr``, ``--epochs``, ...),
* builds the dataset, the Logger and the model, trains, tests, and prints the
  course's final ``Test Loss: <x> Test Accuracy: <y>`` line,
* or, with ``--sweep``, trains every combination of learning rates and
  hidden sizes and prints a Markdown table of the results,
* turns a bad option or argument into one line on stderr and exit status 2,
  a diverged run into exit status 1, and Ctrl-C into exit status 130, with
  everything finished so far kept on disk.
"""

import argparse
import copy
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from .datasets import initialize_dataset
from .logs import Logger
from .models import TrainingDiverged, initialize_model
from .utils import atomic_open, atomic_write_text

EXIT_DIVERGED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class Config:
    """The hyperparameters of one run, as the course's plain dicts.

    ``hidden_layer`` names the index in ``layer_args`` whose ``n_out`` the
    ``--hidden`` option sets (None: the option is not offered).
    ``layer_args_by_dataset`` maps a dataset name to the network trained on
    it instead of ``layer_args`` (e.g. a wider one for colour images).
    """

    def __init__(self, data_args, layer_args, optimizer_args, model_args, log_args,
                 epochs, hidden_layer=None, layer_args_by_dataset=None):
        self.layer_args_by_dataset = copy.deepcopy(layer_args_by_dataset or {})
        self.data_args = copy.deepcopy(data_args)
        self.layer_args = copy.deepcopy(layer_args)
        self.optimizer_args = copy.deepcopy(optimizer_args)
        self.model_args = copy.deepcopy(model_args)
        self.log_args = copy.deepcopy(log_args)
        self.epochs = epochs
        self.hidden_layer = hidden_layer

    @property
    def hidden(self):
        if self.hidden_layer is None:
            return None
        return self.layer_args[self.hidden_layer]["n_out"]

    def with_overrides(self, lr=None, hidden=None):
        """A copy with another learning rate and/or hidden size."""
        new = copy.deepcopy(self)
        if lr is not None:
            new.optimizer_args["lr"] = lr
        if hidden is not None:
            new.layer_args[new.hidden_layer]["n_out"] = hidden
        return new


class _OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (no usage dump)."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")


def name_suffix(config, default_dataset=None):
    """The end of a run name: ``-lr<lr>``, the momentum (SGD) or the optimizer's
    name, the dataset unless it is ``default_dataset``, the dtype unless float64,
    and the seed, e.g. ``-lr0.01_mom0.9_seed0``."""
    optimizer = config.optimizer_args
    suffix = f"-lr{optimizer['lr']:g}"
    if optimizer["name"].lower() == "sgd":
        suffix += f"_mom{optimizer.get('momentum') or 0:g}"
    else:
        suffix += f"_{optimizer['name'].lower()}"
    if config.data_args["name"] != default_dataset:
        suffix += f"_{config.data_args['name']}"
    if config.data_args.get("dtype", "float64") != "float64":
        suffix += f"_{config.data_args['dtype']}"
    return suffix + f"_seed{config.model_args['seed']}"


def build_parser(description, config, sweep_defaults):
    """The command line shared by the training scripts (defaults from ``config``)."""
    parser = _OneLineErrorParser(
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    # -- the data: a shipped dataset, or your own files in --data-dir --
    parser.add_argument("--dataset", default=config.data_args["name"],
                        help="iris, digits, fashion_mnist, mnist or cifar10 (mnist and cifar10 "
                             "read your own files from --data-dir)")
    parser.add_argument("--data-dir", default=config.data_args.get("data_dir"),
                        help="folder with your own data files (IDX files for mnist and "
                             "fashion_mnist, cifar-10-batches-py for cifar10, iris/*.npy for "
                             "iris); unset: $NEURAL_NETWORKS_DATA, else the shipped datasets/")
    parser.add_argument("--lr", type=float, default=config.optimizer_args["lr"], help="learning rate")
    parser.add_argument("--momentum", type=float, default=config.optimizer_args.get("momentum"),
                        help="SGD momentum")
    parser.add_argument("--optimizer", default=config.optimizer_args["name"], help="SGD, RMSProp, Adam or AdamW")
    if config.hidden_layer is not None:
        parser.add_argument("--hidden", type=int, default=config.hidden,
                            help="units of the hidden layer")
    parser.add_argument("--batch-size", type=int, default=config.data_args["batch_size"],
                        help="examples per mini-batch")
    parser.add_argument("--epochs", type=int, default=config.epochs,
                        help="passes over the training set")
    parser.add_argument("--seed", type=int, default=config.model_args["seed"],
                        help="seeds the initial weights and the order of the examples")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="float64 (exact, for gradient checks) or float32 (faster)")
    parser.add_argument("--model-name", default=None,
                        help="run folder name under --save-dir; None: a name built from the "
                             "hyperparameters")
    parser.add_argument("--save-dir", default=config.log_args["save_dir"],
                        help="folder that holds the run folders")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier run of the same name")
    parser.add_argument("--resume", action="store_true",
                        help="continue a stopped run from its checkpoint.npz")
    parser.add_argument("--no-plot", action="store_true", help="do not draw plots")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")
    parser.add_argument("--sweep", action="store_true",
                        help="train every combination of --sweep-lr and --sweep-hidden")
    parser.add_argument("--sweep-lr", type=float, nargs="+", default=sweep_defaults["lr"],
                        help="learning rates of the sweep")
    if config.hidden_layer is not None:
        parser.add_argument("--sweep-hidden", type=int, nargs="+", default=sweep_defaults["hidden"],
                            help="hidden sizes of the sweep")
    return parser


def config_from_args(config, args):
    """Apply the parsed command-line options to a copy of ``config``."""
    # -- --dataset / --data-dir: the dataset's own network, if the script has one --
    dataset_layers = config.layer_args_by_dataset.get(args.dataset.lower())
    if dataset_layers is not None:
        config = copy.deepcopy(config)
        config.layer_args = copy.deepcopy(dataset_layers)
    new = config.with_overrides(lr=args.lr, hidden=getattr(args, "hidden", None))
    new.data_args["name"] = args.dataset
    if args.data_dir is not None:
        new.data_args["data_dir"] = args.data_dir
    new.data_args["batch_size"] = args.batch_size
    new.optimizer_args["name"] = args.optimizer
    if args.optimizer.lower() == "sgd":
        new.optimizer_args["momentum"] = 0.0 if args.momentum is None else args.momentum
    else:
        new.optimizer_args.pop("momentum", None)
    new.model_args["seed"] = args.seed
    new.epochs = args.epochs
    new.data_args["dtype"] = args.dtype
    new.log_args["save_dir"] = args.save_dir
    if args.no_plot:
        new.log_args["plot"] = False
    return new


def _validate(args):
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1; got {args.batch_size}")
    if args.epochs < 0:
        raise ValueError(f"--epochs must be >= 0; got {args.epochs}")
    if not math.isfinite(args.lr) or args.lr <= 0:
        raise ValueError(f"--lr must be a positive number; got {args.lr}")
    if args.momentum is not None and not 0 <= args.momentum < 1:
        raise ValueError(f"--momentum must be in [0, 1); got {args.momentum}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be >= 0; got {args.seed}")
    if getattr(args, "hidden", None) is not None and args.hidden < 1:
        raise ValueError(f"--hidden must be >= 1; got {args.hidden}")
    for lr in args.sweep_lr:
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"--sweep-lr values must be positive numbers; got {lr}")
    for hidden in getattr(args, "sweep_hidden", None) or []:
        if hidden is not None and hidden < 1:
            raise ValueError(f"--sweep-hidden values must be >= 1; got {hidden}")
    if args.sweep and args.resume:
        raise ValueError("--sweep and --resume cannot be combined")


def load_dataset(config, flatten):
    """The dataset of ``config.data_args``, shuffled by the model's seed."""
    args = dict(config.data_args)
    dtype = np.float32 if args.pop("dtype", "float64") == "float32" else np.float64
    return initialize_dataset(args.pop("name"), batch_size=args.pop("batch_size"),
                              seed=config.model_args["seed"], flatten=flatten, dtype=dtype, **args)


def run(config, model_name, name_fn, flatten, overwrite=False, resume=False, verbose=True,
        dataset=None):
    """Train and test one configuration; returns a summary dict."""
    if model_name is None:
        model_name = name_fn(config)
    if dataset is None:
        dataset = load_dataset(config, flatten)
    run_dir = Path(config.log_args["save_dir"]) / model_name
    checkpoint = run_dir / "checkpoint.npz"
    if resume and not checkpoint.is_file():
        raise FileNotFoundError(f"--resume: no checkpoint to resume from at {checkpoint}")
    model_args = {**config.model_args, "layer_args": config.layer_args,
                  "optimizer_args": config.optimizer_args, "epochs": config.epochs}
    if resume:
        _check_same_run(run_dir, model_args, config.data_args)
    # The model first: its arguments are checked before the Logger writes a file.
    model = initialize_model(
        config.model_args["name"], loss=config.model_args["loss"], layer_args=config.layer_args,
        optimizer_args=config.optimizer_args, seed=config.model_args["seed"],
    )
    # One example through the network: a layer that does not fit the data
    # fails here, before the Logger writes a file.
    model.build(dataset.out_dim)
    model.forward(dataset.train.data[:1])
    model.logger = Logger(
        model_name,
        model_args=model_args,
        data_args=config.data_args,
        save=config.log_args["save"],
        plot=config.log_args["plot"],
        save_dir=config.log_args["save_dir"],
        overwrite=overwrite,
        resume=resume,
    )
    if resume:
        model.load(checkpoint, dataset)
        model.logger.truncate(model.epoch)
        if model.epoch >= config.epochs:
            print(f"{model_name} has {model.epoch} finished epochs already (--epochs {config.epochs}): "
                  f"nothing left to train.")
        else:
            print(f"Resuming {model_name} after epoch {model.epoch} of {config.epochs}.")
    start = time.perf_counter()
    model.train(dataset, max(config.epochs - model.epoch, 0), verbose=verbose)
    seconds = time.perf_counter() - start
    results = model.test(dataset, save_predictions=True)
    if model.loss.name == "cross_entropy":
        model.test_kaggle(dataset)  # kaggle_predictions.csv next to predictions.csv
    test_error = float("nan")  # a test split without labels has no error
    if results["error"]:
        sizes = [len(p) for p in results["prediction"]]
        test_error = float(np.average(results["error"], weights=sizes))
    validate = model.history["error"]["validate"]
    return {
        "model_name": model_name,
        "run_dir": str(run_dir),
        "lr": config.optimizer_args["lr"],
        "hidden": config.hidden,
        "best_validate_error": min(validate) if validate else float("nan"),
        "test_error": test_error,
        "seconds": seconds,
        "history": model.history,
    }


def _check_same_run(run_dir, model_args, data_args):
    """``--resume`` continues a run only with the options it was started with
    (``--epochs`` may change): anything else would mix two runs in one history."""
    for name, current in (("model_args", model_args), ("data_args", data_args)):
        path = run_dir / f"{name}.json"
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"--resume: cannot read {path} ({error})") from None
        now = json.loads(json.dumps(current, default=repr))
        if name == "model_args":
            saved.pop("epochs", None)
            now.pop("epochs", None)
        changed = sorted(key for key in saved.keys() | now.keys() if saved.get(key) != now.get(key))
        if changed:
            details = "; ".join(f"{key} was {saved.get(key)!r}, now {now.get(key)!r}" for key in changed)
            raise ValueError(
                f"--resume: the options differ from the run in {run_dir} ({details}); "
                f"resume with the original options, or start a new run"
            )


def sweep(config, lrs, hiddens, name_fn, flatten, overwrite, verbose):
    """Train every (lr, hidden) combination; print and save a Markdown table.

    The runs go to ``<save_dir>/sweep/``, apart from single runs, and every
    run folder is checked before the first one trains.
    """
    combos = list(itertools.product(lrs, hiddens))
    sweep_config = copy.deepcopy(config)
    sweep_config.log_args["save_dir"] = str(Path(config.log_args["save_dir"]) / "sweep")
    configs = [sweep_config.with_overrides(lr=lr, hidden=hidden) for lr, hidden in combos]
    names = [name_fn(c) for c in configs]
    if len(set(names)) < len(names):
        raise ValueError("--sweep: the grid repeats a combination; list each value once")
    taken = [n for n in names if (Path(sweep_config.log_args["save_dir"]) / n / "log").exists()]
    if taken and not overwrite:
        raise FileExistsError(
            f"--sweep: {len(taken)} of the {len(names)} runs already exist in "
            f"{sweep_config.log_args['save_dir']} ({', '.join(taken)}); pass --overwrite to "
            f"train them again"
        )
    dataset = load_dataset(config, flatten)
    finished = []
    try:
        for (lr, hidden), run_config, name in zip(combos, configs, names):
            print(f"\n== lr={lr} hidden={hidden} ==")
            finished.append(run(run_config, name, name_fn, flatten, overwrite=overwrite,
                                verbose=verbose, dataset=dataset))
            dataset.train.reset()
    finally:
        if finished:
            _report_sweep(sweep_config, finished, len(combos), lrs, hiddens)
    return finished


def _report_sweep(config, finished, total, lrs, hiddens):
    lines = [
        "| lr | hidden | best validation error | test error | time (s) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in finished:
        lines.append(f"| {r['lr']:g} | {r['hidden']} | {r['best_validate_error']:.4f} | "
                     f"{r['test_error']:.4f} | {r['seconds']:.1f} |")
    best = min(finished, key=lambda r: r["best_validate_error"])
    lines.append("")
    lines.append(f"Best by validation error: lr={best['lr']:g}, hidden={best['hidden']} "
                 f"({best['model_name']}).")
    if len(finished) < total:
        lines.append(f"Only {len(finished)} of {total} combinations finished.")
    table = "\n".join(lines)
    print("\n" + table)
    save_dir = Path(config.log_args["save_dir"])
    # Named after the grid, so that another sweep does not replace this table.
    grid = "lr" + "-".join(f"{lr:g}" for lr in lrs)
    if any(h is not None for h in hiddens):
        grid += "_hidden" + "-".join(str(h) for h in hiddens)
    table_path = save_dir / f"sweep_{grid}.md"
    plot_path = save_dir / f"sweep_{grid}_best_loss.png"
    atomic_write_text(table_path, table + "\n")
    _plot_best(best, plot_path)
    print(f"Table saved to {table_path}, the best run's loss curves to {plot_path}.")


def _plot_best(best, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    loss = best["history"]["loss"]
    epochs = range(1, len(loss["train"]) + 1)
    ax.plot(epochs, loss["train"], label="train")
    if loss["validate"]:
        ax.plot(epochs, loss["validate"], label="validation")
    ax.set_title(f"Best of the sweep: lr={best['lr']:g}, hidden={best['hidden']}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png")


def main(description, config, name_fn, sweep_defaults, flatten, argv=None):
    """Parse the command line and run; returns the process exit status.

    ``flatten`` turns images into feature vectors (for fully connected networks).
    """
    parser = build_parser(description, config, sweep_defaults)
    args = parser.parse_args(argv)
    try:
        _validate(args)
        run_config = config_from_args(config, args)
        if args.sweep:
            sweep(run_config, args.sweep_lr, getattr(args, "sweep_hidden", [None]), name_fn,
                  flatten, args.overwrite, not args.quiet)
        else:
            run(run_config, args.model_name, name_fn, flatten, overwrite=args.overwrite,
                resume=args.resume, verbose=not args.quiet)
    except KeyboardInterrupt:
        print("Stopped by Ctrl-C.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingDiverged as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DIVERGED
    except (ValueError, TypeError, FileExistsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
