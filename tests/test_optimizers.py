"""Tests for neural_networks.optimizers.

SGD (plain, momentum, clipping, a staircase exponential schedule), RMSProp,
Adam and AdamW are compared with their update formulas written out here, step
by step, without calling the library. Also: per-name state, the caller's own delta,
state round trips (bit-identical continuation, also through a model
checkpoint), the factory and the schedule arguments it passes on, and input
validation.
"""

import math

import numpy as np
import pytest

from neural_networks.optimizers import SGD, Adam, AdamW, RMSProp, initialize_optimizer
from neural_networks.schedulers import Cosine, Exponential, Step


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


class RefRMSProp:
    """Tieleman & Hinton: s = rho s + (1 - rho) g^2, delta = lr g / (sqrt(s) + eps)."""

    def __init__(self, lr, rho=0.9, epsilon=1e-8):
        self.lr, self.rho, self.epsilon = lr, rho, epsilon
        self.s = {}

    def delta(self, name, grad):
        s = self.rho * self.s.get(name, 0.0) + (1 - self.rho) * grad**2
        self.s[name] = s
        return self.lr * grad / (np.sqrt(s) + self.epsilon)


class RefAdamW(RefAdam):
    """Loshchilov & Hutter, Algorithm 2 with the decay scaled by lr:
    delta = lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * param)."""

    def __init__(self, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, epsilon)
        self.weight_decay = weight_decay

    def delta(self, name, param, grad):
        # Adam's step on the gradient alone, plus the decay of the parameter itself.
        return super().delta(name, grad) + self.lr * self.weight_decay * param


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
# RMSProp
# ---------------------------------------------------------------------------


def test_rmsprop_first_steps_hand_values():
    # rho 0.9, grads [2, -0.5]: s = 0.1 * g^2 = [0.4, 0.025], so
    # delta = lr * g / (sqrt(0.1) |g|) = lr * sign(g) * sqrt(10) (epsilon aside)
    opt = RMSProp(0.01, rho=0.9, epsilon=1e-12)
    delta = opt.update("W0", np.zeros(2), np.array([2.0, -0.5]), 0)
    np.testing.assert_allclose(delta, [0.01 * math.sqrt(10), -0.01 * math.sqrt(10)], rtol=1e-10)
    # then grads [1, 1]: s = 0.9 * [0.4, 0.025] + 0.1 = [0.46, 0.1225]
    delta = opt.update("W0", np.zeros(2), np.array([1.0, 1.0]), 1)
    np.testing.assert_allclose(delta, [0.01 / math.sqrt(0.46), 0.01 / 0.35], rtol=1e-10)


@pytest.mark.parametrize("rho,epsilon", [(0.9, 1e-8), (0.99, 1e-6), (0.0, 1e-3), (0.5, 1e-8)])
def test_rmsprop_matches_reference(rho, epsilon):
    opt = RMSProp(0.003, rho=rho, epsilon=epsilon)
    ref = RefRMSProp(0.003, rho, epsilon)
    param = np.ones((2, 4))
    for epoch, g in enumerate(grads(10, (2, 4), 8)):
        np.testing.assert_allclose(opt.update("W0", param, g, epoch), ref.delta("W0", g), rtol=1e-12, atol=1e-15)


