"""Tests for neural_networks.optimizers.

SGD (plain, momentum, clipping, a staircase exponential schedule) and Adam are
compared with their update formulas written out here, step by step, without
calling the library. Also: per-name state, update vs step, state round trips,
the factory, and input validation.
"""

import math

import numpy as np
import pytest

from neural_networks.optimizers import SGD, Adam, initialize_optimizer
from neural_networks.schedulers import Exponential


class RefSGD:
    """delta = momentum * previous_delta + lr(epoch) * clip(grad)."""

    def __init__(self, lr, momentum=0.0, clip_norm=None, decay=None, stage_length=1, staircase=False):
        self.lr, self.momentum, self.clip_norm = lr, momentum, clip_norm
        self.decay, self.stage_length, self.staircase = decay, stage_length, staircase
        self.previous = {}

    def rate(self, epoch):
        if self.decay is None:
            return self.lr
        exponent = epoch / self.stage_length
        if self.staircase:
            exponent = math.floor(exponent)
        return self.lr * self.decay**exponent

    def delta(self, name, grad, epoch):
        if self.clip_norm is not None:
            norm = math.sqrt(float(np.sum(grad**2)))
            if norm > self.clip_norm:
                grad = grad * self.clip_norm / norm
        delta = self.rate(epoch) * grad
        if name in self.previous:
            delta = delta + self.momentum * self.previous[name]
        self.previous[name] = delta
        return delta


class RefAdam:
    """Kingma & Ba, Algorithm 1, one state (m, v, t) per name."""

    def __init__(self, lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.lr, self.beta1, self.beta2, self.epsilon = lr, beta1, beta2, epsilon
        self.m, self.v, self.t = {}, {}, {}

    def delta(self, name, grad):
        t = self.t.get(name, 0) + 1
        m = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * grad
        v = self.beta2 * self.v.get(name, 0.0) + (1 - self.beta2) * grad**2
        self.m[name], self.v[name], self.t[name] = m, v, t
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


def grads(seed, shape, count):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(count)]


# ---------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------


def test_sgd_plain_hand_values():
    opt = SGD(0.1)
    param = np.array([[1.0, -2.0]])
    delta = opt.update("W0", param, np.array([[0.5, 3.0]]), 0)
    np.testing.assert_allclose(delta, [[0.05, 0.3]], rtol=1e-15)
    # plain SGD has no memory
    np.testing.assert_allclose(opt.update("W0", param, np.array([[1.0, 0.0]]), 1), [[0.1, 0.0]], rtol=1e-15)


def test_sgd_momentum_hand_values():
    # lr 0.1, momentum 0.5, grads 1, 2, -1:
    # 0.1; 0.5*0.1 + 0.2 = 0.25; 0.5*0.25 - 0.1 = 0.025
    opt = SGD(0.1, momentum=0.5)
    param = np.zeros(1)
    got = [float(opt.update("W0", param, np.array([g]), 0)[0]) for g in (1.0, 2.0, -1.0)]
    assert got == pytest.approx([0.1, 0.25, 0.025], rel=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.9, 0.5])
@pytest.mark.parametrize("clip_norm", [None, 1.0])
def test_sgd_matches_reference(momentum, clip_norm):
    opt = SGD(0.05, momentum=momentum, clip_norm=clip_norm)
    ref = RefSGD(0.05, momentum=momentum, clip_norm=clip_norm)
    param = np.ones((3, 2))
    for epoch, g in enumerate(grads(0, (3, 2), 6)):
        g = g * (3.0 if epoch % 2 else 0.2)  # some norms above the clip, some below
        np.testing.assert_allclose(opt.update("W0", param, g, epoch), ref.delta("W0", g, epoch),
                                   rtol=1e-12, atol=1e-15)


