"""What the training scripts share: :func:`main` sets the typed flags onto a script's dicts (``--lr`` sets
``optimizer_args["lr"]``), checks each value once through the constructor that takes it, with the dict key
or flag the user wrote in front of its message, and trains one run or (``--sweep``) a grid. Exit status: 2
for a bad value (one line on stderr), 1 for a diverged run, 130 for Ctrl-C; finished epochs stay on disk."""

import argparse
import contextlib
import copy
import difflib
import hashlib
import inspect
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
from .layers import LAYERS, initialize_layer, layer_arguments
from .logs import Logger
from .models import TrainingDiverged, initialize_model
from .optimizers import OPTIMIZERS, initialize_optimizer
from .schedulers import SCHEDULERS
from .utils import atomic_open, atomic_write_text

EXIT_DIVERGED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130


class Config:
    """A script's dicts and EPOCHS; ``--hidden`` sets ``layer_args[hidden_layer]["n_out"]``, and
    ``layer_args_by_dataset`` maps a dataset to the network trained on it instead."""

    def __init__(self, data_args, layer_args, optimizer_args, model_args, log_args, epochs,
                 sweep_args, hidden_layer=None, layer_args_by_dataset=None):
        self.data_args, self.layer_args, self.optimizer_args, self.model_args, self.log_args = \
            copy.deepcopy((data_args, layer_args, optimizer_args, model_args, log_args))
        self.sweep_args, self.layer_args_by_dataset = copy.deepcopy((sweep_args, layer_args_by_dataset or {}))
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
    """``function(**args)`` (values of the dict ``where``); its ValueError or TypeError gets in front
    what the user wrote for the values its message names (else, with ``guess``, whose default passes)."""
    try:
        return function(**args)
    except (ValueError, TypeError) as error:
        keys = [key for key in args if key in config.dict(where) or (where, key) in config.flags]
        blamed = [key for key in keys if re.search(rf"\b{key}\b", str(error))]
        for key in keys if guess and not blamed else ():
            with contextlib.suppress(ValueError, TypeError):
                function(**{k: value for k, value in args.items() if k != key})
                blamed.append(key)
        named = " and ".join(config.name(where, key) for key in blamed) or where
        raise type(error)(f"{named}: {error}") from None


_KEYS = {"data_args": ["name", "batch_size", "dtype", "data_dir"], "model_args": ["name", "loss", "seed",
         "fast_layers"], "log_args": ["save", "plot", "save_dir"], "sweep_args": ["lr", "hidden"]}
_OPTIONAL = ("data_dir", "fast_layers")


