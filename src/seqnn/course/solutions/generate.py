"""Exercise 13: generation: a trained character RNN writes, one character at a time.

Each step reads the id of the character before, updates the state h, and gives the logits of the next; draw the
next id from softmax(logits / temperature) with the rng given, then feed what was drawn back in as the next
step's input (and the new h as its state). The model's step and the softmax are given; write the loop.

Shapes: h (H,); params holds W_xh (H, V), W_hh (H, H), b_h (H,), W_hy (V, H), b_y (V,); first an id in [0, V).
The ids returned: a list of n ints, the ones drawn (not first).
Run ``python generate.py`` to grade this file (docs/train-your-text.md, "4. Sample").
"""

import numpy as np


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def rnn_char_step(x_id, h, params):
    """The id of a character, h (H,) -> the logits of the next character (V,), the new h (H,)."""
    h = np.tanh(params["W_xh"][:, x_id] + params["W_hh"] @ h + params["b_h"])      # one-hot x picks a column
    return params["W_hy"] @ h + params["b_y"], h


def generate(params, first, h, n, temperature, rng):
    """-> a list of n ids, each drawn from the model given the ones before (rng: a numpy Generator)."""
    ids = []
    # BEGIN
    x = first
    for _ in range(n):
        logits, h = rnn_char_step(x, h, params)
        x = int(rng.choice(len(logits), p=softmax(logits / temperature)))
        ids.append(x)
    # END
    return ids


if __name__ == "__main__":                           # python generate.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