def test_sgd_clip_norm_hand_values():
    opt = SGD(0.5, clip_norm=1.0)
    # norm 5 > 1: rescaled to [0.6, 0.8]
    np.testing.assert_allclose(opt.update("W0", np.zeros(2), np.array([3.0, 4.0]), 0), [0.3, 0.4], rtol=1e-12)
    # norm 0.5 <= 1: unchanged
    np.testing.assert_allclose(opt.update("W0", np.zeros(2), np.array([0.3, 0.4]), 0), [0.15, 0.2], rtol=1e-12)


def test_sgd_clip_uses_norm_of_whole_array():
    opt = SGD(1.0, clip_norm=2.0)
    g = np.array([[2.0, 0.0], [0.0, 2.0]])  # Frobenius norm 2*sqrt(2)
    np.testing.assert_allclose(opt.update("W0", np.zeros((2, 2)), g, 0), g / math.sqrt(2.0), rtol=1e-12)


def test_sgd_exponential_staircase_schedule_hand_values():
    opt = initialize_optimizer("SGD", lr=0.1, lr_scheduler="exponential", lr_decay=0.5,
                               stage_length=2, staircase=True)
    got = [float(opt.update("W0", np.zeros(1), np.ones(1), epoch)[0]) for epoch in range(5)]
    assert got == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-12)


def test_sgd_exponential_smooth_schedule_hand_values():
    opt = initialize_optimizer("sgd", lr=0.1, lr_scheduler="exponential", lr_decay=0.5,
                               stage_length=2, staircase=False)
    got = [float(opt.update("W0", np.zeros(1), np.ones(1), epoch)[0]) for epoch in range(4)]
    assert got == pytest.approx([0.1, 0.07071067811865477, 0.05, 0.03535533905932738], rel=1e-12)


def test_sgd_momentum_with_schedule_matches_reference():
    opt = initialize_optimizer("SGD", lr=0.2, lr_scheduler="exponential", momentum=0.9,
                               lr_decay=0.7, stage_length=3, staircase=True, clip_norm=2.0)
    ref = RefSGD(0.2, momentum=0.9, clip_norm=2.0, decay=0.7, stage_length=3, staircase=True)
    param = np.zeros((2, 3))
    for epoch, g in enumerate(grads(1, (2, 3), 8)):
        np.testing.assert_allclose(opt.update("W1", param, 2 * g, epoch), ref.delta("W1", 2 * g, epoch),
                                   rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------


def test_adam_first_step_hand_values():
    # t = 1: m_hat = g, v_hat = g^2, so delta = lr * g / (|g| + eps)
    opt = Adam(0.01)
    delta = opt.update("W0", np.zeros(2), np.array([2.0, -0.5]), 0)
    np.testing.assert_allclose(delta, [0.01 * 2.0 / (2.0 + 1e-8), -0.01 * 0.5 / (0.5 + 1e-8)], rtol=1e-12)


def test_adam_second_step_hand_values():
    # grads [2, -0.5] then [1, 1], beta1 0.9, beta2 0.999:
    # m = [0.28, 0.055], v = [0.004996, 0.00124975]
    # m_hat = m / 0.19, v_hat = v / 0.001999
    opt = Adam(0.01)
    opt.update("W0", np.zeros(2), np.array([2.0, -0.5]), 0)
    delta = opt.update("W0", np.zeros(2), np.array([1.0, 1.0]), 0)
    m_hat = np.array([0.28, 0.055]) / 0.19
    v_hat = np.array([0.004996, 0.00124975]) / 0.001999
    np.testing.assert_allclose(delta, 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-10)


@pytest.mark.parametrize("beta1,beta2,epsilon", [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3), (0.0, 0.99, 1e-6)])
def test_adam_matches_reference(beta1, beta2, epsilon):
    opt = Adam(0.003, beta1=beta1, beta2=beta2, epsilon=epsilon)
    ref = RefAdam(0.003, beta1, beta2, epsilon)
    param = np.ones((2, 4))
    for epoch, g in enumerate(grads(2, (2, 4), 7)):
        np.testing.assert_allclose(opt.update("W0", param, g, epoch), ref.delta("W0", g), rtol=1e-12, atol=1e-15)


