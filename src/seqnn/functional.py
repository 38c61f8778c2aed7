"""Element-wise non-linearities, a numerically stable softmax, and one-hot vectors.

Each function works on arrays of any shape and keeps the input's dtype.
The derivatives used by backward passes are written where they are used, in
terms of the saved activation (``sigmoid' = s * (1 - s)``, ``tanh' = 1 - t**2``).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_dtype_arg, check_int_array, check_positive_int


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, any shape.

    For very negative ``z``, ``exp(-z)`` overflows to inf and the result is the
    correct limit 0; the overflow warning is silenced because it is harmless.
    """
    with np.errstate(over="ignore"):
        e = np.exp(-z)
    e += 1.0
    return np.reciprocal(e, out=e)


def relu(z: np.ndarray) -> np.ndarray:
    """``max(z, 0)``, any shape."""
    return np.maximum(z, 0)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(softmax(z))`` along ``axis``, stable for any finite ``z``.

    Uses ``log_softmax(z) = (z - m) - log(sum(exp(z - m)))`` with ``m = max(z)``,
    so the largest exponent is exp(0) = 1 and nothing overflows.
    """
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(z) / sum(exp(z))`` along ``axis``, stable for any finite ``z`` (max-shifted)."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def one_hot(ids: np.ndarray, num_classes: int, dtype=np.float64, *, check: bool = True) -> np.ndarray:
    """Token ids (...) ints in [0, V) -> one-hot vectors (..., V) of ``dtype``: the lecture's input encoding.

    ``check=False``: the caller has checked the arguments (a model checks its ids once).
    """
    if check:
        check_positive_int("num_classes", num_classes)
        check_int_array("ids", ids, (None,) * np.ndim(ids), num_classes)
        check_dtype_arg(dtype)
    out = np.zeros(np.shape(ids) + (num_classes,), dtype)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out
