"""What the grader checks in each exercise, part by part, and the reference it checks against.

The reference is seqnn itself: its cells (``step_gradients``), its engine
(``sequence_gradients``, with a carry dropped for the classic BPTT mistakes),
``softmax_cross_entropy``, ``clip_grad_norm`` and ``next_token_distribution``;
what seqnn cannot compute (a GRU of another form) is written here. Each
``*_parts(m)`` takes the student's module ``m`` and returns its checks, each a
function that raises ``Wrong`` naming what is off.
"""

from __future__ import annotations

from typing import Callable

from itertools import permutations

import numpy as np

from ..cells import GRUCell, LSTMCell, RNNCell, state_parts
from ..functional import sigmoid, softmax
from ..losses import softmax_cross_entropy
from ..module import Parameter
from ..optim import clip_grad_norm
from ..recurrent import Recurrent
from ..sample import next_token_distribution
from .compare import Wrong, against_both, close, gradient_check, report

LSTM_GATES, GRU_GATES = ("i", "f", "g", "o"), ("r", "z", "n")


# --- the reference (seqnn's own cells and engine) and the classic mistakes -------------------------------------------
def inputs(rng, B=3, D=4, H=5, gates=1, T=None) -> dict:
    """Seeded float64 inputs of a step (or of a sequence of T steps)."""
    x = rng.standard_normal((T, B, D) if T else (B, D))
    return {"x": x, "h_prev": rng.standard_normal((B, H)) * 0.5,
            "W_xh": rng.standard_normal((gates * H, D)) * 0.5, "W_hh": rng.standard_normal((gates * H, H)) * 0.5,
            "b_h": rng.standard_normal(gates * H) * 0.1}


def _cell(kind, v, rows=None):
    """A seqnn cell of ``kind`` holding the weights of ``v`` (``rows``: the gate blocks' order, to show what a
    student who reads the blocks in another order computes)."""
    D, H = v["x"].shape[-1], v["h_prev"].shape[1]
    cell = kind(D, H, dtype=np.float64, rng=0)
    take = (lambda w: w) if rows is None else (lambda w: np.concatenate([w[k * H:(k + 1) * H] for k in rows]))
    cell.W_xh, cell.W_hh, cell.b_h = take(v["W_xh"]), take(v["W_hh"]), take(v["b_h"])
    if "b_hn" in v:
        cell.b_hn = v["b_hn"]
    return cell


def step_gradients(cell, x, state, *dstate) -> tuple:
    """One step of ``cell`` forward and backward: (dx, each part of dstate_prev, each parameter's gradient)."""
    cell.zero_grad()
    cell.forward(x, state)
    dx, dprev = cell.backward(*dstate)
    return (dx, *state_parts(dprev), *(p.grad.copy() for p in cell.parameters()))


def sequence_gradients(cell, X, state0, dH, carry_h: bool = True, carry_c: bool = True) -> tuple:
    """Backpropagation through time over X: (dX, each part of dstate0, each parameter's gradient).

    With both carries it is seqnn's engine (``Recurrent``). Without one, each
    step's backward is the cell's own, from the states of the true forward, but
    the gradient of h (``carry_h``) or of c (``carry_c``) is not passed from a
    step to the one before: the classic mistakes of BPTT.
    """
    cell.zero_grad()
    if carry_h and carry_c:
        layer = Recurrent(cell)
        layer.forward(X, state0)
        dX, d0 = layer.backward(dH)
        parts = state_parts(d0)
    else:
        states = [state0]
        for x in X:
            states.append(cell.forward(x, states[-1]))
        dX, carried = np.zeros_like(X), [np.zeros_like(dH[0]) for _ in cell.state_names]
        for t in reversed(range(len(X))):
            cell.forward(X[t], states[t])                       # the step's cache, from the true state
            dh = dH[t] + (carried[0] if carry_h else 0)
            dX[t], dprev = cell.backward(dh, *(carried[1:] if carry_c else [np.zeros_like(dh)] * (len(carried) - 1)))
            carried = list(state_parts(dprev))
        parts = tuple(carried)
    return (dX, *parts, *(p.grad.copy() for p in cell.parameters()))


