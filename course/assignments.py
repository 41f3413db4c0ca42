"""The assignments: which methods students write, and the tests that grade them.

A test is named for the one method it grades ("Conv2D.backward"). Its
``cases(rng)`` draws a few inputs afresh from a seeded generator, and its
``run(nn, case)`` calls the method on one case and returns the outputs to
compare, ``{name: array}``. ``nn`` holds the modules ``activations``,
``layers``, ``losses`` and ``models`` of one package: the reference in the
grader's process, the student's in a subprocess. A test touches only the
method it grades: parameters and the cache keys the course API fixes are set by
hand, and the model's tests run on the stand-in layers and loss below.

To add an assignment, add an ``Assignment`` to ``ASSIGNMENTS``: the methods to
stub (``"Class.method"`` in ``module.py``) and the tests with their points.
"""

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Test:
    name: str  # the method at fault when it fails, and an optional note: "Pool2D.backward (ties)"
    points: int
    cases: object  # cases(rng) -> list of dicts
    run: object  # run(nn, case) -> dict of outputs
    hidden: bool = False  # graded by the autograder only, shown once grades are published
    runs: str = ""  # the student's method this test runs before the one it grades


@dataclass(frozen=True)
class Assignment:
    name: str
    methods: dict  # module file -> ["Class.method", ...] that students write
    tests: tuple


# -- inputs --------------------------------------------------------------------------------

def one_hot(rng, batch, classes):
    return np.eye(classes)[rng.integers(0, classes, size=batch)]


def probabilities(rng, batch, classes):
    P = rng.uniform(0.1, 1.0, size=(batch, classes))
    return P / P.sum(axis=1, keepdims=True)


def with_zeros(rng, shape):
    """Normal numbers with about a fifth exactly 0 (ReLU'(0) is 1 in the course)."""
    Z = rng.standard_normal(shape)
    Z[rng.random(shape) < 0.2] = 0.0
    return Z


def dense_layer(nn, case):
    """A FullyConnected layer with ``W`` and ``b`` set by hand, as graders do."""
    layer = nn.layers.FullyConnected(n_out=case["W"].shape[1], activation=case["activation"])
    layer.n_in = case["W"].shape[0]
    layer.parameters = OrderedDict(W=case["W"].copy(), b=case["b"].copy())
    layer.gradients = OrderedDict(W=np.zeros_like(case["W"]), b=np.zeros_like(case["b"]))
    return layer


def conv_layer(nn, case):
    kh, kw, c_in, c_out = case["W"].shape
    layer = nn.layers.Conv2D(n_out=c_out, kernel_shape=(kh, kw), activation=case["activation"],
                             stride=case["stride"], pad=case["pad"])
    layer.n_in = c_in
    layer.parameters = OrderedDict(W=case["W"].copy(), b=case["b"].copy())
    layer.gradients = OrderedDict(W=np.zeros_like(case["W"]), b=np.zeros_like(case["b"]))
    return layer


def batchnorm_layer(nn, case):
    layer = nn.layers.BatchNorm1D(eps=1e-8, momentum=0.9)
    layer.n_in = layer.n_out = case["gamma"].shape[1]
    layer.parameters = OrderedDict(gamma=case["gamma"].copy(), beta=case["beta"].copy())
    layer.gradients = OrderedDict(gamma=np.zeros_like(case["gamma"]), beta=np.zeros_like(case["beta"]))
    layer.cache = OrderedDict((key, case[key].copy()) for key in
                              ("X", "X_hat", "mu", "var", "running_mu", "running_var") if key in case)
    return layer


# -- activations and losses ----------------------------------------------------------------

def activation_cases(rng):
    shapes = [(4, 5), (1, 7), (2, 3, 3, 2)]
    return [{"Z": with_zeros(rng, shape), "dY": rng.standard_normal(shape)} for shape in shapes]


def softmax_cases(rng):
    cases = [{"Z": rng.standard_normal((batch, classes)) * scale}
             for batch, classes, scale in [(5, 4, 1), (3, 10, 3), (1, 2, 1), (4, 6, 1000)]]
    for case in cases:  # the last has logits near +-1000: exp overflows without the max shift
        case["dY"] = rng.standard_normal(case["Z"].shape)
    return cases