def _defaults(function):
    return {key: p.default for key, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _check_keys(mapping, where, valid, required, defaults=None):
    """Unknown keys first (a typo'd key also shows up as a missing one), then missing ones."""
    if not isinstance(mapping, dict):
        raise TypeError(f"{where} must be a dict; got {describe(mapping)}")
    for key in (key for key in mapping if key not in valid):
        hint = "".join(f" (did you mean {c!r}?)" for c in difflib.get_close_matches(str(key), valid, n=1))
        raise ValueError(f"{where} has the unknown key {key!r}{hint}; the valid keys are {valid}")
    for key in (key for key in required if key not in mapping):
        if key not in (defaults or {}):
            raise ValueError(f"{where} is missing the key {key!r}; it has {list(mapping)}")
        default = getattr(defaults[key], "__name__", defaults[key])  # np.float64: "float64"
        raise ValueError(f"{where} is missing the key {key!r}: without it the default "
                         f"{default!r} would be taken; write {key!r}: {default!r} to keep that")


def check_keys(config):
    """Check the keys of the dicts as written; a key is required wherever it applies when its default
    would change the run (a student who deletes a line must not get another network without a word)."""
    for where, function in (("data_args", initialize_dataset), ("model_args", initialize_model),
                            ("log_args", Logger), ("sweep_args", None)):
        _check_keys(config.dict(where), where, _KEYS[where], [k for k in _KEYS[where] if k not in _OPTIONAL],
                    function and _defaults(function))
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
            defaults = _defaults(lookup(LAYERS, args["name"], f'layer_args[{i}]["name"]'))
            keys = layer_arguments(args["name"])
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
        "--dataset": ("data_args", "name", {}, "iris, digits, fashion_mnist, mnist or cifar10"),
        "--data-dir": ("data_args", "data_dir", {}, "folder with your own data (README: Your own data)"),
        "--lr": ("optimizer_args", "lr", {"type": float}, "learning rate"),
        "--momentum": ("optimizer_args", "momentum", {"type": float}, "SGD momentum"),
        "--optimizer": ("optimizer_args", "name", {}, "SGD, RMSProp, Adam or AdamW"),
        "--hidden": (f"layer_args[{config.hidden_layer}]", "n_out", {"type": int}, "hidden units"),
        "--batch-size": ("data_args", "batch_size", {"type": int}, "examples per mini-batch"),
        "--epochs": ("EPOCHS", None, {"type": int}, "passes over the training set"),
        "--seed": ("model_args", "seed", {"type": int}, "seeds the initial weights and the data order"),
        "--dtype": ("data_args", "dtype", {"choices": ["float64", "float32"]}, "float32 is faster"),
        "--save-dir": ("log_args", "save_dir", {}, "folder that holds the run folders"),
        "--no-plot": ("log_args", "plot", {"action": "store_false"}, "do not draw plots"),
        "--sweep-lr": ("sweep_args", "lr", {"type": float, "nargs": "+"}, "learning rates of the sweep"),
        "--sweep-hidden": ("sweep_args", "hidden", {"type": int, "nargs": "+"}, "hidden sizes of the sweep"),
    }
    return {flag: v for flag, v in flags.items() if config.hidden_layer is not None or "hidden" not in flag}


_SWITCHES = {"--overwrite": "replace an earlier run of the same name; the earlier run is kept until the "
                            "new one has finished its first epoch",
             "--resume": "continue a stopped run from its checkpoint.npz",
             "--quiet": "no per-epoch lines or progress bar",
             "--sweep": "train every combination of the lr and hidden values of sweep_args"}


def parse_flags(description, config, argv=None):
    """``(a copy of config with the typed flags set on its dicts, the parsed namespace)``."""
    parser = argparse.ArgumentParser(description=description, argument_default=argparse.SUPPRESS)
    # A mistake on the command line is one line (no usage dump).
    parser.error = lambda message: parser.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")
    flags = _flags(config)
    for flag, (where, key, options, help) in flags.items():
        now = config.epochs if key is None else config.dict(where).get(key)
        setting = f"{config.name(where, key)} is now {now!r}"
        parser.add_argument(flag, help=f"{help} ({setting})", **options)
    parser.add_argument("--model-name", default=None, help="run folder (default: a name from the settings)")
    for switch, help in _SWITCHES.items():
        parser.add_argument(switch, action="store_true", default=False, help=help)
    args = parser.parse_args(argv)
    config = copy.deepcopy(config)
    for flag, (where, key, _, _) in flags.items():
        if flag[2:].replace("-", "_") in args:
            config.set(where, key, getattr(args, flag[2:].replace("-", "_")), flag)
    config.flags[("log_args", "model_name")] = "--model-name"  # for the Logger's messages
    takes = getattr(OPTIMIZERS.get(str(getattr(args, "optimizer", "")).lower()), "options", None)
    for key in {option for cls in OPTIMIZERS.values() for option in cls.options} - set(takes or ()):
        if takes is not None and key in config.optimizer_args and ("optimizer_args", key) not in config.flags:
            print(f"note: --optimizer {args.optimizer} takes no {key}: optimizer_args[{key!r}] "
                  f"= {config.optimizer_args.pop(key)!r} is left out", file=sys.stderr)
    dataset = str(config.data_args["name"]).lower()
    config.layer_args = config.layer_args_by_dataset.get(dataset, config.layer_args)
    return config, args


def name_suffix(config, default_dataset=None, default_dtype="float64"):
    """The end of a run name, e.g. ``-lr0.01_mom0.9_seed0``: the lr, the momentum (SGD) or the optimizer's
    name, the dataset and dtype unless they are the defaults given, and the seed."""
    optimizer, data, name = config.optimizer_args, config.data_args, config.optimizer_args["name"].lower()
    parts = [f"lr{optimizer['lr']:g}", f"mom{optimizer.get('momentum') or 0:g}" if name == "sgd" else name]
    parts += [f"{v}" for v, d in ((data["name"], default_dataset), (data["dtype"], default_dtype)) if v != d]
    return "-" + "_".join(parts + [f"seed{config.model_args['seed']}"])


