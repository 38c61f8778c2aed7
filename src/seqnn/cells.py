"""Recurrent cells: one time step forward, one time step backward.

Shapes (fixed letters used everywhere in seqnn): B batch, D input size,
H hidden size, G number of gate blocks (RNN 1, LSTM 4, GRU 3).

Every cell keeps its weights as the lecture writes them, output dimension first,
with the gates stacked in PyTorch's order::

    W_xh : (G*H, D)   input-to-hidden
    W_hh : (G*H, H)   hidden-to-hidden
    b_h  : (G*H,)     bias (absent when bias=False)

A step is split in two so that the sequence engine (``seqnn.recurrent``) can do
the input half for all time steps at once, outside its time loop:

1. ``project_input(x)``: the input term ``ax = x W_xh^T + b_h`` (any number of rows).
2. ``step(ax, state)``: everything that needs the previous state; returns the new
   state and a cache of what backward needs.

Backward mirrors it: ``step_backward(dstate, cache)`` returns the gradient of the
pre-activations and of the previous state; ``accumulate_grads`` turns
pre-activation gradients into weight gradients (one matrix product each), and
``input_grad`` gives ``dx``.

Inside a cell the state is a tuple: ``(h,)`` for RNNCell and GRUCell, ``(h, c)``
for LSTMCell. The public ``forward``/``backward`` follow PyTorch: ``h`` for
RNNCell and GRUCell, ``(h, c)`` for LSTMCell; ``state_parts`` and
``public_state`` turn one form into the other (for a stack's states too).

The engine (``seqnn.Recurrent``) runs ``step``/``step_backward`` in its readable
loop (``fast=False``, or any cell of your own); for the built-in cells its
default fast loop (``seqnn.fast``) computes the same equations in place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import init
from ._checks import (NO_FORWARD, as_rng, check_bool, check_choice, check_dtype_arg, check_float_array,
                      check_positive_int, check_real, check_state, kept, read_only)
from .functional import relu, sigmoid
from .module import Module, copy_into


class Cell(Module):
    """Base class of recurrent cells: parameters, the input projection, weight gradients.

    Sub-classes set ``num_gates`` and ``state_names`` and write ``step`` and
    ``step_backward``: the equations of one time step and their chain rule.
    """

    num_gates = 1
    state_names: tuple[str, ...] = ("h",)
    cache_names: tuple[str, ...] = ()   # names of what step() keeps for backward, for traces
    sums_preactivations = True          # pre-activation = input term + recurrent term (traces show it)
    recurrent_grad_differs = False      # step_backward's da_h differs from da_x (GRU): the engine keeps both
    gate_names: tuple[str, ...] = ()    # the blocks of rows stacked in W_xh, W_hh, b_h (gradcheck names them)

    def __init__(self, input_size: int, hidden_size: int, *, bias: bool = True,
                 input_init=None, recurrent_init=None, dtype=np.float64, rng=None):
        super().__init__()
        self.input_size = D = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.dtype = check_dtype_arg(dtype)
        self.bias = check_bool("bias", bias)
        self._cache: Any = None
        rng = as_rng(rng)
        G, bound = self.num_gates, init.pytorch_default_bound(H)
        self.add_parameter("W_xh", init.uniform((G * H, D), bound, rng, self.dtype))
        self.add_parameter("W_hh", init.uniform((G * H, H), bound, rng, self.dtype))
        if self.bias:
            self.add_parameter("b_h", init.uniform((G * H,), bound, rng, self.dtype))
            self.add_extra_biases(rng, bound)
        if input_init is not None:
            self.W_xh = np.concatenate([init.from_name(input_init, (H, D), rng, "input_init") for _ in range(G)])
        if recurrent_init is not None:
            self.W_hh = np.concatenate([init.from_name(recurrent_init, (H, H), rng, "recurrent_init")
                                        for _ in range(G)])

    def extra_repr(self):
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}, bias={self.bias}, dtype={self.dtype}"

    @classmethod
    def count_parameters(cls, input_size: int, hidden_size: int, bias: bool = True) -> int:
        """The numbers a cell of these sizes holds, without building it: ``G*H*(D + H)`` weights, ``G*H`` biases."""
        G, D, H = cls.num_gates, input_size, hidden_size
        return G * H * (D + H) + (G * H if bias else 0)

    def add_extra_biases(self, rng, bound: float) -> None:
        """Hook for cells with a bias beyond b_h (GRU's b_hn)."""

    # --- the half of a step that does not depend on the previous state ------
    def project_input(self, x: np.ndarray) -> np.ndarray:
        """Input term of the pre-activations: ``x (N, D) -> x W_xh^T + b_h (N, G*H)``."""
        ax = x @ self.W_xh.T
        if self.bias:
            ax += self.b_h
        return ax

    def input_grad(self, da_x: np.ndarray) -> np.ndarray:
        """``dx = da_x W_xh``: ``(N, G*H) -> (N, D)``."""
        return da_x @ self.W_xh

    def accumulate_grads(self, x, h_prev, da_x, da_h) -> None:
        """Add this step's (or all steps') weight gradients, one product each.

        x (N, D), h_prev (N, H), da_x and da_h (N, G*H): the gradients of the
        input-side and recurrent-side pre-activations (the same array for RNN
        and LSTM). With N = T*B this is the lecture's sum over time
        ``dE/dW = sum_t dE_t/dW`` as one matrix product.
        """
        self.params["W_xh"].grad += da_x.T @ x
        self.params["W_hh"].grad += da_h.T @ h_prev
        if self.bias:
            self.params["b_h"].grad += da_x.sum(axis=0)

    # --- states -------------------------------------------------------------
    def initial_state(self, batch_size: int) -> tuple:
        """Zeros for every state component, each ``(B, H)``."""
        return tuple(np.zeros((batch_size, self.hidden_size), self.dtype) for _ in self.state_names)

    def state_tuple(self, state, batch_size: int) -> tuple:
        """A public state (``h``, or ``(h, c)`` for LSTM; None for zeros) as the tuple ``step`` takes."""
        return self.initial_state(batch_size) if state is None else state_parts(state)

    def check_state(self, name: str, state, batch_size: int) -> None:
        """At a door: ``state`` is None or the cell's public state, each part a finite (B, H) array."""
        check_state(name, state, self.state_names, (batch_size, self.hidden_size), self.dtype, "BH")

    # --- one step, public (validated) ---------------------------------------
    def forward(self, x: np.ndarray, state=None):
        """One time step. x (B, D); state h (B, H) [LSTM: (h, c)], zeros if None.

        Returns the new state in the same form (read-only: ``backward`` reads it).
        Keeps what ``backward`` needs.
        """
        check_float_array("x", x, (None, self.input_size), self.dtype, "BD")
        if x.shape[0] == 0:
            raise ValueError("x: expected at least one example, got an empty batch (B = 0)")
        self.check_state("state", state, x.shape[0])
        x, state = kept(x), tuple(kept(s) for s in self.state_tuple(state, x.shape[0]))   # for backward
        new_state, cache = self.step(self.project_input(x), state)
        self._cache = (x, state[0], cache)
        return public_state(tuple(read_only(s) for s in new_state))      # backward reads these

    def backward(self, *dstate):
        """Backward of one ``forward`` call: ``backward(dh)``, or ``backward(dh, dc)`` for LSTM.

        dh, dc (B, H): gradients of the new state's components. Returns
        ``(dx (B, D), dstate_prev)`` (dstate_prev like the state) and adds the
        weight gradients to each parameter's ``.grad``.
        """
        if self._cache is None:
            raise RuntimeError(NO_FORWARD)
        x, h_prev, cache = self._cache
        if len(dstate) != len(self.state_names):
            raise TypeError(f"dstate: expected {len(self.state_names)} arrays "
                            f"({', '.join('d' + s for s in self.state_names)}), got {len(dstate)}")
        dstate = public_state(dstate)
        self.check_state("dstate", dstate, x.shape[0])
        da_x, da_h, dstate_prev = self.step_backward(state_parts(dstate), cache)
        self._cache = None                                    # consumed: one backward per forward
        self.accumulate_grads(x, h_prev, da_x, da_h)
        return self.input_grad(da_x), public_state(dstate_prev)

    def values(self, state: tuple, cache) -> dict:
        """The named values of one step, from what ``step`` returned: each part of the new state ("h", and "c"
        for the LSTM) and each gate's activation (the cell's ``gate_names``), each (B, H). A look inside,
        computing nothing new (``seqnn.probe``)."""
        return dict(zip(self.state_names, state))

    # --- to be written by each cell -----------------------------------------
    def step(self, ax, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def step_backward(self, dstate, cache):  # pragma: no cover - abstract
        raise NotImplementedError


class _Gate:
    """A read/write view of gate block ``k`` (rows ``k*H:(k+1)*H``) of a stacked parameter.

    ``cell.W_xf`` is ``cell.W_xh[H:2H]`` (a view, not a copy); ``cell.W_xf = M``
    writes M into those rows after checking its shape.
    """

    def __init__(self, param: str, k: int, doc: str):
        self.param, self.k, self.__doc__ = param, k, doc

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, cell, owner=None):
        if cell is None:
            return self
        H = cell.hidden_size
        return getattr(cell, self.param)[self.k * H:(self.k + 1) * H]

    def __set__(self, cell, value):
        copy_into(self.name, self.__get__(cell), value)


class RNNCell(Cell):
    """Vanilla (Elman) RNN cell: ``h_t = act(x_t W_xh^T + h_{t-1} W_hh^T + b_h)``.

    Args:
        input_size D, hidden_size H.
        nonlinearity: "tanh" (default) or "relu".
        bias: whether ``b_h`` exists.
        recurrent_init: None (PyTorch's U(-1/sqrt(H), 1/sqrt(H))), "identity"
            (IRNN: use with nonlinearity="relu"), "orthogonal", "xavier", or a
            callable ``f((H, H), rng)``; applied to each gate's block of W_hh.
        input_init: the same for each gate's (H, D) block of W_xh (not "identity"
            unless D = H).
        dtype: float64 (default) or float32. rng: seed or Generator.

    Parameters: W_xh (H, D), W_hh (H, H), b_h (H,). State: h (B, H).
    """

    def __init__(self, input_size, hidden_size, nonlinearity: str = "tanh", **kwargs):
        check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, **kwargs)

    cache_names = ("h_prev", "h")

    def extra_repr(self):
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def step(self, ax, state):
        """ax (B, H) = x_t W_xh^T + b_h; state (h_prev,). Returns ((h,), cache)."""
        (h_prev,) = state
        a = ax + h_prev @ self.W_hh.T                 # pre-activation
        h = np.tanh(a) if self.nonlinearity == "tanh" else relu(a)
        return (h,), (h_prev, h)

    def step_backward(self, dstate, cache):
        """dstate (dh,): dE/dh_t, from this step's output and from step t+1.

        Returns (da, da, (dh_prev,)) with da = dE/da_t (B, H), a_t the pre-activation.
        """
        (dh,) = dstate
        h_prev, h = cache
        if self.nonlinearity == "tanh":
            da = dh * (1.0 - h * h)                   # backprop through tanh: tanh' = 1 - h^2
        else:
            da = dh * (h > 0)                         # backprop through relu
        dh_prev = da @ self.W_hh                      # into the previous state
        return da, da, (dh_prev,)