def forward_of(cls):
    def run(nn, case):
        Z = case["Z"].copy()
        Y = getattr(nn.activations, cls)().forward(Z)
        return {"Y": Y, "Z after forward (it must not change)": Z}
    return run


def backward_of(cls):
    def run(nn, case):
        Z, dY = case["Z"].copy(), case["dY"].copy()
        dZ = getattr(nn.activations, cls)().backward(Z, dY=dY)
        return {"dZ": dZ, "Z after backward (it must not change)": Z, "dY after backward": dY}
    return run


def cross_entropy_cases(rng):
    return [{"Y": one_hot(rng, batch, classes), "Y_hat": probabilities(rng, batch, classes)}
            for batch, classes in [(6, 4), (1, 3), (20, 10)]]


def cross_entropy_forward(nn, case):
    return {"loss": nn.losses.CrossEntropy("cross_entropy").forward(case["Y"], case["Y_hat"])}


def cross_entropy_backward(nn, case):
    return {"dL/dY_hat": nn.losses.CrossEntropy("cross_entropy").backward(case["Y"], case["Y_hat"])}


# -- FullyConnected ------------------------------------------------------------------------

def dense_cases(rng):
    cases = []
    for batch, n_in, n_out, activation in [(5, 4, 3, "linear"), (1, 6, 2, "tanh"), (8, 3, 7, "sigmoid")]:
        X = rng.standard_normal((batch, n_in))
        W = rng.standard_normal((n_in, n_out))
        b = rng.standard_normal((1, n_out))
        cases.append({"activation": activation, "X": X, "W": W, "b": b,
                      "dLdY": rng.standard_normal((batch, n_out))})
    return cases


def dense_init_cases(rng):
    return [{"weight_init": init, "X_shape": (int(rng.integers(1, 9)), n_in), "n_out": n_out}
            for init, n_in, n_out in [("ones", 3, 5), ("xavier_uniform", 40, 30), ("zeros", 7, 1)]]


def after_init(layer, X_shape):
    """What ``layer._init_parameters(X_shape)`` set, but ``W``'s values."""
    layer._init_parameters(X_shape)
    return {"n_in": layer.n_in, "shape of parameters['W']": np.shape(layer.parameters["W"]),
            "parameters['b']": layer.parameters["b"], "gradients['W']": layer.gradients["W"],
            "gradients['b']": layer.gradients["b"]}


def dense_init(nn, case):
    layer = nn.layers.FullyConnected(n_out=case["n_out"], activation="tanh",
                                     weight_init=case["weight_init"])
    outputs = after_init(layer, case["X_shape"])
    W = layer.parameters["W"]
    if case["weight_init"] == "xavier_uniform":  # random: its range and spread, not its values
        n_in, n_out = case["X_shape"][1], case["n_out"]
        bound = 5 / 3 * np.sqrt(6 / (n_in + n_out))  # tanh's gain
        outputs["parameters['W'] drawn from U(-bound, bound)"] = float(
            np.all(np.abs(W) <= bound) and np.std(W) > bound / 4)
    else:
        outputs["parameters['W']"] = W
    return outputs


def dense_forward(nn, case):
    layer = dense_layer(nn, case)
    Y = layer.forward(case["X"].copy())
    return {"Y": Y, "cache['X']": layer.cache["X"], "cache['Z']": layer.cache["Z"]}


def dense_backward(nn, case):
    layer = dense_layer(nn, case)
    layer.cache = OrderedDict(X=case["X"].copy(), Z=case["X"] @ case["W"] + case["b"])
    dX = layer.backward(case["dLdY"].copy())
    return {"dL/dX": dX, "gradients['W']": layer.gradients["W"], "gradients['b']": layer.gradients["b"]}


# -- Conv2D, Pool2D, Flatten, BatchNorm1D --------------------------------------------------

