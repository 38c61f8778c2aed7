"""Seeing why a vanilla RNN forgets and an LSTM remembers.

``gradient_flow`` measures how much of a loss at the last step reaches the
input at each earlier step; ``plot_gradient_flow`` draws it for several cells
(matplotlib is imported only there, so seqnn itself needs only numpy).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_rng, check_positive_int
from .cells import Cell, make_cell
from .recurrent import Recurrent

KINDS = ("rnn", "lstm", "gru", "irnn")


def gradient_flow(cell, T: int = 50, batch_size: int = 16, rng=0) -> np.ndarray:
    """``||dE_T / dx_t||`` for t = 0 .. T-1, averaged over a random batch: shape (T,).

    E_T is a loss on the last hidden state only (a random projection of h_T),
    so the gradient at step t is the part that travelled T-1-t steps back
    through the recurrence. Inputs are N(0, 1). Divide by the last entry to see
    the decay: a vanilla RNN's falls exponentially, an LSTM's (forget bias 1)
    much more slowly.
    """
    if not isinstance(cell, Cell):
        raise TypeError(f"cell: expected a seqnn Cell such as seqnn.LSTMCell(8, 32), got {type(cell).__name__}")
    T, batch_size, rng = check_positive_int("T", T), check_positive_int("batch_size", batch_size), as_rng(rng)
    layer = Recurrent(cell)
    X = rng.standard_normal((T, batch_size, cell.input_size)).astype(cell.dtype)
    H, _ = layer.forward(X, check=False)
    dH = np.zeros_like(H)
    dH[-1] = rng.standard_normal(H.shape[1:])               # only the last step has a loss
    dX, _ = layer.backward(dH, check=False)
    layer.zero_grad()
    return np.linalg.norm(dX, axis=2).mean(axis=1)


def plot_gradient_flow(kinds=("rnn", "lstm", "gru"), T: int = 50, input_size: int = 8, hidden_size: int = 32,
                       rng=0, ax=None, **cell_kwargs):
    """Plot ``gradient_flow`` for each cell kind on a log scale; returns the matplotlib Axes.

    kinds: "rnn", "lstm", "gru", or "irnn" (a ReLU RNN with identity recurrence). ``cell_kwargs`` go to every
    cell; the LSTM gets ``forget_bias=1.0`` unless given.
    """
    if not isinstance(kinds, (list, tuple)) or not all(isinstance(k, str) and k in KINDS for k in kinds):
        raise ValueError(f"kinds: expected a list of cell kinds from {KINDS}, got {kinds!r}")
    check_positive_int("T", T)
    import matplotlib.pyplot as plt   # optional dependency: pip install seqnn[plots]

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for kind in kinds:
        kwargs = dict(cell_kwargs)
        if kind == "lstm":
            kwargs.setdefault("forget_bias", 1.0)
        if kind == "irnn":
            kwargs.update(nonlinearity="relu", recurrent_init="identity")
        cell = make_cell("rnn" if kind == "irnn" else kind, input_size, hidden_size, rng=rng, **kwargs)
        flow = gradient_flow(cell, T, rng=rng)
        ax.semilogy(np.arange(T), flow / flow[-1], label=kind.upper())
    ax.set_xlabel("input step t (the loss is at the last step)")
    ax.set_ylabel("||dE/dx_t||, relative to the last step")
    ax.set_title("How far back does the gradient reach?")
    ax.legend()
    return ax
