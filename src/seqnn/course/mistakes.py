"""The named mistakes: one table for every exercise, and what each mistake computes.

Where the numbers a student returns are exactly the numbers a known mistake gives, the grader names the mistake
(``MISTAKES[key]``) instead of only saying which arrays are wrong. The functions below compute a mistake's
outputs from the same inputs the student got, so that the match is exact, not a guess.
"""

from __future__ import annotations

import numpy as np

from ..cells import state_parts
from ..functional import sigmoid

MISTAKES = {
    # the step exercises
    "tanh from h": "the tanh derivative is written 1 - h; it is 1 - h**2 (d tanh(a)/da = 1 - tanh(a)^2)",
    "bias averaged": "the bias gradient is averaged over the batch; it is the sum (each example adds its own)",
    "bias not summed": "the bias gradient is not summed over the batch (db_h = da.sum(axis=0))",
    "W_hh transposed": "dh_prev multiplies by W_hh^T; h_prev enters as h_prev W_hh^T, so its gradient is da W_hh",
    "gate order": "the gates are read in the wrong order ({how}): the rows of W_xh, W_hh and b_h are {order}",
    "forget gate from c": "the forget gate's gradient uses c_t; it multiplies c_(t-1) (c = f * c_prev + i * g, so "
                          "df = dc * c_prev)",
    "dc misses dh": "the cell state's gradient misses its path through h: h = o * tanh(c), so c's whole gradient "
                    "is dc + dh * o * (1 - tanh(c)^2)",
    "reset before": "the reset gate multiplies h_prev before the product (Cho et al.'s form); in PyTorch's, which "
                    "seqnn follows, it multiplies (h_prev W_hn^T + b_hn), after",
    "z swapped": "z and 1 - z are swapped: z near 1 keeps the old state, h = (1 - z) * n + z * h_prev",
    "direct path": "dh_prev misses its direct path: h = (1 - z) * n + z * h_prev passes dh * z straight back, "
                   "besides the path through the gates",
    # backpropagation through time
    "h carry dropped": "the gradient from the step after (dh_next) is not added to dH[t]: each step's h also feeds "
                       "the next step",
    "c carry dropped": "the cell state's gradient is not carried (dc_next): c_t feeds c_(t+1), so the step after "
                       "passes dc back",
    "both carries dropped": "neither dh_next nor dc_next is carried from the step after: h_t and c_t both feed "
                            "step t + 1",
    "weights of one step": "dW_xh, dW_hh and db_h hold the gradient of one step only (the last the loop saw): add "
                           "every step's, since the same weights serve every step",
    "loop forwards": "the backward loop runs forwards in time: the gradient flows from the last step to the first "
                     "(for t in reversed(range(T))), each step passing its dh_prev to the step before",
    # softmax and the loss
    "no max shift": "exp(1000) overflows; subtract each row's maximum before the exp (the result is the same)",
    "global max shift": "every row is shifted by the maximum of the whole array (logits.max()), not by its own "
                        "(logits.max(axis=1, keepdims=True)): a row far below that maximum underflows to 0 / 0 = NaN",
    "wrong axis": "the softmax is normalised over the wrong axis (each column sums to 1); each row is one "
                  "example's distribution: sum over axis=1",
    "log of softmax": "the loss takes log(softmax(logits)): a probability that underflows to 0 gives -log(0) = inf; "
                      "take the log-softmax as z - log(sum(exp(z))), with z = logits - each row's maximum",
    "not divided by N": "dlogits is not divided by N: the loss is the mean over the rows, so is its gradient",
    "summed loss": "the loss is summed over the N rows; it is their mean (and dlogits is divided by N)",
    # clipping
    "each array": "each array is clipped by its own norm; clip all of them by one factor, from the global norm "
                  "sqrt(sum of every g^2), so the gradient keeps its direction",
    "by value": "each entry is clipped to [-max_norm, max_norm] (clipping by value, as min-char-rnn does); this "
                "exercise clips by the global norm: one factor for every array, so the gradient keeps its direction",
    "norm squared": "the norm is the sum of squares; take its square root",
    "scaled up": "a gradient whose norm is below max_norm is scaled up to it: clip only when the norm is above",
    # sampling
    "temperature after": "the temperature is applied after the softmax; divide the logits by it, before",
    "top-k off by one": "top-k keeps {kept} logits, not {k}: an off-by-one in the k-th largest (np.sort(z)[-k])",
    "rng ignored": "the same seed gave other draws, so the draws do not come from the rng given (np.random.* draws "
                   "from numpy's global state: use rng.choice or rng.random)",
    "seed ignored": "every seed gives the same draws: draw from the rng given, not from one made inside",
    # the embedding and the output layer
    "repeats dropped": "a token that occurs more than once gets one occurrence's gradient only: dW_embed[tokens] "
                       "+= dX writes each index once; np.add.at(dW_embed, tokens, dX) adds every occurrence",
    "mask ignored": "the loss is the mean over every position, padding included: count only the positions the "
                    "mask keeps, in the loss and in dY",
    "mean over all positions": "the masked loss is divided by T * B, every position; divide by the number of "
                               "positions the mask keeps (mask.sum())",
    "divided by B": "the loss is divided by the batch size B (summed over time, CS231n's convention); here it is "
                    "the mean over the positions the mask keeps (mask.sum())",
    "output of one step": "dW_hy and db_y hold one step's gradient only: the same W_hy and b_y serve every step, "
                          "so add every step's (and every example's)",
    # truncated BPTT
    "state not carried": "each chunk starts again from h0: the state is carried from chunk to chunk (only the "
                         "gradient stops at a chunk's edge)",
    "chunk sums carried": "each chunk's gradient includes the chunks before it: start each chunk's sums at 0 (the "
                          "optimizer has already taken the earlier chunks' steps)",
    "gradient across chunks": "the gradient crosses a chunk's edge (dh_next carried in from the chunk after): a "
                              "truncated backward starts each chunk with nothing from after it",
    # a gradient check
    "one-sided": "the difference is one-sided, (f(x + eps) - f(x)) / eps, whose error shrinks only like eps: take "
                 "the central difference (f(x + eps) - f(x - eps)) / (2 eps)",
    "divided by eps": "the central difference is divided by eps; its two points are 2 eps apart: divide by 2 eps",
    "absolute error": "the error is absolute (|a - n|), not relative: divide by max(|a| + |n|, 1e-8), so that the "
                      "check does not depend on the size of the gradient",
    "mean error": "the error is the mean over the entries; the check takes the largest (one wrong entry must fail "
                  "it)",
    "no floor": "0 / 0 where both gradients are 0: the denominator needs its floor, max(|a| + |n|, 1e-8)",
    # the optimizers
    "ascent": "the step goes up the gradient (w + lr * dw): a step of descent subtracts it",
    "velocity of CS231n": "v is kept as CS231n keeps it (v = mu * v - lr * dw, then w + v): w moves the same, but "
                          "this exercise, seqnn.optim.SGD and PyTorch keep v = mu * v + dw and w - lr * v",
    "dampened momentum": "v = mu * v + (1 - mu) * dw averages the gradient (dampening); PyTorch's momentum adds it "
                         "whole: v = mu * v + dw",
    "G of one step": "G holds this step's dw^2 only: Adagrad adds up every step's",
    "eps in the root": "eps is inside the square root; it is added after it (sqrt(G) + eps), as seqnn and PyTorch "
                       "do",
    "no bias correction": "m and v are used without their bias correction: divide them by 1 - b1^t and 1 - b2^t (or "
                          "the first steps are far too small)",
    "v of dw": "v averages dw; it averages dw^2 (the squared gradient)",
    # generation and training
    "not fed back": "every step reads the first id: feed each id drawn back in as the next step's input",
    "h not carried": "each step starts from the h given: carry the new h from step to step",
    "greedy": "each id is the most likely one (argmax), not a draw: draw with rng.choice(V, p=...)",
    "no temperature": "the temperature is not applied: draw from softmax(logits / temperature)",
    "first included": "the ids start with first, the input: return the n ids drawn after it",
    "targets not shifted": "the targets are the inputs themselves: each step predicts the next character (inputs "
                           "ids[:-1], targets ids[1:])",
    "not clipped": "the gradients are not clipped: clip(grads, 1.0) before each update",
    "vocabulary unsorted": "the vocabulary is in the order the characters first come, not sorted: sorted(set(text)) "
                           "gives the ids",
}