CONV_GEOMETRIES = [  # kernel_shape, stride, pad, activation
    ((3, 3), 1, "same", "linear"), ((3, 3), 2, "same", "tanh"), ((2, 2), 1, "same", "linear"),
    ((4, 4), 3, "valid", "linear"), ((3, 2), (2, 1), 1, "tanh"), ((1, 1), 1, "valid", "linear"),
]


def conv_cases(rng):
    cases = []
    for kernel, stride, pad, activation in CONV_GEOMETRIES:
        batch, rows, cols, c_in, c_out = rng.integers([1, 5, 5, 1, 1], [4, 9, 9, 4, 5])
        cases.append({"kernel_shape": kernel, "stride": stride, "pad": pad, "activation": activation,
                      "X": rng.standard_normal((batch, rows, cols, c_in)),
                      "W": rng.standard_normal((*kernel, c_in, c_out)), "b": rng.standard_normal((1, c_out))})
    return cases


def conv_init_cases(rng):
    return [{"weight_init": init, "kernel_shape": kernel, "n_out": n_out,
             "X_shape": (int(rng.integers(1, 5)), 6, 6, c_in)}
            for init, kernel, c_in, n_out in [("ones", (3, 3), 2, 4), ("zeros", (2, 3), 1, 3)]]


def conv_init(nn, case):
    layer = nn.layers.Conv2D(n_out=case["n_out"], kernel_shape=case["kernel_shape"],
                             weight_init=case["weight_init"])
    return {**after_init(layer, case["X_shape"]), "parameters['W']": layer.parameters["W"]}


def conv_forward(nn, case):
    return {"Y": conv_layer(nn, case).forward(case["X"].copy())}


def conv_backward(nn, case):
    layer = conv_layer(nn, case)
    Y = layer.forward(case["X"].copy())
    dLdY = np.random.default_rng(Y.size).standard_normal(Y.shape)
    dX = layer.backward(dLdY)
    return {"dL/dX": dX, "gradients['W']": layer.gradients["W"], "gradients['b']": layer.gradients["b"]}


POOL_GEOMETRIES = [  # kernel_shape, stride, pad
    (2, 2, 0), (3, 1, 0), (3, 2, 1), (2, 1, "same"), ((2, 3), (1, 2), 0), (3, 3, "valid"),
]


def pool_cases(rng, ties):
    """Max and average pooling on each geometry; with ``ties`` the inputs are
    small integers, so windows often hold equal maxima."""
    cases = []
    for mode in ("max", "average"):
        for kernel, stride, pad in POOL_GEOMETRIES:
            shape = tuple(rng.integers([1, 5, 5, 1], [3, 9, 9, 4]))
            X = (rng.integers(-2, 3, size=shape).astype(float) if ties
                 else rng.permutation(np.prod(shape)).reshape(shape) * 0.1 - 1)
            cases.append({"mode": mode, "kernel_shape": kernel, "stride": stride, "pad": pad, "X": X})
    return cases


def pool_forward(nn, case):
    layer = nn.layers.Pool2D(kernel_shape=case["kernel_shape"], mode=case["mode"],
                             stride=case["stride"], pad=case["pad"])
    return {"Y": layer.forward(case["X"].copy())}


def pool_backward(nn, case):
    layer = nn.layers.Pool2D(kernel_shape=case["kernel_shape"], mode=case["mode"],
                             stride=case["stride"], pad=case["pad"])
    Y = layer.forward(case["X"].copy())
    dLdY = np.random.default_rng(Y.size).standard_normal(Y.shape)
    return {"dL/dX": layer.backward(dLdY)}


def flatten_cases(rng):
    return [{"X": rng.standard_normal(shape)} for shape in [(2, 3, 4, 5), (1, 6, 6, 1), (3, 5)]]


def flatten_forward(nn, case):
    return {"Y": nn.layers.Flatten().forward(case["X"].copy())}


def flatten_backward(nn, case):
    layer = nn.layers.Flatten()
    Y = layer.forward(case["X"].copy())
    return {"dL/dX": layer.backward(np.arange(Y.size, dtype=float).reshape(Y.shape))}


