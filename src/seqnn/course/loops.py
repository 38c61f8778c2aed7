"""The parts of ``bptt.py``, ``gru_sequence.py`` and ``truncated_bptt.py``: the loops of backpropagation through
time, for the RNN, the LSTM and the GRU, whole or in chunks.

A forward is compared step by step, and the first wrong time step is named (an error carries forward to every
step after it). A backward is compared with seqnn's engine and with finite differences of the student's own
forward; the step named is the last wrong one, where the error enters (it flows back to every step before it),
and the classic mistakes of the loop are named: a carry dropped (dh_next, dc_next or both), the weights'
gradient of one step only, the bias gradient averaged.
"""

from __future__ import annotations

import numpy as np

from ..cells import GRUCell, LSTMCell, RNNCell
from ..recurrent import Recurrent
from .compare import Wrong, against_both, gradient_check, report, returned
from .mistakes import MISTAKES, averaged, bptt_variant
from .reference import GRU_GATES, LSTM_GATES, backward_of, cell_of, inputs, sequence_gradients

LOOP = {"H": "the loop: step t reads X[t] and the state step t - 1 left (h_0 for the first)"}


def loop_mistakes(at: tuple, names: list, want: tuple) -> dict:
    """The mistakes any loop of BPTT can make, with what each computes from ``at`` = (cell, X, state0, dH): the
    carried dh dropped, the weights' gradient of one step, the loop run forwards, the bias gradient averaged."""
    cell, X, state0, dH = at
    return {MISTAKES["h carry dropped"]: bptt_variant(cell, X, state0, dH, carry_h=False),
            MISTAKES["weights of one step"]: bptt_variant(cell, X, state0, dH, every_step=False),
            MISTAKES["loop forwards"]: bptt_variant(cell, X, state0, dH, backwards=False),
            MISTAKES["bias averaged"]: averaged(names, want, dH.shape[1])}


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
        against_both(lambda: report(names, got, want, loop_mistakes(at, names, want), time={"dX": "last"}),
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
        bugs = {**loop_mistakes(at, names, want), MISTAKES["c carry dropped"]: bptt_variant(*at, carry_c=False),
                MISTAKES["both carries dropped"]: bptt_variant(*at, carry_h=False, carry_c=False)}
        against_both(lambda: report(names, got, want, bugs, gates, time={"dX": "last"}),
                     lambda: gradient_check(numeric, dict(zip(names, got)), gates))

    return {"rnn_forward": rnn_forward, "rnn_backward": rnn_backward, "lstm_forward": lstm_forward,
            "lstm_backward": lstm_backward}


def gru_sequence_parts(m) -> dict:
    def values(seed):
        rng = np.random.default_rng(seed)
        v = inputs(rng, T=5, gates=3)
        v["b_hn"] = rng.standard_normal(5) * 0.1
        return v

    def gru_forward():
        v = values(40)
        want, _ = Recurrent(cell_of(GRUCell, v)).forward(v["x"], v["h_prev"])
        got, _ = returned(m.gru_forward(*(v[k] for k in GRU_ARGS)), "gru_forward", ("H", "the caches"))
        report(["H"], (got,), (want,), {}, time={"H": "first"}, hints=LOOP)

    def gru_backward():
        v = values(41)
        dH = np.random.default_rng(42).standard_normal((5, 3, 5))
        names = ["dX", "dh0", "dW_xh", "dW_hh", "db_h", "db_hn"]
        numeric, got = backward_of(m, "gru", tuple(n[1:] for n in names), tuple(v[k] for k in GRU_ARGS), (dH,),
                                   ("H", "the caches"))
        gates = {n: GRU_GATES for n in ("dW_xh", "dW_hh", "db_h")}
        at = (cell_of(GRUCell, v), v["x"], v["h_prev"], dH)
        want = sequence_gradients(*at)
        against_both(lambda: report(names, got, want, loop_mistakes(at, names, want), gates, time={"dX": "last"}),
                     lambda: gradient_check(numeric, dict(zip(names, got)), gates))

    return {"gru_forward": gru_forward, "gru_backward": gru_backward}


GRU_ARGS = ("x", "h_prev", "W_xh", "W_hh", "b_h", "b_hn")
T_CHUNKED, K = 7, 3                             # chunks of 3, 3 and 1 steps: the last is shorter


def chunked(cell, X, h0, dH, carry: bool = True, fresh: bool = True, across: bool = False) -> tuple:
    """Truncated BPTT by seqnn's engine, chunk by chunk: (H, each chunk's (dW_xh, dW_hh, db_h)); with a classic
    mistake: the state not carried (``carry=False``: each chunk from h0), the sums not reset per chunk
    (``fresh=False``), the gradient carried across the chunks' edges (``across=True``: one backward over the
    whole sequence, its steps' gradients summed chunk by chunk)."""
    starts = range(0, len(X), K)
    H = (np.concatenate([Recurrent(cell).forward(X[s:s + K], h0)[0] for s in starts]) if not carry
         else Recurrent(cell).forward(X, h0)[0])
    if across:
        states, carried = [h0, *H], np.zeros_like(h0)
        steps: list = []                                # each step's gradients, in time order
        for t in reversed(range(len(X))):
            cell.zero_grad()
            cell.forward(X[t], states[t])
            _, carried = cell.backward(dH[t] + carried)
            steps.insert(0, tuple(p.grad.copy() for p in cell.parameters()))
        chunks = [tuple(sum(g) for g in zip(*steps[s:s + K])) for s in starts]
    else:
        chunks = [sequence_gradients(cell, X[s:s + K], (H[s - 1] if s and carry else h0), dH[s:s + K])[2:]
                  for s in starts]
    if not fresh:
        chunks = [tuple(sum(c[j] for c in chunks[:n + 1]) for j in range(3)) for n in range(len(chunks))]
    return H, chunks


def truncated_bptt_parts(m) -> dict:
    def run(seed):
        v = inputs(np.random.default_rng(seed), T=T_CHUNKED)
        dH = np.random.default_rng(seed + 1).standard_normal((T_CHUNKED, 3, 5))
        H, chunks = returned(m.truncated_bptt(v["x"], dH, v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"], K),
                             "truncated_bptt", ("H", "the chunks' gradients"))
        return v, dH, H, chunks

    def forward():
        v, dH, H, _ = run(43)
        at = (cell_of(RNNCell, v), v["x"], v["h_prev"], dH)
        report(["H"], (H,), (chunked(*at)[0],), {MISTAKES["state not carried"]: (chunked(*at, carry=False)[0],)},
               time={"H": "first"}, hints={"H": "the state: each chunk starts from the h the chunk before left"})

    def backward():
        v, dH, _, chunks = run(45)
        n = len(range(0, T_CHUNKED, K))
        if not isinstance(chunks, (list, tuple)) or len(chunks) != n:
            got = f"{len(chunks)} chunks'" if isinstance(chunks, (list, tuple)) else f"a {type(chunks).__name__} for"
            raise Wrong(f"truncated_bptt returned {got} gradients, expected a list of {n}: T = {T_CHUNKED} steps "
                        f"in chunks of k = {K} are chunks of 3, 3 and 1 steps (the last is shorter)")
        names = [f"chunk {j}: {w}" for j in range(n) for w in ("dW_xh", "dW_hh", "db_h")]
        got = tuple(g for c in chunks for g in returned(tuple(c), "a chunk's gradients", ("dW_xh", "dW_hh", "db_h")))
        at = (cell_of(RNNCell, v), v["x"], v["h_prev"], dH)

        def flat(**mistake):
            return tuple(g for c in chunked(*at, **mistake)[1] for g in c)

        bugs = {MISTAKES["state not carried"]: flat(carry=False), MISTAKES["chunk sums carried"]: flat(fresh=False),
                MISTAKES["gradient across chunks"]: flat(across=True)}
        report(names, got, flat(), bugs)

    return {"truncated_bptt: the state carried (H)": forward, "truncated_bptt: each chunk's gradients": backward}
