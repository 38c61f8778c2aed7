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

import warnings

import numpy as np

from ._checks import as_rng, check_dtype_arg, check_float_array, check_int_array, check_positive_int
from . import fast as _fast
from .cells import CELLS, Cell, make_cell
from .layers import Dropout
from .module import Module


class Recurrent(Module):
    """Run ``cell`` over time, in one direction.

    ``forward(X, state0=None, lengths=None) -> (H, state_T)``:
        X (T, B, D); state0 like the cell's state (h (B, H), or (h, c) for LSTM),
        zeros if None. H (T, B, H) holds h_1 .. h_T; state_T is the final state.
        lengths (B,) ints in [1, T], optional: sequence b is X[:lengths[b], b]
        (right-padded). Past its end its state is frozen, its outputs are zero,
        and its final state is the state at its own last step.

    ``backward(dH, dstate_T=None, *, input_grad=True) -> (dX, dstate0)``:
        dH (T, B, H) holds each step's *own* loss gradient dE_t/dh_t (not the
        gradient passed between steps, which the engine adds itself);
        dstate_T is the gradient arriving at the final state (zeros if None).
        Returns dX (T, B, D) and the gradient of the initial state, and adds
        every parameter's gradient to its ``.grad``. Padded steps get and give
        no gradient. ``input_grad=False`` skips the product ``dX = dZ W_xh``
        and returns dX None (for inputs that need no gradient, such as one-hot
        token ids; PyTorch decides the same from ``requires_grad``).

    ``reverse=True`` runs t = T-1 .. 0 (each sequence from its own last element
    when ``lengths`` is given): the backward half of a bidirectional layer.

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
        self.reverse = bool(reverse)
        self.fast = bool(fast)
        self.dtype = cell.dtype
        self._cache = None

    @property
    def kernel(self):
        """The fast loop that runs (a class of ``seqnn.fast``), or None: the readable loop."""
        return _fast.kernel_for(self.cell) if self.fast else None

    def extra_repr(self):
        loop = f"fast={self.fast}"
        if self.fast and self.kernel is None:
            loop += f" (no fast loop for {type(self.cell).__name__}: runs the readable one)"
        return repr(self.cell) + (", reverse=True" if self.reverse else "") + ", " + loop

    def forward(self, X: np.ndarray, state0=None, lengths=None):
        cell = self.cell
        check_float_array("X", X, (None, None, cell.input_size), cell.dtype, "TBD")
        T, B, D = X.shape
        if T == 0:
            raise ValueError("X: expected at least one time step, got T = 0")
        lengths = check_lengths(lengths, T, B)
        state0 = cell.as_state_tuple(state0, B, "state0")
        if self.reverse:
            X = reverse_padded(X, lengths)
        mask = None if lengths is None else (np.arange(T)[:, None] < lengths)[:, :, None]   # (T, B, 1)
        H, state = self._forward(X, state0, mask)
        if self.reverse:
            H = reverse_padded(H, lengths)
        self._lengths = lengths
        return H, cell.public_state(state)

    def backward(self, dH: np.ndarray, dstate_T=None, *, input_grad: bool = True):
        if self._cache is None:
            raise RuntimeError("backward() called before forward()")
        cell = self.cell
        X = self._cache[0]
        T, B, D = X.shape
        check_float_array("dH", dH, (T, B, cell.hidden_size), cell.dtype, "TBH")
        dstate = cell.as_state_tuple(dstate_T, B, "dstate_T")
        if self.reverse:
            dH = reverse_padded(dH, self._lengths)
        dX, dstate0 = self._backward(dH, dstate, input_grad)
        if self.reverse and dX is not None:
            dX = reverse_padded(dX, self._lengths)
        return dX, cell.public_state(dstate0)

    # --- forward order from here on (reversal happens at the edges) -----------
    def _forward(self, X, state, mask):
        cell, kernel = self.cell, self.kernel
        T, B, D = X.shape
        Zx = cell.project_input(X.reshape(T * B, D)).reshape(T, B, -1)   # input term, all steps at once
        if kernel is not None:                                           # same maths, arranged for speed
            Hs, state, caches = kernel.forward(cell, Zx, state, mask)
        else:
            Hs, state, caches = self._forward_loop(Zx, state, mask)
        self._cache = (X, Hs, caches, mask, kernel)
        H = Hs[1:] if mask is None else Hs[1:] * mask                    # outputs past the end are zero
        return H, state

    def _forward_loop(self, Zx, state, mask):
        """The readable loop: the lecture's unrolled graph, one ``cell.step`` per time step."""
        cell = self.cell
        T, B, _ = Zx.shape
        Hs = np.empty((T + 1, B, cell.hidden_size), cell.dtype)          # h_0 .. h_T
        Hs[0] = state[0]
        caches = []
        for t in range(T):
            new_state, cache = cell.step(Zx[t], state)
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
            dZx, dZh, dstate0 = kernel.backward(cell, Hs, caches, dH, dstate, mask)
        else:
            dZx, dZh, dstate0 = self._backward_loop(Hs, caches, mask, dH, dstate)
        # The sum over time, dE/dW = sum_t dE_t/dW: one product each over all T*B rows.
        dZx2 = dZx.reshape(T * B, -1)
        dZh2 = dZx2 if dZh is None else dZh.reshape(T * B, -1)
        cell.accumulate_grads(X.reshape(T * B, D), Hs[:-1].reshape(T * B, -1), dZx2, dZh2)
        dX = cell.input_grad(dZx2).reshape(T, B, D) if input_grad else None
        return dX, dstate0

    def _backward_loop(self, Hs, caches, mask, dH, dstate):
        """The readable loop: backpropagation through time, one ``cell.step_backward`` per step."""
        cell = self.cell
        T, B, _ = dH.shape
        GH = cell.num_gates * cell.hidden_size
        dZx = np.empty((T, B, GH), cell.dtype)   # dE/d(input-side pre-activations), every step
        dZh = np.empty((T, B, GH), cell.dtype) if cell.recurrent_grad_differs else None
        for t in reversed(range(T)):
            dh = dstate[0] + dH[t]                                      # own loss + what came from t+1
            dstate = (dh,) + dstate[1:]
            if mask is None:
                dz_x, dz_h, dstate = cell.step_backward(dstate, caches[t])
            else:                                # a frozen step passes its gradient straight through
                live = tuple(d * mask[t] for d in dstate)
                dz_x, dz_h, dprev = cell.step_backward(live, caches[t])
                dstate = tuple(np.where(mask[t], p, d) for p, d in zip(dprev, dstate))
            dZx[t] = dz_x
            if dZh is not None:
                dZh[t] = dz_h
        return dZx, dZh, dstate


