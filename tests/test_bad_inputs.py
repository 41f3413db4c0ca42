"""Bad input across the whole public API: one table, then a property-based sweep.

``BAD_INPUTS`` lists one call per row with the exception it must raise and a
fragment of the message that names the argument (or the function and the
argument). Row ids start with the module the call belongs to. A row that
exposes a library bug is kept and marked ``xfail(strict=True)``.

The hypothesis tests feed random wrong shapes and dtypes to every layer's
forward and backward and to the activations and losses, and check that only
``ValueError`` or ``TypeError`` ever escape.
"""

import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neural_networks import cli
from neural_networks.activations import (
    ACTIVATIONS,
    ArcTan,
    ReLU,
    Sigmoid,
    SoftMax,
    TanH,
    initialize_activation,
)
from neural_networks.datasets import Data, Dataset, initialize_dataset
from neural_networks.layers import Conv2D, Flatten, FullyConnected, Pool2D, initialize_layer
from neural_networks.logs import Logger, load_log
from neural_networks.losses import L2, CrossEntropy, initialize_loss
from neural_networks.models import NeuralNetwork, initialize_model
from neural_networks.optimizers import SGD, Adam, initialize_optimizer
from neural_networks.schedulers import Constant, Cosine, Exponential, Step, initialize_scheduler
from neural_networks.utils import atomic_open, check_gradients, integers_to_one_hot, make_rng
from neural_networks.weights import initialize_weights

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
import train_cnn  # noqa: E402  (the scripts live at the repository root)
import train_ffnn  # noqa: E402


@pytest.fixture(autouse=True)
def _inside_tmp_path(tmp_path, monkeypatch):
    """Every call runs in a scratch folder: a relative path never reaches the repo."""
    monkeypatch.chdir(tmp_path)


# ---------------------------------------------------------------------------
# Helpers that build the objects the bad calls are made on
# ---------------------------------------------------------------------------

LAYERS = [{"name": "fully_connected", "activation": "relu", "n_out": 4},
          {"name": "fully_connected", "activation": "softmax", "n_out": None}]
SGD_ARGS = {"name": "SGD", "lr": 0.1}


def ones(*shape, dtype=np.float64):
    return np.ones(shape, dtype=dtype)


def forwarded(layer, X):
    layer.forward(X)
    return layer


def fc():
    return forwarded(FullyConnected(3), ones(2, 4))


def conv():
    return forwarded(Conv2D(2, 3), ones(1, 5, 5, 3))


def pool():
    return forwarded(Pool2D(2, stride=2), ones(1, 4, 4, 3))


def model(**kwargs):
    args = {"loss": "cross_entropy", "layer_args": LAYERS, "optimizer_args": SGD_ARGS, "seed": 0}
    args.update(kwargs)
    return NeuralNetwork(**args)


def small_dataset(**kwargs):
    X = np.random.default_rng(0).normal(size=(12, 3))
    return Dataset(X, np.arange(12) % 3, 4, **kwargs)


def trained_checkpoint():
    m, data = model(), small_dataset()
    m.train(data, 1, verbose=False)
    return m.save("ck.npz", data)


def truncated_checkpoint():
    path = trained_checkpoint()
    path.write_bytes(path.read_bytes()[:500])
    return path


def logger(**kwargs):
    return Logger(kwargs.pop("model_name", "run"), {}, {}, **kwargs)


class ScriptExit(Exception):
    """What a training script did: its exit status and stderr."""


def script(module, *argv):
    """Run a training script's ``main`` in-process; raise ScriptExit with what it said."""

    def call():
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli.main("test", module.CONFIG, module.model_name, flatten=module is train_ffnn,
                                argv=["--save-dir", "runs", "--no-plot", "--quiet", *argv])
            except SystemExit as stop:
                code = stop.code
        raise ScriptExit(f"exit {code}: {err.getvalue().strip()}")

    return call


def sgd_update(param_name="W0", param=None, grad=None, epoch=0):
    param = ones(2, 3) if param is None else param
    grad = ones(2, 3) if grad is None else grad
    return SGD(0.1).update(param_name, param, grad, epoch)


def two_updates():
    opt = SGD(0.1, momentum=0.9)
    opt.update("W0", ones(2, 3), ones(2, 3), 0)
    opt.update("W0", ones(3, 3), ones(3, 3), 0)


def set_state(state):
    Data(ones(5, 2), 2).set_state(state)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def bug(reason):
    return pytest.mark.xfail(strict=True, reason=f"BUG: {reason}")


P = pytest.param