def test_adam_with_clip_matches_reference():
    opt = initialize_optimizer("adam", lr=0.01, clip_norm=0.5)
    ref = RefAdam(0.01)
    for epoch, g in enumerate(grads(3, (3,), 5)):
        clipped = g * min(1.0, 0.5 / math.sqrt(float(np.sum(g**2))))
        np.testing.assert_allclose(opt.update("b0", np.zeros(3), g, epoch), ref.delta("b0", clipped),
                                   rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# State per name; update vs step
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_state_is_kept_per_param_name(kind):
    if kind == "sgd":
        opt, ref = SGD(0.1, momentum=0.9), RefSGD(0.1, momentum=0.9)
        ref_delta = lambda name, g, epoch: ref.delta(name, g, epoch)  # noqa: E731
    else:
        opt, ref = Adam(0.01), RefAdam(0.01)
        ref_delta = lambda name, g, epoch: ref.delta(name, g)  # noqa: E731
    gw = grads(4, (2, 3), 4)
    gb = grads(5, (1, 3), 4)
    for epoch in range(4):
        # interleaved, with different shapes: the two must not interfere
        np.testing.assert_allclose(opt.update("W0", np.zeros((2, 3)), gw[epoch], epoch),
                                   ref_delta("W0", gw[epoch], epoch), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(opt.update("b0", np.zeros((1, 3)), gb[epoch], epoch),
                                   ref_delta("b0", gb[epoch], epoch), rtol=1e-12, atol=1e-15)
    # a new name starts from scratch
    np.testing.assert_allclose(opt.update("W1", np.zeros((2, 3)), gw[0], 0),
                               ref_delta("W1", gw[0], 0), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: SGD(0.1, momentum=0.9),
                                  lambda: Adam(0.01), lambda: SGD(0.1, momentum=0.5, clip_norm=0.1)],
                         ids=["sgd", "momentum", "adam", "clip"])
def test_update_does_not_mutate_and_caller_subtracts(make):
    opt = make()
    param = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = np.array([[0.5, -1.0], [2.0, 0.25]])
    param0, grad0 = param.copy(), grad.copy()
    delta = opt.update("W0", param, grad, 0)
    np.testing.assert_array_equal(param, param0)
    np.testing.assert_array_equal(grad, grad0)
    assert not np.shares_memory(delta, param) and not np.shares_memory(delta, grad)
    # the delta points along the gradient: param -= delta goes downhill
    assert np.sum(delta * grad) > 0


@pytest.mark.parametrize("make,ref", [
    (lambda: SGD(0.1, momentum=0.9), lambda: RefSGD(0.1, momentum=0.9)),
    (lambda: Adam(0.01), lambda: RefAdam(0.01)),
], ids=["momentum", "adam"])
def test_returned_delta_is_the_callers_own(make, ref):
    # Scaling the returned array in place (as "param -= delta" callers may do
    # with temporaries) must not corrupt the optimizer's state.
    opt, reference = make(), ref()
    gs = grads(6, (3,), 3)
    for epoch, g in enumerate(gs):
        delta = opt.update("W0", np.zeros(3), g, epoch)
        expected = reference.delta("W0", g, epoch) if isinstance(reference, RefSGD) else reference.delta("W0", g)
        np.testing.assert_allclose(delta, expected, rtol=1e-12)
        delta *= 1000.0


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: SGD(0.1, momentum=0.9, clip_norm=1.0),
                                  lambda: Adam(0.01)], ids=["sgd", "momentum", "adam"])
def test_step_gives_the_same_numbers_in_place(make):
    a, b = make(), make()
    p_update = np.array([[1.0, -1.0, 0.5]])
    p_step = p_update.copy()
    for epoch, g in enumerate(grads(7, (1, 3), 5)):
        p_update -= a.update("W0", p_update, g, epoch)
        result = b.step("W0", p_step, g, epoch)
        assert result is None or result is p_step
        np.testing.assert_allclose(p_step, p_update, rtol=1e-14, atol=1e-16)