def check_lengths(lengths, T: int, B: int):
    """Validate ``lengths`` (B,) ints in [1, T]; None stays None."""
    if lengths is None:
        return None
    lengths = check_int_array("lengths", np.asarray(lengths), (B,), np.iinfo(np.int64).max)
    if lengths.size and (lengths.min() < 1 or lengths.max() > T):
        bad = lengths.min() if lengths.min() < 1 else lengths.max()
        raise ValueError(f"lengths: expected values in [1, T] = [1, {T}], got {bad}")
    return lengths


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


class RecurrentStack(Module):
    """Deep and bidirectional recurrent layers, with PyTorch's shapes.

    Layer l > 0 reads layer l-1's outputs (both directions concatenated). The
    reverse direction reads t = T-1 .. 0 (each sequence from its own last element
    when ``lengths`` is given). Dropout, in training mode only, is applied to the
    outputs of every layer except the last.

    Args:
        cell: "rnn", "lstm" or "gru". input_size D, hidden_size H.
        num_layers L (default 1), bidirectional (default False: Dirs = 1, else 2),
        dropout p between layers (default 0). Further keyword arguments go to
        every cell (nonlinearity, bias, recurrent_init, forget_bias, ...).
        dtype, rng (seed or Generator; also draws the dropout masks).
        fast: the loop every layer runs (``Recurrent``'s ``fast``; default True).

    ``forward(X, state0=None, lengths=None) -> (output, state_T)``:
        X (T, B, D); output (T, B, Dirs*H): the last layer's h_t, directions
        concatenated as [forward | reverse]. States are stacked as PyTorch's
        ``h_n``: (L*Dirs, B, H), index ``layer*Dirs + direction``; an LSTM's
        state is the pair (h, c) of such arrays. lengths (B,) as in ``Recurrent``.

    ``backward(doutput, dstate_T=None, *, input_grad=True) -> (dX, dstate0)`` with the same
    shapes (dX None with ``input_grad=False``: the first layer skips its input gradient).

    Sub-modules: ``layers[layer*Dirs + direction]``, each a ``Recurrent``.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, *, dtype=np.float64, rng=None,
                 fast: bool = True, **cell_kwargs):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {sorted(CELLS)}, got {cell!r}")
        self.kind = cell
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.num_directions = 2 if bidirectional else 1
        self.dtype = check_dtype_arg(dtype)
        self.cell_kwargs = dict(cell_kwargs)
        rng = as_rng(rng)
        self.layers = [
            Recurrent(make_cell(cell, input_size if l == 0 else self.num_directions * H, H,
                                dtype=dtype, rng=rng, **cell_kwargs), reverse=(d == 1), fast=fast)
            for l in range(self.num_layers) for d in range(self.num_directions)
        ]
        self.dropouts = [Dropout(dropout, rng) for _ in range(self.num_layers - 1)]
        if dropout and self.num_layers == 1:
            warnings.warn("dropout: applies between stacked layers only, so with num_layers=1 it does nothing",
                          UserWarning, stacklevel=2)
        self.dropout = float(dropout)
        self.state_names = self.layers[0].cell.state_names

    @property
    def bidirectional(self) -> bool:
        return self.num_directions == 2

    @property
    def output_size(self) -> int:
        return self.num_directions * self.hidden_size

    def extra_repr(self):
        return (f"{self.kind!r}, input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, dropout={self.dropout}"
                + ("" if self.layers[0].fast else ", fast=False"))

    def forward(self, X: np.ndarray, state0=None, lengths=None):
        check_float_array("X", X, (None, None, self.input_size), self.dtype, "TBD")
        B = X.shape[1]
        states0 = self._split_state(state0, B, "state0")
        finals, inp = [], X
        for l in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = l * self.num_directions + d
                out, final = self.layers[k].forward(inp, states0[k], lengths)
                outs.append(out)
                finals.append(final)
            inp = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)
            if l < self.num_layers - 1:
                inp = self.dropouts[l].forward(inp)
        return inp, self._stack_state(finals)

    def backward(self, doutput: np.ndarray, dstate_T=None, *, input_grad: bool = True):
        if not self.layers[-1]._cache:
            raise RuntimeError("backward() called before forward()")
        T, B = self.layers[-1]._cache[0].shape[:2]
        check_float_array("doutput", doutput, (T, B, self.output_size), self.dtype, "TBH")
        dfinals = self._split_state(dstate_T, B, "dstate_T")
        dstates0 = [None] * len(self.layers)
        H, dout = self.hidden_size, doutput
        for l in reversed(range(self.num_layers)):
            if l < self.num_layers - 1:
                dout = self.dropouts[l].backward(dout)
            dinp = 0.0
            need = input_grad or l > 0               # the first layer's input may need no gradient (token ids)
            for d in range(self.num_directions):
                k = l * self.num_directions + d
                dX, dstates0[k] = self.layers[k].backward(dout[..., d * H:(d + 1) * H], dfinals[k], input_grad=need)
                dinp = dinp + dX if need else None   # both directions read the same input
            dout = dinp
        return dout, self._stack_state(dstates0)

    # --- PyTorch's (L*Dirs, B, H) state layout <-> one state per layer ---------
    def _split_state(self, state, B, name):
        """(L*Dirs, B, H) array (or (h, c) pair of them) -> list of per-layer states; None -> Nones."""
        n = len(self.layers)
        if state is None:
            return [None] * n
        parts = (state,) if len(self.state_names) == 1 else state
        if not isinstance(parts, (tuple, list)) or len(parts) != len(self.state_names):
            raise TypeError(f"{name}: expected a tuple ({', '.join(self.state_names)}) of (L*Dirs, B, H) arrays")
        for s, p in zip(self.state_names, parts):
            check_float_array(f"{name}.{s}" if len(parts) > 1 else name, p, (n, B, self.hidden_size),
                              self.dtype, ["L*Dirs", "B", "H"])
        per_layer = [tuple(p[k] for p in parts) for k in range(n)]
        return [s[0] if len(s) == 1 else s for s in per_layer]

    def _stack_state(self, states):
        """List of per-layer states -> (L*Dirs, B, H) array (or (h, c) pair of them)."""
        parts = [s if isinstance(s, tuple) else (s,) for s in states]
        stacked = tuple(np.stack([p[j] for p in parts]) for j in range(len(self.state_names)))
        return stacked[0] if len(stacked) == 1 else stacked


class RNN(RecurrentStack):
    """``RecurrentStack`` of ``RNNCell`` (tanh or ReLU): ``RNN(D, H, num_layers, bidirectional, ...)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, **kwargs):
        super().__init__("rnn", input_size, hidden_size, num_layers, bidirectional, dropout, **kwargs)


class LSTM(RecurrentStack):
    """``RecurrentStack`` of ``LSTMCell``; states are (h, c) pairs of (L*Dirs, B, H) arrays."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, **kwargs):
        super().__init__("lstm", input_size, hidden_size, num_layers, bidirectional, dropout, **kwargs)


class GRU(RecurrentStack):
    """``RecurrentStack`` of ``GRUCell`` (PyTorch's form)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, **kwargs):
        super().__init__("gru", input_size, hidden_size, num_layers, bidirectional, dropout, **kwargs)
