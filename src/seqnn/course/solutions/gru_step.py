"""Exercise 2b: one step of a GRU (PyTorch's form), forward and backward.

The gates are stacked in the rows of W_xh (3H, D), W_hh (3H, H) and b_h (3H,)
in the order r, z, n (reset, update, candidate); b_hn (H,) is the candidate's
recurrent bias, which sits inside the reset. Forward::

    ax = x W_xh^T + b_h          ah = h_prev W_hh^T          (B, 3H) each: blocks r, z, n
    r = sigmoid(ax_r + ah_r)     z = sigmoid(ax_z + ah_z)
    hn = ah_n + b_hn                                          the reset applies AFTER the product
    n = tanh(ax_n + r * hn)
    h = (1 - z) * n + z * h_prev                              z near 1 keeps the old state

Backward: given dh = dE/dh (B, H), return the gradient of E with respect to x, h_prev and every weight and
bias, each the shape of what it is the gradient of. h_prev reaches h two ways (directly through z * h_prev, and
through the gates); the candidate's recurrent term hn goes through the reset. Derive them with the chain rule.

Run ``python gru_step.py`` to grade this file (docs/gru.md).
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gru_step_forward(x, h_prev, W_xh, W_hh, b_h, b_hn):
    """x (B, D), h_prev (B, H) -> h (B, H), and the cache."""
    H = h_prev.shape[1]
    # BEGIN
    ax = x @ W_xh.T + b_h
    ah = h_prev @ W_hh.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    hn = ah[:, 2 * H:] + b_hn
    n = np.tanh(ax[:, 2 * H:] + r * hn)
    h = (1 - z) * n + z * h_prev
    # END
    return h, (x, h_prev, W_xh, W_hh, r, z, n, hn)


def gru_step_backward(dh, cache):
    """dh (B, H) -> dx (B, D), dh_prev (B, H), dW_xh (3H, D), dW_hh (3H, H), db_h (3H,), db_hn (H,)."""
    x, h_prev, W_xh, W_hh, r, z, n, hn = cache
    # BEGIN
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1 - n ** 2)
    dr = dan * hn
    dhn = dan * r
    dar, daz = dr * r * (1 - r), dz * z * (1 - z)
    da_x = np.concatenate([dar, daz, dan], axis=1)
    da_h = np.concatenate([dar, daz, dhn], axis=1)
    dx = da_x @ W_xh
    dh_prev = dh * z + da_h @ W_hh               # the direct path, and the path through the gates
    dW_xh = da_x.T @ x
    dW_hh = da_h.T @ h_prev
    db_h = da_x.sum(axis=0)
    db_hn = dhn.sum(axis=0)
    # END
    return dx, dh_prev, dW_xh, dW_hh, db_h, db_hn


if __name__ == "__main__":                           # python gru_step.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