def averaged(names, outputs: tuple, B: int) -> tuple:
    """``outputs`` with every bias gradient (a name that starts ``db``) divided by the batch size ``B``."""
    return tuple(o / B if n.startswith("db") else o for n, o in zip(names, outputs))


def gru_variant(v, reset_before: bool = False, swap_z: bool = False) -> dict:
    """The values of a GRU step with a classic mistake (seqnn's cells compute only the right form), by name:
    ``reset_before``, Cho et al.'s form, the reset applied to h_prev before the product (its hn is whatever the
    student kept); ``swap_z``: z keeps the candidate."""
    x, h_prev, W_xh, W_hh, b_h, b_hn = (v[k] for k in ("x", "h_prev", "W_xh", "W_hh", "b_h", "b_hn"))
    H = h_prev.shape[1]
    ax, ah = x @ W_xh.T + b_h, h_prev @ W_hh.T
    r, z = sigmoid(ax[:, :H] + ah[:, :H]), sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    inner = (r * h_prev) @ W_hh[2 * H:].T + b_hn if reset_before else r * (ah[:, 2 * H:] + b_hn)
    n = np.tanh(ax[:, 2 * H:] + inner)
    h = z * n + (1 - z) * h_prev if swap_z else (1 - z) * n + z * h_prev
    return {"r": r, "z": z, "n": n, "h": h} | ({} if reset_before else {"hn": ah[:, 2 * H:] + b_hn})


