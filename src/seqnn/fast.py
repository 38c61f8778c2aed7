"""The fast loops of the BPTT engine: the same maths as the cells' ``step`` / ``step_backward``,
rearranged for speed. Read ``cells.py`` for the equations; read this for how they are made fast.

``Recurrent(cell, fast=True)`` (the default) runs a kernel from here when the
cell is exactly an ``RNNCell``, ``LSTMCell`` or ``GRUCell`` (not a subclass,
which may change the maths); ``fast=False``, or any other cell, runs the
readable loop over ``step`` and ``step_backward``. A kernel only runs time: the
engine hands it the input term of every step, ``Ax`` (T, B, G*H), already
projected (one product), and after the backward loop it turns the
pre-activation gradients into the weight and input gradients itself (one
product each). Both loops take the same ``mask`` (T, B, 1): True where a
sequence is still running (``lengths``); past its end the forward copies the
previous state, and the backward zeroes the chain-rule factors (so da = 0) and
passes the state gradient straight through. ``tests/test_fast.py`` checks that
the two loops give the same numbers (to round-off), and every gradient check
runs through both.

What the fast paths do differently (each measured in benchmarks/, see README there):

1. **Buffers written in place, one per sequence.** The engine's input
   projection for all T steps becomes the buffer that holds each step's gates
   (the kernel overwrites it: ``Ax`` is the kernel's to keep), and the
   gradients of the pre-activations overwrite the gates in the backward loop.
   No array is allocated inside a time loop, and the LSTM's peak memory stays
   close to the activations BPTT must keep.
2. **One exponential for all gates.** ``tanh(x) = 2 sigmoid(2x) - 1``, so the
   LSTM's four gates (three sigmoids and a tanh) are one in-place sigmoid over a
   contiguous (B, 4H) block, followed by a scale and a shift of the g block.
3. **Derivative factors before the loop.** Every factor of the chain rule that
   does not depend on the incoming gradient (``i (1 - i) g``, ``o (1 - tanh^2 c)``,
   ...) is computed for a block of time steps with a few large ufunc calls, so
   each backward step is about six small ufunc calls and one matrix product.
"""

from __future__ import annotations

import numpy as np

from .cells import GRUCell, LSTMCell, RNNCell

CHUNK = 16   # time steps whose derivative factors are computed together (bounds the extra memory)


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """In-place logistic function: a <- 1 / (1 + exp(-a)). Call under np.errstate(over="ignore")."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    return np.reciprocal(a, out=a)


def _frozen(mask):
    """The engine's mask (True: a live step) -> the steps past each sequence's end, or None."""
    return None if mask is None else ~mask


def _sizes(cell, Ax: np.ndarray, mask):
    """``(T, B, H, dtype, frozen)`` of the sequence a kernel runs (``frozen``: the steps past each end, or None)."""
    T, B, _ = Ax.shape
    return T, B, cell.hidden_size, cell.dtype, _frozen(mask)


def _states(T: int, B: int, cell, first: np.ndarray) -> np.ndarray:
    """A (T + 1, B, H) buffer of states: ``first`` (h_0 or c_0) in row 0, each step's state written in row t + 1."""
    S = np.empty((T + 1, B, cell.hidden_size), cell.dtype)
    S[0] = first
    return S


def _pass_frozen(dprev, d, frozen, t) -> None:
    """At a frozen step the state was copied, so its gradient passes through unchanged."""
    if frozen is not None:
        np.copyto(dprev, d, where=frozen[t])


