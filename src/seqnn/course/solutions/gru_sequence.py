"""Exercise 12: a GRU through time: the loops of exercise 4, for the GRU of exercise 2b.

The step is given (exercise 2b's solution); write the loops over time. Forward: h_0 given; for t = 0 .. T-1 the
step reads X[t] and the h the step before left. Backward: dH[t] is the gradient of the loss with respect to H[t]
from that step's own output only; go through the steps from the last to the first (what else depends on h_t?),
and give the weights' gradients over the whole sequence, and dh0.

Shapes: X (T, B, D), H and dH (T, B, H), h0 (B, H); W_xh (3H, D), W_hh (3H, H), b_h (3H,), b_hn (H,).
Run ``python gru_sequence.py`` to grade this file (docs/gru.md, "The GRU and which GRU").
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gru_step_forward(x, h_prev, W_xh, W_hh, b_h, b_hn):
    H = h_prev.shape[1]
    ax = x @ W_xh.T + b_h
    ah = h_prev @ W_hh.T
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    hn = ah[:, 2 * H:] + b_hn
    n = np.tanh(ax[:, 2 * H:] + r * hn)
    h = (1 - z) * n + z * h_prev
    return h, (x, h_prev, W_xh, W_hh, r, z, n, hn)


def gru_step_backward(dh, cache):
    x, h_prev, W_xh, W_hh, r, z, n, hn = cache
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
    return dx, dh_prev, dW_xh, dW_hh, db_h, db_hn


def gru_forward(X, h0, W_xh, W_hh, b_h, b_hn):
    """-> H (T, B, H): every step's h, and the caches (one per step)."""
    T = X.shape[0]
    H, caches = [], []
    # BEGIN
    h = h0
    for t in range(T):
        h, cache = gru_step_forward(X[t], h, W_xh, W_hh, b_h, b_hn)
        H.append(h)
        caches.append(cache)
    # END
    return np.stack(H), caches


def gru_backward(dH, caches):
    """dH (T, B, H) -> dX (T, B, D), dh0 (B, H), dW_xh, dW_hh, db_h, db_hn."""
    T = len(caches)
    dX = [None] * T
    # BEGIN
    dh_next = np.zeros_like(dH[0])
    dW_xh = dW_hh = db_h = db_hn = 0
    for t in reversed(range(T)):
        dX[t], dh_next, dWx, dWh, db, dbn = gru_step_backward(dH[t] + dh_next, caches[t])   # h_t feeds step t + 1
        dW_xh, dW_hh, db_h, db_hn = dW_xh + dWx, dW_hh + dWh, db_h + db, db_hn + dbn
    dh0 = dh_next
    # END
    return np.stack(dX), dh0, dW_xh, dW_hh, db_h, db_hn


if __name__ == "__main__":                           # python gru_sequence.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
