"""Exercise 6: sampling the next character, with a temperature and top-k.

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


if __name__ == "__main__":                           # python sampling.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