class LSTMCell(Cell):
    """Long short-term memory cell (Hochreiter & Schmidhuber 1997, with forget gate).

    Gates, stacked in PyTorch's order i, f, g, o (rows ``k*H:(k+1)*H`` of W_xh, W_hh, b_h)::

        i = sigmoid(x W_xi^T + h_prev W_hi^T + b_i)    input gate: how much to store
        f = sigmoid(x W_xf^T + h_prev W_hf^T + b_f)    forget gate: how much to keep
        g = tanh   (x W_xg^T + h_prev W_hg^T + b_g)    candidate C~ (new memory)
        o = sigmoid(x W_xo^T + h_prev W_ho^T + b_o)    output gate: how much to show
        c = f * c_prev + i * g                         cell state, kept apart from the output
        h = o * tanh(c)

    Args: as ``RNNCell`` (no nonlinearity), plus ``forget_bias``: None keeps
    PyTorch's uniform init of ``b_f``; a number sets every entry of ``b_f`` to it
    (1.0 is the common choice: the cell starts by remembering).

    Parameters: W_xh (4H, D), W_hh (4H, H), b_h (4H,), with per-gate views
    W_xi, W_xf, W_xg, W_xo (H, D); W_hi, W_hf, W_hg, W_ho (H, H); b_i, b_f, b_g, b_o (H,).
    State: (h, c), each (B, H).
    """

    num_gates = 4
    state_names = ("h", "c")
    gate_names = ("i", "f", "g", "o")
    cache_names = ("h_prev", "c_prev", "i", "f", "g", "o", "tanh_c")

    W_xi = _Gate("W_xh", 0, "(H, D): input weights of the input gate i")
    W_xf = _Gate("W_xh", 1, "(H, D): input weights of the forget gate f")
    W_xg = _Gate("W_xh", 2, "(H, D): input weights of the candidate g")
    W_xo = _Gate("W_xh", 3, "(H, D): input weights of the output gate o")
    W_hi = _Gate("W_hh", 0, "(H, H): recurrent weights of the input gate i")
    W_hf = _Gate("W_hh", 1, "(H, H): recurrent weights of the forget gate f")
    W_hg = _Gate("W_hh", 2, "(H, H): recurrent weights of the candidate g")
    W_ho = _Gate("W_hh", 3, "(H, H): recurrent weights of the output gate o")
    b_i = _Gate("b_h", 0, "(H,): bias of the input gate i")
    b_f = _Gate("b_h", 1, "(H,): bias of the forget gate f")
    b_g = _Gate("b_h", 2, "(H,): bias of the candidate g")
    b_o = _Gate("b_h", 3, "(H,): bias of the output gate o")

    def __init__(self, input_size, hidden_size, forget_bias: float | None = None, **kwargs):
        super().__init__(input_size, hidden_size, **kwargs)
        if forget_bias is not None:
            check_real("forget_bias", forget_bias, "a finite number (1.0 is the usual choice)")
            if not self.bias:
                raise ValueError("forget_bias: needs bias=True")
            self.b_f = np.full(self.hidden_size, forget_bias)

    def step(self, ax, state):
        """ax (B, 4H) = x_t W_xh^T + b_h; state (h_prev, c_prev). Returns ((h, c), cache)."""
        h_prev, c_prev = state
        H = self.hidden_size
        a = ax + h_prev @ self.W_hh.T                 # all four pre-activations (B, 4H)
        i = sigmoid(a[:, 0 * H:1 * H])                # input gate
        f = sigmoid(a[:, 1 * H:2 * H])                # forget gate
        g = np.tanh(a[:, 2 * H:3 * H])                # candidate C~
        o = sigmoid(a[:, 3 * H:4 * H])                # output gate
        c = f * c_prev + i * g                        # forget some, store some
        tanh_c = np.tanh(c)
        h = o * tanh_c                                # output what the gate lets through
        return (h, c), (h_prev, c_prev, i, f, g, o, tanh_c)

    def values(self, state, cache):
        h_prev, c_prev, i, f, g, o, tanh_c = cache
        return {**super().values(state, cache), "i": i, "f": f, "g": g, "o": o}

    def step_backward(self, dstate, cache):
        """dstate (dh, dc): dE/dh_t and dE/dc_t (each includes what came from step t+1).

        Returns (da, da, (dh_prev, dc_prev)) with da = dE/d(pre-activations) (B, 4H).
        """
        dh, dc = dstate
        h_prev, c_prev, i, f, g, o, tanh_c = cache
        do = dh * tanh_c                              # h = o * tanh(c)
        dc = dc + dh * o * (1.0 - tanh_c ** 2)        # ... and through tanh(c), added to dc from t+1
        di = dc * g                                   # c = f * c_prev + i * g
        df = dc * c_prev
        dg = dc * i
        dc_prev = dc * f                              # the gradient highway: only a product with f
        da = np.concatenate([
            di * i * (1.0 - i),                       # through sigmoid: s' = s (1 - s)
            df * f * (1.0 - f),
            dg * (1.0 - g ** 2),                      # through tanh: 1 - g^2
            do * o * (1.0 - o),
        ], axis=1)
        dh_prev = da @ self.W_hh                      # into the previous state
        return da, da, (dh_prev, dc_prev)


