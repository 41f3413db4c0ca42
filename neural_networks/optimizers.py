"""Optimizers: turn a gradient into a parameter step.

``update(param_name, param, param_grad, epoch)`` returns ``delta`` and the
caller applies ``param -= delta`` (the course's contract). ``step`` does the
same in place and is what the model uses. Per-parameter state (velocities,
moment estimates) is kept in ``self.state`` under the caller's stable names,
such as ``"W0"`` or ``"b1"`` (parameter name plus layer index), and can be
saved and restored with ``state_dict``/``load_state_dict``.

Optimizers: ``SGD`` (momentum), ``RMSProp``, ``Adam`` and ``AdamW``, built by
name with :func:`initialize_optimizer`.
"""

import numpy as np

from .schedulers import SCHEDULERS, Scheduler, initialize_scheduler
from .checks import check_applicable, check_array, check_number, describe, lookup


class Optimizer:
    """Base class: learning-rate schedule, gradient clipping and state.

    ``options`` names a subclass's own hyperparameters (what
    :func:`initialize_optimizer` accepts for it) and ``state_keys`` the arrays
    it keeps per parameter (what ``load_state_dict`` accepts).
    """

    options = ()
    state_keys = ()

    def __init__(self, lr, lr_scheduler="constant", clip_norm=None,
                 lr_decay=None, stage_length=None, staircase=None):
        where = type(self).__name__
        self.lr = check_number(lr, "lr", where, minimum=0, strict=True)
        self.lr_scheduler = _make_schedule(
            where, self.lr, lr_scheduler, lr_decay=lr_decay, stage_length=stage_length,
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
        param, grad, lr = self._prepare(param_name, param, param_grad, epoch)
        delta = self._delta(param_name, param, grad, lr)
        # _delta may hand back a state buffer; the caller gets its own copy.
        return delta.copy() if any(delta is s for s in self.state[param_name].values()) else delta

    def step(self, param_name, param, param_grad, epoch):
        """Apply ``param -= delta`` in place (the same numbers as ``update``)."""
        checked, grad, lr = self._prepare(param_name, param, param_grad, epoch)
        param -= self._delta(param_name, checked, grad, lr)

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
        return param, self._clip(param_grad), lr

    def _clip(self, grad):
        """Rescale ``grad`` to norm ``clip_norm`` when its norm is larger."""
        if self.clip_norm is None:
            return grad
        norm = np.linalg.norm(grad)
        if norm > self.clip_norm:
            return grad * (self.clip_norm / norm)
        return grad

    def _delta(self, param_name, param, grad, lr):
        raise NotImplementedError

    def state_dict(self):
        """A flat ``{"W0.velocity": array, ...}`` copy of the optimizer state."""
        return {
            f"{name}.{key}": np.array(value, copy=True)
            for name, buffers in self.state.items()
            for key, value in buffers.items()
        }

    def load_state_dict(self, state):
        """Restore a state from ``state_dict()``'s output.

        Every key is ``"<param_name>.<buffer>"``; the buffers must be the ones
        this optimizer keeps (``state_keys``), all of them for each name.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{where}: state must be a dict; got {describe(state)}")
        restored = {}
        for flat_key, value in state.items():
            name, sep, key = flat_key.rpartition(".") if isinstance(flat_key, str) else ("", "", "")
            if not sep or not name:
                raise ValueError(f"{where}: keys look like 'W0.velocity'; got {flat_key!r}")
            if key not in self.state_keys:
                raise ValueError(
                    f"{where}: {type(self).__name__} keeps {list(self.state_keys)} per parameter; "
                    f"got {flat_key!r}"
                )
            restored.setdefault(name, {})[key] = np.array(value, copy=True)
        for name, buffers in restored.items():
            missing = [key for key in self.state_keys if key not in buffers]
            if missing:
                raise ValueError(f"{where}: the state of {name!r} lacks {missing}")
        self.state = restored

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr}, lr_scheduler={self.lr_scheduler!r}, clip_norm={self.clip_norm})"


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum.

    ``delta = momentum * previous_delta + lr * grad``; with ``momentum = 0``
    this is plain ``lr * grad``.
    """

    options = ("momentum",)
    state_keys = ("velocity",)

    def __init__(self, lr, lr_scheduler="constant", momentum=0.0, clip_norm=None,
                 lr_decay=None, stage_length=None, staircase=None):
        super().__init__(lr, lr_scheduler, clip_norm, lr_decay, stage_length, staircase)
        self.momentum = check_number(momentum, "momentum", "SGD", minimum=0, maximum=1, strict=False)
        if self.momentum >= 1:
            raise ValueError(f"SGD: momentum must be < 1; got {self.momentum}")

    def _delta(self, param_name, param, grad, lr):
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


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton, "Neural Networks for Machine Learning", lecture 6.5, 2012).

    A running mean of the squared gradient scales each entry's step::

        mean_square = rho * mean_square + (1 - rho) * grad**2
        delta = lr * grad / (sqrt(mean_square) + epsilon)

    ``mean_square`` starts at zeros and is not bias-corrected, so the first
    steps are larger than later ones (about ``lr / sqrt(1 - rho)`` per entry
    at the first). ``epsilon`` is added outside the square root. No momentum
    term. State per parameter: ``mean_square``.
    """

    options = ("rho", "epsilon")
    state_keys = ("mean_square",)

    def __init__(self, lr=0.001, lr_scheduler="constant", rho=0.9, epsilon=1e-8,
                 clip_norm=None, lr_decay=None, stage_length=None, staircase=None):
        super().__init__(lr, lr_scheduler, clip_norm, lr_decay, stage_length, staircase)
        self.rho = check_number(rho, "rho", "RMSProp", minimum=0, maximum=1)
        if self.rho >= 1:
            raise ValueError(f"RMSProp: rho must be < 1; got {self.rho}")
        self.epsilon = check_number(epsilon, "epsilon", "RMSProp", minimum=0, strict=True)

    def _delta(self, param_name, param, grad, lr):
        state = self.state[param_name]
        if not state:
            state["mean_square"] = np.zeros_like(grad)
        mean_square = state["mean_square"]
        mean_square *= self.rho
        mean_square += (1 - self.rho) * (grad * grad)
        return lr * grad / (np.sqrt(mean_square) + self.epsilon)

    def __repr__(self):
        return (f"RMSProp(lr={self.lr}, rho={self.rho}, epsilon={self.epsilon}, "
                f"lr_scheduler={self.lr_scheduler!r}, clip_norm={self.clip_norm})")


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), bias-corrected as in the paper's Algorithm 1.

    ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g**2``,
    ``delta = lr * m_hat / (sqrt(v_hat) + epsilon)`` with
    ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)``, where
    ``t`` counts the updates of that parameter. State per parameter: ``m``,
    ``v`` and ``t``.
    """

    options = ("beta1", "beta2", "epsilon")
    state_keys = ("m", "v", "t")

    def __init__(self, lr=0.001, lr_scheduler="constant", beta1=0.9, beta2=0.999,
                 epsilon=1e-8, clip_norm=None, lr_decay=None, stage_length=None,
                 staircase=None):
        super().__init__(lr, lr_scheduler, clip_norm, lr_decay, stage_length, staircase)
        where = type(self).__name__
        self.beta1 = check_number(beta1, "beta1", where, minimum=0, maximum=1)
        self.beta2 = check_number(beta2, "beta2", where, minimum=0, maximum=1)
        for name, beta in (("beta1", self.beta1), ("beta2", self.beta2)):
            if beta >= 1:
                raise ValueError(f"{where}: {name} must be < 1; got {beta}")
        self.epsilon = check_number(epsilon, "epsilon", where, minimum=0, strict=True)

    def _moments(self, param_name, grad):
        """Update ``m``, ``v``, ``t`` of ``param_name``; return ``m_hat, v_hat``."""
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
        return m / (1 - self.beta1**t), v / (1 - self.beta2**t)

    def _delta(self, param_name, param, grad, lr):
        m_hat, v_hat = self._moments(param_name, grad)
        return lr * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def __repr__(self):
        return (f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, "
                f"epsilon={self.epsilon}, lr_scheduler={self.lr_scheduler!r}, clip_norm={self.clip_norm})")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight
    Decay Regularization", ICLR 2019, Algorithm 2).

    ``m_hat`` and ``v_hat`` are Adam's (see :class:`Adam`), computed from the
    gradient alone; the decay is added to the step, not to the gradient::

        delta = lr * (m_hat / (sqrt(v_hat) + epsilon) + weight_decay * param)

    where ``param`` is the value before this step and ``lr`` the scheduled
    rate. This is the paper's line 12, ``theta -= eta_t * (alpha * m_hat /
    (sqrt(v_hat) + eps) + lambda * theta)``, in the form PyTorch's
    ``torch.optim.AdamW`` uses: the decay is scaled by the whole learning rate
    ``lr = alpha * eta_t``, not by the schedule multiplier ``eta_t`` alone, so
    the paper's ``lambda`` is ``lr * weight_decay`` at the base rate.

    Unlike L2 regularization (adding ``weight_decay * param`` to the gradient,
    which is what ``Adam`` would do with an L2 term in the loss), the decay
    here never enters ``m`` and ``v`` and is not divided by
    ``sqrt(v_hat)``: every entry shrinks by the same fraction
    ``lr * weight_decay`` per step, whatever the size of its gradients. (For
    plain SGD the two are the same thing; for Adam they are not.)

    Every parameter the model hands over is decayed, biases included, once
    per ``update``/``step`` (that is, per mini-batch). Gradient clipping
    applies to the gradient only. With ``weight_decay=0`` this is Adam.
    """

    options = Adam.options + ("weight_decay",)

    def __init__(self, lr=0.001, lr_scheduler="constant", beta1=0.9, beta2=0.999,
                 epsilon=1e-8, weight_decay=0.01, clip_norm=None, lr_decay=None,
                 stage_length=None, staircase=None):
        super().__init__(lr, lr_scheduler, beta1, beta2, epsilon, clip_norm, lr_decay,
                         stage_length, staircase)
        self.weight_decay = check_number(weight_decay, "weight_decay", "AdamW", minimum=0)
        # lr never exceeds its starting value under these schedules, so this
        # keeps the decay factor 1 - lr * weight_decay positive.
        if self.lr * self.weight_decay >= 1:
            raise ValueError(
                f"AdamW: lr * weight_decay must be < 1 (a step would flip the weights' sign); "
                f"got lr={self.lr}, weight_decay={self.weight_decay}"
            )

    def _delta(self, param_name, param, grad, lr):
        m_hat, v_hat = self._moments(param_name, grad)
        return lr * (m_hat / (np.sqrt(v_hat) + self.epsilon) + self.weight_decay * param)

    def __repr__(self):
        return (f"AdamW(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, "
                f"epsilon={self.epsilon}, weight_decay={self.weight_decay}, "
                f"lr_scheduler={self.lr_scheduler!r}, clip_norm={self.clip_norm})")


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}

# initialize_optimizer's names for the schedule's arguments, where they differ
# from initialize_scheduler's, and back.
_SCHEDULE_NAMES = {"lr_decay": "decay"}
_OUR_NAMES = {theirs: ours for ours, theirs in _SCHEDULE_NAMES.items()}


def _make_schedule(where, lr, lr_scheduler, **given):
    """A :class:`Scheduler` from a name and the optimizer's schedule arguments.

    ``given`` uses the optimizer's argument names (``lr_decay``, ``stage_length``,
    ``staircase``, ``step_size``, ``gamma``, ``total_epochs``, ``min_lr``).
    None means not given. A value for an argument that the named schedule does
    not take, or any value when ``lr_scheduler`` is already a Scheduler object,
    raises a ``ValueError`` that names it.
    """
    given = {key: value for key, value in given.items() if value is not None}
    if isinstance(lr_scheduler, Scheduler):
        if given:
            key, value = next(iter(given.items()))
            raise ValueError(
                f"{where}: {key} does not apply when lr_scheduler is a schedule object "
                f"({type(lr_scheduler).__name__}); set it when building that object; got {value!r}"
            )
        return lr_scheduler
    cls = lookup(SCHEDULERS, lr_scheduler, "scheduler")
    ours = [_OUR_NAMES.get(option, option) for option in cls.options]
    given = check_applicable(given, ours, where, f"the {lr_scheduler.lower()!r} lr_scheduler")
    theirs = {_SCHEDULE_NAMES.get(key, key): key for key in given}
    return initialize_scheduler(lr_scheduler, lr, **{name: given[key] for name, key in theirs.items()})


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
    rho=None,
    weight_decay=None,
    step_size=None,
    gamma=None,
    total_epochs=None,
    min_lr=None,
):
    """Build an optimizer by name: "SGD", "RMSProp", "Adam" or "AdamW" (any case).

    Parameters
    ----------
    name : str
        The optimizer.
    lr : float > 0
        The (starting) learning rate.
    lr_scheduler : str or Scheduler
        "constant" (the default; None means the same), "exponential", "step"
        or "cosine" (see :func:`~neural_networks.schedulers.initialize_scheduler`),
        or a ready schedule object.
    clip_norm : float > 0 or None
        Rescale a gradient whose norm is larger than this (every optimizer).
    momentum
        SGD only.
    rho, epsilon
        RMSProp only (``epsilon`` also Adam and AdamW).
    beta1, beta2, epsilon
        Adam and AdamW.
    weight_decay
        AdamW only.
    lr_decay, stage_length, staircase
        The "exponential" schedule: ``lr * lr_decay ** (epoch / stage_length)``.
    step_size, gamma
        The "step" schedule: ``lr * gamma ** floor(epoch / step_size)``.
    total_epochs, min_lr
        The "cosine" schedule.

    The rule, the same as ``initialize_scheduler``'s: an argument left as None
    keeps the default of the optimizer or schedule, and a value other than None
    for an argument that the chosen optimizer or schedule does not take
    (``momentum`` for Adam, ``step_size`` with the constant schedule) raises a
    ``ValueError`` naming it, so a setting never silently does nothing.
    """
    cls = lookup(OPTIMIZERS, name, "optimizer")
    check_number(lr, "lr", cls.__name__, minimum=0, strict=True)
    own = {"momentum": momentum, "rho": rho, "beta1": beta1, "beta2": beta2,
           "epsilon": epsilon, "weight_decay": weight_decay}
    own = check_applicable(own, cls.options, "initialize_optimizer", cls.__name__)
    schedule = _make_schedule(
        "initialize_optimizer", float(lr), "constant" if lr_scheduler is None else lr_scheduler,
        lr_decay=lr_decay, stage_length=stage_length, staircase=staircase,
        step_size=step_size, gamma=gamma, total_epochs=total_epochs, min_lr=min_lr,
    )
    return cls(lr, lr_scheduler=schedule, clip_norm=clip_norm, **own)