def build_model(config):
    """The network of ``config``, once its values are checked (not the dataset's, not the Logger's)."""
    check_int(config.epochs, "epochs", config.name("EPOCHS"), minimum=0)
    for i, args in enumerate(config.layer_args):
        # The output layer's n_out may be None: as many as the dataset has classes.
        placeholder = {"n_out": 1} if i == len(config.layer_args) - 1 and args.get("n_out", 0) is None else {}
        _call(initialize_layer, {**args, **placeholder}, config, f"layer_args[{i}]")
    optimizer, model_args = config.optimizer_args, config.model_args
    lookup(OPTIMIZERS, optimizer["name"], config.name("optimizer_args", "name"))
    _call(initialize_optimizer, optimizer, config, "optimizer_args")
    check_bool(model_args.get("fast_layers", False), "fast_layers", config.name("model_args", "fast_layers"))
    args = {key: model_args[key] for key in ("name", "loss", "seed")}
    return _call(initialize_model, dict(args, layer_args=config.layer_args, optimizer_args=optimizer),
                 config, "model_args")


def _check_save_dir(save_dir, name):
    """Refuse a save folder that cannot hold run folders, before any work is done."""
    if not isinstance(save_dir, (str, os.PathLike)) or not os.fspath(save_dir):
        raise TypeError(f"{name} must be a folder (a non-empty str); got {describe(save_dir)}")
    folder = next(folder for folder in (Path(save_dir), *Path(save_dir).parents) if folder.exists())
    if not folder.is_dir():
        where = "is a file" if folder == Path(save_dir) else f"is inside {str(folder)!r}, a file"
        raise ValueError(f"{name} {str(save_dir)!r} {where}, not a folder; give a folder")


def _saved_args(config):
    """What a run folder keeps (not fast_layers, which changes no number)."""
    model_args = {key: value for key, value in config.model_args.items() if key != "fast_layers"}
    return {"model_args": dict(model_args, layer_args=config.layer_args, optimizer_args=config.optimizer_args,
                               epochs=config.epochs), "data_args": config.data_args}


def _changes(config, folder):
    """How the settings of ``config`` (its saved arguments but the number of epochs) differ from those
    of the run in ``folder``, e.g. ``["batch_size was 25, now 5"]``; None if ``folder`` holds no run."""
    now = json.loads(json.dumps(_saved_args(config), default=repr))
    try:
        saved = {n: json.loads((folder / f"{n}.json").read_text(encoding="utf-8")) for n in now}
    except (OSError, ValueError):
        return None
    return [f"{k} was {saved[n].get(k)!r}, now {now[n].get(k)!r}" for n in now
            for k in sorted({**saved[n], **now[n]}.keys() - {"epochs"}) if saved[n].get(k) != now[n].get(k)]


def run_name(config, name_fn):
    """``name_fn(config)``, with a digest of the settings at its end when that folder holds a run of
    other settings (a changed activation, batch size, loss or --data-dir gets a folder of its own)."""
    name, settings = name_fn(config), _saved_args(config)
    del settings["model_args"]["epochs"]
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True, default=repr).encode()).hexdigest()[:6]
    return name + "_" + digest if _changes(config, Path(config.log_args["save_dir"]) / name) else name