class GRUCell(Cell):
    """Gated recurrent unit (Cho et al. 2014) in PyTorch's form.

    Gates stacked in PyTorch's order r, z, n::

        r = sigmoid(x W_xr^T + h_prev W_hr^T + b_r)          reset gate
        z = sigmoid(x W_xz^T + h_prev W_hz^T + b_z)          update gate
        n = tanh(x W_xn^T + b_n + r * (h_prev W_hn^T + b_hn)) candidate
        h = (1 - z) * n + z * h_prev

    The reset gate multiplies ``h_prev W_hn^T + b_hn`` *after* the product (as in
    PyTorch and cuDNN); the original paper resets first, ``(r * h_prev) W_hn^T``.
    Because ``b_hn`` sits inside ``r * (...)`` it cannot be merged with ``b_n``:
    it is a parameter of its own.

    Parameters: W_xh (3H, D), W_hh (3H, H), b_h (3H,) = [b_r, b_z, b_n], b_hn (H,);
    per-gate views W_xr, W_xz, W_xn, W_hr, W_hz, W_hn, b_r, b_z, b_n. State: h (B, H).
    """

    num_gates = 3
    gate_names = ("r", "z", "n")
    cache_names = ("h_prev", "r", "z", "n", "hn")
    sums_preactivations = False      # n's pre-activation is not x-term + h-term (r sits between)
    recurrent_grad_differs = True    # so da_h (r * da_n in the n block) differs from da_x

    W_xr = _Gate("W_xh", 0, "(H, D): input weights of the reset gate r")
    W_xz = _Gate("W_xh", 1, "(H, D): input weights of the update gate z")
    W_xn = _Gate("W_xh", 2, "(H, D): input weights of the candidate n")
    W_hr = _Gate("W_hh", 0, "(H, H): recurrent weights of the reset gate r")
    W_hz = _Gate("W_hh", 1, "(H, H): recurrent weights of the update gate z")
    W_hn = _Gate("W_hh", 2, "(H, H): recurrent weights of the candidate n")
    b_r = _Gate("b_h", 0, "(H,): bias of the reset gate r")
    b_z = _Gate("b_h", 1, "(H,): bias of the update gate z")
    b_n = _Gate("b_h", 2, "(H,): input-side bias of the candidate n")

    def add_extra_biases(self, rng, bound):
        self.add_parameter("b_hn", init.uniform((self.hidden_size,), bound, rng, self.dtype))

    @classmethod
    def count_parameters(cls, input_size: int, hidden_size: int, bias: bool = True) -> int:
        return super().count_parameters(input_size, hidden_size, bias) + (hidden_size if bias else 0)   # b_hn

    def step(self, ax, state):
        """ax (B, 3H) = x_t W_xh^T + b_h; state (h_prev,). Returns ((h,), cache)."""
        (h_prev,) = state
        H = self.hidden_size
        ah = h_prev @ self.W_hh.T                          # recurrent terms of r, z, n (B, 3H)
        r = sigmoid(ax[:, :H] + ah[:, :H])                 # reset gate
        z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])       # update gate
        hn = ah[:, 2 * H:] + self.b_hn if self.bias else ah[:, 2 * H:]   # h_prev W_hn^T + b_hn
        n = np.tanh(ax[:, 2 * H:] + r * hn)                # candidate, reset applied after the product
        h = (1.0 - z) * n + z * h_prev                     # interpolate new and old
        return (h,), (h_prev, r, z, n, hn)

    def values(self, state, cache):
        h_prev, r, z, n, hn = cache
        return {**super().values(state, cache), "r": r, "z": z, "n": n}

    def step_backward(self, dstate, cache):
        """dstate (dh,). Returns (da_x, da_h, (dh_prev,)): the input-side and recurrent-side
        pre-activation gradients differ in the n block, where r multiplies the recurrent term."""
        (dh,) = dstate
        h_prev, r, z, n, hn = cache
        dn = dh * (1.0 - z)                                # h = (1 - z) n + z h_prev
        dz = dh * (h_prev - n)                             # (dz: the update gate's gradient)
        da_n = dn * (1.0 - n ** 2)                         # through tanh
        dr = da_n * hn                                     # a_n = x-term + r * hn
        dhn = da_n * r
        da_r = dr * r * (1.0 - r)                          # through sigmoid
        da_z = dz * z * (1.0 - z)
        da_x = np.concatenate([da_r, da_z, da_n], axis=1)
        da_h = np.concatenate([da_r, da_z, dhn], axis=1)
        dh_prev = dh * z + da_h @ self.W_hh                # direct path + through the gates
        return da_x, da_h, (dh_prev,)

    def accumulate_grads(self, x, h_prev, da_x, da_h):
        super().accumulate_grads(x, h_prev, da_x, da_h)
        if self.bias:
            self.params["b_hn"].grad += da_h[:, 2 * self.hidden_size:].sum(axis=0)


CELLS: dict[str, type[Cell]] = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def state_parts(state) -> tuple:
    """A public state as the tuple of its parts: ``h`` -> ``(h,)``, ``(h, c)`` -> ``(h, c)``.

    The same for a cell's state, each part (B, H), and a stack's, each part (L*Dirs, B, H).
    """
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def public_state(parts: tuple):
    """The parts of a state in their public form: ``(h,)`` -> ``h``, ``(h, c)`` -> ``(h, c)`` (PyTorch's)."""
    return parts[0] if len(parts) == 1 else tuple(parts)


def make_cell(kind: str, input_size: int, hidden_size: int, **kwargs) -> Cell:
    """``make_cell("lstm", D, H, rng=0)``: a cell by name ("rnn", "lstm" or "gru")."""
    return CELLS[check_choice("cell", kind, sorted(CELLS))](input_size, hidden_size, **kwargs)
