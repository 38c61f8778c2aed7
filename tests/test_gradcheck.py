"""Every backward pass against central differences (float64, random upstream
gradients, random initial states, T >= 3, B > 1, fixed seeds), plus edge shapes,
plus proof that the checker catches a broken backward.

A new cell is covered by adding one line to conftest.CELL_KINDS.
"""

import numpy as np
import pytest

import seqnn
from seqnn.gradient_check import numerical_gradient, relative_error
from seqnn.models import CharLM, Seq2Seq, SequenceClassifier, SequenceTagger

from conftest import CELL_KINDS, check_grads, make_cell, random_state

CELLS = {name: (lambda D, H, _n=name, **kw: make_cell(_n, D, H, **kw)) for name in CELL_KINDS}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", CELLS)
def test_cell_one_step(kind, bias, rng):
    cell = CELLS[kind](3, 4, bias=bias, rng=0)
    x = rng.standard_normal((2, 3))
    report = check_grads(cell, (x, random_state(cell, 2, rng)), rng=1)
    expected = {"x", "W_xh", "W_hh"} | ({"b_h"} if bias else set()) | ({"b_hn"} if bias and kind == "gru" else set())
    assert expected <= set(report.errors)
    assert any(name.startswith("state") for name in report.errors)


@pytest.mark.parametrize("T,B", [(3, 2), (6, 3)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", CELLS)
def test_sequence_layer(kind, bias, T, B, rng):
    layer = seqnn.Recurrent(CELLS[kind](3, 4, bias=bias, rng=2))
    X = rng.standard_normal((T, B, 3))
    report = check_grads(layer, (X, random_state(layer.cell, B, rng)), rng=3)
    assert {"X", "cell.W_xh", "cell.W_hh"} <= set(report.errors)


@pytest.mark.parametrize("kind", CELLS)
def test_sequence_layer_zero_initial_state(kind, rng):
    """state0=None (zeros) takes its own code path."""
    layer = seqnn.Recurrent(CELLS[kind](2, 3, rng=4))
    check_grads(layer, (rng.standard_normal((4, 2, 2)),), rng=5)


@pytest.mark.parametrize("T,B,D,H", [(1, 2, 3, 4), (4, 1, 3, 4), (4, 2, 3, 1), (1, 1, 1, 1)])
@pytest.mark.parametrize("kind", CELLS)
def test_edge_shapes(kind, T, B, D, H, rng):
    layer = seqnn.Recurrent(CELLS[kind](D, H, rng=6))
    check_grads(layer, (rng.standard_normal((T, B, D)), random_state(layer.cell, B, rng)), rng=7)


@pytest.mark.parametrize("kind", CELLS)
def test_gradient_flows_through_final_state(kind, rng):
    """Only the final-state gradient is non-zero: the whole BPTT chain is exercised."""
    layer = seqnn.Recurrent(CELLS[kind](3, 4, rng=8))
    X, s0 = rng.standard_normal((5, 2, 3)), random_state(layer.cell, 2, rng)

    def forward(X, s0):
        return layer.forward(X, s0)[1]

    def backward(*dstate):
        dstate = dstate[0] if len(dstate) == 1 else dstate
        return layer.backward(np.zeros((5, 2, 4)), dstate)

    check_grads(forward, (X, s0), backward=backward, params=layer, rng=9)


def test_linear_every_time_step(rng):
    lin = seqnn.Linear(4, 5, rng=0)
    check_grads(lin, (rng.standard_normal((3, 2, 4)),), rng=1)


@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_softmax_cross_entropy(use_mask, reduction, rng):
    T, B, V = 3, 4, 5
    logits = rng.standard_normal((T, B, V))   # not saturated: no gradient entry below ~1e-4
    targets = rng.integers(0, V, (T, B))
    mask = (rng.random((T, B)) < 0.6) if use_mask else None
    if mask is not None:
        mask[0, 0] = True

    def f(z):
        return seqnn.softmax_cross_entropy(z, targets, mask, reduction)[0]

    def b(dloss):
        return dloss * seqnn.softmax_cross_entropy(logits, targets, mask, reduction)[1]

    check_grads(f, (logits,), backward=b, rng=2)


def test_mean_squared_error(rng):
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))

    def f(p):
        return seqnn.mean_squared_error(p, target)[0]

    def b(dloss):
        return dloss * seqnn.mean_squared_error(pred, target)[1]

    check_grads(f, (pred,), backward=b, rng=2)


def model_cell(kind: str) -> dict:
    """A model's cell options for a kind of conftest.CELL_KINDS: cell="rnn", nonlinearity="relu", ..."""
    cell, options = CELL_KINDS[kind]
    return {"cell": cell, **options}


def kink(kind: str) -> dict:
    """A smaller finite-difference step for ReLU, less likely to straddle its kink."""
    return {"eps": 1e-4} if kind == "rnn-relu" else {}


def stack_state(m, B, rng):
    parts = tuple(rng.standard_normal((m.num_layers * m.num_directions, B, m.hidden_size)) for _ in m.state_names)
    return parts[0] if len(parts) == 1 else parts


@pytest.mark.parametrize("kind", CELL_KINDS)
@pytest.mark.parametrize("embedding_dim", [None, 3], ids=["onehot", "embedding"])
def test_char_lm_end_to_end(kind, embedding_dim, rng):
    model = CharLM(4, 3, **model_cell(kind), num_layers=2, embedding_dim=embedding_dim, rng=0)
    ids = rng.integers(0, 4, (4, 2))
    check_grads(model, (ids, stack_state(model.rnn, 2, rng)), rng=3, **kink(kind))