def gru_variant(v, reset_before: bool = False, swap_z: bool = False):
    """h of a GRU step with a classic mistake (seqnn's cells compute only the right form): ``reset_before``, Cho
    et al.'s form, the reset applied to h_prev before the product; ``swap_z``: z keeps the candidate."""
    x, h_prev, W_xh, W_hh, b_h, b_hn = (v[k] for k in ("x", "h_prev", "W_xh", "W_hh", "b_h", "b_hn"))
    H = h_prev.shape[1]
    ax, ah = x @ W_xh.T + b_h, h_prev @ W_hh.T
    r, z = sigmoid(ax[:, :H] + ah[:, :H]), sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    inner = (r * h_prev) @ W_hh[2 * H:].T + b_hn if reset_before else r * (ah[:, 2 * H:] + b_hn)
    n = np.tanh(ax[:, 2 * H:] + inner)
    return z * n + (1 - z) * h_prev if swap_z else (1 - z) * n + z * h_prev


# --- the parts of each exercise ---------------------------------------------------------------------------------
def rnn_step_parts(m) -> dict:
    def forward():
        # the lecture's "hello" step (docs/trace.md): input 'h', h_prev = [0.2, -0.1]
        W_xh = np.array([[0.1, 0.5, -0.2, 0.0], [0.3, -0.4, 0.2, 0.1]])
        h, _ = m.rnn_step_forward(np.array([[0.0, 1.0, 0.0, 0.0]]), np.array([[0.2, -0.1]]), W_xh,
                                  np.array([[0.5, 0.1], [-0.3, 0.8]]), np.array([0.0, 0.1]))
        if not close(h, [[0.5299, -0.4136]], rtol=2e-4):
            raise Wrong(f"the lecture's 'hello' step gives h = {np.round(np.asarray(h, float), 4).tolist()}, "
                        "expected [[0.5299, -0.4136]] (docs/trace.md)")
        v = inputs(np.random.default_rng(1))
        report(["h"], (m.rnn_step_forward(v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"])[0],),
               (_cell(RNNCell, v).forward(v["x"], v["h_prev"]),), {})

    def backward():
        v = inputs(np.random.default_rng(2))
        dh = np.random.default_rng(3).standard_normal((3, 5))
        _, cache = m.rnn_step_forward(v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"])
        got = m.rnn_step_backward(dh, cache)
        cell = _cell(RNNCell, v)
        want = step_gradients(cell, v["x"], v["h_prev"], dh)
        h = cell.forward(v["x"], v["h_prev"])
        da_wrong = dh * (1 - h)                                         # tanh' written 1 - h
        bugs = {"the tanh derivative is written 1 - h; it is 1 - h**2 (d tanh(a)/da = 1 - tanh(a)^2)":
                (da_wrong @ v["W_xh"], da_wrong @ v["W_hh"], da_wrong.T @ v["x"], da_wrong.T @ v["h_prev"],
                 da_wrong.sum(axis=0)),
                "the bias gradient is averaged over the batch; it is the sum (each example adds its own)":
                (*want[:4], want[4] / len(dh))}
        names = ["dx", "dh_prev", "dW_xh", "dW_hh", "db_h"]
        if isinstance(got, tuple) and len(got) == 5 and np.shape(got[4]) == (3, 5):
            raise Wrong("db_h has shape (B, H) = (3, 5), expected (H,) = (5,): the bias gradient is not summed "
                        "over the batch (db_h = da.sum(axis=0))")
        student = {k: v[k] for k in ("x", "h_prev", "W_xh", "W_hh", "b_h")}
        against_both(lambda: report(names, got, want, bugs),
                     lambda: gradient_check(lambda **a: float((m.rnn_step_forward(**a)[0] * dh).sum()), student,
                                            dict(zip(names, got)), {}))

    return {"forward (the 'hello' step, and seeded inputs)": forward, "backward": backward}


def lstm_step_parts(m) -> dict:
    gates = {n: LSTM_GATES for n in ("dW_xh", "dW_hh", "db_h")}

    def forward():
        v = inputs(np.random.default_rng(4), gates=4)
        c_prev = np.random.default_rng(5).standard_normal((3, 5))
        got = m.lstm_step_forward(v["x"], v["h_prev"], c_prev, v["W_xh"], v["W_hh"], v["b_h"])[:2]
        want = _cell(LSTMCell, v).forward(v["x"], (v["h_prev"], c_prev))
        bugs = {}
        for order in permutations(LSTM_GATES):          # what a student computes who reads the blocks as `order`
            if order != LSTM_GATES:
                moved = [g for g, o in zip(LSTM_GATES, order) if g != o]
                how = f"{moved[0]} and {moved[1]} swapped" if len(moved) == 2 else f"read as {', '.join(order)}"
                rows = [order.index(g) for g in LSTM_GATES]
                bugs[f"the gates are read in the wrong order ({how}): the rows of W_xh, W_hh and b_h are "
                     "i, f, g, o"] = _cell(LSTMCell, v, rows).forward(v["x"], (v["h_prev"], c_prev))
        report(["h", "c"], tuple(got), tuple(want), bugs)

    def backward():
        rng = np.random.default_rng(6)
        v = inputs(rng, gates=4)
        c_prev, dh, dc = rng.standard_normal((3, 5)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
        _, _, cache = m.lstm_step_forward(v["x"], v["h_prev"], c_prev, v["W_xh"], v["W_hh"], v["b_h"])
        got = m.lstm_step_backward(dh, dc, cache)
        cell = _cell(LSTMCell, v)
        want = step_gradients(cell, v["x"], (v["h_prev"], c_prev), dh, dc)
        step = {k: s[0] for k, s in Recurrent(cell).record(v["x"][None], (v["h_prev"], c_prev)).items()}
        i, f, g, o, c = (step[k] for k in "ifgoc")
        tanh_c = np.tanh(c)
        dcc = dc + dh * o * (1 - tanh_c ** 2)
        da = np.concatenate([dcc * g * i * (1 - i), dcc * c * f * (1 - f), dcc * i * (1 - g ** 2),
                             dh * tanh_c * o * (1 - o)], axis=1)            # df from c_t, not c_(t-1)
        bugs = {"the forget gate's gradient uses c_t; it multiplies c_(t-1) (c = f * c_prev + i * g, so "
                "df = dc * c_prev)": (da @ v["W_xh"], da @ v["W_hh"], dcc * f, da.T @ v["x"], da.T @ v["h_prev"],
                                     da.sum(axis=0))}
        names = ["dx", "dh_prev", "dc_prev", "dW_xh", "dW_hh", "db_h"]
        student = {k: v[k] for k in ("x", "h_prev", "W_xh", "W_hh", "b_h")}
        student["c_prev"] = c_prev
        against_both(lambda: report(names, got, want, bugs, gates),
                     lambda: gradient_check(lambda **a: float((lambda r: (r[0] * dh).sum() + (r[1] * dc).sum())(
                         m.lstm_step_forward(**a))), student, dict(zip(names, got)), gates))

    return {"forward": forward, "backward": backward}


def gru_step_parts(m) -> dict:
    gates = {n: GRU_GATES for n in ("dW_xh", "dW_hh", "db_h")}

    def values(seed):
        rng = np.random.default_rng(seed)
        v = inputs(rng, gates=3)
        v["b_hn"] = rng.standard_normal(5) * 0.1
        return v

    def forward():
        v = values(18)
        got = m.gru_step_forward(v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"], v["b_hn"])[0]
        bugs = {"the reset gate multiplies h_prev before the product (Cho et al.'s form); in PyTorch's, which seqnn "
                "follows, it multiplies (h_prev W_hn^T + b_hn), after": (gru_variant(v, reset_before=True),),
                "z and 1 - z are swapped: z near 1 keeps the old state, h = (1 - z) * n + z * h_prev":
                (gru_variant(v, swap_z=True),)}
        report(["h"], (got,), (_cell(GRUCell, v).forward(v["x"], v["h_prev"]),), bugs)

    def backward():
        v = values(19)
        dh = np.random.default_rng(20).standard_normal((3, 5))
        _, cache = m.gru_step_forward(v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"], v["b_hn"])
        got = m.gru_step_backward(dh, cache)
        want = step_gradients(_cell(GRUCell, v), v["x"], v["h_prev"], dh)
        names = ["dx", "dh_prev", "dW_xh", "dW_hh", "db_h", "db_hn"]
        against_both(lambda: report(names, got, want, {}, gates),
                     lambda: gradient_check(lambda **a: float((m.gru_step_forward(**a)[0] * dh).sum()), dict(v),
                                            dict(zip(names, got)), gates))

    return {"forward": forward, "backward": backward}


def softmax_loss_parts(m) -> dict:
    def probabilities():
        logits = np.random.default_rng(7).standard_normal((4, 6)) * 3
        report(["softmax(logits)"], (m.softmax(logits),), (softmax(logits),), {})
        with np.errstate(all="ignore"):
            big = m.softmax(np.array([[1000.0, 999.0, -5.0]]))
        if not np.isfinite(np.asarray(big, dtype=float)).all():
            raise Wrong("softmax of logits [1000, 999, -5] gives NaN or inf: exp(1000) overflows; subtract each "
                        "row's maximum before the exp (the result is the same)")
        report(["softmax of large logits"], (big,), (softmax(np.array([[1000.0, 999.0, -5.0]])),),
               {})

    def loss():
        rng = np.random.default_rng(8)
        logits, targets = rng.standard_normal((5, 7)), rng.integers(0, 7, 5)
        got = m.softmax_cross_entropy(logits, targets)
        loss_ref, dlogits = softmax_cross_entropy(logits, targets)
        p = softmax(logits)
        summed = p.copy()
        summed[np.arange(5), targets] -= 1
        bugs = {"dlogits is not divided by N: the loss is the mean over the rows, so is its gradient":
                (loss_ref, summed)}
        against_both(lambda: report(["loss", "dlogits"], tuple(got), (loss_ref, dlogits), bugs),
                     lambda: gradient_check(lambda logits: float(m.softmax_cross_entropy(logits, targets)[0]),
                                            {"logits": logits.copy()}, {"dlogits": got[1]}, {}))

    return {"softmax (and large logits)": probabilities, "cross-entropy and its gradient": loss}


def bptt_parts(m) -> dict:
    def rnn_forward():
        v = inputs(np.random.default_rng(9), T=5)
        layer = Recurrent(_cell(RNNCell, v))
        want, _ = layer.forward(v["x"], v["h_prev"])
        got = m.rnn_forward(v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"])[0]
        report(["H"], (got,), (want,), {}, time={"H"})

    def rnn_backward():
        v = inputs(np.random.default_rng(10), T=5)
        dH = np.random.default_rng(11).standard_normal((5, 3, 5))
        _, caches = m.rnn_forward(v["x"], v["h_prev"], v["W_xh"], v["W_hh"], v["b_h"])
        got = m.rnn_backward(dH, caches)
        args = (_cell(RNNCell, v), v["x"], v["h_prev"], dH)
        bugs = {"the gradient from the step after (dh_next) is not added to dH[t]: each step's h also feeds the "
                "next step": sequence_gradients(*args, carry_h=False)}
        names = ["dX", "dh0", "dW_xh", "dW_hh", "db_h"]
        student = {"X": v["x"], "h0": v["h_prev"], "W_xh": v["W_xh"], "W_hh": v["W_hh"], "b_h": v["b_h"]}
        against_both(lambda: report(names, got, sequence_gradients(*args), bugs, time={"dX"}),
                     lambda: gradient_check(lambda **a: float((m.rnn_forward(**a)[0] * dH).sum()), student,
                                            dict(zip(names, got)), {}))

    def lstm_forward():
        v = inputs(np.random.default_rng(12), T=5, gates=4)
        c0 = np.random.default_rng(13).standard_normal((3, 5))
        layer = Recurrent(_cell(LSTMCell, v))
        want, _ = layer.forward(v["x"], (v["h_prev"], c0))
        got = m.lstm_forward(v["x"], v["h_prev"], c0, v["W_xh"], v["W_hh"], v["b_h"])[0]
        report(["H"], (got,), (want,), {}, time={"H"})

    def lstm_backward():
        v = inputs(np.random.default_rng(14), T=5, gates=4)
        rng = np.random.default_rng(15)
        c0, dH = rng.standard_normal((3, 5)), rng.standard_normal((5, 3, 5))
        _, caches = m.lstm_forward(v["x"], v["h_prev"], c0, v["W_xh"], v["W_hh"], v["b_h"])
        got = m.lstm_backward(dH, caches)
        args = (_cell(LSTMCell, v), v["x"], (v["h_prev"], c0), dH)
        bugs = {"the cell state's gradient is not carried (dc_next): c_t feeds c_(t+1), so the step after passes "
                "dc back": sequence_gradients(*args, carry_c=False)}
        names, gates = ["dX", "dh0", "dc0", "dW_xh", "dW_hh", "db_h"], {n: LSTM_GATES for n in ("dW_xh", "dW_hh",
                                                                                                  "db_h")}
        student = {"X": v["x"], "h0": v["h_prev"], "c0": c0, "W_xh": v["W_xh"], "W_hh": v["W_hh"], "b_h": v["b_h"]}
        against_both(lambda: report(names, got, sequence_gradients(*args), bugs, gates, time={"dX"}),
                     lambda: gradient_check(lambda **a: float((m.lstm_forward(**a)[0] * dH).sum()), student,
                                            dict(zip(names, got)), gates))

    return {"rnn_forward": rnn_forward, "rnn_backward": rnn_backward, "lstm_forward": lstm_forward,
            "lstm_backward": lstm_backward}


def clip_parts(m) -> dict:
    def clip():
        rng = np.random.default_rng(16)
        grads = [rng.standard_normal((3, 4)) * 4, rng.standard_normal(5), rng.standard_normal((2, 2)) * 0.1]
        kept = [g.copy() for g in grads]
        got = m.clip_by_global_norm(grads, 2.0)
        params = [Parameter(np.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad[...] = g
        norm = clip_grad_norm(params, 2.0)
        if not all(np.array_equal(g, k) for g, k in zip(grads, kept)):
            raise Wrong("the arrays passed in were changed; return new ones")
        each = [g * min(1.0, 2.0 / (np.linalg.norm(g) + 1e-6)) for g in grads]
        if isinstance(got, tuple) and len(got) == 2 and len(got[0]) == 3 and \
                all(close(a, b) for a, b in zip(got[0], each)):
            raise Wrong("each array is clipped by its own norm; clip all of them by one factor, from the global "
                        "norm sqrt(sum of every g^2), so the gradient keeps its direction")
        report(["the norm"], (got[1],), (norm,), {})
        for k, (a, p) in enumerate(zip(got[0], params)):
            report([f"clipped[{k}]"], (a,), (p.grad,), {})
        small = m.clip_by_global_norm([np.array([0.1, 0.2])], 2.0)[0][0]
        report(["a gradient below max_norm"], (small,), (np.array([0.1, 0.2]),), {})

    return {"clip by the global norm": clip}


def sampling_parts(m) -> dict:

    def distribution():
        logits = np.array([2.0, -1.0, 0.5, 3.0, 0.0, -2.5])
        for temperature, top_k in ((1.0, None), (0.5, None), (2.0, None), (1.0, 3), (0.7, 2)):
            got = m.next_distribution(logits, temperature, top_k)
            want = next_token_distribution(logits, temperature, top_k)
            after = softmax(logits) / temperature
            bugs = {"the temperature is applied after the softmax; divide the logits by it, before":
                    (after,)} if top_k is None else {}
            try:
                report([f"p (temperature {temperature}, top-k {top_k})"], (got,), (want,), bugs)
            except Wrong as err:
                raise Wrong(str(err)) from None

    def draw():
        logits = np.array([2.0, -1.0, 0.5, 3.0, 0.0, -2.5])
        rng = np.random.default_rng(17)
        draws = np.array([m.sample(logits, 1.0, 3, rng) for _ in range(3000)])
        if not np.isin(draws, [0, 2, 3]).all():
            raise Wrong(f"with top-k 3 only ids 0, 2 and 3 may be drawn, got {sorted(set(draws) - {0, 2, 3})}")
        freq = np.bincount(draws, minlength=6) / len(draws)
        want = next_token_distribution(logits, 1.0, 3)
        if np.abs(freq - want).max() > 0.04:
            raise Wrong(f"3000 draws came with frequencies {np.round(freq, 2).tolist()}, expected about "
                        f"{np.round(want, 2).tolist()}")

    return {"next_distribution (temperature, top-k)": distribution, "sample": draw}


PARTS: dict[str, Callable] = {
    "rnn_step.py": rnn_step_parts, "lstm_step.py": lstm_step_parts, "gru_step.py": gru_step_parts,
    "softmax_loss.py": softmax_loss_parts,
    "bptt.py": bptt_parts, "clip.py": clip_parts, "sampling.py": sampling_parts,
}
