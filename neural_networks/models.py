"""The model: a chain of layers trained by mini-batch gradient descent. The
epoch loop is in ``training.py``, saving and loading in ``checkpoints.py``, the
predictions files in ``predictions.py``."""

import numpy as np

from . import checkpoints, logs, predictions, training
from .activations import SoftMax
from .checks import (check_array, check_int, check_layer_args, check_optimizer_args,
                     check_output_activation, check_ready, check_same_shape, check_split)
from .layers import Layer, initialize_layer
from .losses import CrossEntropy, Loss, initialize_loss
from .optimizers import Optimizer, initialize_optimizer
from .summary import summary_table
from .training import TrainingDiverged  # noqa: F401  (raised by train)


class NeuralNetwork:
    """A feed-forward network.

    ``loss`` is "cross_entropy" or "l2" (or a Loss). ``layer_args`` holds one
    dict of ``initialize_layer`` arguments per layer, each with a "name"; the
    last is the output layer, whose ``n_out`` may be None and is then taken
    from ``dataset.out_dim`` on the first ``train``. ``optimizer_args`` holds
    the arguments of ``initialize_optimizer`` (at least "name" and "lr"; or an
    Optimizer). ``logger`` (a ``logs.Logger``) receives one record per
    finished epoch and holds the run's folder. ``seed`` fixes the initial
    weights, the dropout masks and the order of the training examples.

    ``train`` runs the layers in training mode (BatchNorm uses the batch's
    statistics, Dropout drops units); everything else runs in test mode.
    ``history`` holds ``{"loss": {"train": [...], "validate": [...]}, "error":
    {...}}``, one entry per finished epoch, and under ``"baseline"`` the same
    numbers (one float each) for the untrained network.
    """

    def __init__(self, loss, layer_args, optimizer_args, logger=None, seed=None):
        self.loss = loss if isinstance(loss, Loss) else initialize_loss(loss)
        self.layer_args = check_layer_args(layer_args, Layer)
        if isinstance(optimizer_args, Optimizer):
            self.optimizer = optimizer_args
        else:
            try:
                self.optimizer = initialize_optimizer(**check_optimizer_args(optimizer_args))
            except TypeError as error:
                raise TypeError(f"NeuralNetwork: optimizer_args: {error}") from None
        self.seed = None if seed is None else check_int(seed, "seed", "NeuralNetwork", minimum=0)
        self.logger = logger
        # One stream per layer plus one for the data order: changing one
        # layer's size changes no other layer's weights.
        streams = np.random.SeedSequence(self.seed).spawn(len(self.layer_args) + 1)
        self.layer_rngs = [np.random.default_rng(s) for s in streams[:-1]]
        self.data_rng = np.random.default_rng(streams[-1])
        self.epoch = 0
        self.history = {"loss": {"train": [], "validate": []}, "error": {"train": [], "validate": []}}
        self.layers = []
        output = self.layer_args[-1]
        sized = str(output["name"]).lower() in ("fully_connected", "conv2d")  # layers with an n_out
        if output.get("n_out") is not None or not sized:
            self.build(None)  # else the output layer waits for dataset.out_dim (see train)
        check_output_activation(self.loss, self.layer_args, SoftMax)

    def build(self, out_dim):
        """Create the layers, the output layer with ``out_dim`` units when its
        ``n_out`` was left as None (``train`` does this from ``dataset.out_dim``)."""
        out_dim = None if out_dim is None else check_int(out_dim, "out_dim", "NeuralNetwork.build")
        if self.built:
            return
        layers = []
        for i, args in enumerate(self.layer_args):
            kwargs = {key: value for key, value in args.items() if key != "name"}
            if i == len(self.layer_args) - 1 and kwargs.get("n_out") is None and out_dim is not None:
                kwargs["n_out"] = out_dim
            try:
                layers.append(initialize_layer(args["name"], seed=self.layer_rngs[i], **kwargs))
            except TypeError as error:
                if "unexpected keyword" not in str(error):
                    raise
                raise TypeError(f"NeuralNetwork: layer_args[{i}]: {error}") from None
        layers[0].input_gradient = False  # dL/dX of the data is never needed
        self.layers = layers

    @property
    def built(self):
        """True once the layers exist (the output layer may wait for ``train``)."""
        return len(self.layers) == len(self.layer_args)

    def forward(self, X, mode="test"):
        """Run every layer on ``X`` and return the output (e.g. class probabilities).

        ``mode`` "train" reaches the layers that behave differently in
        training (``takes_mode``: BatchNorm, Dropout); the others ignore it.
        """
        check_ready(self, "forward", mode)
        # BEGIN SOLUTION
        for layer in self.layers:
            X = layer.forward(X, mode=mode) if layer.takes_mode else layer.forward(X)
        return X
        # END SOLUTION

    def backward(self, target, out):
        """Compute the loss of ``out`` against ``target`` and backpropagate it:
        ``dL/d(out)`` from the loss, then every layer's ``backward`` in reverse
        turns its ``dL/dY`` into ``dL/dX`` and fills its ``gradients`` (for a
        softmax output with cross-entropy, ``dL/dZ = (out - target) / batch``).
        Returns the loss (a float)."""
        # BEGIN SOLUTION
        L = self.loss.forward(target, out)
        dLdY = self.loss.backward(target, out)
        for layer in reversed(self.layers):
            dLdY = layer.backward(dLdY)
        return L
        # END SOLUTION

    def update(self, epoch):
        """``param -= delta`` for every parameter, with the optimizer's delta
        (the parameters are named like "W0", "b1": name plus layer index)."""
        for i, layer in enumerate(self.layers):
            for name, param in layer.parameters.items():
                param -= self.optimizer.update(f"{name}{i}", param, layer.gradients[name], epoch)

    def predict(self, X, Y):
        """Return ``(Y_hat, loss)`` for inputs ``X`` and targets ``Y`` (no training)."""
        # BEGIN SOLUTION
        Y_hat = self.forward(X)
        return Y_hat, self.loss.forward(Y, Y_hat)
        # END SOLUTION

    def predict_classes(self, X):
        """Class indices ``(batch,)``: the argmax of the network's output."""
        return np.argmax(self.forward(X), axis=-1)

    def error(self, target, out):
        """1 - accuracy for cross-entropy, the mean squared error for L2."""
        target = check_array(target, "target", "NeuralNetwork.error")
        out = check_array(out, "out", "NeuralNetwork.error")
        check_same_shape(target, out, "target", "out", "NeuralNetwork.error")
        if isinstance(self.loss, CrossEntropy):
            return float(np.mean(np.argmax(out, axis=-1) != np.argmax(target, axis=-1)))
        return float(np.mean((target - out) ** 2))

    def parameters(self):
        """Every parameter under its stable name: ``{"W0": array, "b0": array, ...}``."""
        return {f"{name}{i}": p for i, layer in enumerate(self.layers)
                for name, p in layer.parameters.items()}

    def summary(self, input_shape=None):
        """The table of each layer's output shape and parameters (:func:`summary.summary_table`);
        ``print(model.summary())`` prints it, and so does a notebook cell that ends with it."""
        check_ready(self, "summary")
        return summary_table(self, input_shape)

    def train(self, dataset, epochs, verbose=True, checkpoint=True):
        """Train for ``epochs`` more epochs on ``dataset.train``; return ``self.history``
        (see :func:`training.train`: validation, logging, checkpoints, Ctrl-C)."""
        return training.train(self, dataset, epochs, verbose=verbose, checkpoint=checkpoint)

    def evaluate(self, data):
        """Mean loss and error over a whole ``Data`` split, in stored order."""
        total_loss = total_error = 0.0
        for X, Y in data.iter_batches():
            out = self.forward(X)
            total_loss += self.loss.forward(Y, out) * X.shape[0]
            total_error += self.error(Y, out) * X.shape[0]
        return total_loss / data.n_samples, total_error / data.n_samples

    def test(self, dataset, save_predictions=False, predictions_path=None):
        """Evaluate on ``dataset.test`` and print ``Test Loss: <x> Test Accuracy: <y>``
        (means over examples). Returns a dict of per-batch lists under "loss" and
        "error" (and the outputs under "prediction" when ``save_predictions``),
        and the printed numbers under "Test Loss" and "Test Accuracy". ``save_predictions``
        also writes ``predictions.csv`` to ``predictions_path`` or the run folder."""
        data = check_split(dataset, "test", "NeuralNetwork.test")
        log = {"loss": [], "error": []}
        outputs, sizes = [], []
        for X, Y in data.iter_batches():
            if Y is None:  # hidden test labels (as on Kaggle): outputs only
                out = self.forward(X)
            else:
                out, loss = self.predict(X, Y)
                log["loss"].append(loss)
                log["error"].append(self.error(Y, out))
            outputs.append(out)
            sizes.append(X.shape[0])
        means = predictions.test_means(self.loss, log, sizes, outputs, data.labels)
        print(" ".join(f"{name}: {value}" for name, value in means.items()) or
              f"The test set has no labels: {sum(sizes)} examples predicted, no Test Loss or Accuracy.")
        log.update(means)
        if save_predictions:
            log["prediction"] = outputs
            folder = logs.run_dir(self.logger)
            path = predictions_path or (folder and folder / "predictions.csv")
            if path is not None:
                predictions.write_predictions(path, np.concatenate(outputs), data, self.loss)
        return log

    def test_kaggle(self, dataset):
        """The argmax class of every test example ``(n_test,)``, in stored order,
        also written to ``kaggle_predictions.csv`` (``Id,Category``) in the run folder."""
        data = check_split(dataset, "test", "NeuralNetwork.test_kaggle")
        classes = np.concatenate([self.predict_classes(X) for X, _ in data.iter_batches()])
        folder = logs.run_dir(self.logger)
        if folder is not None:
            predictions.write_kaggle(folder / "kaggle_predictions.csv", classes)
        return classes

    save_parameters = checkpoints.save_parameters
    state_dict = checkpoints.state_dict
    save = checkpoints.save
    load = checkpoints.load

    def __repr__(self):
        lines = [f"NeuralNetwork(loss={self.loss!r}, optimizer={self.optimizer!r}, seed={self.seed})"]
        lines += [f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers)]
        lines += [f"  ({i}) {self.layer_args[i]} (built on the first train)"
                  for i in range(len(self.layers), len(self.layer_args))]
        return "\n".join(lines)


def initialize_model(name, loss, layer_args, optimizer_args, logger=None, seed=None):
    """Build a model by name ("feed_forward"; any name builds a NeuralNetwork)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"initialize_model: name must be a non-empty string; got {name!r}")
    return NeuralNetwork(loss, layer_args, optimizer_args, logger=logger, seed=seed)
