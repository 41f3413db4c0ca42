"""Tests for neural_networks.schedulers: hand-computed rates for every schedule,
the factory's defaults, and input validation."""

import numpy as np
import pytest

from neural_networks.schedulers import Constant, Cosine, Exponential, Step, initialize_scheduler


def test_constant():
    schedule = initialize_scheduler("constant", 0.05)
    assert type(schedule) is Constant
    assert [schedule(e) for e in (0, 1, 7, 1000)] == [0.05, 0.05, 0.05, 0.05]


def test_exponential_smooth_hand_values():
    # 0.1 * 0.5 ** (epoch / 2)
    schedule = initialize_scheduler("exponential", 0.1, decay=0.5, stage_length=2, staircase=False)
    got = [schedule(e) for e in range(5)]
    assert got == pytest.approx([0.1, 0.07071067811865477, 0.05, 0.03535533905932738, 0.025], rel=1e-12)


def test_exponential_staircase_hand_values():
    # 0.1 * 0.5 ** floor(epoch / 2)
    schedule = initialize_scheduler("exponential", 0.1, decay=0.5, stage_length=2, staircase=True)
    got = [schedule(e) for e in range(7)]
    assert got == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125], rel=1e-12)


def test_exponential_staircase_stage_length_three():
    schedule = Exponential(1.0, decay=0.1, stage_length=3, staircase=True)
    assert [schedule(e) for e in (0, 2, 3, 5, 6, 8)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01], rel=1e-12)


def test_exponential_defaults():
    schedule = initialize_scheduler("exponential", 0.1)
    # decay 0.99, stage_length 1: 0.1 * 0.99 ** 3
    assert schedule(3) == pytest.approx(0.0970299, rel=1e-12)
    assert schedule(0) == 0.1


def test_exponential_fractional_epoch():
    schedule = Exponential(0.1, decay=0.25, stage_length=1)
    assert schedule(0.5) == pytest.approx(0.05, rel=1e-12)
    assert Exponential(0.1, decay=0.25, staircase=True)(1.5) == pytest.approx(0.025, rel=1e-12)


def test_step_hand_values():
    schedule = initialize_scheduler("step", 1.0, step_size=3, gamma=0.1)
    assert type(schedule) is Step
    got = [schedule(e) for e in (0, 2, 3, 5, 6, 9)]
    assert got == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.001], rel=1e-12)


def test_exponential_accepts_numpy_bool_staircase():
    assert Exponential(1.0, decay=0.5, staircase=np.bool_(True))(1.5) == 0.5


def test_step_defaults():
    schedule = initialize_scheduler("step", 0.5)
    assert schedule(9) == 0.5
    assert schedule(10) == pytest.approx(0.05, rel=1e-12)


def test_cosine_hand_values():
    schedule = initialize_scheduler("cosine", 1.0, total_epochs=4)
    assert type(schedule) is Cosine
    got = [schedule(e) for e in range(5)]
    expected = [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0]
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    # past the end it stays at the minimum
    assert schedule(10) == pytest.approx(0.0, abs=1e-15)


def test_cosine_with_min_lr():
    schedule = Cosine(1.0, total_epochs=4, min_lr=0.2)
    # 0.2 + 0.8 * (1 + cos(pi / 2)) / 2 = 0.6
    assert schedule(2) == pytest.approx(0.6, rel=1e-12)
    assert schedule(0) == pytest.approx(1.0, rel=1e-12)
    assert schedule(4) == pytest.approx(0.2, rel=1e-12)
    assert schedule(100) == pytest.approx(0.2, rel=1e-12)


def test_schedules_are_stateless():
    schedule = Exponential(0.1, decay=0.5, stage_length=2, staircase=True)
    forward = [schedule(e) for e in range(6)]
    backward = [schedule(e) for e in reversed(range(6))][::-1]
    assert forward == backward


def test_none_arguments_keep_defaults():
    a = initialize_scheduler("exponential", 0.1, decay=None, stage_length=None, staircase=None)
    b = Exponential(0.1)
    assert [a(e) for e in range(4)] == [b(e) for e in range(4)]
    assert a.staircase is False and a.stage_length == 1 and a.decay == 0.99


