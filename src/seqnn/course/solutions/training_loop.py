"""Exercise 14: a whole training loop: a character RNN learns a text, "hello" first, then names.

The model's pieces are given: ``init_params`` draws the weights, ``loss_and_gradients`` runs the network over a
sequence (forward, the mean loss, backward through time) and ``clip`` clips by the global norm. Write the loop:

  1. the vocabulary: the text's distinct characters, sorted (so "hello" gives e, h, l, o: ids 0, 1, 2, 3), and
     the text as ids;
  2. the weights: ``init_params(V, hidden_size, np.random.default_rng(seed))``;
  3. each step learns to predict every next character: the inputs are the ids but the last, the targets the
     ids but the first; h0 is zeros. Take the loss and the gradients, clip them to a global norm of 1, and take
     one step of plain SGD with the learning rate ``lr``.

Return the weights (new arrays: leave nothing given changed) and the loss of each step, before its update.
Shapes: text a str of at least 2 characters; the weights as ``init_params`` makes them.
Run ``python training_loop.py`` to grade this file (docs/train-your-text.md, "Train from Python").
"""

import numpy as np


def init_params(V, H, rng):
    """The weights of a character RNN, V characters, H hidden units."""
    return {"W_xh": rng.standard_normal((H, V)) * 0.3, "W_hh": rng.standard_normal((H, H)) * 0.3,
            "b_h": np.zeros(H), "W_hy": rng.standard_normal((V, H)) * 0.3, "b_y": np.zeros(V)}


def loss_and_gradients(params, inputs, targets, h0):
    """inputs, targets: lists of T ids, h0 (H,) -> the mean loss over the T steps, the gradients (a dict)."""
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    hs, ps, loss = {-1: h0}, {}, 0.0
    for t, x in enumerate(inputs):
        hs[t] = np.tanh(W_xh[:, x] + W_hh @ hs[t - 1] + b_h)
        y = W_hy @ hs[t] + b_y
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss -= np.log(ps[t][targets[t]])
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        grads["W_hy"] += np.outer(dy, hs[t])
        grads["b_y"] += dy
        da = (W_hy.T @ dy + dh_next) * (1 - hs[t] ** 2)
        grads["W_xh"][:, inputs[t]] += da
        grads["W_hh"] += np.outer(da, hs[t - 1])
        grads["b_h"] += da
        dh_next = W_hh.T @ da
    T = len(inputs)
    return loss / T, {k: g / T for k, g in grads.items()}


def clip(grads, max_norm):
    """The gradients (a dict) scaled together to a global norm of at most max_norm."""
    norm = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    scale = max_norm / (norm + 1e-6) if norm > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}


def train(text, hidden_size, steps, lr, seed):
    """-> the trained weights (a dict) and the losses (a list of floats, one per step)."""
    losses = []
    # BEGIN
    chars = sorted(set(text))
    ids = [chars.index(ch) for ch in text]
    params = init_params(len(chars), hidden_size, np.random.default_rng(seed))
    inputs, targets = ids[:-1], ids[1:]
    for _ in range(steps):
        loss, grads = loss_and_gradients(params, inputs, targets, np.zeros(hidden_size))
        grads = clip(grads, 1.0)
        params = {k: params[k] - lr * grads[k] for k in params}
        losses.append(float(loss))
    # END
    return params, losses


if __name__ == "__main__":                           # python training_loop.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
