"""The BPTT engine: the same numbers as stepping the cell by hand, and stateless calls."""

import numpy as np
import pytest

import seqnn

from conftest import random_state

def parts(state):
    """Public state -> tuple of arrays: h -> (h,), (h, c) -> (h, c)."""
    return state if isinstance(state, tuple) else (state,)


KINDS = [lambda: seqnn.RNNCell(3, 4, rng=0), lambda: seqnn.LSTMCell(3, 4, rng=0)]


@pytest.mark.parametrize("make", KINDS)
def test_forward_equals_stepping_the_cell(make, rng):
    layer = seqnn.Recurrent(make())
    X, s0 = rng.standard_normal((5, 2, 3)), random_state(layer.cell, 2, rng)
    H, sT = layer.forward(X, s0)
    state = s0
    for t in range(5):
        state = layer.cell.forward(X[t], state)
        assert np.allclose(H[t], parts(state)[0], rtol=0, atol=1e-14), f"h at t={t}"
    for got, want in zip(parts(sT), parts(state)):
        assert np.allclose(got, want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("make", KINDS)
def test_backward_equals_stepping_the_cell_backward(make, rng):
    """The engine's hoisted products give the same gradients as T one-step backwards."""
    layer = seqnn.Recurrent(make())
    cell = layer.cell
    X, s0 = rng.standard_normal((4, 2, 3)), random_state(cell, 2, rng)
    dH = rng.standard_normal((4, 2, 4))
    layer.forward(X, s0)
    cell.zero_grad()
    dX, ds0 = layer.backward(dH)
    engine = {n: p.grad.copy() for n, p in cell.named_parameters()}

    cell.zero_grad()
    states, caches = [s0], []
    for t in range(4):
        states.append(cell.forward(X[t], states[-1]))
        caches.append(cell._cache)
    dstate = tuple(np.zeros((2, 4)) for _ in cell.state_names)
    for t in reversed(range(4)):
        cell._cache = caches[t]
        dstate = (dstate[0] + dH[t],) + dstate[1:]
        dx, dprev = cell.backward(*dstate)
        assert np.allclose(dX[t], dx, rtol=0, atol=1e-13), f"dX at t={t}"
        dstate = parts(dprev)
    for name, p in cell.named_parameters():
        assert np.allclose(engine[name], p.grad, rtol=0, atol=1e-13), name
    for a, b in zip(parts(ds0), dstate):
        assert np.allclose(a, b, rtol=0, atol=1e-13)


def test_output_shapes_and_final_state_is_last_output(rng):
    layer = seqnn.Recurrent(seqnn.LSTMCell(3, 4, rng=0))
    H, (h, c) = layer.forward(rng.standard_normal((6, 5, 3)))
    assert H.shape == (6, 5, 4) and h.shape == c.shape == (5, 4)
    assert np.array_equal(H[-1], h)


def test_stateless_between_calls(rng):
    """A second sequence after an optimizer step just works; nothing carries over."""
    layer = seqnn.Recurrent(seqnn.RNNCell(3, 4, rng=0))
    X = rng.standard_normal((5, 2, 3))
    H1, _ = layer.forward(X)
    H1 = H1.copy()
    H2, _ = layer.forward(X)
    assert np.array_equal(H1, H2), "no hidden state carried between calls"

    layer.zero_grad()
    layer.backward(np.ones((5, 2, 4)))
    seqnn.SGD(layer.parameters(), lr=0.1).step()
    X2 = rng.standard_normal((7, 3, 3))                   # a new sequence, new shape
    H3, _ = layer.forward(X2)
    layer.zero_grad()
    dX, _ = layer.backward(np.ones((7, 3, 4)))
    assert dX.shape == X2.shape
    report = seqnn.gradcheck(layer, (X2,))
    assert report.max_error < 1e-6, "gradients after an update are still right"


def test_backward_does_not_modify_upstream_gradient(rng):
    layer = seqnn.Recurrent(seqnn.LSTMCell(3, 4, rng=0))
    layer.forward(rng.standard_normal((4, 2, 3)))
    dH = rng.standard_normal((4, 2, 4))
    dhT, dcT = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    copies = [dH.copy(), dhT.copy(), dcT.copy()]
    layer.backward(dH, (dhT, dcT))
    assert all(np.array_equal(a, b) for a, b in zip([dH, dhT, dcT], copies))


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        seqnn.Recurrent(seqnn.RNNCell(2, 3)).backward(np.zeros((1, 1, 3)))


def test_cell_must_be_a_cell():
    with pytest.raises(TypeError, match="cell: expected a seqnn Cell"):
        seqnn.Recurrent(seqnn.Linear(2, 3))


def test_parameters_are_the_cells(rng):
    layer = seqnn.Recurrent(seqnn.RNNCell(3, 4, rng=0))
    assert [n for n, _ in layer.named_parameters()] == ["cell.W_xh", "cell.W_hh", "cell.b_h"]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_what_forward_returns_cannot_corrupt_what_backward_reads(kind, fast):
    """H and the final state are views of the cache that backward reads: they are read-only, so a
    caller who writes into them gets an error instead of silently wrong gradients."""
    rng = np.random.default_rng(0)
    cell = seqnn.cells.make_cell(kind, 2, 3, rng=0)
    layer = seqnn.Recurrent(cell, fast=fast)
    X, dH = rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 3))
    H, final = layer.forward(X)
    for out in (H, *(final if isinstance(final, tuple) else (final,))):
        with pytest.raises(ValueError, match="read-only"):
            out[...] = 0.0
        out.copy()[...] = 0.0                                 # a copy is the caller's own
    dX, _ = layer.backward(dH)
    twin = seqnn.Recurrent(seqnn.cells.make_cell(kind, 2, 3, rng=0), fast=fast)
    twin.forward(X)
    np.testing.assert_array_equal(dX, twin.backward(dH)[0])
    h = cell.forward(X[0])                                    # one step: the same rule
    with pytest.raises(ValueError, match="read-only"):
        (h[0] if isinstance(h, tuple) else h)[...] = 0.0
