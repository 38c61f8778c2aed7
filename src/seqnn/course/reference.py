"""The right answers the grader checks against, and the finite differences of a student's own forward.

The reference is seqnn itself: its cells (``step_gradients``), its engine (``sequence_gradients``),
``softmax_cross_entropy``, ``clip_grad_norm`` and ``next_token_distribution``. Everything here runs in the
grader's process; the student's functions run in their own (``remote.Remote``), and only their outputs come
back.
"""

from __future__ import annotations

import numpy as np

from ..cells import state_parts
from ..recurrent import Recurrent
from .compare import returned

LSTM_GATES, GRU_GATES = ("i", "f", "g", "o"), ("r", "z", "n")
EPS = 1e-5                                      # the step of the central differences


def inputs(rng, B=3, D=4, H=5, gates=1, T=None) -> dict:
    """Seeded float64 inputs of a step (or of a sequence of T steps): x (B, D) or (T, B, D), h_prev (B, H),
    W_xh (gates*H, D), W_hh (gates*H, H), b_h (gates*H,)."""
    x = rng.standard_normal((T, B, D) if T else (B, D))
    return {"x": x, "h_prev": rng.standard_normal((B, H)) * 0.5,
            "W_xh": rng.standard_normal((gates * H, D)) * 0.5, "W_hh": rng.standard_normal((gates * H, H)) * 0.5,
            "b_h": rng.standard_normal(gates * H) * 0.1}


def cell_of(kind, v: dict, rows=None):
    """A seqnn cell of ``kind`` holding the weights of ``v`` (``rows``: the gate blocks' order, to compute what a
    student who reads the blocks in another order computes)."""
    D, H = v["x"].shape[-1], v["h_prev"].shape[1]
    cell = kind(D, H, dtype=np.float64, rng=0)
    take = (lambda w: w) if rows is None else (lambda w: np.concatenate([w[k * H:(k + 1) * H] for k in rows]))
    cell.W_xh, cell.W_hh, cell.b_h = take(v["W_xh"]), take(v["W_hh"]), take(v["b_h"])
    if "b_hn" in v:
        cell.b_hn = v["b_hn"]
    return cell


def step_values(cell, x, state) -> dict:
    """Every value of one step of ``cell``, named as the lecture names them (``h``, ``c``, the gates)."""
    return {k: s[0] for k, s in Recurrent(cell).record(x[None], state).items()}


def step_gradients(cell, x, state, *dstate) -> tuple:
    """One step of ``cell`` forward and backward: (dx, each part of dstate_prev, each parameter's gradient)."""
    cell.zero_grad()
    cell.forward(x, state)
    dx, dprev = cell.backward(*dstate)
    return (dx, *state_parts(dprev), *(p.grad.copy() for p in cell.parameters()))


def sequence_gradients(cell, X, state0, dH) -> tuple:
    """Backpropagation through time over X by seqnn's engine: (dX, each part of dstate0, each parameter's
    gradient)."""
    cell.zero_grad()
    layer = Recurrent(cell)
    layer.forward(X, state0)
    dX, d0 = layer.backward(dH)
    return (dX, *state_parts(d0), *(p.grad.copy() for p in cell.parameters()))


def finite_differences(m, function: str, args: tuple, wrt: dict, weights: tuple) -> dict | None:
    """Central differences of ``L = sum_k sum(output_k * weights[k])`` of the student's ``function(*args)``, for
    each argument ``wrt`` names (name -> its index in ``args``): ``{"d" + name: array}``. ``m`` runs the
    student's function (``remote.Remote``). None when the forward's outputs are not float64 (differences in
    float32 drown in round-off) or not what the forward should return (the check against the reference says
    what is wrong then)."""
    vary = [(j, k, s * EPS) for j in wrt.values() for k in range(np.size(args[j])) for s in (1, -1)]
    outputs = m.call(function, args, pick=list(range(len(weights))), vary=vary)
    try:
        if not isinstance(outputs[0], tuple) or len(outputs[0]) != len(weights) or any(
                np.asarray(o).dtype != np.float64 for o in outputs[0]):
            return None
        L = np.array([sum(float((np.asarray(o, dtype=np.float64) * w).sum()) for o, w in zip(out, weights))
                      for out in outputs])
    except (TypeError, ValueError):
        return None
    grads, at = {}, 0
    for name, j in wrt.items():
        n = np.size(args[j])
        grads["d" + name] = ((L[at:at + 2 * n:2] - L[at + 1:at + 2 * n:2]) / (2 * EPS)).reshape(np.shape(args[j]))
        at += 2 * n
    return grads


def backward_of(m, step: str, names: tuple, args: tuple, upstream: tuple, outputs: tuple) -> tuple:
    """The student's ``{step}_backward`` on the cache of their ``{step}_forward(*args)`` (which returns
    ``outputs``, the cache last), given the ``upstream`` gradients; and, taken first, the finite differences of
    that forward for each argument (``names``). (numeric, what the backward returned)."""
    forward = f"{step}_forward"
    numeric = finite_differences(m, forward, args, {k: j for j, k in enumerate(names)}, upstream)
    *_, cache = returned(m.call(forward, args)[0], forward, outputs)
    return numeric, m.call(f"{step}_backward", (*upstream, cache))[0]
