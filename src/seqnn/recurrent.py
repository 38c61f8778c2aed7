"""The BPTT engine: run any cell over a whole sequence, forward and backward.

Shapes: X (T, B, D) time-major, every hidden state (T, B, H), a state (B, H).

Forward (the lecture's unrolled graph)::

    Ax = X W_xh^T + b_h                       one product for all T steps, before the loop
    for t = 0 .. T-1:  state_t = step(Ax[t], state_{t-1})

Backward (backpropagation through time)::

    for t = T-1 .. 0:  da_t, dstate_{t-1} = step_backward(dh_t + dstate_t, cache_t)
    dW_xh = sum_t da_t^T x_t     dW_hh = sum_t da_t^T h_{t-1}     db_h = sum_t da_t
    dX = dA W_xh                 -- each one product over all T*B rows, after the loop

The layer keeps nothing between calls except the cache of the last forward,
which its backward consumes: running a new sequence after an optimizer step
just works, and the hidden state never carries over silently. To carry a state
across calls (truncated BPTT), pass it back in as ``state0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import NO_FORWARD, check_bool, check_float_array, check_lengths, check_sequence, kept, read_only
from . import fast as _fast
from .cells import Cell, public_state
from .module import Module


class Recurrent(Module):
    """Run ``cell`` over time, in one direction.

    ``forward(X, state0=None, lengths=None) -> (H, state_T)``:
        X (T, B, D); state0 like the cell's state (h (B, H), or (h, c) for LSTM),
        zeros if None. H (T, B, H) holds h_1 .. h_T; state_T is the final state.
        Both are read-only views of what backward reads (``.copy()`` to write).
        lengths (B,) ints in [1, T], optional: sequence b is X[:lengths[b], b]
        (right-padded). Past its end its state is frozen, its outputs are zero,
        and its final state is the state at its own last step.

    ``backward(dH, dstate_T=None, *, input_grad=True) -> (dX, dstate0)``:
        dH (T, B, H) holds each step's *own* loss gradient dE_t/dh_t (not the
        gradient passed between steps, which the engine adds itself);
        dstate_T is the gradient arriving at the final state (zeros if None).
        Returns dX (T, B, D) and the gradient of the initial state, and adds
        every parameter's gradient to its ``.grad``. Padded steps get and give
        no gradient. ``input_grad=False`` skips the product ``dX = dA W_xh``
        and returns dX None (for inputs that need no gradient, such as one-hot
        token ids; PyTorch decides the same from ``requires_grad``).

    ``reverse=True`` runs t = T-1 .. 0 (each sequence from its own last element
    when ``lengths`` is given): the backward half of a bidirectional layer.

    ``check=False`` (keyword) skips the checks of the arguments: for a caller
    that has checked them already (a stack checks its input once, for all its
    layers). Otherwise every argument is checked here, at the door.

    ``fast`` chooses the loop over time; both compute the same numbers (to
    round-off; ``tests/test_fast.py``). ``fast=False`` runs the readable loop,
    one ``cell.step`` per step forward and one ``cell.step_backward`` per step
    backward: the lines of ``cells.py`` that read as the lecture's equations,
    where a breakpoint stops at every step. ``fast=True`` (the default) runs the
    in-place kernel of ``seqnn.fast`` for a built-in cell (exactly ``RNNCell``,
    ``LSTMCell`` or ``GRUCell``) and the readable loop for any other cell. The
    engine itself does the rest, the same for both: the input term of every
    step before the loop, and the sum over time after it.
    """

    def __init__(self, cell: Cell, reverse: bool = False, *, fast: bool = True):
        super().__init__()
        if not isinstance(cell, Cell):
            raise TypeError(f"cell: expected a seqnn Cell, got {type(cell).__name__}")
        self.cell = cell
        self.reverse = check_bool("reverse", reverse)
        self.fast = check_bool("fast", fast)
        self.dtype = cell.dtype
        self._cache: Any = None

    @property
    def kernel(self):
        """The fast loop that runs (a class of ``seqnn.fast``), or None: the readable loop."""
        return _fast.kernel_for(self.cell) if self.fast else None

    def extra_repr(self):
        loop = f"fast={self.fast}"
        if self.fast and self.kernel is None:
            loop += f" (no fast loop for {type(self.cell).__name__}: runs the readable one)"
        return repr(self.cell) + (", reverse=True" if self.reverse else "") + ", " + loop

    def forward(self, X: np.ndarray, state0=None, lengths=None, *, check: bool = True):
        cell = self.cell
        if check:                                            # the door: each argument once
            check_sequence("X", X, cell.input_size, cell.dtype)
            cell.check_state("state0", state0, X.shape[1])
            lengths = check_lengths(lengths, X.shape[0], X.shape[1])
        T, B, D = X.shape
        X, state0 = kept(X), tuple(kept(s) for s in cell.state_tuple(state0, B))    # what backward reads
        if self.reverse:
            X = reverse_padded(X, lengths)
        mask = None if lengths is None else (np.arange(T)[:, None] < lengths)[:, :, None]   # (T, B, 1)
        H, state = self._forward(X, state0, mask)
        if self.reverse:
            H = reverse_padded(H, lengths)
        self._lengths = lengths
        return read_only(H), public_state(tuple(read_only(s) for s in state))       # views of the cache

    def backward(self, dH: np.ndarray, dstate_T=None, *, input_grad: bool = True, check: bool = True):
        if self._cache is None:
            raise RuntimeError(NO_FORWARD)
        cell = self.cell
        T, B, D = self._cache[0].shape
        if check:
            check_float_array("dH", dH, (T, B, cell.hidden_size), cell.dtype, "TBH")
            cell.check_state("dstate_T", dstate_T, B)
            check_bool("input_grad", input_grad)
        if self.reverse:
            dH = reverse_padded(dH, self._lengths)
        dX, dstate0 = self._backward(dH, cell.state_tuple(dstate_T, B), input_grad)
        self._cache = None                                   # consumed (the fast loops overwrite the gates)
        if self.reverse and dX is not None:
            dX = reverse_padded(dX, self._lengths)
        return dX, public_state(dstate0)

    def record(self, X: np.ndarray, state0=None, *, check: bool = True) -> dict:
        """Every value of a forward pass, named: ``{"h": (T, B, H), "c": ... (LSTM), "i": ..., "f": ...}``, each
        state part and each gate's activation at every step (``Cell.values``), in time order.

        It runs the readable loop (one ``cell.step`` per step: the lecture's
        equations) and leaves the layer as it was: no backward follows it.
        """
        cell = self.cell
        if check:
            check_sequence("X", X, cell.input_size, cell.dtype)
            cell.check_state("state0", state0, X.shape[1])
        T, B, D = X.shape
        X = X[::-1] if self.reverse else X
        steps: list[dict] = []
        self._forward_loop(cell.project_input(X.reshape(T * B, D)).reshape(T, B, -1), cell.state_tuple(state0, B),
                           None, steps)
        values = {name: np.stack([step[name] for step in steps]) for name in steps[0]}
        return {name: v[::-1] for name, v in values.items()} if self.reverse else values

    # --- forward order from here on (reversal happens at the edges) -----------
    def _forward(self, X, state, mask):
        cell, kernel = self.cell, self.kernel
        T, B, D = X.shape
        Ax = cell.project_input(X.reshape(T * B, D)).reshape(T, B, -1)   # input term, all steps at once
        if kernel is not None:                                           # same maths, arranged for speed
            Hs, state, caches = kernel.forward(cell, Ax, state, mask)
        else:
            Hs, state, caches = self._forward_loop(Ax, state, mask)
        self._cache = (X, Hs, caches, mask, kernel)
        H = Hs[1:] if mask is None else Hs[1:] * mask                    # outputs past the end are zero
        return H, state

    def _forward_loop(self, Ax, state, mask, record=None):
        """The readable loop: the lecture's unrolled graph, one ``cell.step`` per time step (``record``, a list:
        each step's named values are appended to it)."""
        cell = self.cell
        T, B, _ = Ax.shape
        Hs = np.empty((T + 1, B, cell.hidden_size), cell.dtype)          # h_0 .. h_T
        Hs[0] = state[0]
        caches = []
        for t in range(T):
            new_state, cache = cell.step(Ax[t], state)
            if record is not None:
                record.append(cell.values(new_state, cache))
            if mask is not None:                                         # finished sequences keep their state
                new_state = tuple(np.where(mask[t], new, old) for new, old in zip(new_state, state))
            state = new_state
            Hs[t + 1] = state[0]
            caches.append(cache)
        return Hs, state, caches

    def _backward(self, dH, dstate, input_grad):
        cell = self.cell
        X, Hs, caches, mask, kernel = self._cache
        T, B, D = X.shape
        if mask is not None:
            dH = dH * mask                                               # outputs past the end are constants
        if kernel is not None:
            dAx, dAh, dstate0 = kernel.backward(cell, Hs, caches, dH, dstate, mask)
        else:
            dAx, dAh, dstate0 = self._backward_loop(Hs, caches, mask, dH, dstate)
        # The sum over time, dE/dW = sum_t dE_t/dW: one product each over all T*B rows.
        dAx2 = dAx.reshape(T * B, -1)
        dAh2 = dAx2 if dAh is None else dAh.reshape(T * B, -1)
        cell.accumulate_grads(X.reshape(T * B, D), Hs[:-1].reshape(T * B, -1), dAx2, dAh2)
        dX = cell.input_grad(dAx2).reshape(T, B, D) if input_grad else None
        return dX, dstate0

    def _backward_loop(self, Hs, caches, mask, dH, dstate):
        """The readable loop: backpropagation through time, one ``cell.step_backward`` per step."""
        cell = self.cell
        T, B, _ = dH.shape
        GH = cell.num_gates * cell.hidden_size
        dAx = np.empty((T, B, GH), cell.dtype)   # dE/d(input-side pre-activations), every step
        dAh = np.empty((T, B, GH), cell.dtype) if cell.recurrent_grad_differs else None
        for t in reversed(range(T)):
            dh = dstate[0] + dH[t]                                      # own loss + what came from t+1
            dstate = (dh,) + dstate[1:]
            if mask is None:
                da_x, da_h, dstate = cell.step_backward(dstate, caches[t])
            else:                                # a frozen step passes its gradient straight through
                live = tuple(d * mask[t] for d in dstate)
                da_x, da_h, dprev = cell.step_backward(live, caches[t])
                dstate = tuple(np.where(mask[t], p, d) for p, d in zip(dprev, dstate))
            dAx[t] = da_x
            if dAh is not None:
                dAh[t] = da_h
        return dAx, dAh, dstate


def reverse_padded(A: np.ndarray, lengths) -> np.ndarray:
    """Reverse time in A (T, B, ...), each sequence within its own length; padding stays in place.

    Without lengths this is ``A[::-1]``. Reversing twice gives A back.
    """
    if lengths is None:
        return A[::-1]
    T = A.shape[0]
    t = np.arange(T)[:, None]
    index = np.where(t < lengths, lengths - 1 - t, t)            # (T, B)
    return np.take_along_axis(A, index.reshape(index.shape + (1,) * (A.ndim - 2)), axis=0)
