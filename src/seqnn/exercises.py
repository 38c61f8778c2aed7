"""The exercises of ``seqnn exercises``, written out as their worked solutions.

Each exercise is a file a student fills in. Here every file is written whole,
as a teacher's solution; the lines between ``# BEGIN`` and ``# END`` are the
maths, which ``skeleton`` replaces with a ``# TODO`` and a ``NotImplementedError``.
``seqnn.grade`` knows how to check each file, part by part.
"""

from __future__ import annotations

RUN_ME = '''

if __name__ == "__main__":                           # python {name} grades this file
    from seqnn.grade import main
    raise SystemExit(main([__file__]))
'''

RNN_STEP = '''"""Exercise 1: one step of a vanilla (tanh) RNN, forward and backward.

Forward, the lecture's equations (one row per example of the batch)::

    a = x W_xh^T + h_prev W_hh^T + b_h          (B, H)
    h = tanh(a)                                  (B, H)

Backward, given dh = dE/dh (B, H)::

    da = dh * (1 - h^2)                          the derivative of tanh, from h itself
    dx = da W_xh          dh_prev = da W_hh
    dW_xh = da^T x        dW_hh = da^T h_prev    db_h = da summed over the batch

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
    da = dh * (1 - h ** 2)
    dx = da @ W_xh
    dh_prev = da @ W_hh
    dW_xh = da.T @ x
    dW_hh = da.T @ h_prev
    db_h = da.sum(axis=0)
    # END
    return dx, dh_prev, dW_xh, dW_hh, db_h
'''

LSTM_STEP = '''"""Exercise 2: one step of an LSTM, forward and backward.

The four gates are stacked in the rows of W_xh (4H, D), W_hh (4H, H) and
b_h (4H,) in the order i, f, g, o (input, forget, candidate C~, output),
PyTorch's order. Forward::

    a = x W_xh^T + h_prev W_hh^T + b_h           (B, 4H): four blocks of H columns
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c = f * c_prev + i * g                       the cell state: forget some, store some
    h = o * tanh(c)

Backward, given dh = dE/dh and dc = dE/dc (each (B, H), dc from the step after)::

    do = dh * tanh(c)
    dc = dc + dh * o * (1 - tanh(c)^2)           the cell state's whole gradient
    di = dc * g     df = dc * c_prev     dg = dc * i     dc_prev = dc * f
    da = [di * i (1 - i), df * f (1 - f), dg * (1 - g^2), do * o (1 - o)]
    dx = da W_xh    dh_prev = da W_hh    dW_xh = da^T x    dW_hh = da^T h_prev    db_h = da summed

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
    dc = dc + dh * o * (1 - tanh_c ** 2)
    di = dc * g
    df = dc * c_prev
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
'''

GRU_STEP = '''"""Exercise 2b: one step of a GRU (PyTorch's form), forward and backward.

The gates are stacked in the rows of W_xh (3H, D), W_hh (3H, H) and b_h (3H,)
in the order r, z, n (reset, update, candidate); b_hn (H,) is the candidate's
recurrent bias, which sits inside the reset. Forward::

    ax = x W_xh^T + b_h          ah = h_prev W_hh^T          (B, 3H) each: blocks r, z, n
    r = sigmoid(ax_r + ah_r)     z = sigmoid(ax_z + ah_z)
    hn = ah_n + b_hn                                          the reset applies AFTER the product
    n = tanh(ax_n + r * hn)
    h = (1 - z) * n + z * h_prev                              z near 1 keeps the old state

Backward, given dh = dE/dh (B, H)::

    dn = dh * (1 - z)     dz = dh * (h_prev - n)     dh_prev = dh * z   (+ the products below)
    dan = dn * (1 - n^2)               dr = dan * hn      dhn = dan * r
    da_x = [dr * r (1 - r), dz * z (1 - z), dan]       da_h = [the same r and z blocks, dhn]
    dx = da_x W_xh     dh_prev += da_h W_hh     dW_xh = da_x^T x     dW_hh = da_h^T h_prev
    db_h = da_x summed over the batch          db_hn = dhn summed

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
    dh_prev = dh * z + da_h @ W_hh
    dW_xh = da_x.T @ x
    dW_hh = da_h.T @ h_prev
    db_h = da_x.sum(axis=0)
    db_hn = dhn.sum(axis=0)
    # END
    return dx, dh_prev, dW_xh, dW_hh, db_h, db_hn
'''

SOFTMAX_LOSS = '''"""Exercise 3: softmax and the cross-entropy loss, with its gradient.

    softmax(z)_v = exp(z_v) / sum_u exp(z_u)     per row; exp overflows for z > 709 (float64):
                                                  subtract each row's maximum first (same result)
    loss = -mean over the N rows of log softmax(logits)[target]
    dloss/dlogits = (softmax(logits) - onehot(targets)) / N

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
    p = softmax(logits)
    loss = -np.log(p[np.arange(N), targets]).mean()
    dlogits = p.copy()
    dlogits[np.arange(N), targets] -= 1
    dlogits /= N
    # END
    return loss, dlogits
'''

