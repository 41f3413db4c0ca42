"""Train a LeNet-style convolutional network (Fashion-MNIST by default).

Conv2D -> ReLU -> Pool2D -> Conv2D -> ReLU -> Pool2D -> Flatten -> FullyConnected softmax.
Edit the hyperparameters below, or override them on the command line:

    python train_cnn.py                       # Fashion-MNIST, the default network
    python train_cnn.py --dataset digits --epochs 10     # a quick run (seconds)
    python train_cnn.py --dtype float64       # double precision (about twice as slow)
    python train_cnn.py --dataset mnist --data-dir ~/data/mnist        # your own IDX files
    python train_cnn.py --dataset cifar10 --data-dir ~/data   # CIFAR-10
    python train_cnn.py --help

Curves, the history, a checkpoint and predictions.csv go to
experiments/<model name>/.
"""

import sys

from neural_networks.cli import Config, main, name_suffix

# ---- hyperparameters: edit these --------------------------------------------------------

SEED = 0
EPOCHS = 10

data_args = {
    "name": "fashion_mnist",  # "fashion_mnist", "digits", "mnist" or "cifar10"
    "batch_size": 64,
    # float32 trains about twice as fast as float64 and reaches the same accuracy;
    # gradient checks (check_gradients.ipynb, the tests) always use float64.
    "dtype": "float32",
    "data_dir": None,  # a folder with your own files (README: "Your own data"); None: datasets/
}

layer_args = [
    {"name": "conv2d", "n_out": 32, "kernel_shape": 3, "stride": 1, "pad": "same",
     "activation": "relu", "weight_init": "he_uniform"},
    {"name": "pool2d", "kernel_shape": 2, "stride": 2, "mode": "max"},
    {"name": "conv2d", "n_out": 64, "kernel_shape": 3, "stride": 1, "pad": "same",
     "activation": "relu", "weight_init": "he_uniform"},
    {"name": "pool2d", "kernel_shape": 2, "stride": 2, "mode": "max"},
    {"name": "flatten"},
    # The output layer: n_out None means "as many as the dataset has classes". Its weights start
    # at zero, so the untrained network gives every class the same probability (loss ln(classes));
    # random ones on 3136 ReLU features start it far more sure, and wrong (Fashion-MNIST: 3.57).
    {"name": "fully_connected", "activation": "softmax", "weight_init": "zeros", "n_out": None},
]

# CIFAR-10 (32x32 colour images, harder classes) trains this network instead:
# a third conv block, so that the flattened map is 4x4x128 before the output layer.
cifar10_layer_args = [
    {"name": "conv2d", "n_out": 32, "kernel_shape": 3, "stride": 1, "pad": "same",
     "activation": "relu", "weight_init": "he_uniform"},
    {"name": "pool2d", "kernel_shape": 2, "stride": 2, "mode": "max"},
    {"name": "conv2d", "n_out": 64, "kernel_shape": 3, "stride": 1, "pad": "same",
     "activation": "relu", "weight_init": "he_uniform"},
    {"name": "pool2d", "kernel_shape": 2, "stride": 2, "mode": "max"},
    {"name": "conv2d", "n_out": 128, "kernel_shape": 3, "stride": 1, "pad": "same",
     "activation": "relu", "weight_init": "he_uniform"},
    {"name": "pool2d", "kernel_shape": 2, "stride": 2, "mode": "max"},
    {"name": "flatten"},
    {"name": "fully_connected", "activation": "softmax", "weight_init": "zeros", "n_out": None},
]

optimizer_args = {
    "name": "adam",
    "lr": 0.001,
    "lr_scheduler": "exponential",  # lr * lr_decay ** epoch
    "lr_decay": 0.8,
    "stage_length": 1,
    "clip_norm": None,
}

model_args = {
    "name": "cnn",
    "loss": "cross_entropy",
    "seed": SEED,
    # True: Conv2D and Pool2D run the tuned kernels of neural_networks/fast_layers.py (faster);
    # False: the readable forward and backward of layers.py. Both compute the same numbers.
    "fast_layers": True,
}

log_args = {
    "save": True,
    "plot": True,
    "save_dir": "experiments/",
}

# --sweep trains each of these learning rates.
sweep_args = {
    "lr": [0.003, 0.001, 0.0003],
    "hidden": [None],
}

# ---------------------------------------------------------------------------------------------


def model_name(config):
    """A run name from the hyperparameters, e.g. cnn_32-64-lr0.001_adam_fashion_mnist_seed0."""
    channels = "-".join(str(a["n_out"]) for a in config.layer_args if a["name"] == "conv2d")
    return f"{config.model_args['name']}_{channels}" + name_suffix(config, default_dtype="float32")


CONFIG = Config(data_args, layer_args, optimizer_args, model_args, log_args, EPOCHS, sweep_args,
                layer_args_by_dataset={"cifar10": cifar10_layer_args})

if __name__ == "__main__":
    sys.exit(main(__doc__.split("\n")[0], CONFIG, model_name, flatten=False))