def test_rmsprop_with_clip_and_schedule_matches_reference():
    opt = initialize_optimizer("rmsprop", lr=0.01, rho=0.8, clip_norm=0.5, lr_scheduler="step",
                               step_size=2, gamma=0.5)
    ref = RefRMSProp(1.0, rho=0.8)
    for epoch, g in enumerate(grads(11, (3,), 6)):
        clipped = g * min(1.0, 0.5 / math.sqrt(float(np.sum(g**2))))
        lr = 0.01 * 0.5 ** (epoch // 2)
        np.testing.assert_allclose(opt.update("b0", np.zeros(3), g, epoch), lr * ref.delta("b0", clipped),
                                   rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# AdamW
# ---------------------------------------------------------------------------


def test_adamw_first_step_hand_values():
    # t = 1: m_hat / (sqrt(v_hat) + eps) = g / (|g| + eps), about sign(g); then
    # delta = 0.01 * ([1, -1] + 0.1 * [1, -2]) = [0.011, -0.012]
    opt = AdamW(0.01, weight_decay=0.1, epsilon=1e-12)
    delta = opt.update("W0", np.array([1.0, -2.0]), np.array([2.0, -0.5]), 0)
    np.testing.assert_allclose(delta, [0.011, -0.012], rtol=1e-10)


def test_adamw_decays_a_weight_with_zero_gradient():
    # g = 0 throughout: m = v = 0, so only the decay moves the weight, by the
    # factor 1 - lr * weight_decay = 0.95 per step.
    opt = AdamW(0.5, weight_decay=0.1)
    param = np.array([4.0])
    for _ in range(3):
        param -= opt.update("W0", param, np.zeros(1), 0)
    np.testing.assert_allclose(param, [4.0 * 0.95**3], rtol=1e-12)


@pytest.mark.parametrize("beta1,beta2,epsilon,weight_decay",
                         [(0.9, 0.999, 1e-8, 0.01), (0.5, 0.9, 1e-3, 0.3), (0.0, 0.99, 1e-6, 0.0)])
def test_adamw_matches_reference_over_several_steps(beta1, beta2, epsilon, weight_decay):
    # The parameter moves between steps, so the decay term sees a new value each time.
    opt = AdamW(0.05, beta1=beta1, beta2=beta2, epsilon=epsilon, weight_decay=weight_decay)
    ref = RefAdamW(0.05, beta1, beta2, epsilon, weight_decay)
    param = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    ref_param = param.copy()
    for epoch, g in enumerate(grads(12, (2, 3), 8)):
        param -= opt.update("W0", param, g, epoch)
        ref_param = ref_param - ref.delta("W0", ref_param, g)
        np.testing.assert_allclose(param, ref_param, rtol=1e-12, atol=1e-15)


def test_adamw_with_clip_and_cosine_schedule_matches_reference():
    # Clipping applies to the gradient only, not to the decay term.
    opt = initialize_optimizer("AdamW", lr=0.02, weight_decay=0.5, clip_norm=0.3,
                               lr_scheduler="cosine", total_epochs=4, min_lr=0.002)
    ref = RefAdamW(1.0, weight_decay=0.5)
    param = np.array([2.0, -1.0, 0.5])
    for epoch, g in enumerate(grads(13, (3,), 6)):
        clipped = g * min(1.0, 0.3 / math.sqrt(float(np.sum(g**2))))
        lr = 0.002 + (0.02 - 0.002) * (1 + math.cos(math.pi * min(epoch, 4) / 4)) / 2
        expected = lr * ref.delta("W0", param, clipped)  # ref lr 1: scale the whole step
        np.testing.assert_allclose(opt.update("W0", param, g, epoch), expected, rtol=1e-12, atol=1e-15)
        param = param - expected


def test_adamw_is_not_adam_with_l2_in_the_gradient():
    # Adam on g + weight_decay * param (L2 added to the gradient) divides the
    # decay by sqrt(v_hat); AdamW does not. Same settings, different steps.
    lr, wd = 0.01, 0.1
    decoupled = AdamW(lr, weight_decay=wd)
    coupled = RefAdam(lr)
    param = np.array([1.0, -1.0])
    g = np.array([0.001, 1000.0])
    a = decoupled.update("W0", param, g, 0)
    b = coupled.delta("W0", g + wd * param)
    assert not np.allclose(a, b, rtol=1e-3)
    # the decoupled step is the Adam step plus lr * wd * param exactly
    np.testing.assert_allclose(a, lr * (g / (np.abs(g) + 1e-8)) + lr * wd * param, rtol=1e-12)


def test_adamw_with_zero_weight_decay_is_adam():
    opt, ref = AdamW(0.01, weight_decay=0.0), RefAdam(0.01)
    for epoch, g in enumerate(grads(14, (4,), 5)):
        np.testing.assert_allclose(opt.update("W0", np.ones(4), g, epoch), ref.delta("W0", g), rtol=1e-13)


# ---------------------------------------------------------------------------
# State per name; update vs step
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sgd", "rmsprop", "adam", "adamw"])
def test_state_is_kept_per_param_name(kind):
    if kind == "sgd":
        opt, ref = SGD(0.1, momentum=0.9), RefSGD(0.1, momentum=0.9)
        ref_delta = lambda name, g, epoch: ref.delta(name, g, epoch)  # noqa: E731
    elif kind == "rmsprop":
        opt, ref = RMSProp(0.01), RefRMSProp(0.01)
        ref_delta = lambda name, g, epoch: ref.delta(name, g)  # noqa: E731
    elif kind == "adam":
        opt, ref = Adam(0.01), RefAdam(0.01)
        ref_delta = lambda name, g, epoch: ref.delta(name, g)  # noqa: E731
    else:  # the parameters stay at zero here, so the decay adds nothing
        opt, ref = AdamW(0.01, weight_decay=0.1), RefAdamW(0.01, weight_decay=0.1)
        ref_delta = lambda name, g, epoch: ref.delta(name, np.zeros_like(g), g)  # noqa: E731
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
                                  lambda: Adam(0.01), lambda: SGD(0.1, momentum=0.5, clip_norm=0.1),
                                  lambda: RMSProp(0.01), lambda: AdamW(0.01, weight_decay=0.01)],
                         ids=["sgd", "momentum", "adam", "clip", "rmsprop", "adamw"])
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


