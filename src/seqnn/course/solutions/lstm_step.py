"""Exercise 2: one step of an LSTM, forward and backward.

The four gates are stacked in the rows of W_xh (4H, D), W_hh (4H, H) and
b_h (4H,) in the order i, f, g, o (input, forget, candidate C~, output),
PyTorch's order. Forward::

    a = x W_xh^T + h_prev W_hh^T + b_h           (B, 4H): four blocks of H columns
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c = f * c_prev + i * g                       the cell state: forget some, store some
    h = o * tanh(c)

Backward: given dh = dE/dh and dc = dE/dc (each (B, H); dc is what the step after passes back through the
cell state), return the gradient of E with respect to x, h_prev, c_prev and the weights, each the shape of what
it is the gradient of. c reaches E two ways: through dc, and through h. Derive each gate's gradient with the
chain rule; the grader names the gate whose rows are wrong.

Run ``python lstm_step.py`` to grade this file (docs/notation.md, "LSTM").
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_step_forward(x, h_prev, c_prev, W_xh, W_hh, b_h):
    """x (B, D), h_prev and c_prev (B, H) -> h (B, H), c (B, H), and the cache."""
    H = h_prev.shape[1]
    # BEGIN
    a = x @ W_xh.T + h_prev @ W_hh.T + b_h
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    # END
    return h, c, (x, h_prev, c_prev, W_xh, W_hh, i, f, g, o, c)


def lstm_step_backward(dh, dc, cache):
    """dh, dc (B, H) -> dx (B, D), dh_prev (B, H), dc_prev (B, H), dW_xh (4H, D), dW_hh (4H, H), db_h (4H,)."""
    x, h_prev, c_prev, W_xh, W_hh, i, f, g, o, c = cache
    # BEGIN
    tanh_c = np.tanh(c)
    do = dh * tanh_c
    dc = dc + dh * o * (1 - tanh_c ** 2)          # c's whole gradient: its own, and through h = o * tanh(c)
    di = dc * g
    df = dc * c_prev                             # c = f * c_prev + i * g
    dg = dc * i
    dc_prev = dc * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
    dx = da @ W_xh
    dh_prev = da @ W_hh
    dW_xh = da.T @ x
    dW_hh = da.T @ h_prev
    db_h = da.sum(axis=0)
    # END
    return dx, dh_prev, dc_prev, dW_xh, dW_hh, db_h


if __name__ == "__main__":                           # python lstm_step.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
