"""Exercise 4: backpropagation through time over a whole sequence, for the RNN and the LSTM.

The steps are given (the solutions of exercises 1 and 2); write the loops over time.

Forward: h_0 (and c_0) given; for t = 0 .. T-1 the step reads X[t] and the
state the step before left. Backward: dH[t] is the gradient of the loss with
respect to H[t] from that step's own output only; go through the steps from
the last to the first, and work out what each step's backward must be given
(what else depends on h_t, and on c_t?), what the weights' gradients are over
the whole sequence, and what dh0 (and dc0) are.

Shapes: X (T, B, D), H and dH (T, B, H), h0 and c0 (B, H).
Run ``python bptt.py`` to grade this file (docs/bptt.md, "Backward: the chain rule, backwards in time").
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):
    h = np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b_h)
    return h, (x, h_prev, W_xh, W_hh, h)


def rnn_step_backward(dh, cache):
    x, h_prev, W_xh, W_hh, h = cache
    da = dh * (1 - h ** 2)
    return da @ W_xh, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def lstm_step_forward(x, h_prev, c_prev, W_xh, W_hh, b_h):
    H = h_prev.shape[1]
    a = x @ W_xh.T + h_prev @ W_hh.T + b_h
    i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    return o * np.tanh(c), c, (x, h_prev, c_prev, W_xh, W_hh, i, f, g, o, c)


def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, W_xh, W_hh, i, f, g, o, c = cache
    tanh_c = np.tanh(c)
    do, dc = dh * tanh_c, dc + dh * o * (1 - tanh_c ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                         do * o * (1 - o)], axis=1)
    return da @ W_xh, da @ W_hh, dc * f, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def rnn_forward(X, h0, W_xh, W_hh, b_h):
    """-> H (T, B, H): every step's h, and the caches (one per step)."""
    T = X.shape[0]
    H, caches = [], []
    # BEGIN
    h = h0
    for t in range(T):
        h, cache = rnn_step_forward(X[t], h, W_xh, W_hh, b_h)
        H.append(h)
        caches.append(cache)
    # END
    return np.stack(H), caches


def lstm_forward(X, h0, c0, W_xh, W_hh, b_h):
    """-> H (T, B, H) and the caches."""
    T = X.shape[0]
    H, caches = [], []
    # BEGIN
    h, c = h0, c0
    for t in range(T):
        h, c, cache = lstm_step_forward(X[t], h, c, W_xh, W_hh, b_h)
        H.append(h)
        caches.append(cache)
    # END
    return np.stack(H), caches


def rnn_backward(dH, caches):
    """dH (T, B, H), each step's own loss gradient -> dX (T, B, D), dh0 (B, H), dW_xh, dW_hh, db_h."""
    T = len(caches)
    dX = [None] * T
    # BEGIN
    dh_next = np.zeros_like(dH[0])
    dW_xh = dW_hh = db_h = 0
    for t in reversed(range(T)):
        dX[t], dh_next, dWx, dWh, db = rnn_step_backward(dH[t] + dh_next, caches[t])   # h_t feeds step t + 1
        dW_xh, dW_hh, db_h = dW_xh + dWx, dW_hh + dWh, db_h + db
    dh0 = dh_next
    # END
    return np.stack(dX), dh0, dW_xh, dW_hh, db_h


def lstm_backward(dH, caches):
    """dH (T, B, H) -> dX (T, B, D), dh0 (B, H), dc0 (B, H), dW_xh, dW_hh, db_h."""
    T = len(caches)
    dX = [None] * T
    # BEGIN
    dh_next, dc_next = np.zeros_like(dH[0]), np.zeros_like(dH[0])
    dW_xh = dW_hh = db_h = 0
    for t in reversed(range(T)):
        dX[t], dh_next, dc_next, dWx, dWh, db = lstm_step_backward(dH[t] + dh_next, dc_next, caches[t])
        dW_xh, dW_hh, db_h = dW_xh + dWx, dW_hh + dWh, db_h + db
    dh0, dc0 = dh_next, dc_next
    # END
    return np.stack(dX), dh0, dc0, dW_xh, dW_hh, db_h


if __name__ == "__main__":                           # python bptt.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
