"""Clipping and optimizers, against hand-computed updates."""

import numpy as np
import pytest

import seqnn
from seqnn.module import Parameter


def params_with_grads(*grads):
    ps = []
    for g in grads:
        p = Parameter(np.zeros(len(g)))
        p.grad[...] = g
        ps.append(p)
    return ps


def test_clip_grad_norm_pytorch_example():
    ps = params_with_grads([3.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0])
    norm = seqnn.clip_grad_norm(ps, 1.0)
    assert norm == 5.0, "returns the norm before clipping"
    scale = 1.0 / (5.0 + 1e-6)
    assert np.array_equal(ps[0].grad, [3 * scale, 0, 0]) and np.array_equal(ps[1].grad, [0, 4 * scale, 0, 0])


def test_clip_grad_norm_is_global_and_keeps_direction(rng):
    grads = [rng.standard_normal(5) * 10, rng.standard_normal(3)]
    ps = params_with_grads(*grads)
    before = np.concatenate(grads)
    norm = seqnn.clip_grad_norm(ps, 2.0)
    after = np.concatenate([p.grad for p in ps])
    assert norm == pytest.approx(np.linalg.norm(before), rel=1e-14)
    assert np.linalg.norm(after) == pytest.approx(2.0, rel=1e-6)
    ratios = after / before
    assert np.ptp(ratios) < 1e-15, "one common factor for every entry of every parameter"


def test_clip_grad_norm_leaves_small_gradients_alone():
    ps = params_with_grads([0.3, 0.4])
    assert seqnn.clip_grad_norm(ps, 1.0) == pytest.approx(0.5)
    assert np.array_equal(ps[0].grad, [0.3, 0.4])


def test_clip_grad_norm_refuses_nan():
    with pytest.raises(ValueError, match="norm is nan"):
        seqnn.clip_grad_norm(params_with_grads([np.nan, 1.0]), 1.0)


def test_clip_grad_value_clamps_each_entry():
    ps = params_with_grads([-7.0, 0.5, 9.0])
    seqnn.clip_grad_value(ps, 5.0)
    assert np.array_equal(ps[0].grad, [-5.0, 0.5, 5.0])


def test_clip_accepts_a_module():
    cell = seqnn.RNNCell(2, 3, rng=0)
    for p in cell.parameters():
        p.grad.fill(10.0)
    assert seqnn.clip_grad_norm(cell, 1.0) == pytest.approx(10.0 * np.sqrt(cell.num_parameters()))


def one_param(value, grad):
    p = Parameter(np.array(value, dtype=np.float64))
    p.grad[...] = grad
    return p


def test_sgd_plain():
    p = one_param([1.0, 2.0], [0.5, -1.0])
    seqnn.SGD([p], lr=0.1).step()
    assert np.allclose(p.value, [0.95, 2.1], rtol=0, atol=1e-15)


def test_sgd_momentum_two_steps():
    p = one_param([1.0], [1.0])
    opt = seqnn.SGD([p], lr=0.1, momentum=0.9)
    opt.step()                        # v = 1, w = 1 - 0.1
    opt.step()                        # v = 0.9 + 1 = 1.9, w = 0.9 - 0.19
    assert p.value[0] == pytest.approx(0.71, rel=1e-14)


def test_sgd_nesterov_two_steps():
    p = one_param([1.0], [1.0])
    opt = seqnn.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    opt.step()                        # v = 1, w -= 0.1 * (1 + 0.9)
    opt.step()                        # v = 1.9, w -= 0.1 * (1 + 1.71)
    assert p.value[0] == pytest.approx(1.0 - 0.19 - 0.271, rel=1e-14)


def test_adagrad_two_steps():
    p = one_param([0.0], [2.0])
    opt = seqnn.Adagrad([p], lr=0.1, eps=0.0)
    opt.step()                        # G = 4: w -= 0.1 * 2 / 2
    opt.step()                        # G = 8: w -= 0.1 * 2 / sqrt(8)
    assert p.value[0] == pytest.approx(-0.1 - 0.2 / np.sqrt(8), rel=1e-14)


def test_rmsprop_first_step():
    p = one_param([0.0], [2.0])
    seqnn.RMSProp([p], lr=0.01, rho=0.9, eps=0.0).step()    # s = 0.1 * 4
    assert p.value[0] == pytest.approx(-0.01 * 2 / np.sqrt(0.4), rel=1e-14)


def test_adam_first_step_moves_by_lr():
    p = one_param([1.0, 1.0], [3.0, -0.001])
    seqnn.Adam([p], lr=0.01, eps=0.0).step()
    assert np.allclose(p.value, [0.99, 1.01], rtol=0, atol=1e-12), "bias-corrected first step is lr * sign(g)"


def test_lr_schedule_hook():
    p = one_param([0.0], [1.0])
    opt = seqnn.SGD([p], lr=1.0, lr_schedule=lambda k: 0.5 ** k)
    opt.step()
    opt.step()
    assert opt.lr == 0.5 and p.value[0] == pytest.approx(-1.5)


def test_bad_hyperparameters():
    p = one_param([0.0], [1.0])
    with pytest.raises(ValueError, match="lr"):
        seqnn.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        seqnn.SGD([p], momentum=1.5)
    with pytest.raises(TypeError, match="params"):
        seqnn.SGD([np.zeros(3)])
    with pytest.raises(ValueError, match="max_norm"):
        seqnn.clip_grad_norm([p], 0.0)