BAD_INPUTS = [
    # ---- activations
    P(lambda: initialize_activation("swish"), ValueError, r"unknown activation 'swish'.*valid names.*relu",
      id="activations-factory-unknown-name"),
    P(lambda: initialize_activation(3), TypeError, r"activation must be a string",
      id="activations-factory-name-not-a-string"),
    P(lambda: ReLU().forward([1.0, -1.0]), TypeError, r"ReLU.forward: Z must be a numpy array",
      id="activations-forward-list"),
    P(lambda: Sigmoid().forward(ones(2, 2, dtype=complex)), TypeError, r"Sigmoid.forward: Z must hold real",
      id="activations-forward-complex"),
    P(lambda: ArcTan().forward(np.array(["a", "b"])), TypeError, r"ArcTan.forward: Z must hold real",
      id="activations-forward-str-dtype"),
    P(lambda: TanH().backward(ones(2, 3), ones(3, 2)),
      ValueError, r"TanH.backward: Z and dY must have the same shape",
      id="activations-backward-dY-shape"),
    P(lambda: SoftMax().backward(ones(2, 3), dY=np.array([1, 2], dtype=object)), TypeError,
      r"SoftMax.backward: dY must hold real", id="activations-backward-dY-object"),
    P(lambda: ReLU().backward(ones(2, 3), dY=None), TypeError, r"ReLU.backward: dY must be a numpy array",
      id="activations-backward-dY-None"),  # found here: returned an array of shape (3,)
    P(lambda: SoftMax().forward(ones(3, 0)), ValueError, r"SoftMax.forward: Z needs at least one class",
      id="activations-softmax-zero-classes"),  # found here: numpy's bare zero-size reduction error
    P(lambda: SoftMax().backward(np.array(1.0), np.array(1.0)), ValueError, r"SoftMax.backward: Z",
      id="activations-softmax-backward-rank-0"),

    # ---- losses
    P(lambda: initialize_loss("hinge"), ValueError, r"unknown loss 'hinge'.*valid names.*cross_entropy",
      id="losses-factory-unknown-name"),
    P(lambda: CrossEntropy().forward(ones(2, 3), ones(2, 4)), ValueError,
      r"CrossEntropy.forward: Y and Y_hat must have the same shape", id="losses-ce-shape-mismatch"),
    P(lambda: L2().backward(ones(4, 1), ones(4)), ValueError, r"L2.backward: Y and Y_hat",
      id="losses-l2-backward-shape-mismatch"),
    P(lambda: L2().forward(ones(0, 3), ones(0, 3)),
      ValueError, r"L2.forward: Y must hold at least one example",
      id="losses-l2-empty-batch"),
    P(lambda: CrossEntropy().forward(np.zeros((0, 3)), np.zeros((0, 3))), ValueError,
      r"CrossEntropy.forward: Y must hold at least one example", id="losses-ce-empty-batch"),
    P(lambda: CrossEntropy().backward([[0.0, 1.0]], ones(1, 2)), TypeError,
      r"CrossEntropy.backward: Y must be a numpy array", id="losses-ce-list"),
    P(lambda: L2().forward(ones(2, 2), ones(2, 2, dtype=complex)),
      TypeError, r"L2.forward: Y_hat must hold real",
      id="losses-l2-complex"),

    # ---- weights
    P(lambda: initialize_weights("glorot"),
      ValueError, r"unknown weight initializer 'glorot'.*xavier_uniform",
      id="weights-factory-unknown-name"),
    P(lambda: initialize_weights("he_normal", mode="fan_avg"),
      ValueError, r"mode must be 'fan_in' or 'fan_out'",
      id="weights-bad-mode"),
    P(lambda: initialize_weights("xavier_uniform", activation="swish"), ValueError, r"activation 'swish'",
      id="weights-unknown-activation-gain"),
    P(lambda: initialize_weights("xavier_uniform")((3, 0)),
      ValueError, r"shape must be a tuple of positive ints",
      id="weights-zero-size-shape"),
    P(lambda: initialize_weights("he_uniform")((3,)), ValueError, r"shape must be \(n_in, n_out\)",
      id="weights-rank-1-shape"),
    P(lambda: initialize_weights("identity")((2, 3, 4)), ValueError, r"'identity' needs a 2-D or 4-D shape",
      id="weights-identity-rank-3"),

    # ---- layers: factory and constructors
    P(lambda: initialize_layer("dense", n_out=3), ValueError, r"unknown layer 'dense'.*fully_connected",
      id="layers-factory-unknown-name"),
    P(lambda: initialize_layer("fully_connected"), ValueError, r"needs n_out",
      id="layers-factory-missing-n_out"),
    P(lambda: initialize_layer("conv2d", n_out=3), ValueError, r"needs kernel_shape",
      id="layers-factory-missing-kernel_shape"),
    P(lambda: FullyConnected(0), ValueError, r"FullyConnected: n_out must be >= 1",
      id="layers-fc-n_out-zero"),
    P(lambda: FullyConnected(-3), ValueError, r"FullyConnected: n_out must be >= 1",
      id="layers-fc-n_out-negative"),
    P(lambda: FullyConnected(2.5), TypeError, r"FullyConnected: n_out must be an integer",
      id="layers-fc-n_out-float"),
    P(lambda: FullyConnected(3, activation="swish"), ValueError, r"unknown activation 'swish'",
      id="layers-fc-unknown-activation"),
    P(lambda: FullyConnected(3, weight_init="glorot"), ValueError, r"weight initializer 'glorot'",
      id="layers-fc-unknown-weight_init"),
    P(lambda: Conv2D(0, 3), ValueError, r"Conv2D: n_out must be >= 1", id="layers-conv-n_out-zero"),
    P(lambda: Conv2D(4, kernel_shape=0), ValueError, r"Conv2D: kernel_shape must be >= 1",
      id="layers-conv-kernel_shape-zero"),
    P(lambda: Conv2D(4, (3, 3, 3)), ValueError, r"Conv2D: kernel_shape must be an int or a pair",
      id="layers-conv-kernel_shape-triple"),
    P(lambda: Conv2D(4, 3, stride=0), ValueError, r"Conv2D: stride must be >= 1",
      id="layers-conv-stride-zero"),
    P(lambda: Conv2D(4, 3, pad=-1), ValueError, r"Conv2D: pad must be >= 0", id="layers-conv-pad-negative"),
    P(lambda: Conv2D(4, 3, pad="full"), ValueError, r"Conv2D: pad must be 'same', 'valid' or an int",
      id="layers-conv-pad-bad-string"),
    P(lambda: Pool2D(2, mode="min"), ValueError, r"Pool2D: mode must be one of", id="layers-pool-bad-mode"),
    P(lambda: Pool2D(2, pad=2), ValueError, r"Pool2D: pad must be smaller than the kernel",
      id="layers-pool-pad-not-below-kernel"),
    P(lambda: Pool2D(0), ValueError, r"Pool2D: kernel_shape must be >= 1", id="layers-pool-kernel-zero"),
    P(lambda: Pool2D(2, stride=(1, 0)), ValueError, r"Pool2D: stride must be >= 1",
      id="layers-pool-stride-pair-zero"),
    P(lambda: Flatten(keep_dim="middle"), ValueError, r"Flatten: keep_dim must be one of",
      id="layers-flatten-bad-keep_dim"),

    # ---- layers: forward and backward
    P(lambda: FullyConnected(3).forward(ones(2, 3, 4)), ValueError,
      r"FullyConnected.forward: X must have 2 dimensions", id="layers-fc-forward-rank-3"),
    P(lambda: fc().forward(ones(2, 5)), ValueError, r"X has 5 features but the layer was built for n_in=4",
      id="layers-fc-forward-features-differ"),
    P(lambda: FullyConnected(3).forward([[1.0, 2.0]]),
      TypeError, r"FullyConnected.forward: X must be a numpy array",
      id="layers-fc-forward-list"),
    P(lambda: FullyConnected(3).forward(np.array([["a", "b"]])), TypeError,
      r"FullyConnected.forward: X must hold real numbers", id="layers-fc-forward-str-dtype"),
    # Found here: the error came from initialize_weights and left the layer built for n_in=0.
    P(lambda: FullyConnected(3).forward(ones(2, 0)), ValueError, r"FullyConnected.forward: .*X.*\(2, 0\)",
      id="layers-fc-forward-zero-features"),
    P(lambda: Conv2D(2, 3).forward(ones(1, 5, 5, 0)), ValueError, r"Conv2D.forward: .*X.*\(1, 5, 5, 0\)",
      id="layers-conv-forward-zero-channels"),
    P(lambda: Pool2D(2).forward(ones(1, 4, 4, 0)), ValueError, r"Pool2D.forward: .*X.*\(1, 4, 4, 0\)",
      id="layers-pool-forward-zero-channels"),
    P(lambda: Flatten().forward(ones(2, 3, 0)), ValueError, r"Flatten.forward: .*X.*\(2, 3, 0\)",
      id="layers-flatten-forward-zero-features"),
    P(lambda: Conv2D(2, 3).forward(ones(5, 5)), ValueError, r"Conv2D.forward: X must have 4 dimensions",
      id="layers-conv-forward-rank-2"),
    P(lambda: conv().forward(ones(1, 5, 5, 2)),
      ValueError, r"X has 2 channels but the layer was built for n_in=3",
      id="layers-conv-forward-channels-differ"),
    P(lambda: Conv2D(2, 5, pad="valid").forward(ones(1, 4, 8, 1)), ValueError,
      r"the kernel \(5 rows\) is larger than the padded input", id="layers-conv-kernel-larger-than-input"),
    P(lambda: Conv2D(2, 3).forward(ones(1, 5, 5, 1, dtype=complex)), TypeError,
      r"Conv2D.forward: X must hold real numbers", id="layers-conv-forward-complex"),
    P(lambda: Pool2D(3).forward(ones(1, 2, 2, 1)), ValueError, r"Pool2D.forward: the kernel \(3 rows\)",
      id="layers-pool-kernel-larger-than-padded-input"),
    P(lambda: pool().forward(np.array([[[[1]]]], dtype=object)),
      TypeError, r"Pool2D.forward: X must hold real",
      id="layers-pool-forward-object"),
    P(lambda: Flatten().forward(ones(3)), ValueError, r"Flatten.forward: X must have at least 2 dimensions",
      id="layers-flatten-forward-rank-1"),
    P(lambda: FullyConnected(3).backward(ones(2, 3)),
      ValueError, r"FullyConnected.backward: backward was called before forward",
      id="layers-fc-backward-before-forward"),
    P(lambda: Flatten().backward(ones(2, 3)),
      ValueError, r"Flatten.backward: backward was called before forward",
      id="layers-flatten-backward-before-forward"),
    P(lambda: fc().backward(ones(2, 4)),
      ValueError, r"FullyConnected.backward: dLdY must have the shape of the last output \(2, 3\)",
      id="layers-fc-backward-dLdY-shape"),
    P(lambda: conv().backward(ones(1, 5, 5, 3)), ValueError, r"Conv2D.backward: dLdY must have the shape",
      id="layers-conv-backward-dLdY-shape"),
    P(lambda: pool().backward(ones(1, 3, 3, 3)), ValueError, r"Pool2D.backward: dLdY must have the shape",
      id="layers-pool-backward-dLdY-shape"),
    P(lambda: fc().backward([[1.0, 2.0, 3.0]] * 2),
      TypeError, r"FullyConnected.backward: dLdY must be a numpy array",
      id="layers-fc-backward-dLdY-list"),
    P(lambda: FullyConnected(3).forward_with_param("V", ones(2, 4)), ValueError, r"unknown param_name 'V'",
      id="layers-forward_with_param-unknown-name"),

    # ---- optimizers
    P(lambda: initialize_optimizer("adagrad", lr=0.1), ValueError, r"unknown optimizer 'adagrad'.*adam.*sgd",
      id="optimizers-factory-unknown-name"),
    P(lambda: SGD(lr=-0.1), ValueError, r"SGD: lr must be > 0", id="optimizers-sgd-lr-negative"),
    P(lambda: SGD(lr=0), ValueError, r"SGD: lr must be > 0", id="optimizers-sgd-lr-zero"),
    P(lambda: SGD(lr="0.1"), TypeError, r"SGD: lr must be a number", id="optimizers-sgd-lr-string"),
    P(lambda: SGD(0.1, momentum=1.0), ValueError, r"SGD: momentum must be < 1",
      id="optimizers-sgd-momentum-1"),
    P(lambda: SGD(0.1, momentum=-0.1), ValueError, r"SGD: momentum must be >= 0",
      id="optimizers-sgd-momentum-negative"),
    P(lambda: SGD(0.1, clip_norm=-1), ValueError, r"SGD: clip_norm must be > 0",
      id="optimizers-clip_norm-negative"),
    P(lambda: Adam(beta1=1.0), ValueError, r"Adam: beta1 must be < 1", id="optimizers-adam-beta1-1"),
    P(lambda: Adam(beta2=-0.5), ValueError, r"Adam: beta2 must be >= 0", id="optimizers-adam-beta2-negative"),
    P(lambda: Adam(epsilon=0), ValueError, r"Adam: epsilon must be > 0", id="optimizers-adam-epsilon-zero"),
    P(lambda: initialize_optimizer("adam", lr=0.1, momentum=0.9),
      ValueError, r"momentum does not apply to Adam",
      id="optimizers-factory-momentum-for-adam"),
    P(lambda: SGD(0.1, lr_scheduler="cyclic"), ValueError, r"unknown scheduler 'cyclic'",
      id="optimizers-unknown-lr_scheduler"),
    P(lambda: sgd_update(grad=ones(3, 2)),
      ValueError, r"SGD.update: param_grad must have the shape of param \(2, 3\)",
      id="optimizers-update-grad-shape"),
    P(lambda: sgd_update(param_name=0), TypeError, r"SGD.update: param_name must be a non-empty string",
      id="optimizers-update-name-not-string"),
    P(lambda: sgd_update(param=[[1.0]]), TypeError, r"SGD.update: param must be a numpy array",
      id="optimizers-update-param-list"),
    P(lambda: sgd_update(epoch=-1), ValueError, r"epoch must be a number >= 0",
      id="optimizers-update-negative-epoch"),
    P(two_updates,
      ValueError, r"param 'W0' has shape \(3, 3\) but the optimizer's state for it has shape \(2, 3\)",
      id="optimizers-update-state-shape-changed"),

    # ---- schedulers
    P(lambda: initialize_scheduler("cyclic", 0.1), ValueError, r"unknown scheduler 'cyclic'.*exponential",
      id="schedulers-factory-unknown-name"),
    P(lambda: Exponential(0.1, decay=0), ValueError, r"Exponential: decay must be > 0",
      id="schedulers-decay-zero"),
    P(lambda: Exponential(0.1, decay=1.5), ValueError, r"Exponential: decay must be <= 1",
      id="schedulers-decay-above-1"),
    P(lambda: Exponential(0.1, stage_length=0), ValueError, r"Exponential: stage_length must be >= 1",
      id="schedulers-stage_length-zero"),
    P(lambda: Constant(-0.1), ValueError, r"Constant: lr must be > 0", id="schedulers-lr-negative"),
    P(lambda: Constant(0.1)(-1), ValueError, r"Constant: epoch must be a number >= 0",
      id="schedulers-epoch-negative"),
    P(lambda: Step(0.1, step_size=0), ValueError, r"Step: step_size must be >= 1",
      id="schedulers-step_size-zero"),
    P(lambda: Cosine(0.1, min_lr=0.2), ValueError, r"Cosine: min_lr must be <= 0.1",
      id="schedulers-min_lr-above-lr"),

    # ---- datasets
    P(lambda: initialize_dataset("cifar100"), ValueError, r"unknown dataset name 'cifar100'.*fashion_mnist",
      id="datasets-factory-unknown-name"),
    P(lambda: initialize_dataset("iris", batch_size=0),
      ValueError, r"initialize_dataset: batch_size must be >= 1",
      id="datasets-factory-batch_size-zero"),
    P(lambda: initialize_dataset("iris", dtype=np.int32),
      ValueError, r"dtype must be numpy.float32 or numpy.float64",
      id="datasets-factory-int-dtype"),
    P(lambda: initialize_dataset("iris", flatten="yes"), TypeError, r"flatten must be True or False",
      id="datasets-factory-flatten-string"),
    P(lambda: initialize_dataset("iris", data_dir="no_such_folder"),
      FileNotFoundError, r"initialize_dataset: the data folder no_such_folder does not exist",
      id="datasets-factory-missing-folder"),
    P(lambda: Data(ones(5, 2), batch_size=0), ValueError, r"Data: batch_size must be >= 1",
      id="datasets-data-batch_size-zero"),
    P(lambda: Data(ones(5, 2), labels=np.arange(4)), ValueError, r"data has 5 examples but labels has 4",
      id="datasets-data-labels-length"),
    P(lambda: Data(ones(5, 2), labels=[0, 1, 2, 0, 1]), TypeError, r"labels must be a numpy array",
      id="datasets-data-labels-list"),
    P(lambda: Data(ones(0, 2)), ValueError, r"data must hold at least one example", id="datasets-data-empty"),
    P(lambda: Data(ones(3, 2), labels=np.array([0.0, 1.0, 2.0])),
      TypeError, r"labels of shape \(batch,\) must be integer",
      id="datasets-data-float-class-indices"),
    P(lambda: Data(ones(3, 2), labels=np.array([0, -1, 2])),
      ValueError, r"class indices in labels must be >= 0",
      id="datasets-data-negative-class"),
    P(lambda: Data(ones(3, 2), labels=np.array([0, 1, 3]), out_dim=2),
      ValueError, r"labels holds class 3 but out_dim is 2",
      id="datasets-data-class-above-out_dim"),
    P(lambda: small_dataset(validation_set=ones(4, 5), validation_labels=np.arange(4) % 3), ValueError,
      r"validation_set examples have shape \(5,\)", id="datasets-dataset-validation-feature-shape"),
    P(lambda: small_dataset(validation_labels=np.arange(4) % 3), ValueError,
      r"validation_labels were given without a validation_set", id="datasets-dataset-labels-without-set"),
    P(lambda: Dataset(ones(6, 2), np.arange(6) % 2, batch_size=-1),
      ValueError, r"Dataset: batch_size must be >= 1",
      id="datasets-dataset-batch_size-negative"),
    P(lambda: set_state({"rng": None}), ValueError, r"Data.set_state: state lacks the keys",
      id="datasets-set_state-missing-keys"),

    # ---- utils
    P(lambda: check_gradients(lambda x: x, ones(3), ones(3, dtype=np.float32), ones(3)), TypeError,
      r"check_gradients: x must be float64", id="utils-check_gradients-float32-x"),
    P(lambda: check_gradients(lambda x: x, ones(2), ones(3), ones(3)), ValueError,
      r"check_gradients: grad must have the shape of x \(3,\)", id="utils-check_gradients-grad-shape"),
    P(lambda: check_gradients(lambda x: x, ones(3), ones(3), ones(3), h=0), ValueError,
      r"check_gradients: h must be > 0", id="utils-check_gradients-h-zero"),
    P(lambda: integers_to_one_hot(np.array([0.5, 1.0])),
      ValueError, r"integer_vector must be a 1-D array of integers",
      id="utils-one_hot-floats"),
    P(lambda: integers_to_one_hot(np.array([0, 3]), max_val=2),
      ValueError, r"max_val is 2 but the vector holds 3",
      id="utils-one_hot-max_val-too-small"),
    P(lambda: atomic_open("x.txt", "a").__enter__(), ValueError, r"atomic_open: mode must be 'w' or 'wb'",
      id="utils-atomic_open-append-mode"),
    P(lambda: make_rng(-1), TypeError, r"seed must be a non-negative integer",
      id="utils-make_rng-negative-seed"),

    # ---- logs
    P(lambda: logger(model_name="a/b"),
      ValueError, r"Logger: model_name must be a non-empty name without '/'",
      id="logs-model_name-slash"),
    P(lambda: logger(model_name=".."), ValueError, r"Logger: model_name", id="logs-model_name-dotdot"),
    P(lambda: logger(model_name=3), TypeError, r"Logger: model_name must be a str", id="logs-model_name-int"),
    P(lambda: logger(save="yes"), TypeError, r"Logger: save must be True or False", id="logs-save-string"),
    P(lambda: logger(overwrite=True, resume=True), ValueError, r"overwrite and resume cannot both be True",
      id="logs-overwrite-and-resume"),
    P(lambda: logger(save=True, resume=True), FileNotFoundError, r"load_log: no Logger history at .*run",
      id="logs-resume-without-log"),
    P(lambda: load_log("nowhere"), FileNotFoundError, r"load_log: no Logger history",
      id="logs-load_log-missing"),
    P(lambda: logger().truncate(-1), ValueError, r"Logger.truncate: n_epochs must be >= 0; got -1",
      id="logs-truncate-negative"),

    # ---- models
    P(lambda: initialize_model("", "cross_entropy", LAYERS, SGD_ARGS), TypeError,
      r"initialize_model: name must be a non-empty string", id="models-factory-empty-name"),
    P(lambda: model(loss="hinge"), ValueError, r"unknown loss 'hinge'", id="models-unknown-loss"),
    P(lambda: model(layer_args=LAYERS[0]), TypeError, r"layer_args must be a non-empty list of dicts",
      id="models-layer_args-dict-not-list"),
    P(lambda: model(layer_args=[]), TypeError, r"layer_args must be a non-empty list",
      id="models-layer_args-empty"),
    P(lambda: model(layer_args=[{"n_out": 3}]), ValueError, r"layer_args\[0\] has no 'name'",
      id="models-layer-without-name"),
    P(lambda: model(layer_args=[{"name": 3, "n_out": 3}]), TypeError, r"must be a string",
      id="models-layer-name-not-a-string"),  # found here: an AttributeError
    P(lambda: model(layer_args=[{"name": "fully_connected", "n_out": "3", "activation": "softmax"}]),
      TypeError, r"FullyConnected: n_out must be an integer; got '3'",
      id="models-output-n_out-string"),
    P(lambda: model(layer_args=[FullyConnected(3)]),
      TypeError, r"layer_args\[0\] must be a dict of initialize_layer arguments",
      id="models-layer-object-instead-of-dict"),
    P(lambda: model(layer_args=[{"name": "fully_connected", "n_out": 3, "units": 5}]), TypeError,
      r"layer_args\[0\].*units", id="models-layer-unknown-argument"),
    P(lambda: model(optimizer_args={"name": "SGD"}), ValueError, r"optimizer_args needs 'lr'",
      id="models-optimizer_args-missing-lr"),
    P(lambda: model(optimizer_args=[("name", "SGD")]), TypeError, r"optimizer_args must be a dict",
      id="models-optimizer_args-list"),
    P(lambda: model(seed=-1), ValueError, r"NeuralNetwork: seed must be >= 0", id="models-seed-negative"),
    P(lambda: model().train(small_dataset(), -1), ValueError, r"NeuralNetwork.train: epochs must be >= 0",
      id="models-train-negative-epochs"),
    P(lambda: model().train(small_dataset(), 2.5),
      TypeError, r"NeuralNetwork.train: epochs must be an integer",
      id="models-train-float-epochs"),
    P(lambda: model().train((ones(4, 3), ones(4, 3)), 1),
      TypeError, r"dataset must have .train and .validate",
      id="models-train-tuple-dataset"),
    P(lambda: model().test(small_dataset()), ValueError, r"dataset has no test split",
      id="models-test-no-test-split"),
    P(lambda: model().forward(ones(2, 3)), ValueError, r"output layer's n_out is not known",
      id="models-forward-before-output-size"),
    P(lambda: model().build(0), ValueError, r"NeuralNetwork.build: out_dim must be >= 1",
      id="models-build-out_dim-zero"),
    P(lambda: model().load("missing.npz"),
      FileNotFoundError, r"NeuralNetwork.load: no checkpoint at missing.npz",
      id="models-load-missing-file"),
    P(lambda: model(layer_args=[dict(LAYERS[0], n_out=5), LAYERS[1]]).load(trained_checkpoint()), ValueError,
      r"was saved from a network with layer_args", id="models-load-other-architecture"),
    P(lambda: model().load(truncated_checkpoint()), ValueError,
      r"NeuralNetwork.load: ck.npz is not a readable checkpoint", id="models-load-truncated-file"),
    P(lambda: model(optimizer_args={"name": "adam", "lr": 0.01}).load(trained_checkpoint()), ValueError,
      r"holds the state of a SGD optimizer; this network uses Adam", id="models-load-other-optimizer"),
    P(lambda: model().backward(ones(2, 3), ones(2, 4)), ValueError,
      r"CrossEntropy.forward: Y and Y_hat must have the same shape", id="models-backward-target-shape"),
    P(lambda: model().error(np.eye(2), ones(3, 2) / 2), ValueError,
      r"NeuralNetwork.error: target and out must have the same shape; got \(2, 2\) and \(3, 2\)",
      id="models-error-shapes-differ"),
    P(lambda: model().forward(ones(2, 3), mode="eval"), ValueError, r"output layer's n_out is not known",
      id="models-forward-checks-the-layers-first"),

    # ---- the scripts' options (cli.main, as train_ffnn.py / train_cnn.py run it)
    P(script(train_ffnn, "--lr", "-1"),
      ScriptExit, r"^exit 2: error: --lr: SGD: lr must be > 0; got -1.0$",
      id="scripts-ffnn-lr-negative"),
    P(script(train_ffnn, "--lr", "inf"),
      ScriptExit, r"^exit 2: error: --lr: SGD: lr must be finite; got inf$",
      id="scripts-ffnn-lr-inf"),
    P(script(train_ffnn, "--batch-size", "0"), ScriptExit, r"^exit 2: error: --batch-size: initialize_dataset: batch_size must be >= 1; got 0$",
      id="scripts-ffnn-batch-size-zero"),
    P(script(train_ffnn, "--epochs", "-1"), ScriptExit, r"^exit 2: error: --epochs: epochs must be >= 0; got -1$",
      id="scripts-ffnn-epochs-negative"),
    P(script(train_ffnn, "--momentum", "1"), ScriptExit, r"^exit 2: error: --momentum: SGD: momentum must be < 1; got 1.0$",
      id="scripts-ffnn-momentum-1"),
    P(script(train_ffnn, "--seed", "-2"), ScriptExit, r"^exit 2: error: --seed: NeuralNetwork: seed must be >= 0; got -2$",
      id="scripts-ffnn-seed-negative"),
    P(script(train_ffnn, "--hidden", "0"), ScriptExit, r"^exit 2: error: --hidden: FullyConnected: n_out must be >= 1; got 0$",
      id="scripts-ffnn-hidden-zero"),
    P(script(train_ffnn, "--dataset", "nope"), ScriptExit, r"^exit 2: error: --dataset: .*unknown dataset name 'nope'",
      id="scripts-ffnn-dataset-unknown"),
    P(script(train_ffnn, "--optimizer", "adagrad"), ScriptExit, r"^exit 2: error: unknown --optimizer 'adagrad'; valid names are \['adam'",
      id="scripts-ffnn-optimizer-unknown"),
    P(script(train_ffnn, "--sweep", "--resume"),
      ScriptExit, r"^exit 2: error: --sweep and --resume cannot be combined",
      id="scripts-ffnn-sweep-and-resume"),
    P(script(train_ffnn, "--overwrite", "--resume"),
      ScriptExit, r"^exit 2: error: --overwrite and --resume cannot be combined",
      id="scripts-ffnn-overwrite-and-resume"),
    P(script(train_ffnn, "--resume"), ScriptExit, r"^exit 2: error: --resume: no checkpoint",
      id="scripts-ffnn-resume-nothing"),
    P(script(train_ffnn, "--lr", "abc"),
      ScriptExit, r"^exit 2: error: argument --lr: invalid float value: 'abc'",
      id="scripts-ffnn-lr-not-a-number"),
    P(script(train_ffnn, "--dtype", "float16"),
      ScriptExit, r"^exit 2: error: argument --dtype: invalid choice",
      id="scripts-ffnn-dtype-float16"),
    P(script(train_ffnn, "--model-name", "a/b"), ScriptExit, r"^exit 2: error: --model-name: Logger: model_name",
      id="scripts-ffnn-model-name-slash"),
    P(script(train_cnn, "--hidden", "5"), ScriptExit, r"^exit 2: error: unrecognized arguments: --hidden",
      id="scripts-cnn-no-hidden-option"),
    P(script(train_cnn, "--dataset", "iris"),
      ScriptExit, r"^exit 2: error: Conv2D.forward: X must have 4 dimensions",
      id="scripts-cnn-dense-dataset"),
]