# ---------------------------------------------------------------------------
# state_dict round trip
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), lambda: Adam(0.01, beta1=0.8)],
                         ids=["momentum", "adam"])
def test_state_dict_round_trip_continues_identically(make):
    original = make()
    gs = grads(8, (2, 2), 6)
    for epoch in range(3):
        original.update("W0", np.zeros((2, 2)), gs[epoch], epoch)
        original.update("b0", np.zeros((2, 2)), -gs[epoch], epoch)
    saved = original.state_dict()
    assert all(isinstance(v, np.ndarray) for v in saved.values())
    assert {key.split(".")[0] for key in saved} == {"W0", "b0"}
    restored = make()
    restored.load_state_dict(saved)
    for epoch in range(3, 6):
        np.testing.assert_array_equal(restored.update("W0", np.zeros((2, 2)), gs[epoch], epoch),
                                      original.update("W0", np.zeros((2, 2)), gs[epoch], epoch))
        np.testing.assert_array_equal(restored.update("b0", np.zeros((2, 2)), -gs[epoch], epoch),
                                      original.update("b0", np.zeros((2, 2)), -gs[epoch], epoch))


def test_state_dict_is_a_copy():
    opt = SGD(0.1, momentum=0.9)
    opt.update("W0", np.zeros(2), np.ones(2), 0)
    saved = opt.state_dict()
    before = {k: v.copy() for k, v in saved.items()}
    opt.update("W0", np.zeros(2), np.ones(2), 1)
    for key in saved:
        np.testing.assert_array_equal(saved[key], before[key])
    # and loading does not alias the caller's dict either
    fresh = SGD(0.1, momentum=0.9)
    fresh.load_state_dict(saved)
    fresh.update("W0", np.zeros(2), np.ones(2), 1)
    for key in saved:
        np.testing.assert_array_equal(saved[key], before[key])


def test_fresh_optimizer_differs_from_restored_one():
    # guards the round-trip test: without the state the numbers differ
    a = SGD(0.1, momentum=0.9)
    a.update("W0", np.zeros(1), np.ones(1), 0)
    b = SGD(0.1, momentum=0.9)
    assert a.update("W0", np.zeros(1), np.ones(1), 1)[0] != b.update("W0", np.zeros(1), np.ones(1), 1)[0]


def test_load_state_dict_rejects_bad_keys():
    with pytest.raises(ValueError, match="keys look like 'W0.velocity'"):
        SGD(0.1, momentum=0.9).load_state_dict({"velocity": np.zeros(2)})


# ---------------------------------------------------------------------------
# Factory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name,cls", [("SGD", SGD), ("sgd", SGD), ("Sgd", SGD),
                                      ("Adam", Adam), ("adam", Adam), ("ADAM", Adam)])
def test_optimizer_names_are_case_insensitive(name, cls):
    assert type(initialize_optimizer(name, lr=0.01)) is cls


def test_initialize_optimizer_defaults():
    opt = initialize_optimizer("SGD", lr=0.01)
    assert opt.momentum == 0.0 and opt.clip_norm is None
    assert opt.lr_scheduler(7) == 0.01
    adam = initialize_optimizer("adam", lr=0.002)
    assert (adam.beta1, adam.beta2, adam.epsilon) == (0.9, 0.999, 1e-8)


def test_initialize_optimizer_passes_momentum():
    opt = initialize_optimizer("SGD", lr=0.01, momentum=0.9)
    ref = RefSGD(0.01, momentum=0.9)
    for epoch, g in enumerate(grads(9, (2,), 3)):
        np.testing.assert_allclose(opt.update("W0", np.zeros(2), g, epoch), ref.delta("W0", g, epoch), rtol=1e-12)


