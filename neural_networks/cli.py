"""What the training scripts share: one configuration, one run, a sweep.

``train_ffnn.py`` and ``train_cnn.py`` keep their hyperparameters as plain
dicts at the top and hand them to :func:`main`, which sets the typed flags
onto the dicts (``--lr`` sets ``optimizer_args["lr"]``) and checks every value
once, through the constructor that takes it (``initialize_layer``,
``initialize_optimizer``, ``NeuralNetwork``, ``initialize_dataset``,
``Logger``), with the dict key or the flag the user wrote in front of its
message. It then trains and tests one run, or with ``--sweep`` every
combination of learning rates and hidden sizes. A bad value is one line on
stderr and exit status 2, a diverged run exit status 1, Ctrl-C exit status
130, with everything finished so far kept on disk.
"""

import argparse
import copy
import difflib
import inspect
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from .checks import check_bool, check_int, describe, lookup
from .datasets import initialize_dataset
from .fast_layers import use_fast_layers
from .layers import LAYERS, initialize_layer
from .logs import Logger
from .models import TrainingDiverged, initialize_model
from .optimizers import OPTIMIZERS, initialize_optimizer
from .schedulers import SCHEDULERS
from .utils import atomic_open, atomic_write_text

EXIT_DIVERGED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130


class Config:
    """A script's dicts and EPOCHS. ``hidden_layer`` is the index in ``layer_args``
    whose ``n_out`` ``--hidden`` sets (None: no such option); ``layer_args_by_dataset``
    maps a dataset name to the network trained on it instead (e.g. for colour images)."""

    def __init__(self, data_args, layer_args, optimizer_args, model_args, log_args, epochs,
                 sweep_args, hidden_layer=None, layer_args_by_dataset=None):
        self.data_args, self.layer_args, self.optimizer_args, self.model_args, self.log_args, \
            self.sweep_args, self.layer_args_by_dataset = copy.deepcopy(
                (data_args, layer_args, optimizer_args, model_args, log_args, sweep_args,
                 layer_args_by_dataset or {}))
        self.epochs, self.hidden_layer = epochs, hidden_layer
        self.flags = {}  # (dict, key) -> the flag that set that value

    @property
    def hidden(self):
        return None if self.hidden_layer is None else self.layer_args[self.hidden_layer]["n_out"]

    def dict(self, where):
        """The dict called ``where``: "data_args", ..., or "layer_args[2]"."""
        index = re.fullmatch(r"layer_args\[(\d+)\]", where)
        return self.layer_args[int(index.group(1))] if index else getattr(self, where)

    def name(self, where, key=None):
        """What the user wrote for a value: the flag that set it, else its dict key."""
        return self.flags.get((where, key)) or (f'{where}["{key}"]' if key else where)

    def set(self, where, key, value, flag):
        if key is None:
            self.epochs = value
        else:
            self.dict(where)[key] = value
        self.flags[(where, key)] = flag


def _call(function, args, config, where, guess=True):
    """``function(**args)``, ``args`` holding values of the dict ``where``. A ValueError
    or TypeError gets in front what the user wrote for the values to blame: those whose
    key its message names, else (with ``guess``) those whose default would pass."""
    try:
        return function(**args)
    except (ValueError, TypeError) as error:
        keys = [key for key in args if key in config.dict(where) or (where, key) in config.flags]
        blamed = [key for key in keys if re.search(rf"\b{key}\b", str(error))]
        if guess and not blamed:
            blamed = [key for key in keys if _passes(function, args, key)]
        named = " and ".join(config.name(where, key) for key in blamed) or where
        raise type(error)(f"{named}: {error}") from None


def _passes(function, args, left_out):
    try:
        return function(**{key: value for key, value in args.items() if key != left_out}) or True
    except (ValueError, TypeError):
        return False


