"""Optimizers: ``SGD`` (momentum), ``RMSProp``, ``Adam`` and ``AdamW``, built by
name with :func:`initialize_optimizer`. ``NeuralNetwork.update`` applies
``param -= optimizer.update(...)`` to each parameter."""

import numpy as np

from .checks import check_applicable, check_array, check_number, describe, lookup
from .schedulers import SCHEDULERS, Scheduler


class Optimizer:
    """Base class: learning-rate schedule, gradient clipping and state. The
    arguments are :func:`initialize_optimizer`'s; ``options`` names a subclass's
    own hyperparameters and ``state_keys`` the arrays it keeps per parameter."""

    options = ()
    state_keys = ()

    def __init__(self, lr, lr_scheduler="constant", clip_norm=None,
                 lr_decay=None, stage_length=None, staircase=None):
        where = type(self).__name__
        self.lr = check_number(lr, "lr", where, minimum=0, strict=True)
        self.lr_scheduler = _schedule(where, self.lr, lr_scheduler, lr_decay=lr_decay,
                                      stage_length=stage_length, staircase=staircase)
        self.clip_norm = (None if clip_norm is None
                          else check_number(clip_norm, "clip_norm", where, minimum=0, strict=True))
        self.state = {}

    def update(self, param_name, param, param_grad, epoch):
        """Return the step ``delta`` for ``param``; the caller does ``param -= delta``.
        ``param_name`` is a stable name such as "W0" (parameter name plus layer
        index; the state, velocities or moments, is kept per name),
        ``param_grad = dL/dparam`` (the shape of ``param``, which is not
        modified), and ``epoch`` (finished epochs) sets the rate."""
        where = f"{type(self).__name__}.update"
        if not isinstance(param_name, str) or not param_name:
            raise TypeError(f"{where}: param_name must be a non-empty string; got {describe(param_name)}")
        param = check_array(param, "param", where)
        grad = check_array(param_grad, "param_grad", where)
        if param.shape != grad.shape:
            raise ValueError(f"{where}: param_grad must have the shape of param {param.shape}; "
                             f"got {grad.shape}")
        lr = self.lr_scheduler(epoch)
        state = self.state.setdefault(param_name, {})
        for key, buffer in state.items():
            if key != "t" and buffer.shape != param.shape:
                raise ValueError(f"{where}: param {param_name!r} has shape {param.shape} but the "
                                 f"optimizer's state for it has shape {buffer.shape}")
        if self.clip_norm is not None and np.linalg.norm(grad) > self.clip_norm:
            grad = grad * (self.clip_norm / np.linalg.norm(grad))
        return self._delta(state, param, grad, lr)

    def _delta(self, state, param, grad, lr):
        """The step for one parameter, updating its ``state`` (a dict of arrays);
        a new array, never one of the state's own."""
        raise NotImplementedError

    def state_dict(self):
        """A flat ``{"W0.velocity": array, ...}`` copy of the optimizer state."""
        return {f"{name}.{key}": np.array(value, copy=True)
                for name, buffers in self.state.items() for key, value in buffers.items()}

    def load_state_dict(self, state):
        """Restore a state from ``state_dict()``'s output (every key
        ``"<param_name>.<buffer>"``, all ``state_keys`` for each name)."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{where}: state must be a dict; got {describe(state)}")
        restored = {}
        for flat_key, value in state.items():
            name, _, key = flat_key.rpartition(".") if isinstance(flat_key, str) else ("", "", "")
            if not name:
                raise ValueError(f"{where}: keys look like 'W0.velocity'; got {flat_key!r}")
            if key not in self.state_keys:
                raise ValueError(f"{where}: {type(self).__name__} keeps {list(self.state_keys)} "
                                 f"per parameter; got {flat_key!r}")
            restored.setdefault(name, {})[key] = np.array(value, copy=True)
        for name, buffers in restored.items():
            if missing := [key for key in self.state_keys if key not in buffers]:
                raise ValueError(f"{where}: the state of {name!r} lacks {missing}")
        self.state = restored

    def __repr__(self):
        options = "".join(f", {key}={getattr(self, key)}" for key in self.options)
        return (f"{type(self).__name__}(lr={self.lr}{options}, lr_scheduler={self.lr_scheduler!r}, "
                f"clip_norm={self.clip_norm})")


def _fraction(value, name, where):
    """A number in [0, 1): a momentum or a decay rate of a running mean."""
    value = check_number(value, name, where, minimum=0)
    if value >= 1:
        raise ValueError(f"{where}: {name} must be < 1; got {value}")
    return value


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum:
    ``delta = momentum * previous_delta + lr * grad``. State: ``velocity``."""

    options = ("momentum",)
    state_keys = ("velocity",)

    def __init__(self, lr, lr_scheduler="constant", momentum=0.0, clip_norm=None, **schedule):
        super().__init__(lr, lr_scheduler, clip_norm, **schedule)
        self.momentum = _fraction(momentum, "momentum", "SGD")

    def _delta(self, state, param, grad, lr):
        if self.momentum == 0:
            return lr * grad
        state["velocity"] = self.momentum * state.get("velocity", 0.0) + lr * grad
        return state["velocity"].copy()


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton, lecture 6.5, 2012): a running mean of the
    squared gradient scales each entry's step, ``mean_square = rho * mean_square
    + (1 - rho) * grad**2`` (from zeros, not bias-corrected) and
    ``delta = lr * grad / (sqrt(mean_square) + epsilon)``. State: ``mean_square``."""

    options = ("rho", "epsilon")
    state_keys = ("mean_square",)

    def __init__(self, lr=0.001, lr_scheduler="constant", rho=0.9, epsilon=1e-8, clip_norm=None,
                 **schedule):
        super().__init__(lr, lr_scheduler, clip_norm, **schedule)
        self.rho = _fraction(rho, "rho", "RMSProp")
        self.epsilon = check_number(epsilon, "epsilon", "RMSProp", minimum=0, strict=True)

    def _delta(self, state, param, grad, lr):
        state["mean_square"] = self.rho * state.get("mean_square", 0.0) + (1 - self.rho) * (grad * grad)
        return lr * grad / (np.sqrt(state["mean_square"]) + self.epsilon)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1): ``m = beta1 * m + (1 - beta1) * grad``,
    ``v = beta2 * v + (1 - beta2) * grad**2`` and ``delta = lr * m_hat /
    (sqrt(v_hat) + epsilon)`` with ``m_hat = m / (1 - beta1**t)``,
    ``v_hat = v / (1 - beta2**t)``, ``t`` the parameter's update count.
    State: ``m``, ``v``, ``t``."""

    options = ("beta1", "beta2", "epsilon")
    state_keys = ("m", "v", "t")

    def __init__(self, lr=0.001, lr_scheduler="constant", beta1=0.9, beta2=0.999, epsilon=1e-8,
                 clip_norm=None, **schedule):
        super().__init__(lr, lr_scheduler, clip_norm, **schedule)
        where = type(self).__name__
        self.beta1 = _fraction(beta1, "beta1", where)
        self.beta2 = _fraction(beta2, "beta2", where)
        self.epsilon = check_number(epsilon, "epsilon", where, minimum=0, strict=True)

    def _delta(self, state, param, grad, lr):
        t = state["t"] = state.get("t", 0) + 1
        state["m"] = self.beta1 * state.get("m", 0.0) + (1 - self.beta1) * grad
        state["v"] = self.beta2 * state.get("v", 0.0) + (1 - self.beta2) * (grad * grad)
        m_hat = state["m"] / (1 - self.beta1 ** float(t))
        v_hat = state["v"] / (1 - self.beta2 ** float(t))
        return lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2,
    as PyTorch's ``AdamW``): ``delta = lr * (m_hat / (sqrt(v_hat) + epsilon) +
    weight_decay * param)`` with Adam's ``m_hat``, ``v_hat`` of the (clipped)
    gradient alone. Unlike an L2 term in the loss, the decay is not divided by
    ``sqrt(v_hat)``: every entry, biases too, shrinks by ``lr * weight_decay``."""

    options = Adam.options + ("weight_decay",)

    def __init__(self, lr=0.001, lr_scheduler="constant", beta1=0.9, beta2=0.999, epsilon=1e-8,
                 weight_decay=0.01, clip_norm=None, **schedule):
        super().__init__(lr, lr_scheduler, beta1, beta2, epsilon, clip_norm, **schedule)
        self.weight_decay = check_number(weight_decay, "weight_decay", "AdamW", minimum=0)
        # lr never exceeds its starting value, so this keeps 1 - lr * weight_decay > 0.
        if self.lr * self.weight_decay >= 1:
            raise ValueError(f"AdamW: lr * weight_decay must be < 1 (a step would flip the weights' "
                             f"sign); got lr={self.lr}, weight_decay={self.weight_decay}")

    def _delta(self, state, param, grad, lr):
        return super()._delta(state, param, grad, lr) + lr * self.weight_decay * param


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}


def _schedule(where, lr, lr_scheduler, **given):
    """The schedule named ``lr_scheduler`` (None: "constant") with the arguments
    ``given`` in the optimizer's names (None: not given), or ``lr_scheduler``
    itself if it is a schedule object (then nothing may be given)."""
    given = {key: value for key, value in given.items() if value is not None}
    if isinstance(lr_scheduler, Scheduler):
        for key, value in given.items():
            raise ValueError(f"{where}: {key} does not apply when lr_scheduler is a schedule object "
                             f"({type(lr_scheduler).__name__}); set it when building that object; "
                             f"got {value!r}")
        return lr_scheduler
    name = "constant" if lr_scheduler is None else lr_scheduler
    cls = lookup(SCHEDULERS, name, "scheduler")
    takes = ["lr_decay" if option == "decay" else option for option in cls.options]
    given = check_applicable(given, takes, where, f"the {name.lower()!r} lr_scheduler")
    if "lr_decay" in given:
        given["decay"] = given.pop("lr_decay")
    return cls(lr, **given)


def initialize_optimizer(name, lr, lr_scheduler="constant", momentum=None, clip_norm=None,
                         lr_decay=None, staircase=None, stage_length=None, beta1=None, beta2=None,
                         epsilon=None, rho=None, weight_decay=None, step_size=None, gamma=None,
                         total_epochs=None, min_lr=None):
    """Build an optimizer by name: "SGD", "RMSProp", "Adam" or "AdamW" (any case).

    ``lr`` (> 0) is the starting learning rate and ``lr_scheduler`` its
    schedule: "constant" (the default, also None), "exponential", "step",
    "cosine" or a schedule object. ``clip_norm`` rescales a gradient whose
    norm is larger (every optimizer).

    * ``momentum``: SGD; ``rho``: RMSProp; ``beta1``, ``beta2``: Adam and
      AdamW; ``epsilon``: RMSProp, Adam, AdamW; ``weight_decay``: AdamW.
    * the schedule's arguments (see :func:`schedulers.initialize_scheduler`),
      with ``lr_decay`` for its ``decay``.

    As there, None keeps an argument's default and a value for one that the
    chosen optimizer or schedule does not take raises a ``ValueError``.
    """
    cls = lookup(OPTIMIZERS, name, "optimizer")
    check_number(lr, "lr", cls.__name__, minimum=0, strict=True)
    own = {"momentum": momentum, "rho": rho, "beta1": beta1, "beta2": beta2,
           "epsilon": epsilon, "weight_decay": weight_decay}
    own = check_applicable(own, cls.options, "initialize_optimizer", cls.__name__)
    schedule = _schedule("initialize_optimizer", float(lr), lr_scheduler, lr_decay=lr_decay,
                         stage_length=stage_length, staircase=staircase, step_size=step_size,
                         gamma=gamma, total_epochs=total_epochs, min_lr=min_lr)
    return cls(lr, lr_scheduler=schedule, clip_norm=clip_norm, **own)