class RNNKernel:
    """h_t = act(Ax[t] + h_{t-1} W_hh^T), each h_t written in its place in Hs."""

    @staticmethod
    def forward(cell, Ax, state, mask=None):
        T, B, H = Ax.shape
        frozen = _frozen(mask)
        Hs = _states(T, B, cell, state[0])
        W_hT = cell.W_hh.T.copy()             # contiguous: a faster product each step
        for t in range(T):
            h = Hs[t + 1]
            np.matmul(Hs[t], W_hT, out=h)
            h += Ax[t]
            if cell.nonlinearity == "tanh":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0, out=h)
            if frozen is not None:
                np.copyto(h, Hs[t], where=frozen[t])          # finished sequences keep their state
        return Hs, (Hs[T],), None

    @staticmethod
    def backward(cell, Hs, cache, dH, dstate, mask=None):
        T, B, H = dH.shape
        frozen = _frozen(mask)
        W_hh = cell.W_hh
        dA = np.empty((T, B, H), cell.dtype)
        dh, dh_prev = dstate[0].copy(), np.empty((B, H), cell.dtype)
        deriv_buf = np.empty((min(CHUNK, T), B, H), cell.dtype)
        for t0 in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):      # blocks of steps, last block first
            t1 = min(t0 + CHUNK, T)
            h, deriv = Hs[t0 + 1:t1 + 1], deriv_buf[:t1 - t0]
            if cell.nonlinearity == "tanh":                   # act'(a) = 1 - h^2, written into one buffer
                np.multiply(h, h, out=deriv)
                np.subtract(1.0, deriv, out=deriv)
            else:
                np.greater(h, 0, out=deriv)                   # relu'(a) = [h > 0]
            if frozen is not None:
                deriv *= ~frozen[t0:t1]                       # a frozen step: da = 0
            for t in reversed(range(t0, t1)):
                dh += dH[t]                                   # own loss + from t+1
                np.multiply(dh, deriv[t - t0], out=dA[t])     # through the non-linearity
                np.matmul(dA[t], W_hh, out=dh_prev)           # into the previous state
                _pass_frozen(dh_prev, dh, frozen, t)
                dh, dh_prev = dh_prev, dh
        return dA, None, (dh,)


