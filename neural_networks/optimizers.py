"""Optimizers: turn a gradient into a parameter step.

``update(param_name, param, param_grad, epoch)`` returns ``delta`` and the
caller applies ``param -= delta`` (the course's contract). ``step`` does the
same in place and is what the model uses. Per-parameter state (velocities,
moment estimates) is kept in ``self.state`` under the caller's stable names,
such as ``"W0"`` or ``"b1"`` (parameter name plus layer index), and can be
saved and restored with ``state_dict``/``load_state_dict``.
"""

import numpy as np

from .schedulers import Scheduler, initialize_scheduler
from .utils import check_array, check_number, describe, lookup


class Optimizer:
    """Base class: learning-rate schedule, gradient clipping and state."""

    def __init__(self, lr, lr_scheduler="constant", clip_norm=None,
                 lr_decay=None, stage_length=None, staircase=None):
        where = type(self).__name__
        self.lr = check_number(lr, "lr", where, minimum=0, strict=True)
        if isinstance(lr_scheduler, Scheduler):
            self.lr_scheduler = lr_scheduler
        else:
            self.lr_scheduler = initialize_scheduler(
                lr_scheduler, self.lr, decay=lr_decay, stage_length=stage_length,
                staircase=staircase,
            )
        self.clip_norm = (
            None if clip_norm is None
            else check_number(clip_norm, "clip_norm", where, minimum=0, strict=True)
        )
        self.state = {}

    # -- the course's contract -------------------------------------------------

    def update(self, param_name, param, param_grad, epoch):
        """Return the step ``delta`` for ``param``; the caller does ``param -= delta``.

        Parameters
        ----------
        param_name : str
            A stable name for the parameter, e.g. "W0"; state is kept per name.
        param : ndarray
            The parameter's current value (not modified).
        param_grad : ndarray, same shape as ``param``
            ``dL/dparam``.
        epoch : int
            Finished epochs so far; sets the learning rate through the schedule.
        """
        grad, lr = self._prepare(param_name, param, param_grad, epoch)
        delta = self._delta(param_name, grad, lr)
        # _delta may hand back a state buffer; the caller gets its own copy.
        return delta.copy() if any(delta is s for s in self.state[param_name].values()) else delta

    def step(self, param_name, param, param_grad, epoch):
        """Apply ``param -= delta`` in place (the same numbers as ``update``)."""
        grad, lr = self._prepare(param_name, param, param_grad, epoch)
        param -= self._delta(param_name, grad, lr)

    # -- helpers ---------------------------------------------------------------

    def _prepare(self, param_name, param, param_grad, epoch):
        where = f"{type(self).__name__}.update"
        if not isinstance(param_name, str) or not param_name:
            raise TypeError(f"{where}: param_name must be a non-empty string; got {describe(param_name)}")
        param = check_array(param, "param", where)
        param_grad = check_array(param_grad, "param_grad", where)
        if param.shape != param_grad.shape:
            raise ValueError(
                f"{where}: param_grad must have the shape of param {param.shape}; "
                f"got {param_grad.shape}"
            )
        lr = self.lr_scheduler(epoch)
        state = self.state.setdefault(param_name, {})
        for key, buffer in state.items():
            if buffer.shape != param.shape and key != "t":
                raise ValueError(
                    f"{where}: param {param_name!r} has shape {param.shape} but the "
                    f"optimizer's state for it has shape {buffer.shape}"
                )
        return self._clip(param_grad), lr

    def _clip(self, grad):
        """Rescale ``grad`` to norm ``clip_norm`` when its norm is larger."""
        if self.clip_norm is None:
            return grad
        norm = np.linalg.norm(grad)
        if norm > self.clip_norm:
            return grad * (self.clip_norm / norm)
        return grad

    def _delta(self, param_name, grad, lr):
        raise NotImplementedError

    def state_dict(self):
        """A flat ``{"W0.velocity": array, ...}`` copy of the optimizer state."""
        return {
            f"{name}.{key}": np.array(value, copy=True)
            for name, buffers in self.state.items()
            for key, value in buffers.items()
        }

    def load_state_dict(self, state):
        """Restore a state from ``state_dict()``'s output."""
        restored = {}
        for flat_key, value in state.items():
            name, sep, key = flat_key.rpartition(".")
            if not sep or not name:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: keys look like 'W0.velocity'; "
                    f"got {flat_key!r}"
                )
            restored.setdefault(name, {})[key] = np.array(value, copy=True)
        self.state = restored

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr}, lr_scheduler={self.lr_scheduler!r}, clip_norm={self.clip_norm})"


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum.

    ``delta = momentum * previous_delta + lr * grad``; with ``momentum = 0``
    this is plain ``lr * grad``.
    """

    def __init__(self, lr, lr_scheduler="constant", momentum=0.0, clip_norm=None,
                 lr_decay=None, stage_length=None, staircase=None):
        super().__init__(lr, lr_scheduler, clip_norm, lr_decay, stage_length, staircase)
        self.momentum = check_number(momentum, "momentum", "SGD", minimum=0, maximum=1, strict=False)
        if self.momentum >= 1:
            raise ValueError(f"SGD: momentum must be < 1; got {self.momentum}")

    def _delta(self, param_name, grad, lr):
        if self.momentum == 0:
            return lr * grad
        state = self.state[param_name]
        velocity = state.get("velocity")
        if velocity is None:
            velocity = state["velocity"] = np.zeros_like(grad)
        velocity *= self.momentum
        velocity += lr * grad
        return velocity

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, lr_scheduler={self.lr_scheduler!r}, clip_norm={self.clip_norm})"


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), bias-corrected as in the paper's Algorithm 1.

    ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g**2``,
    ``delta = lr * m_hat / (sqrt(v_hat) + epsilon)`` with
    ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)``, where
    ``t`` counts the updates of that parameter.
    """

    def __init__(self, lr=0.001, lr_scheduler="constant", beta1=0.9, beta2=0.999,
                 epsilon=1e-8, clip_norm=None, lr_decay=None, stage_length=None,
                 staircase=None):
        super().__init__(lr, lr_scheduler, clip_norm, lr_decay, stage_length, staircase)
        self.beta1 = check_number(beta1, "beta1", "Adam", minimum=0, maximum=1)
        self.beta2 = check_number(beta2, "beta2", "Adam", minimum=0, maximum=1)
        for name, beta in (("beta1", self.beta1), ("beta2", self.beta2)):
            if beta >= 1:
                raise ValueError(f"Adam: {name} must be < 1; got {beta}")
        self.epsilon = check_number(epsilon, "epsilon", "Adam", minimum=0, strict=True)

    def _delta(self, param_name, grad, lr):
        state = self.state[param_name]
        if not state:
            state["m"] = np.zeros_like(grad)
            state["v"] = np.zeros_like(grad)
            state["t"] = np.zeros(())
        state["t"] += 1
        t = float(state["t"])
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * (grad * grad)
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return lr * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def __repr__(self):
        return (f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, "
                f"epsilon={self.epsilon}, lr_scheduler={self.lr_scheduler!r}, clip_norm={self.clip_norm})")


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def initialize_optimizer(
    name,
    lr,
    lr_scheduler="constant",
    momentum=None,
    clip_norm=None,
    lr_decay=None,
    staircase=None,
    stage_length=None,
    beta1=None,
    beta2=None,
    epsilon=None,
):
    """Build an optimizer by name ("SGD" or "adam", any case).

    Arguments left as None keep the optimizer's defaults, and arguments that do
    not apply (``momentum`` for Adam, ``beta1`` for SGD) are ignored when None
    and rejected otherwise, so a typo does not pass silently.
    """
    cls = lookup(OPTIMIZERS, name, "optimizer")
    common = {"lr_scheduler": "constant" if lr_scheduler is None else lr_scheduler,
              "clip_norm": clip_norm, "lr_decay": lr_decay, "staircase": staircase,
              "stage_length": stage_length}
    own = {"momentum": momentum} if cls is SGD else {"beta1": beta1, "beta2": beta2, "epsilon": epsilon}
    foreign = ({"beta1": beta1, "beta2": beta2, "epsilon": epsilon} if cls is SGD
               else {"momentum": momentum})
    for key, value in foreign.items():
        # momentum=0 for Adam means "none" and is harmless.
        if value is not None and not (key == "momentum" and value == 0):
            raise ValueError(
                f"initialize_optimizer: {key} does not apply to {cls.__name__}; got {value!r}"
            )
    return cls(lr, **common, **{k: v for k, v in own.items() if v is not None})