# ---------------------------------------------------------------------------
# state_dict round trip
# ---------------------------------------------------------------------------


ROUND_TRIP = {
    "momentum": (lambda: SGD(0.1, momentum=0.9), {"velocity"}),
    "adam": (lambda: Adam(0.01, beta1=0.8), {"m", "v", "t"}),
    "rmsprop": (lambda: RMSProp(0.01, rho=0.8), {"mean_square"}),
    "adamw": (lambda: AdamW(0.01, beta1=0.8, weight_decay=0.2), {"m", "v", "t"}),
}


@pytest.mark.parametrize("kind", sorted(ROUND_TRIP))
def test_state_dict_round_trip_continues_identically(kind):
    make, buffers = ROUND_TRIP[kind]
    original = make()
    gs = grads(8, (2, 2), 6)
    params = {"W0": np.array([[1.0, -2.0], [0.5, 3.0]]), "b0": np.array([[0.1, 0.2], [-0.3, 0.0]])}
    for epoch in range(3):
        params["W0"] -= original.update("W0", params["W0"], gs[epoch], epoch)
        params["b0"] -= original.update("b0", params["b0"], -gs[epoch], epoch)
    saved = original.state_dict()
    assert all(isinstance(v, np.ndarray) for v in saved.values())
    assert set(saved) == {f"{name}.{key}" for name in ("W0", "b0") for key in buffers}
    restored = make()
    restored.load_state_dict(saved)
    copies = {name: value.copy() for name, value in params.items()}
    for epoch in range(3, 6):
        for name, sign in (("W0", 1), ("b0", -1)):
            params[name] -= original.update(name, params[name], sign * gs[epoch], epoch)
            copies[name] -= restored.update(name, copies[name], sign * gs[epoch], epoch)
            np.testing.assert_array_equal(copies[name], params[name])
    # and a fresh optimizer (no state) would have gone elsewhere
    fresh, again = make(), {name: value.copy() for name, value in params.items()}
    again["W0"] -= fresh.update("W0", again["W0"], gs[0], 6)
    params["W0"] -= original.update("W0", params["W0"], gs[0], 6)
    assert not np.array_equal(again["W0"], params["W0"])


