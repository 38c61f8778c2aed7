"""The step-by-step trace against values worked out by hand (docs/trace.md)."""

import io
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import seqnn
from seqnn.trace import trace_step

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import worked_step  # noqa: E402


def test_worked_example_by_hand():
    values = worked_step.main()
    # x = one-hot 'h' picks column 1 of W_xh: [0.5, -0.4]
    assert np.allclose(values["x W_xh^T"], [0.5, -0.4], atol=1e-15)
    # h_prev W_hh^T + b_h = [0.2*0.5 + (-0.1)*0.1 + 0, 0.2*(-0.3) + (-0.1)*0.8 + 0.1]
    assert np.allclose(values["h_prev W_hh^T + b_h"], [0.09, -0.04], atol=1e-15)
    assert np.allclose(values["a = sum of both"], [0.59, -0.44], atol=1e-15)
    h = [math.tanh(0.59), math.tanh(-0.44)]
    assert np.allclose(values["h"], h, atol=1e-15)
    y = [2 * h[0], h[1], -h[0] + 0.5 * h[1], 0.5 * h[0] - h[1]]
    assert np.allclose(values["y = h W_hy^T + b_y"], y, atol=1e-15)
    e = [math.exp(v) for v in y]
    assert np.allclose(values["softmax(y)"], [v / sum(e) for v in e], atol=1e-15)


def test_trace_prints_every_line_and_prediction():
    vocab, cell, out = worked_step.build()
    buf = io.StringIO()
    trace_step(cell, np.array([0.0, 1.0, 0.0, 0.0]), np.array([0.2, -0.1]), out=out,
               labels=vocab.tokens, file=buf)
    text = buf.getvalue()
    for line in ["x W_xh^T = [ 0.5000 -0.4000]", "a = sum of both = [ 0.5900 -0.4400]",
                 "h = [ 0.5299 -0.4136]", "prediction = 'e' (p = 0.4812)"]:
        assert line in text


def test_lstm_trace_shows_gates_and_matches_forward(rng):
    cell = seqnn.LSTMCell(3, 2, rng=0)
    x, h0, c0 = rng.standard_normal((1, 3)), rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    values = trace_step(cell, x, (h0, c0), file=None)
    h, c = cell.forward(x, (h0, c0))
    assert np.array_equal(values["h"], h) and np.array_equal(values["c"], c)
    assert np.allclose(values["c"], values["f"] * c0 + values["i"] * values["g"], atol=1e-15)
    assert {"i", "f", "g", "o"} <= set(values)


def test_trace_validates_input():
    cell = seqnn.RNNCell(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"x: expected shape"):
        trace_step(cell, np.zeros(4), file=None)