def test_the_table_is_large_and_distinct():
    ids = [param.id for param in BAD_INPUTS]
    assert len(ids) == len(set(ids))
    assert len(BAD_INPUTS) >= 60
    modules = {i.split("-")[0] for i in ids}
    assert modules >= {"activations", "losses", "weights", "layers", "optimizers", "schedulers",
                       "datasets", "utils", "logs", "models", "scripts"}


@pytest.mark.parametrize("call, error, fragment", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, fragment):
    with pytest.raises(error, match=fragment) as caught:
        call()
    assert type(caught.value) is error or error is ScriptExit or issubclass(type(caught.value), error)


# ---------------------------------------------------------------------------
# Property-based: random wrong shapes and dtypes
# ---------------------------------------------------------------------------

DTYPES = [np.int64, np.int8, np.bool_, np.float16, np.float32, np.float64, np.complex128,
          np.object_, np.str_]
COUNTER = {"examples": 0, "raised": 0, "accepted": 0}


def make_array(shape, dtype):
    size = int(np.prod(shape)) if shape else 1
    values = (np.arange(size) % 5 - 2) / 4  # small numbers: overflow is not the point
    if dtype is np.str_:
        return values.astype(str).reshape(shape)
    if dtype is np.object_:
        return values.astype(object).reshape(shape)
    return values.astype(dtype).reshape(shape)