@pytest.mark.parametrize("optimizer_args", [
    {"name": "RMSProp", "lr": 0.01},
    {"name": "AdamW", "lr": 0.01, "weight_decay": 0.05, "lr_scheduler": "step", "step_size": 1, "gamma": 0.5},
], ids=["rmsprop", "adamw"])
def test_model_checkpoint_resume_is_bit_identical(tmp_path, optimizer_args):
    # Through NeuralNetwork.save/load: 2 + 2 epochs equal 4 straight epochs.
    from neural_networks.datasets import initialize_dataset
    from neural_networks.models import NeuralNetwork

    layers = [{"name": "fully_connected", "activation": "relu", "n_out": 8},
              {"name": "fully_connected", "activation": "softmax", "n_out": None}]

    def fresh():
        model = NeuralNetwork("cross_entropy", layers, dict(optimizer_args), seed=0)
        return model, initialize_dataset("iris", batch_size=25, seed=0)

    straight, data = fresh()
    straight.train(data, 4, verbose=False)
    first, data = fresh()
    first.train(data, 2, verbose=False)
    first.save(tmp_path / "half.npz", data)
    second, data = fresh()
    second.load(tmp_path / "half.npz", data)
    second.train(data, 2, verbose=False)
    assert second.history == straight.history
    for a, b in zip(straight.layers, second.layers):
        for key in a.parameters:
            np.testing.assert_array_equal(a.parameters[key], b.parameters[key])
    assert straight.optimizer.state_dict().keys() == second.optimizer.state_dict().keys()
    for key, value in straight.optimizer.state_dict().items():
        np.testing.assert_array_equal(second.optimizer.state_dict()[key], value)


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


def _sgd_state():
    sgd = SGD(0.1, momentum=0.9)
    sgd.update("W0", np.zeros(2), np.ones(2), 0)
    return sgd.state_dict()


@pytest.mark.parametrize("make, state, error, message", [
    (lambda: SGD(0.1, momentum=0.9), lambda: {"velocity": np.zeros(2)}, ValueError,
     r"SGD.load_state_dict: keys look like 'W0.velocity'; got 'velocity'"),
    (lambda: Adam(0.01), _sgd_state, ValueError,
     r"Adam.load_state_dict: Adam keeps \['m', 'v', 't'\] per parameter; got 'W0.velocity'"),
    (lambda: RMSProp(0.01), _sgd_state, ValueError, r"RMSProp keeps \['mean_square'\] per parameter"),
    (lambda: AdamW(0.01), lambda: {"W0.m": np.zeros(2)}, ValueError, r"the state of 'W0' lacks \['v', 't'\]"),
    (lambda: Adam(0.01), lambda: [("W0.m", np.zeros(2))], TypeError, r"state must be a dict; got \[\("),
])
def test_load_state_dict_refuses_a_state_that_does_not_fit(make, state, error, message):
    opt = make()
    with pytest.raises(error, match=message):
        opt.load_state_dict(state())
    assert opt.state == {}


# ---------------------------------------------------------------------------
# Factory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name,cls", [("SGD", SGD), ("sgd", SGD), ("Sgd", SGD),
                                      ("Adam", Adam), ("adam", Adam), ("ADAM", Adam),
                                      ("RMSProp", RMSProp), ("rmsprop", RMSProp), ("RMSprop", RMSProp),
                                      ("AdamW", AdamW), ("adamw", AdamW), ("ADAMW", AdamW)])
def test_optimizer_names_are_case_insensitive(name, cls):
    assert type(initialize_optimizer(name, lr=0.01)) is cls


def test_initialize_optimizer_defaults():
    opt = initialize_optimizer("SGD", lr=0.01)
    assert opt.momentum == 0.0 and opt.clip_norm is None
    assert opt.lr_scheduler(7) == 0.01
    adam = initialize_optimizer("adam", lr=0.002)
    assert (adam.beta1, adam.beta2, adam.epsilon) == (0.9, 0.999, 1e-8)
    rmsprop = initialize_optimizer("RMSProp", lr=0.002)
    assert (rmsprop.rho, rmsprop.epsilon, rmsprop.clip_norm) == (0.9, 1e-8, None)
    adamw = initialize_optimizer("AdamW", lr=0.002)
    assert (adamw.beta1, adamw.beta2, adamw.epsilon, adamw.weight_decay) == (0.9, 0.999, 1e-8, 0.01)
    assert adamw.lr_scheduler(50) == 0.002


