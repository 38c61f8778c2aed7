"""Exercise 3: softmax and the cross-entropy loss, with its gradient.

    softmax(z)_v = exp(z_v) / sum_u exp(z_u)     per row; exp overflows for z > 709 (float64):
                                                  subtract each row's maximum first (same result)
    loss = -mean over the N rows of log softmax(logits)[target]

and the loss's gradient with respect to the logits (derive it: it is short). Both must hold for logits far
apart, such as [[1000, 0]] with target 1, whose loss is 1000: a probability that underflows to 0 must not be
passed to a log.

Shapes: logits (N, V), targets (N,) ints in [0, V).
Run ``python softmax_loss.py`` to grade this file (docs/notation.md, "Vanilla RNN").
"""

import numpy as np


def softmax(logits):
    """(N, V) -> probabilities (N, V), each row summing to 1."""
    # BEGIN
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
    # END


def softmax_cross_entropy(logits, targets):
    """-> loss (a float, the mean over the N rows) and dlogits (N, V)."""
    N = len(targets)
    # BEGIN
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))      # log softmax: never log(0)
    loss = -log_p[np.arange(N), targets].mean()
    dlogits = np.exp(log_p)                      # (softmax - onehot(targets)) / N
    dlogits[np.arange(N), targets] -= 1
    dlogits /= N
    # END
    return loss, dlogits


if __name__ == "__main__":                           # python softmax_loss.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