def fresh_layers():
    """Unbuilt layers, each with an input it must accept."""
    image = ones(1, 5, 5, 3)
    return [(FullyConnected(3), ones(2, 4)), (FullyConnected(2, activation="softmax"), ones(2, 4)),
            (Conv2D(2, 3), image), (Conv2D(2, (2, 3), stride=2, pad="valid"), image),
            (Pool2D(2, stride=2), ones(1, 4, 4, 3)), (Pool2D(3, mode="average", pad="same"), image),
            (Flatten(), ones(2, 3, 4)), (Flatten(keep_dim="last"), ones(2, 3, 4))]


def built_layers():
    """Layers after one forward, each with that forward's input and a matching dLdY."""
    return [(forwarded(FullyConnected(3), ones(2, 4)), ones(2, 4), ones(2, 3)),
            (forwarded(Conv2D(2, 3), ones(1, 5, 5, 3)), ones(1, 5, 5, 3), ones(1, 5, 5, 2)),
            (forwarded(Pool2D(2, stride=2), ones(1, 4, 4, 3)), ones(1, 4, 4, 3), ones(1, 2, 2, 3)),
            (forwarded(Flatten(), ones(2, 3, 4)), ones(2, 3, 4), ones(2, 12))]


shapes = st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=5).map(tuple)
arrays = st.builds(make_array, shapes, st.sampled_from(DTYPES))
# Inputs that still are a "good" shape for some layer: make them common.
near_good = st.sampled_from([(2, 4), (2, 5), (1, 5, 5, 3), (1, 5, 5, 2), (1, 4, 4, 3), (2, 3, 4),
                             (2, 0), (0, 4), (1, 1, 1, 3), (1, 5, 5, 0), (0, 4, 4, 3)])