def test_initialize_optimizer_passes_own_arguments():
    rmsprop = initialize_optimizer("rmsprop", lr=0.01, rho=0.5, epsilon=1e-4, clip_norm=2.0)
    assert (rmsprop.rho, rmsprop.epsilon, rmsprop.clip_norm) == (0.5, 1e-4, 2.0)
    adamw = initialize_optimizer("adamw", lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, weight_decay=0.1)
    assert (adamw.beta1, adamw.beta2, adamw.epsilon, adamw.weight_decay) == (0.8, 0.99, 1e-6, 0.1)


@pytest.mark.parametrize("name", ["SGD", "RMSProp", "Adam", "AdamW"])
def test_initialize_optimizer_step_schedule_hand_values(name):
    # 0.1 * 0.5 ** floor(epoch / 2)
    opt = initialize_optimizer(name, lr=0.1, lr_scheduler="step", step_size=2, gamma=0.5)
    assert type(opt.lr_scheduler) is Step
    assert [opt.lr_scheduler(e) for e in range(6)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025],
                                                                    rel=1e-12)


def test_initialize_optimizer_step_schedule_drives_sgd():
    opt = initialize_optimizer("SGD", lr=0.1, lr_scheduler="step", step_size=3)  # gamma 0.1 by default
    got = [float(opt.update("W0", np.zeros(1), np.ones(1), epoch)[0]) for epoch in (0, 2, 3, 6)]
    assert got == pytest.approx([0.1, 0.1, 0.01, 0.001], rel=1e-12)


def test_initialize_optimizer_cosine_schedule_hand_values():
    # 0.01 + 0.09 * (1 + cos(pi * epoch / 4)) / 2
    opt = initialize_optimizer("adam", lr=0.1, lr_scheduler="cosine", total_epochs=4, min_lr=0.01)
    assert type(opt.lr_scheduler) is Cosine
    got = [opt.lr_scheduler(e) for e in range(6)]
    expected = [0.1, 0.08681980515339464, 0.055, 0.023180194846605363, 0.01, 0.01]
    assert got == pytest.approx(expected, rel=1e-12)


