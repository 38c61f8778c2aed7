"""Exercise 9: a gradient check, written by you: the tool that proves every backward of this course.

numerical_gradient: the central difference of f at x, one entry at a time,

    df/dx_k ~ (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)       e_k: 1 at entry k, 0 elsewhere

(its error shrinks like eps^2; the one-sided difference's only like eps). f takes the whole array x and returns
a float; move one entry of x, call f, put the entry back: x must be as it was when you return.

relative_error: how far an analytic gradient is from a numerical one, entry by entry, on a scale that does not
depend on the size of the gradient:

    |a - n| / max(|a| + |n|, 1e-8)      the largest over the entries (0 where both are 0)

In float64 a right backward scores about 1e-7 or less; a wrong one 1e-2 or more.

Shapes: x any shape (float64); the gradient the same shape; analytic and numeric the same shape.
Run ``python grad_check.py`` to grade this file (docs/gradcheck.md, "Which difference").
"""

import numpy as np


def numerical_gradient(f, x, eps=1e-5):
    """f: array -> float, x (any shape) -> the central differences (x's shape); x is left as it was."""
    grad = np.zeros_like(x)
    # BEGIN
    for k in range(x.size):
        old = x.flat[k]
        x.flat[k] = old + eps
        plus = f(x)
        x.flat[k] = old - eps
        minus = f(x)
        x.flat[k] = old
        grad.flat[k] = (plus - minus) / (2 * eps)
    # END
    return grad


def relative_error(analytic, numeric):
    """Two arrays of one shape -> the largest relative error over their entries (a float)."""
    # BEGIN
    error = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    # END
    return float(error.max())


if __name__ == "__main__":                           # python grad_check.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