def test_none_means_not_given_for_every_schedule():
    for name in ("constant", "exponential", "step", "cosine"):
        schedule = initialize_scheduler(name, 0.3, decay=None, stage_length=None, staircase=None,
                                        step_size=None, gamma=None, total_epochs=None, min_lr=None)
        assert schedule(0) == 0.3


@pytest.mark.parametrize("name, arguments, bad, takes", [
    ("constant", {"decay": 0.5}, "decay", "no arguments besides lr"),
    ("constant", {"step_size": 5}, "step_size", "no arguments besides lr"),
    ("constant", {"staircase": False}, "staircase", "no arguments besides lr"),
    ("exponential", {"decay": 0.5, "gamma": 0.5}, "gamma", "decay, stage_length, staircase"),
    ("step", {"step_size": 2, "stage_length": 2}, "stage_length", "step_size, gamma"),
    ("cosine", {"total_epochs": 5, "decay": 0.5}, "decay", "total_epochs, min_lr"),
    ("Step", {"min_lr": 0.0}, "min_lr", "step_size, gamma"),
])
def test_arguments_the_schedule_does_not_take_are_rejected(name, arguments, bad, takes):
    with pytest.raises(ValueError, match=rf"^initialize_scheduler: {bad} does not apply to the "
                                         rf"'{name.lower()}' schedule \(it takes {takes}\); "
                                         rf"got {arguments[bad]}$"):
        initialize_scheduler(name, 0.3, **arguments)


@pytest.mark.parametrize("name", ["Exponential", "EXPONENTIAL"])
def test_names_case_insensitive(name):
    assert type(initialize_scheduler(name, 0.1)) is Exponential


def test_numpy_integer_epoch():
    schedule = Exponential(0.1, decay=0.5, stage_length=1)
    assert schedule(np.int64(2)) == pytest.approx(0.025, rel=1e-12)


def test_numpy_float_epoch():
    assert Exponential(0.1, decay=0.5)(np.float64(2.0)) == pytest.approx(0.025, rel=1e-12)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

ERRORS = [
    (lambda: initialize_scheduler("linear", 0.1), ValueError,
     r"unknown scheduler 'linear'; valid names are \['constant', 'cosine', 'exponential', 'step'\]"),
    (lambda: initialize_scheduler(None, 0.1), TypeError, "scheduler must be a string"),
    (lambda: Constant(0.0), ValueError, "Constant: lr must be > 0"),
    (lambda: Constant("0.1"), TypeError, "lr must be a number"),
    (lambda: Exponential(0.1, decay=0.0), ValueError, "decay must be > 0"),
    (lambda: Exponential(0.1, decay=1.5), ValueError, "decay must be <= 1"),
    (lambda: Exponential(0.1, stage_length=0), ValueError, "stage_length must be >= 1"),
    (lambda: Exponential(0.1, stage_length=1.5), TypeError, "stage_length must be an integer"),
    (lambda: Exponential(0.1, staircase="no"), TypeError, r"Exponential: staircase must be True or False; got 'no'"),
    (lambda: initialize_scheduler("exponential", 0.1, staircase=1), TypeError, "staircase must be True or False"),
    (lambda: Step(0.1, step_size=0), ValueError, "step_size must be >= 1"),
    (lambda: Step(0.1, gamma=1.0), ValueError, "gamma must be < 1"),
    (lambda: Cosine(0.1, total_epochs=0), ValueError, "total_epochs must be >= 1"),
    (lambda: Cosine(0.1, min_lr=0.2), ValueError, "min_lr must be <= 0.1"),
]


@pytest.mark.parametrize("build,exc,match", ERRORS, ids=[f"e{i}" for i in range(len(ERRORS))])
def test_constructor_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize("epoch, exc", [
    (-1, ValueError), (-0.5, ValueError), (float("nan"), ValueError),
    ("3", TypeError), (None, TypeError), (True, TypeError),
])
def test_bad_epoch(epoch, exc):
    with pytest.raises(exc, match="epoch must be a number >= 0"):
        Constant(0.1)(epoch)