def test_initialize_optimizer_none_schedule_arguments_are_not_given():
    # What a dict with every key present but unused looks like.
    opt = initialize_optimizer("SGD", lr=0.1, lr_scheduler=None, momentum=None, clip_norm=None, lr_decay=None,
                               staircase=None, stage_length=None, step_size=None, gamma=None,
                               total_epochs=None, min_lr=None)
    assert opt.lr_scheduler(9) == 0.1
    step = initialize_optimizer("SGD", lr=0.1, lr_scheduler="step", lr_decay=None, total_epochs=None)
    assert step.lr_scheduler(10) == pytest.approx(0.01, rel=1e-12)


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
    (lambda: initialize_optimizer("adagrad", lr=0.1), ValueError,
     r"unknown optimizer 'adagrad'; valid names are \['adam', 'adamw', 'rmsprop', 'sgd'\]"),
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
    (lambda: Adam(0.1, beta2=1.5), ValueError, "beta2 must be < 1; got 1.5"),
    (lambda: Adam(0.1, epsilon=0.0), ValueError, "epsilon must be > 0"),
    (lambda: RMSProp(0.1, rho=1.0), ValueError, "RMSProp: rho must be < 1; got 1.0"),
    (lambda: RMSProp(0.1, rho=-0.1), ValueError, "RMSProp: rho must be >= 0; got -0.1"),
    (lambda: RMSProp(0.1, rho="0.9"), TypeError, r"RMSProp: rho must be a number; got '0.9' \(str\)"),
    (lambda: RMSProp(0.1, epsilon=0.0), ValueError, "RMSProp: epsilon must be > 0"),
    (lambda: RMSProp(0.0), ValueError, "RMSProp: lr must be > 0"),
    (lambda: AdamW(0.1, weight_decay=-0.01), ValueError, "AdamW: weight_decay must be >= 0; got -0.01"),
    (lambda: AdamW(0.1, weight_decay="0.01"), TypeError, "AdamW: weight_decay must be a number"),
    (lambda: AdamW(0.1, weight_decay=float("inf")), ValueError, "AdamW: weight_decay must be finite"),
    (lambda: AdamW(0.1, weight_decay=10.0), ValueError,
     r"AdamW: lr \* weight_decay must be < 1 .*got lr=0.1, weight_decay=10.0"),
    (lambda: AdamW(0.1, beta1=1.0), ValueError, "AdamW: beta1 must be < 1"),
    (lambda: AdamW(0.1, epsilon=-1.0), ValueError, "AdamW: epsilon must be > 0"),
    (lambda: initialize_optimizer("AdamW", lr=-1.0), ValueError, "AdamW: lr must be > 0; got -1.0"),
    (lambda: initialize_optimizer("SGD", lr=0.1, beta1=0.9), ValueError, "beta1 does not apply to SGD"),
    (lambda: initialize_optimizer("SGD", lr=0.1, rho=0.9), ValueError,
     r"initialize_optimizer: rho does not apply to SGD \(it takes momentum\); got 0.9"),
    (lambda: initialize_optimizer("rmsprop", lr=0.1, momentum=0.9), ValueError,
     r"momentum does not apply to RMSProp \(it takes rho, epsilon\)"),
    (lambda: initialize_optimizer("adam", lr=0.1, weight_decay=0.01), ValueError,
     r"weight_decay does not apply to Adam \(it takes beta1, beta2, epsilon\)"),
    (lambda: initialize_optimizer("adamw", lr=0.1, momentum=0.0), ValueError, "momentum does not apply to AdamW"),
    (lambda: initialize_optimizer("adamw", lr=0.1, weight_decay="a lot"), TypeError,
     "AdamW: weight_decay must be a number"),
    (lambda: initialize_optimizer("rmsprop", lr=0.1, rho=1), ValueError, "RMSProp: rho must be < 1"),
    (lambda: initialize_optimizer("adam", lr=0.1, momentum=0.9), ValueError, "momentum does not apply to Adam"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="exponential", lr_decay=1.5), ValueError,
     "decay must be <= 1"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="exponential", stage_length=0), ValueError,
     "stage_length must be >= 1"),
    # schedule arguments that the chosen schedule does not take
    (lambda: initialize_optimizer("SGD", lr=0.1, step_size=5), ValueError,
     r"initialize_optimizer: step_size does not apply to the 'constant' lr_scheduler "
     r"\(it takes no arguments\); got 5"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_decay=0.5), ValueError,
     r"lr_decay does not apply to the 'constant' lr_scheduler"),
    (lambda: initialize_optimizer("adam", lr=0.1, lr_scheduler=None, staircase=True), ValueError,
     r"staircase does not apply to the 'constant' lr_scheduler"),
    (lambda: initialize_optimizer("adam", lr=0.1, lr_scheduler="Step", lr_decay=0.5), ValueError,
     r"lr_decay does not apply to the 'step' lr_scheduler \(it takes step_size, gamma\); got 0.5"),
    (lambda: initialize_optimizer("adamw", lr=0.1, lr_scheduler="exponential", gamma=0.5), ValueError,
     r"gamma does not apply to the 'exponential' lr_scheduler \(it takes lr_decay, stage_length, staircase\)"),
    (lambda: initialize_optimizer("rmsprop", lr=0.1, lr_scheduler="cosine", step_size=3), ValueError,
     r"step_size does not apply to the 'cosine' lr_scheduler \(it takes total_epochs, min_lr\)"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="step", total_epochs=10), ValueError,
     r"total_epochs does not apply to the 'step' lr_scheduler"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler=Step(0.1), gamma=0.5), ValueError,
     r"gamma does not apply when lr_scheduler is a schedule object \(Step\); set it when building "
     r"that object; got 0.5"),
    (lambda: SGD(0.1, lr_decay=0.5), ValueError, r"SGD: lr_decay does not apply to the 'constant' lr_scheduler"),
    (lambda: Adam(0.1, lr_scheduler=Exponential(0.1), stage_length=2), ValueError,
     r"Adam: stage_length does not apply when lr_scheduler is a schedule object \(Exponential\)"),
    # bad values of the schedule arguments reach the schedule's own checks
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="step", step_size=0), ValueError,
     "Step: step_size must be >= 1; got 0"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="step", step_size=2.5), TypeError,
     "Step: step_size must be an integer"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="step", gamma=1.5), ValueError,
     "Step: gamma must be < 1"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="cosine", total_epochs=0), ValueError,
     "Cosine: total_epochs must be >= 1"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="cosine", min_lr=0.5), ValueError,
     "Cosine: min_lr must be <= 0.1"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler="exponential", staircase="yes"), TypeError,
     "Exponential: staircase must be True or False; got 'yes'"),
    (lambda: initialize_optimizer("SGD", lr=0.1, lr_scheduler=3), TypeError, "scheduler must be a string"),
]