def test_scheduler_object_is_accepted():
    opt = SGD(0.1, lr_scheduler=Exponential(0.1, decay=0.5, stage_length=1, staircase=True))
    np.testing.assert_allclose(opt.update("W0", np.zeros(1), np.ones(1), 2), [0.025], rtol=1e-12)


def test_update_accepts_numpy_integer_epoch():
    opt = initialize_optimizer("SGD", lr=0.1, lr_scheduler="exponential", lr_decay=0.5, stage_length=1)
    np.testing.assert_allclose(opt.update("W0", np.zeros(1), np.ones(1), np.int64(2)), [0.025], rtol=1e-12)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

CONSTRUCTOR_ERRORS = [
    (lambda: initialize_optimizer("rmsprop", lr=0.1), ValueError,
     r"unknown optimizer 'rmsprop'; valid names are \['adam', 'sgd'\]"),
    (lambda: initialize_optimizer(3, lr=0.1), TypeError, "optimizer must be a string"),
    (lambda: SGD(0.0), ValueError, "SGD: lr must be > 0"),
    (lambda: SGD(-0.1), ValueError, "lr must be > 0"),
    (lambda: SGD("0.1"), TypeError, "lr must be a number"),
    (lambda: SGD(float("nan")), ValueError, "lr must be finite"),
    (lambda: SGD(0.1, momentum=1.0), ValueError, "momentum must be < 1"),
    (lambda: SGD(0.1, momentum=-0.5), ValueError, "momentum must be >= 0"),
    (lambda: SGD(0.1, clip_norm=0), ValueError, "clip_norm must be > 0"),
    (lambda: SGD(0.1, lr_scheduler="cyclic"), ValueError, r"unknown scheduler 'cyclic'; valid names are \["),
    (lambda: Adam(0.1, beta1=1.0), ValueError, "beta1 must be < 1"),
    (lambda: Adam(0.1, beta2=1.5), ValueError, "beta2 must be <= 1"),
    (lambda: Adam(0.1, epsilon=0.0), ValueError, "epsilon must be > 0"),
    (lambda: initialize_optimizer("SGD", lr=0.1, beta1=0.9), ValueError, "beta1 does not apply to SGD"),
    (lambda: initialize_optimizer("adam", lr=0.1, momentum=0.9), ValueError, "momentum does not apply to Adam"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="exponential", lr_decay=1.5), ValueError,
     "decay must be <= 1"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="exponential", stage_length=0), ValueError,
     "stage_length must be >= 1"),
]


@pytest.mark.parametrize("build,exc,match", CONSTRUCTOR_ERRORS,
                         ids=[f"c{i}" for i in range(len(CONSTRUCTOR_ERRORS))])
def test_constructor_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), lambda: Adam(0.01)], ids=["sgd", "adam"])
def test_update_errors(make):
    opt = make()
    with pytest.raises(ValueError, match=r"param_grad must have the shape of param \(2, 3\); got \(3, 2\)"):
        opt.update("W0", np.zeros((2, 3)), np.zeros((3, 2)), 0)
    with pytest.raises(TypeError, match="param_name must be a non-empty string"):
        opt.update(0, np.zeros(2), np.zeros(2), 0)
    with pytest.raises(TypeError, match="param_grad must be a numpy array"):
        opt.update("W0", np.zeros(2), [0.0, 0.0], 0)
    with pytest.raises(TypeError, match="param must hold real numbers"):
        opt.update("W0", np.array(["a", "b"]), np.zeros(2), 0)
    with pytest.raises(ValueError, match="epoch must be a number >= 0"):
        opt.update("W0", np.zeros(2), np.zeros(2), -1)
    opt.update("W0", np.zeros(2), np.ones(2), 0)
    with pytest.raises(ValueError, match=r"param 'W0' has shape \(3,\) but the optimizer's state for it has shape \(2,\)"):
        opt.update("W0", np.zeros(3), np.ones(3), 1)
