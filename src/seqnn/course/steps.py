"""The parts of the step exercises (``rnn_step.py``, ``lstm_step.py``, ``gru_step.py``): what is checked,
against what.

Each ``*_parts(m)`` takes the student's file ``m`` (a ``remote.Remote``: its functions run in a child process)
and returns its parts, name -> a check that raises ``Wrong``. A forward is checked value by value in the order
it is computed (each gate, then c, then h: the skeleton's cache fixes where the gates are); a backward against
seqnn's cell and against finite differences of the student's own forward, taken before the backward runs.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from ..cells import GRUCell, LSTMCell, RNNCell
from .compare import Wrong, against_both, close, gradient_check, report, returned
from .mistakes import MISTAKES, averaged, gru_variant, lstm_step_variant
from .reference import GRU_GATES, LSTM_GATES, backward_of, cell_of, inputs, step_gradients, step_values

ARGS = ("x", "h_prev", "W_xh", "W_hh", "b_h")


def gate_hints(gates: tuple, formula: dict) -> dict:
    """Where to look when a gate is the first wrong value: its block of rows of W_xh, W_hh and b_h."""
    blocks = ["0:H", "H:2H", "2H:3H", "3H:4H"]
    hints = {g: f"{g}, computed from rows {blocks[k]} (the {g} block) of W_xh, W_hh and b_h: {formula[g]}"
             for k, g in enumerate(gates)}
    return hints | {k: v for k, v in formula.items() if k not in gates}


def cached(cache, at: slice, names: tuple, shape: tuple) -> dict:
    """The gates the student's cache holds where the skeleton put them (none if it holds something else)."""
    values = cache[at] if isinstance(cache, tuple) and len(cache) >= at.stop else ()
    if len(values) != len(names) or any(np.shape(v) != shape for v in values):
        return {}
    return dict(zip(names, values))


# --- the tanh RNN ------------------------------------------------------------------------------------------------
def rnn_step_parts(m) -> dict:
    def forward():
        # the lecture's "hello" step (docs/trace.md): input 'h', h_prev = [0.2, -0.1]
        W_xh = np.array([[0.1, 0.5, -0.2, 0.0], [0.3, -0.4, 0.2, 0.1]])
        h, _ = returned(m.rnn_step_forward(np.array([[0.0, 1.0, 0.0, 0.0]]), np.array([[0.2, -0.1]]), W_xh,
                                           np.array([[0.5, 0.1], [-0.3, 0.8]]), np.array([0.0, 0.1])),
                        "rnn_step_forward", ("h", "the cache"))
        if not close(h, [[0.5299, -0.4136]], tol=(2e-4, 0)):
            raise Wrong(f"the lecture's 'hello' step gives h = {np.round(np.asarray(h, float), 4).tolist()}, "
                        "expected [[0.5299, -0.4136]] (docs/trace.md)")
        v = inputs(np.random.default_rng(1))
        h, _ = returned(m.rnn_step_forward(*(v[k] for k in ARGS)), "rnn_step_forward", ("h", "the cache"))
        report(["h"], (h,), (cell_of(RNNCell, v).forward(v["x"], v["h_prev"]),), {},
               hints={"h": "a = x W_xh^T + h_prev W_hh^T + b_h, h = tanh(a)"})

    def backward():
        v = inputs(np.random.default_rng(2))
        dh = np.random.default_rng(3).standard_normal((3, 5))
        numeric, got = backward_of(m, "rnn_step", ARGS, tuple(v[k] for k in ARGS), (dh,), ("h", "the cache"))
        cell = cell_of(RNNCell, v)
        want = step_gradients(cell, v["x"], v["h_prev"], dh)
        h = cell.forward(v["x"], v["h_prev"])
        da_wrong, da = dh * (1 - h), dh * (1 - h ** 2)                      # tanh' written 1 - h
        names = ["dx", "dh_prev", "dW_xh", "dW_hh", "db_h"]
        bugs = {MISTAKES["tanh from h"]: (da_wrong @ v["W_xh"], da_wrong @ v["W_hh"], da_wrong.T @ v["x"],
                                          da_wrong.T @ v["h_prev"], da_wrong.sum(axis=0)),
                MISTAKES["bias averaged"]: averaged(names, want, len(dh)),
                MISTAKES["W_hh transposed"]: (want[0], da @ v["W_hh"].T, *want[2:])}
        if isinstance(got, tuple) and len(got) == 5 and np.shape(got[4]) == (3, 5):
            raise Wrong(f"db_h has shape (B, H) = (3, 5), expected (H,) = (5,): {MISTAKES['bias not summed']}",
                        named=True)
        against_both(lambda: report(names, got, want, bugs),
                     lambda: gradient_check(numeric, dict(zip(names, got)), {}))

    return {"forward (the 'hello' step, and seeded inputs)": forward, "backward": backward}


# --- the LSTM ----------------------------------------------------------------------------------------------------
LSTM_FORMULA = {"i": "i = sigmoid(a_i)", "f": "f = sigmoid(a_f)", "g": "g = tanh(a_g)", "o": "o = sigmoid(a_o)",
                "c": "c = f * c_prev + i * g", "h": "h = o * tanh(c)"}


