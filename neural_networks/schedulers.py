"""Learning-rate schedules: small callables ``lr = schedule(epoch)``, where
``epoch`` counts finished epochs from 0. A schedule holds no state, so a
resumed run continues on the same curve."""

import math
import numbers

import numpy as np

from .checks import check_applicable, check_bool, check_int, check_number, describe, lookup


class Scheduler:
    """Base class: ``scheduler(epoch)`` checks ``epoch`` and returns ``rate(epoch)``;
    ``options`` names the arguments a schedule takes besides ``lr``."""

    options = ()

    def __init__(self, lr):
        self.lr = check_number(lr, "lr", type(self).__name__, minimum=0, strict=True)

    def __call__(self, epoch):
        real = isinstance(epoch, numbers.Real) and not isinstance(epoch, (bool, np.bool_))
        if not (real and epoch >= 0):
            error = ValueError if real else TypeError
            raise error(f"{type(self).__name__}: epoch must be a number >= 0; got {describe(epoch)}")
        return self.rate(epoch)

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Constant(Scheduler):
    """``lr`` at every epoch."""

    def rate(self, epoch):
        return self.lr


class Exponential(Scheduler):
    """``lr * decay ** (epoch / stage_length)``; with ``staircase`` the exponent
    is floored, so the rate drops once every ``stage_length`` epochs."""

    options = ("decay", "stage_length", "staircase")

    def __init__(self, lr, decay=0.99, stage_length=1, staircase=False):
        super().__init__(lr)
        self.decay = check_number(decay, "decay", "Exponential", minimum=0, maximum=1)
        if self.decay == 0:
            raise ValueError("Exponential: decay must be > 0; got 0.0")
        self.stage_length = check_int(stage_length, "stage_length", "Exponential")
        self.staircase = check_bool(staircase, "staircase", "Exponential")

    def rate(self, epoch):
        exponent = epoch / self.stage_length
        return self.lr * self.decay ** (math.floor(exponent) if self.staircase else exponent)


class Step(Scheduler):
    """``lr * gamma ** floor(epoch / step_size)``: times ``gamma`` every ``step_size`` epochs."""

    options = ("step_size", "gamma")

    def __init__(self, lr, step_size=10, gamma=0.1):
        super().__init__(lr)
        self.step_size = check_int(step_size, "step_size", "Step")
        self.gamma = check_number(gamma, "gamma", "Step", minimum=0, maximum=1, strict=True)

    def rate(self, epoch):
        return self.lr * self.gamma ** math.floor(epoch / self.step_size)


class Cosine(Scheduler):
    """Cosine annealing from ``lr`` down to ``min_lr`` over ``total_epochs``
    (Loshchilov & Hutter 2017, without restarts):
    ``min_lr + (lr - min_lr) * (1 + cos(pi * t / total_epochs)) / 2``,
    ``t = min(epoch, total_epochs)``."""

    options = ("total_epochs", "min_lr")

    def __init__(self, lr, total_epochs=100, min_lr=0.0):
        super().__init__(lr)
        self.total_epochs = check_int(total_epochs, "total_epochs", "Cosine")
        self.min_lr = check_number(min_lr, "min_lr", "Cosine", minimum=0, maximum=self.lr)

    def rate(self, epoch):
        t = min(epoch, self.total_epochs)
        return self.min_lr + (self.lr - self.min_lr) * (1 + math.cos(math.pi * t / self.total_epochs)) / 2


SCHEDULERS = {"constant": Constant, "exponential": Exponential, "step": Step, "cosine": Cosine}


def initialize_scheduler(name, lr, decay=None, stage_length=None, staircase=None, step_size=None,
                         gamma=None, total_epochs=None, min_lr=None):
    """Build a schedule by name (any case): "constant", "exponential" (decay,
    stage_length, staircase), "step" (step_size, gamma) or "cosine"
    (total_epochs, min_lr); see the classes for the formulas and defaults.

    None keeps an argument's default; a value for an argument the named
    schedule does not take (``step_size`` for "constant") raises a
    ``ValueError`` naming it, so a setting never silently does nothing.
    """
    cls = lookup(SCHEDULERS, name, "scheduler")
    given = {"decay": decay, "stage_length": stage_length, "staircase": staircase,
             "step_size": step_size, "gamma": gamma, "total_epochs": total_epochs, "min_lr": min_lr}
    given = check_applicable(given, cls.options, "initialize_scheduler",
                             f"the {name.lower()!r} schedule", nothing="no arguments besides lr")
    return cls(lr, **given)