class LSTMKernel:
    """The LSTM over a sequence; ``gates[t]`` holds Ax[t], then i, f, g, o, then da_t."""

    @staticmethod
    def forward(cell, Ax, state, mask=None):
        T, B, H, dtype, frozen = _sizes(cell, Ax, mask)
        gates = Ax                                            # the input term of every step, overwritten
        Hs, Cs = _states(T, B, cell, state[0]), _states(T, B, cell, state[1])
        tanh_C = np.empty((T, B, H), dtype)
        # tanh(a_g) = 2 sigmoid(2 a_g) - 1: double the g rows once (input terms of all steps, and a
        # contiguous copy of W_hh^T), so that each step needs one sigmoid over all four gates.
        # A doubled a_g of +-inf is harmless: sigmoid gives 1 or 0, so g = tanh(a_g) = +-1 exactly.
        W_hT = cell.W_hh.T.copy()                             # a copy (C order): never scale the parameter
        rec = np.empty((B, 4 * H), dtype)
        ig = np.empty((B, H), dtype)
        with np.errstate(over="ignore"):
            gates[:, :, 2 * H:3 * H] *= 2.0
            W_hT[:, 2 * H:3 * H] *= 2.0
            for t in range(T):
                a = gates[t]
                np.matmul(Hs[t], W_hT, out=rec)
                a += rec                                      # all four pre-activations (g doubled)
                g = a[:, 2 * H:3 * H]
                _sigmoid_(a)                                  # i, f, o and sigmoid(2 a_g) in one pass
                g *= 2.0
                g -= 1.0                                      # g = 2 sigmoid(2 a_g) - 1 = tanh(a_g)
                np.multiply(a[:, H:2 * H], Cs[t], out=Cs[t + 1])       # f * c_prev
                np.multiply(a[:, :H], g, out=ig)
                Cs[t + 1] += ig                                        # + i * g
                np.tanh(Cs[t + 1], out=tanh_C[t])
                np.multiply(a[:, 3 * H:], tanh_C[t], out=Hs[t + 1])    # h = o * tanh(c)
                if frozen is not None:                        # finished sequences keep their state
                    np.copyto(Cs[t + 1], Cs[t], where=frozen[t])
                    np.copyto(Hs[t + 1], Hs[t], where=frozen[t])
        return Hs, (Hs[T], Cs[T]), (gates, Cs, tanh_C)

    @staticmethod
    def backward(cell, Hs, cache, dH, dstate, mask=None):
        gates, Cs, tanh_C = cache
        T, B, H = dH.shape
        frozen = _frozen(mask)
        W_hh = cell.W_hh
        G4 = gates.reshape(T, B, 4, H)                        # gate k of step t: G4[t, :, k]
        dh, dc = dstate[0].copy(), dstate[1].copy()
        dh_prev, tmp = np.empty((2, B, H), dtype=cell.dtype)
        n = min(CHUNK, T)
        # Factors of the chain rule that do not depend on the incoming gradient, for a block of steps:
        #   dc += dh * A,  da_i = dc * Pi,  da_f = dc * Pf,  da_g = dc * Pg,  da_o = dh * Q,  dc_prev = dc * F
        A, Pi, Pf, Pg, Q, F = np.empty((6, n, B, H), cell.dtype)
        for t0 in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):      # blocks of steps, last block first
            t1 = min(t0 + CHUNK, T)
            m = t1 - t0
            i, f, g, o = (G4[t0:t1, :, k] for k in range(4))
            tc, c_prev = tanh_C[t0:t1], Cs[t0:t1]
            np.multiply(tc, tc, out=A[:m]); np.subtract(1.0, A[:m], out=A[:m]); A[:m] *= o   # o (1 - tanh^2 c)
            np.subtract(1.0, i, out=Pi[:m]); Pi[:m] *= i; Pi[:m] *= g                        # g i (1 - i)
            np.subtract(1.0, f, out=Pf[:m]); Pf[:m] *= f; Pf[:m] *= c_prev                   # c_prev f (1 - f)
            np.multiply(g, g, out=Pg[:m]); np.subtract(1.0, Pg[:m], out=Pg[:m]); Pg[:m] *= i  # i (1 - g^2)
            np.subtract(1.0, o, out=Q[:m]); Q[:m] *= o; Q[:m] *= tc                          # tanh(c) o (1 - o)
            F[:m] = f                                         # kept: the gates are overwritten below
            if frozen is not None:                            # a frozen step: da = 0, dc passes through
                live = ~frozen[t0:t1]
                for factor in (A, Pi, Pf, Pg, Q):
                    factor[:m] *= live
                np.copyto(F[:m], 1.0, where=frozen[t0:t1])
            for t in reversed(range(t0, t1)):
                k = t - t0
                dh += dH[t]                                   # own loss + from t+1
                np.multiply(dh, A[k], out=tmp)
                dc += tmp                                     # through h = o tanh(c)
                da = G4[t]                                    # da_t overwrites this step's gates
                np.multiply(dc, Pi[k], out=da[:, 0])
                np.multiply(dc, Pf[k], out=da[:, 1])
                np.multiply(dc, Pg[k], out=da[:, 2])
                np.multiply(dh, Q[k], out=da[:, 3])
                dc *= F[k]                                    # the gradient highway
                np.matmul(gates[t], W_hh, out=dh_prev)        # into the previous state
                _pass_frozen(dh_prev, dh, frozen, t)
                dh, dh_prev = dh_prev, dh
        return gates, None, (dh, dc)


