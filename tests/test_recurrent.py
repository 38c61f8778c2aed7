"""The BPTT engine: the same numbers as stepping the cell by hand, and stateless calls."""

import copy

import numpy as np
import pytest

import seqnn

from conftest import CELL_KINDS, assert_same_run, layer_run, make_cell, named_state, parts, random_state


def stepped_run(cell, X, state0, dH) -> dict:
    """The lecture's unrolled graph by hand: one copy of ``cell`` per time step (each keeps its own
    step's cache), stepped forward with ``cell.forward`` and backward with ``cell.backward``; the
    weight gradient is the sum over the copies. Named as ``layer_run`` names a Recurrent's run."""
    T = X.shape[0]
    copies = [copy.deepcopy(cell) for _ in range(T)]
    state, hs = state0, []
    for t in range(T):
        copies[t].zero_grad()
        state = copies[t].forward(X[t], state)
        hs.append(parts(state)[0])
    run = {"H": np.stack(hs), **named_state("final", state, cell.state_names)}
    dstate, dxs = tuple(np.zeros_like(p) for p in parts(state0)), [None] * T
    for t in reversed(range(T)):
        dstate = (dstate[0] + dH[t],) + dstate[1:]                 # own loss + what came from t+1
        dxs[t], dprev = copies[t].backward(*dstate)
        dstate = parts(dprev)
    run.update({"dX": np.stack(dxs), **named_state("dstate0", dstate, cell.state_names)})
    run.update({f"grad.cell.{n}": sum(c.params[n].grad for c in copies) for n in cell.params})
    return run


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "readable"])
@pytest.mark.parametrize("kind", CELL_KINDS)
def test_the_engine_equals_stepping_the_cell_by_hand(kind, fast, rng):
    """Outputs, final state, dX, dstate0 and every weight gradient: the engine's hoisted products (and
    its fast loop) give what T one-step forwards and backwards give."""
    cell = make_cell(kind, 3, 4, rng=0)
    X, s0, dH = rng.standard_normal((5, 2, 3)), random_state(cell, 2, rng), rng.standard_normal((5, 2, 4))
    engine = layer_run(seqnn.Recurrent(cell, fast=fast), X, s0, dH)
    assert_same_run(engine, stepped_run(cell, X, s0, dH), rtol=1e-11, atol=1e-13, what="engine vs by hand")


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
    with pytest.raises(RuntimeError, match=r"backward\(\) called without a forward\(\) to match"):
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


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind, names", [("rnn-tanh", {"h"}), ("gru", {"h", "r", "z", "n"}),
                                         ("lstm", {"h", "c", "i", "f", "g", "o"})])
def test_record_names_every_value_of_the_forward_it_matches(kind, names, reverse, rng):
    cell = make_cell(kind, 3, 4, rng=0)
    layer = seqnn.Recurrent(cell, reverse=reverse)
    X, state0 = rng.standard_normal((6, 2, 3)), random_state(cell, 2, rng)
    values = layer.record(X, state0)
    H, final = layer.forward(X, state0)
    assert set(values) == names and all(v.shape == (6, 2, 4) for v in values.values())
    np.testing.assert_allclose(values["h"], H, rtol=1e-13, atol=1e-15)
    last = values["h"][0 if reverse else -1]
    np.testing.assert_allclose(last, final[0] if isinstance(final, tuple) else final, rtol=1e-13)
    for gate in names - {"h", "c", "g", "n"}:                      # the sigmoid gates lie in (0, 1)
        assert ((values[gate] > 0) & (values[gate] < 1)).all()
