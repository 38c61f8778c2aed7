"""Cells: forward values against the lecture's equations written out per gate,
parameters by name, initialisation, and the one-step API."""

import numpy as np
import pytest

import seqnn

from conftest import random_state


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_rnn_forward_is_the_equation(rng):
    cell = seqnn.RNNCell(3, 4, rng=0)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    expected = np.tanh(x @ cell.W_xh.T + h @ cell.W_hh.T + cell.b_h)
    assert np.allclose(cell.forward(x, h), expected, rtol=0, atol=1e-14)


def test_relu_rnn_forward_is_the_equation(rng):
    cell = seqnn.RNNCell(3, 4, nonlinearity="relu", rng=0)
    x, h = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    expected = np.maximum(0, x @ cell.W_xh.T + h @ cell.W_hh.T + cell.b_h)
    out = cell.forward(x, h)
    assert np.allclose(out, expected, rtol=0, atol=1e-14)
    assert (out == 0).any() and (out > 0).any(), "test data must reach both sides of the kink"


def test_lstm_forward_is_the_equations_per_gate(rng):
    """Written from the per-gate views, so a wrong gate order inside the cell shows up."""
    cell = seqnn.LSTMCell(3, 4, rng=0)
    x, (h, c) = rng.standard_normal((2, 3)), random_state(cell, 2, rng)
    i = sig(x @ cell.W_xi.T + h @ cell.W_hi.T + cell.b_i)
    f = sig(x @ cell.W_xf.T + h @ cell.W_hf.T + cell.b_f)
    g = np.tanh(x @ cell.W_xg.T + h @ cell.W_hg.T + cell.b_g)
    o = sig(x @ cell.W_xo.T + h @ cell.W_ho.T + cell.b_o)
    c_new = f * c + i * g
    h_new, c_out = cell.forward(x, (h, c))
    assert np.allclose(c_out, c_new, rtol=0, atol=1e-14), "cell state c = f*c_prev + i*g"
    assert np.allclose(h_new, o * np.tanh(c_new), rtol=0, atol=1e-14), "output h = o*tanh(c)"


def test_gru_forward_is_pytorchs_equations_per_gate(rng):
    cell = seqnn.GRUCell(3, 4, rng=0)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    r = sig(x @ cell.W_xr.T + h @ cell.W_hr.T + cell.b_r)
    z = sig(x @ cell.W_xz.T + h @ cell.W_hz.T + cell.b_z)
    n = np.tanh(x @ cell.W_xn.T + cell.b_n + r * (h @ cell.W_hn.T + cell.b_hn))
    assert np.allclose(cell.forward(x, h), (1 - z) * n + z * h, rtol=0, atol=1e-14)


def test_gru_reset_after_the_product_differs_from_the_paper(rng):
    """PyTorch's form r * (W_hn h + b_hn) is not the paper's W_hn (r * h) + b_hn."""
    cell = seqnn.GRUCell(3, 4, rng=0)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    r = sig(x @ cell.W_xr.T + h @ cell.W_hr.T + cell.b_r)
    z = sig(x @ cell.W_xz.T + h @ cell.W_hz.T + cell.b_z)
    n_paper = np.tanh(x @ cell.W_xn.T + cell.b_n + (r * h) @ cell.W_hn.T + cell.b_hn)
    assert not np.allclose(cell.forward(x, h), (1 - z) * n_paper + z * h, atol=1e-3)


def test_gru_update_gate_closed_copies_the_state():
    cell = seqnn.GRUCell(2, 3, rng=0)
    cell.b_z = np.full(3, 50.0)                        # z = 1: h = h_prev
    h0 = np.array([[0.1, -0.7, 0.3]])
    assert np.allclose(cell.forward(np.ones((1, 2)), h0), h0, atol=1e-15)


