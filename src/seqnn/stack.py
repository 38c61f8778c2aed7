"""Deep and bidirectional recurrent layers with PyTorch's shapes: ``RecurrentStack`` and ``RNN``, ``LSTM``, ``GRU``.

A floor above the engine: each layer and direction is a ``Recurrent`` (the BPTT
engine of ``seqnn.recurrent``); this module stacks them, runs the reverse
direction, concatenates the two, and applies dropout between layers.
"""

from __future__ import annotations

from typing import Any

import warnings

import numpy as np

from ._checks import (NO_FORWARD, as_rng, check_bool, check_choice, check_dtype_arg, check_float_array, check_fraction,
                      check_lengths, check_positive_int, check_sequence, check_state, read_only)
from .cells import CELLS, make_cell, public_state, state_parts
from .layers import Dropout
from .module import Module
from .recurrent import Recurrent


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

    Both check their arguments once, here, and run every layer unchecked; ``check=False``
    (keyword) skips that too, for a model that has checked them itself.

    Sub-modules: ``layers[layer*Dirs + direction]``, each a ``Recurrent``.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, *, dtype=np.float64, rng=None,
                 fast: bool = True, **cell_kwargs):
        super().__init__()
        self.kind = check_choice("cell", cell, sorted(CELLS))
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.num_directions = 2 if check_bool("bidirectional", bidirectional) else 1
        self.dtype = check_dtype_arg(dtype)
        self.cell_kwargs = dict(cell_kwargs)
        rng = as_rng(rng)
        self.layers = [
            Recurrent(make_cell(cell, input_size if l == 0 else self.num_directions * H, H,
                                dtype=dtype, rng=rng, **cell_kwargs), reverse=(d == 1), fast=fast)
            for l in range(self.num_layers) for d in range(self.num_directions)
        ]
        check_fraction("dropout", dropout, "a probability")
        self.dropouts = [Dropout(dropout, rng) for _ in range(self.num_layers - 1)]
        if dropout and self.num_layers == 1:
            warnings.warn("dropout: applies between stacked layers only, so with num_layers=1 it does nothing",
                          UserWarning, stacklevel=2)
        self.dropout = float(dropout)
        self.state_names = self.layers[0].cell.state_names
        self._steps: tuple[int, int] | None = None

    @staticmethod
    def count_parameters(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                         bidirectional: bool = False, bias: bool = True) -> int:
        """The numbers a stack of these sizes holds, computed without building it."""
        Dirs, H = (2 if bidirectional else 1), hidden_size
        return sum(Dirs * CELLS[cell].count_parameters(input_size if l == 0 else Dirs * H, H, bias)
                   for l in range(num_layers))

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

    def forward(self, X: np.ndarray, state0=None, lengths=None, *, check: bool = True):
        if check:                                        # the door: each argument once, the layers trust it
            check_sequence("X", X, self.input_size, self.dtype)
            self.check_state("state0", state0, X.shape[1])
            lengths = check_lengths(lengths, X.shape[0], X.shape[1])
        T, B = X.shape[:2]
        states0 = self.split_state(state0)
        finals, inp = [], X
        for l in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = l * self.num_directions + d
                out, final = self.layers[k].forward(inp, states0[k], lengths, check=False)
                outs.append(out)
                finals.append(final)
            inp = outs[0] if len(outs) == 1 else read_only(np.concatenate(outs, axis=-1))
            if l < self.num_layers - 1:
                inp = self.dropouts[l].forward(inp, check=False)
        self._steps = T, B                               # what backward checks doutput against
        return inp, self.stack_state(finals)

    def backward(self, doutput: np.ndarray, dstate_T=None, *, input_grad: bool = True, check: bool = True):
        if self._steps is None:
            raise RuntimeError(NO_FORWARD)
        T, B = self._steps
        if check:
            check_float_array("doutput", doutput, (T, B, self.output_size), self.dtype, "TBH")
            self.check_state("dstate_T", dstate_T, B)
            check_bool("input_grad", input_grad)
        self._steps = None                               # consumed: one backward per forward
        dfinals = self.split_state(dstate_T)
        dstates0 = [None] * len(self.layers)
        H = self.hidden_size
        dout: Any = doutput
        for l in reversed(range(self.num_layers)):
            if l < self.num_layers - 1:
                dout = self.dropouts[l].backward(dout, check=False)
            dinp: Any = 0.0
            need = input_grad or l > 0               # the first layer's input may need no gradient (token ids)
            for d in range(self.num_directions):
                k = l * self.num_directions + d
                dX, dstates0[k] = self.layers[k].backward(dout[..., d * H:(d + 1) * H], dfinals[k],
                                                          input_grad=need, check=False)
                dinp = dinp + dX if need else None   # both directions read the same input
            dout = dinp
        return dout, self.stack_state(dstates0)

    # --- PyTorch's (L*Dirs, B, H) state layout <-> one state per layer ---------
    def check_state(self, name: str, state, batch_size: int) -> None:
        """At a door: ``state`` is None or a finite (L*Dirs, B, H) array (an LSTM's: a pair (h, c) of them)."""
        check_state(name, state, self.state_names, (len(self.layers), batch_size, self.hidden_size), self.dtype,
                    ["L*Dirs", "B", "H"])

    def split_state(self, state) -> list:
        """A stack's state ((L*Dirs, B, H), or an (h, c) pair of them) -> one state per layer; None -> Nones."""
        if state is None:
            return [None] * len(self.layers)
        parts = state_parts(state)
        return [public_state(tuple(p[k] for p in parts)) for k in range(len(self.layers))]

    def stack_state(self, states: list):
        """One state per layer -> the stack's: each part stacked into (L*Dirs, B, H)."""
        per_layer = [state_parts(s) for s in states]
        return public_state(tuple(np.stack([p[j] for p in per_layer]) for j in range(len(self.state_names))))


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
