"""Exercise 8: the output layer at every time step, and the sequence loss with a mask.

    Y[t] = H[t] W_hy^T + b_y             the same W_hy and b_y at every step t

Backward: given dY, the gradient with respect to H, W_hy and b_y (the weights serve every step and every
example: what does that make their gradient?).

The loss: the softmax cross-entropy of Y[t, b] against targets[t, b], averaged over the positions where
mask[t, b] is 1 only (padding adds nothing to the loss, nor to its gradient), and its gradient dY. Keep it
stable for logits far apart, as in exercise 3.

Shapes: H (T, B, H), W_hy (V, H), b_y (V,), Y and dY (T, B, V), targets (T, B) ints in [0, V), mask (T, B) of
0.0 and 1.0 (at least one 1).
Run ``python output_layer.py`` to grade this file (docs/trace.md, "The loss over a sequence").
"""

import numpy as np


def output_forward(H, W_hy, b_y):
    """H (T, B, H) -> Y (T, B, V), and the cache."""
    # BEGIN
    Y = H @ W_hy.T + b_y
    # END
    return Y, (H, W_hy)


def output_backward(dY, cache):
    """dY (T, B, V) -> the gradients of H (T, B, H), W_hy (V, H) and b_y (V,)."""
    H, W_hy = cache
    # BEGIN
    dH = dY @ W_hy
    dW_hy = np.einsum("tbv,tbh->vh", dY, H)
    db_y = dY.sum(axis=(0, 1))
    # END
    return dH, dW_hy, db_y


def sequence_loss(Y, targets, mask):
    """Y (T, B, V), targets (T, B), mask (T, B) -> loss (a float: the mean over the kept positions), dY."""
    T, B = targets.shape
    t, b = np.arange(T)[:, None], np.arange(B)[None, :]       # Y[t, b, targets] picks each target's logit
    # BEGIN
    z = Y - Y.max(axis=2, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    kept = mask.sum()
    loss = -(log_p[t, b, targets] * mask).sum() / kept
    dY = np.exp(log_p)
    dY[t, b, targets] -= 1
    dY *= mask[:, :, None] / kept
    # END
    return loss, dY


if __name__ == "__main__":                           # python output_layer.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