# A student who deletes a line must not get another network without a word: a key is
# required wherever it applies when its default would change the run.
_KEYS = {  # dict -> (valid keys, required keys)
    "data_args": (["name", "batch_size", "dtype", "data_dir"], ["name", "batch_size", "dtype"]),
    "model_args": (["name", "loss", "seed", "fast_layers"], ["name", "loss", "seed"]),
    "log_args": (["save", "plot", "save_dir"],) * 2,
    "sweep_args": (["lr", "hidden"],) * 2,
}


def _defaults(function):
    return {key: p.default for key, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _check_keys(mapping, where, valid, required, defaults=None):
    """Unknown keys first (a typo'd key also shows up as a missing one), then missing ones."""
    if not isinstance(mapping, dict):
        raise TypeError(f"{where} must be a dict; got {describe(mapping)}")
    for key in mapping:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{where} has the unknown key {key!r}{hint}; the valid keys are {valid}")
    for key in (key for key in required if key not in mapping):
        if key not in (defaults or {}):
            raise ValueError(f"{where} is missing the key {key!r}; it has {list(mapping)}")
        default = getattr(defaults[key], "__name__", defaults[key])  # np.float64: "float64"
        raise ValueError(f"{where} is missing the key {key!r}: without it the default "
                         f"{default!r} would be taken; write {key!r}: {default!r} to keep that")


def check_keys(config):
    """Check the keys of the dicts as the script wrote them; a message names the dict."""
    for where, function in (("data_args", initialize_dataset), ("model_args", initialize_model),
                            ("log_args", Logger), ("sweep_args", None)):
        _check_keys(config.dict(where), where, *_KEYS[where], function and _defaults(function))
    optimizer = config.optimizer_args
    _check_keys(optimizer, "optimizer_args", list(inspect.signature(initialize_optimizer).parameters),
                ["name", "lr", "lr_scheduler"], _defaults(initialize_optimizer))
    cls = lookup(OPTIMIZERS, optimizer["name"], 'optimizer_args["name"]')
    schedule = lookup(SCHEDULERS, optimizer["lr_scheduler"] or "constant", 'optimizer_args["lr_scheduler"]')
    # Where they apply: SGD's momentum, the exponential schedule's decay.
    defaults = {"momentum": _defaults(cls).get("momentum"), "lr_decay": _defaults(schedule).get("decay")}
    _check_keys(optimizer, "optimizer_args", list(optimizer),
                [key for key in defaults if defaults[key] is not None], defaults)
    for layer_args in (config.layer_args, *config.layer_args_by_dataset.values()):
        if not isinstance(layer_args, list) or not layer_args:
            raise TypeError(f"layer_args must be a non-empty list of dicts; got {describe(layer_args)}")
        for i, args in enumerate(layer_args):
            _check_keys(args, f"layer_args[{i}]", list(args), ["name"])
            cls = lookup(LAYERS, args["name"], f'layer_args[{i}]["name"]')
            keys, defaults = [key for key in inspect.signature(cls).parameters if key != "seed"], _defaults(cls)
            # A layer with an activation says which one, and how its weights start.
            required = [key for key in keys if key not in defaults
                        or ("activation" in keys and key in ("activation", "weight_init"))]
            _check_keys(args, f"layer_args[{i}] ({args['name']})", ["name", *keys], required, defaults)
    for key, values in config.sweep_args.items():
        if not isinstance(values, list) or not values:
            raise TypeError(f'sweep_args["{key}"] must be a non-empty list; got {describe(values)}')


def _flags(config):
    """Each flag that sets a value: flag -> (dict, key, argparse options, help)."""
    flags = {
        "--dataset": ("data_args", "name", {}, "iris, digits, fashion_mnist, mnist or cifar10 "
                      "(mnist and cifar10 read your own files from --data-dir)"),
        "--data-dir": ("data_args", "data_dir", {}, "folder with your own data files (README: "
                       "Your own data); None: $NEURAL_NETWORKS_DATA, else the shipped datasets/"),
        "--lr": ("optimizer_args", "lr", {"type": float}, "learning rate"),
        "--momentum": ("optimizer_args", "momentum", {"type": float}, "SGD momentum"),
        "--optimizer": ("optimizer_args", "name", {}, "SGD, RMSProp, Adam or AdamW"),
        "--hidden": (f"layer_args[{config.hidden_layer}]", "n_out", {"type": int}, "hidden units"),
        "--batch-size": ("data_args", "batch_size", {"type": int}, "examples per mini-batch"),
        "--epochs": ("EPOCHS", None, {"type": int}, "passes over the training set"),
        "--seed": ("model_args", "seed", {"type": int}, "seeds the initial weights and the data order"),
        "--dtype": ("data_args", "dtype", {"choices": ["float64", "float32"]},
                    "float64 (as gradient checks use) or float32 (faster)"),
        "--save-dir": ("log_args", "save_dir", {}, "folder that holds the run folders"),
        "--sweep-lr": ("sweep_args", "lr", {"type": float, "nargs": "+"}, "learning rates of the sweep"),
        "--sweep-hidden": ("sweep_args", "hidden", {"type": int, "nargs": "+"}, "hidden sizes of the sweep"),
    }
    if config.hidden_layer is None:
        del flags["--hidden"], flags["--sweep-hidden"]
    return flags


_SWITCHES = {
    "--overwrite": "replace an earlier run of the same name; the earlier run is kept until the "
                   "new one has finished its first epoch (the new run is written aside until then)",
    "--resume": "continue a stopped run from its checkpoint.npz",
    "--no-plot": "do not draw plots",
    "--quiet": "no per-epoch lines or progress bar",
    "--sweep": "train every combination of --sweep-lr and --sweep-hidden (without --hidden: "
               "once with every --sweep-lr)",
}


def build_parser(description, config):
    """The scripts' command line. A flag left out keeps the dicts' value (its help
    shows it): only typed flags are in the parsed namespace."""
    parser = argparse.ArgumentParser(description=description, argument_default=argparse.SUPPRESS)
    # A mistake on the command line is one line (no usage dump).
    parser.error = lambda message: parser.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")
    for flag, (where, key, options, help) in _flags(config).items():
        now = config.epochs if key is None else config.dict(where).get(key)
        parser.add_argument(flag, help=f"{help} (now {now!r}, from {config.name(where, key)})", **options)
    parser.add_argument("--model-name", default=None, help="run folder name under --save-dir "
                        "(default: a name built from the hyperparameters)")
    for switch, help in _SWITCHES.items():
        parser.add_argument(switch, action="store_true", default=False, help=help)
    return parser


def apply_flags(config, args):
    """A copy of ``config`` with the typed flags set on its dicts."""
    config = copy.deepcopy(config)
    for flag, (where, key, _, _) in _flags(config).items():
        if flag[2:].replace("-", "_") in args:
            config.set(where, key, getattr(args, flag[2:].replace("-", "_")), flag)
    if args.no_plot:
        config.set("log_args", "plot", False, "--no-plot")
    # The Logger's other arguments, for its messages.
    for key in ("model_name", "overwrite", "resume"):
        if getattr(args, key):
            config.flags[("log_args", key)] = "--" + key.replace("_", "-")
    dataset_layers = config.layer_args_by_dataset.get(str(config.data_args["name"]).lower())
    if dataset_layers is not None:
        config.layer_args = copy.deepcopy(dataset_layers)
    return config


def name_suffix(config, default_dataset=None, default_dtype="float64"):
    """The end of a run name: ``-lr<lr>``, the momentum (SGD) or the optimizer's
    name, the dataset unless it is ``default_dataset``, the dtype unless it is
    ``default_dtype``, and the seed, e.g. ``-lr0.01_mom0.9_seed0``."""
    optimizer, data = config.optimizer_args, config.data_args
    suffix = f"-lr{optimizer['lr']:g}"
    if optimizer["name"].lower() == "sgd":
        suffix += f"_mom{optimizer.get('momentum') or 0:g}"
    else:
        suffix += f"_{optimizer['name'].lower()}"
    suffix += f"_{data['name']}" * (data["name"] != default_dataset)
    suffix += f"_{data['dtype']}" * (data["dtype"] != default_dtype)
    return suffix + f"_seed{config.model_args['seed']}"


def build_model(config):
    """The network of ``config``, once its values are checked (the dataset's are
    checked when it loads, the Logger's when it starts)."""
    check_int(config.epochs, "epochs", config.name("EPOCHS"), minimum=0)
    last = len(config.layer_args) - 1
    for i, args in enumerate(config.layer_args):
        # The output layer's n_out may be None: as many as the dataset has classes.
        placeholder = {"n_out": 1} if i == last and args.get("n_out", 0) is None else {}
        _call(initialize_layer, {**args, **placeholder}, config, f"layer_args[{i}]")
    optimizer, model_args = config.optimizer_args, config.model_args
    lookup(OPTIMIZERS, optimizer["name"], config.name("optimizer_args", "name"))
    _call(initialize_optimizer, optimizer, config, "optimizer_args")
    fast = check_bool(model_args.get("fast_layers", False), "fast_layers",
                      config.name("model_args", "fast_layers"))
    args = {key: model_args[key] for key in ("name", "loss", "seed")}
    model = _call(initialize_model, dict(args, layer_args=config.layer_args, optimizer_args=optimizer),
                  config, "model_args")
    return use_fast_layers(model) if fast else model


def _check_save_dir(save_dir, name):
    """Refuse a save folder that cannot hold run folders, before any work is done."""
    if not isinstance(save_dir, (str, os.PathLike)) or not os.fspath(save_dir):
        raise TypeError(f"{name} must be a folder (a non-empty str); got {describe(save_dir)}")
    path = Path(save_dir)
    folder = next(folder for folder in (path, *path.parents) if folder.exists())
    if not folder.is_dir():
        where = "is a file" if folder == path else f"is inside {str(folder)!r}, a file"
        raise ValueError(f"{name} {str(save_dir)!r} {where}, not a folder; give a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {str(save_dir)!r}: no permission to write in {str(folder)!r}; "
                         f"give a folder you can write to")


def _saved_args(config):
    """``model_args`` and ``data_args`` as a run folder keeps them (fast_layers
    changes no number, so it is not part of a run)."""
    model_args = {key: value for key, value in config.model_args.items() if key != "fast_layers"}
    return {"model_args": {**model_args, "layer_args": config.layer_args,
                           "optimizer_args": config.optimizer_args, "epochs": config.epochs},
            "data_args": config.data_args}


def check_resume(config, run_dir, written_dir):
    """``--resume`` continues the run in ``run_dir`` only with the options it was
    started with (``--epochs`` may change). A flag that renames the run (``--lr``)
    is compared with the run the dicts name, in ``written_dir``."""
    for folder in dict.fromkeys((run_dir, written_dir)):
        if not (folder / "checkpoint.npz").is_file():
            continue
        for name, current in _saved_args(config).items():
            try:
                saved = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise ValueError(f"--resume: cannot read {folder / name}.json ({error})") from None
            now = json.loads(json.dumps(current, default=repr))
            changed = sorted(key for key in saved.keys() | now.keys()
                             if key != "epochs" and saved.get(key) != now.get(key))
            if changed:
                details = "; ".join(f"{key} was {saved.get(key)!r}, now {now.get(key)!r}" for key in changed)
                raise ValueError(f"--resume: the options differ from the run in {folder} ({details}); "
                                 f"resume with the original options, or start a new run")
        return
    raise FileNotFoundError(f"--resume: no checkpoint to resume from at {run_dir / 'checkpoint.npz'}")


def run(config, model, dataset, model_name, overwrite=False, resume=False, verbose=True):
    """Train and test one configuration; returns a summary dict."""
    run_dir = Path(config.log_args["save_dir"]) / model_name
    # One example through the network: a layer that does not fit the data fails
    # here, before the Logger writes a file.
    model.build(dataset.out_dim)
    model.forward(dataset.train.data[:1])
    model.logger = _call(Logger, dict(config.log_args, model_name=model_name, overwrite=overwrite,
                                      resume=resume, **_saved_args(config)), config, "log_args", guess=False)
    if resume:
        model.load(run_dir / "checkpoint.npz", dataset)
        model.logger.truncate(model.epoch)
        print(f"{model_name} has {model.epoch} finished epochs already (--epochs {config.epochs}): "
              f"nothing left to train." if model.epoch >= config.epochs else
              f"Resuming {model_name} after epoch {model.epoch} of {config.epochs}.")
    elif config.epochs == 0:
        print(f"{config.name('EPOCHS')} is 0: no training; the test below is of the untrained "
              f"network (its random initial weights).")
    if verbose:
        model.summary()
    try:
        start = time.perf_counter()
        model.train(dataset, max(config.epochs - model.epoch, 0), verbose=verbose)
        seconds = time.perf_counter() - start
        results = model.test(dataset, save_predictions=True)
        if model.loss.name == "cross_entropy":
            model.test_kaggle(dataset)  # kaggle_predictions.csv next to predictions.csv
    finally:
        # With --overwrite, a new run that finished no epoch never replaced the earlier one.
        if model.logger.discard_unfinished():
            print(f"The earlier run in {run_dir} is kept as it was: the new run finished no "
                  f"epoch.", file=sys.stderr)
    sizes = [len(p) for p in results["prediction"]]  # a test split without labels has no error
    validate = model.history["error"]["validate"]
    return {"model_name": model_name, "lr": config.optimizer_args["lr"], "hidden": config.hidden,
            "best_validate_error": min(validate, default=np.nan), "seconds": seconds,
            "test_error": float(np.average(results["error"], weights=sizes)) if results["error"] else np.nan,
            "history": model.history}


def sweep_configs(config):
    """One config per (lr, hidden) of ``sweep_args``, saving under ``<save_dir>/sweep/``."""
    configs = []
    for lr, hidden in itertools.product(config.sweep_args["lr"], config.sweep_args["hidden"]):
        new = copy.deepcopy(config)
        new.log_args["save_dir"] = str(Path(config.log_args["save_dir"]) / "sweep")
        new.set("optimizer_args", "lr", lr, config.name("sweep_args", "lr"))
        if config.hidden_layer is not None:
            new.set(f"layer_args[{config.hidden_layer}]", "n_out", hidden, config.name("sweep_args", "hidden"))
        elif hidden is not None:
            raise ValueError(f'sweep_args["hidden"] must be [None] (this script has no --hidden '
                             f'option); got {config.sweep_args["hidden"]!r}')
        configs.append(new)
    return configs


def sweep(configs, models, names, dataset, overwrite, verbose):
    """Train every configuration of the sweep, once every run folder is checked;
    print and save a Markdown table of those that finished."""
    save_dir = Path(configs[0].log_args["save_dir"])
    if len(set(names)) < len(names):
        raise ValueError("--sweep: the grid repeats a combination; list each value once")
    taken = [n for n in names if (save_dir / n / "log").exists()]
    if taken and not overwrite:
        raise FileExistsError(f"--sweep: {len(taken)} of the {len(names)} runs already exist in "
                              f"{save_dir} ({', '.join(taken)}); pass --overwrite to train them again")
    finished = []
    try:
        for config, model, name in zip(configs, models, names):
            print(f"\n== lr={config.optimizer_args['lr']} hidden={config.hidden} ==")
            finished.append(run(config, model, dataset, name, overwrite=overwrite, verbose=verbose))
            dataset.train.reset()
    finally:
        if finished:
            _report_sweep(save_dir, finished, configs)


def _report_sweep(save_dir, finished, configs):
    best = min(finished, key=lambda r: r["best_validate_error"])
    lines = ["| lr | hidden | best validation error | test error | time (s) |",
             "| ---: | ---: | ---: | ---: | ---: |",
             *(f"| {r['lr']:g} | {r['hidden']} | {r['best_validate_error']:.4f} | "
               f"{r['test_error']:.4f} | {r['seconds']:.1f} |" for r in finished),
             "", f"Best by validation error: lr={best['lr']:g}, hidden={best['hidden']} "
                 f"({best['model_name']})."]
    if len(finished) < len(configs):
        lines.append(f"Only {len(finished)} of {len(configs)} combinations finished.")
    table = "\n".join(lines)
    print("\n" + table)
    # Named after the grid, so that another sweep does not replace this table.
    grid = "lr" + "-".join(dict.fromkeys(f"{c.optimizer_args['lr']:g}" for c in configs))
    if configs[0].hidden_layer is not None:
        grid += "_hidden" + "-".join(dict.fromkeys(str(c.hidden) for c in configs))
    table_path, plot_path = save_dir / f"sweep_{grid}.md", save_dir / f"sweep_{grid}_best_loss.png"
    atomic_write_text(table_path, table + "\n")
    from matplotlib.figure import Figure

    ax = Figure(figsize=(6, 4), dpi=100).add_subplot()
    for split, label in (("train", "train"), ("validate", "validation")):
        values = best["history"]["loss"][split]
        if values:
            ax.plot(range(1, len(values) + 1), values, label=label)
    ax.set(title=f"Best of the sweep: lr={best['lr']:g}, hidden={best['hidden']}",
           xlabel="epoch", ylabel="loss")
    ax.legend()
    with atomic_open(plot_path, "wb") as f:
        ax.figure.savefig(f, format="png")
    print(f"Table saved to {table_path}, the best run's loss curves to {plot_path}.")


def main(description, config, name_fn, flatten, argv=None):
    """Parse the command line and run; returns the process exit status.

    ``name_fn(config)`` names a run's folder; ``flatten`` turns images into
    feature vectors (for fully connected networks).
    """
    written, save_dir, name = config, None, None
    try:
        check_keys(written)  # before --help too: its text shows the dicts' values
        args = build_parser(description, written).parse_args(argv)
        config = apply_flags(written, args)
        save_dir, name = config.log_args["save_dir"], config.name("log_args", "save_dir")
        if args.sweep and args.resume:
            raise ValueError("--sweep and --resume cannot be combined")
        _check_save_dir(save_dir, name)
        # sweep_args are checked without --sweep too: a mistake there shows at once.
        configs = [config, *sweep_configs(config)]
        models = [build_model(c) for c in configs]
        configs, models = (configs[1:], models[1:]) if args.sweep else (configs[:1], models[:1])
        names = [name_fn(c) for c in configs] if args.sweep else [args.model_name or name_fn(config)]
        if args.resume:
            check_resume(config, Path(save_dir) / names[0],
                         Path(save_dir) / (args.model_name or name_fn(written)))
        dataset = _call(initialize_dataset, dict(config.data_args, seed=config.model_args["seed"],
                                                 flatten=flatten), config, "data_args", guess=False)
        if args.sweep:
            sweep(configs, models, names, dataset, args.overwrite, not args.quiet)
        else:
            run(config, models[0], dataset, names[0], args.overwrite, args.resume, not args.quiet)
    except KeyboardInterrupt:
        print("Stopped by Ctrl-C.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingDiverged as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DIVERGED
    except (ValueError, TypeError, FileExistsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        # A folder that cannot be written (read-only, a file in the way, a full disk): one
        # line, naming the save folder when the error is inside it.
        reason, filename = error.strerror or str(error), error.filename
        if filename is not None:
            target = Path(os.path.abspath(filename))
            inside = Path(os.path.abspath(save_dir)) in (target, *target.parents)
            reason = (f"{name} {str(save_dir)!r}: cannot write {str(filename)!r} ({reason})" if inside
                      else f"{reason}: {str(filename)!r}")
        print(f"error: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
