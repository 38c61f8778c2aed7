"""A step-by-step trace of one forward step, for checking a worked example by hand.

    >>> trace_step(cell, x, h_prev, out=linear)      # doctest: +SKIP

prints, in the lecture's order, the input term ``x W_xh^T``, the recurrent term
``h_prev W_hh^T + b_h``, the pre-activation, every gate (for gated cells), the
new state, the output ``y = h W_hy^T + b_y`` and ``softmax(y)``. The new state is
computed by the cell's own ``step``: the code of the engine's readable loop
(``Recurrent(cell, fast=False)``), not a copy of it. The default fast loop
computes the same numbers (``tests/test_fast.py``).
"""

from __future__ import annotations

import sys

import numpy as np

from ._checks import check_count, check_float_array
from .cells import Cell, public_state, state_parts
from .functional import softmax
from .layers import Linear


def trace_step(cell, x, state=None, out=None, *, labels=None, precision: int = 4, file=sys.stdout) -> dict:
    """Print and return the intermediate values of one step of ``cell``.

    Args:
        cell: an ``RNNCell``/``LSTMCell`` (any ``seqnn.Cell``).
        x: (D,) or (B, D) input; state: h (or (h, c)) of matching shape, zeros if None.
        out: optional ``Linear`` output layer; adds ``y`` and ``softmax(y)``.
        labels: optional names of the output classes (e.g. a vocabulary's tokens).
        precision: decimals printed. file: where to print (None: print nothing).

    Returns ``{name: array}`` of everything printed (batch axis kept if x had one).
    """
    _check_arguments(cell, x, out, labels, precision, file)
    single = np.ndim(x) == 1
    x2 = np.atleast_2d(x)
    if single and state is not None:
        state = public_state(tuple(np.atleast_2d(s) for s in state_parts(state)))
    check_float_array("x", x2, (None, cell.input_size), cell.dtype, "BD")
    cell.check_state("state", state, x2.shape[0])
    state = cell.state_tuple(state, x2.shape[0])

    values = {"x": x2}
    for name, s in zip(cell.state_names, state):
        values[name + "_prev"] = s
    input_term = x2 @ cell.W_xh.T
    recurrent_term = state[0] @ cell.W_hh.T + (cell.b_h if cell.bias else 0.0)
    values["x W_xh^T"] = input_term
    values["h_prev W_hh^T + b_h" if cell.bias else "h_prev W_hh^T"] = recurrent_term
    if cell.sums_preactivations:
        values["a = sum of both"] = input_term + recurrent_term
    new_state, cache = cell.step(cell.project_input(x2), state)
    for name, v in zip(cell.cache_names, cache):
        if not name.endswith("_prev") and name not in cell.state_names:
            values[name] = v
    for name, s in zip(cell.state_names, new_state):
        values[name] = s
    if out is not None:
        y = new_state[0] @ out.W_hy.T + (out.b_y if out.bias else 0.0)
        values["y = h W_hy^T + b_y"] = y
        values["softmax(y)"] = softmax(y)

    if single:
        values = {k: v[0] for k, v in values.items()}
    if file is not None:
        _print(values, labels if out is not None else None, precision, file)
    return values


def _check_arguments(cell, x, out, labels, precision, file) -> None:
    if not isinstance(cell, Cell):
        raise TypeError(f"cell: expected a seqnn Cell (RNNCell, LSTMCell, GRUCell), got {type(cell).__name__}")
    if not isinstance(x, np.ndarray) or x.ndim not in (1, 2):
        raise TypeError(f"x: expected a numpy array of shape (D,) or (B, D), got {type(x).__name__} "
                        f"of shape {np.shape(x)}")
    if out is not None and (not isinstance(out, Linear) or out.in_features != cell.hidden_size):
        raise ValueError(f"out: expected a Linear with in_features = the cell's hidden_size "
                         f"({cell.hidden_size}), got {out!r}")
    if labels is not None and (out is None or len(labels) != out.out_features):
        raise ValueError(f"labels: expected one name per output of out ({out.out_features if out else 'no out'}), "
                         f"got {len(labels)}")
    check_count("precision", precision)
    if file is not None and not hasattr(file, "write"):
        raise TypeError(f"file: expected a stream such as sys.stdout or an open file (or None), "
                        f"got {type(file).__name__}")


def _print(values, labels, precision, file):
    width = max(len(k) for k in values)
    with np.printoptions(precision=precision, suppress=True, floatmode="fixed"):
        for name, v in values.items():
            print(f"{name:>{width}} = {v}", file=file)
        if labels is not None:
            p = values["softmax(y)"]
            p = p if p.ndim == 1 else p[0]
            best = int(np.argmax(p))
            print(f"{'prediction':>{width}} = {labels[best]!r} (p = {p[best]:.{precision}f})", file=file)
