"""Models composed from the layers: each with forward, backward, parameters().

``CharLM`` is the lecture's character-level language model (many-to-many,
and one-to-many when it generates).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_rng, check_dtype_arg, check_int_array, check_positive_int
from .cells import make_cell
from .data import one_hot
from .layers import Linear
from .module import Module
from .recurrent import Recurrent

class CharLM(Module):
    """Character-level language model: one-hot ``x_t`` -> recurrent cell -> ``y_t = h_t W_hy^T + b_y``.

    ``softmax(y_t)`` is the model's distribution over the next character.

    Args:
        vocab_size V, hidden_size H.
        cell: "rnn" (default) or "lstm"; further keyword arguments go to the
            cell (nonlinearity, recurrent_init, forget_bias, bias).
        dtype: float64 (default) or float32. rng: seed or Generator.

    Sub-modules: ``rnn`` (a ``Recurrent``), ``out`` (a ``Linear``).
    """

    def __init__(self, vocab_size: int, hidden_size: int, cell: str = "rnn", *,
                 dtype=np.float64, rng=None, **cell_kwargs):
        super().__init__()
        self.vocab_size = V = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.dtype = check_dtype_arg(dtype)
        self.cell_kind = cell
        rng = as_rng(rng)
        self.rnn = Recurrent(make_cell(cell, V, H, dtype=dtype, rng=rng, **cell_kwargs))
        self.out = Linear(H, V, dtype=dtype, rng=rng)

    def extra_repr(self):
        return f"vocab_size={self.vocab_size}, hidden_size={self.hidden_size}, cell={self.cell_kind!r}"

    def forward(self, ids: np.ndarray, state0=None):
        """ids (T, B) int -> logits (T, B, V), final state (h, or (h, c) for LSTM; (B, H) each)."""
        check_int_array("ids", ids, (None, None), self.vocab_size)
        H, state = self.rnn.forward(one_hot(ids, self.vocab_size, self.dtype), state0)
        return self.out.forward(H), state

    def backward(self, dlogits: np.ndarray, dstate_T=None):
        """dlogits (T, B, V) -> ``(None, dstate0)``: one gradient per forward input.

        The token ids have no gradient (None); ``dstate0`` is the gradient of the
        initial state. Parameter gradients accumulate in ``.grad``.
        """
        dH = self.out.backward(dlogits)
        _, dstate0 = self.rnn.backward(dH, dstate_T)
        return None, dstate0
