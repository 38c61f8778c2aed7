"""Clipping and optimizers, against hand-computed updates."""

import numpy as np
import pytest

import seqnn
from seqnn.module import Parameter
from seqnn.optim import LRSchedule


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


def test_clip_grad_norm_takes_a_norm_already_computed():
    a, b = params_with_grads([3.0, 0.0], [0.0, 4.0]), params_with_grads([3.0, 0.0], [0.0, 4.0])
    assert seqnn.clip_grad_norm(a, 1.0) == seqnn.clip_grad_norm(b, 1.0, norm=seqnn.optim.grad_norm(b)) == 5.0
    assert all(np.array_equal(p.grad, q.grad) for p, q in zip(a, b))
    with pytest.raises(ValueError, match="norm: expected a finite number, got nan"):
        seqnn.clip_grad_norm(params_with_grads([1.0]), 1.0, norm=float("nan"))


def test_clip_grad_norm_refuses_nan():
    with pytest.raises(ValueError, match=r"gradients: parameter \(params\[0\], shape \(2,\)\) has a gradient of nan"):
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
    opt = seqnn.Adagrad([p], lr=0.1, eps=1e-300)   # eps > 0 is required; this one vanishes next to sqrt(G)
    opt.step()                        # G = 4: w -= 0.1 * 2 / 2
    opt.step()                        # G = 8: w -= 0.1 * 2 / sqrt(8)
    assert p.value[0] == pytest.approx(-0.1 - 0.2 / np.sqrt(8), rel=1e-14)


def test_rmsprop_first_step():
    p = one_param([0.0], [2.0])
    seqnn.RMSProp([p], lr=0.01, rho=0.9, eps=1e-300).step()    # s = 0.1 * 4; eps vanishes
    assert p.value[0] == pytest.approx(-0.01 * 2 / np.sqrt(0.4), rel=1e-14)


def test_adam_first_step_moves_by_lr():
    p = one_param([1.0, 1.0], [3.0, -0.001])
    seqnn.Adam([p], lr=0.01, eps=1e-300).step()
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


# --- state_dict / load_state_dict: resume to the bit --------------------------------------------
OPTIMIZERS = {
    "sgd": lambda ps: seqnn.SGD(ps, lr=0.1),
    "momentum": lambda ps: seqnn.SGD(ps, lr=0.1, momentum=0.9),
    "nesterov": lambda ps: seqnn.SGD(ps, lr=0.1, momentum=0.8, nesterov=True),
    "adagrad": lambda ps: seqnn.Adagrad(ps, lr=0.1),
    "rmsprop": lambda ps: seqnn.RMSProp(ps, lr=0.01, rho=0.9),
    "adam": lambda ps: seqnn.Adam(ps, lr=0.01, betas=(0.8, 0.95)),
}


def _params(rng, dtype):
    return [Parameter(rng.standard_normal(shape).astype(dtype)) for shape in ((3, 4), (4,), (2, 2))]


def _run(opt, grads):
    for step_grads in grads:
        for p, g in zip(opt.params, step_grads):
            p.grad[...] = g
        opt.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_resumed_from_state_dict_matches_uninterrupted_to_the_bit(name, dtype):
    rng = np.random.default_rng(7)
    ps = _params(rng, dtype)
    grads = [[rng.standard_normal(p.shape).astype(dtype) for p in ps] for _ in range(8)]
    start = [p.value.copy() for p in ps]

    whole = OPTIMIZERS[name](ps)
    _run(whole, grads)                                  # 8 steps without a stop

    first = OPTIMIZERS[name]([Parameter(v.copy()) for v in start])
    _run(first, grads[:5])                              # stop after 5 ...
    saved = first.state_dict()
    saved_values = [p.value.copy() for p in first.params]
    resumed = OPTIMIZERS[name]([Parameter(v.copy()) for v in saved_values])
    resumed.load_state_dict(saved)                      # ... resume in a fresh optimizer
    _run(resumed, grads[5:])
    for k, (a, b) in enumerate(zip(whole.params, resumed.params)):
        assert a.value.dtype == b.value.dtype == dtype
        assert np.array_equal(a.value, b.value), f"{name}: parameter {k} differs after resuming"
    assert resumed.steps == whole.steps == 8

    if name != "sgd":                                   # the state matters: without it the run differs
        fresh = OPTIMIZERS[name]([Parameter(v.copy()) for v in saved_values])
        _run(fresh, grads[5:])
        assert not all(np.array_equal(a.value, b.value) for a, b in zip(whole.params, fresh.params))


