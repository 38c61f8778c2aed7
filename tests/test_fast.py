"""The engine's fast paths (seqnn.fast) compute what the readable step/step_backward loop computes."""

import numpy as np
import pytest

import seqnn
from seqnn import fast

from conftest import CELL_KINDS, assert_same_run, layer_run, make_cell

CELLS = {name: (lambda H=6, _n=name, **kw: make_cell(_n, 5, H, **kw)) for name in CELL_KINDS}


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-4)])
@pytest.mark.parametrize("T", [1, 5, fast.CHUNK, 2 * fast.CHUNK + 3])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", CELLS)
def test_fast_path_equals_readable_loop(kind, bias, T, dtype, tol, with_lengths):
    rng = np.random.default_rng(0)
    cell = CELLS[kind](bias=bias, dtype=dtype, rng=1)
    B, D, H = 3, 5, 6
    X = rng.standard_normal((T, B, D)).astype(dtype)
    parts = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in cell.state_names)
    dparts = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in cell.state_names)
    state0, dstate = (parts, dparts) if len(parts) == 2 else (parts[0], dparts[0])
    dH = rng.standard_normal((T, B, H)).astype(dtype)
    lengths = np.array([T, max(1, T // 2), 1]) if with_lengths else None
    for reverse in (False, True):
        runs = {}
        for fast_loop in (True, False):
            layer = seqnn.Recurrent(cell, reverse=reverse, fast=fast_loop)
            assert (layer.kernel is not None) == fast_loop
            runs[fast_loop] = layer_run(layer, X, state0, dH, dstate, lengths)
        assert all(a.dtype == dtype for a in runs[True].values())
        assert_same_run(runs[True], runs[False], rtol=tol, atol=tol, what=f"fast vs readable, reverse={reverse}")


def test_fast_path_does_not_touch_its_inputs():
    rng = np.random.default_rng(0)
    layer = seqnn.Recurrent(seqnn.LSTMCell(3, 4, rng=0))
    X, h0, c0 = rng.standard_normal((20, 2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    dH, dh, dc = rng.standard_normal((20, 2, 4)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    copies = [a.copy() for a in (X, h0, c0, dH, dh, dc)]
    layer.forward(X, (h0, c0))
    layer.backward(dH, (dh, dc))
    assert all(np.array_equal(a, b) for a, b in zip((X, h0, c0, dH, dh, dc), copies))


def test_extreme_preactivations_stay_finite_without_warnings():
    import warnings
    layer = seqnn.Recurrent(seqnn.LSTMCell(2, 3, rng=0))
    X = np.array([[[1e4, -1e4]]]).repeat(4, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        H, (h, c) = layer.forward(X)
        dX, _ = layer.backward(np.ones_like(H))
    assert np.isfinite(H).all() and np.isfinite(dX).all()


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("H", [1, 6])
def test_fast_path_leaves_the_weights_alone(kind, H):
    """With H = 1, W_hh.T is already contiguous: a scaled 'copy' must still be a copy."""
    rng = np.random.default_rng(0)
    cell = CELLS[kind](H, rng=0)
    before = {n: p.value.copy() for n, p in cell.named_parameters()}
    layer = seqnn.Recurrent(cell)
    layer.forward(rng.standard_normal((3, 2, 5)))
    layer.backward(np.ones((3, 2, cell.hidden_size)))
    assert all(np.array_equal(before[n], p.value) for n, p in cell.named_parameters())


@pytest.mark.parametrize("kind", CELLS)
def test_readable_loop_gradients_with_lengths(kind):
    """The readable loop (fast=False, and any cell without a fast loop) is gradient-checked on its own too."""
    rng = np.random.default_rng(3)
    layer = seqnn.Recurrent(CELLS[kind](3, rng=0), reverse=True, fast=False)
    X = rng.standard_normal((4, 3, 5))

    def forward(X):
        return layer.forward(X, None, np.array([4, 2, 1]))

    report = seqnn.gradcheck(forward, (X,), backward=layer.backward, params=layer)
    assert report.max_error < 1e-6, str(report)


def test_the_switch_shows_in_repr_and_a_cell_of_your_own_runs_the_readable_loop():
    cell = seqnn.LSTMCell(2, 3, rng=0)
    assert repr(seqnn.Recurrent(cell)).endswith("fast=True)")
    assert repr(seqnn.Recurrent(cell, fast=False)).endswith("fast=False)")
    assert seqnn.Recurrent(cell).kernel is fast.LSTMKernel and seqnn.Recurrent(cell, fast=False).kernel is None
    Mine = type("MyLSTMCell", (seqnn.LSTMCell,), {})           # may change the maths: no fast loop
    layer = seqnn.Recurrent(Mine(2, 3, rng=0))
    assert layer.kernel is None and "no fast loop for MyLSTMCell: runs the readable one" in repr(layer)


def test_the_readable_loop_runs_cell_step(monkeypatch):
    """fast=False really calls the cell's step and step_backward, once per time step (a breakpoint there stops)."""
    cell = seqnn.GRUCell(2, 3, rng=0)
    calls = []
    for name in ("step", "step_backward"):
        original = getattr(cell, name)
        monkeypatch.setattr(cell, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    for fast_loop, expected in ((True, []), (False, ["step"] * 4 + ["step_backward"] * 4)):
        calls.clear()
        layer = seqnn.Recurrent(cell, fast=fast_loop)
        H, _ = layer.forward(np.ones((4, 1, 2)))
        layer.backward(np.ones_like(H))
        assert calls == expected


def test_stacks_and_models_pass_the_switch_on():
    from seqnn.models import CharLM
    stack = seqnn.LSTM(2, 3, num_layers=2, bidirectional=True, fast=False, rng=0)
    assert all(layer.kernel is None for layer in stack.layers) and "fast=False" in repr(stack)
    model = CharLM(5, 4, cell="gru", fast=False, rng=0)
    twin = CharLM(5, 4, cell="gru", rng=0)
    assert model.rnn.layers[0].kernel is None and twin.rnn.layers[0].kernel is fast.GRUKernel
    ids = np.random.default_rng(0).integers(0, 5, (6, 2))
    np.testing.assert_allclose(model.forward(ids)[0], twin.forward(ids)[0], rtol=1e-12, atol=1e-12)