def test_lstm_analytic_case_forget_gate_saturated():
    """With huge f and tiny i biases and zero weights, c is copied and h = sig(b_o)*tanh(c)."""
    cell = seqnn.LSTMCell(2, 3, rng=0)
    cell.W_xh = np.zeros((12, 2))
    cell.W_hh = np.zeros((12, 3))
    cell.b_h = np.zeros(12)
    cell.b_f = np.full(3, 50.0)     # f = 1: keep everything
    cell.b_i = np.full(3, -50.0)    # i = 0: store nothing
    c0 = np.array([[0.5, -1.0, 2.0]])
    h, c = cell.forward(np.ones((1, 2)), (np.zeros((1, 3)), c0))
    assert np.allclose(c, c0, atol=1e-15)
    assert np.allclose(h, 0.5 * np.tanh(c0), atol=1e-15)


def test_gate_views_are_views_and_writable():
    cell = seqnn.LSTMCell(2, 3, rng=0)
    H = 3
    assert np.shares_memory(cell.W_xf, cell.W_xh)
    assert np.array_equal(cell.W_xf, cell.W_xh[H:2 * H])
    assert np.array_equal(cell.W_ho, cell.W_hh[3 * H:])
    assert np.array_equal(cell.b_g, cell.b_h[2 * H:3 * H])
    cell.W_xg = np.full((3, 2), 7.0)
    assert (cell.W_xh[2 * H:3 * H] == 7.0).all() and (cell.W_xh[:2 * H] != 7.0).all()
    with pytest.raises(ValueError, match=r"W_xg: expected shape \(3, 2\), got \(2, 3\)"):
        cell.W_xg = np.zeros((2, 3))


def test_parameters_by_lecture_name_and_assignment_copies():
    cell = seqnn.RNNCell(2, 3, rng=0)
    assert [n for n, _ in cell.named_parameters()] == ["W_xh", "W_hh", "b_h"]
    array = cell.W_hh
    M = np.arange(9.0).reshape(3, 3)
    cell.W_hh = M
    assert cell.W_hh is array, "assignment writes into the existing array (optimizer state stays valid)"
    assert np.array_equal(cell.W_hh, M)
    M[0, 0] = 100.0
    assert cell.W_hh[0, 0] == 0.0, "assignment copies"


@pytest.mark.parametrize("Cell,G", [(seqnn.RNNCell, 1), (seqnn.LSTMCell, 4), (seqnn.GRUCell, 3)])
def test_pytorch_default_initialisation(Cell, G):
    H = 25
    cell = Cell(10, H, rng=0)
    for name, p in cell.named_parameters():
        assert p.value.shape[0] == (H if name == "b_hn" else G * H)
        assert np.abs(p.value).max() <= 1 / np.sqrt(H), name
    std = np.concatenate([cell.W_xh.ravel(), cell.W_hh.ravel()]).std()
    assert std == pytest.approx(1 / np.sqrt(3 * H), rel=0.1), "U(-a, a) has std a/sqrt(3)"


def test_identity_initialiser_irnn():
    cell = seqnn.RNNCell(2, 4, nonlinearity="relu", recurrent_init="identity", rng=0)
    assert np.array_equal(cell.W_hh, np.eye(4))
    lstm = seqnn.LSTMCell(2, 4, recurrent_init="identity", rng=0)
    assert np.array_equal(lstm.W_hf, np.eye(4)) and np.array_equal(lstm.W_ho, np.eye(4))


def test_identity_relu_rnn_copies_its_state_forward():
    """The IRNN idea: with W_hh = I, zero input weights and bias, h_t = h_{t-1} (for h >= 0)."""
    cell = seqnn.RNNCell(2, 3, nonlinearity="relu", recurrent_init="identity", bias=False, rng=0)
    cell.W_xh = np.zeros((3, 2))
    layer = seqnn.Recurrent(cell)
    h0 = np.array([[0.3, 1.2, 0.0]])
    H, hT = layer.forward(np.ones((50, 1, 2)), h0)
    assert np.array_equal(hT, h0)
    _, dh0 = layer.backward(np.zeros_like(H), np.ones((1, 3)))
    assert np.array_equal(dh0, [[1.0, 1.0, 0.0]]), "gradient passes 50 steps undiminished (dead unit: 0)"