def test_embedding_accumulates_repeated_ids(rng):
    emb = seqnn.Embedding(5, 3, rng=0)
    ids = np.array([[1, 1], [4, 1], [0, 4]])                 # id 1 three times, id 4 twice
    check_grads(emb, (ids,), rng=1)
    emb.zero_grad()
    emb.forward(ids)
    dx = rng.standard_normal((3, 2, 3))
    emb.backward(dx)
    grad = emb.params["W_embed"].grad
    assert np.allclose(grad[1], dx[0, 0] + dx[0, 1] + dx[1, 1], rtol=0, atol=1e-15)
    assert np.allclose(grad[4], dx[1, 0] + dx[2, 1], rtol=0, atol=1e-15)
    assert not grad[[2, 3]].any()


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", CELL_KINDS)
def test_sequence_classifier(kind, bidirectional, rng):
    model = SequenceClassifier(6, 3, 3, **model_cell(kind), embedding_dim=2, num_layers=2, bidirectional=bidirectional,
                               rng=0)
    ids = rng.integers(0, 6, (4, 3))
    check_grads(model, (ids, np.array([4, 2, 3])), rng=1, **kink(kind))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", CELL_KINDS)
def test_sequence_tagger(kind, bidirectional, rng):
    model = SequenceTagger(6, 3, 3, **model_cell(kind), num_layers=2, bidirectional=bidirectional, rng=0)
    check_grads(model, (rng.integers(0, 6, (4, 3)), np.array([4, 2, 3])), rng=1, **kink(kind))


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_seq2seq(kind, rng):
    model = Seq2Seq(5, 6, 3, **model_cell(kind), embedding_dim=2, num_layers=2, rng=0)
    src, tgt_in = rng.integers(0, 5, (4, 3)), rng.integers(0, 6, (3, 3))
    check_grads(model, (src, tgt_in, np.array([4, 1, 3])), rng=1, **kink(kind))


# --- the checker itself ------------------------------------------------------

class TanhRNNWithoutDerivative(seqnn.RNNCell):
    """A classic bug: backprop through tanh forgotten (da = dh)."""

    def step_backward(self, dstate, cache):
        (dh,) = dstate
        da = dh
        return da, da, (da @ self.W_hh,)


class LSTMWithoutForgetPath(seqnn.LSTMCell):
    """A classic bug: the cell-state gradient is not carried to the previous step."""

    def step_backward(self, dstate, cache):
        da, _, (dh_prev, dc_prev) = super().step_backward(dstate, cache)
        return da, da, (dh_prev, np.zeros_like(dc_prev))


@pytest.mark.parametrize("broken", [TanhRNNWithoutDerivative, LSTMWithoutForgetPath])
def test_gradcheck_catches_a_broken_backward(broken, rng):
    layer = seqnn.Recurrent(broken(3, 4, rng=0))
    report = seqnn.gradcheck(layer, (rng.standard_normal((4, 2, 3)), random_state(layer.cell, 2, rng)), rng=1)
    assert report.max_error > 1e-2, str(report)


def test_numerical_gradient_of_a_known_function():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    g = numerical_gradient(lambda: float(np.sum(np.sin(x) * x)), x)
    assert relative_error(np.cos(x) * x + np.sin(x), g) < 1e-8
    assert np.array_equal(x, [[0.5, -1.0], [2.0, 0.25]]), "x must be restored exactly"


def test_relative_error_definition():
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert relative_error(np.array([0.0]), np.array([1e-9])) == pytest.approx(0.1)   # floor 1e-8


def test_gradcheck_refuses_float32(rng):
    cell = seqnn.RNNCell(2, 3, dtype=np.float32, rng=0)
    with pytest.raises(TypeError, match="float64"):
        seqnn.gradcheck(cell, (rng.standard_normal((2, 2)).astype(np.float32),))


def test_report_names_every_array(rng):
    cell = seqnn.LSTMCell(2, 3, rng=0)
    report = seqnn.gradcheck(cell, (rng.standard_normal((2, 2)), random_state(cell, 2, rng)))
    gates = {f"{p}[{g}]" for p in ("W_xh", "W_hh", "b_h") for g in "ifgo"}
    assert set(report.errors) == {"x", "state.h", "state.c", "W_xh", "W_hh", "b_h"} | gates
    assert "worst:" in str(report)


@pytest.mark.parametrize("kind,gate", [("lstm", g) for g in "ifgo"] + [("gru", g) for g in "rzn"])
def test_a_wrong_gate_derivative_is_named_by_its_gate(kind, gate, rng):
    """Break one gate's chain-rule factor by 1%: the report names that gate's rows and no other."""
    cell = seqnn.cells.make_cell(kind, 2, 3, rng=0)
    k, H = cell.gate_names.index(gate), cell.hidden_size
    right = cell.step_backward

    def broken(dstate, cache):
        da_x, da_h, dprev = right(dstate, cache)
        for da in {id(da_x): da_x, id(da_h): da_h}.values():   # the same array for an LSTM
            da[:, k * H:(k + 1) * H] *= 1.01
        return da_x, da_h, dprev

    cell.step_backward = broken
    report = seqnn.gradcheck(cell, (rng.standard_normal((2, 2)), random_state(cell, 2, rng)))
    rows = [name for name in report.failures() if "[" in name]
    assert rows and all(name.endswith(f"[{gate}]") for name in rows), str(report)   # that gate, no other
    assert f"W_xh[{gate}]" in rows and report.max_error > 1e-3


def test_state_parts_are_named_in_an_engine_check(rng):
    layer = seqnn.Recurrent(seqnn.LSTMCell(2, 3, rng=0))
    X = rng.standard_normal((3, 2, 2))
    report = seqnn.gradcheck(layer, (X, random_state(layer.cell, 2, rng)))
    assert {"X", "state0.h", "state0.c", "cell.W_hh[f]"} <= set(report.errors) and report.passed()