class GRUKernel:
    """The GRU over a sequence; ``gates[t]`` holds Ax[t], then r, z, n, then da_x."""

    @staticmethod
    def forward(cell, Ax, state, mask=None):
        T, B, H, dtype, frozen = _sizes(cell, Ax, mask)
        Hs = _states(T, B, cell, state[0])
        gates = Ax                                            # the input term of every step, overwritten
        HN = np.empty((T, B, H), dtype)                       # h_prev W_hn^T + b_hn, kept for backward
        W_hT = cell.W_hh.T.copy()
        ah = np.empty((B, 3 * H), dtype)
        tmp = np.empty((B, H), dtype)
        with np.errstate(over="ignore"):
            for t in range(T):
                x = gates[t]
                np.matmul(Hs[t], W_hT, out=ah)
                rz = x[:, :2 * H]
                rz += ah[:, :2 * H]
                _sigmoid_(rz)                                 # r and z in one pass
                hn = HN[t]
                if cell.bias:
                    np.add(ah[:, 2 * H:], cell.b_hn, out=hn)
                else:
                    hn[...] = ah[:, 2 * H:]
                n = x[:, 2 * H:]
                np.multiply(x[:, :H], hn, out=tmp)
                n += tmp
                np.tanh(n, out=n)                             # n = tanh(x-term + r * hn)
                np.subtract(Hs[t], n, out=tmp)
                tmp *= x[:, H:2 * H]
                np.add(n, tmp, out=Hs[t + 1])                 # h = n + z (h_prev - n)
                if frozen is not None:
                    np.copyto(Hs[t + 1], Hs[t], where=frozen[t])       # finished sequences keep their state
        return Hs, (Hs[T],), (gates, HN)

    @staticmethod
    def backward(cell, Hs, cache, dH, dstate, mask=None):
        gates, HN = cache
        T, B, H = dH.shape
        frozen = _frozen(mask)
        W_hh = cell.W_hh
        dAh = np.empty((T, B, 3 * H), cell.dtype)             # recurrent side: differs in the n block
        dh = dstate[0].copy()
        tmp = np.empty((B, H), cell.dtype)
        # Factors of the chain rule that do not depend on the incoming gradient, for a block of steps:
        #   da_z = dh * Qz,  da_n = dh * Qn,  da_r = da_n * Qr;  R, Z: copies of r, z (overwritten below)
        factors = np.empty((5, min(CHUNK, T), B, H), cell.dtype)
        for t0 in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
            t1 = min(t0 + CHUNK, T)
            m = t1 - t0
            r, z, n = (gates[t0:t1, :, k * H:(k + 1) * H] for k in range(3))
            hn, h_prev = HN[t0:t1], Hs[t0:t1]
            Qz, Qn, Qr, R, Z = factors[:, :m]
            np.subtract(1.0, z, out=Z)                        # (1 - z), for a moment
            np.multiply(n, n, out=Qn); np.subtract(1.0, Qn, out=Qn); Qn *= Z                  # (1 - z)(1 - n^2)
            np.subtract(h_prev, n, out=Qz); Qz *= z; Qz *= Z                                 # (h_prev - n) z (1 - z)
            np.subtract(1.0, r, out=Qr); Qr *= r; Qr *= hn                                   # hn r (1 - r)
            np.copyto(R, r)
            np.copyto(Z, z)
            if frozen is not None:                            # a frozen step: da = 0, and with z = 1
                Qz *= ~frozen[t0:t1]                          # the direct path passes dh through
                Qn *= ~frozen[t0:t1]
                np.copyto(Z, 1.0, where=frozen[t0:t1])
            for t in reversed(range(t0, t1)):
                k = t - t0
                dh += dH[t]
                dax, dah = gates[t], dAh[t]
                np.multiply(dh, Qn[k], out=dax[:, 2 * H:])    # da_n (input side)
                np.multiply(dax[:, 2 * H:], Qr[k], out=dah[:, :H])     # da_r
                np.multiply(dh, Qz[k], out=dah[:, H:2 * H])            # da_z
                np.multiply(dax[:, 2 * H:], R[k], out=dah[:, 2 * H:])  # recurrent side of n: r * da_n
                dax[:, :2 * H] = dah[:, :2 * H]
                np.multiply(dh, Z[k], out=tmp)                # direct path: z * dh
                np.matmul(dah, W_hh, out=dh)
                dh += tmp
        return gates, dAh, (dh,)


KERNELS = {RNNCell: RNNKernel, LSTMCell: LSTMKernel, GRUCell: GRUKernel}


def kernel_for(cell):
    """The fast loop for exactly this cell class, or None (other cells, subclasses too, run the readable loop)."""
    return KERNELS.get(type(cell))