def batchnorm_cases(rng):
    cases = []
    for batch, n_in, mode in [(6, 4, "train"), (2, 3, "train"), (10, 5, "test")]:
        X = 2 * rng.standard_normal((batch, n_in)) + rng.standard_normal(n_in)
        mu, var = X.mean(axis=0, keepdims=True), X.var(axis=0, keepdims=True)
        cases.append({"mode": mode, "X": X, "X_hat": (X - mu) / np.sqrt(var + 1e-8), "mu": mu, "var": var,
                      "gamma": rng.uniform(0.5, 2, (1, n_in)), "beta": rng.standard_normal((1, n_in)),
                      "running_mu": rng.standard_normal((1, n_in)),
                      "running_var": rng.uniform(0.5, 2, (1, n_in)),
                      "dLdY": rng.standard_normal((batch, n_in))})
    return cases


def batchnorm_forward(nn, case):
    layer = batchnorm_layer(nn, {key: case[key] for key in ("gamma", "beta", "running_mu", "running_var")})
    Y = layer.forward(case["X"].copy(), mode=case["mode"])
    outputs = {"Y": Y, "cache['running_mu']": layer.cache["running_mu"],
               "cache['running_var']": layer.cache["running_var"]}
    if case["mode"] == "train":  # backward reads these (the course fixes the keys)
        outputs.update({f"cache[{key!r}]": layer.cache[key] for key in ("X_hat", "mu", "var")})
    return outputs


def batchnorm_backward(nn, case):
    layer = batchnorm_layer(nn, case)
    dX = layer.backward(case["dLdY"].copy())
    return {"dL/dX": dX, "gradients['gamma']": layer.gradients["gamma"],
            "gradients['beta']": layer.gradients["beta"]}


# -- NeuralNetwork, on stand-in layers and loss --------------------------------------------

class StandInLayer:
    """``Y = tanh(X @ A)``: a layer that is not the student's, so the model's tests
    grade the model alone. It keeps every ``dL/dY`` its backward receives."""

    takes_mode = False
    input_gradient = True

    def __init__(self, A):
        self.A, self.received = A, []
        self.parameters, self.gradients, self.cache = OrderedDict(), OrderedDict(), OrderedDict()

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X, mode="test"):
        self.cache["Y"] = np.tanh(X @ self.A)
        return self.cache["Y"]

    def backward(self, dLdY):
        self.received.append(dLdY)
        return (dLdY * (1 - self.cache["Y"] ** 2)) @ self.A.T


class StandInLoss:
    """A weighted half squared error, ``sum(w * (Y_hat - Y)**2) / (2m)``."""

    name = "l2"

    def __init__(self, w):
        self.w = w

    def __call__(self, Y, Y_hat):
        return self.forward(Y, Y_hat)

    def forward(self, Y, Y_hat):
        return float(np.sum(self.w * (Y_hat - Y) ** 2) / (2 * len(Y)))

    def backward(self, Y, Y_hat):
        return self.w * (Y_hat - Y) / len(Y)


def model_cases(rng):
    cases = []
    for widths in [(4, 5, 3), (2, 6, 6, 2), (3, 1)]:
        batch = int(rng.integers(1, 7))
        cases.append({"A": [rng.standard_normal(pair) for pair in zip(widths[:-1], widths[1:])],
                      "w": rng.uniform(0.5, 2, widths[-1]),
                      "X": rng.standard_normal((batch, widths[0])),
                      "Y": rng.standard_normal((batch, widths[-1]))})
    return cases


def stand_in_model(nn, case):
    model = nn.models.NeuralNetwork(
        loss="l2", layer_args=[{"name": "fully_connected", "n_out": A.shape[1]} for A in case["A"]],
        optimizer_args={"name": "SGD", "lr": 0.1})
    model.layers = [StandInLayer(A) for A in case["A"]]
    model.loss = StandInLoss(case["w"])
    return model


def model_forward(nn, case):
    return {"output": stand_in_model(nn, case).forward(case["X"].copy())}