def run(config, model, dataset, model_name, overwrite=False, resume=False, verbose=True):
    """Train and test one configuration; returns a summary dict."""
    # One example through the network: a layer that does not fit the data fails before any file.
    model.build(dataset.out_dim)
    if config.model_args.get("fast_layers"):
        use_fast_layers(model)  # once every layer exists (the output layer waits for out_dim)
    model.forward(dataset.train.data[:1])
    model.logger = _call(Logger, dict(config.log_args, model_name=model_name, overwrite=overwrite,
                                      resume=resume, **_saved_args(config)), config, "log_args", guess=False)
    if resume:
        model.load(model.logger.save_dir / "checkpoint.npz", dataset)
        model.logger.truncate(model.epoch)
        print(f"{model_name} has {model.epoch} finished epochs already (--epochs {config.epochs}): "
              f"nothing left to train." if model.epoch >= config.epochs else
              f"Resuming {model_name} after epoch {model.epoch} of {config.epochs}.")
    elif config.epochs == 0:
        print(f"{config.name('EPOCHS')} is 0: no training; the test below is of the untrained "
              f"network (its random initial weights).")
    if verbose:
        print(model.summary())
    try:
        start = time.perf_counter()
        model.train(dataset, max(config.epochs - model.epoch, 0), verbose=verbose)
        seconds = time.perf_counter() - start
        if model.logger.run_dir is not None:  # the course's test line stays the last line
            print(f"The curves, history, checkpoint and predictions are in {model.logger.run_dir}")
        results = model.test(dataset, save_predictions=True)
        if model.loss.name == "cross_entropy":
            model.test_kaggle(dataset)  # kaggle_predictions.csv next to predictions.csv
    finally:
        # With --overwrite, a new run that finished no epoch never replaced the earlier one.
        if model.logger.discard_unfinished():
            print(f"The earlier run in {model.logger.save_dir} is kept as it was: the new run finished no "
                  f"epoch.", file=sys.stderr)
    sizes = [len(p) for p in results["prediction"]]  # a test split without labels has no error
    test_error = float(np.average(results["error"], weights=sizes)) if results["error"] else np.nan
    return {"model_name": model_name, "lr": config.optimizer_args["lr"], "hidden": config.hidden,
            "best_validate_error": min(model.history["error"]["validate"], default=np.nan),
            "test_error": test_error, "seconds": seconds}


def sweep_configs(config):
    """Yield one config per (lr, hidden) of ``sweep_args``, saving under ``<save_dir>/sweep/``."""
    if config.hidden_layer is None and config.sweep_args["hidden"] != [None]:
        raise ValueError(f'sweep_args["hidden"] must be [None] (this script has no --hidden option); '
                         f'got {config.sweep_args["hidden"]!r}')
    for lr in dict.fromkeys(config.sweep_args["lr"]):  # each value once
        for hidden in dict.fromkeys(config.sweep_args["hidden"]):
            new = copy.deepcopy(config)
            new.log_args["save_dir"] = str(Path(config.log_args["save_dir"]) / "sweep")
            new.set("optimizer_args", "lr", lr, config.name("sweep_args", "lr"))
            if hidden is not None:
                new.set(f"layer_args[{new.hidden_layer}]", "n_out", hidden, new.name("sweep_args", "hidden"))
            yield new


def _report_sweep(save_dir, finished, configs):
    low = min(r["best_validate_error"] for r in finished)
    best = [r for r in finished if r["best_validate_error"] == low] or finished[:1]  # all nan: EPOCHS 0
    lines = ["| lr | hidden | best validation error | test error | time (s) |", "| ---: " * 5 + "|"]
    lines += [f"| {r['lr']:g} | {r['hidden']} | {r['best_validate_error']:.4f} | {r['test_error']:.4f} | "
              f"{r['seconds']:.1f} |" for r in finished]
    lines += ["", f"Best by validation error{f', a tie of {len(best)}' * (len(best) > 1)}: " + "; ".join(
        f"lr={r['lr']:g}, hidden={r['hidden']} ({r['model_name']})" for r in best) + "."]
    if len(finished) < len(configs):
        lines.append(f"Only {len(finished)} of {len(configs)} combinations finished.")
    # Named after the grid, so that another sweep does not replace this table.
    grid = "lr" + "-".join(dict.fromkeys(f"{c.optimizer_args['lr']:g}" for c in configs))
    if configs[0].hidden_layer is not None:
        grid += "_hidden" + "-".join(dict.fromkeys(str(c.hidden) for c in configs))
    atomic_write_text(save_dir / f"sweep_{grid}.md", "\n".join(lines) + "\n")
    print("\n" + "\n".join(lines) + f"\nTable saved to {save_dir / f'sweep_{grid}.md'}.")
    loss_plot = save_dir / best[0]["model_name"] / "loss.png"
    if loss_plot.is_file():  # not with --no-plot
        with atomic_open(save_dir / f"sweep_{grid}_best_loss.png", "wb") as f:
            f.write(loss_plot.read_bytes())