def lstm_step_variant(step: dict, v: dict, c_prev, dh, dc, df_from_c: bool = False, through_h: bool = True):
    """The gradients of one LSTM step (``step``: its values i, f, g, o, c) with a classic mistake: ``df_from_c``
    takes the forget gate's gradient from c_t; ``through_h=False`` leaves out c's path through h."""
    i, f, g, o, c = (step[k] for k in "ifgoc")
    tanh_c = np.tanh(c)
    dcc = dc + (dh * o * (1 - tanh_c ** 2) if through_h else 0)
    da = np.concatenate([dcc * g * i * (1 - i), dcc * (c if df_from_c else c_prev) * f * (1 - f),
                         dcc * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
    return da @ v["W_xh"], da @ v["W_hh"], dcc * f, da.T @ v["x"], da.T @ v["h_prev"], da.sum(axis=0)


def bptt_variant(cell, X, state0, dH, carry_h: bool = True, carry_c: bool = True, every_step: bool = True,
                 backwards: bool = True) -> tuple:
    """Backpropagation through time with a classic mistake: the gradient of h (``carry_h``) or of c
    (``carry_c``) not passed from a step to the one before, the weights' gradient of one step only
    (``every_step=False``: the last the loop sees), or the loop run forwards in time (``backwards=False``).
    Each step's backward is the cell's own, from the states of the true forward. (dX, each part of dstate0,
    each parameter's gradient)."""
    states = [state0]
    for x in X:
        states.append(cell.forward(x, states[-1]))
    dX, carried = np.zeros_like(X), [np.zeros_like(dH[0]) for _ in cell.state_names]
    total = [np.zeros_like(p.value) for p in cell.parameters()]
    for t in reversed(range(len(X))) if backwards else range(len(X)):
        cell.zero_grad()
        cell.forward(X[t], states[t])                       # the step's cache, from the true state
        dh = dH[t] + (carried[0] if carry_h else 0)
        dX[t], dprev = cell.backward(dh, *(carried[1:] if carry_c else [np.zeros_like(dh)] * (len(carried) - 1)))
        carried = list(state_parts(dprev))
        total = [s + p.grad if every_step else p.grad.copy() for s, p in zip(total, cell.parameters())]
    return (dX, *carried, *total)