BPTT = '''"""Exercise 4: backpropagation through time over a whole sequence, for the RNN and the LSTM.

The steps are given (the solutions of exercises 1 and 2); write the loops over time.

Forward: h_0 (and c_0) given; for t = 0 .. T-1 the step reads X[t] and the
state the step before left. Backward: for t = T-1 .. 0 the step's backward gets
its own loss gradient dH[t] PLUS the gradient its state passes to the step after
(dh_next; for the LSTM also dc_next, which reaches the step only through c):

    dh = dH[t] + dh_next                         dh_next = 0 after the last step
    dW_xh, dW_hh, db_h: the SUM over the steps   the same weights at every step
    dh0 (and dc0): what the first step passes back

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


def rnn_backward(dH, caches):
    """dH (T, B, H), each step's own loss gradient -> dX (T, B, D), dh0 (B, H), dW_xh, dW_hh, db_h."""
    T = len(caches)
    dX = [None] * T
    # BEGIN
    dh_next = np.zeros_like(dH[0])
    dW_xh = dW_hh = db_h = 0
    for t in reversed(range(T)):
        dX[t], dh_next, dWx, dWh, db = rnn_step_backward(dH[t] + dh_next, caches[t])
        dW_xh, dW_hh, db_h = dW_xh + dWx, dW_hh + dWh, db_h + db
    dh0 = dh_next
    # END
    return np.stack(dX), dh0, dW_xh, dW_hh, db_h


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
'''

CLIP = '''"""Exercise 5: gradient clipping by the global norm.

    norm = sqrt(sum over every array g of sum(g^2))      ONE norm for all the arrays together
    if norm > max_norm: every array is multiplied by max_norm / (norm + 1e-6)   (PyTorch's rule)

One common factor keeps the gradient's direction; clipping each array by its
own norm would turn it. Return new arrays (leave the given ones as they are).
Run ``python clip.py`` to grade this file (docs/bptt.md, "Clipping").
"""

import numpy as np


def clip_by_global_norm(grads, max_norm):
    """grads: a list of arrays -> (the clipped arrays, a list; the norm before clipping, a float)."""
    # BEGIN
    norm = float(np.sqrt(sum((g ** 2).sum() for g in grads)))
    scale = max_norm / (norm + 1e-6) if norm > max_norm else 1.0
    clipped = [g * scale for g in grads]
    # END
    return clipped, norm
'''

SAMPLING = '''"""Exercise 6: sampling the next character, with a temperature and top-k.

    p = softmax(logits / temperature)            temperature < 1 sharpens, > 1 flattens
    top-k: keep the k largest logits, set the others to -inf (probability 0), then the softmax
    next = a draw from p (rng.choice)

The temperature divides the logits, before the softmax (afterwards the
probabilities would no longer sum to 1). Shapes: logits (V,).
Run ``python sampling.py`` to grade this file (docs/train-your-text.md, "4. Sample").
"""

import numpy as np


def next_distribution(logits, temperature=1.0, top_k=None):
    """-> probabilities (V,), summing to 1."""
    # BEGIN
    z = logits / temperature
    if top_k is not None:
        kth = np.sort(z)[-top_k]
        z = np.where(z >= kth, z, -np.inf)
    z = z - z.max()
    p = np.exp(z)
    return p / p.sum()
    # END


def sample(logits, temperature, top_k, rng):
    """-> the id of the next character, drawn with the numpy Generator rng."""
    # BEGIN
    return int(rng.choice(len(logits), p=next_distribution(logits, temperature, top_k)))
    # END
'''

SOLUTIONS = {
    "rnn_step.py": RNN_STEP,
    "lstm_step.py": LSTM_STEP,
    "gru_step.py": GRU_STEP,
    "softmax_loss.py": SOFTMAX_LOSS,
    "bptt.py": BPTT,
    "clip.py": CLIP,
    "sampling.py": SAMPLING,
}
"""file name -> its worked solution (the order is the lecture's)."""


def solution(name: str) -> str:
    return SOLUTIONS[name] + RUN_ME.format(name=name)


def skeleton(name: str) -> str:
    """The exercise as a student gets it: each ``# BEGIN`` ... ``# END`` block becomes a TODO."""
    lines, function, skipping = [], "", False
    for line in solution(name).splitlines(keepends=True):
        if line.startswith("def "):
            function = line[4:line.index("(")]
        if line.strip() == "# BEGIN":
            indent = line[:len(line) - len(line.lstrip())]
            lines.append(f"{indent}# TODO: the lines the docstring at the top describes (define the names the "
                         f"return uses)\n{indent}raise NotImplementedError(\"{function}: not written yet\")\n")
            skipping = True
        elif line.strip() == "# END":
            skipping = False
        elif not skipping:
            lines.append(line)
    return "".join(lines)