def test_orthogonal_and_xavier_initialisers():
    cell = seqnn.RNNCell(2, 5, recurrent_init="orthogonal", rng=0)
    assert np.allclose(cell.W_hh @ cell.W_hh.T, np.eye(5), atol=1e-12)
    gru = seqnn.GRUCell(6, 5, recurrent_init="orthogonal", input_init="xavier", rng=0)
    assert np.allclose(gru.W_hz @ gru.W_hz.T, np.eye(5), atol=1e-12)
    assert np.abs(gru.W_xn).max() <= np.sqrt(6 / 11)
    assert gru.W_xn.std() == pytest.approx(np.sqrt(6 / 11) / np.sqrt(3), rel=0.3)


def test_forget_bias_option():
    cell = seqnn.LSTMCell(2, 3, forget_bias=1.0, rng=0)
    assert np.array_equal(cell.b_f, np.ones(3))
    assert not np.array_equal(cell.b_i, np.ones(3))
    with pytest.raises(ValueError, match="forget_bias"):
        seqnn.LSTMCell(2, 3, forget_bias=1.0, bias=False)


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = seqnn.LSTMCell(3, 4, rng=7), seqnn.LSTMCell(3, 4, rng=7), seqnn.LSTMCell(3, 4, rng=8)
    assert all(np.array_equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not np.array_equal(a.W_xh, c.W_xh)


def test_no_bias():
    cell = seqnn.LSTMCell(2, 3, bias=False, rng=0)
    assert [n for n, _ in cell.named_parameters()] == ["W_xh", "W_hh"]
    assert [n for n, _ in seqnn.GRUCell(2, 3, bias=False).named_parameters()] == ["W_xh", "W_hh"]
    assert [n for n, _ in seqnn.GRUCell(2, 3).named_parameters()] == ["W_xh", "W_hh", "b_h", "b_hn"]
    assert np.allclose(cell.forward(np.zeros((1, 2)))[1], 0.0), "no bias: zero input and state stay zero"


def test_zero_initial_state_is_the_default(rng):
    cell = seqnn.LSTMCell(3, 4, rng=0)
    x = rng.standard_normal((2, 3))
    h1, c1 = cell.forward(x)
    h2, c2 = cell.forward(x, (np.zeros((2, 4)), np.zeros((2, 4))))
    assert np.array_equal(h1, h2) and np.array_equal(c1, c2)


def test_float32_cell_stays_float32(rng):
    cell = seqnn.LSTMCell(3, 4, dtype=np.float32, rng=0)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    h, c = cell.forward(x)
    assert h.dtype == c.dtype == np.float32
    dx, (dh, dc) = cell.backward(np.ones((2, 4), np.float32), np.ones((2, 4), np.float32))
    assert dx.dtype == dh.dtype == dc.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in cell.parameters())


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match=r"backward\(\) called without a forward\(\) to match"):
        seqnn.RNNCell(2, 3).backward(np.zeros((1, 3)))


def test_repr_is_readable():
    assert repr(seqnn.RNNCell(2, 3, nonlinearity="relu")) == (
        "RNNCell(input_size=2, hidden_size=3, bias=True, dtype=float64, nonlinearity='relu')")


def test_gradients_accumulate_until_zero_grad(rng):
    cell = seqnn.RNNCell(2, 3, rng=0)
    x = rng.standard_normal((2, 2))
    cell.forward(x)
    cell.backward(np.ones((2, 3)))
    once = cell.params["W_xh"].grad.copy()
    cell.forward(x)
    cell.backward(np.ones((2, 3)))
    assert np.allclose(cell.params["W_xh"].grad, 2 * once)
    cell.zero_grad()
    assert not cell.params["W_xh"].grad.any()