def main(description, config, name_fn, flatten, argv=None):
    """Parse the command line and run; returns the exit status. ``name_fn(config)`` names a
    run's folder; ``flatten`` turns images into feature vectors (for fully connected networks)."""
    written, save_dir, name = config, None, None
    try:
        check_keys(written)  # before --help too: its text shows the dicts' values
        config, args = parse_flags(description, written, argv)
        save_dir, name = config.log_args["save_dir"], config.name("log_args", "save_dir")
        if args.resume and (args.sweep or args.overwrite):
            raise ValueError(f"--{'sweep' if args.sweep else 'overwrite'} and --resume cannot be combined")
        _check_save_dir(save_dir, name)
        # sweep_args are checked without --sweep too: a mistake there shows at once.
        configs = [config, *sweep_configs(config)]
        models = [build_model(c) for c in configs]
        configs, models = (configs[1:], models[1:]) if args.sweep else (configs[:1], models[:1])
        names = [args.model_name if not args.sweep and args.model_name is not None else run_name(c, name_fn)
                 for c in configs]
        folders = [Path(c.log_args["save_dir"]) / n for c, n in zip(configs, names)]
        for c, folder in zip(configs, folders) if not (args.overwrite or args.resume) else ():
            done = len(json.loads((folder / "history.json").read_text(encoding="utf-8"))["epoch"]) \
                if (folder / "checkpoint.npz").is_file() else 0
            if done > (c.epochs if args.sweep else 0):  # a sweep continues a run of its settings
                resume = "--resume to train it on, " * (done < c.epochs)  # never in a sweep
                raise FileExistsError(f"the run folder {str(folder)!r} already holds a run of these settings "
                                      f"({done} of {c.epochs} epochs); pass {resume}--overwrite to replace it"
                                      + ", or --model-name NAME" * (not args.sweep))
        if args.resume:  # only with the options the run started with; --lr renames it, --epochs does not
            runs = (folders[0], Path(save_dir) / (name_fn(written) if args.model_name is None else args.model_name))
            folder = next((f for f in runs if (f / "checkpoint.npz").is_file()), None)
            if folder is None:
                raise FileNotFoundError(f"--resume: no checkpoint to resume from at {runs[0]}/checkpoint.npz")
            changes = _changes(config, folder)
            if changes != []:
                raise ValueError(f"--resume: the options differ from the run in {folder} ("
                                 f"{'; '.join(changes or ['its .json files cannot be read'])}); resume with "
                                 f"the original options, or start a new run")
        dataset = _call(initialize_dataset, dict(config.data_args, seed=config.model_args["seed"],
                                                 flatten=flatten), config, "data_args", guess=False)
        finished = []
        try:
            for c, model, n, folder in zip(configs, models, names, folders):
                if args.sweep:  # continuing (or only testing) a run of the same settings
                    print(f"\n== lr={c.optimizer_args['lr']} hidden={c.hidden} ==")
                    args.resume = not args.overwrite and (folder / "checkpoint.npz").is_file()
                finished.append(run(c, model, dataset, n, args.overwrite, args.resume, not args.quiet))
                dataset.train.reset()
        finally:
            if finished and args.sweep:
                _report_sweep(folders[0].parent, finished, configs)
    except KeyboardInterrupt:
        print("Stopped by Ctrl-C.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TrainingDiverged, ValueError, TypeError, OSError) as error:
        # A folder that cannot be written (read-only, a file in the way, a full disk).
        filename = getattr(error, "filename", None)  # an OSError's, once save_dir is checked
        folder = filename and os.path.abspath(save_dir)
        if filename is not None and os.path.commonpath([folder, os.path.abspath(filename)]) == folder:
            error = f"{name} {str(save_dir)!r}: cannot write {str(filename)!r} ({error.strerror})"
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DIVERGED if isinstance(error, TrainingDiverged) else EXIT_BAD_INPUT
    return 0
