import copy

import numpy as np
import pytest

import seqnn
from seqnn.viz import gradient_flow, plot_gradient_flow


def test_rnn_forgets_faster_than_lstm():
    rnn = gradient_flow(seqnn.RNNCell(8, 32, rng=0), T=30)
    lstm = gradient_flow(seqnn.LSTMCell(8, 32, forget_bias=1.0, rng=0), T=30)
    irnn = gradient_flow(seqnn.RNNCell(8, 32, nonlinearity="relu", recurrent_init="identity", rng=0), T=30)
    assert rnn.shape == (30,)
    assert rnn[0] / rnn[-1] < 1e-5 < lstm[0] / lstm[-1]
    assert irnn[0] / irnn[-1] > 0.1


def test_gradient_flow_matches_a_direct_computation():
    """dX[t] from the engine equals the chain rule written out with the cell's one-step backward."""
    cell = seqnn.RNNCell(3, 4, rng=0)
    flow = gradient_flow(cell, T=4, batch_size=2, rng=5)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 2, 3))
    dhT = rng.standard_normal((2, 4))
    steps, h = [copy.deepcopy(cell) for _ in range(4)], np.zeros((2, 4))   # one cell per step: its own cache
    for t in range(4):
        h = steps[t].forward(X[t], h)
    dh, norms = dhT, []
    for t in reversed(range(4)):
        dx, dh = steps[t].backward(dh)
        norms.append(np.linalg.norm(dx, axis=1).mean())
    assert np.allclose(flow, norms[::-1], rtol=1e-12)


def test_plot_gradient_flow():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = plot_gradient_flow(("rnn", "irnn", "lstm"), T=10, hidden_size=8)
    assert [line.get_label() for line in ax.get_lines()] == ["RNN", "IRNN", "LSTM"]