def model_backward(nn, case):
    model = stand_in_model(nn, case)
    out = case["X"]
    for layer in model.layers:  # the forward pass, without the student's forward
        out = layer.forward(out)
    loss = model.backward(case["Y"].copy(), out.copy())
    outputs = {"returned loss": loss}
    for i, layer in enumerate(model.layers):
        outputs[f"dL/dY received by layer {i} (once)"] = np.array(layer.received)
    return outputs


def model_predict(nn, case):
    Y_hat, loss = stand_in_model(nn, case).predict(case["X"].copy(), case["Y"].copy())
    return {"Y_hat": Y_hat, "loss": loss}


# -- the assignments -----------------------------------------------------------------------

MLP_METHODS = {
    "activations.py": ["ReLU.forward", "ReLU.backward", "SoftMax.forward", "SoftMax.backward"],
    # Conv2D._init_parameters repeats FullyConnected's: stubbed too, graded in cnn
    "layers.py": ["FullyConnected._init_parameters", "FullyConnected.forward", "FullyConnected.backward",
                  "Conv2D._init_parameters"],
    "losses.py": ["CrossEntropy.forward", "CrossEntropy.backward"],
    "models.py": ["NeuralNetwork.forward", "NeuralNetwork.backward", "NeuralNetwork.predict"],
}
MLP_TESTS = (
    Test("ReLU.forward", 2, activation_cases, forward_of("ReLU")),
    Test("ReLU.backward", 2, activation_cases, backward_of("ReLU")),
    Test("SoftMax.forward", 3, softmax_cases, forward_of("SoftMax")),
    Test("SoftMax.backward", 4, softmax_cases, backward_of("SoftMax")),
    Test("FullyConnected._init_parameters", 2, dense_init_cases, dense_init),
    Test("FullyConnected.forward", 3, dense_cases, dense_forward),
    Test("FullyConnected.backward", 5, dense_cases, dense_backward),
    Test("CrossEntropy.forward", 2, cross_entropy_cases, cross_entropy_forward),
    Test("CrossEntropy.backward", 2, cross_entropy_cases, cross_entropy_backward),
    Test("NeuralNetwork.forward", 2, model_cases, model_forward),
    Test("NeuralNetwork.backward", 3, model_cases, model_backward),
    Test("NeuralNetwork.predict", 2, model_cases, model_predict),
)
CNN_METHODS = {
    **MLP_METHODS,
    "layers.py": MLP_METHODS["layers.py"] + [
        "Conv2D.forward", "Conv2D.backward", "Pool2D.forward", "Pool2D.backward",
        "Flatten.forward", "Flatten.backward", "BatchNorm1D.forward", "BatchNorm1D.backward"],
}
CNN_TESTS = MLP_TESTS + (
    Test("Conv2D._init_parameters", 1, conv_init_cases, conv_init),
    Test("Conv2D.forward", 5, conv_cases, conv_forward),
    Test("Conv2D.backward", 8, conv_cases, conv_backward, runs="Conv2D.forward"),
    Test("Pool2D.forward", 4, lambda rng: pool_cases(rng, ties=True), pool_forward),
    Test("Pool2D.backward", 5, lambda rng: pool_cases(rng, ties=False), pool_backward, runs="Pool2D.forward"),
    Test("Pool2D.backward (ties: the first maximum of each window wins)", 1,
         lambda rng: pool_cases(rng, ties=True), pool_backward, hidden=True, runs="Pool2D.forward"),
    Test("Flatten.forward", 1, flatten_cases, flatten_forward),
    Test("Flatten.backward", 1, flatten_cases, flatten_backward, runs="Flatten.forward"),
    Test("BatchNorm1D.forward", 3, batchnorm_cases, batchnorm_forward),
    Test("BatchNorm1D.backward", 4, batchnorm_cases, batchnorm_backward),
)

ASSIGNMENTS = {
    "mlp": Assignment("mlp", MLP_METHODS, MLP_TESTS),
    "cnn": Assignment("cnn", CNN_METHODS, CNN_TESTS),
}