@pytest.mark.parametrize("build,exc,match", CONSTRUCTOR_ERRORS,
                         ids=[f"c{i}" for i in range(len(CONSTRUCTOR_ERRORS))])
def test_constructor_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def _update_twice():
    return [("W0", np.zeros(2), np.ones(2), 0), ("W0", np.zeros(3), np.ones(3), 1)]


UPDATE_ERRORS = [  # (the update calls, exception, message after "<Optimizer>.update: ")
    (lambda: [("W0", np.zeros((2, 3)), np.zeros((3, 2)), 0)], ValueError,
     r"param_grad must have the shape of param \(2, 3\); got \(3, 2\)"),
    (lambda: [(0, np.zeros(2), np.zeros(2), 0)], TypeError, "param_name must be a non-empty string; got 0"),
    (lambda: [("W0", np.zeros(2), [0.0, 0.0], 0)], TypeError, "param_grad must be a numpy array"),
    (lambda: [("W0", np.array(["a", "b"]), np.zeros(2), 0)], TypeError, "param must hold real numbers"),
    (_update_twice, ValueError,
     r"param 'W0' has shape \(3,\) but the optimizer's state for it has shape \(2,\)"),
]


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), lambda: Adam(0.01), lambda: RMSProp(0.01),
                                  lambda: AdamW(0.01)], ids=["sgd", "adam", "rmsprop", "adamw"])
@pytest.mark.parametrize("calls, error, message", UPDATE_ERRORS)
def test_update_refuses_bad_input(make, calls, error, message):
    opt = make()
    *good, bad = calls()
    for call in good:
        opt.update(*call)
    with pytest.raises(error, match=rf"{type(opt).__name__}\.update: {message}"):
        opt.update(*bad)


def test_update_refuses_a_negative_epoch():
    with pytest.raises(ValueError, match=r"Constant: epoch must be a number >= 0; got -1 \(int\)"):
        SGD(0.1).update("W0", np.zeros(2), np.zeros(2), -1)


def test_repr_shows_the_hyperparameters_and_the_schedule():
    assert repr(SGD(0.1, momentum=0.9)) == (
        "SGD(lr=0.1, momentum=0.9, lr_scheduler=Constant(lr=0.1), clip_norm=None)")
    assert repr(AdamW(0.01, lr_scheduler=Step(0.01, step_size=2), clip_norm=1.0)) == (
        "AdamW(lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-08, weight_decay=0.01, "
        "lr_scheduler=Step(lr=0.01, step_size=2, gamma=0.1), clip_norm=1.0)")
