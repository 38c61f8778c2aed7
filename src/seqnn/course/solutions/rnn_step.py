"""Exercise 1: one step of a vanilla (tanh) RNN, forward and backward.

Forward, the lecture's equations (one row per example of the batch)::

    a = x W_xh^T + h_prev W_hh^T + b_h          (B, H)
    h = tanh(a)                                  (B, H)

Backward: given dh = dE/dh (B, H), the gradient of some loss E with respect to h, return the gradient of E
with respect to every input and weight of the step, each the shape of what it is the gradient of. Derive them
with the chain rule through a and the tanh (what the forward keeps in its cache is all you need); the grader
also checks them against finite differences of your own forward.

Shapes: x (B, D), h_prev (B, H), W_xh (H, D), W_hh (H, H), b_h (H,).
Run ``python rnn_step.py`` to grade this file (docs/notation.md, "Vanilla RNN").
"""

import numpy as np


def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):
    """-> h (B, H), and the cache rnn_step_backward needs."""
    # BEGIN
    a = x @ W_xh.T + h_prev @ W_hh.T + b_h
    h = np.tanh(a)
    # END
    return h, (x, h_prev, W_xh, W_hh, h)


def rnn_step_backward(dh, cache):
    """dh (B, H) -> dx (B, D), dh_prev (B, H), dW_xh (H, D), dW_hh (H, H), db_h (H,)."""
    x, h_prev, W_xh, W_hh, h = cache
    # BEGIN
    da = dh * (1 - h ** 2)                       # tanh'(a) = 1 - tanh(a)^2, from h itself
    dx = da @ W_xh
    dh_prev = da @ W_hh
    dW_xh = da.T @ x
    dW_hh = da.T @ h_prev
    db_h = da.sum(axis=0)
    # END
    return dx, dh_prev, dW_xh, dW_hh, db_h


if __name__ == "__main__":                           # python rnn_step.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
