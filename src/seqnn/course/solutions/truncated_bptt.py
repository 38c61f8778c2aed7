"""Exercise 11: truncated backpropagation through time, over chunks of k steps.

A long sequence is cut into chunks of k steps (the last may be shorter). Each chunk runs forward from the state
the chunk before left: the state is carried over the whole sequence. The gradient is not: each chunk's backward
starts with nothing coming from the steps after the chunk, and stops at the chunk's first step. Each chunk gives
its own gradients of the weights (an optimizer takes its step after each chunk), over that chunk's steps only.

The RNN step is given (exercise 1's solution); write the loop over the chunks.

Shapes: X (T, B, D), dH (T, B, H) (the gradient of the loss with respect to each step's own h), h0 (B, H);
H (T, B, H); the chunks' gradients a list of (dW_xh, dW_hh, db_h), one per chunk, in order.
Run ``python truncated_bptt.py`` to grade this file (docs/bptt.md, "Truncated BPTT").
"""

import numpy as np


def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):
    h = np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b_h)
    return h, (x, h_prev, W_xh, W_hh, h)


def rnn_step_backward(dh, cache):
    x, h_prev, W_xh, W_hh, h = cache
    da = dh * (1 - h ** 2)
    return da @ W_xh, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def truncated_bptt(X, dH, h0, W_xh, W_hh, b_h, k):
    """-> H (T, B, H), and a list of each chunk's (dW_xh, dW_hh, db_h)."""
    T = X.shape[0]
    H, chunks = [], []
    # BEGIN
    h = h0
    for start in range(0, T, k):
        caches = []
        for t in range(start, min(start + k, T)):            # forward through the chunk, from the state carried
            h, cache = rnn_step_forward(X[t], h, W_xh, W_hh, b_h)
            H.append(h)
            caches.append(cache)
        dh_next = np.zeros_like(h)                           # nothing flows back from after the chunk
        dW_xh = dW_hh = db_h = 0
        for t in reversed(range(start, start + len(caches))):
            _, dh_next, dWx, dWh, db = rnn_step_backward(dH[t] + dh_next, caches[t - start])
            dW_xh, dW_hh, db_h = dW_xh + dWx, dW_hh + dWh, db_h + db
        chunks.append((dW_xh, dW_hh, db_h))
    # END
    return np.stack(H), chunks


if __name__ == "__main__":                           # python truncated_bptt.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