inputs = st.one_of(arrays, st.builds(make_array, near_good, st.sampled_from(DTYPES)))


def _names_its_source(error, names):
    return any(name in str(error) for name in names)


def _check(call, names, still_usable=None, then=None):
    """Run ``call``: only ValueError/TypeError may escape, naming one of ``names``;
    after a refusal, ``still_usable()`` (a good call on the same object) must work;
    after an acceptance, ``then(result)`` must work."""
    COUNTER["examples"] += 1
    try:
        result = call()
    except (ValueError, TypeError) as error:
        COUNTER["raised"] += 1
        assert _names_its_source(error, names), f"{type(error).__name__}: {error}"
        if still_usable is not None:
            still_usable()
    else:
        COUNTER["accepted"] += 1
        if then is not None:
            then(result)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=inputs, which=st.integers(0, 7), built=st.booleans())
def test_layer_forward_lets_only_value_or_type_errors_escape(X, which, built):
    if built:
        layer, good, _ = built_layers()[which % 4]
    else:
        layer, good = fresh_layers()[which]

    def backward_of(Y):
        # An input that forward accepted must also go backward, to X's shape.
        dX = layer.backward(np.ones(Y.shape, dtype=Y.dtype))
        assert dX.shape == X.shape

    _check(lambda: layer.forward(X), [type(layer).__name__],
           still_usable=lambda: layer.forward(good), then=backward_of)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dLdY=inputs, which=st.integers(0, 3))
