"""The BPTT engine: run any cell over a whole sequence, forward and backward.

Shapes: X (T, B, D) time-major, every hidden state (T, B, H), a state (B, H).

Forward (the lecture's unrolled graph)::

    Zx = X W_xh^T + b_h                       one product for all T steps, before the loop
    for t = 0 .. T-1:  state_t = step(Zx[t], state_{t-1})

Backward (backpropagation through time)::

    for t = T-1 .. 0:  dz_t, dstate_{t-1} = step_backward(dh_t + dstate_t, cache_t)
    dW_xh = sum_t dz_t^T x_t     dW_hh = sum_t dz_t^T h_{t-1}     db_h = sum_t dz_t
    dX = dZ W_xh                 -- each one product over all T*B rows, after the loop

The layer keeps nothing between calls except the cache of the last forward,
which its backward consumes: running a new sequence after an optimizer step
just works, and the hidden state never carries over silently. To carry a state
across calls (truncated BPTT), pass it back in as ``state0``.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_float_array
from .cells import Cell
from .module import Module


class Recurrent(Module):
    """Run ``cell`` over time.

    ``forward(X, state0=None) -> (H, state_T)``:
        X (T, B, D); state0 like the cell's state (h (B, H), or (h, c) for LSTM),
        zeros if None. H (T, B, H) holds h_1 .. h_T; state_T is the final state.

    ``backward(dH, dstate_T=None) -> (dX, dstate0)``:
        dH (T, B, H) holds each step's *own* loss gradient dE_t/dh_t (not the
        gradient passed between steps, which the engine adds itself);
        dstate_T is the gradient arriving at the final state (zeros if None).
        Returns dX (T, B, D) and the gradient of the initial state, and adds
        every parameter's gradient to its ``.grad``.
    """

    def __init__(self, cell: Cell):
        super().__init__()
        if not isinstance(cell, Cell):
            raise TypeError(f"cell: expected a seqnn Cell, got {type(cell).__name__}")
        self.cell = cell
        self.dtype = cell.dtype
        self._cache = None

    def extra_repr(self):
        return repr(self.cell)

    def forward(self, X: np.ndarray, state0=None):
        cell = self.cell
        check_float_array("X", X, (None, None, cell.input_size), cell.dtype, "TBD")
        T, B, D = X.shape
        if T == 0:
            raise ValueError("X: expected at least one time step, got T = 0")
        state = cell.as_state_tuple(state0, B, "state0")

        Zx = cell.project_input(X.reshape(T * B, D)).reshape(T, B, -1)   # input term, all steps at once
        Hs = np.empty((T + 1, B, cell.hidden_size), cell.dtype)          # h_0 .. h_T
        Hs[0] = state[0]
        caches = []
        for t in range(T):
            state, cache = cell.step(Zx[t], state)
            Hs[t + 1] = state[0]
            caches.append(cache)

        self._cache = (X, Hs, caches)
        return Hs[1:], cell.public_state(state)

    def backward(self, dH: np.ndarray, dstate_T=None):
        if self._cache is None:
            raise RuntimeError("backward() called before forward()")
        cell = self.cell
        X, Hs, caches = self._cache
        T, B, D = X.shape
        check_float_array("dH", dH, (T, B, cell.hidden_size), cell.dtype, "TBH")
        dstate = cell.as_state_tuple(dstate_T, B, "dstate_T")

        GH = cell.num_gates * cell.hidden_size
        dZx = np.empty((T, B, GH), cell.dtype)   # dE/d(input-side pre-activations), every step
        dZh = None                               # recurrent side, only where a cell makes it differ
        for t in reversed(range(T)):
            dstate = (dstate[0] + dH[t],) + dstate[1:]      # this step's own loss + what came from t+1
            dz_x, dz_h, dstate = cell.step_backward(dstate, caches[t])
            dZx[t] = dz_x
            if dz_h is not dz_x:
                if dZh is None:
                    dZh = np.empty((T, B, GH), cell.dtype)
                dZh[t] = dz_h

        dZx2 = dZx.reshape(T * B, GH)
        dZh2 = dZx2 if dZh is None else dZh.reshape(T * B, GH)
        cell.accumulate_grads(X.reshape(T * B, D), Hs[:-1].reshape(T * B, -1), dZx2, dZh2)  # sums over time
        dX = cell.input_grad(dZx2).reshape(T, B, D)
        return dX, cell.public_state(dstate)
