"""Exercise 10: one step of each optimizer, as seqnn.optim (and PyTorch) take it.

    SGD:       w = w - lr * dw
    momentum:  v = mu * v + dw;          w = w - lr * v              (PyTorch's form)
    Adagrad:   G = G + dw^2;             w = w - lr * dw / (sqrt(G) + eps)
    Adam:      m = b1 * m + (1 - b1) * dw
               v = b2 * v + (1 - b2) * dw^2
               m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)      t: the step's number, 1 for the first
               w = w - lr * m_hat / (sqrt(v_hat) + eps)

Each function takes the weights, their gradient and the optimizer's state, and returns new arrays: the new
weights and the new state (leave the arrays given as they are: the caller may still need them).

Shapes: w, dw, v, G, m: one shape (any), float64.
Run ``python optimizers.py`` to grade this file (docs/training.md, "Optimizers").
"""

import numpy as np


def sgd_step(w, dw, lr):
    """-> the new w."""
    # BEGIN
    w = w - lr * dw
    # END
    return w


def momentum_step(w, dw, v, lr, mu):
    """-> the new w and the new v."""
    # BEGIN
    v = mu * v + dw
    w = w - lr * v
    # END
    return w, v


def adagrad_step(w, dw, G, lr, eps):
    """-> the new w and the new G."""
    # BEGIN
    G = G + dw ** 2
    w = w - lr * dw / (np.sqrt(G) + eps)
    # END
    return w, G


def adam_step(w, dw, m, v, t, lr, b1, b2, eps):
    """t: the step's number (1, 2, ...) -> the new w, m and v."""
    # BEGIN
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw ** 2
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    # END
    return w, m, v


if __name__ == "__main__":                           # python optimizers.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