def test_layer_backward_lets_only_value_or_type_errors_escape(dLdY, which):
    layer, _, good = built_layers()[which]
    _check(lambda: layer.backward(dLdY), [type(layer).__name__],
           still_usable=lambda: layer.backward(good))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(Z=inputs, dY=inputs, name=st.sampled_from(sorted(ACTIVATIONS)), backward=st.booleans())
def test_activations_let_only_value_or_type_errors_escape(Z, dY, name, backward):
    activation = initialize_activation(name)
    label = type(activation).__name__
    if backward:
        _check(lambda: activation.backward(Z, dY=dY), [label])
    else:
        _check(lambda: activation.forward(Z), [label])


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(Y=inputs, Y_hat=inputs, name=st.sampled_from(["cross_entropy", "l2"]), backward=st.booleans())
def test_losses_let_only_value_or_type_errors_escape(Y, Y_hat, name, backward):
    loss = initialize_loss(name)
    method = loss.backward if backward else loss.forward
    _check(lambda: method(Y, Y_hat), [type(loss).__name__])


@pytest.mark.parametrize("layer, empty, good", [
    (FullyConnected(3), ones(2, 0), ones(2, 4)),
    (Conv2D(2, 3), ones(1, 5, 5, 0), ones(1, 5, 5, 3)),
], ids=["FullyConnected", "Conv2D"])
def test_layer_is_still_usable_after_a_refused_zero_feature_input(layer, empty, good):
    # Found here: the refused input left the layer built for n_in=0 without parameters.
    with pytest.raises(ValueError):
        layer.forward(empty)
    layer.forward(good)


@pytest.mark.parametrize("layer, X", [
    (FullyConnected(3), ones(0, 4)),
    (Conv2D(2, 3, stride=2), ones(0, 5, 5, 3)),
    (Pool2D(2, stride=2), ones(0, 4, 4, 3)), (Flatten(), ones(0, 4, 4, 1)),
    (Flatten(keep_dim="last"), ones(0, 4, 4, 1)),
], ids=lambda v: type(v).__name__ if not isinstance(v, np.ndarray) else str(v.shape))
def test_an_empty_batch_is_not_a_bad_input(layer, X):
    # Found here: Conv2D and Flatten raised numpy's bare "cannot reshape array of size 0".
    Y = layer.forward(X)
    assert Y.shape[0] == 0 and Y.size == 0
    dX = layer.backward(np.zeros(Y.shape))
    assert dX.shape == X.shape


def test_report_the_number_of_hypothesis_examples(capsys):
    # Runs after the property tests in file order; -s or the captured output shows it.
    with capsys.disabled():
        print(f"\nhypothesis: {COUNTER['examples']} examples, {COUNTER['raised']} raised "
              f"ValueError/TypeError, {COUNTER['accepted']} accepted")
    assert COUNTER["examples"] > 0
