"""The parts of ``bptt.py``: the loops of backpropagation through time, for the RNN and the LSTM.

A forward is compared step by step, and the first wrong time step is named (an error carries forward to every
step after it). A backward is compared with seqnn's engine and with finite differences of the student's own
forward; the step named is the last wrong one, where the error enters (it flows back to every step before it),
and the classic mistakes of the loop are named: a carry dropped (dh_next, dc_next or both), the weights'
gradient of one step only, the bias gradient averaged.
"""

from __future__ import annotations

import numpy as np

from ..cells import LSTMCell, RNNCell
from ..recurrent import Recurrent
from .compare import against_both, gradient_check, report, returned
from .mistakes import MISTAKES, averaged, bptt_variant
from .reference import LSTM_GATES, backward_of, cell_of, inputs, sequence_gradients

LOOP = {"H": "the loop: step t reads X[t] and the state step t - 1 left (h_0 for the first)"}


def bptt_parts(m) -> dict:
    def rnn_forward():
        v = inputs(np.random.default_rng(9), T=5)
        want, _ = Recurrent(cell_of(RNNCell, v)).forward(v["x"], v["h_prev"])
        got, _ = returned(m.rnn_forward(v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"]), "rnn_forward",
                          ("H", "the caches"))
        report(["H"], (got,), (want,), {}, time={"H": "first"}, hints=LOOP)

    def rnn_backward():
        v = inputs(np.random.default_rng(10), T=5)
        dH = np.random.default_rng(11).standard_normal((5, 3, 5))
        args = (v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"])
        names = ["dX", "dh0", "dW_xh", "dW_hh", "db_h"]
        numeric, got = backward_of(m, "rnn", tuple(n[1:] for n in names), args, (dH,), ("H", "the caches"))
        at = (cell_of(RNNCell, v), v["x"], v["h_prev"], dH)
        want = sequence_gradients(*at)
        bugs = {MISTAKES["h carry dropped"]: bptt_variant(*at, carry_h=False),
                MISTAKES["weights of one step"]: bptt_variant(*at, every_step=False),
                MISTAKES["loop forwards"]: bptt_variant(*at, backwards=False),
                MISTAKES["bias averaged"]: averaged(names, want, 3)}
        against_both(lambda: report(names, got, want, bugs, time={"dX": "last"}),
                     lambda: gradient_check(numeric, dict(zip(names, got)), {}))

    def lstm_forward():
        v = inputs(np.random.default_rng(12), T=5, gates=4)
        c0 = np.random.default_rng(13).standard_normal((3, 5))
        want, _ = Recurrent(cell_of(LSTMCell, v)).forward(v["x"], (v["h_prev"], c0))
        got, _ = returned(m.lstm_forward(v["x"], v["h_prev"], c0, v["W_xh"], v["W_hh"], v["b_h"]), "lstm_forward",
                          ("H", "the caches"))
        report(["H"], (got,), (want,), {}, time={"H": "first"},
               hints={"H": LOOP["H"] + ", and c the same way (c_0 for the first)"})

    def lstm_backward():
        v = inputs(np.random.default_rng(14), T=5, gates=4)
        rng = np.random.default_rng(15)
        c0, dH = rng.standard_normal((3, 5)), rng.standard_normal((5, 3, 5))
        args = (v["x"], v["h_prev"], c0, v["W_xh"], v["W_hh"], v["b_h"])
        names = ["dX", "dh0", "dc0", "dW_xh", "dW_hh", "db_h"]
        gates = {n: LSTM_GATES for n in ("dW_xh", "dW_hh", "db_h")}
        numeric, got = backward_of(m, "lstm", tuple(n[1:] for n in names), args, (dH,), ("H", "the caches"))
        at = (cell_of(LSTMCell, v), v["x"], (v["h_prev"], c0), dH)
        want = sequence_gradients(*at)
        bugs = {MISTAKES["h carry dropped"]: bptt_variant(*at, carry_h=False),
                MISTAKES["c carry dropped"]: bptt_variant(*at, carry_c=False),
                MISTAKES["both carries dropped"]: bptt_variant(*at, carry_h=False, carry_c=False),
                MISTAKES["weights of one step"]: bptt_variant(*at, every_step=False),
                MISTAKES["loop forwards"]: bptt_variant(*at, backwards=False),
                MISTAKES["bias averaged"]: averaged(names, want, 3)}
        against_both(lambda: report(names, got, want, bugs, gates, time={"dX": "last"}),
                     lambda: gradient_check(numeric, dict(zip(names, got)), gates))

    return {"rnn_forward": rnn_forward, "rnn_backward": rnn_backward, "lstm_forward": lstm_forward,
            "lstm_backward": lstm_backward}
