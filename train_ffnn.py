"""Train a two-layer fully connected network (Iris by default).

Edit the hyperparameters below, or override them on the command line:

    python train_ffnn.py                      # the course's default run
    python train_ffnn.py --lr 0.1 --hidden 50 --epochs 200
    python train_ffnn.py --sweep              # learning rates x hidden sizes
    python train_ffnn.py --dataset fashion_mnist --hidden 256 --epochs 10
    python train_ffnn.py --help

Curves, the history, a checkpoint and predictions.csv go to
experiments/<model name>/.
"""

import sys

from neural_networks.cli import Config, main, name_suffix

# ---- hyperparameters: edit these --------------------------------------------------------

SEED = 0
EPOCHS = 100

data_args = {
    "name": "iris",  # "iris", "digits" or "fashion_mnist"
    "batch_size": 25,
    "dtype": "float64",  # double precision, as the gradient checks use; "float32" is faster
}

layer_args = [
    {"name": "fully_connected", "activation": "relu", "weight_init": "xavier_uniform", "n_out": 25},
    # The output layer: n_out None means "as many as the dataset has classes".
    {"name": "fully_connected", "activation": "softmax", "weight_init": "xavier_uniform", "n_out": None},
]

optimizer_args = {
    "name": "SGD",
    "lr": 0.01,
    "lr_scheduler": "constant",
    "momentum": 0.9,
    "clip_norm": None,
}

model_args = {
    "name": "feed_forward",
    "loss": "cross_entropy",
    "seed": SEED,
}

log_args = {
    "save": True,
    "plot": True,
    "save_dir": "experiments/",
}

# --sweep trains every combination of these.
sweep_args = {
    "lr": [0.01, 0.001],
    "hidden": [25, 100],
}

# ---------------------------------------------------------------------------------------------


def model_name(config):
    """The course's run name, e.g. feed_forward_2layers_25-lr0.01_mom0.9_seed0."""
    hidden = "-".join(str(args["n_out"]) for args in config.layer_args[:-1] if args.get("n_out") is not None)
    layers = f"{config.model_args['name']}_{len(config.layer_args)}layers_{hidden}"
    return layers + name_suffix(config, default_dataset="iris")


CONFIG = Config(data_args, layer_args, optimizer_args, model_args, log_args, EPOCHS, sweep_args,
                hidden_layer=0)

if __name__ == "__main__":
    sys.exit(main(__doc__.split("\n")[0], CONFIG, model_name, flatten=True))
