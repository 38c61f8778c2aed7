"""Exercise 5: gradient clipping by the global norm.

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


if __name__ == "__main__":                           # python clip.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