def lstm_step_parts(m) -> dict:
    gates = {n: LSTM_GATES for n in ("dW_xh", "dW_hh", "db_h")}

    def forward():
        v = inputs(np.random.default_rng(4), gates=4)
        c_prev = np.random.default_rng(5).standard_normal((3, 5))
        h, c, cache = returned(m.lstm_step_forward(v["x"], v["h_prev"], c_prev, v["W_xh"], v["W_hh"], v["b_h"]),
                               "lstm_step_forward", ("h", "c", "the cache"))
        mine = cached(cache, slice(5, 9), LSTM_GATES, (3, 5))
        names = [*mine, "c", "h"]
        got = (*mine.values(), c, h)

        def values(rows=None):
            step = step_values(cell_of(LSTMCell, v, rows), v["x"], (v["h_prev"], c_prev))
            return tuple(step[n] for n in names)

        bugs = {}
        for order in permutations(LSTM_GATES):          # what a student computes who reads the blocks as `order`
            if order != LSTM_GATES:
                moved = [g for g, o in zip(LSTM_GATES, order) if g != o]
                how = f"{moved[0]} and {moved[1]} swapped" if len(moved) == 2 else f"read as {', '.join(order)}"
                bugs[MISTAKES["gate order"].format(how=how, order="i, f, g, o")] = values(
                    [order.index(g) for g in LSTM_GATES])
        report(names, got, values(), bugs, hints=gate_hints(LSTM_GATES, LSTM_FORMULA))

    def backward():
        rng = np.random.default_rng(6)
        v = inputs(rng, gates=4)
        c_prev, dh, dc = rng.standard_normal((3, 5)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
        args = (v["x"], v["h_prev"], c_prev, v["W_xh"], v["W_hh"], v["b_h"])
        numeric, got = backward_of(m, "lstm_step", ("x", "h_prev", "c_prev", "W_xh", "W_hh", "b_h"), args, (dh, dc),
                                   ("h", "c", "the cache"))
        cell = cell_of(LSTMCell, v)
        want = step_gradients(cell, v["x"], (v["h_prev"], c_prev), dh, dc)
        step = step_values(cell, v["x"], (v["h_prev"], c_prev))
        names = ["dx", "dh_prev", "dc_prev", "dW_xh", "dW_hh", "db_h"]
        bugs = {MISTAKES["forget gate from c"]: lstm_step_variant(step, v, c_prev, dh, dc, df_from_c=True),
                MISTAKES["dc misses dh"]: lstm_step_variant(step, v, c_prev, dh, dc, through_h=False),
                MISTAKES["bias averaged"]: averaged(names, want, len(dh))}
        against_both(lambda: report(names, got, want, bugs, gates),
                     lambda: gradient_check(numeric, dict(zip(names, got)), gates))

    return {"forward": forward, "backward": backward}


# --- the GRU -----------------------------------------------------------------------------------------------------
GRU_FORMULA = {"r": "r = sigmoid(ax_r + ah_r)", "z": "z = sigmoid(ax_z + ah_z)",
               "hn": "hn = ah_n + b_hn, the candidate's recurrent term (rows 2H:3H of W_hh)",
               "n": "n = tanh(ax_n + r * hn)", "h": "h = (1 - z) * n + z * h_prev"}


def gru_step_parts(m) -> dict:
    gates = {n: GRU_GATES for n in ("dW_xh", "dW_hh", "db_h")}
    ARGS_GRU = (*ARGS, "b_hn")

    def values(seed):
        rng = np.random.default_rng(seed)
        v = inputs(rng, gates=3)
        v["b_hn"] = rng.standard_normal(5) * 0.1
        return v

    def forward():
        v = values(18)
        h, cache = returned(m.gru_step_forward(*(v[k] for k in ARGS_GRU)), "gru_step_forward", ("h", "the cache"))
        mine = cached(cache, slice(4, 8), ("r", "z", "n", "hn"), (3, 5))
        names = [n for n in ("r", "z", "hn", "n") if n in mine] + ["h"]
        step = step_values(cell_of(GRUCell, v), v["x"], v["h_prev"])
        step["hn"] = v["h_prev"] @ v["W_hh"][10:].T + v["b_hn"]
        bugs = {MISTAKES["reset before"]: gru_variant(v, reset_before=True),
                MISTAKES["z swapped"]: gru_variant(v, swap_z=True)}
        bugs = {bug: tuple(values.get(n) for n in names) for bug, values in bugs.items()}
        report(names, (*(mine[n] for n in names[:-1]), h), tuple(step[n] for n in names), bugs,
               hints=gate_hints(GRU_GATES, GRU_FORMULA))

    def backward():
        v = values(19)
        dh = np.random.default_rng(20).standard_normal((3, 5))
        numeric, got = backward_of(m, "gru_step", ARGS_GRU, tuple(v[k] for k in ARGS_GRU), (dh,), ("h", "the cache"))
        cell = cell_of(GRUCell, v)
        want = step_gradients(cell, v["x"], v["h_prev"], dh)
        z = step_values(cell, v["x"], v["h_prev"])["z"]
        names = ["dx", "dh_prev", "dW_xh", "dW_hh", "db_h", "db_hn"]
        bugs = {MISTAKES["bias averaged"]: averaged(names, want, len(dh)),
                MISTAKES["direct path"]: (want[0], want[1] - dh * z, *want[2:])}
        against_both(lambda: report(names, got, want, bugs, gates),
                     lambda: gradient_check(numeric, dict(zip(names, got)), gates))

    return {"forward": forward, "backward": backward}