def test_optimizer_state_dict_holds_every_slot_step_and_hyper_parameter_as_copies():
    rng = np.random.default_rng(0)
    opt = seqnn.Adam(_params(rng, np.float64), lr=0.01, betas=(0.8, 0.95), eps=1e-7)
    _run(opt, [[rng.standard_normal(p.shape) for p in opt.params]] * 3)
    state = opt.state_dict()
    assert state["type"] == "Adam" and state["steps"] == 3 and state["lr"] == 0.01
    assert state["hyper"] == {"b1": 0.8, "b2": 0.95, "eps": 1e-7}
    assert sorted(state["slots"]) == ["m.0", "m.1", "m.2", "v.0", "v.1", "v.2"]
    state["slots"]["m.0"] += 1.0                        # a copy: the optimizer is unchanged
    assert not np.array_equal(state["slots"]["m.0"], opt.state["m", 0])


def test_optimizer_load_state_dict_refuses_a_mismatch():
    rng = np.random.default_rng(0)
    ps = _params(rng, np.float64)
    adam = seqnn.Adam(ps)
    _run(adam, [[rng.standard_normal(p.shape) for p in ps]])
    state = adam.state_dict()
    with pytest.raises(ValueError, match="expected the state of a RMSProp, got 'Adam'"):
        seqnn.RMSProp(ps).load_state_dict(state)
    with pytest.raises(ValueError, match=r"slot 'm.2' names no parameter .*holds 2"):
        seqnn.Adam(ps[:2]).load_state_dict(state)
    with pytest.raises(ValueError, match=r"slot 'm.0' is float64 \(3, 4\), its parameter float64 \(4, 3\)"):
        seqnn.Adam([Parameter(np.zeros((4, 3))), *ps[1:]]).load_state_dict(state)
    with pytest.raises(ValueError, match=r"slot 'm.0' is float64 \(3, 4\), its parameter float32"):
        seqnn.Adam(_params(rng, np.float32)).load_state_dict(state)


# --- learning-rate schedules ---------------------------------------------------------------------------------------
def test_warmup_rises_linearly_as_nanogpt_then_the_schedule_starts():
    s = LRSchedule(0.01, "constant", warmup=4)
    assert [s(t) for t in range(6)] == pytest.approx([0.002, 0.004, 0.006, 0.008, 0.01, 0.01])


def test_cosine_falls_from_lr_to_a_tenth_at_the_last_step_then_stays():
    s = LRSchedule(1.0, "cosine", warmup=10, total=110)
    assert s(10) == 1.0 and s(60) == pytest.approx(0.55) and s(110) == pytest.approx(0.1) and s(500) == s(110)
    rates = [s(t) for t in range(10, 111)]
    assert all(a > b for a, b in zip(rates, rates[1:])), "strictly falling"
    # nanoGPT's formula, written out: min_lr + 0.5 (1 + cos(pi ratio)) (lr - min_lr)
    assert s(35) == pytest.approx(0.1 + 0.5 * (1 + np.cos(np.pi * 25 / 100)) * 0.9, rel=1e-15)


def test_step_decay_multiplies_after_each_epoch_from_decay_after_on_as_char_rnn():
    s = LRSchedule(2.0, "step", steps_per_epoch=5, decay=0.5, decay_after=2)
    assert [s(t) for t in range(0, 25, 5)] == [2.0, 2.0, 1.0, 0.5, 0.25]      # epochs 0 .. 4 start
    assert s(9) == 2.0 and s(10) == 1.0, "the rate changes exactly at the epoch's boundary"
    assert LRSchedule(2.0, "step", steps_per_epoch=5, decay=1.0).describe() == "x1 after each epoch from epoch 10"


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0), "lr: expected a positive number"),
    (dict(kind="linear"), "kind"),
    (dict(warmup=-1), "warmup: expected an int >= 0"),
    (dict(kind="cosine"), "total: expected a positive int, got None"),
    (dict(kind="step"), "steps_per_epoch: expected a positive int, got None"),
    (dict(kind="step", steps_per_epoch=3, decay=1.5), r"decay: expected a factor in \(0, 1\], got 1.5"),
    (dict(kind="step", steps_per_epoch=3, decay_after=0), "decay_after: expected a positive int, got 0"),
])
def test_a_schedule_refuses_bad_arguments_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LRSchedule(**{"lr": 0.1, **kwargs})
